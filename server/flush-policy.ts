// When a turn's writes to sockets go out: right after the turn, or, under load, spaced so that
// each write carries more.
//
// A write costs the server about 4–5 µs of CPU whatever it carries (the syscall, TCP over
// loopback, waking the reader), a frame in it about 0.05 µs (docs/benchmark.md). When a flush
// finds LOADED_FRAMES_PER_SOCKET frames or more per socket, messages already come faster than a
// flush of them goes out, and each of them waited anyway: the next flush then starts
// FLUSH_SPACING_MS after the last one began. Measured at 1,500 msg/s to 1,000 clients: 12 frames
// a write and 2.4M deliveries per CPU-second flushing after every turn; 37–49 and 3.7M spaced by
// 25 ms. A flush that finds fewer ends the spacing: a message alone, or 100 a second to 1,000
// clients, still goes out right after its turn. Spacing lasts while messages come at
// LOADED_FRAMES_PER_SOCKET per FLUSH_SPACING_MS (320 a second) or more.

export const LOADED_FRAMES_PER_SOCKET = 8;
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
