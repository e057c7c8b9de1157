// A Chatty node: the seminar's `server` and `server2` in one. Alone it is the single server; with
// peers it is one of the replicated servers. Transport is plugged in: `handle(ws)` takes any
// accepted WebSocket, and `ChatNode.start()` puts the usual listener (listener.ts) around it.
// This file is the seminar's server loop: one dispatcher decides what each role may send.
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type WebSocket from 'ws';
import { pino, type Logger } from 'pino';
import { CloseCode, ErrorCode, type ChatError } from '../shared/errors.js';
import { decodeServerInbound, frame, Limits, type ChatEvent, type Roster as RosterFrame, type Welcome } from '../shared/protocol.js';
import { advertisedUrl } from './address.js';
import { Heartbeat } from './heartbeat.js';
import { AddressLimits, resolveLimits, TokenBucket, type ServerLimits } from './limits.js';
import { Listener, NodeStartError } from './listener.js';
import { LocalClients, type LocalClient } from './local-clients.js';
import { Mesh, type PeerLink } from './mesh.js';
import { OriginPolicy } from './origin.js';
import { judgeClaim, judgePeerEvent } from './peer-events.js';
import { Roster, type Holder } from './roster.js';
import { closeWith, encode, sendFrame } from './wire.js';

export { NodeStartError };

export interface ChatNodeOptions {
  /** TCP port to listen on; 0 picks a free one. Default 4000. */
  port?: number;
  /** Interface to bind: 127.0.0.1 (this machine only) or 0.0.0.0 (the LAN). Default 127.0.0.1. */
  bind?: string;
  /** The address other servers and clients reach this node at. Default: derived from bind and port. */
  advertise?: string;
  /** A member of an existing set to join as a replica (seminar: server2:start(BootServer)). */
  join?: string;
  /** Ping period; a socket that misses one ping is dropped. 0 turns it off. Default 10,000 ms. */
  heartbeatMs?: number;
  /** A connection must send its first frame within this. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** A client with more unsent bytes than this is dropped as too slow. Default 1 MiB. */
  maxClientBufferedBytes?: number;
  /** A peer server with more unsent bytes than this is dropped. Default 64 MiB. */
  maxPeerBufferedBytes?: number;
  /** Rates and counts per client, address and peer (limits.ts). Default: DEFAULT_LIMITS. */
  limits?: Partial<ServerLimits>;
  /** Web origins allowed besides this server's and its set's own pages; `*` allows any. Default none. */
  allowedOrigins?: string[];
  /** Serves plain HTTP requests on the same port (the browser UI). Default: a short notice. */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** pino logger. Default: silent. */
  logger?: Logger;
}

export interface ChatNodeEvents {
  /** The set of servers changed (seminar: `[SERVER UPDATE]`). */
  servers: [servers: string[]];
  /** A join, leave or message was relayed to this node's clients. */
  event: [event: ChatEvent];
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
}

/** Refused peer frames are logged this many times per link, then once every thousand. */
const PEER_REFUSALS_LOGGED = 10;

export class ChatNode extends EventEmitter<ChatNodeEvents> {
  readonly url: string;
  readonly limits: Readonly<ServerLimits>;
  readonly #log: Logger;
  readonly #nodeId = randomBytes(4).toString('hex');
  #seq = 0;
  readonly #heartbeat: Heartbeat;
  readonly #clients: LocalClients;
  readonly #roster = new Roster();
  readonly #mesh: Mesh;
  readonly #connections = new Map<WebSocket, Connection>();
  readonly #addresses: AddressLimits;
  readonly #handshakeTimeoutMs: number;
  readonly #peerRefusals = new WeakMap<PeerLink, number>();
  /** Slow clients waiting to be dropped; see #dropSlow. */
  readonly #slow: LocalClient[] = [];
  #droppingSlow = false;
  #listener: Listener | undefined;
  #stopping: Promise<void> | undefined;

  /** A node with no listener: feed it sockets with handle(). Most callers want ChatNode.start(). */
  constructor(url: string, options: ChatNodeOptions = {}) {
    super();
    this.url = url;
    this.limits = resolveLimits(options.limits);
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.#heartbeat = new Heartbeat(options.heartbeatMs ?? 10_000);
    this.#addresses = new AddressLimits(this.limits);
    this.#clients = new LocalClients(options.maxClientBufferedBytes ?? 1024 * 1024, (c) => this.#dropSlow(c));
    this.#mesh = new Mesh({
      self: url,
      heartbeat: this.#heartbeat,
      maxPeerBufferedBytes: options.maxPeerBufferedBytes ?? 64 * 1024 * 1024,
      dialTimeoutMs: 5_000,
      aliveCheckMs: 2_000,
      dialBurst: this.limits.dialBurst,
      dialRate: this.limits.dialRate,
      log: this.#log,
      handlers: {
        onEvent: (link, event, raw) => this.#onPeerEvent(link, event, raw),
        onRoster: (link, roster) => this.#onPeerRoster(link, roster),
        onLinkUp: (link) => this.#sendRoster(link),
        onLinkDown: (url) => this.#onPeerGone(url),
        onServersChanged: (servers) => this.#onServersChanged(servers),
      },
    });
    this.#heartbeat.start();
  }

  /** Listen on HTTP + WebSocket, and join `options.join` if given. */
  static async start(options: ChatNodeOptions = {}): Promise<ChatNode> {
    const bind = options.bind ?? '127.0.0.1';
    let node: ChatNode | undefined;
    const listener = await Listener.listen({
      port: options.port ?? 4000,
      bind,
      httpHandler: options.httpHandler ?? notAWebPage,
      origins: new OriginPolicy({
        port: () => node?.port,
        servers: () => node?.servers() ?? [],
        allowed: options.allowedOrigins ?? [],
      }),
      log: options.logger ?? pino({ level: 'silent' }),
      onConnection: (ws, address) => (node ? node.handle(ws, address) : ws.terminate()),
    });
    node = new ChatNode(options.advertise ?? advertisedUrl(bind, listener.port), options);
    node.#listener = listener;
    if (options.join) {
      try {
        await node.#mesh.join(options.join);
      } catch (err) {
        await node.disconnect();
        throw new NodeStartError('JOIN_FAILED', (err as Error).message);
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
  buddies(): Welcome['buddies'] {
    return this.#roster.buddies();
  }

  /** Names of the clients connected to this server (seminar: `Clients`). */
  localClients(): string[] {
    return this.#clients.names();
  }

  /** Take over an accepted WebSocket; its first frame says whether it is a client or a server. */
  handle(ws: WebSocket, address = 'unknown'): void {
    if (!this.#addresses.openPending(address)) {
      sendFrame(ws, frame.error(ErrorCode.SERVER_FULL, 'too many connections that have not joined yet; try again later'));
      closeWith(ws, CloseCode.TRY_AGAIN_LATER, ErrorCode.SERVER_FULL);
      return;
    }
    const conn: Connection = {
      ws,
      role: { kind: 'new' },
      address,
      pending: true,
      handshakeTimer: undefined,
      bucket: new TokenBucket(this.limits.clientBurst, this.limits.clientRate),
      refusedInARow: 0,
    };
    this.#connections.set(ws, conn);
    this.#heartbeat.track(ws);
    conn.handshakeTimer = setTimeout(() => {
      if (conn.role.kind !== 'new') return;
      this.#sendError(conn, { code: ErrorCode.HANDSHAKE_TIMEOUT, message: 'no client_join_req or server_join_req in time' });
      closeWith(ws, CloseCode.POLICY, ErrorCode.HANDSHAKE_TIMEOUT);
    }, this.#handshakeTimeoutMs);
    conn.handshakeTimer.unref();
    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(conn, data, isBinary));
    ws.on('close', () => this.#onClose(conn));
    // ws reports protocol errors (oversized or malformed frames) here and closes the socket itself.
    ws.on('error', (err) => this.#log.debug({ err: err.message }, 'socket error'));
  }

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
    const sockets = [...this.#connections.keys()];
    if (this.#listener) await this.#listener.close(sockets);
    else for (const ws of sockets) ws.terminate();
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
    switch (msg.type) {
      case 'client_join_req':
        if (role.kind === 'client') return this.#sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: `already joined as "${role.name}"` });
        return this.#clientJoin(conn, msg.name);
      case 'client_leave_req':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        return this.#clientLeave(conn, role.name, msg.name);
      case 'send':
        if (role.kind !== 'client') return this.#sendError(conn, notJoined);
        if (msg.name !== role.name) return this.#sendError(conn, nameMismatch(role.name));
        this.#publish(this.#event('message', role.name, msg.text));
        return;
      case 'server_join_req':
        if (role.kind === 'client') return this.#sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: 'this connection is a client' });
        void this.#serverJoin(conn, msg.from);
        return;
      case 'update_servers':
      case 'roster':
      case 'join':
      case 'leave':
      case 'message':
        return this.#sendError(conn, { code: ErrorCode.NOT_A_SERVER, message: `${msg.type} is for servers; open with server_join_req` });
    }
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

  #onClose(conn: Connection): void {
    clearTimeout(conn.handshakeTimer);
    this.#connections.delete(conn.ws);
    this.#notPending(conn);
    const { role } = conn;
    conn.role = { kind: 'gone' };
    // A client that vanished without client_leave_req has left all the same.
    if (role.kind === 'client' && !this.#stopping) this.#removeClient(role.name);
  }

  #notPending(conn: Connection): void {
    if (!conn.pending) return;
    conn.pending = false;
    this.#addresses.closePending(conn.address);
  }

  /** Close a connection for cause; a client's buddies see it leave. */
  #kick(conn: Connection, code: ErrorCode, message: string): void {
    const { role } = conn;
    conn.role = { kind: 'gone' };
    closeWith(conn.ws, CloseCode.POLICY, `${code}: ${message}`);
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
    if (this.#clients.size >= this.limits.maxClients) {
      this.#sendError(conn, { code: ErrorCode.SERVER_FULL, message: `this server has its ${this.limits.maxClients} clients; try another server of the set` });
      return;
    }
    if (!this.#addresses.takeJoin(conn.address)) {
      this.#sendError(conn, { code: ErrorCode.RATE_LIMITED, message: 'too many joins from your address; try again in a few seconds' });
      return;
    }
    clearTimeout(conn.handshakeTimer);
    this.#notPending(conn);
    conn.role = { kind: 'client', name };
    const join = this.#event('join', name);
    this.#clients.add({ name, ws: conn.ws });
    this.#roster.add(this.url, name, join.ts);
    sendFrame(conn.ws, frame.welcome(name, this.url, this.servers(), this.#roster.buddies()));
    this.#publish(join);
  }

  #clientLeave(conn: Connection, joined: string, named: string): void {
    if (named !== joined) {
      this.#sendError(conn, nameMismatch(joined));
      return;
    }
    // The leaver hears its own `leave`, then `exit` (seminar: From ! exit), then is removed.
    this.#publish(this.#event('leave', joined));
    sendFrame(conn.ws, frame.exit());
    conn.role = { kind: 'gone' };
    this.#clients.remove(joined);
    this.#roster.remove(this.url, joined);
    closeWith(conn.ws, CloseCode.NORMAL, 'left');
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

  /** A new event; `server` is where the buddy is (this server unless a peer vanished). */
  #event(type: ChatEvent['type'], name: string, text = '', server = this.url): ChatEvent {
    const meta = { id: `${this.#nodeId}-${++this.#seq}`, server, ts: Date.now() };
    return type === 'message' ? { type, name, text, ...meta } : { type, name, ...meta };
  }

  #publish(event: ChatEvent): void {
    const data = encode(event);
    this.#clients.broadcast(data);
    this.#mesh.broadcast(data);
    this.emit('event', event);
  }

  // --- peers (seminar: server_join_req, update_servers, RelayMessage)

  async #serverJoin(conn: Connection, from: string): Promise<void> {
    clearTimeout(conn.handshakeTimer);
    this.#notPending(conn);
    conn.role = { kind: 'linking' };
    const link = await this.#mesh.accept(conn.ws, from);
    if (conn.role.kind !== 'linking') return; // closed meanwhile
    conn.role = link ? { kind: 'peer', link } : { kind: 'gone' };
  }

  /**
   * Seminar: `RelayMessage` — what a peer forwards goes to this server's clients as it is, once it
   * passes the peer rules (peer-events.ts). A `ts` far from this server's clock is replaced.
   */
  #onPeerEvent(link: PeerLink, event: ChatEvent, raw: Buffer): void {
    const now = Date.now();
    if (Math.abs(event.ts - now) > this.limits.maxClockSkewMs) {
      event = { ...event, ts: now };
      raw = encode(event);
    }
    const verdict = judgePeerEvent(event, { roster: this.#roster, peer: link.url, maxClients: this.limits.maxClients, now });
    if (!verdict.ok) return this.#refusePeer(link, verdict.reason, event.type, event.name);
    if (verdict.displaced) this.#displace(verdict.displaced);
    if (event.type === 'join') this.#roster.add(link.url, event.name, event.ts);
    if (event.type === 'leave') this.#roster.remove(link.url, event.name);
    this.#clients.broadcast(raw);
    this.emit('event', event);
  }

  /** Two servers gave one name away at the same instant, and the other claim came first. */
  #displace(holder: Holder): void {
    this.#log.info({ name: holder.name, server: holder.server }, 'name claimed first on another server');
    if (holder.server === this.url) {
      const conn = [...this.#connections.values()].find((c) => c.role.kind === 'client' && c.role.name === holder.name);
      if (conn) {
        this.#sendError(conn, {
          code: ErrorCode.NAME_LOST,
          message: `"${holder.name}" was taken on another server at the same instant; join again with another name`,
        });
        this.#kick(conn, ErrorCode.NAME_LOST, 'name taken elsewhere first');
        return;
      }
    }
    this.#roster.remove(holder.server, holder.name);
    this.#emitLocalLeave(holder.name, holder.server);
  }

  #refusePeer(link: PeerLink, reason: string, type: string, name?: string): void {
    const count = (this.#peerRefusals.get(link) ?? 0) + 1;
    this.#peerRefusals.set(link, count);
    if (count <= PEER_REFUSALS_LOGGED || count % 1000 === 0) {
      this.#log.warn({ peer: link.url, type, name, reason, count }, 'refused a frame from a peer');
    }
  }

  #sendRoster(link: PeerLink): void {
    this.#roster.dropServer(link.url); // it is about to tell us afresh
    const names = this.#clients.names();
    for (let i = 0; i < names.length; i += Limits.ROSTER_CHUNK) {
      this.#mesh.sendTo(link, encode(frame.roster(this.url, names.slice(i, i + Limits.ROSTER_CHUNK))));
    }
  }

  /** A peer's own buddies; each name is judged like a join (and never displaces anyone). */
  #onPeerRoster(link: PeerLink, roster: RosterFrame): void {
    if (roster.server !== link.url) return this.#refusePeer(link, `roster under another server's address (${roster.server})`, 'roster');
    const accepted: string[] = [];
    const now = Date.now();
    for (const name of roster.names) {
      const verdict = judgeClaim(name, 0, { roster: this.#roster, peer: link.url, maxClients: this.limits.maxClients, now });
      if (!verdict.ok) {
        this.#refusePeer(link, verdict.reason, 'roster', name);
        continue;
      }
      this.#roster.add(link.url, name);
      accepted.push(name);
    }
    if (accepted.length) this.#clients.broadcast(encode(frame.roster(link.url, accepted)));
  }

  /** A peer left or failed: its buddies leave, as far as this server's clients can tell. */
  #onPeerGone(url: string): void {
    for (const name of this.#roster.dropServer(url)) this.#emitLocalLeave(name, url);
  }

  /** A `leave` this server's clients see for a buddy of another server (not sent to peers). */
  #emitLocalLeave(name: string, server: string): void {
    const event = this.#event('leave', name, '', server);
    this.#clients.broadcast(encode(event));
    this.emit('event', event);
  }

  #onServersChanged(servers: string[]): void {
    this.#clients.broadcast(encode(frame.updateServers(servers)));
    this.emit('servers', servers);
  }
}

const notJoined: ChatError = { code: ErrorCode.NOT_JOINED, message: 'send client_join_req first' };
const nameMismatch = (joined: string): ChatError => ({
  code: ErrorCode.NAME_MISMATCH,
  message: `this connection joined as "${joined}"`,
});

function notAWebPage(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' });
  res.end('This is a Chatty server: connect with the Chatty app or `chatty client`.\n');
}
