// A chat node's options: each with its default, merged once, and checked once. A value out of range
// or two options that contradict each other throw a TypeError when the node is made (as `ws` does).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pino, type Logger } from 'pino';
import { DEFAULT_PORT, isServerUrl, Limits, parsePort } from '../shared/protocol.js';
import { resolveLimits, type ServerLimits } from './limits.js';
import type { SecretsCodec, SetKeys } from './set-keys.js';

/** The `data` value that keeps nothing on disk. */
export const MEMORY = ':memory:';

export interface ChatServerOptions {
  /** TCP port to listen on; 0 picks a free one. Default 4000. */
  port?: number;
  /** Interface to bind: 127.0.0.1 (this machine only) or 0.0.0.0 (the LAN). Default 127.0.0.1. */
  bind?: string;
  /** The address other servers and clients reach this node at (`ws://HOST:PORT`). Default: derived from bind and port. */
  advertise?: string;
  /** A member of an existing set to join as a replica (seminar: server2:start(BootServer)). Default: none. */
  join?: string;
  /** Ping period; a socket that misses one ping is dropped. 0 turns it off. Default 10,000 ms. */
  heartbeatMs?: number;
  /** A connection must send its first frame within this. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** A client with more unsent bytes than this is dropped as too slow. Default 1 MiB. */
  maxClientBufferedBytes?: number;
  /** A peer server with more unsent bytes than this is dropped. Default 64 MiB. */
  maxPeerBufferedBytes?: number;
  /**
   * Folder for the set's history, this server's identity and its known peers (store.ts), so a
   * restarted server has them back; ':memory:' keeps nothing. Default ':memory:'.
   */
  data?: string;
  /** Messages of history kept (texts, direct messages, files; oldest go first). Default 10,000. */
  historyMaxEvents?: number;
  /**
   * Presence events of history kept (joins, leaves, aways, backs, presence), apart from the
   * messages, so they never push one out. Default 2,000.
   */
  historyMaxPresenceEvents?: number;
  /** Bytes of history kept. Default 16 MiB. */
  historyMaxBytes?: number;
  /** The largest file a client may upload here. Default 100 MiB. */
  maxFileBytes?: number;
  /** How long a buddy whose connection dropped keeps its name while it reconnects. Default 20,000 ms. */
  graceMs?: number;
  /** Rates and counts per client, address and peer (limits.ts). Default: DEFAULT_LIMITS. */
  limits?: Partial<ServerLimits>;
  /** Web origins allowed besides this server's and its set's own pages; `*` allows any. Default none. */
  allowedOrigins?: string[];
  /** Serves plain HTTP requests on the same port (the browser UI). Default: a short notice. */
  httpHandler?: (req: IncomingMessage, res: ServerResponse) => void;
  /** pino logger. Default: silent. */
  logger?: Logger;
  /** Plain http:// and ws:// instead of the set's certificate (anyone on the LAN can read the chat). Default false. */
  insecure?: boolean;
  /** Every join must prove a device key (docs/protocol.md § Identity): the seminar's plain join is refused. Default false. */
  requireKeys?: boolean;
  /** People need the invite (or the passphrase) to join. Default: as the data folder says; a new set is open. */
  private?: boolean;
  /** A passphrase people may join a private chat with (instead of the invite). Default: as the data folder says. */
  passphrase?: string;
  /** Replace the invite: the old one stops working, on every server of the set. Default false. */
  newInvite?: boolean;
  /** Replace the server invite: the old one admits no new server, on every server of the set. Default false. */
  newServerInvite?: boolean;
  /** Let servers that show the server invite (not the set's secret) join as replicas. Default true. */
  invitedReplicas?: boolean;
  /** The server invite code `join` is made with, for a server not yet in that set. Default: the set's secret. */
  joinInvite?: string;
  /** Seals the data folder's key file (the app: Electron's safeStorage). Default: a file only the user can read. */
  secretsCodec?: SecretsCodec;
  /** The set's keys (ChatServer.start reads or makes them). Default for a bare node: new ones, without TLS. */
  keys?: SetKeys;
}

export interface ResolvedOptions
  extends Required<Omit<ChatServerOptions, 'advertise' | 'join' | 'limits' | 'private' | 'passphrase' | 'joinInvite' | 'secretsCodec' | 'keys'>> {
  advertise: string | undefined;
  join: string | undefined;
  limits: ServerLimits;
  private: boolean | undefined;
  passphrase: string | undefined;
  joinInvite: string | undefined;
  secretsCodec: SecretsCodec | undefined;
  keys: SetKeys | undefined;
}

export function resolveOptions(options: ChatServerOptions = {}): ResolvedOptions {
  const resolved: ResolvedOptions = {
    port: DEFAULT_PORT,
    bind: '127.0.0.1',
    heartbeatMs: 10_000,
    handshakeTimeoutMs: 10_000,
    maxClientBufferedBytes: 1024 * 1024,
    maxPeerBufferedBytes: 64 * 1024 * 1024,
    data: MEMORY,
    historyMaxEvents: 10_000,
    historyMaxPresenceEvents: 2_000,
    historyMaxBytes: 16 * 1024 * 1024,
    maxFileBytes: Limits.FILE_MAX_BYTES_DEFAULT,
    graceMs: 20_000,
    allowedOrigins: [],
    httpHandler: notAWebPage,
    logger: pino({ level: 'silent' }),
    insecure: false,
    requireKeys: false,
    newInvite: false,
    newServerInvite: false,
    invitedReplicas: true,
    ...definedOnly(options),
    advertise: options.advertise,
    join: options.join,
    limits: resolveLimits(options.limits),
    private: options.private,
    passphrase: options.passphrase,
    joinInvite: options.joinInvite,
    secretsCodec: options.secretsCodec,
    keys: options.keys,
  };
  const port = parsePort(resolved.port);
  if (!port.ok) throw new TypeError(`port: ${port.error.message}`);
  if (!resolved.bind) throw new TypeError('bind must name an interface, like 127.0.0.1 or 0.0.0.0');
  for (const key of ['advertise', 'join'] as const) {
    const value = resolved[key];
    if (value !== undefined && !isServerUrl(value)) throw new TypeError(`${key} must be a server address like ws://HOST:PORT, not "${value.slice(0, 80)}"`);
  }
  if (resolved.join !== undefined && resolved.join === resolved.advertise)
    throw new TypeError('join and advertise are the same address: a server cannot join itself');
  if (resolved.joinInvite !== undefined && resolved.join === undefined) throw new TypeError('joinInvite needs join: the server to join with it');
  if (resolved.passphrase !== undefined && resolved.passphrase.length === 0) throw new TypeError('passphrase must not be empty');
  if (!(resolved.heartbeatMs >= 0)) throw new TypeError('heartbeatMs must be 0 (off) or more');
  if (!resolved.data) throw new TypeError(`data must be a folder, or ${MEMORY} for none`);
  for (const key of [
    'handshakeTimeoutMs',
    'maxClientBufferedBytes',
    'maxPeerBufferedBytes',
    'historyMaxEvents',
    'historyMaxPresenceEvents',
    'historyMaxBytes',
    'maxFileBytes',
    'graceMs',
  ] as const) {
    if (!(resolved[key] > 0)) throw new TypeError(`${key} must be more than 0`);
  }
  return resolved;
}

/** `{ port: undefined }` means "the default", as if the key were not there. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}

function notAWebPage(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(426, { 'content-type': 'text/plain; charset=utf-8', upgrade: 'websocket' });
  res.end('This is a Chatty server: connect with the Chatty app or `chatty client`.\n');
}
