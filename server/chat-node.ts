// A Chatty node: the seminar's `server` and `server2` in one. Alone it is the single server; with
// peers it is one of the replicated servers. Transport is plugged in: `handle(ws)` takes any
// accepted WebSocket, and `ChatNode.start()` is the usual HTTP + WebSocket listener around it.
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { pino, type Logger } from 'pino';
import { CloseCode, ErrorCode, type ChatError } from '../shared/errors.js';
import {
  decodeServerInbound,
  frame,
  Limits,
  type ChatEvent,
  type Roster as RosterFrame,
  type Welcome,
} from '../shared/protocol.js';
import { advertisedUrl } from './address.js';
import { Heartbeat } from './heartbeat.js';
import { LocalClients, type LocalClient } from './local-clients.js';
import { Mesh, type PeerLink } from './mesh.js';
import { Roster } from './roster.js';
import { closeWith, encode, sendFrame } from './wire.js';

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

type Role =
  | { kind: 'new' }
  | { kind: 'client'; name: string }
  | { kind: 'peer'; link: PeerLink }
  | { kind: 'gone' };

interface Connection {
  ws: WebSocket;
  role: Role;
  handshakeTimer: NodeJS.Timeout | undefined;
}

/** Thrown by start() with a code a CLI or UI can explain in one line. */
export class NodeStartError extends Error {
  constructor(
    readonly code: 'PORT_IN_USE' | 'BIND_FAILED' | 'JOIN_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export class ChatNode extends EventEmitter<ChatNodeEvents> {
  readonly url: string;
  readonly #log: Logger;
  readonly #nodeId = randomBytes(4).toString('hex');
  #seq = 0;
  readonly #heartbeat: Heartbeat;
  readonly #clients: LocalClients;
  readonly #roster = new Roster();
  readonly #mesh: Mesh;
  readonly #connections = new Set<Connection>();
  readonly #handshakeTimeoutMs: number;
  #http: Server | undefined;
  #wss: WebSocketServer | undefined;
  #stopping: Promise<void> | undefined;

  /** A node with no listener: feed it sockets with handle(). Most callers want ChatNode.start(). */
  constructor(url: string, options: ChatNodeOptions = {}) {
    super();
    this.url = url;
    this.#log = options.logger ?? pino({ level: 'silent' });
    this.#handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.#heartbeat = new Heartbeat(options.heartbeatMs ?? 10_000);
    this.#clients = new LocalClients(options.maxClientBufferedBytes ?? 1024 * 1024, (c) => this.#dropSlow(c));
    this.#mesh = new Mesh({
      self: url,
      heartbeat: this.#heartbeat,
      maxPeerBufferedBytes: options.maxPeerBufferedBytes ?? 64 * 1024 * 1024,
      dialTimeoutMs: 5_000,
      log: this.#log,
      handlers: {
        onEvent: (event, raw) => this.#relayFromPeer(event, raw),
        onRoster: (roster) => this.#onPeerRoster(roster),
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
    const http = createServer(options.httpHandler ?? notAWebPage);
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err: NodeJS.ErrnoException) => {
        const port = options.port ?? 4000;
        reject(
          err.code === 'EADDRINUSE'
            ? new NodeStartError('PORT_IN_USE', `port ${port} is already in use on ${bind}`)
            : new NodeStartError('BIND_FAILED', `cannot listen on ${bind}:${port}: ${err.code ?? err.message}`),
        );
      });
      http.listen(options.port ?? 4000, bind, () => resolve());
    });
    const port = (http.address() as AddressInfo).port;
    const node = new ChatNode(options.advertise ?? advertisedUrl(bind, port), options);
    node.#attach(http);
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
    const address = this.#http?.address();
    return address && typeof address === 'object' ? address.port : undefined;
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
  handle(ws: WebSocket): void {
    const conn: Connection = { ws, role: { kind: 'new' }, handshakeTimer: undefined };
    this.#connections.add(conn);
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
    for (const conn of this.#connections) {
      if (conn.role.kind === 'client') {
        this.#sendError(conn, { code: ErrorCode.SERVER_STOPPING, message: 'the server disconnected' });
      }
      conn.role = { kind: 'gone' };
      closeWith(conn.ws, CloseCode.GOING_AWAY, 'server disconnect');
    }
    this.#heartbeat.stop();
    const sockets = [...this.#connections].map((c) => c.ws);
    await Promise.race([
      Promise.all(sockets.map((ws) => ws.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => ws.once('close', r)))),
      new Promise((r) => setTimeout(r, 1_000).unref()),
    ]);
    for (const ws of sockets) ws.terminate();
    this.#wss?.close();
    if (this.#http) {
      const http = this.#http;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    this.emit('disconnect');
  }

  #attach(http: Server): void {
    this.#http = http;
    this.#wss = new WebSocketServer({ server: http, maxPayload: Limits.MAX_FRAME_BYTES });
    this.#wss.on('connection', (ws) => this.handle(ws));
    this.#wss.on('error', (err) => this.#log.error({ err: err.message }, 'listener error'));
  }

  // --- dispatch: one place decides what each role may send

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    const { role } = conn;
    if (role.kind === 'gone') return;
    if (role.kind === 'peer') return this.#mesh.receive(role.link, data, isBinary);
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
      case 'server_join_req': {
        if (role.kind === 'client') return this.#sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: 'this connection is a client' });
        clearTimeout(conn.handshakeTimer);
        const link = this.#mesh.accept(conn.ws, msg.from);
        conn.role = link ? { kind: 'peer', link } : { kind: 'gone' };
        return;
      }
      case 'update_servers':
      case 'roster':
      case 'join':
      case 'leave':
      case 'message':
        return this.#sendError(conn, { code: ErrorCode.NOT_A_SERVER, message: `${msg.type} is for servers; open with server_join_req` });
    }
  }

  /** Errors go to clients as frames (peers are answered by nobody: see Mesh.receive). */
  #sendError(conn: Connection, error: ChatError): void {
    sendFrame(conn.ws, frame.error(error.code, error.message));
  }

  #onClose(conn: Connection): void {
    clearTimeout(conn.handshakeTimer);
    this.#connections.delete(conn);
    const { role } = conn;
    conn.role = { kind: 'gone' };
    // A client that vanished without client_leave_req has left all the same.
    if (role.kind === 'client' && !this.#stopping) this.#removeClient(role.name);
  }

  // --- client requests (seminar: client_join_req, client_leave_req, send)

  #clientJoin(conn: Connection, name: string): void {
    if (this.#roster.hasName(name)) {
      this.#sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `the name "${name}" is already taken` });
      return;
    }
    clearTimeout(conn.handshakeTimer);
    conn.role = { kind: 'client', name };
    this.#clients.add({ name, ws: conn.ws });
    this.#roster.add(this.url, name);
    sendFrame(conn.ws, {
      type: 'welcome',
      name,
      server: this.url,
      servers: this.servers(),
      buddies: this.#roster.buddies(),
    } satisfies Welcome);
    this.#publish(this.#event('join', name));
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

  #removeClient(name: string): void {
    if (!this.#clients.remove(name)) return;
    this.#roster.remove(this.url, name);
    this.#publish(this.#event('leave', name));
  }

  #dropSlow(client: LocalClient): void {
    this.#log.warn({ name: client.name }, 'client too slow; dropping');
    for (const conn of this.#connections) if (conn.ws === client.ws) conn.role = { kind: 'gone' };
    closeWith(client.ws, CloseCode.POLICY, `${ErrorCode.SLOW_CONSUMER}: you fell too far behind`);
    setTimeout(() => client.ws.terminate(), 1_000).unref();
    this.#removeClient(client.name);
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

  /** Seminar: `RelayMessage` — whatever a peer forwards goes to this server's clients as it is. */
  #relayFromPeer(event: ChatEvent, raw: Buffer): void {
    if (event.type === 'join') this.#roster.add(event.server, event.name);
    if (event.type === 'leave') this.#roster.remove(event.server, event.name);
    this.#clients.broadcast(raw);
    this.emit('event', event);
  }

  // --- membership

  #sendRoster(link: PeerLink): void {
    this.#roster.dropServer(link.url); // it is about to tell us afresh
    const names = this.#clients.names();
    for (let i = 0; i < names.length; i += Limits.ROSTER_CHUNK) {
      sendFrame(link.ws, { type: 'roster', server: this.url, names: names.slice(i, i + Limits.ROSTER_CHUNK) } satisfies RosterFrame);
    }
  }

  #onPeerRoster(roster: RosterFrame): void {
    for (const name of roster.names) this.#roster.add(roster.server, name);
    this.#clients.broadcast(encode(roster));
  }

  /** A peer left or failed: its buddies leave, as far as this server's clients can tell. */
  #onPeerGone(url: string): void {
    for (const name of this.#roster.dropServer(url)) {
      const event = this.#event('leave', name, '', url);
      this.#clients.broadcast(encode(event));
      this.emit('event', event);
    }
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
