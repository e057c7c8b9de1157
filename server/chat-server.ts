// A Chatty node: the seminar's `server` and `server2` in one. Alone it is the single server; with
// peers it is one of the replicated servers. Transport is plugged in: `handle(ws)` takes any
// accepted WebSocket, and `ChatServer.start()` puts the usual listener (listener.ts) around it.
// This file is the composition root: it resolves the options, makes the parts and wires them
// together, starts and stops them, and answers what the front ends ask. The parts (docs/architecture.md):
// connections.ts (sockets, roles, the gate), client-requests.ts (what clients ask), peer-relay.ts
// (what peers bring in), mesh.ts (the set of servers), local-clients.ts (the fan-out), wire/ (the
// bytes), history.ts and store.ts, roster.ts, event-clock.ts, grace.ts, options.ts, limits.ts.
import { EventEmitter } from 'node:events';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import { ErrorCode } from '../shared/errors.js';
import { type Buddy, type ChatEvent, frame, Limits } from '../shared/protocol.js';
import { Access } from './access.js';
import { advertisedUrl } from './address.js';
import { ClientRequests } from './client-requests.js';
import { Connections } from './connections.js';
import { EventClock } from './event-clock.js';
import { FileRoutes, issueFileToken } from './file-http.js';
import { FileStore } from './file-store.js';
import { Grace } from './grace.js';
import { Heartbeat } from './heartbeat.js';
import { History } from './history.js';
import { Identities } from './identities.js';
import { encode } from './json-bytes.js';
import { AddressLimits, type ServerLimits } from './limits.js';
import { Listener, ServerStartError } from './listener.js';
import { LocalClients } from './local-clients.js';
import { Mesh } from './mesh.js';
import { OriginPolicy } from './origin.js';
import { type ChatServerOptions, MEMORY, resolveOptions } from './options.js';
import { PeerRelay } from './peer-relay.js';
import { Roster } from './roster.js';
import { keysSigner, ServerKey, SignerKeys } from './server-key.js';
import { newSetKeysWithoutTls, prepareSetKeys, revokedKeys, saveSetKeys, type SetKeys, withNewInvite, withNewServerInvite } from './set-keys.js';
import { SearchIndex } from './search-index.js';
import { SqliteStore, StoreError } from './store.js';

export { ServerStartError, StoreError };
export type { ChatServerOptions };

export interface ChatServerEvents {
  /** The set of servers changed (seminar: `[SERVER UPDATE]`). */
  servers: [servers: string[]];
  /** A join, leave or message was relayed to this node's clients. */
  event: [event: ChatEvent];
  /** The set's keys changed: a new invite (made here or on another server), or this server joined a set. */
  keys: [];
  /** The node stopped (operator's disconnect, or its listener failed). */
  disconnect: [];
}

const DAY_MS = 24 * 60 * 60 * 1000;

export class ChatServer extends EventEmitter<ChatServerEvents> {
  readonly url: string;
  readonly limits: Readonly<ServerLimits>;
  readonly #store: SqliteStore | undefined;
  readonly #index: SearchIndex | undefined;
  readonly #history: History;
  readonly #identities: Identities;
  readonly #grace: Grace;
  readonly #heartbeat: Heartbeat;
  readonly #clients: LocalClients;
  readonly #roster = new Roster();
  readonly #connections: Connections;
  readonly #requests: ClientRequests;
  readonly #mesh: Mesh;
  readonly #access: Access;
  readonly #data: string;
  readonly #files: FileStore;
  readonly #fileRoutes: FileRoutes;
  readonly #secretsCodec: ChatServerOptions['secretsCodec'];
  /** This server's own key (its origin id is the key's), and the servers' keys learnt from their events. */
  readonly #serverKey: ServerKey;
  readonly #signers = new SignerKeys();
  /** The certificate fingerprint this server's clients were last told of (their pin). */
  #told: string | undefined;
  #listener: Listener | undefined;
  #stopping: Promise<void> | undefined;
  /** The peers the data folder remembers, read with the rest of it when the node is made. */
  readonly #rememberedPeers: string[];

  /**
   * A node with no listener: feed it sockets with handle(). Most callers want ChatServer.start().
   * Throws a TypeError for options out of range or in contradiction (options.ts).
   */
  constructor(url: string, options: ChatServerOptions = {}) {
    super();
    const opts = resolveOptions(options);
    const log: Logger = opts.logger;
    this.url = url;
    this.limits = opts.limits;
    const store =
      opts.data === MEMORY
        ? undefined
        : new SqliteStore(opts.data, {
            // Nothing is dropped: the writer tries again, and sends are refused (STORE_FULL) meanwhile.
            onWriteFailed: (message, retrying) => log.error({ message, retrying }, 'could not write the chat history'),
            onWriteRecovered: () => log.warn('the chat history is written again'),
          });
    this.#store = store;
    this.#rememberedPeers = store?.peers() ?? [];
    this.#data = opts.data;
    this.#secretsCodec = opts.secretsCodec;
    const serverKey = ServerKey.load(opts.data === MEMORY ? undefined : opts.data);
    this.#serverKey = serverKey;
    // Keys this server changed (a new invite at start, a new set) are signed as its change.
    const given = opts.keys ?? newSetKeysWithoutTls();
    const keys = keysSigner(given) ? given : serverKey.signKeys(given);
    this.#access = new Access({ keys, invitedReplicas: opts.invitedReplicas, joinInvite: opts.joinInvite, onKeysChanged: (k) => this.#onKeysChanged(k) });
    this.#told = this.#access.fingerprint;
    this.#saveKeys(keys, () => void store?.close());
    const index = store && new SearchIndex((message) => log.error({ message }, 'the search index failed'));
    this.#index = index;
    const events = new EventClock(store?.identity(), serverKey.origin, (identity) => store?.saveIdentity(identity));
    this.#files = new FileStore(opts.data === MEMORY ? undefined : opts.data);
    this.#history = new History({
      maxEvents: opts.historyMaxEvents,
      maxPresence: opts.historyMaxPresenceEvents,
      maxBytes: opts.historyMaxBytes,
      ...(store ? { store } : {}),
      ...(index ? { index } : {}),
      // A file goes with the last event that shares it: a download names its event.
      onFileDropped: (hash) => this.#files.remove(hash),
    });
    // Whom names belong to: kept for good, apart from the history (identities.ts).
    this.#identities = new Identities(store);
    // The servers' keys, as far as the history shows them (file tokens are checked with them).
    this.#signers.add(serverKey.origin, serverKey.publicKeyObject);
    for (const event of this.#history.missing({})) this.#signers.note(event);
    if (store?.damaged) log.warn({ file: store.file, damaged: store.damaged }, 'some events of the history could not be read back and were left out');
    this.#grace = new Grace(opts.graceMs);
    this.#heartbeat = new Heartbeat(opts.heartbeatMs);
    const addresses = new AddressLimits(this.limits);
    // The parts call each other back: each gets the others through closures that run after they are all made.
    this.#connections = new Connections({
      access: this.#access,
      heartbeat: this.#heartbeat,
      addresses,
      limits: this.limits,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      log,
      clients: {
        join: (conn, msg) => this.#requests.join(conn, msg),
        holdsSession: (name, token) => this.#requests.holdsSession(name, token),
        request: (conn, name, msg) => this.#requests.request(conn, name, msg),
        vanished: (name) => this.#requests.vanished(name),
        gone: (name) => this.#requests.gone(name),
      },
      acceptLink: (outlet, from) => void this.#mesh.accept(outlet, from),
    });
    const { wire } = this.#connections;
    this.#clients = new LocalClients(
      (onSlow) => wire.audience(opts.maxClientBufferedBytes, onSlow),
      (name, conn) => this.#requests.dropSlow(name, conn),
    );
    const relay = new PeerRelay({
      self: url,
      roster: this.#roster,
      history: this.#history,
      identities: this.#identities,
      ownerChanged: (change) => this.#requests.ownerChanged(change),
      grace: this.#grace,
      clients: this.#clients,
      servers: () => this.#mesh.servers(),
      limits: this.limits,
      log,
      observeClock: (clock) => events.observe(clock),
      notice: (type, name, server) => this.#requests.notice(type, name, server),
      onRelayed: (event) => this.emit('event', event),
      evictLocal: (name) => this.#requests.evict(name),
      movedAway: (name) => this.#requests.movedAway(name),
      // Its own events a lone server published unsigned are signed when a peer first needs them.
      signed: (event) => (event.origin === serverKey.origin ? serverKey.sign(event) : event),
      signers: this.#signers,
    });
    this.#mesh = new Mesh({
      self: url,
      wire,
      heartbeat: this.#heartbeat,
      maxPeerBufferedBytes: opts.maxPeerBufferedBytes,
      dialTimeoutMs: 5_000,
      aliveCheckMs: 2_000,
      dialBurst: this.limits.dialBurst,
      dialRate: this.limits.dialRate,
      log,
      access: this.#access,
      relay,
      onSetKeys: (keys) => {
        if (!this.#access.accepts(keys) || (keys.revoke === this.url && !this.#access.joining)) {
          if (keys.version > this.#access.keys.version)
            log.warn({ version: keys.version }, 'a peer sent keys this server does not take (unsigned, another secret or certificate, or a version far ahead)');
          return;
        }
        if (!this.#access.joining) log.info({ version: keys.version, by: keysSigner(keys) }, "the set's keys changed");
        // A revoked server's link closes before the new keys go on to every link: it never gets them.
        if (keys.revoke !== undefined) {
          log.warn({ server: keys.revoke }, 'a server of the set was taken out of it (revoked); the set has new keys');
          this.#mesh.expel(keys.revoke);
        }
        this.#access.adopt(keys);
      },
      onServersChanged: (servers) => this.#onServersChanged(servers),
    });
    this.#requests = new ClientRequests({
      self: url,
      roster: this.#roster,
      history: this.#history,
      identities: this.#identities,
      requireKeys: opts.requireKeys,
      grace: this.#grace,
      clients: this.#clients,
      events,
      access: this.#access,
      addresses,
      connections: this.#connections,
      mesh: this.#mesh,
      store,
      index,
      limits: this.limits,
      maxUnsent: opts.maxClientBufferedBytes,
      sign: (event) => serverKey.sign(event),
      fileToken: (name, key) => issueFileToken(serverKey, name, key),
      maxFileBytes: opts.maxFileBytes,
      log,
      onEvent: (event) => this.emit('event', event),
    });
    // Files left from events older than the history (a day's margin for servers' clocks) go.
    const oldest = this.#history.oldestTs;
    const stale = oldest === undefined ? 0 : this.#files.keepOnly(this.#history.fileHashes(), oldest - DAY_MS);
    if (stale > 0) log.info({ files: stale }, 'removed files that no event of the history shares any more');
    const requests = this.#requests;
    this.#fileRoutes = new FileRoutes({
      files: this.#files,
      maxBytes: opts.maxFileBytes,
      limits: this.limits,
      fileUsage: (name) => ({ mine: this.#history.fileBytesOf(name), all: this.#files.bytes }),
      log,
      secret: () => this.#access.keys.secret,
      certificate: () => this.#access.keys.cert,
      localKey: (name) => (this.#clients.has(name) ? requests.sessionKey(name) : undefined),
      originFor: (name) => this.#originFor(name),
      signers: this.#signers,
      anyKey: (name) => requests.sessionKey(name),
      event: (id) => this.#history.get(id),
      sees: (event, name) => this.#identities.sees(event, name),
      checkAddressee: (name, to) => {
        const addressee = requests.addressee(name, to);
        return addressee.ok ? undefined : addressee.error;
      },
      published: (name, cid) => this.#history.published(name, cid),
      publish: (name, file, to, cid, written) => requests.publishFile(name, file, to, cid, written),
      storeRefusal: () => requests.storeRefusal(),
      peers: () => this.servers().filter((peer) => peer !== this.url),
    });
    this.#heartbeat.start();
  }

  /** Listen on HTTP + WebSocket, and join `options.join` if given. */
  static async start(options: ChatServerOptions = {}): Promise<ChatServer> {
    const opts = resolveOptions(options);
    let node: ChatServer | undefined;
    const keys = await prepareSetKeys({
      data: opts.data === MEMORY ? undefined : opts.data,
      insecure: opts.insecure,
      private: opts.private,
      passphrase: opts.passphrase,
      newInvite: opts.newInvite,
      newServerInvite: opts.newServerInvite,
      warn: (message) => opts.logger.warn(message),
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
      maxRequestsPerAddress: opts.limits.httpRequestsPerAddress,
      origins: new OriginPolicy({
        port: () => node?.port,
        // Pages of servers this one lost, or that left, may connect too: their people fail over to it.
        servers: () => (node ? [...node.servers(), ...node.#mesh.knownPeers(), ...node.#mesh.departed()] : []),
        allowed: opts.allowedOrigins,
      }),
      log: opts.logger,
      onConnection: (ws, address, binding) => (node ? node.handle(ws, address, binding) : ws.terminate()),
    });
    try {
      node = new ChatServer(opts.advertise ?? advertisedUrl(opts.bind, listener.port, tls !== undefined), { ...opts, keys });
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
        throw new ServerStartError(ErrorCode.JOIN_FAILED, (err as Error).message);
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

  /** The invite people join this chat with: where, the code, and the certificate to pin. */
  invite(): { server: string; code: string; fingerprint?: string; private: boolean } {
    const { fingerprint } = this.#access;
    return { server: this.url, code: this.#access.keys.invite, ...(fingerprint ? { fingerprint } : {}), private: this.#access.keys.private };
  }

  /** New servers may join with the server invite (not `--no-replicas`). */
  get admitsServers(): boolean {
    return this.#access.admitsServers;
  }

  /** The invite a new server joins this set with (`chatty host --join`): where, the code, the certificate. */
  serverInvite(): { server: string; serverCode: string; fingerprint?: string } {
    const { fingerprint } = this.#access;
    return { server: this.url, serverCode: this.#access.keys.serverInvite, ...(fingerprint ? { fingerprint } : {}) };
  }

  /** Replace the invite on every server of the set: the old one lets nobody new in (those in the chat stay). */
  newInvite(): void {
    this.#access.adopt(this.#serverKey.signKeys(withNewInvite(this.#access.keys)));
  }

  /**
   * Take `server` out of the set: its link closes, and every other server takes new keys — a new
   * secret, certificate and invites — so what it held (the secret, the certificate's key, the
   * invites) stops working. Its clients stay with it; everyone else's pin moves to the new
   * certificate (`certificate` frame). The answer says what went wrong, if anything did.
   */
  async revoke(server: string): Promise<string | undefined> {
    if (server === this.url) return 'a server cannot take itself out of the set: stop it instead';
    if (!this.servers().includes(server) && !this.#mesh.knownPeers().includes(server)) return `${server} is not a server of this set`;
    const keys = this.#serverKey.signKeys(await revokedKeys(this.#access.keys, server));
    this.#mesh.expel(server);
    this.#access.adopt(keys);
    return undefined;
  }

  /**
   * Release `name` across the set (\`--release-name\`, for a person who lost every device): a
   * \`release\` event; its session, if it has one, ends, and the next join claims the name. False
   * when the name is bound to nobody.
   */
  releaseName(name: string): boolean {
    return this.#requests.release(name);
  }

  /** Replace the server invite on every server of the set: the old one admits no new server (those in the set stay). */
  newServerInvite(): void {
    this.#access.adopt(this.#serverKey.signKeys(withNewServerInvite(this.#access.keys)));
  }

  /**
   * Take over an accepted WebSocket: it gets `hello`, and its first frame says whether it is a
   * client or a server. `binding`: the TLS channel binding proofs on it are made over.
   */
  handle(ws: WebSocket, address = 'unknown', binding?: Uint8Array): void {
    this.#connections.handle(ws, address, binding);
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
    const sockets = this.#connections.stop();
    this.#heartbeat.stop();
    this.#grace.stop();
    if (this.#listener) await this.#listener.close(sockets);
    else for (const ws of sockets) ws.terminate();
    await Promise.all([this.#store?.close(), this.#index?.close()]);
    this.#files.close();
    this.emit('disconnect');
  }

  /**
   * The origin of the server `name` is on now: this one's, a link's own (PeerLink.origin), or that of
   * the event by which the buddy came to its server (its last join or back in the history).
   */
  #originFor(name: string): string | undefined {
    const holder = this.#roster.holder(name);
    if (!holder || holder.name !== name) return undefined;
    if (holder.server === this.url) return this.#serverKey.origin;
    return this.#mesh.originOf(holder.server) ?? this.#history.lastClaim(name, holder.server)?.origin;
  }

  /** New keys for the set (adopted from a peer, or a new invite here): kept, served, and passed on. */
  #onKeysChanged(keys: SetKeys): void {
    this.#saveKeys(keys);
    if (keys.cert && keys.key) this.#listener?.setCertificate({ cert: keys.cert, key: keys.key });
    this.#mesh.broadcast(encode(frame.setKeys(keys)));
    // Clients pin the set's certificate: a new one (the set re-keyed) is told over the connection they trust.
    const { fingerprint } = this.#access;
    if (fingerprint !== undefined && fingerprint !== this.#told) {
      this.#told = fingerprint;
      this.#clients.broadcast(encode(frame.certificate(fingerprint)));
    }
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
