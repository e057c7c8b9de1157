// Detects peers and clients that stop answering (a frozen process, a cable pulled): every socket
// is pinged once per interval, and one that did not answer its previous ping is terminated. The
// pings of an interval are spread over it, a slice at a time: 10,000 pings in one turn held every
// message back for as long as they took to write, every interval.
import type WebSocket from 'ws';

/**
 * Each interval's pings go out in this many slices, 1/SLICES of the interval apart. Measured with
 * 10,000 idle clients: the event loop's longest delay was 101 ms with every ping in one turn,
 * 16–26 ms in 10 slices, 6–8 ms in 50.
 */
const SLICES = 50;

export class Heartbeat {
  readonly #alive = new Map<WebSocket, boolean>();
  #timer: NodeJS.Timeout | undefined;
  /** The sockets still to ping in this interval (a Map iterator visits what is added meanwhile and skips what is removed). */
  #pass: MapIterator<[WebSocket, boolean]> | undefined;
  /** Slices since the pass started (as if a whole interval had passed: the first tick starts one). */
  #slices = SLICES - 1;
  // One listener for every socket (`this` is the socket): thousands of connections hold no closures of their own.
  readonly #markAlive: (this: WebSocket) => void;
  readonly #forget: (this: WebSocket) => void;

  constructor(readonly intervalMs: number) {
    const heartbeat = this;
    this.#markAlive = function (this: WebSocket) {
      heartbeat.alive(this);
    };
    this.#forget = function (this: WebSocket) {
      heartbeat.forget(this);
    };
  }

  start(): void {
    if (this.#timer || this.intervalMs <= 0) return;
    this.#timer = setInterval(() => this.#tick(), this.intervalMs / SLICES);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#alive.clear();
    this.#pass = undefined;
  }

  /** Watch `ws`: a pong or any frame from it answers the ping; forgotten when it closes. */
  track(ws: WebSocket): void {
    this.trackPongs(ws);
    ws.on('message', this.#markAlive);
    ws.on('close', this.#forget);
  }

  /**
   * Watch `ws` whose owner listens to it already: pongs count here, the owner calls alive() for
   * each frame and forget() when it closes. A socket with one listener per event holds a function,
   * not an array of them: thousands of client sockets.
   */
  trackPongs(ws: WebSocket): void {
    this.#alive.set(ws, true);
    ws.on('pong', this.#markAlive);
  }

  /** Stop watching `ws` for its owner (trackPongs): a socket handed to another owner, which tracks it anew. */
  untrack(ws: WebSocket): void {
    ws.off('pong', this.#markAlive);
    this.#alive.delete(ws);
  }

  /** `ws` answered (a pong or a frame). */
  alive(ws: WebSocket): void {
    if (this.#alive.has(ws)) this.#alive.set(ws, true);
  }

  /** `ws` closed: no more pings. */
  forget(ws: WebSocket): void {
    this.#alive.delete(ws);
  }

  #tick(): void {
    this.#slices++;
    if (this.#pass === undefined) {
      // However few the sockets, a pass takes an interval: each gets as long as ever to answer.
      if (this.#slices < SLICES || this.#alive.size === 0) return;
      this.#pass = this.#alive.entries();
      this.#slices = 0;
    }
    // A slice's share of the sockets there are now: sockets added during a pass (a storm of
    // joins) are visited in it, and the pass still ends within about an interval.
    const quota = Math.ceil(this.#alive.size / SLICES);
    for (let i = 0; i < quota; i++) {
      const next = this.#pass.next();
      if (next.done) {
        this.#pass = undefined;
        return;
      }
      const [ws, alive] = next.value;
      if (!alive) {
        this.#alive.delete(ws);
        ws.terminate();
        continue;
      }
      this.#alive.set(ws, false);
      ws.ping();
    }
  }
}
