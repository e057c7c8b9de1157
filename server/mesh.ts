// The set of replicated servers (seminar: server2's `Servers` list) as a full mesh of WebSocket
// links, one per peer. Membership rules (docs/protocol.md § Replicated servers):
// - a server joins by sending `server_join_req` to any member; the member adds it and sends
//   `update_servers` to every server, the newcomer included (seminar);
// - a server that learns of a server it has no link to dials it with `server_join_req`, and every
//   server announces its list whenever it changes, so every server ends linked to every other,
//   whatever order concurrent joins arrive in;
// - when two servers dial each other at once, the link dialed by the smaller address is kept;
// - a `server_join_req` from an address that already has a link replaces it only when the old
//   link no longer answers a ping (a restarted server); while it answers, the newcomer is an
//   impostor and is refused;
// - addresses learnt from peers are dialed through a rate-limited queue, and one that failed is
//   left alone for a while, so a peer's list cannot turn this server into a port scanner;
// - a server leaves by sending `update_servers` without itself (seminar's `disconnect`) and
//   closing; a link that closes or stops answering pings removes that server too.
// - every link is authenticated (access.ts): the dialer waits for the accepting server's `hello`,
//   proves the set's secret in its `server_join_req`, and takes nothing from the link until the
//   other side's `auth_ok` proves the same; the set's keys (`set_keys`) come only over such links.
// A server's list is always itself plus the peers it has an open link with.
// The mesh owns every link's socket, dialed or accepted (connections.ts hands an accepted one over
// after its server_join_req): it reads, watches and closes them, and sends through their Outlets.
// What links bring in goes to the relay (peer-relay.ts); the set's keys and list to the node.
// (A little past 300 lines: linking, the handshake and the tie-breaks share the link table.)
import WebSocket from 'ws';
import type { Logger } from 'pino';
import { CloseCode, closeReason, ErrorCode, missingCase } from '../shared/errors.js';
import { channelBinding } from '../shared/node/channel-binding.js';
import {
  decodeServerInbound,
  frame,
  Limits,
  type ChatEvent,
  type Hello,
  type IsTyping,
  isChatEvent,
  isClientRequest,
  type LinkAuth,
  type PeerFrame,
  type Roster,
  type Sync,
} from '../shared/protocol.js';
import { sameProof } from '../shared/auth.js';
import type { Heartbeat } from './heartbeat.js';
import { DialQueue } from './dial-queue.js';
import { encode } from './json-bytes.js';
import type { SetKeys } from './set-keys.js';
import type { Outlet, Wire } from './wire/wire.js';

export interface PeerLink {
  readonly url: string;
  readonly ws: WebSocket;
  /** Its write end (wire/): what is sent on the link goes through here. */
  readonly outlet: Outlet;
  /** We dialed it (as opposed to accepting its `server_join_req`). */
  readonly outbound: boolean;
  /** Handshake done: `update_servers` was sent (inbound) or received (outbound). */
  open: boolean;
  /** The other side proved the set's key (inbound: before it became a link; outbound: its `auth_ok`). */
  authenticated: boolean;
  /**
   * The origin of the first event it sent whose signature checked out: the peer's own. Its later
   * live events of that origin need no check of their own (the link is the peer's, over TLS), which
   * spares a verification (~0.1 ms) per event per server; any other origin is checked in full.
   */
  origin?: string;
}

/** What the mesh needs of access.ts: to dial, and the set's keys a dialed link sends once it is up. */
export interface DialAccess {
  dial(hello: Hello, binding: Uint8Array | undefined): { auth: LinkAuth; expect: string };
  readonly keys: SetKeys;
}

/** What becomes of what links bring in (peer-relay.ts). */
export interface PeerHandlers {
  /** A join/leave/message from a peer, with the bytes it came in; the node judges it. */
  onEvent(link: PeerLink, event: ChatEvent, raw: Buffer): void;
  onRoster(link: PeerLink, roster: Roster): void;
  /** The peer says how far it has seen each origin (answer with what it lacks). */
  onSync(link: PeerLink, sync: Sync): void;
  /** Events the peer had and this server may lack. */
  onBackfill(link: PeerLink, events: ChatEvent[]): void;
  /** A link finished its handshake: time to tell the peer who is here. */
  onLinkUp(link: PeerLink): void;
  /** A peer left or failed; its buddies are gone with it. */
  onLinkDown(url: string): void;
  /** Someone on the peer is typing (not an event: relayed, never kept). */
  onTyping(link: PeerLink, typing: IsTyping, raw: Buffer): void;
}

export interface MeshOptions {
  self: string;
  /** The node's sending: dialed links get their outlets from it. */
  wire: Wire;
  heartbeat: Heartbeat;
  /** A peer with more unsent bytes than this is dropped rather than buffered without bound. */
  maxPeerBufferedBytes: number;
  dialTimeoutMs: number;
  /** How long a linked peer has to answer a ping before a newcomer claiming its address replaces it. */
  aliveCheckMs: number;
  /** Dials of addresses learnt from peers: a burst, then a steady rate per second. */
  dialBurst: number;
  dialRate: number;
  log: Logger;
  access: DialAccess;
  relay: PeerHandlers;
  /** The set's keys, from a peer that proved it knows them. */
  onSetKeys(keys: SetKeys): void;
  onServersChanged(servers: string[]): void;
}

/** Whether `ws` answers a ping within `ms` (a frozen or vanished peer does not). */
function answersPing(ws: WebSocket, ms: number): Promise<boolean> {
  if (ws.readyState !== WebSocket.OPEN) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (alive: boolean) => {
      clearTimeout(timer);
      ws.off('pong', onPong);
      ws.off('close', onClose);
      resolve(alive);
    };
    const onPong = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    ws.on('pong', onPong);
    ws.on('close', onClose);
    ws.ping();
  });
}

/** How many servers that left on purpose are remembered (departed()). */
const DEPARTED_KEPT = 256;

export class Mesh {
  readonly #links = new Map<string, PeerLink>();
  /** departed(): insertion order, the oldest forgotten past DEPARTED_KEPT. */
  readonly #departed = new Set<string>();
  readonly #pendingDials = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  #servers: string[];
  #stopped = false;
  readonly #dials: DialQueue;

  constructor(private readonly opts: MeshOptions) {
    this.#servers = [opts.self];
    this.#dials = new DialQueue({
      burst: opts.dialBurst,
      ratePerSecond: opts.dialRate,
      dial: (url) => this.#dial(url),
      wanted: (url) => url !== opts.self && !this.#links.has(url),
      onFailure: (url, err) => opts.log.warn({ peer: url, err: err.message }, 'could not link to server'),
    });
  }

  /** Sorted, so every server prints and compares the same list. */
  servers(): string[] {
    return this.#servers;
  }

  openLinks(): PeerLink[] {
    return [...this.#links.values()].filter((l) => l.open);
  }

  /** Send one encoded frame to every peer. */
  broadcast(data: Buffer): void {
    for (const link of this.#links.values()) {
      if (!link.open) continue;
      if (link.ws.bufferedAmount > this.opts.maxPeerBufferedBytes) {
        this.opts.log.warn({ peer: link.url }, 'peer cannot keep up; dropping link');
        link.ws.terminate();
        continue;
      }
      link.outlet.sendBatched(data);
    }
  }

  /** Join the set through `boot` (seminar: server2:start(BootServer)). Resolves once linked. */
  join(boot: string): Promise<void> {
    return this.#dial(boot);
  }

  /** An inbound connection opened with `server_join_req` (its socket is the mesh's now): make it a link, or refuse it. */
  async accept(outlet: Outlet, from: string): Promise<PeerLink | undefined> {
    const { self, log } = this.opts;
    const { ws } = outlet;
    if (from === self) {
      outlet.close(CloseCode.POLICY, closeReason(ErrorCode.PEER_INVALID, "that is this server's own address"));
      return undefined;
    }
    const existing = this.#links.get(from);
    if (existing?.outbound && !existing.open && self < from) {
      // We are dialing it too, and ours wins the tie-break: it will accept our link instead.
      outlet.close(CloseCode.DUPLICATE_LINK, 'duplicate link');
      return undefined;
    }
    if (existing?.open && (await answersPing(existing.ws, this.opts.aliveCheckMs))) {
      log.warn({ peer: from }, 'refused server_join_req: that address is linked and alive');
      outlet.close(CloseCode.POLICY, closeReason(ErrorCode.PEER_REFUSED, `${from} is already linked and answering`));
      return undefined;
    }
    const current = this.#links.get(from);
    if (this.#stopped || !outlet.isOpen || (current && current !== existing && current.open)) {
      outlet.close(CloseCode.DUPLICATE_LINK, 'duplicate link');
      return undefined;
    }
    if (current) {
      // Either its dial wins the tie-break, or it restarted and this link replaces a dead one.
      log.info({ peer: from }, 'replacing link');
      const wasOpen = current.open;
      this.#forget(current);
      current.outlet.close(CloseCode.DUPLICATE_LINK, 'duplicate link');
      // A restarted server's old buddies are gone; the new link brings its new roster.
      if (wasOpen) this.opts.relay.onLinkDown(from);
    }
    const link: PeerLink = { url: from, ws, outlet, outbound: false, open: true, authenticated: true };
    this.#links.set(from, link);
    this.#dials.linked(from);
    this.#watch(link);
    // If we were dialing it, this link is the one we wanted.
    this.#pendingDials.get(from)?.resolve();
    this.#pendingDials.delete(from);
    // Seminar: the new list goes to every server, the newcomer included (its handshake reply).
    if (!this.#recompute()) outlet.sendEncoded(encode(frame.updateServers(this.#servers)));
    this.opts.relay.onLinkUp(link);
    return link;
  }

  /**
   * Everything that arrives on a link, dialed or accepted. A bad frame is logged and dropped, never
   * answered: two servers would echo error frames forever.
   */
  receive(link: PeerLink, data: Buffer, isBinary: boolean): void {
    const decoded = isBinary ? undefined : decodeServerInbound(data.toString());
    if (!decoded?.ok) {
      this.opts.log.warn({ peer: link.url, error: decoded?.error ?? 'binary frame' }, 'bad frame from peer');
      return;
    }
    const msg = decoded.value;
    if (isClientRequest(msg)) {
      this.opts.log.warn({ peer: link.url, type: msg.type }, 'client request on a server link');
      return;
    }
    this.#handleFrame(link, msg, data);
  }

  #handleFrame(link: PeerLink, msg: PeerFrame, raw: Buffer): void {
    if (this.#links.get(link.url) !== link) return; // a replaced link's last words
    if (!link.authenticated) return this.#authenticate(link, msg);
    switch (msg.type) {
      case 'update_servers':
        this.#onUpdateServers(link, msg.servers);
        return;
      case 'roster':
        if (link.open) this.opts.relay.onRoster(link, msg);
        return;
      case 'sync':
        if (link.open) this.opts.relay.onSync(link, msg);
        return;
      case 'backfill':
        if (link.open) this.opts.relay.onBackfill(link, msg.events);
        return;
      case 'is_typing':
        if (link.open) this.opts.relay.onTyping(link, msg, raw);
        return;
      case 'set_keys': {
        const { type: _type, ...keys } = msg;
        this.opts.onSetKeys(keys);
        return;
      }
      case 'server_join_req':
      case 'hello':
      case 'auth_ok':
        return; // already linked
      default:
        if (isChatEvent(msg)) {
          if (link.open) this.opts.relay.onEvent(link, msg, raw);
          return;
        }
        missingCase(msg); // a frame type added to the protocol must be handled here
    }
  }

  /** A dialed link before the other side proved itself: only `hello` and `auth_ok` count. */
  #authenticate(link: PeerLink & { expect?: string; binding?: Uint8Array }, msg: PeerFrame): void {
    if (msg.type === 'hello' && link.expect === undefined) {
      const { auth, expect } = this.opts.access.dial(msg, link.binding);
      link.expect = expect;
      link.outlet.send(frame.serverJoinReq(this.opts.self, auth));
    } else if (msg.type === 'auth_ok' && link.expect !== undefined) {
      if (sameProof(msg.proof, link.expect)) {
        link.authenticated = true;
        return;
      }
      this.opts.log.warn({ peer: link.url }, "a server did not prove it knows the set's secret; not linking");
      link.outlet.close(CloseCode.POLICY, closeReason(ErrorCode.AUTH_FAILED, 'that server could not prove it belongs to this set'));
    }
  }

  /** Seminar's `disconnect`: tell the others we are gone, then close every link. */
  leave(): void {
    this.#stopped = true;
    const update = encode(frame.updateServers(this.#servers.filter((s) => s !== this.opts.self)));
    for (const link of this.#links.values()) {
      if (link.open) link.outlet.sendEncoded(update);
      link.outlet.close(CloseCode.GOING_AWAY, 'server disconnect');
    }
    this.#links.clear();
    for (const pending of this.#pendingDials.values()) pending.reject(new Error('server disconnected'));
    this.#pendingDials.clear();
    this.#dials.stop();
  }

  #onUpdateServers(link: PeerLink, servers: string[]): void {
    const { log } = this.opts;
    if (!link.open) {
      link.open = true;
      this.#dials.linked(link.url);
      this.#pendingDials.get(link.url)?.resolve();
      this.#pendingDials.delete(link.url);
      this.#recompute();
      // The accepting side sent its keys before the link opened; ours may be newer.
      link.outlet.sendEncoded(encode(frame.setKeys(this.opts.access.keys)));
      this.opts.relay.onLinkUp(link);
    }
    if (!servers.includes(link.url)) {
      // The peer sent a list without itself: it is disconnecting (seminar).
      log.info({ peer: link.url }, 'peer disconnected');
      this.#departed.add(link.url);
      if (this.#departed.size > DEPARTED_KEPT) this.#departed.delete(this.#departed.values().next().value!);
      this.#drop(link, true);
      link.outlet.close(CloseCode.NORMAL, 'peer left');
      return;
    }
    for (const url of servers) this.#dials.add(url);
  }

  #dial(url: string): Promise<void> {
    if (this.#stopped) return Promise.reject(new Error('server disconnected'));
    return new Promise<void>((resolve, reject) => {
      // The set's certificate is self-signed: what proves the other side is its auth_ok, made over
      // this very TLS channel (its binding), which no man in the middle can produce.
      const ws = new WebSocket(url, { maxPayload: Limits.MAX_FRAME_BYTES * 4, handshakeTimeout: this.opts.dialTimeoutMs, rejectUnauthorized: false });
      const outlet = this.opts.wire.outlet(ws);
      const link: PeerLink & { binding?: Uint8Array } = { url, ws, outlet, outbound: true, open: false, authenticated: false };
      // A link that is not up in time (no hello, no auth_ok, no update_servers: a peer that froze
      // mid-handshake) is closed, so the dial fails and is retried rather than waiting forever.
      const deadline = setTimeout(() => {
        if (!link.open) outlet.close(CloseCode.POLICY, 'link handshake timed out');
      }, this.opts.dialTimeoutMs * 2);
      deadline.unref();
      ws.on('upgrade', (res) => {
        const binding = channelBinding(res.socket);
        if (binding) link.binding = binding;
      });
      this.#links.set(url, link);
      this.#pendingDials.set(url, { resolve, reject });
      let failure = '';
      ws.on('error', (err: NodeJS.ErrnoException) => {
        failure = err.code ?? err.message;
      });
      ws.on('open', () => this.opts.heartbeat.track(ws)); // then the other side's hello
      ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(link, data, isBinary));
      ws.on('close', (code: number, reason: Buffer) => {
        clearTimeout(deadline);
        const pending = this.#pendingDials.get(url);
        if (this.#links.get(url) === link) this.#drop(link);
        if (pending && this.#pendingDials.get(url) === pending) {
          this.#pendingDials.delete(url);
          const why = reason.length ? reason.toString() : failure || `closed with ${code}`;
          reject(new Error(`cannot link to ${url}: ${why}`));
        }
      });
    });
  }

  /** An accepted link: its frames, pings and close are the mesh's from now on. */
  #watch(link: PeerLink): void {
    const { ws } = link;
    this.opts.heartbeat.track(ws);
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(link, data, isBinary));
    ws.on('error', (err: Error) => this.opts.log.debug({ peer: link.url, err: err.message }, 'link error'));
    ws.on('close', () => {
      if (this.#links.get(link.url) === link) this.#drop(link);
    });
  }

  /** A link closed; a peer that did not leave on purpose is re-dialed until it is back. */
  #drop(link: PeerLink, left = false): void {
    const wasOpen = link.open;
    this.#forget(link);
    if (wasOpen && !this.#stopped) {
      if (left) this.#dials.forget(link.url);
      else this.#dials.retry(link.url);
      this.opts.relay.onLinkDown(link.url);
    }
    this.#recompute();
  }

  /** The origin a link to `url` has shown (PeerLink.origin), if it is linked and has. */
  originOf(url: string): string | undefined {
    return this.#links.get(url)?.origin;
  }

  /** A server taken out of the set (revoked): its link closes and it is not dialed again. */
  expel(url: string): void {
    this.#departed.delete(url);
    this.#dials.forget(url);
    const link = this.#links.get(url);
    if (!link) return;
    this.#drop(link, true);
    link.outlet.close(CloseCode.POLICY, 'REVOKED: this server was taken out of the set');
  }

  /** Re-dial servers known from before (a restart with a data folder), until they answer. */
  rejoin(urls: string[]): void {
    for (const url of urls) if (url !== this.opts.self) this.#dials.retry(url, true);
  }

  /**
   * Servers that left the set on purpose since this one started (not revoked ones): the pages they
   * served still fail over to this server (origin.ts). Kept in memory, the newest DEPARTED_KEPT.
   */
  departed(): string[] {
    return [...this.#departed];
  }

  /** Every server this one is linked to or trying to get back: what it remembers across restarts. */
  knownPeers(): string[] {
    return [...new Set([...this.openLinks().map((l) => l.url), ...this.#dials.retrying()])].sort();
  }

  #forget(link: PeerLink): void {
    if (this.#links.get(link.url) === link) this.#links.delete(link.url);
    link.open = false;
  }

  /**
   * Recompute the list; when it changed, announce it on every link. Announcing on every change (not
   * only when accepting a newcomer) is what makes concurrent joins through different members
   * converge: whoever links to a newcomer tells everyone it is linked to. Lists change only when
   * links open or close, so this ends.
   */
  #recompute(): boolean {
    const next = [this.opts.self, ...this.openLinks().map((l) => l.url)].sort();
    if (next.join('\n') === this.#servers.join('\n')) return false;
    this.#servers = next;
    if (this.#stopped) return true;
    const update = encode(frame.updateServers(next));
    for (const link of this.openLinks()) link.outlet.sendEncoded(update);
    this.opts.onServersChanged(next);
    return true;
  }
}
