// Serves the built renderer (dist/renderer) over HTTP on the node's port, so a buddy without the
// app joins by opening http://HOST:4000/ in a browser. Only the files of the build, read once.
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { httpBaseOf } from '../shared/files.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The request handler; `directory` is read once, so later changes on disk are not served. Source
 * maps (the app's sources, comments and all) are served only with `sourceMaps`.
 */
export function staticFiles(
  directory: string,
  { sourceMaps = false, connectTo = () => [] }: { sourceMaps?: boolean; connectTo?: () => string[] } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(directory)) {
    if (extname(name) === '.map' && !sourceMaps) continue;
    const type = TYPES[extname(name)];
    if (type) files.set(`/${name}`, { body: readFileSync(join(directory, name)), type });
  }
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const file = files.get(path === '/' ? '/index.html' : path);
    if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found\n');
      return;
    }
    // The page may talk only to the server it came from and the servers of its set (it fails over
    // to them, and fetches files from them); nothing inline, nothing remote. Thumbnails are blob: URLs.
    const host = /^[\w.[\]:-]+$/.test(req.headers.host ?? '') ? req.headers.host : 'localhost';
    const servers = connectTo()
      .filter((url) => /^wss?:\/\/[\w.[\]:-]+$/.test(url))
      .flatMap((url) => [url, httpBaseOf(url)]); // its socket, and its files (docs/protocol.md § Files)
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src ws://${host} wss://${host} 'self'${servers.map((s) => ` ${s}`).join('')}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
