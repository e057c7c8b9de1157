// Detects peers and clients that stop answering (a frozen process, a cable pulled): each tick
// pings every socket and terminates the ones that did not answer the previous ping.
import type WebSocket from 'ws';

export class Heartbeat {
  readonly #alive = new Map<WebSocket, boolean>();
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly intervalMs: number) {}

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

  track(ws: WebSocket): void {
    this.#alive.set(ws, true);
    const markAlive = () => this.#alive.set(ws, true);
    ws.on('pong', markAlive);
    ws.on('message', markAlive);
    ws.once('close', () => this.#alive.delete(ws));
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
