// A raw WebSocket that records every frame it receives, for tests that speak the wire protocol
// by hand (including wrong on purpose).
import type { TLSSocket } from 'node:tls';
import { afterEach } from 'vitest';
import WebSocket from 'ws';
import { answerHello, inviteKey, serverInviteKey } from '../../shared/auth.js';
import type { SocketFactory } from '../../shared/chat-client.js';
import { type DeviceSigner, proveDevice } from '../../shared/device-key.js';
import { channelBinding } from '../../shared/node/channel-binding.js';
import { nodeSockets } from '../../shared/node/node-socket.js';
import { ServerKey } from '../../server/server-key.js';
import { type Batch, batchEvents, type ChatEvent, historyEvents } from '../../shared/protocol.js';
import { Waiters } from './waiters.js';

/** ChatClient sockets for tests that are not about certificates: each trusts whatever it sees first. */
export const trustingSockets: SocketFactory = (url) => nodeSockets()(url);

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

  /** The TLS channel binding (wss:// only): what a proof on this connection is made over. */
  binding: Uint8Array | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? { type: '<binary>' } : (JSON.parse(data.toString()) as AnyFrame);
      // A batch (a frame, or in a history page) reads as the events it stands for, as every client reads it.
      if (frame.type === 'batch') this.frames.push(...(batchEvents(frame as Batch) as AnyFrame[]));
      else if (frame.type === 'history') this.frames.push({ ...frame, events: historyEvents(frame.events) });
      else this.frames.push(frame);
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
    // The servers' certificates are self-signed; what these tests check is above TLS.
    const ws = new WebSocket(url, { rejectUnauthorized: false, ...(origin ? { origin } : {}) });
    opened.add(ws);
    // Listening from the start: the server's hello can come in the same packet as the upgrade.
    const socket = new RawSocket(ws);
    ws.once('upgrade', (res) => {
      socket.binding = channelBinding(res.socket as TLSSocket);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return socket;
  }

  /** Open and join as `name`; resolves once the welcome has arrived. */
  static async join(url: string, name: string): Promise<RawSocket> {
    const s = await RawSocket.open(url);
    s.send({ type: 'client_join_req', name });
    await s.next((f) => f.type === 'welcome');
    return s;
  }

  /**
   * Open and ask to join as `name`, proving `device`'s key (docs/protocol.md § Identity), with a
   * `resume` if given; resolves once the join is sent: the welcome, or an error, is the test's to await.
   */
  static async joinWithKey(url: string, name: string, device: DeviceSigner, resume?: { token: string; after?: string }): Promise<RawSocket> {
    const s = await RawSocket.open(url);
    const hello = await s.next((f) => f.type === 'hello');
    const proof = await proveDevice(device, hello.nonce as string, name, s.binding);
    s.send({ type: 'client_join_req', name, device: proof, ...(resume ? { resume } : {}) });
    return s;
  }

  /**
   * A server link opened by hand, claiming to be the server at `from` (a fake peer, unless a real
   * server listens there), proving the set's server invite as a replica joining with it would (an
   * invited member, not a stranger); resolves once the node has answered with its list of servers.
   */
  static async peer(url: string, from: string, invite: string): Promise<RawSocket> {
    const s = await RawSocket.open(url);
    await s.linkAs(from, invite);
    await s.next((f) => f.type === 'update_servers');
    return s;
  }

  /** Send `server_join_req` as the server at `from`, with a right proof of the server invite `code` over this connection. */
  async linkAs(from: string, code: string, kind: 'server_invite' | 'invite' = 'server_invite'): Promise<void> {
    const hello = await this.next((f) => f.type === 'hello');
    const key = kind === 'server_invite' ? serverInviteKey(code) : inviteKey(code);
    const { expect: _expect, ...answer } = answerHello(key, 'dialer', hello.nonce, this.binding);
    this.send({ type: 'server_join_req', from, auth: { with: kind, ...answer } });
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
/** The fake peer's own key: its events are signed as a server of the set signs its own. */
const fakePeer = ServerKey.load(undefined);
/** A well-formed event as a (fake) peer server would relay it: origin, seq, clock and id filled in, signed. */
export function peerEvent<T extends { type: string; name: string; server: string }>(fields: T & { ts?: number; text?: string; cid?: string }): AnyFrame {
  const seq = ++fakeSeq;
  const { origin } = fakePeer;
  return fakePeer.sign({ ts: Date.now(), ...fields, origin, seq, clock: seq, id: `${origin}-${seq}` } as unknown as ChatEvent);
}
