// Files over HTTP (docs/protocol.md § Files): where a session uploads and downloads them, which
// types are shown as pictures, and sizes for people. Runs in Node and in the browser.
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64url } from './auth.js';
import type { Welcome } from './protocol.js';

/** What the welcome gives a session for files: its token, and the largest upload its server takes. */
export type FileAccess = NonNullable<Welcome['files']>;

/** Types shown as thumbnails: raster pictures only. SVG is a document that can carry script: a download like any other. */
export const PICTURE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** Pictures up to this size are fetched to show as thumbnails; bigger ones wait for a click. */
export const THUMBNAIL_MAX_BYTES = 10 * 1024 * 1024;

/** The HTTP(S) origin of a chat server at `server` (ws:// → http://, wss:// → https://). */
export function httpBaseOf(server: string): string {
  return server.replace(/^ws/, 'http');
}

/** Where `me` downloads the file of event `eventId` from the server at `server`. */
export function downloadUrl(server: string, eventId: string, me: string, access: FileAccess): string {
  const query = new URLSearchParams({ as: me, t: access.token });
  return `${httpBaseOf(server)}/files/${encodeURIComponent(eventId)}?${query}`;
}

/** How long a link the terminal client prints stays good. */
export const FILE_LINK_TTL_MS = 24 * 3600_000;

/**
 * What makes a link to one file, good until `expires` (ms since the epoch): an HMAC keyed with the
 * session's resume key (the SHA-256 of its resume token, hex), which the servers of the set keep
 * and the client can compute. A printed link, copied or shown, opens that file only, and not for
 * ever; the session's token (`t`) stays in the session.
 */
export function fileLinkToken(sessionKey: string, eventId: string, expires: number): string {
  return base64url(hmac(sha256, hexToBytes(sessionKey), utf8ToBytes(`chatty-file-link\n${eventId}\n${expires}`)));
}

/** A link to the file of event `eventId` for `me`, good until `expires`: `GET /files/<id>?as&x&l`. */
export function fileLinkUrl(server: string, eventId: string, me: string, sessionKey: string, expires: number): string {
  const query = new URLSearchParams({ as: me, x: String(expires), l: fileLinkToken(sessionKey, eventId, expires) });
  return `${httpBaseOf(server)}/files/${encodeURIComponent(eventId)}?${query}`;
}

/** Where `me` uploads a file to the server at `server`; the body is the file's bytes. */
export function uploadUrl(server: string, me: string, access: FileAccess, file: { name: string; to?: string; cid?: string }): string {
  const query = new URLSearchParams({ as: me, t: access.token, name: file.name });
  if (file.to !== undefined) query.set('to', file.to);
  if (file.cid !== undefined) query.set('cid', file.cid);
  return `${httpBaseOf(server)}/files?${query}`;
}

/** 1536 → "1.5 KB", for people (powers of 1024, as file managers show them). */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

/**
 * The SHA-256 of `bytes` as hex (a file's `hash`), without holding up a page: hashing a 100 MB
 * download in JavaScript takes ~0.8 s here (WebCrypto ~0.15 s), all of it a frozen page if done
 * in one go. WebCrypto where there is one (Node, the app, https
 * pages and 127.0.0.1: native, and off the page's thread); on a plain-http page, which has none,
 * in slices with a pause for the page between them. `subtle`: which WebCrypto to use, null for the
 * slices; `pause`: how to let the page run (the next task).
 */
export async function sha256Hex(bytes: Uint8Array<ArrayBuffer>, subtle: Digester | null = webCrypto(), pause = nextTask): Promise<string> {
  if (subtle) return bytesToHex(new Uint8Array(await subtle.digest('SHA-256', bytes)));
  const hash = sha256.create();
  for (let at = 0; at < bytes.length; at += HASH_SLICE_BYTES) {
    if (at > 0) await pause();
    hash.update(bytes.subarray(at, at + HASH_SLICE_BYTES));
  }
  return bytesToHex(hash.digest());
}

const nextTask = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** What sha256Hex takes of WebCrypto (`crypto.subtle`, typed alike in Node and in the DOM). */
interface Digester {
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}
const webCrypto = (): Digester | null => (globalThis as { crypto?: { subtle?: Digester } }).crypto?.subtle ?? null;

/** About 9 ms of hashing in JavaScript (measured in Node): the page answers between slices. */
const HASH_SLICE_BYTES = 1024 * 1024;
