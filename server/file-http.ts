// The HTTP side of files (docs/protocol.md § Files), on the chat port beside the page:
//   POST /files?as&t&name[&to][&cid]   a client of this server uploads; a `file` event is published
//   GET  /files/<event id>?as&t        a buddy who may see that event downloads it
//   GET  /files/sha256/<hash>          another server of the set fetches a file it lacks
// A client proves who it is with the token its welcome gave it; a server with an HMAC of the set's
// secret. Downloads are always attachments of a type no browser renders, in a sandbox.
import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { ReadStream } from 'node:fs';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import { fromBase64url } from '../shared/auth.js';
import { type ChatError, ErrorCode } from '../shared/errors.js';
import { fileLinkToken, formatBytes, httpBaseOf } from '../shared/files.js';
import { type ChatEvent, type FileInfo, Limits, mediaTypeOf, validateFileName } from '../shared/protocol.js';
import type { FileStore } from './file-store.js';
import type { ServerLimits } from './limits.js';
import type { ServerKey, SignerKeys } from './server-key.js';

export interface FileRoutesDeps {
  files: FileStore;
  maxBytes: number;
  limits: Pick<ServerLimits, 'fileBytesPerPerson' | 'fileBytesTotal' | 'uploadMinBytesPerSecond'>;
  /** Bytes of files: those `name`'s events in the history share (each once), and those this server holds. */
  fileUsage(name: string): { mine: number; all: number };
  log: Logger;
  /** The set's secret (base64url): client tokens and server proofs are keyed with it. */
  secret(): string;
  /** The set's certificate (PEM): a server fetched from must present it (undefined: no TLS). */
  certificate(): string | undefined;
  /** The resume key of `name`'s current session, when `name` is a client of this server. */
  localKey(name: string): string | undefined;
  /** The resume key of `name`'s current session, on any server of the set. */
  anyKey(name: string): string | undefined;
  /** The origin of the server `name` is on now, whose file tokens are the only ones good for `name`. */
  originFor(name: string): string | undefined;
  /** The servers' keys, that file tokens are checked with. */
  signers: SignerKeys;
  /** The event with this id, if this server has it. */
  event(id: string): ChatEvent | undefined;
  /** May the person who is `name` now see `event` (identities.ts: a private one only in its era)? */
  sees(event: ChatEvent, name: string): boolean;
  /** Whether `name` may send to `to` (someone else who is in the chat); the error says why not. */
  checkAddressee(name: string, to: string): ChatError | undefined;
  /** The id of what `name` already published with `cid`, if anything. */
  published(name: string, cid: string): string | undefined;
  /** Publish the upload of `name`: the `file` event; `written` once it is committed (what the answer waits for). */
  publish(name: string, file: FileInfo, to: string | undefined, cid: string | undefined, written: (event: ChatEvent) => void): void;
  /** Why no upload is taken right now (the history cannot be written), if so. */
  storeRefusal(): ChatError | undefined;
  /** The other servers of the set, to fetch a missing file from. */
  peers(): string[];
}

/** A fetch from another server gives up when nothing arrives for this long. */
const FETCH_IDLE_MS = 10_000;

/** Uploads one person may have under way at once (a few files dropped together; not a disk-filling flood). */
const UPLOADS_AT_ONCE = 4;

const HTTP_STATUS: Partial<Record<string, number>> = {
  [ErrorCode.FILE_NAME_INVALID]: 400,
  [ErrorCode.BAD_FRAME]: 400,
  [ErrorCode.UPLOAD_INCOMPLETE]: 400,
  [ErrorCode.AUTH_FAILED]: 403,
  [ErrorCode.NO_SUCH_BUDDY]: 404,
  [ErrorCode.FILE_NOT_FOUND]: 404,
  [ErrorCode.FILE_TOO_LARGE]: 413,
  [ErrorCode.QUOTA_EXCEEDED]: 413,
  [ErrorCode.FILE_UNAVAILABLE]: 503,
  [ErrorCode.RATE_LIMITED]: 429,
  [ErrorCode.STORE_FULL]: 507,
};

/**
 * The token a session's file requests carry: its server's origin, and that server's signature over
 * the session's name and resume key. Only the buddy's own server makes one (no other server of
 * the set can: its key is its own), and any server can check it (SignerKeys).
 */
export function issueFileToken(serverKey: ServerKey, name: string, key: string): string {
  return `${serverKey.origin}.${serverKey.signText(fileTokenText(name, key))}`;
}

const fileTokenText = (name: string, key: string) => `chatty-files\n${name}\n${key}`;

/** Whether `token` is one that `origin` (the buddy's own server) made for this session. */
export function checkFileToken(token: string, name: string, key: string, origin: string | undefined, signers: SignerKeys): boolean {
  const dot = token.indexOf('.');
  return origin !== undefined && token.slice(0, dot) === origin && signers.verify(origin, fileTokenText(name, key), token.slice(dot + 1));
}

/**
 * The set's secret as a key, decoded once, not for every token: every welcome signs one (4 % of a
 * server's time in a join storm went to decoding the secret and signing). Kept for the last secret asked for.
 */
function hmacKey(secret: string): KeyObject {
  if (secret !== lastSecret) {
    lastKey = createSecretKey(fromBase64url(secret));
    lastSecret = secret;
  }
  return lastKey as KeyObject;
}
let lastSecret: string | undefined;
let lastKey: KeyObject | undefined;

/** What a server shows to fetch a file from another server of its set. */
function fetchProof(secret: string, hash: string): string {
  return createHmac('sha256', hmacKey(secret)).update(`chatty-file-fetch\n${hash}`).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class FileRoutes {
  /** Uploads under way, by uploader. */
  readonly #uploading = new Map<string, number>();

  constructor(private readonly deps: FileRoutesDeps) {}

  /** Answer `req` if it is one of the file routes; false leaves it to the next handler. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/files' && !url.pathname.startsWith('/files/')) return false;
    // Tokens travel in the URL, never as cookies: any page may ask, only a token holder gets anything.
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('x-content-type-options', 'nosniff');
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'content-type', 'access-control-max-age': '600' });
      res.end();
      return true;
    }
    const run =
      req.method === 'POST' && url.pathname === '/files'
        ? this.#upload(req, res, url.searchParams)
        : (req.method === 'GET' || req.method === 'HEAD') && url.pathname.startsWith('/files/sha256/')
          ? this.#serveToPeer(req, res, url.pathname.slice('/files/sha256/'.length))
          : req.method === 'GET' || req.method === 'HEAD'
            ? this.#download(req, res, url.pathname.slice('/files/'.length), url.searchParams)
            : Promise.resolve(this.#refuse(res, { code: ErrorCode.BAD_FRAME, message: 'use POST to upload and GET to download' }, 405));
    run.catch((err: Error) => {
      this.deps.log.error({ err: err.message }, 'file request failed');
      if (!res.headersSent) this.#refuse(res, { code: ErrorCode.FILE_UNAVAILABLE, message: 'the server could not handle this file' }, 500);
      else res.destroy();
    });
    return true;
  }

  async #upload(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const as = query.get('as') ?? '';
    const key = this.deps.localKey(as);
    if (key === undefined || !checkFileToken(query.get('t') ?? '', as, key, this.deps.originFor(as), this.deps.signers)) {
      return this.#refuse(res, { code: ErrorCode.AUTH_FAILED, message: 'upload to the server you are connected to, with the token its welcome gave you' });
    }
    const name = validateFileName(query.get('name') ?? '');
    if (!name.ok) return this.#refuse(res, name.error);
    const to = query.get('to') ?? undefined;
    const wrongAddressee = to === undefined ? undefined : this.deps.checkAddressee(as, to);
    if (wrongAddressee) return this.#refuse(res, wrongAddressee);
    const cid = query.get('cid') ?? undefined;
    if (cid !== undefined && (cid.length === 0 || cid.length > Limits.CID_MAX_CHARS)) {
      return this.#refuse(res, { code: ErrorCode.BAD_FRAME, message: `cid must be 1–${Limits.CID_MAX_CHARS} characters` });
    }
    const already = cid === undefined ? undefined : this.deps.published(as, cid);
    if (already) return this.#answer(res, 200, { id: already });
    const declared = Number(req.headers['content-length'] ?? Number.NaN);
    if (declared > this.deps.maxBytes) {
      return this.#refuse(res, {
        code: ErrorCode.FILE_TOO_LARGE,
        message: `the file is larger than ${this.deps.maxBytes} bytes, the most this server takes`,
      });
    }
    // Quotas: the uploader's files in the history, and the files this server holds; checked before
    // a byte is written (as far as the body says its length) and while it streams in.
    const { limits } = this.deps;
    const usage = this.deps.fileUsage(as);
    const room = Math.min(limits.fileBytesPerPerson - usage.mine, limits.fileBytesTotal - usage.all);
    if (room < Math.max(1, Number.isNaN(declared) ? 1 : declared)) return this.#refuse(res, quotaError(usage, limits));
    const refused = this.deps.storeRefusal();
    if (refused) return this.#refuse(res, refused);
    const under = this.#uploading.get(as) ?? 0;
    if (under >= UPLOADS_AT_ONCE) {
      return this.#refuse(res, { code: ErrorCode.RATE_LIMITED, message: `at most ${UPLOADS_AT_ONCE} uploads at once: wait for one to finish` });
    }
    this.#uploading.set(as, under + 1);
    const received = await this.deps.files.receive(req, Math.min(this.deps.maxBytes, room), undefined, limits.uploadMinBytesPerSecond).finally(() => {
      const left = (this.#uploading.get(as) ?? 1) - 1;
      if (left > 0) this.#uploading.set(as, left);
      else this.#uploading.delete(as);
    });
    if (!received.ok) {
      this.deps.log.info({ name: as, code: received.error.code }, 'upload refused');
      const overQuota = received.error.code === ErrorCode.FILE_TOO_LARGE && room < this.deps.maxBytes;
      return this.#refuse(res, overQuota ? quotaError(usage, limits) : received.error);
    }
    // The person may have left, or the addressee gone, while the bytes came: check again.
    if (this.deps.localKey(as) !== key) return this.#refuse(res, { code: ErrorCode.AUTH_FAILED, message: 'you left the chat during the upload' });
    const gone = to === undefined ? undefined : this.deps.checkAddressee(as, to);
    if (gone) return this.#refuse(res, gone);
    const file: FileInfo = { name: name.value, size: received.value.size, type: mediaTypeOf(req.headers['content-type']), hash: received.value.hash };
    // The answer, like an ack, waits for the event's commit.
    this.deps.publish(as, file, to, cid, (event) => this.#answer(res, 201, { id: event.id, hash: file.hash }));
  }

  async #download(req: IncomingMessage, res: ServerResponse, id: string, query: URLSearchParams): Promise<void> {
    const as = query.get('as') ?? '';
    const key = this.deps.anyKey(as);
    // The session's token (`t`, what the app and the page use), or a link to this one file (`l`,
    // good until `x`: what the terminal client prints).
    const link = query.get('l');
    const expires = Number(query.get('x'));
    const right =
      key !== undefined &&
      (link === null
        ? checkFileToken(query.get('t') ?? '', as, key, this.deps.originFor(as), this.deps.signers)
        : sameText(link, fileLinkToken(key, id, expires)));
    if (!right) return this.#refuse(res, { code: ErrorCode.AUTH_FAILED, message: 'this link is not (or no longer) yours: open the file from the chat' });
    if (link !== null && !(expires > Date.now())) {
      return this.#refuse(res, { code: ErrorCode.AUTH_FAILED, message: 'this link has expired: open the file from the chat for a new one' });
    }
    // Event ids are letters, digits and dashes: one that needs decoding (or cannot be decoded) names nothing.
    const event = this.deps.event(id);
    if (event?.type !== 'file' || !this.deps.sees(event, as)) {
      return this.#refuse(res, { code: ErrorCode.FILE_NOT_FOUND, message: 'no such file here (it may be older than the history this server keeps)' });
    }
    const { file } = event;
    if (!this.deps.files.has(file.hash) && file.size > this.deps.maxBytes) {
      // A peer's event may say any size: nothing over this server's own limit is fetched to its disk.
      return this.#refuse(res, { code: ErrorCode.FILE_TOO_LARGE, message: `the file is larger than ${this.deps.maxBytes} bytes, the most this server keeps` });
    }
    if (!this.deps.files.has(file.hash)) {
      const fetched = await this.deps.files.fetchOnce(file.hash, () => this.#fetch(file, event.server));
      if (!fetched)
        return this.#refuse(res, {
          code: ErrorCode.FILE_UNAVAILABLE,
          message: 'no server that holds this file is up right now (or the file is older than the history they keep); try again later',
        });
    }
    const opened = this.deps.files.open(file.hash);
    if (!opened) return this.#refuse(res, { code: ErrorCode.FILE_NOT_FOUND, message: 'the file is gone from this server' });
    res.writeHead(200, {
      // Never rendered, never sniffed, never run: bytes to save, whatever the sender called them.
      'content-type': 'application/octet-stream',
      'content-length': opened.size,
      'content-disposition': attachment(file.name),
      'content-security-policy': "default-src 'none'; sandbox",
      'cache-control': 'private, max-age=86400',
      'x-chatty-sha256': file.hash,
      'x-chatty-type': file.type,
      'access-control-expose-headers': 'x-chatty-sha256, x-chatty-type',
    });
    sendBody(req, res, opened.stream);
  }

  /** Another server fetches a file: only what this one holds (no onward fetch, so no loops). */
  async #serveToPeer(req: IncomingMessage, res: ServerResponse, hash: string): Promise<void> {
    const proof = req.headers['x-chatty-proof'];
    if (typeof proof !== 'string' || !sameText(proof, fetchProof(this.deps.secret(), hash))) {
      return this.#refuse(res, { code: ErrorCode.AUTH_FAILED, message: 'only servers of this chat fetch files by hash' });
    }
    const opened = this.deps.files.open(hash);
    if (!opened) return this.#refuse(res, { code: ErrorCode.FILE_NOT_FOUND, message: 'this server does not hold that file' });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': opened.size });
    sendBody(req, res, opened.stream);
  }

  /** Fetch a file this server lacks: from its sender's server first, then from every other server. */
  async #fetch(file: FileInfo, holder: string): Promise<boolean> {
    const sources = [holder, ...this.deps.peers().filter((url) => url !== holder)];
    for (const server of sources) {
      if (!this.deps.peers().includes(server)) continue; // a server that left the set, or this one
      const got = await this.#fetchFrom(server, file).catch((err: Error) => {
        this.deps.log.info({ server, hash: file.hash, err: err.message }, 'could not fetch a file');
        return false;
      });
      if (got) return true;
    }
    return false;
  }

  #fetchFrom(server: string, file: FileInfo): Promise<boolean> {
    const url = `${httpBaseOf(server)}/files/sha256/${file.hash}`;
    const secure = url.startsWith('https:');
    return new Promise((resolve, reject) => {
      const headers = { 'x-chatty-proof': fetchProof(this.deps.secret(), file.hash) };
      const onResponse = (res: IncomingMessage) => {
        if (res.statusCode !== 200) {
          res.resume();
          return resolve(false);
        }
        this.deps.files
          .receive(res, Math.min(file.size, this.deps.maxBytes), file, this.deps.limits.uploadMinBytesPerSecond)
          .then((r) => resolve(r.ok), reject);
      };
      // Every server of the set presents the set's one certificate: trusting exactly it is the pin.
      const cert = this.deps.certificate();
      const req = secure
        ? httpsRequest(url, { headers, ca: cert, agent: false, checkServerIdentity: () => undefined }, onResponse)
        : httpRequest(url, { headers, agent: false }, onResponse);
      req.setTimeout(FETCH_IDLE_MS, () => req.destroy(new Error('no answer in time')));
      req.on('error', reject);
      req.end();
    });
  }

  #answer(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  /** An error as JSON `{code, message}`, with the code's HTTP status. An upload still coming is cut off rather than read. */
  #refuse(res: ServerResponse, error: ChatError, status = HTTP_STATUS[error.code] ?? 400): void {
    res.setHeader('connection', 'close');
    this.#answer(res, status, { code: error.code, message: error.message });
  }
}

/** The file's bytes as the body (none for HEAD); the file closes with the response, however it ends. */
function sendBody(req: IncomingMessage, res: ServerResponse, stream: ReadStream): void {
  if (req.method === 'HEAD') {
    stream.destroy();
    res.end();
    return;
  }
  stream.pipe(res);
  res.on('close', () => stream.destroy());
}

/** Why an upload is over its quota, with the figures a person can act on. */
function quotaError(usage: { mine: number; all: number }, limits: FileRoutesDeps['limits']): ChatError {
  const size = (bytes: number) => formatBytes(Math.max(0, bytes));
  return limits.fileBytesPerPerson - usage.mine <= limits.fileBytesTotal - usage.all
    ? {
        code: ErrorCode.QUOTA_EXCEEDED,
        message: `your files in the chat take ${size(usage.mine)} of your ${size(limits.fileBytesPerPerson)}: this one does not fit (older files leave with the history)`,
      }
    : {
        code: ErrorCode.QUOTA_EXCEEDED,
        message: `the chat's files take ${size(usage.all)} of the ${size(limits.fileBytesTotal)} this server gives them: this one does not fit`,
      };
}

/** `attachment` with the name both as plain ASCII (old browsers) and as UTF-8 (RFC 6266, RFC 8187). */
function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%;]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
}
