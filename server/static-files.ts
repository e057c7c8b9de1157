// Serves the built renderer (dist/renderer) over HTTP on the node's port, so a buddy without the
// app joins by opening http://HOST:4000/ in a browser. Only the files of the build, read once.
import { readFileSync, readdirSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';

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
export function staticFiles(directory: string, { sourceMaps = false }: { sourceMaps?: boolean } = {}): (req: IncomingMessage, res: ServerResponse) => void {
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
    // The page talks to the server it came from and to every server of its set — also those that
    // join after it was served (it fails over to them, and fetches files from them), which a list
    // fixed in this header could not name. So any host, but only over the page's own kind of
    // transport; nothing inline, nothing remote runs (script-src), and thumbnails are blob: URLs.
    const secure = (req.socket as Partial<TLSSocket>).encrypted === true;
    const connect = secure ? 'wss: https:' : 'ws: http:';
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self' ${connect}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(req.method === 'HEAD' ? undefined : file.body);
  };
}
