// The sockets connected to this server, from the upgrade to the close (the shape of aedes'
// lib/handlers): each gets `hello`, pays for every frame it sends, and its first frame gives it a
// role. One gate per role, then one switch: a connection still in its handshake may only join
// (as a client, with client_join_req) or link (as a server, with server_join_req) or ping; a
// joined client's requests go to client-requests.ts; a server's link is handed to the mesh, which
// owns its socket from then on. Each connection keeps its socket's Outlet (wire/), through which
// everything sent to it goes, in order.
import type { Logger } from 'pino';
import type WebSocket from 'ws';
import { type ChatError, CloseCode, closeReason, ErrorCode } from '../shared/errors.js';
import { type ClientJoinReq, type ClientRequest, decodeServerInbound, type DeviceProof, frame, isPeerFrame, type Status } from '../shared/protocol.js';
import { Access, type AccessVerdict, type Challenge } from './access.js';
import { deviceProofFault } from './device-proof.js';
import type { Heartbeat } from './heartbeat.js';
import { type AddressLimits, type ServerLimits, TokenBucket } from './limits.js';
import { type Outlet, Wire } from './wire/wire.js';

/** What a connection is to this server: in its handshake, a joined client, or done with. */
export type Role = { kind: 'new' } | { kind: 'client'; name: string } | { kind: 'gone' };

export interface Connection {
  readonly ws: WebSocket;
  /** Its write end: everything sent to it goes through here. */
  readonly outlet: Outlet;
  role: Role;
  /** The IP address it came from (per-address limits). */
  readonly address: string;
  /** Counted among the sockets that have not joined yet. */
  pending: boolean;
  handshakeTimer: NodeJS.Timeout | undefined;
  /** Frames this client may still send now. */
  readonly bucket: TokenBucket;
  /** Frames refused in a row for going over the rate. */
  refusedInARow: number;
  /** It broke the protocol (an oversized or malformed frame): its close is no network accident. */
  broke?: boolean;
  /** The device key it proved when it joined, if it has one (docs/protocol.md § Identity). */
  device?: string;
  /** Its device proof is being checked (off this thread): frames that come meanwhile wait here, in order. */
  held?: Array<[Buffer, boolean]>;
  /** What its `hello` said, until it joined: proofs are made over it. */
  challenge: Challenge | undefined;
  /** When its last "typing" counted (they are rate-limited). */
  typedAt?: number;
  /** A search of its is under way (one at a time). */
  searching?: boolean;
  /** Bytes of history pages and search results it was served, against its rate (made at its first request). */
  served?: TokenBucket;
  /** The presence it asked for last, and the window in which more changes wait (coalesced). */
  wantedStatus?: Status;
  presenceTimer?: NodeJS.Timeout;
}

/** A joined client's requests: all but those of the handshake (ping is answered in any role). */
export type JoinedRequest = Exclude<ClientRequest, ClientJoinReq | { type: 'ping' }>;

/** What becomes of a connection's frames and its close (client-requests.ts). */
export interface ClientHandlers {
  /** A client_join_req whose proof (if the chat asks for one) was right: join, or resume. */
  join(conn: Connection, msg: ClientJoinReq): void;
  /** `token` is the resume token of the session holding `name` (it needs no proof to come back). */
  holdsSession(name: string, token: string): boolean;
  /** A request of the client joined on `conn` as `name`. */
  request(conn: Connection, name: string, msg: JoinedRequest): void;
  /** The client's connection vanished (no close frame, it gave up on a silent server, or its page went away): it may come back. */
  vanished(name: string): void;
  /** The client is gone: it closed on purpose, broke the protocol, or was cut off. */
  gone(name: string): void;
}

export interface ConnectionsDeps {
  access: Access;
  heartbeat: Heartbeat;
  addresses: AddressLimits;
  limits: Readonly<ServerLimits>;
  handshakeTimeoutMs: number;
  log: Logger;
  clients: ClientHandlers;
  /** A server proved the set's secret (or an invite) with server_join_req: the mesh takes its socket. */
  acceptLink(outlet: Outlet, from: string): void;
}

/** An error frame to a client (peers are answered by nobody: see Mesh.receive); with `cid`, the client's send it refuses for good. */
export function sendError(conn: Connection, error: ChatError, cid?: string): void {
  conn.outlet.send(frame.error(error.code, error.message, cid));
}

const notJoined: ChatError = { code: ErrorCode.NOT_JOINED, message: 'send client_join_req first' };

export class Connections {
  /** The node's sending: every outlet of its sockets, client and server alike, writes in its turn. */
  readonly wire = new Wire();
  readonly #table = new Map<WebSocket, Connection>();
  #stopping = false;

  constructor(private readonly deps: ConnectionsDeps) {}

  /**
   * Take over an accepted WebSocket: it gets `hello`, and its first frame says whether it is a
   * client or a server. `binding`: the TLS channel binding proofs on it are made over.
   */
  handle(ws: WebSocket, address: string, binding: Uint8Array | undefined): void {
    const { access, addresses, heartbeat, limits } = this.deps;
    const outlet = this.wire.outlet(ws);
    if (!addresses.openPending(address)) {
      outlet.send(frame.error(ErrorCode.SERVER_FULL, 'too many connections that have not joined yet; try again later'));
      outlet.close(CloseCode.TRY_AGAIN_LATER, closeReason(ErrorCode.SERVER_FULL));
      return;
    }
    const challenge = Access.challenge(binding);
    const conn: Connection = {
      ws,
      outlet,
      role: { kind: 'new' },
      address,
      pending: true,
      handshakeTimer: undefined,
      bucket: new TokenBucket(limits.clientBurst, limits.clientRate),
      refusedInARow: 0,
      challenge,
    };
    this.#table.set(ws, conn);
    outlet.send(access.hello(challenge));
    heartbeat.trackPongs(ws);
    conn.handshakeTimer = setTimeout(() => {
      if (conn.role.kind !== 'new') return;
      sendError(conn, { code: ErrorCode.HANDSHAKE_TIMEOUT, message: 'no client_join_req or server_join_req in time' });
      outlet.close(CloseCode.POLICY, closeReason(ErrorCode.HANDSHAKE_TIMEOUT));
    }, this.deps.handshakeTimeoutMs);
    conn.handshakeTimer.unref();
    ws.on('message', this.#listeners.message);
    ws.on('close', this.#listeners.close);
    ws.on('error', this.#listeners.error);
  }

  /** One set of listeners for every socket (`this` is the socket): thousands of connections hold no closures of their own. */
  readonly #listeners = ((connections: Connections) => ({
    message(this: WebSocket, data: Buffer, isBinary: boolean) {
      connections.deps.heartbeat.alive(this);
      const conn = connections.#table.get(this);
      if (conn) connections.#onMessage(conn, data, isBinary);
    },
    close(this: WebSocket, code: number) {
      connections.deps.heartbeat.forget(this);
      const conn = connections.#table.get(this);
      if (conn) connections.#onClose(conn, code);
    },
    // ws reports protocol errors (oversized or malformed frames) here and closes the socket itself.
    error(this: WebSocket, err: Error) {
      const conn = connections.#table.get(this);
      if (conn) conn.broke = true;
      connections.deps.log.debug({ err: err.message }, 'socket error');
    },
  }))(this);

  /** The node stops: clients are told, every connection closes; resolves with their sockets (the listener waits for them). */
  stop(): WebSocket[] {
    this.#stopping = true;
    for (const conn of this.#table.values()) {
      if (conn.role.kind === 'client') sendError(conn, { code: ErrorCode.SERVER_STOPPING, message: 'the server disconnected' });
      conn.role = { kind: 'gone' };
      conn.outlet.close(CloseCode.GOING_AWAY, 'server disconnect');
    }
    return [...this.#table.keys()];
  }

  /** Close a connection for cause; a client's buddies see it leave. */
  kick(conn: Connection, code: ErrorCode, message: string): void {
    const { role } = conn;
    conn.role = { kind: 'gone' };
    conn.outlet.close(CloseCode.POLICY, closeReason(code, message));
    setTimeout(() => conn.ws.terminate(), 1_000).unref();
    if (role.kind === 'client') this.deps.clients.gone(role.name);
  }

  /** The handshake is over (joined, linked or closed): no timer, and nothing kept of it — thousands of clients stay for hours. */
  handshakeOver(conn: Connection): void {
    clearTimeout(conn.handshakeTimer);
    conn.handshakeTimer = undefined;
    conn.challenge = undefined;
    if (!conn.pending) return;
    conn.pending = false;
    this.deps.addresses.closePending(conn.address);
  }

  // --- the gate: what each role may send

  #onMessage(conn: Connection, data: Buffer, isBinary: boolean): void {
    const { role } = conn;
    if (role.kind === 'gone') return;
    // Clients and unjoined sockets pay for every frame, before it is even parsed.
    if (!conn.bucket.take()) return this.#overRate(conn);
    conn.refusedInARow = 0;
    if (conn.held) return void conn.held.push([data, isBinary]);
    this.#dispatch(conn, data, isBinary);
  }

  /** A frame the connection paid for: decoded, then what its role may do with it. */
  #dispatch(conn: Connection, data: Buffer, isBinary: boolean): void {
    const { role } = conn;
    if (role.kind === 'gone') return; // closed while its frames waited
    if (isBinary) return sendError(conn, { code: ErrorCode.BINARY_FRAME, message: 'frames must be JSON text, not binary' });
    const decoded = decodeServerInbound(data.toString());
    if (!decoded.ok) return sendError(conn, decoded.error);
    const msg = decoded.value;
    switch (msg.type) {
      case 'ping':
        conn.outlet.send(frame.pong());
        return;
      case 'client_join_req':
        if (role.kind === 'client') return sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: `already joined as "${role.name}"` });
        // A session the chat admitted comes back with its resume token (a reloaded page has nothing
        // else); one that proves its credentials anyway is checked, and hears auth_ok, as always.
        if (!(msg.auth === undefined && msg.resume && this.deps.clients.holdsSession(msg.name, msg.resume.token))) {
          if (!this.#authorize(conn, this.deps.access.checkClient(msg.auth, conn.challenge!))) return;
        }
        if (msg.device) return this.#joinWithDevice(conn, msg, msg.device);
        return this.deps.clients.join(conn, msg);
      case 'server_join_req':
        if (role.kind === 'client') return sendError(conn, { code: ErrorCode.ALREADY_JOINED, message: 'this connection is a client' });
        if (!this.#authorize(conn, this.deps.access.checkLink(msg.auth, conn.challenge!), msg.from)) return;
        conn.outlet.send(frame.setKeys(this.deps.access.keys));
        return this.#handOver(conn, msg.from);
      default:
        if (isPeerFrame(msg)) return sendError(conn, { code: ErrorCode.NOT_A_SERVER, message: `${msg.type} is for servers; open with server_join_req` });
        if (role.kind !== 'client') return sendError(conn, notJoined);
        return this.deps.clients.request(conn, role.name, msg);
    }
  }

  /** A server's link: its socket leaves this table for the mesh, which reads it, watches it and closes it. */
  #handOver(conn: Connection, from: string): void {
    this.handshakeOver(conn);
    conn.role = { kind: 'gone' };
    this.#table.delete(conn.ws);
    conn.ws.off('message', this.#listeners.message);
    conn.ws.off('close', this.#listeners.close);
    conn.ws.off('error', this.#listeners.error);
    this.deps.heartbeat.untrack(conn.ws);
    this.deps.acceptLink(conn.outlet, from);
  }

  /**
   * A proof's verdict (undefined: none needed). Right: `auth_ok` proves the key back. Wrong or
   * missing: the error, and the connection closes; wrong ones count against the address. An
   * address over its rate is refused, unless it proved a random key (an invite, the secret): one
   * wrong guess too many from a shared address must not lock the right invite out.
   */
  #authorize(conn: Connection, verdict: AccessVerdict | undefined, server?: string): boolean {
    if (!verdict) return true;
    const { addresses, log } = this.deps;
    if ((!verdict.ok || verdict.guessable) && !addresses.mayTryAuth(conn.address)) {
      log.warn({ from: conn.address, server }, 'refused a proof: too many wrong ones from this address');
      this.#refuse(conn, { code: ErrorCode.RATE_LIMITED, message: 'too many wrong tries from your address: wait a minute' }, server !== undefined);
      return false;
    }
    if (!verdict.ok) {
      if (verdict.code === ErrorCode.AUTH_FAILED) addresses.authFailed(conn.address);
      log.warn(
        { from: conn.address, server, code: verdict.code },
        server ? "refused a server that did not prove the set's secret" : 'refused a client without a valid invite',
      );
      this.#refuse(conn, { code: verdict.code, message: verdict.message }, server !== undefined);
      return false;
    }
    clearTimeout(conn.handshakeTimer);
    conn.outlet.send(frame.authOk(verdict.proof));
    return true;
  }

  /**
   * A join with a device proof: checked off this thread, the join goes on once it is right (the
   * connection's frames meanwhile wait, in order); a wrong one is refused and counts as a wrong try.
   */
  #joinWithDevice(conn: Connection, msg: ClientJoinReq, proof: DeviceProof): void {
    conn.held = [];
    void deviceProofFault(proof, msg.name, conn.challenge!).then((fault) => {
      const held = conn.held ?? [];
      conn.held = undefined;
      if (conn.role.kind !== 'new') return; // closed meanwhile
      if (fault) {
        this.deps.addresses.authFailed(conn.address);
        this.deps.log.warn({ from: conn.address, name: msg.name }, fault.message);
        return this.#refuse(conn, fault, false);
      }
      conn.device = proof.key;
      this.deps.clients.join(conn, msg);
      for (const [data, isBinary] of held) this.#dispatch(conn, data, isBinary);
    });
  }

  /** An error frame (to clients: servers read the close reason), then the close, whose reason carries the code. */
  #refuse(conn: Connection, error: ChatError, toServer: boolean): void {
    if (!toServer) sendError(conn, error);
    this.kick(conn, error.code, error.message);
  }

  /** A frame over the rate: refused (told once per run), and a client that keeps on is cut off. */
  #overRate(conn: Connection): void {
    const { limits, log } = this.deps;
    conn.refusedInARow++;
    if (conn.refusedInARow === 1) sendError(conn, { code: ErrorCode.RATE_LIMITED, message: `slow down: at most ${limits.clientRate} messages a second` });
    if (conn.refusedInARow > limits.floodDisconnectAfter) {
      log.warn({ address: conn.address, name: conn.role.kind === 'client' ? conn.role.name : undefined }, 'client flooding; disconnecting');
      this.kick(conn, ErrorCode.RATE_LIMITED, 'you sent too much too fast');
    }
  }

  #onClose(conn: Connection, code: number): void {
    this.#table.delete(conn.ws);
    this.handshakeOver(conn);
    const { role } = conn;
    conn.role = { kind: 'gone' };
    if (role.kind !== 'client' || this.#stopping) return;
    // A client that vanished — no close frame (a network blip, a laptop lid, a killed process), one
    // that gave up on a silent server (NO_ANSWER), or a page going away (GOING_AWAY: a reload, a
    // closed tab, which comes back with its token) — may be back soon: its name is kept for the
    // grace period. One that closed on purpose without client_leave_req has left all the same.
    if (MAY_COME_BACK.has(code) && !conn.broke) this.deps.clients.vanished(role.name);
    else this.deps.clients.gone(role.name);
  }
}

const MAY_COME_BACK = new Set<number>([CloseCode.ABNORMAL, CloseCode.NO_ANSWER, CloseCode.GOING_AWAY]);
