// Files over HTTP (docs/protocol.md § Files): where a session uploads and downloads them, which
// types are shown as pictures, and sizes for people. Runs in Node and in the browser.
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
