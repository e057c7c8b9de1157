// When a turn's writes to sockets go out: right after the turn, or, under load, spaced so that
// each write carries more.
//
// A write costs the server about 4–5 µs of CPU whatever it carries (the syscall, TCP over
// loopback, waking the reader), a frame in it about 0.05 µs (docs/benchmark-log.md, items 22–23).
// When a flush finds LOADED_FRAMES_PER_SOCKET frames or more per socket, the server is deep in
// load — messages come far faster than a flush of them goes out — and the next flush starts
// FLUSH_SPACING_MS after the last one began, so each write carries more. A flush that finds
// fewer ends the spacing: a message alone, or 100 a second to 1,000 clients, still goes out right
// after its turn. Spacing lasts while messages come at LOADED_FRAMES_PER_SOCKET per
// FLUSH_SPACING_MS (960 a second) or more.
//
// The trade, measured at 1,000 clients: under the 3,000 msg/s overload 6.1M deliveries per
// CPU-second flushing after every turn, 8.2–9.9M spaced; p99 under heavy load up to 25 ms more,
// so the rate held with p99 under 50 ms went from 2,238 to 1,693–2,170 msg/s. A threshold of 8
// frames spaced flushes from ~360 msg/s on; 24 waits for the heavy load where it pays.

export const LOADED_FRAMES_PER_SOCKET = 24;
/** Well under what people notice in a chat: at most 40 writes a second per socket under load. */
export const FLUSH_SPACING_MS = 25;

export class FlushPolicy {
  #loaded = false;
  #lastFlushAt = Number.NEGATIVE_INFINITY;

  /** How long the next flush waits, asked at `now` (ms) when something is first held for it. */
  delay(now: number): number {
    return this.#loaded ? Math.max(0, this.#lastFlushAt + FLUSH_SPACING_MS - now) : 0;
  }

  /** A flush began at `now`: it writes `frames` frames held for `sockets` sockets (none: it changes nothing). */
  flushing(now: number, sockets: number, frames: number): void {
    if (sockets === 0) return;
    this.#lastFlushAt = now;
    this.#loaded = frames >= LOADED_FRAMES_PER_SOCKET * sockets;
  }
}
