// What this server's clients ask of it (seminar: client_join_req, client_leave_req, send; and
// resume, history, search, presence, typing, files), and what a vanished client leaves behind:
// the twin of peer-relay.ts, which does the same for what peers bring in. A client's life here is
// one story — admission, welcome with history, grace, resume, drop — told against one set of
// state; the events it makes are published from here to this server's clients and every peer.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { newResumeToken } from '../shared/auth.js';
import { type ChatError, CloseCode, ErrorCode, fail, LEFT_REASON, missingCase, ok, type Result } from '../shared/errors.js';
import { type ChatEvent, type ClientJoinReq, type FileInfo, frame, Limits, type Status } from '../shared/protocol.js';
import type { Access } from './access.js';
import { type Connection, type Connections, type JoinedRequest, sendError } from './connections.js';
import type { EventClock } from './event-clock.js';
import type { Grace } from './grace.js';
import type { History } from './history.js';
import type { Identities, OwnerChange } from './identities.js';
import { encode } from './json-bytes.js';
import { type AddressLimits, SERVED_BURST_SECONDS, type ServerLimits, TokenBucket } from './limits.js';
import type { LocalClients } from './local-clients.js';
import type { Roster } from './roster.js';
import type { SearchIndex } from './search-index.js';
import type { SqliteStore } from './store.js';

/** Search results in one answer, unless the client asks for fewer. */
const SEARCH_LIMIT = 50;

/** "Typing…" from one client counts at most this often; clients show it for a few seconds. */
const TYPING_EVERY_MS = 2_000;

/**
 * A client's presence changes at most this often; what it asks for meanwhile is coalesced (the
 * last one counts, at the end of the window): toggling away and back all day costs everyone a
 * frame a second at most, and the set's history an event.
 */
const PRESENCE_EVERY_MS = 1_000;

export interface ClientRequestsDeps {
  /** This server's address. */
  self: string;
  roster: Roster;
  history: History;
  /** Whom names belong to: a bound name is joined only with a proof by one of its keys. */
  identities: Identities;
  /** Every join must prove a device key (`--require-keys`): the seminar's plain join is refused. */
  requireKeys: boolean;
  grace: Grace;
  clients: LocalClients;
  events: EventClock;
  access: Access;
  addresses: AddressLimits;
  connections: Connections;
  /** The set of servers: every event goes to every peer. */
  mesh: { broadcast(data: Buffer): void; servers(): string[] };
  /** One of this server's events with its key and signature. */
  sign: (event: ChatEvent) => ChatEvent;
  /** The token a session's file requests carry, made by this server (file-http.ts). */
  fileToken: (name: string, key: string) => string;
  /** What acks wait for (a commit), and whether commits fail right now. */
  store: Pick<SqliteStore, 'afterWrite' | 'failing'> | undefined;
  /** Full-text search where there is a data folder; the history in memory is searched otherwise. */
  index: Pick<SearchIndex, 'search'> | undefined;
  limits: Readonly<ServerLimits>;
  /** What a client may leave unsent before it is dropped (broadcasts and replies alike). */
  maxUnsent: number;
  maxFileBytes: number;
  log: Logger;
  /** An event reached this server's clients. */
  onEvent: (event: ChatEvent) => void;
}

export class ClientRequests {
  /** Slow clients waiting to be dropped; see dropSlow. */
  readonly #slow: Array<[string, Connection]> = [];
  #droppingSlow = false;

  constructor(private readonly deps: ClientRequestsDeps) {}

  /** A client_join_req that passed the access check: a new name, or a session coming back. */
  join(conn: Connection, msg: ClientJoinReq): void {
    if (msg.resume) this.#resume(conn, msg.name, msg.resume);
    else this.#join(conn, msg.name);
  }

  /** One request of the client joined on `conn` as `name` (connections.ts checked the role). */
  request(conn: Connection, name: string, msg: JoinedRequest): void {
    switch (msg.type) {
      case 'client_leave_req':
        return this.#leave(conn, name, msg.name);
      case 'send':
        if (msg.name !== name) return sendError(conn, nameMismatch(name), msg.cid);
        return this.#send(conn, name, msg.text, msg.cid, msg.to);
      case 'history_req': {
        if (this.#behind(conn, name) || this.#overServed(conn)) return;
        const page = this.deps.history.page(msg.limit ?? Limits.HISTORY_PAGE, msg.before, (e) => this.deps.identities.sees(e, name));
        this.#serve(conn, frame.history(page.events, page.more, true));
        return;
      }
      case 'set_status':
        conn.wantedStatus = msg.status;
        if (!conn.presenceTimer) this.#setStatus(conn, name);
        return;
      case 'typing':
        return this.#typing(conn, name, msg.to);
      case 'search_req':
        void this.#search(conn, name, msg.query, msg.limit ?? SEARCH_LIMIT);
        return;
      case 'whois_req': {
        const owner = this.deps.identities.owner(msg.name);
        conn.outlet.send(frame.whois(owner?.name ?? msg.name, owner && { key: owner.founder, devices: owner.keys.length, since: owner.since }));
        return;
      }
      default:
        return missingCase(msg); // a client request added to the protocol must be handled here
    }
  }

  // --- joining (seminar: client_join_req)

  #join(conn: Connection, name: string): void {
    const holder = this.deps.roster.holder(name);
    if (holder) {
      const like = holder.name === name ? '' : ` (it looks like "${holder.name}", who is here)`;
      return sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `the name "${name}" is already taken${like}` });
    }
    const refused = this.#identityRefusal(name, conn.device);
    if (refused) return sendError(conn, refused);
    if (!this.#admit(conn)) return;
    const token = newResumeToken();
    const key = sha256(token);
    const { identities } = this.deps;
    // A device's first join under a free name binds the name to its key (before the welcome: the
    // welcome's history is the new era's, none of a released name's last owner's).
    const bind = conn.device !== undefined && identities.owner(name) === undefined;
    const join = this.#event('join', name, { key, ...(conn.device ? { device: conn.device } : {}), ...(bind ? { bind: true as const } : {}) });
    if (bind) identities.apply(join);
    this.#welcome(conn, name, join, key, token, undefined);
    this.#publish(join);
  }

  /**
   * A client that lost its connection comes back — here or to any server of the set — with the
   * token its welcome gave it: it keeps its name, gets exactly the events it missed, and everyone
   * sees it `back` rather than a leave and a join. A token that does not match is NAME_TAKEN; a
   * name nobody holds any more (the grace period ended) is simply joined again.
   */
  #resume(conn: Connection, name: string, resume: NonNullable<ClientJoinReq['resume']>): void {
    const holder = this.deps.roster.holder(name);
    if (!holder) return this.#join(conn, name);
    if (!this.holdsSession(name, resume.token)) {
      return sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `the name "${name}" is already taken` });
    }
    // The token proves the session; a bound name also wants one of its keys, every time.
    const refused = this.#identityRefusal(name, conn.device);
    if (refused) return sendError(conn, refused);
    if (!this.#admit(conn)) return;
    // Its old connection here may not know yet that it is dead (a frozen client): it goes quietly.
    const old = this.deps.clients.connection(name);
    if (old && old !== conn) {
      old.role = { kind: 'gone' };
      old.ws.terminate();
    }
    this.deps.grace.cancel(name);
    const key = holder.key!; // holdsSession: it has one
    const back = this.#event('back', name, { key, ...(conn.device ? { device: conn.device } : {}) });
    this.#welcome(conn, name, back, key, resume.token, resume.after ?? '', resume.seen);
    this.#publish(back);
  }

  /**
   * Why a device with key `device` (undefined: none) may not be `name`: the name is bound to other
   * keys (or spelt otherwise by its owner), or the chat wants a key and there is none.
   */
  #identityRefusal(name: string, device: string | undefined): ChatError | undefined {
    const owner = this.deps.identities.owner(name);
    if (owner?.keys.includes(device ?? '')) {
      if (owner.name === name) return undefined;
      return { code: ErrorCode.NAME_BOUND, message: `this device's name is spelt "${owner.name}": join as "${owner.name}"` };
    }
    if (owner) {
      const like = owner.name === name ? '' : ` (it looks like "${owner.name}")`;
      return {
        code: ErrorCode.NAME_BOUND,
        message: `the name "${name}" belongs to someone else${like}: only their devices can join as it. Choose another name; if it is yours and you lost your device, the host can release it`,
      };
    }
    if (device === undefined && this.deps.requireKeys) {
      return {
        code: ErrorCode.KEY_REQUIRED,
        message: 'this chat binds every name to a device key, and this client has none: join with the Chatty app, `chatty join`, or the page over https',
      };
    }
    return undefined;
  }

  /**
   * Whom a name belongs to changed (a claim made apart during a split came first, or the operator
   * released it): this server's client under it that is not one of its devices any more is told
   * why and closed, before anything more of the name's reaches it.
   */
  ownerChanged(change: OwnerChange): void {
    const holder = this.deps.roster.holder(change.name);
    if (!holder || holder.server !== this.deps.self) return;
    const conn = this.deps.clients.connection(holder.name);
    if (!conn) {
      if (change.after !== undefined) this.gone(holder.name); // away, in its grace period: the name is another device's now
      return;
    }
    if (change.after !== undefined && this.deps.identities.admits(holder.name, conn.device)) return;
    const message =
      change.after === undefined
        ? `the host released the name "${holder.name}": join again to claim it`
        : `"${holder.name}" was claimed first by someone else's device while the servers were apart: join again with another name`;
    this.deps.log.info(
      { name: holder.name },
      change.after === undefined ? 'name released; its session ends' : 'name bound to another device first; its session ends',
    );
    sendError(conn, { code: ErrorCode.NAME_BOUND, message });
    this.deps.connections.kick(conn, ErrorCode.NAME_BOUND, message);
  }

  /** The operator releases `name` across the set (`--release-name`): a `release` event; false when it is bound to nobody. */
  release(name: string): boolean {
    const { identities } = this.deps;
    const owner = identities.owner(name);
    if (owner === undefined) return false;
    const release = this.#event('release', owner.name);
    this.deps.log.warn({ name: release.name }, 'the operator released a name');
    const change = identities.apply(release);
    this.#publish(release);
    if (change) this.ownerChanged(change);
    return true;
  }

  /** `token` is the resume token of the session that holds `name` now (on any server of the set). */
  holdsSession(name: string, token: string): boolean {
    const holder = this.deps.roster.holder(name);
    return holder !== undefined && holder.name === name && holder.key !== undefined && holder.key === sha256(token);
  }

  /** Checks before a join: room on this server and the address's join rate. */
  #admit(conn: Connection): boolean {
    const { clients, limits, addresses } = this.deps;
    if (clients.size >= limits.maxClients) {
      sendError(conn, { code: ErrorCode.SERVER_FULL, message: `this server has its ${limits.maxClients} clients; try another server of the set` });
      return false;
    }
    if (!addresses.takeJoin(conn.address)) {
      sendError(conn, { code: ErrorCode.RATE_LIMITED, message: 'too many joins from your address; try again in a few seconds' });
      return false;
    }
    return true;
  }

  /**
   * The client is in: `welcome` (with its resume token), then history — the latest page, or on a
   * resume exactly what came after the last event it had — then, by the caller, its own join/back.
   */
  #welcome(conn: Connection, name: string, claim: ChatEvent, key: string, token: string, after: string | undefined, seen?: Record<string, number>): void {
    const { self, roster, history, clients, mesh } = this.deps;
    this.deps.connections.handshakeOver(conn);
    conn.role = { kind: 'client', name };
    clients.add(name, conn);
    roster.claimBy(self, name, claim, key);
    // On a resume, what came after the client's last event (and, before it, what the client had
    // not seen of the origins it knows); if this server does not have that one (it was cut off from
    // the server the client was on), its latest page: the client keeps what it has and places
    // these among them, and what this server lacks comes later by backfill.
    const mine = (e: ChatEvent) => this.deps.identities.sees(e, name);
    const missed = after ? history.after(after, mine, seen) : undefined;
    const files = { token: this.deps.fileToken(name, key), maxBytes: this.deps.maxFileBytes };
    const welcome = frame.welcome(name, self, mesh.servers(), token, after !== undefined, files);
    const page = missed ? { events: missed, more: false } : history.page(Limits.HISTORY_PAGE, undefined, mine);
    conn.outlet.sendSpliced(welcome, roster.welcomeJson(), [frame.history(page.events, page.more)]);
  }

  // --- talking (seminar: send)

  /**
   * Seminar: {send, Name, Text}. With a `cid` it is acked, and a resend is acked, not published
   * again. With `to`, a direct message for that buddy (on any server of the set) only.
   */
  #send(conn: Connection, name: string, text: string, cid: string | undefined, to: string | undefined): void {
    const already = cid === undefined ? undefined : this.deps.history.published(name, cid);
    if (already) return this.#afterWrite(() => conn.outlet.send(frame.ack(cid!, already)));
    const refused = this.storeRefusal();
    if (refused) return sendError(conn, refused);
    const extra = { text, ...(cid ? { cid } : {}) };
    let event: ChatEvent;
    if (to === undefined) event = this.#event('message', name, extra);
    else {
      const addressee = this.addressee(name, to);
      if (!addressee.ok) return sendError(conn, addressee.error, cid);
      event = this.#event('direct', name, { to: addressee.value, ...extra });
    }
    this.#publish(event);
    if (cid) this.#afterWrite(() => conn.outlet.send(frame.ack(cid, event.id)));
  }

  /**
   * Why this server takes no new message right now: its history cannot be written (a full disk).
   * What it accepted before is kept and written when it can be; nothing new is taken meanwhile.
   */
  storeRefusal(): ChatError | undefined {
    if (this.deps.store?.failing === undefined) return undefined;
    return {
      code: ErrorCode.STORE_FULL,
      message: 'this server cannot save messages right now (its disk is full or failing): nothing was sent; try again later',
    };
  }

  /** An ack means written: it waits for the commit of everything published before it. */
  #afterWrite(then: () => void): void {
    if (this.deps.store) this.deps.store.afterWrite(then);
    else then();
  }

  /** Whom `name` writes to when it says `to`: someone else in the chat, as that buddy's name is spelt. */
  addressee(name: string, to: string): Result<string> {
    const holder = this.deps.roster.holder(to);
    if (holder && holder.name !== name) return ok(holder.name);
    return fail(ErrorCode.NO_SUCH_BUDDY, holder ? 'a direct message goes to someone else' : `nobody called "${to}" is in the chat`);
  }

  /** A whole upload of this server's client `name` (file-http.ts checked it): its `file` event; `written` once it is committed. */
  publishFile(name: string, file: FileInfo, to: string | undefined, cid: string | undefined, written: (event: ChatEvent) => void): void {
    const addressee = to === undefined ? undefined : this.addressee(name, to);
    const event = this.#event('file', name, { file, ...(addressee?.ok ? { to: addressee.value } : {}), ...(cid ? { cid } : {}) });
    this.#publish(event);
    this.#afterWrite(() => {
      const conn = this.deps.clients.connection(name);
      if (cid && conn) conn.outlet.send(frame.ack(cid, event.id));
      written(event);
    });
  }

  /** The resume key of `name`'s session (any server of the set): what its file token is made over. */
  sessionKey(name: string): string | undefined {
    const holder = this.deps.roster.holder(name);
    return holder && holder.name === name ? holder.key : undefined;
  }

  /**
   * Presence by hand: a `presence` event when it changes (the holder keeps it across a resume),
   * then nothing more for PRESENCE_EVERY_MS; the window's end applies the last one asked for.
   */
  #setStatus(conn: Connection, name: string): void {
    const status = conn.wantedStatus;
    const holder = this.deps.roster.holder(name);
    if (!status || conn.role.kind !== 'client' || !holder || holder.name !== name || (holder.status ?? 'available') === status) return;
    this.deps.roster.setStatus(holder, status);
    this.#publish(this.#event('presence', name, { status }));
    conn.presenceTimer = setTimeout(() => {
      conn.presenceTimer = undefined;
      this.#setStatus(conn, name);
    }, PRESENCE_EVERY_MS);
    conn.presenceTimer.unref();
  }

  /**
   * Full-text search: the search thread's index where there is a data folder, the history in memory
   * otherwise. One at a time per client: a flood from one would queue ahead of everyone else's.
   */
  async #search(conn: Connection, name: string, query: string, limit: number): Promise<void> {
    if (this.#behind(conn, name) || this.#overServed(conn)) return;
    if (conn.searching) return sendError(conn, { code: ErrorCode.RATE_LIMITED, message: 'one search at a time: wait for the answer to the last' });
    const { index, history } = this.deps;
    const mine = (e: ChatEvent) => this.deps.identities.sees(e, name);
    conn.searching = true;
    try {
      const events = index ? (await index.search(query, name, limit)).flatMap((id) => history.get(id) ?? []).filter(mine) : history.search(query, limit, mine);
      if (conn.role.kind === 'client') this.#serve(conn, frame.searchResults(query, events));
    } finally {
      conn.searching = false;
    }
  }

  /**
   * Asking for history or a search is cheap, answering is not: a client (or its address) past its
   * rate of bytes served is told to wait, and its request is not worked on.
   */
  #overServed(conn: Connection): boolean {
    const { limits, addresses } = this.deps;
    conn.served ??= new TokenBucket(limits.servedBytesPerClient * SERVED_BURST_SECONDS, limits.servedBytesPerClient);
    if (conn.served.wait() === 0 && addresses.served(conn.address).wait() === 0) return false;
    sendError(conn, { code: ErrorCode.RATE_LIMITED, message: 'you asked for more history and search results than a server answers a second: wait a moment' });
    return true;
  }

  /** A history page or search results, charged to the client's and its address's rate. */
  #serve(conn: Connection, reply: object): void {
    const data = encode(reply);
    conn.served?.charge(data.length);
    this.deps.addresses.served(conn.address).charge(data.length);
    conn.outlet.sendEncoded(data);
  }

  /**
   * A client asking for more (a history page, a search) while it has not read what it was sent:
   * replies count against the same unsent bytes as broadcasts, so it is dropped, not answered.
   */
  #behind(conn: Connection, name: string): boolean {
    if (conn.outlet.unsent() <= this.deps.maxUnsent) return false;
    this.dropSlow(name, conn);
    return true;
  }

  /** "Typing…": relayed, never kept; at most one every TYPING_EVERY_MS per client counts. */
  #typing(conn: Connection, name: string, to: string | undefined): void {
    const now = Date.now();
    if (now - (conn.typedAt ?? 0) < TYPING_EVERY_MS) return;
    conn.typedAt = now;
    const holder = to === undefined ? undefined : this.deps.roster.holder(to);
    if (to !== undefined && (!holder || holder.name === name)) return; // to nobody: nothing to tell
    const typing = frame.isTyping(name, this.deps.self, holder?.name);
    const data = encode(typing);
    this.deps.clients.typing(typing, data);
    this.deps.mesh.broadcast(data);
  }

  // --- leaving (seminar: client_leave_req), and what a vanished client leaves behind

  #leave(conn: Connection, joined: string, named: string): void {
    if (named !== joined) return sendError(conn, nameMismatch(joined));
    // The leaver hears its own `leave`, then `exit` (seminar: From ! exit), then is removed.
    this.#publish(this.#event('leave', joined));
    this.deps.clients.flush();
    conn.outlet.send(frame.exit());
    conn.role = { kind: 'gone' };
    this.deps.clients.remove(joined);
    this.deps.roster.remove(this.deps.self, joined);
    conn.outlet.close(CloseCode.NORMAL, LEFT_REASON);
  }

  /** The client's connection dropped: `away` now, `leave` when the grace period ends without it. */
  vanished(name: string): void {
    const { self, roster, grace } = this.deps;
    this.deps.clients.remove(name);
    const holder = roster.holder(name);
    if (!holder || holder.server !== self || holder.name !== name) return;
    holder.away = true;
    this.#publish(this.#event('away', name));
    grace.start(name, () => {
      const now = roster.holder(name);
      if (now?.server === self && now.away) this.gone(name);
    });
  }

  /** A client is gone (vanished, too slow, flooding, or lost its name): everyone sees it leave. */
  gone(name: string): void {
    this.deps.clients.remove(name);
    if (this.deps.roster.remove(this.deps.self, name)) this.#publish(this.#event('leave', name));
  }

  /**
   * LocalClients calls this for each client that fell too far behind, after removing it. Dropping
   * one publishes its `leave`, whose broadcast can find more slow clients: they are queued and
   * dropped here one after another, never by recursion (thousands of slow readers would overflow
   * the stack), and each is logged once.
   */
  dropSlow(name: string, conn: Connection): void {
    this.#slow.push([name, conn]);
    if (this.#droppingSlow) return;
    this.#droppingSlow = true;
    try {
      for (let next = this.#slow.shift(); next; next = this.#slow.shift()) {
        const [slowName, slowConn] = next;
        this.deps.log.warn({ name: slowName }, 'client too slow; dropping');
        if (slowConn.role.kind === 'client') this.deps.connections.kick(slowConn, ErrorCode.SLOW_CONSUMER, 'you fell too far behind');
        else this.gone(slowName);
      }
    } finally {
      this.#droppingSlow = false;
    }
  }

  /** A client of this server lost its name to an earlier claim on another server. */
  evict(name: string): boolean {
    const conn = this.deps.clients.connection(name);
    if (!conn) return false;
    sendError(conn, { code: ErrorCode.NAME_TAKEN, message: `"${name}" was taken on another server at the same instant; join again with another name` });
    this.deps.connections.kick(conn, ErrorCode.NAME_TAKEN, 'name taken elsewhere first');
    return true;
  }

  /**
   * A client of this server resumed on another (a peer's `back` with its resume key) while its old
   * connection here had not closed: it ends quietly, since the buddy is not away and has not left.
   */
  movedAway(name: string): void {
    const conn = this.deps.clients.remove(name);
    if (!conn) return;
    conn.role = { kind: 'gone' };
    conn.ws.terminate();
  }

  // --- events: each is serialized once and goes to this server's clients and every peer

  /** A new event of this server's, about one of its clients (event-clock.ts gives its place in the order). */
  #event(type: 'join', name: string, extra: { key: string; device?: string; bind?: true }): ChatEvent;
  #event(type: 'back', name: string, extra: { key: string; device?: string }): ChatEvent;
  #event(type: 'message', name: string, extra: { text: string; cid?: string }): ChatEvent;
  #event(type: 'direct', name: string, extra: { to: string; text: string; cid?: string }): ChatEvent;
  #event(type: 'leave' | 'away' | 'release', name: string): ChatEvent;
  #event(type: 'presence', name: string, extra: { status: Status }): ChatEvent;
  #event(type: 'file', name: string, extra: { file: FileInfo; to?: string; cid?: string }): ChatEvent;
  #event(
    type: ChatEvent['type'],
    name: string,
    extra: { key?: string; device?: string; bind?: true; text?: string; cid?: string; to?: string; status?: Status; file?: FileInfo } = {},
  ): ChatEvent {
    return this.deps.events.next(type, name, this.deps.self, extra);
  }

  /**
   * A notice for this server's clients only, not part of the set's history: a buddy of another
   * server is away, back or gone because that server is unreachable from here.
   */
  notice(type: 'away' | 'back' | 'leave', name: string, server: string): void {
    const event = this.deps.events.notice(type, name, server);
    // Batched like events: a lost server's thousands of buddies are a few frames to each client.
    this.deps.clients.deliver(event);
    this.deps.onEvent(event);
  }

  #publish(made: ChatEvent): void {
    // Signed for the servers of the set (§ Signed events). A lone server signs an event when a peer
    // first asks for it (backfill): signing costs more than relaying it to a thousand clients.
    const event = this.deps.mesh.servers().length > 1 ? this.deps.sign(made) : made;
    const data = encode(event);
    this.deps.history.add(event, data.length);
    this.deps.clients.deliver(event, data); // without what only servers use (forClients)
    this.deps.mesh.broadcast(data); // every server keeps every event, direct messages included
    this.deps.onEvent(event);
  }
}

const nameMismatch = (joined: string): ChatError => ({
  code: ErrorCode.NAME_MISMATCH,
  message: `this connection joined as "${joined}"`,
});

/** What servers keep of a resume token: enough to check it, not to use it. */
const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
