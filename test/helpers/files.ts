// HTTP calls to a node's file routes, as a client would make them (server/file-http.ts). The
// servers' certificates are self-signed; what these tests check is above TLS.
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { downloadUrl, uploadUrl } from '../../shared/files.js';
import type { RawSocket } from './sockets.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body as JSON, when it is. */
  json: Record<string, any> | undefined;
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** A request to `url` (http or https) with `body`; resolves with the whole answer. */
export function http(
  url: string,
  { method = 'GET', body, headers = {} }: { method?: string; body?: Buffer; headers?: Record<string, string> } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = request(
      url,
      { method, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) }, rejectUnauthorized: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          let json: Record<string, any> | undefined;
          try {
            json = /json/.test(res.headers['content-type'] ?? '') ? JSON.parse(all.toString()) : undefined;
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** What a joined RawSocket's welcome gave it for files. */
export function accessOf(socket: RawSocket): { server: string; name: string; access: { token: string; maxBytes: number } } {
  const welcome = socket.frames.find((f) => f.type === 'welcome')!;
  return { server: welcome.server, name: welcome.name, access: welcome.files };
}

/** Upload `bytes` as the client joined on `socket`. */
export function upload(socket: RawSocket, bytes: Buffer, file: { name: string; type?: string; to?: string; cid?: string }): Promise<HttpAnswer> {
  const { server, name, access } = accessOf(socket);
  return http(uploadUrl(server, name, access, file), { method: 'POST', body: bytes, headers: { 'content-type': file.type ?? 'application/octet-stream' } });
}

/** Download the file of event `id` as the client joined on `socket`, from `server` (default: its own). */
export function download(socket: RawSocket, id: string, server?: string): Promise<HttpAnswer> {
  const own = accessOf(socket);
  return http(downloadUrl(server ?? own.server, id, own.name, own.access));
}
