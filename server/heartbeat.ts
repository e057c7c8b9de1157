// Detects peers and clients that stop answering (a frozen process, a cable pulled): each tick
// pings every socket and terminates the ones that did not answer the previous ping.
import type WebSocket from 'ws';

export class Heartbeat {
  readonly #alive = new Map<WebSocket, boolean>();
  #timer: NodeJS.Timeout | undefined;
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
    this.#timer = setInterval(() => this.#tick(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#alive.clear();
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

  /** `ws` answered (a pong or a frame). */
  alive(ws: WebSocket): void {
    if (this.#alive.has(ws)) this.#alive.set(ws, true);
  }

  /** `ws` closed: no more pings. */
  forget(ws: WebSocket): void {
    this.#alive.delete(ws);
  }

  #tick(): void {
    for (const [ws, alive] of this.#alive) {
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
