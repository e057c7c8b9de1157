// A raw WebSocket that records every frame it receives, for tests that speak the wire protocol
// by hand (including wrong on purpose).
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { Waiters } from './waiters.js';

const opened = new Set<WebSocket>();

afterEach(() => {
  for (const ws of opened) ws.terminate();
  opened.clear();
});

// Frames are whatever the server sent; tests read the fields they assert on.
// biome-ignore lint/suspicious/noExplicitAny: a test reads whichever fields it asserts on
export type AnyFrame = Record<string, any> & { type: string };

export class RawSocket {
  readonly frames: AnyFrame[] = [];
  closed: { code: number; reason: string } | undefined;
  readonly #waiters = new Waiters();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      this.frames.push(isBinary ? { type: '<binary>' } : (JSON.parse(data.toString()) as AnyFrame));
      this.#wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.#wake();
    });
    ws.on('error', () => {});
  }

  /** @param origin the Origin header a browser page would send (none by default, like a native client) */
  static async open(url: string, { origin }: { origin?: string } = {}): Promise<RawSocket> {
    const ws = new WebSocket(url, origin ? { origin } : {});
    opened.add(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawSocket(ws);
  }

  /** Open and join as `name`; resolves once the welcome has arrived. */
  static async join(url: string, name: string): Promise<RawSocket> {
    const s = await RawSocket.open(url);
    s.send({ type: 'client_join_req', name });
    await s.next((f) => f.type === 'welcome');
    return s;
  }

  /**
   * A server link opened by hand, claiming to be the server at `from` (a fake peer, unless a real
   * server listens there); resolves once the node has answered with its list of servers.
   */
  static async peer(url: string, from: string): Promise<RawSocket> {
    const s = await RawSocket.open(url);
    s.send({ type: 'server_join_req', from });
    await s.next((f) => f.type === 'update_servers');
    return s;
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or still to come) that matches. */
  next(match: (f: AnyFrame) => boolean, timeoutMs = 5_000): Promise<AnyFrame> {
    return this.until(() => this.frames.find(match), timeoutMs, 'a matching frame');
  }

  nextError(code: string): Promise<AnyFrame> {
    return this.next((f) => f.type === 'error' && f.code === code);
  }

  waitClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    return this.until(() => this.closed, timeoutMs, 'the close');
  }

  /** Chat events only, as compact strings: "join:Ann", "message:Ann:hi". */
  events(): string[] {
    return this.frames
      .filter((f) => ['join', 'leave', 'message', 'away', 'back'].includes(f.type))
      .map((f) => [f.type, f.name, ...(f.type === 'message' ? [f.text] : [])].join(':'));
  }

  until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return this.#waiters.until(probe, timeoutMs, () => `timed out waiting for ${what}; last frames: ${JSON.stringify(this.frames.slice(-5)).slice(0, 600)}`);
  }

  #wake(): void {
    this.#waiters.wake();
  }
}

let fakeSeq = 0;
/** A well-formed event as a (fake) peer server would relay it: origin, seq, clock and id filled in. */
export function peerEvent<T extends { type: string; name: string; server: string }>(fields: T & { ts?: number; text?: string; cid?: string }): AnyFrame {
  const seq = ++fakeSeq;
  return { ts: Date.now(), ...fields, origin: 'f0f0f0f0f0f0f0f0', seq, clock: seq, id: `f0f0f0f0f0f0f0f0-${seq}` };
}
