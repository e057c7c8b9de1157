// The Chatty wire protocol: the seminar's Erlang messages as JSON text frames over WebSocket.
// This module is the only definition of the frames; server, CLI, Electron main and renderer import it.
// It runs past 300 lines on purpose: one home for every frame, value rule and limit of the wire.
// docs/protocol.md is the prose version of the same thing. Runs in Node and in the browser
// (no `node:` imports, no DOM).
import * as v from 'valibot';
import { ErrorCode, fail, ok, type Result } from './errors.js';

/** Limits (docs/protocol.md § Limits). */
export const Limits = {
  /** Names are 1–32 printable characters (grapheme clusters). */
  NAME_MAX_CHARS: 32,
  /** A name also stays under this many UTF-8 bytes, so emoji sequences cannot blow up a frame. */
  NAME_MAX_BYTES: 128,
  /** Texts are 1–4,000 characters (UTF-16 code units, as JavaScript counts them). */
  TEXT_MAX_CHARS: 4000,
  /** Largest frame a server accepts; a bigger one closes the connection with 1009. */
  MAX_FRAME_BYTES: 64 * 1024,
  /** Longest server address. */
  URL_MAX_CHARS: 2048,
  /** Most servers in one replicated set (and in one `update_servers`). */
  MAX_SERVERS: 64,
  /** Longest run of combining marks in a name (Vietnamese or Devanagari need 2–3; "Zalgo" stacks 20). */
  NAME_MAX_MARK_RUN: 3,
  /** Largest `ts` a frame may carry: the last millisecond a JavaScript Date can show. */
  MAX_TS: 8.64e15,
  /** Events sent after `welcome` (the latest of the history), and the default page of `history_req`. */
  HISTORY_PAGE: 200,
  /** Most events one `history_req` may ask for. */
  HISTORY_MAX_PAGE: 500,
  /** Most events per `backfill` frame between servers (a frame also stays under MAX_FRAME_BYTES). */
  BACKFILL_CHUNK: 100,
  /** Longest client-chosen id of a `send`, and of a resume token. */
  CID_MAX_CHARS: 64,
  /** Names (and keys) per `roster` frame between servers, so a roster never passes MAX_FRAME_BYTES. */
  ROSTER_CHUNK: 250,
  /** A file's name is 1–255 characters (what most file systems take). */
  FILE_NAME_MAX_CHARS: 255,
  /** Largest file a server takes unless its operator says otherwise (`maxFileBytes`). */
  FILE_MAX_BYTES_DEFAULT: 100 * 1024 * 1024,
} as const;

// C0/C1 controls, line/paragraph separators and bidi controls would let a name spoof others'
// lines in a terminal or the UI.
const FORBIDDEN_IN_NAME = /[\p{Cc}\u2028\u2029\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/u;
/** A lone surrogate (half of an emoji, say) is not text; with the `u` flag it matches as \p{Cs}. */
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * What draws nothing: white space, default-ignorable code points (zero-width spaces, joiners, the
 * Hangul fillers U+3164 and U+FFA0), the Braille blank U+2800, and marks with no base to sit on.
 */
const INVISIBLE = /[\p{White_Space}\p{Default_Ignorable_Code_Point}\u2800\p{M}]/gu;
const MARK_RUN = new RegExp(`\\p{M}{${Limits.NAME_MAX_MARK_RUN + 1},}`, 'u');

const LongName = v.pipe(v.string(), v.maxGraphemes(Limits.NAME_MAX_CHARS));

/** The name rule (docs/protocol.md § Values): shared by client-side checks and every server. */
const Name = v.pipe(
  v.string('name must be a string'),
  v.minLength(1, 'name must not be empty'),
  // A name of at most NAME_MAX_CHARS UTF-16 units has at most that many graphemes: only longer
  // ones are counted (ICU's segmenter costs ~15 µs a name, and every `send` carries one).
  v.check((s) => s.length <= Limits.NAME_MAX_CHARS || v.is(LongName, s), `name must be at most ${Limits.NAME_MAX_CHARS} characters`),
  v.maxBytes(Limits.NAME_MAX_BYTES, `name must be at most ${Limits.NAME_MAX_BYTES} bytes`),
  v.check((s) => !LONE_SURROGATE.test(s), 'name must be valid Unicode text'),
  v.check((s) => !FORBIDDEN_IN_NAME.test(s), 'name must not contain control characters'),
  v.check((s) => s.trim() === s, 'name must not start or end with spaces'),
  v.check((s) => s.replace(INVISIBLE, '') !== '', 'name must have a visible character'),
  v.check((s) => !MARK_RUN.test(s.normalize('NFC')), `name must not stack more than ${Limits.NAME_MAX_MARK_RUN} accents on one letter`),
);

// A file name is a name, never a path: no separators, no "." or "..", nothing a terminal or file
// manager would act on (controls, bidi overrides), no leading or trailing spaces or dots.
const FORBIDDEN_IN_FILE_NAME = /[/\\\p{Cc}\u2028\u2029\u200E\u200F\u061C\u202A-\u202E\u2066-\u2069]/u;
const FileName = v.pipe(
  v.string('file name must be a string'),
  v.minLength(1, 'the file has no name'),
  v.maxLength(Limits.FILE_NAME_MAX_CHARS, `a file name must be at most ${Limits.FILE_NAME_MAX_CHARS} characters`),
  v.check((s) => !LONE_SURROGATE.test(s), 'a file name must be valid Unicode text'),
  v.check((s) => !FORBIDDEN_IN_FILE_NAME.test(s), 'a file name must not contain / or \\ or control characters'),
  v.check((s) => s.trim() === s && !s.endsWith('.'), 'a file name must not start or end with spaces, or end with a dot'),
  v.check((s) => s.replace(INVISIBLE, '') !== '', 'a file name must have a visible character'),
);
/** A media type as `type/subtype` (parameters dropped); anything else is application/octet-stream. */
const MediaType = v.pipe(v.string(), v.maxLength(100), v.regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/, 'type must look like image/png'));
const Sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'hash must be 64 hex digits (SHA-256)'));
/** What a `file` event says of its file: the server that took it keeps the bytes under `hash`. */
export const FileInfo = v.strictObject({ name: FileName, size: v.pipe(v.number(), v.integer(), v.minValue(0)), type: MediaType, hash: Sha256Hex });

const Text = v.pipe(
  v.string('text must be a string'),
  v.maxLength(Limits.TEXT_MAX_CHARS, `text must be at most ${Limits.TEXT_MAX_CHARS} characters`),
  v.check((s) => s.trim().length > 0, 'text must not be empty'),
);

/**
 * A server's address as other servers and clients reach it, in its one canonical form
 * `ws://host:port` or `wss://host:port`: no path, query, fragment or credentials, so an address
 * names a chat server and nothing else on that machine, and equal servers have equal addresses.
 */
export function isServerUrl(value: string): boolean {
  if (value.length > Limits.URL_MAX_CHARS) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'ws:' || url.protocol === 'wss:') && url.hostname !== '' && url.port !== '' && value === `${url.protocol}//${url.host}`;
  } catch {
    return false;
  }
}

const ServerUrl = v.pipe(v.string('server address must be a string'), v.check(isServerUrl, 'server address must look like ws://HOST:PORT'));

const ServerList = v.pipe(v.array(ServerUrl), v.maxLength(Limits.MAX_SERVERS));

const Count = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER));
/** A server's stable id: the origin of the events it publishes (kept across restarts with its data). */
const Origin = v.pipe(v.string(), v.regex(/^[0-9a-f]{8,32}$/, 'origin must be 8–32 hex digits'));
const EventId = v.pipe(v.string(), v.minLength(1), v.maxLength(64));
const ClientId = v.pipe(v.string(), v.minLength(1), v.maxLength(Limits.CID_MAX_CHARS));

/**
 * Fields every event carries. `origin` and `seq` (1, 2, 3… per origin) name it across the set, and
 * `id` is `origin-seq`; `clock` is the origin's Lamport clock when it published the event: every
 * server and client orders events by (clock, origin). `server` is where the buddy is; `ts` is the
 * wall time on the origin's clock (for people, never for order).
 */
/** How far events have been seen, per origin: origin → the highest seq seen (at most 1,024 origins). */
const Seen = v.pipe(
  v.record(Origin, Count),
  v.check((r) => Object.keys(r).length <= 1024, 'too many origins'),
);

/** A server's Ed25519 public key, raw 32 bytes as base64url (docs/protocol.md § Signed events). */
const SignerKey = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'signer must be 43 base64url characters (an Ed25519 key)'));
const Signature = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{86}$/, 'sig must be 86 base64url characters (an Ed25519 signature)'));

const eventMeta = {
  id: EventId,
  origin: Origin,
  seq: v.pipe(Count, v.minValue(1)),
  clock: Count,
  server: ServerUrl,
  ts: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Limits.MAX_TS)),
  /**
   * Between servers only: the origin's Ed25519 public key (base64url; `origin` is the first 10
   * bytes of its SHA-256, hex) and its signature over the event (docs/protocol.md § Signed events).
   * Clients never get them.
   */
  signer: v.optional(SignerKey),
  sig: v.optional(Signature),
};

// --- access (docs/protocol.md § Access; the computations are in auth.ts)
const Nonce = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{16,64}$/, 'nonce must be 16–64 base64url characters'));
const Proof = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'proof must be 43 base64url characters (HMAC-SHA256)'));
const Key = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'key must be 43 base64url characters (256 bits)'));
const Pem = v.pipe(v.string(), v.maxLength(8192), v.startsWith('-----BEGIN '));
/** Proof that the sender knows a key, over the server's `hello` nonce, its own `nonce` and (`bound`) the TLS channel. */
const Auth = <T extends string>(kinds: readonly [T, ...T[]]) => v.strictObject({ with: v.picklist(kinds), nonce: Nonce, proof: Proof, bound: v.boolean() });
/** Beyond the seminar: a server's first frame on every connection. `private`: people need an invite or passphrase. */
export const Hello = v.strictObject({ type: v.literal('hello'), nonce: Nonce, private: v.boolean(), salt: v.optional(Nonce) });
/** The server proves the key the other side proved (before `welcome`, or before `update_servers` to a server). */
export const AuthOk = v.strictObject({ type: v.literal('auth_ok'), proof: Proof });
/**
 * Between servers only, over an authenticated link: the set's keys — to a server that joined with
 * the server invite, and to every peer when they change (a new invite). The newest `version` wins.
 */
const InviteCode = v.pipe(v.string(), v.regex(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/, 'invite code must look like 7KQ2-M9XD-4TPA-H3VR'));
export const SetKeysFrame = v.strictObject({
  type: v.literal('set_keys'),
  version: Count,
  secret: Key,
  /** What people join with (a private chat needs it). */
  invite: InviteCode,
  /** What a server joining the set for the first time proves: apart from people's, so their invite runs no server. */
  serverInvite: InviteCode,
  private: v.boolean(),
  cert: v.optional(Pem),
  key: v.optional(Pem),
  passphrase: v.optional(v.strictObject({ salt: Nonce, key: Key })),
  /**
   * This change takes that server out of the set: the receiver closes its link to it and takes the
   * new secret and certificate (the only change that may replace them), so what it held stops working.
   */
  revoke: v.optional(ServerUrl),
  /** The server that made this change, and its signature over the keys (all but `sig`): a change no admitted server signed is not taken. */
  signer: v.optional(SignerKey),
  sig: v.optional(Signature),
});

// --- client → server (seminar: {client_join_req, Name, From}, {client_leave_req, Name, From}, {send, Name, Text})
/**
 * `resume`: a client that lost its connection comes back (to any server of the set) as itself.
 * `auth`: the proof a private chat asks for.
 */
/**
 * A device's proof that it holds the private half of `key` (docs/protocol.md § Identity): an
 * Ed25519 signature (`sig`) over the server's `hello` nonce, the name and, where the client can
 * read it (`bound`), the TLS channel binding. `key` and `sig` are base64url, 32 and 64 bytes.
 */
/** A device's Ed25519 public key: raw 32 bytes, base64url (docs/protocol.md § Identity). */
const DeviceKey = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/, 'device key must be 32 bytes in base64url'));
export const DeviceProof = v.strictObject({
  key: DeviceKey,
  sig: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{86}$/, 'device signature must be 64 bytes in base64url')),
  bound: v.boolean(),
});
export type DeviceProof = v.InferOutput<typeof DeviceProof>;
export const ClientJoinReq = v.strictObject({
  type: v.literal('client_join_req'),
  name: Name,
  resume: v.optional(v.strictObject({ token: ClientId, after: v.optional(EventId), seen: v.optional(Seen) })),
  auth: v.optional(Auth(['invite', 'passphrase'] as const)),
  device: v.optional(DeviceProof),
});
export const ClientLeaveReq = v.strictObject({ type: v.literal('client_leave_req'), name: Name });
/**
 * `cid`: the client's id for this send; the server acks it, and a resend with the same cid is not
 * published twice. `to`: a direct message, for that buddy only (a `direct` event).
 */
export const SendReq = v.strictObject({ type: v.literal('send'), name: Name, text: Text, cid: v.optional(ClientId), to: v.optional(Name) });
/** Older events than `before` (an event id; default: the newest), at most `limit`. */
export const HistoryReq = v.strictObject({
  type: v.literal('history_req'),
  before: v.optional(EventId),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(Limits.HISTORY_MAX_PAGE))),
});
/** Application-level liveness: browsers cannot send WebSocket pings. The server answers `pong`. */
export const Ping = v.strictObject({ type: v.literal('ping') });
/** Presence set by hand (or after the app sees the user idle): everyone sees it (a `presence` event). */
export const Status = v.picklist(['available', 'away']);
export const SetStatusReq = v.strictObject({ type: v.literal('set_status'), status: Status });
/** Full-text search of the messages the server holds (the asker's direct ones included, no one else's). */
export const SearchReq = v.strictObject({
  type: v.literal('search_req'),
  query: v.pipe(v.string(), v.trim(), v.minLength(1, 'search for something'), v.maxLength(200)),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
});
/** Whom `name` belongs to (docs/protocol.md § Identity): the answer is a `whois` frame. */
export const WhoisReq = v.strictObject({ type: v.literal('whois_req'), name: Name });
/** "I am typing" in the public chat, or (`to`) to one buddy; at most one every 2 s counts. Not kept anywhere. */
export const TypingReq = v.strictObject({ type: v.literal('typing'), to: v.optional(Name) });

// --- events, server → client and server → server (seminar: {join, Name}, {leave, Name}, {message, Name, Text})
/** SHA-256 (hex) of a buddy's resume token: a server that sees it can tell the buddy when it comes back. */
const ResumeKey = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'key must be 64 hex digits'));
/**
 * Between servers only (clients get neither): `device`, the key the buddy's device proved at
 * this join; `bind`, this join is the name's first claim and binds it to that key (§ Identity).
 */
const deviceMeta = { device: v.optional(DeviceKey), bind: v.optional(v.literal(true)) };
export const JoinEvent = v.strictObject({ type: v.literal('join'), name: Name, key: v.optional(ResumeKey), ...deviceMeta, ...eventMeta });
export const LeaveEvent = v.strictObject({ type: v.literal('leave'), name: Name, ...eventMeta });
export const MessageEvent = v.strictObject({ type: v.literal('message'), name: Name, text: Text, cid: v.optional(ClientId), ...eventMeta });
/** Beyond the seminar: the buddy's connection dropped; its name is kept for it a short while. */
export const AwayEvent = v.strictObject({ type: v.literal('away'), name: Name, ...eventMeta });
/** Beyond the seminar: the buddy resumed after `away` (or after its server failed), now on `server`. */
export const BackEvent = v.strictObject({ type: v.literal('back'), name: Name, key: v.optional(ResumeKey), device: deviceMeta.device, ...eventMeta });
/** Beyond the seminar: `name` set its presence by hand (or went idle): `away` or `available` again. */
export const PresenceEvent = v.strictObject({ type: v.literal('presence'), name: Name, status: Status, ...eventMeta });
/** Beyond the seminar: a text from `name` to `to` only. Every server keeps it; only those two people ever get it. */
export const DirectEvent = v.strictObject({ type: v.literal('direct'), name: Name, to: Name, text: Text, cid: v.optional(ClientId), ...eventMeta });
/**
 * Beyond the seminar: `name` shared a file (with `to` only, when it is there). The bytes are fetched
 * over HTTP (docs/protocol.md § Files); `cid` is the uploader's, as for `send`.
 */
export const FileEvent = v.strictObject({ type: v.literal('file'), name: Name, to: v.optional(Name), file: FileInfo, cid: v.optional(ClientId), ...eventMeta });
/**
 * Beyond the seminar: the operator released `name` (\`chatty host --release-name\`): it is bound to
 * no key any more, and the next join claims it anew (§ Identity).
 */
export const ReleaseEvent = v.strictObject({ type: v.literal('release'), name: Name, ...eventMeta });
export const AnyEvent = v.variant('type', [JoinEvent, LeaveEvent, MessageEvent, AwayEvent, BackEvent, DirectEvent, PresenceEvent, FileEvent, ReleaseEvent]);
/**
 * Server → client and server → server: `name` (on `server`) is typing, in the public chat or to
 * `to`. Not an event: no id, not kept, not ordered; a client shows it for a few seconds.
 */
export const IsTyping = v.strictObject({ type: v.literal('is_typing'), name: Name, server: ServerUrl, to: v.optional(Name) });

// --- server → client only
/** Beyond the seminar: confirms a join and tells the newcomer who is already here. */
export const Welcome = v.strictObject({
  type: v.literal('welcome'),
  name: Name,
  server: ServerUrl,
  servers: ServerList,
  /** Everyone connected to any server of the set, you included: names under their server (compact: thousands join at once). */
  roster: v.record(ServerUrl, v.array(Name)),
  /** Those of them who show as away (set by hand, or idle). */
  away: v.optional(v.array(Name)),
  /** Present it in `client_join_req.resume` to come back as this buddy after a lost connection. */
  token: v.optional(ClientId),
  /** This join resumed a session: `history` holds exactly the events missed since `resume.after`. */
  resumed: v.optional(v.boolean()),
  /** Files (docs/protocol.md § Files): the token this buddy's uploads and downloads carry, and the largest upload taken. */
  files: v.optional(v.strictObject({ token: v.pipe(v.string(), v.regex(/^[0-9a-f]{8,32}\.[A-Za-z0-9_-]{86}$/)), maxBytes: Count })),
});
/** The events that come in batches: changes of who is here, which come in storms (many join at once, a server fails). */
const BATCHED = ['join', 'leave', 'away', 'back'] as const;
type BatchedEvent = JoinEvent | LeaveEvent | AwayEvent | BackEvent;

export function isBatched(event: ChatEvent): event is BatchedEvent {
  return (BATCHED as readonly string[]).includes(event.type);
}

/**
 * Server → client: events of one type that happened together, in one frame — `names[i]` is the
 * `event` event `origin-(seq+i)` with clock `clock+i`, on `server`, at about `ts`. A storm of joins
 * (or of lost connections and resumes, when a server fails) costs every client a few bytes per name
 * rather than a frame each. Read it as those events (batchEvents).
 */
export const Batch = v.strictObject({
  type: v.literal('batch'),
  event: v.picklist(BATCHED),
  server: ServerUrl,
  origin: Origin,
  seq: v.pipe(Count, v.minValue(1)),
  clock: Count,
  ts: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Limits.MAX_TS)),
  names: v.pipe(v.array(Name), v.minLength(1)),
  /** A batch of notices (not history): they share seq and clock, and their ids are `origin-seq.notice.i`. */
  notice: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-z]{1,16}$/))),
});

/** The events a `batch` stands for, in order. */
export function batchEvents(batch: Batch): ChatEvent[] {
  return batch.names.map((name, i) => {
    const { origin, notice } = batch;
    const seq = notice === undefined ? batch.seq + i : batch.seq;
    const clock = notice === undefined ? batch.clock + i : batch.clock;
    const id = notice === undefined ? `${origin}-${seq}` : `${origin}-${seq}.${notice}.${i}`;
    return { type: batch.event, name, id, origin, seq, clock, server: batch.server, ts: batch.ts };
  });
}

/**
 * A server's notice to its own clients (an `away`, `back` or `leave` for a buddy of a server it
 * lost), not an event of the set's history: its id has a `.` after the seq (`origin-seq.xxxx`).
 */
export function isNotice(event: Pick<ChatEvent, 'id'>): boolean {
  return event.id.includes('.');
}

/** A history page's items as events: each batch as the events it stands for. */
export function historyEvents(items: Array<ChatEvent | Batch>): ChatEvent[] {
  return items.flatMap((item) => (item.type === 'batch' ? batchEvents(item) : [item]));
}

/** A batch stands only for events this close in time: they all read as at its `ts`. */
const BATCH_SPAN_MS = 1_000;

/**
 * Events as clients get them: without resume keys (forClients), and each run that one batch can
 * stand for — one type, origin and server, seq and clock one apart (notices: the same), within
 * BATCH_SPAN_MS of the first — as that batch.
 */
export function forClientsBatched(events: readonly ChatEvent[]): Array<ChatEvent | Batch> {
  const items: Array<ChatEvent | Batch> = [];
  let run: BatchedEvent[] = [];
  let runOfNotices = false;
  const endRun = () => {
    if (run.length > 0) items.push(run.length === 1 ? forClients(run[0]!) : frame.batch(run));
    run = [];
  };
  for (const event of events) {
    if (!isBatched(event)) {
      endRun();
      items.push(forClients(event));
      continue;
    }
    const first = run[0];
    const last = run.at(-1);
    const notice = isNotice(event);
    // Events follow each other by seq and clock; notices (which take none of their own) share them.
    const step = notice ? 0 : 1;
    const follows =
      first !== undefined &&
      last !== undefined &&
      notice === runOfNotices &&
      event.type === last.type &&
      event.origin === last.origin &&
      event.server === last.server &&
      event.seq === last.seq + step &&
      event.clock === last.clock + step &&
      event.ts - first.ts <= BATCH_SPAN_MS;
    if (!follows) endRun();
    run.push(event);
    runOfNotices = notice;
  }
  endRun();
  return items;
}

/**
 * Events of the set's history in order (oldest first): after `welcome`, or the answer to `history_req`.
 * A run of joins (or leaves…) may come as one `batch` among them (a storm of joins fills a page); it
 * is read as the events it stands for, so `events` decodes to events only.
 */
export const History = v.strictObject({
  type: v.literal('history'),
  events: v.pipe(v.array(v.variant('type', [AnyEvent, Batch])), v.transform(historyEvents)),
  /** Older events exist than the first one here. */
  more: v.boolean(),
  /** Answers a `history_req` (older page), rather than following `welcome`. */
  page: v.optional(v.boolean()),
});
/** The answer to `search_req`: matching messages, best first. */
export const SearchResults = v.strictObject({ type: v.literal('search_results'), query: v.string(), events: v.array(AnyEvent) });
/**
 * The answer to `whois_req`: `key`, the device key that claimed `name` (its safety number is made
 * from it: fingerprint.ts), how many devices it has, and since when (ms); none of them when the name
 * is bound to nobody.
 */
export const Whois = v.strictObject({
  type: v.literal('whois'),
  name: Name,
  key: v.optional(DeviceKey),
  devices: v.optional(Count),
  since: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Limits.MAX_TS))),
});
export type Whois = v.InferOutput<typeof Whois>;
/** The server published the client's `send` with this `cid` as event `id` (also when it was a resend). */
export const Ack = v.strictObject({ type: v.literal('ack'), cid: ClientId, id: EventId });
export const Pong = v.strictObject({ type: v.literal('pong') });
/**
 * The set's certificate changed (a server was taken out of the set, and the set re-keyed): pin this
 * one (base64url SHA-256 of its DER bytes) for the next connections. It comes over a connection the
 * client already trusts.
 */
export const Certificate = v.strictObject({ type: v.literal('certificate'), fingerprint: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{43}$/)) });
/** Seminar: `exit` ends the client's background task (the reply to its leave request). */
export const Exit = v.strictObject({ type: v.literal('exit') });
export const ErrorFrame = v.strictObject({
  type: v.literal('error'),
  // A string, not the catalogue, so an older client still reads codes a newer server adds.
  code: v.pipe(v.string(), v.maxLength(64)),
  message: v.pipe(v.string(), v.maxLength(1000)),
  /** The send (its `cid`) this refuses for good: it was not sent, and going again would not help. */
  cid: v.optional(ClientId),
});

// --- server ↔ server (seminar: {server_join_req, From}, {update_servers, NewServers})
/**
 * `auth`: every link needs proof of the set's secret, or (a server joining for the first time) of
 * the server invite. `invite` (the people's) is parsed only to be refused with a clear error.
 */
export const ServerJoinReq = v.strictObject({
  type: v.literal('server_join_req'),
  from: ServerUrl,
  auth: v.optional(Auth(['secret', 'server_invite', 'invite'] as const)),
});
/** When a link opens, each side says how far it has seen each origin's events (origin → last seq). */
export const Sync = v.strictObject({ type: v.literal('sync'), seen: Seen });
/** Events the other side had not seen (answer to `sync`), in chunks. */
export const Backfill = v.strictObject({
  type: v.literal('backfill'),
  events: v.pipe(v.array(AnyEvent), v.maxLength(Limits.BACKFILL_CHUNK)),
});
/** Sent between servers, and to clients so they can show the set of servers. */
export const UpdateServers = v.strictObject({ type: v.literal('update_servers'), servers: ServerList });
/**
 * Beyond the seminar: buddies who are on `server` (added to what the receiver knows). Servers send
 * their own buddies in chunks when a link opens, and relay peers' rosters to their clients.
 */
export const Roster = v.strictObject({
  type: v.literal('roster'),
  server: ServerUrl,
  names: v.pipe(v.array(Name), v.maxLength(Limits.ROSTER_CHUNK)),
  /** Between servers: each buddy's resume key ('' if unknown), so any server can let it resume. */
  keys: v.optional(v.pipe(v.array(v.union([ResumeKey, v.literal('')])), v.maxLength(Limits.ROSTER_CHUNK))),
  /** Between servers: the device key each buddy proved ('' for none), judged against the name's keys. */
  devices: v.optional(v.pipe(v.array(v.union([DeviceKey, v.literal('')])), v.maxLength(Limits.ROSTER_CHUNK))),
});

export type ClientJoinReq = v.InferOutput<typeof ClientJoinReq>;
export type ClientLeaveReq = v.InferOutput<typeof ClientLeaveReq>;
export type SendReq = v.InferOutput<typeof SendReq>;
export type JoinEvent = v.InferOutput<typeof JoinEvent>;
export type Batch = v.InferOutput<typeof Batch>;
export type LeaveEvent = v.InferOutput<typeof LeaveEvent>;
export type MessageEvent = v.InferOutput<typeof MessageEvent>;
export type DirectEvent = v.InferOutput<typeof DirectEvent>;
export type PresenceEvent = v.InferOutput<typeof PresenceEvent>;
export type FileEvent = v.InferOutput<typeof FileEvent>;
export type FileInfo = v.InferOutput<typeof FileInfo>;
export type IsTyping = v.InferOutput<typeof IsTyping>;
export type Status = v.InferOutput<typeof Status>;
export type SearchResults = v.InferOutput<typeof SearchResults>;
export type Welcome = v.InferOutput<typeof Welcome>;
export type Exit = v.InferOutput<typeof Exit>;
export type ErrorFrame = v.InferOutput<typeof ErrorFrame>;
export type ServerJoinReq = v.InferOutput<typeof ServerJoinReq>;
export type UpdateServers = v.InferOutput<typeof UpdateServers>;
export type Roster = v.InferOutput<typeof Roster>;
export type AwayEvent = v.InferOutput<typeof AwayEvent>;
export type BackEvent = v.InferOutput<typeof BackEvent>;
export type ReleaseEvent = v.InferOutput<typeof ReleaseEvent>;
export type HistoryReq = v.InferOutput<typeof HistoryReq>;
export type History = v.InferOutput<typeof History>;
export type Ack = v.InferOutput<typeof Ack>;
export type Sync = v.InferOutput<typeof Sync>;
export type Backfill = v.InferOutput<typeof Backfill>;
/** One buddy: who, on which server, and whether they show as away. */
export type Buddy = { name: string; server: string; status?: 'away' };

/** The welcome's roster, one buddy at a time. */
export function buddiesOf(welcome: Pick<Welcome, 'roster' | 'away'>): Buddy[] {
  const away = new Set(welcome.away);
  return Object.entries(welcome.roster).flatMap(([server, names]) =>
    names.map((name) => ({ name, server, ...(away.has(name) ? { status: 'away' as const } : {}) })),
  );
}
export type Hello = v.InferOutput<typeof Hello>;
export type AuthOk = v.InferOutput<typeof AuthOk>;
export type SetKeysFrame = v.InferOutput<typeof SetKeysFrame>;
export type ClientAuth = NonNullable<ClientJoinReq['auth']>;
export type LinkAuth = NonNullable<ServerJoinReq['auth']>;

/** The one person besides its sender a private event is for (a direct message or file); undefined for a public one. */
export function privateTo(event: ChatEvent): string | undefined {
  return event.type === 'direct' || event.type === 'file' ? event.to : undefined;
}

/** Who may see an event: everyone, but a private one only its sender and its addressee. */
export function visibleTo(event: ChatEvent, name: string): boolean {
  const to = privateTo(event);
  return to === undefined || event.name === name || to === name;
}

/**
 * What a client gets of an event: all of it but what only servers use — the resume key of a `join`
 * or `back` (to let that buddy resume anywhere; a third of a join's bytes), its device key and
 * binding (judged by servers), and the origin's signature and key (a client trusts its server).
 */
export function forClients(event: ChatEvent): ChatEvent {
  if (
    event.sig === undefined &&
    event.signer === undefined &&
    ((event.type !== 'join' && event.type !== 'back') || event.key === undefined) &&
    !hasDevice(event)
  ) {
    return event;
  }
  const { sig: _sig, signer: _signer, ...rest } = event;
  if (rest.type === 'back') {
    const { key: _key, device: _device, ...unkeyed } = rest;
    return unkeyed;
  }
  if (rest.type !== 'join') return rest;
  const { key: _key, device: _device, bind: _bind, ...unkeyed } = rest;
  return unkeyed;
}

const hasDevice = (event: ChatEvent): boolean => (event.type === 'join' || event.type === 'back') && event.device !== undefined;

/**
 * An event that changes whom a name belongs to (§ Identity): a join that binds it, a release.
 * Servers keep these for good, apart from the bounded history.
 */
export function isIdentityEvent(event: ChatEvent): boolean {
  return (event.type === 'join' && event.bind === true) || event.type === 'release';
}

/** What search finds an event by: a message's text, a file's name; nothing for the rest. */
export function searchableText(event: ChatEvent): string | undefined {
  return event.type === 'message' || event.type === 'direct' ? event.text : event.type === 'file' ? event.file.name : undefined;
}

/** The client id of a send or upload, by which a resend is known. */
export function clientIdOf(event: ChatEvent): string | undefined {
  return event.type === 'message' || event.type === 'direct' || event.type === 'file' ? event.cid : undefined;
}
const events = {
  join: JoinEvent,
  leave: LeaveEvent,
  message: MessageEvent,
  away: AwayEvent,
  back: BackEvent,
  direct: DirectEvent,
  presence: PresenceEvent,
  file: FileEvent,
  release: ReleaseEvent,
} as const;

/** What a client may ask of its server (seminar: client_join_req, client_leave_req, send; and the rest). */
const clientRequests = {
  client_join_req: ClientJoinReq,
  client_leave_req: ClientLeaveReq,
  send: SendReq,
  history_req: HistoryReq,
  ping: Ping,
  set_status: SetStatusReq,
  typing: TypingReq,
  search_req: SearchReq,
  whois_req: WhoisReq,
} as const;

/** What servers send each other (seminar: server_join_req, update_servers, and RelayMessage: the events). */
const peerFrames = {
  server_join_req: ServerJoinReq,
  hello: Hello,
  auth_ok: AuthOk,
  set_keys: SetKeysFrame,
  update_servers: UpdateServers,
  roster: Roster,
  sync: Sync,
  backfill: Backfill,
  is_typing: IsTyping,
  ...events,
} as const;

const serverInbound = { ...clientRequests, ...peerFrames } as const;

const clientInbound = {
  ...events,
  welcome: Welcome,
  history: History,
  ack: Ack,
  pong: Pong,
  certificate: Certificate,
  update_servers: UpdateServers,
  roster: Roster,
  exit: Exit,
  error: ErrorFrame,
  hello: Hello,
  auth_ok: AuthOk,
  is_typing: IsTyping,
  search_results: SearchResults,
  whois: Whois,
  batch: Batch,
} as const;

/** The union of what a map of schemas decodes to: the frame types come from the maps above, never typed again. */
type Decoded<M> = { [K in keyof M]: M[K] extends v.GenericSchema ? v.InferOutput<M[K]> : never }[keyof M];
export type ChatEvent = Decoded<typeof events>;
export type ClientRequest = Decoded<typeof clientRequests>;
export type PeerFrame = Decoded<typeof peerFrames>;
/** Everything a server may receive. */
export type ServerInbound = ClientRequest | PeerFrame;
/** Everything a client may receive. */
export type ClientInbound = Decoded<typeof clientInbound>;

const typesOf = <M extends object>(schemas: M) => Object.keys(schemas) as Array<keyof M & string>;
/** Every event type of the set's history, in one list (docs/protocol.md § Events). */
export const EVENT_TYPES: readonly ChatEvent['type'][] = typesOf(events);
export const CLIENT_REQUEST_TYPES: readonly ClientRequest['type'][] = typesOf(clientRequests);
export const PEER_FRAME_TYPES: readonly PeerFrame['type'][] = typesOf(peerFrames);

const has = (schemas: object, type: string) => Object.hasOwn(schemas, type);
/** An event of the set's history (join, message, file, …), whatever else a frame could be. */
export function isChatEvent<F extends { type: string }>(frame: F): frame is Extract<F, { type: ChatEvent['type'] }> {
  return has(events, frame.type);
}
/** A client's request (what a server link must never carry). */
export function isClientRequest<F extends { type: string }>(frame: F): frame is Extract<F, { type: ClientRequest['type'] }> {
  return has(clientRequests, frame.type);
}
/** A frame between servers (what a client connection must never carry, but its opening `server_join_req`). */
export function isPeerFrame<F extends { type: string }>(frame: F): frame is Extract<F, { type: PeerFrame['type'] }> {
  return has(peerFrames, frame.type);
}

type Schemas = Record<string, v.GenericSchema>;

function decodeWith<T>(schemas: Schemas, text: string): Result<T> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(ErrorCode.BAD_JSON, 'frame is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return fail(ErrorCode.BAD_FRAME, 'frame must be a JSON object');
  }
  const type = (json as { type?: unknown }).type;
  if (typeof type !== 'string') return fail(ErrorCode.BAD_FRAME, 'frame has no "type" string');
  const schema = has(schemas, type) ? schemas[type] : undefined;
  if (!schema) return fail(ErrorCode.UNKNOWN_TYPE, `unknown frame type "${type.slice(0, 40)}"`);
  const parsed = v.safeParse(schema, json);
  if (parsed.success) return ok(parsed.output as T);
  const issue = parsed.issues[0];
  const field = issue.path?.[0]?.key;
  const where = typeof field === 'string' ? field : undefined;
  const code = where === 'name' ? ErrorCode.NAME_INVALID : where === 'text' ? ErrorCode.TEXT_INVALID : ErrorCode.BAD_FRAME;
  const message =
    issue.type === 'strict_object' && where ? `${type}: unexpected field "${where.slice(0, 40)}"` : `${type}: ${where ? `${where}: ` : ''}${issue.message}`;
  return fail(code, message);
}

/** Parse and validate a text frame received by a server. */
export function decodeServerInbound(text: string): Result<ServerInbound> {
  return decodeWith<ServerInbound>(serverInbound, text);
}

/** Parse and validate a text frame received by a client. */
export function decodeClientInbound(text: string): Result<ClientInbound> {
  return decodeWith<ClientInbound>(clientInbound, text);
}

/** Check a name before sending it, with the same rule the server applies. */
export function validateName(name: string): Result<string> {
  const r = v.safeParse(Name, name);
  return r.success ? ok(r.output) : fail(ErrorCode.NAME_INVALID, r.issues[0].message);
}

/** Check a file's name before uploading it, with the same rule the server applies. */
export function validateFileName(name: string): Result<string> {
  const r = v.safeParse(FileName, name);
  return r.success ? ok(r.output) : fail(ErrorCode.FILE_NAME_INVALID, r.issues[0].message);
}

/** A media type as a browser or header gives it → the `type/subtype` a `file` event carries. */
export function mediaTypeOf(input: string | undefined): string {
  const bare = (input ?? '').split(';')[0]!.trim().toLowerCase();
  return v.is(MediaType, bare) ? bare : 'application/octet-stream';
}

/** Check a text before sending it, with the same rule the server applies. */
export function validateText(text: string): Result<string> {
  const r = v.safeParse(Text, text);
  return r.success ? ok(r.output) : fail(ErrorCode.TEXT_INVALID, r.issues[0].message);
}

/** The port a server listens on unless told otherwise (the app, `chatty host`, `chatty start`). */
export const DEFAULT_PORT = 4000;

/** A TCP port to listen on; 0 lets the system pick a free one (the server's address says which). */
export const Port = v.pipe(
  v.number('the port must be a number'),
  v.integer('the port must be a whole number'),
  v.minValue(0, 'the port must be from 0 to 65535 (0 picks a free one)'),
  v.maxValue(65535, 'the port must be from 0 to 65535 (0 picks a free one)'),
);

/** A port as a person types it ("4000"), checked with the one port rule. */
export function parsePort(input: string | number): Result<number> {
  const value = typeof input === 'number' ? input : /^\s*\d+\s*$/.test(input) ? Number(input) : Number.NaN;
  const r = v.safeParse(Port, value);
  return r.success
    ? ok(r.output)
    : fail(ErrorCode.BAD_INPUT, Number.isNaN(value) ? `the port must be a number, not "${String(input).slice(0, 20)}"` : r.issues[0].message);
}

/**
 * A server address as a person types it → the canonical `wss://HOST:PORT`. Accepts
 * `wss://HOST:PORT`, `ws://HOST:PORT` (a server run with --insecure), `HOST:PORT` and `HOST`
 * (DEFAULT_PORT; TLS, as servers serve by default), with or without a trailing `/`; refuses paths,
 * queries and anything else. The CLI, the app and the page all use it.
 */
export function parseServerAddress(input: string): Result<string> {
  const trimmed = input.trim();
  const withScheme = /^wss?:\/\//i.test(trimmed) ? trimmed : `wss://${trimmed}`;
  try {
    const url = new URL(withScheme);
    if ((url.pathname === '/' || url.pathname === '') && !url.search && !url.hash) {
      if (!url.port) url.port = String(DEFAULT_PORT);
      const canonical = `${url.protocol}//${url.host}`;
      if (isServerUrl(canonical)) return ok(canonical);
    }
  } catch {
    // not a URL at all: the error below
  }
  return fail(
    ErrorCode.PEER_INVALID,
    `"${trimmed.slice(0, 80)}" is not a server address (try 192.168.1.20:${DEFAULT_PORT} or wss://192.168.1.20:${DEFAULT_PORT})`,
  );
}

/** A server address as people read it: `wss://192.168.1.20:4000` → `192.168.1.20:4000` (parseServerAddress reads it back). */
export function hostOf(url: string): string {
  return url.replace(/^wss?:\/\//, '');
}

/** Frames are built by these helpers so every sender writes the same shape. */
export const frame = {
  clientJoinReq: (
    name: string,
    resume?: { token: string; after?: string; seen?: Record<string, number> },
    auth?: ClientAuth,
    device?: DeviceProof,
  ): ClientJoinReq => ({
    type: 'client_join_req',
    name,
    ...(resume ? { resume } : {}),
    ...(auth ? { auth } : {}),
    ...(device ? { device } : {}),
  }),
  clientLeaveReq: (name: string): ClientLeaveReq => ({ type: 'client_leave_req', name }),
  send: (name: string, text: string, cid?: string, to?: string): SendReq => ({ type: 'send', name, text, ...(cid ? { cid } : {}), ...(to ? { to } : {}) }),
  historyReq: (before?: string, limit?: number): HistoryReq => ({ type: 'history_req', ...(before ? { before } : {}), ...(limit ? { limit } : {}) }),
  ping: () => ({ type: 'ping' }) as const,
  setStatus: (status: Status) => ({ type: 'set_status', status }) as const,
  searchReq: (query: string, limit?: number) => ({ type: 'search_req', query, ...(limit ? { limit } : {}) }) as const,
  searchResults: (query: string, events: ChatEvent[]): SearchResults => ({ type: 'search_results', query, events }),
  typing: (to?: string) => ({ type: 'typing', ...(to ? { to } : {}) }) as const,
  whoisReq: (name: string) => ({ type: 'whois_req', name }) as const,
  whois: (name: string, owner?: { key: string; devices: number; since: number }): Whois => ({ type: 'whois', name, ...(owner ?? {}) }),
  isTyping: (name: string, server: string, to?: string): IsTyping => ({ type: 'is_typing', name, server, ...(to ? { to } : {}) }),
  pong: () => ({ type: 'pong' }) as const,
  certificate: (fingerprint: string): v.InferOutput<typeof Certificate> => ({ type: 'certificate', fingerprint }),
  ack: (cid: string, id: string): Ack => ({ type: 'ack', cid, id }),
  /** Events as clients get them (forClientsBatched). */
  history: (events: readonly ChatEvent[], more: boolean, page = false): v.InferInput<typeof History> => ({
    type: 'history',
    events: forClientsBatched(events),
    more,
    ...(page ? { page } : {}),
  }),
  sync: (seen: Record<string, number>): Sync => ({ type: 'sync', seen }),
  backfill: (events: ChatEvent[]): Backfill => ({ type: 'backfill', events }),
  serverJoinReq: (from: string, auth?: LinkAuth): ServerJoinReq => ({ type: 'server_join_req', from, ...(auth ? { auth } : {}) }),
  hello: (nonce: string, isPrivate: boolean, salt?: string): Hello => ({ type: 'hello', nonce, private: isPrivate, ...(salt ? { salt } : {}) }),
  authOk: (proof: string): AuthOk => ({ type: 'auth_ok', proof }),
  setKeys: (keys: Omit<SetKeysFrame, 'type'>): SetKeysFrame => ({ type: 'set_keys', ...keys }),
  updateServers: (servers: string[]): UpdateServers => ({ type: 'update_servers', servers }),
  /** A welcome but for its list of everyone: the server splices that in as JSON bytes it keeps up to date (Roster.welcomeJson). */
  welcome: (
    name: string,
    server: string,
    servers: string[],
    token?: string,
    resumed?: boolean,
    files?: Welcome['files'],
  ): Omit<Welcome, 'roster' | 'away'> => ({
    type: 'welcome',
    name,
    server,
    servers,
    ...(token ? { token } : {}),
    ...(resumed ? { resumed } : {}),
    ...(files ? { files } : {}),
  }),
  roster: (server: string, names: string[], keys?: string[], devices?: string[]): Roster => ({
    type: 'roster',
    server,
    names,
    ...(keys ? { keys } : {}),
    ...(devices?.some(Boolean) ? { devices } : {}),
  }),
  exit: (): Exit => ({ type: 'exit' }),
  /** A run of events of one type and origin (forClientsBatched says which) as one frame. */
  batch: (run: readonly BatchedEvent[]): Batch => ({
    type: 'batch',
    event: run[0]!.type,
    server: run[0]!.server,
    origin: run[0]!.origin,
    seq: run[0]!.seq,
    clock: run[0]!.clock,
    ts: run[0]!.ts,
    names: run.map((e) => e.name),
    // Notices: the first one's random part names them all (`origin-seq.notice.i`), so no two batches' ids meet.
    ...(isNotice(run[0]!) ? { notice: run[0]!.id.slice(run[0]!.id.indexOf('.') + 1) } : {}),
  }),
  error: (code: string, message: string, cid?: string): ErrorFrame => ({ type: 'error', code, message, ...(cid !== undefined ? { cid } : {}) }),
};
