// A Chatty node: the seminar's `server` and `server2` in one. Alone it is the single server; with
// peers it is one of the replicated servers. Transport is plugged in: `handle(ws)` takes any
// accepted WebSocket, and `ChatNode.start()` puts the usual listener (listener.ts) around it.
// This file is the seminar's server loop: one dispatcher decides what each role may send, then
// the client requests (join, resume, send, leave, and what a vanished client leaves behind) and
// the events they publish. It runs past 300 lines because a client's life here is one story —
// admission, welcome with history, grace, resume, drop — told against one set of state; the parts
// that stand alone live beside it: peer-relay.ts (what peers bring in), mesh.ts (the set of
// servers), listener.ts, history.ts and store.ts, event-clock.ts, grace.ts, options.ts, limits.ts,
// and the sending: local-clients.ts (the fan-out), wire.ts (sockets, in turns), frames.ts (bytes).
import { EventEmitter } from 'node:events';
import { createHash } from 'node:crypto';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import { CloseCode, closeReason, ErrorCode, type ChatError, fail, LEFT_REASON, missingCase, ok, type Result } from '../shared/errors.js';
import {
  type ChatEvent,
  type ClientJoinReq,
  decodeServerInbound,
  type FileInfo,
  frame,
  isPeerFrame,
  Limits,
  type Buddy,
  type Status,
  visibleTo,
} from '../shared/protocol.js';
import { newResumeToken } from '../shared/auth.js';
import { Access, type AccessVerdict, type Challenge } from './access.js';
import { advertisedUrl } from './address.js';
import { EventClock } from './event-clock.js';
import { FileRoutes, fileToken } from './file-http.js';
import { FileStore } from './file-store.js';
import { Grace } from './grace.js';
import { Heartbeat } from './heartbeat.js';
import { History } from './history.js';
import { AddressLimits, TokenBucket, type ServerLimits } from './limits.js';
import { Listener, NodeStartError } from './listener.js';
import { LocalClients, type LocalClient } from './local-clients.js';
import { Mesh, type PeerLink } from './mesh.js';
import { OriginPolicy } from './origin.js';
import { type ChatNodeOptions, MEMORY, resolveOptions } from './options.js';
import { PeerRelay } from './peer-relay.js';
import { Roster } from './roster.js';
import { newSetKeysWithoutTls, prepareSetKeys, saveSetKeys, type SetKeys, withNewInvite } from './set-keys.js';
import { SqliteStore, StoreError } from './store.js';
import { encode } from './frames.js';
import { closeWith, sendFrame, sendSpliced } from './wire.js';

export { NodeStartError, StoreError };
export type { ChatNodeOptions };

export interface ChatNodeEvents {
  /** The set of servers changed (seminar: `[SERVER UPDATE]`). */
  servers: [servers: string[]];
  /** A join, leave or message was relayed to this node's clients. */
  event: [event: ChatEvent];
  /** The set's keys changed: a new invite (made here or on another server), or this server joined a set. */
  keys: [];
  /** The node stopped (operator's disconnect, or its listener failed). */
  disconnect: [];
}

type Role = { kind: 'new' } | { kind: 'client'; name: string } | { kind: 'linking' } | { kind: 'peer'; link: PeerLink } | { kind: 'gone' };

interface Connection {
  ws: WebSocket;
  role: Role;
  /** The IP address it came from (per-address limits). */
  address: string;
  /** Counted among the sockets that have not joined yet. */
  pending: boolean;
  handshakeTimer: NodeJS.Timeout | undefined;
  /** Frames this client may still send now. */
  bucket: TokenBucket;
  /** Frames refused in a row for going over the rate. */
  refusedInARow: number;
  /** It broke the protocol (an oversized or malformed frame): its close is no network accident. */
  broke?: boolean;
  /** What its `hello` said, until it joined: proofs are made over it. */
  challenge: Challenge | undefined;
  /** When its last "typing" counted (they are rate-limited). */
  typedAt?: number;
}

/** Search results in one answer, unless the client asks for fewer. */
const SEARCH_LIMIT = 50;

/** "Typing…" from one client counts at most this often; clients show it for a few seconds. */
const TYPING_EVERY_MS = 2_000;

const DAY_MS = 24 * 60 * 60 * 1000;

export class ChatNode extends EventEmitter<ChatNodeEvents> {
  readonly url: string;
  readonly limits: Readonly<ServerLimits>;
  readonly #log: Logger;
  readonly #events: EventClock;
  readonly #store: SqliteStore | undefined;
  readonly #history: History;
  readonly #grace: Grace;
  readonly #heartbeat: Heartbeat;
  readonly #clients: LocalClients;
  readonly #roster = new Roster();
  readonly #mesh: Mesh;
  readonly #connections = new Map<WebSocket, Connection>();
  readonly #addresses: AddressLimits;
  readonly #handshakeTimeoutMs: number;
  readonly #relay: PeerRelay;
  readonly #access: Access;
  readonly #data: string;
  readonly #files: FileStore;
  readonly #fileRoutes: FileRoutes;
  readonly #maxFileBytes: number;
  readonly #secretsCodec: ChatNodeOptions['secretsCodec'];
  /** Slow clients waiting to be dropped; see #dropSlow. */
  readonly #slow: LocalClient[] = [];
  #droppingSlow = false;
  #listener: Listener | undefined;
  #stopping: Promise<void> | undefined;
  /** The peers the data folder remembers, read with the rest of it when the node is made. */
  readonly #rememberedPeers: string[];

  /**
   * A node with no listener: feed it sockets with handle(). Most callers want ChatNode.start().
   * Throws a TypeError for options out of range or in contradiction (options.ts).
   */
  constructor(url: string, options: ChatNodeOptions = {}) {
    super();
    const opts = resolveOptions(options);
    this.url = url;
    this.#store =
      opts.data === MEMORY
        ? undefined
        : new SqliteStore(opts.data, { onWriteFailed: (message) => opts.logger.error({ message }, 'could not write the chat history') });
    const store = this.#store;
    this.#rememberedPeers = store?.peers() ?? [];
    this.#data = opts.data;
    this.#secretsCodec = opts.secretsCodec;
    const keys = opts.keys ?? newSetKeysWithoutTls();
    this.#access = new Access({ keys, invitedReplicas: opts.invitedReplicas, joinInvite: opts.joinInvite, onKeysChanged: (k) => this.#onKeysChanged(k) });
    this.#saveKeys(keys, () => void store?.close());
    this.#events = new EventClock(store?.identity(), (identity) => store?.saveIdentity(identity));
    this.#files = new FileStore(opts.data === MEMORY ? undefined : opts.data);
    this.#history = new History({
      maxEvents: opts.historyMaxEvents,
      maxBytes: opts.historyMaxBytes,
      ...(this.#store ? { store: this.#store } : {}),
      // A file goes with the last event that shares it: a download names its event.
      onFileDropped: (hash) => this.#files.remove(hash),
    });
    if (this.#store?.damaged) {
      opts.logger.warn({ file: this.#store.file, damaged: this.#store.damaged }, 'some events of the history could not be read back and were left out');
    }
    this.#grace = new Grace(opts.graceMs);
    this.limits = opts.limits;
    this.#log = opts.logger;
    this.#handshakeTimeoutMs = opts.handshakeTimeoutMs;
    this.#heartbeat = new Heartbeat(opts.heartbeatMs);
    this.#addresses = new AddressLimits(this.limits);
    this.#clients = new LocalClients(opts.maxClientBufferedBytes, (c) => this.#dropSlow(c));
    this.#mesh = new Mesh({
      self: url,
      heartbeat: this.#heartbeat,
      maxPeerBufferedBytes: opts.maxPeerBufferedBytes,
      dialTimeoutMs: 5_000,
      aliveCheckMs: 2_000,
      dialBurst: this.limits.dialBurst,
      dialRate: this.limits.dialRate,
      log: this.#log,
      access: this.#access,
      handlers: {
        onSetKeys: (_link, keys) => this.#access.adopt(withoutType(keys)),
        onTyping: (link, typing, raw) => this.#relay.onTyping(link, typing, raw),
        onEvent: (link, event, raw) => this.#relay.onEvent(link, event, raw),
        onRoster: (link, roster) => this.#relay.onRoster(link, roster),
        onSync: (link, sync) => this.#relay.onSync(link, sync),
        onBackfill: (link, backfill) => this.#relay.onBackfill(link, backfill.events),
        onLinkUp: (link) => {
          // The accepting side sent its keys before the link opened; the dialing side's may be newer.
          if (link.outbound) this.#mesh.sendTo(link, encode(frame.setKeys(this.#access.keys)));
          this.#relay.onLinkUp(link);
        },
        onLinkDown: (url) => this.#relay.onLinkDown(url),
        onServersChanged: (servers) => this.#onServersChanged(servers),
      },
    });
    this.#relay = new PeerRelay({
      self: url,
      roster: this.#roster,
      history: this.#history,
      grace: this.#grace,
      clients: this.#clients,
      mesh: () => this.#mesh,
      limits: this.limits,
      log: this.#log,
      observeClock: (clock) => this.#events.observe(clock),
      notice: (type, name, server) => this.#notice(type, name, server),
      onRelayed: (event) => this.emit('event', event),
      evictLocal: (name) => this.#evict(name),
    });
    this.#maxFileBytes = opts.maxFileBytes;
    // Files left from events older than the history (a day's margin for servers' clocks) go.
    const oldest = this.#history.oldestTs;
    const stale = oldest === undefined ? 0 : this.#files.keepOnly(this.#history.fileHashes(), oldest - DAY_MS);
    if (stale > 0) opts.logger.info({ files: stale }, 'removed files that no event of the history shares any more');
    this.#fileRoutes = new FileRoutes({
      files: this.#files,
      maxBytes: opts.maxFileBytes,
      log: this.#log,
      secret: () => this.#access.keys.secret,
      certificate: () => this.#access.keys.cert,
      localKey: (name) => (this.#clients.has(name) ? this.#sessionKey(name) : undefined),
      anyKey: (name) => this.#sessionKey(name),
      event: (id) => this.#history.get(id),
      checkAddressee: (name, to) => {
        const addressee = this.#addressee(name, to);
        return addressee.ok ? undefined : addressee.error;
      },
      published: (name, cid) => this.#history.published(name, cid),
      publish: (name, file, to, cid) => this.#publishFile(name, file, to, cid),
      peers: () => this.servers().filter((url) => url !== this.url),
    });
    this.#heartbeat.start();
  }

  /** Listen on HTTP + WebSocket, and join `options.join` if given. */
  static async start(options: ChatNodeOptions = {}): Promise<ChatNode> {
    const opts = resolveOptions(options);
    let node: ChatNode | undefined;
    const keys = await prepareSetKeys({
      data: opts.data === MEMORY ? undefined : opts.data,
      insecure: opts.insecure,
      private: opts.private,
      passphrase: opts.passphrase,
      newInvite: opts.newInvite,
      codec: opts.secretsCodec,
    });
    const tls = !opts.insecure && keys.cert && keys.key ? { cert: keys.cert, key: keys.key } : undefined;
    if (opts.advertise && opts.advertise.startsWith('wss:') !== (tls !== undefined)) {
      throw new TypeError(`advertise must be a ${tls ? 'wss' : 'ws'}:// address: this server ${tls ? 'serves TLS' : 'runs --insecure'}`);
    }
    const listener = await Listener.listen({
      tls,
      port: opts.port,
      bind: opts.bind,
      // Files first (file-http.ts); the rest is the page, or what the caller serves.
      // biome-ignore lint/complexity/useOptionalChain: an optional chain cannot reach a #private field (TS18030)
      httpHandler: (req, res) => (node !== undefined && node.#fileRoutes.handle(req, res)) || opts.httpHandler(req, res),
      origins: new OriginPolicy({
        port: () => node?.port,
        // Pages of servers this one lost may connect too: their people fail over to it.
        servers: () => (node ? [...node.servers(), ...node.#mesh.knownPeers()] : []),
        allowed: opts.allowedOrigins,
      }),
      log: opts.logger,
      onConnection: (ws, address, binding) => (node ? node.handle(ws, address, binding) : ws.terminate()),
    });
    try {
      node = new ChatNode(opts.advertise ?? advertisedUrl(opts.bind, listener.port, tls !== undefined), { ...opts, keys });
    } catch (err) {
      await listener.close([]);
      throw err;
    }
    node.#listener = listener;
    // A restarted server finds its set again: the peers it knew are re-dialed until they answer.
    // Its join target among them too — a restart does not wait on any one peer.
    const known = opts.join !== undefined && node.#rememberedPeers.includes(opts.join);
    node.#mesh.rejoin(node.#rememberedPeers);
    if (opts.join && !known) {
      try {
        await node.#mesh.join(opts.join);
      } catch (err) {
        await node.disconnect();
        throw new NodeStartError(ErrorCode.JOIN_FAILED, (err as Error).message);
      }
    }
    return node;
  }

  get port(): number | undefined {
    return this.#listener?.port;
  }

  /** The set of servers, sorted (seminar: `Servers`). */
  servers(): string[] {
    return this.#mesh.servers();
  }

  /** Everyone connected to any server of the set. */
  buddies(): Buddy[] {
    return this.#roster.buddies();
  }

  /** The set's history as this server has it, in order (the newest `limit`). */
  history(limit = Limits.HISTORY_PAGE): ChatEvent[] {
    return this.#history.page(limit).events;
  }

  /** Names of the clients connected to this server (seminar: `Clients`). */
  localClients(): string[] {
    return this.#clients.names();
  }

  /** The invite people (and replicas) join this chat with: where, the code, and the certificate to pin. */
  invite(): { server: string; code: string; fingerprint?: string; private: boolean } {
    const { fingerprint } = this.#access;
    return { server: this.url, code: this.#access.keys.invite, ...(fingerprint ? { fingerprint } : {}), private: this.#access.keys.private };
  }

  /** Replace the invite on every server of the set: the old one lets nobody new in (those in the chat stay). */
  newInvite(): void {
    this.#access.adopt(withNewInvite(this.#access.keys));
  }

  /**
   * Take over an accepted WebSocket: it gets `hello`, and its first frame says whether it is a
   * client or a server. `binding`: the TLS channel binding proofs on it are made over.
   */
  handle(ws: WebSocket, address = 'unknown', binding?: Uint8Array): void {
    if (!this.#addresses.openPending(address)) {
      sendFrame(ws, frame.error(ErrorCode.SERVER_FULL, 'too many connections that have not joined yet; try again later'));
      closeWith(ws, CloseCode.TRY_AGAIN_LATER, ErrorCode.SERVER_FULL);
      return;
    }
    const challenge = Access.challenge(binding);
    const conn: Connection = {
      ws,
      role: { kind: 'new' },
      address,
      pending: true,
      handshakeTimer: undefined,
      bucket: new TokenBucket(this.limits.clientBurst, this.limits.clientRate),
      refusedInARow: 0,
      challenge,
    };
    this.#connections.set(ws, conn);
    sendFrame(ws, this.#access.hello(challenge));
    this.#heartbeat.trackPongs(ws);
    conn.handshakeTimer = setTimeout(() => {
      if (conn.role.kind !== 'new') return;
      this.#sendError(conn, { code: ErrorCode.HANDSHAKE_TIMEOUT, message: 'no client_join_req or server_join_req in time' });
      closeWith(ws, CloseCode.POLICY, ErrorCode.HANDSHAKE_TIMEOUT);
    }, this.#handshakeTimeoutMs);
    conn.handshakeTimer.unref();
    ws.on('message', this.#socketListeners.message);
    ws.on('close', this.#socketListeners.close);
    ws.on('error', this.#socketListeners.error);
  }

  /** One set of listeners for every socket (`this` is the socket): thousands of connections hold no closures of their own. */
  readonly #socketListeners = ((node: ChatNode) => ({
    message(this: WebSocket, data: Buffer, isBinary: boolean) {
      node.#heartbeat.alive(this);
      const conn = node.#connections.get(this);
      if (conn) node.#onMessage(conn, data, isBinary);
    },
    close(this: WebSocket, code: number) {
      node.#heartbeat.forget(this);
      const conn = node.#connections.get(this);
      if (conn) node.#onClose(conn, code);
    },
    // ws reports protocol errors (oversized or malformed frames) here and closes the socket itself.
    error(this: WebSocket, err: Error) {
      const conn = node.#connections.get(this);
      if (conn) conn.broke = true;
      node.#log.debug({ err: err.message }, 'socket error');
    },
  }))(this);

  /**
   * The seminar's `disconnect`: tell the other servers (update_servers without this one), tell this
   * server's clients, and stop listening. Safe to call more than once.
   */
  disconnect(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#mesh.leave();
    for (const conn of this.#connections.values()) {
      if (conn.role.kind === 'client') {
        this.#sendError(conn, { code: ErrorCode.SERVER_STOPPING, message: 'the server disconnected' });
      }
      conn.role = { kind: 'gone' };
      closeWith(conn.ws, CloseCode.GOING_AWAY, 'server disconnect');
    }
    this.#heartbeat.stop();
    this.#grace.stop();
    const sockets = [...this.#connections.keys()];
    if (this.#listener) await this.#listener.close(sockets);
    else for (const ws of sockets) ws.terminate();
    await this.#store?.close();
    this.#files.close();
    this.emit('disconnect');
  }

  // --- dispatch: one place decides what each role may send

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    const { role } = conn;
    if (role.kind === 'gone' || role.kind === 'linking') return;
    if (role.kind === 'peer') return this.#mesh.receive(role.link, data, isBinary);
    // Clients and unjoined sockets pay for every frame, before it is even parsed.
    if (!conn.bucket.take()) return this.#overRate(conn);
    conn.refusedInARow = 0;
    if (isBinary) {
      this.#sendError(conn, { code: ErrorCode.BINARY_FRAME, message: 'frames must be JSON text, not binary' });
      return;
    }
    const decoded = decodeServerInbound(data.toString());
    if (!decoded.ok) {
      this.#sendError(conn, decoded.error);
      return;
    }
    const msg = decoded.value;
    // A connection that is neither a client nor a peer yet is still in its handshake: its challenge is kept.
    switch (msg.type) {
      case 'client_join_req':
        if (role.kind === 'client') return this.#sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: `already joined as "${role.name}"` });
        if (!this.#authorize(conn, this.#access.checkClient(msg.auth, conn.challenge!))) return;
        return msg.resume ? this.#clientResume(conn, msg) : this.#clientJoin(conn, msg.name);
      case 'client_leave_req':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        return this.#clientLeave(conn, role.name, msg.name);
      case 'send':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        if (msg.name !== role.name) return this.#sendError(conn, nameMismatch(role.name));
        return this.#clientSend(conn, role.name, msg.text, msg.cid, msg.to);
      case 'history_req': {
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        const page = this.#history.page(msg.limit ?? Limits.HISTORY_PAGE, msg.before, (e) => visibleTo(e, role.name));
        sendFrame(conn.ws, frame.history(page.events, page.more, true));
        return;
      }
      case 'ping':
        sendFrame(conn.ws, frame.pong());
        return;
      case 'set_status':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        return this.#setStatus(role.name, msg.status);
      case 'typing':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        return this.#typing(conn, role.name, msg.to);
      case 'search_req':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        void this.#search(conn, role.name, msg.query, msg.limit ?? SEARCH_LIMIT);
        return;
      case 'server_join_req':
        if (role.kind === 'client') return this.#sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: 'this connection is a client' });
        if (!this.#authorize(conn, this.#access.checkLink(msg.auth, conn.challenge!), msg.from)) return;
        sendFrame(conn.ws, frame.setKeys(this.#access.keys));
        void this.#serverJoin(conn, msg.from);
        return;
      default:
        if (isPeerFrame(msg)) return this.#sendError(conn, { code: ErrorCode.NOT_A_SERVER, message: `${msg.type} is for servers; open with server_join_req` });
        return missingCase(msg); // a client request added to the protocol must be handled here
    }
  }

  /**
   * A proof's verdict (undefined: none needed). Right: `auth_ok` proves the key back. Wrong or
   * missing: the error, and the connection closes; wrong ones count against the address, and an
   * address over its rate is refused before its proof is even looked at.
   */
  #authorize(conn: Connection, verdict: AccessVerdict | undefined, server?: string): boolean {
    if (!verdict) return true;
    if (!this.#addresses.mayTryAuth(conn.address)) {
      this.#log.warn({ from: conn.address, server }, 'refused a proof: too many wrong ones from this address');
      this.#refuse(conn, { code: ErrorCode.RATE_LIMITED, message: 'too many wrong tries from your address: wait a minute' }, server !== undefined);
      return false;
    }
    if (!verdict.ok) {
      if (verdict.code === ErrorCode.AUTH_FAILED) this.#addresses.authFailed(conn.address);
      this.#log.warn(
        { from: conn.address, server, code: verdict.code },
        server ? "refused a server that did not prove the set's secret" : 'refused a client without a valid invite',
      );
      this.#refuse(conn, { code: verdict.code, message: verdict.message }, server !== undefined);
      return false;
    }
    clearTimeout(conn.handshakeTimer);
    sendFrame(conn.ws, frame.authOk(verdict.proof));
    return true;
  }

  /** An error frame (to clients: servers read the close reason), then the close, whose reason carries the code. */
  #refuse(conn: Connection, error: ChatError, toServer = false): void {
    if (!toServer) this.#sendError(conn, error);
    this.#kick(conn, error.code, error.message);
  }

  /** A frame over the rate: refused (told once per run), and a client that keeps on is cut off. */
  #overRate(conn: Connection): void {
    conn.refusedInARow++;
    if (conn.refusedInARow === 1) {
      this.#sendError(conn, { code: ErrorCode.RATE_LIMITED, message: `slow down: at most ${this.limits.clientRate} messages a second` });
    }
    if (conn.refusedInARow > this.limits.floodDisconnectAfter) {
      this.#log.warn({ address: conn.address, name: conn.role.kind === 'client' ? conn.role.name : undefined }, 'client flooding; disconnecting');
      this.#kick(conn, ErrorCode.RATE_LIMITED, 'you sent too much too fast');
    }
  }

  /** Errors go to clients as frames (peers are answered by nobody: see Mesh.receive). */
  #sendError(conn: Connection, error: ChatError): void {
    sendFrame(conn.ws, frame.error(error.code, error.message));
  }

  #onClose(conn: Connection, code: number): void {
    this.#connections.delete(conn.ws);
    this.#handshakeOver(conn);
    const { role } = conn;
    conn.role = { kind: 'gone' };
    if (role.kind !== 'client' || this.#stopping) return;
    // A client that vanished — no close frame (a network blip, a laptop lid, a killed process), or
    // one that gave up on a silent server (NO_ANSWER) — may be back soon: its name is kept for the
    // grace period. One that closed on purpose without client_leave_req has left all the same.
    if ((code === CloseCode.ABNORMAL || code === CloseCode.NO_ANSWER) && !conn.broke) this.#clientAway(role.name);
    else this.#removeClient(role.name);
  }

  /** The handshake is over (joined, linked or closed): no timer, and nothing kept of it — thousands of clients stay for hours. */
  #handshakeOver(conn: Connection): void {
    clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = undefined;
    conn.challenge = undefined;
    if (!conn.pending) return;
    conn.pending = false;
    this.#addresses.closePending(conn.address);
  }

  /** Close a connection for cause; a client's buddies see it leave. */
  #kick(conn: Connection, code: ErrorCode, message: string): void {
    const { role } = conn;
    conn.role = { kind: 'gone' };
    closeWith(conn.ws, CloseCode.POLICY, closeReason(code, message));
    setTimeout(() => conn.ws.terminate(), 1_000).unref();
    if (role.kind === 'client') this.#removeClient(role.name);
  }

  // --- client requests (seminar: client_join_req, client_leave_req, send)

  #clientJoin(conn: Connection, name: string): void {
    const holder = this.#roster.holder(name);
    if (holder) {
      const like = holder.name === name ? '' : ` (it looks like "${holder.name}", who is here)`;
      this.#sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `the name "${name}" is already taken${like}` });
      return;
    }
    if (!this.#admit(conn)) return;
    const token = newResumeToken();
    const key = sha256(token);
    const join = this.#event('join', name, { key });
    this.#welcome(conn, name, join, key, token, undefined);
    this.#publish(join);
  }

  /**
   * A client that lost its connection comes back — here or to any server of the set — with the
   * token its welcome gave it: it keeps its name, gets exactly the events it missed, and everyone
   * sees it `back` rather than a leave and a join. A token that does not match is NAME_TAKEN; a
   * name nobody holds any more (the grace period ended) is simply joined again.
   */
  #clientResume(conn: Connection, msg: ClientJoinReq): void {
    const { name, resume } = msg;
    const holder = this.#roster.holder(name);
    if (!holder) return this.#clientJoin(conn, name);
    if (holder.name !== name || !holder.key || holder.key !== sha256(resume!.token)) {
      this.#sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `the name "${name}" is already taken` });
      return;
    }
    if (!this.#admit(conn)) return;
    // Its old connection here may not know yet that it is dead (a frozen client): it goes quietly.
    const old = this.#clientConnection(name);
    if (old && old !== conn) {
      old.role = { kind: 'gone' };
      old.ws.terminate();
    }
    this.#grace.cancel(name);
    const back = this.#event('back', name, { key: holder.key });
    this.#welcome(conn, name, back, holder.key, resume!.token, resume!.after ?? '');
    this.#publish(back);
  }

  /** Checks before a join: room on this server and the address's join rate. */
  #admit(conn: Connection): boolean {
    if (this.#clients.size >= this.limits.maxClients) {
      this.#sendError(conn, { code: ErrorCode.SERVER_FULL, message: `this server has its ${this.limits.maxClients} clients; try another server of the set` });
      return false;
    }
    if (!this.#addresses.takeJoin(conn.address)) {
      this.#sendError(conn, { code: ErrorCode.RATE_LIMITED, message: 'too many joins from your address; try again in a few seconds' });
      return false;
    }
    return true;
  }

  /**
   * The client is in: `welcome` (with its resume token), then history — the latest page, or on a
   * resume exactly what came after the last event it had — then, by the caller, its own join/back.
   */
  #welcome(conn: Connection, name: string, claim: ChatEvent, key: string, token: string, after: string | undefined): void {
    this.#handshakeOver(conn);
    conn.role = { kind: 'client', name };
    this.#clients.add({ name, ws: conn.ws });
    this.#roster.claimBy(this.url, name, claim, key);
    // On a resume, what came after the client's last event; if this server does not have that one
    // (it was cut off from the server the client was on), its latest page: the client keeps what
    // it has and places these among them, and what this server lacks comes later by backfill.
    const mine = (e: ChatEvent) => visibleTo(e, name);
    const missed = after ? this.#history.after(after, mine) : undefined;
    const files = { token: fileToken(this.#access.keys.secret, name, key), maxBytes: this.#maxFileBytes };
    const welcome = frame.welcome(name, this.url, this.servers(), token, after !== undefined, files);
    const page = missed ? { events: missed, more: false } : this.#history.page(Limits.HISTORY_PAGE, undefined, mine);
    sendSpliced(conn.ws, welcome, this.#roster.welcomeJson(), [frame.history(page.events, page.more)]);
  }

  /**
   * Seminar: {send, Name, Text}. With a `cid` it is acked, and a resend is acked, not published
   * again. With `to`, a direct message for that buddy (on any server of the set) only.
   */
  #clientSend(conn: Connection, name: string, text: string, cid: string | undefined, to: string | undefined): void {
    const already = cid === undefined ? undefined : this.#history.published(name, cid);
    if (already) {
      sendFrame(conn.ws, frame.ack(cid!, already));
      return;
    }
    const extra = { text, ...(cid ? { cid } : {}) };
    let event: ChatEvent;
    if (to === undefined) event = this.#event('message', name, extra);
    else {
      const addressee = this.#addressee(name, to);
      if (!addressee.ok) return this.#sendError(conn, addressee.error);
      event = this.#event('direct', name, { to: addressee.value, ...extra });
    }
    this.#publish(event);
    if (cid) sendFrame(conn.ws, frame.ack(cid, event.id));
  }

  /** Whom `name` writes to when it says `to`: someone else in the chat, as that buddy's name is spelt. */
  #addressee(name: string, to: string): Result<string> {
    const holder = this.#roster.holder(to);
    if (holder && holder.name !== name) return ok(holder.name);
    return fail(ErrorCode.NO_SUCH_BUDDY, holder ? 'a direct message goes to someone else' : `nobody called "${to}" is in the chat`);
  }

  /** A whole upload of this server's client `name` (file-http.ts checked it): its `file` event. */
  #publishFile(name: string, file: FileInfo, to: string | undefined, cid: string | undefined): ChatEvent {
    const addressee = to === undefined ? undefined : this.#addressee(name, to);
    const event = this.#event('file', name, { file, ...(addressee?.ok ? { to: addressee.value } : {}), ...(cid ? { cid } : {}) });
    this.#publish(event);
    const conn = this.#clientConnection(name);
    if (cid && conn) sendFrame(conn.ws, frame.ack(cid, event.id));
    return event;
  }

  /** The resume key of `name`'s session (any server of the set): what its file token is made over. */
  #sessionKey(name: string): string | undefined {
    const holder = this.#roster.holder(name);
    return holder && holder.name === name ? holder.key : undefined;
  }

  /** Presence by hand: a `presence` event when it changes (the holder keeps it across a resume). */
  #setStatus(name: string, status: Status): void {
    const holder = this.#roster.holder(name);
    if (!holder || (holder.status ?? 'available') === status) return;
    this.#roster.setStatus(holder, status);
    this.#publish(this.#event('presence', name, { status }));
  }

  /** Full-text search: SQLite's index where there is a data folder, the history in memory otherwise. */
  async #search(conn: Connection, name: string, query: string, limit: number): Promise<void> {
    const mine = (e: ChatEvent) => visibleTo(e, name);
    const events = this.#store
      ? (await this.#store.search(query, name, limit)).flatMap((id) => this.#history.get(id) ?? []).filter(mine)
      : this.#history.search(query, limit, mine);
    sendFrame(conn.ws, frame.searchResults(query, events));
  }

  /** "Typing…": relayed, never kept; at most one every TYPING_EVERY_MS per client counts. */
  #typing(conn: Connection, name: string, to: string | undefined): void {
    const now = Date.now();
    if (now - (conn.typedAt ?? 0) < TYPING_EVERY_MS) return;
    conn.typedAt = now;
    const holder = to === undefined ? undefined : this.#roster.holder(to);
    if (to !== undefined && (!holder || holder.name === name)) return; // to nobody: nothing to tell
    const typing = frame.isTyping(name, this.url, holder?.name);
    const data = encode(typing);
    this.#clients.typing(typing, data);
    this.#mesh.broadcast(data);
  }

  #clientConnection(name: string): Connection | undefined {
    return [...this.#connections.values()].find((c) => c.role.kind === 'client' && c.role.name === name);
  }

  /** The client's connection dropped: `away` now, `leave` when the grace period ends without it. */
  #clientAway(name: string): void {
    this.#clients.remove(name);
    const holder = this.#roster.holder(name);
    if (!holder || holder.server !== this.url || holder.name !== name) return;
    holder.away = true;
    this.#publish(this.#event('away', name));
    this.#grace.start(name, () => {
      const now = this.#roster.holder(name);
      if (now?.server === this.url && now.away) this.#removeClient(name);
    });
  }

  #clientLeave(conn: Connection, joined: string, named: string): void {
    if (named !== joined) {
      this.#sendError(conn, nameMismatch(joined));
      return;
    }
    // The leaver hears its own `leave`, then `exit` (seminar: From ! exit), then is removed.
    this.#publish(this.#event('leave', joined));
    this.#clients.flush();
    sendFrame(conn.ws, frame.exit());
    conn.role = { kind: 'gone' };
    this.#clients.remove(joined);
    this.#roster.remove(this.url, joined);
    closeWith(conn.ws, CloseCode.NORMAL, LEFT_REASON);
  }

  /** A client is gone (vanished, too slow, flooding, or lost its name): everyone sees it leave. */
  #removeClient(name: string): void {
    this.#clients.remove(name);
    if (this.#roster.remove(this.url, name)) this.#publish(this.#event('leave', name));
  }

  /**
   * LocalClients calls this for each client that fell too far behind, after removing it. Dropping
   * one publishes its `leave`, whose broadcast can find more slow clients: they are queued and
   * dropped here one after another, never by recursion (thousands of slow readers would overflow
   * the stack), and each is logged once.
   */
  #dropSlow(client: LocalClient): void {
    this.#slow.push(client);
    if (this.#droppingSlow) return;
    this.#droppingSlow = true;
    try {
      for (let next = this.#slow.shift(); next; next = this.#slow.shift()) {
        this.#log.warn({ name: next.name }, 'client too slow; dropping');
        const conn = this.#connections.get(next.ws);
        if (conn) this.#kick(conn, ErrorCode.SLOW_CONSUMER, 'you fell too far behind');
        else this.#removeClient(next.name);
      }
    } finally {
      this.#droppingSlow = false;
    }
  }

  // --- events: each is serialized once and goes to this server's clients and every peer

  /** A new event of this server's, about one of its clients (event-clock.ts gives its place in the order). */
  #event(type: 'join' | 'back', name: string, extra: { key: string }): ChatEvent;
  #event(type: 'message', name: string, extra: { text: string; cid?: string }): ChatEvent;
  #event(type: 'direct', name: string, extra: { to: string; text: string; cid?: string }): ChatEvent;
  #event(type: 'leave' | 'away', name: string): ChatEvent;
  #event(type: 'presence', name: string, extra: { status: Status }): ChatEvent;
  #event(type: 'file', name: string, extra: { file: FileInfo; to?: string; cid?: string }): ChatEvent;
  #event(
    type: ChatEvent['type'],
    name: string,
    extra: { key?: string; text?: string; cid?: string; to?: string; status?: Status; file?: FileInfo } = {},
  ): ChatEvent {
    return this.#events.next(type, name, this.url, extra);
  }

  /**
   * A notice for this server's clients only, not part of the set's history: a buddy of another
   * server is away, back or gone because that server is unreachable from here.
   */
  #notice(type: 'away' | 'back' | 'leave', name: string, server: string): void {
    const event = this.#events.notice(type, name, server);
    // Batched like events: a lost server's thousands of buddies are a few frames to each client.
    this.#clients.deliver(event);
    this.emit('event', event);
  }

  #publish(event: ChatEvent): void {
    const data = encode(event);
    this.#history.add(event, data.length);
    this.#clients.deliver(event, data);
    this.#mesh.broadcast(data); // every server keeps every event, direct messages included
    this.emit('event', event);
  }

  /** A client of this server lost its name to an earlier claim on another server. */
  #evict(name: string): boolean {
    const conn = this.#clientConnection(name);
    if (!conn) return false;
    this.#sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `"${name}" was taken on another server at the same instant; join again with another name` });
    this.#kick(conn, ErrorCode.NAME_TAKEN, 'name taken elsewhere first');
    return true;
  }

  // --- peers (seminar: server_join_req, update_servers; RelayMessage is in peer-relay.ts)

  async #serverJoin(conn: Connection, from: string): Promise<void> {
    this.#handshakeOver(conn);
    conn.role = { kind: 'linking' };
    const link = await this.#mesh.accept(conn.ws, from);
    if (conn.role.kind !== 'linking') return; // closed meanwhile
    conn.role = link ? { kind: 'peer', link } : { kind: 'gone' };
  }

  /** New keys for the set (adopted from a peer, or a new invite here): kept, served, and passed on. */
  #onKeysChanged(keys: SetKeys): void {
    this.#saveKeys(keys);
    if (keys.cert && keys.key) this.#listener?.setCertificate({ cert: keys.cert, key: keys.key });
    this.#mesh.broadcast(encode(frame.setKeys(keys)));
    this.emit('keys');
  }

  #saveKeys(keys: SetKeys, onError?: () => void): void {
    if (this.#data === MEMORY) return;
    try {
      saveSetKeys(this.#data, keys, this.#secretsCodec);
    } catch (err) {
      onError?.();
      throw new StoreError(`cannot keep the chat's keys in ${this.#data}: ${(err as Error).message}`);
    }
  }

  #onServersChanged(servers: string[]): void {
    this.#store?.setPeers(this.#mesh.knownPeers());
    this.#clients.broadcast(encode(frame.updateServers(servers)));
    this.emit('servers', servers);
  }
}

const notJoined: ChatError = { code: ErrorCode.NOT_JOINED, message: 'send client_join_req first' };
const nameMismatch = (joined: string): ChatError => ({
  code: ErrorCode.NAME_MISMATCH,
  message: `this connection joined as "${joined}"`,
});

const withoutType = ({ type: _type, ...keys }: { type: 'set_keys' } & SetKeys): SetKeys => keys;

/** What servers keep of a resume token: enough to check it, not to use it. */
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
