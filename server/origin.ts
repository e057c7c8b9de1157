// Which web pages may open a WebSocket to this server. Browsers send `Origin` on every WebSocket
// upgrade; native clients (the app's main process, the terminal client, other servers) send none.
// Allowed: no Origin; the pages this server serves itself (under any name this machine answers
// to); the pages of the servers of its set; and origins the operator lists. Anything else — a page
// from elsewhere on the LAN or the web, even one opened on this machine — is refused with 403.
// The Host header is never trusted for this: a DNS-rebinding page controls it.
import { httpBaseOf } from '../shared/files.js';
import { hostname, networkInterfaces } from 'node:os';

export interface OriginPolicyOptions {
  /** The port this server listens on (its own pages come from it). */
  port: () => number | undefined;
  /** The address it advertises, and the servers of its set: their pages may connect too. */
  servers: () => string[];
  /** Extra origins allowed by the operator, like `http://intranet.example:8080`; `*` allows any. */
  allowed: readonly string[];
}

export class OriginPolicy {
  constructor(private readonly opts: OriginPolicyOptions) {}

  /** True when a WebSocket upgrade with this `Origin` header may go on. */
  allows(origin: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.opts.allowed.includes('*')) return true;
    const normalized = normalizeOrigin(origin);
    if (normalized === undefined) return false;
    return this.#trusted().has(normalized);
  }

  #trusted(): Set<string> {
    const trusted = new Set<string>();
    for (const origin of this.opts.allowed) {
      const normalized = normalizeOrigin(origin);
      if (normalized) trusted.add(normalized);
    }
    for (const server of this.opts.servers()) {
      const page = normalizeOrigin(httpBaseOf(server));
      if (page) trusted.add(page);
    }
    const port = this.opts.port();
    if (port !== undefined) {
      for (const host of localHostNames()) {
        for (const scheme of ['http', 'https']) {
          const page = normalizeOrigin(`${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`);
          if (page) trusted.add(page);
        }
      }
    }
    return trusted;
  }
}

/** `scheme://host[:port]` as a browser writes it (lower-case host, default port left out). */
function normalizeOrigin(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? `${url.protocol}//${url.host}` : undefined;
  } catch {
    return undefined;
  }
}

/** Every name and address of this machine a browser on it or on the LAN may have used. */
function localHostNames(): string[] {
  const names = ['localhost', '127.0.0.1', '::1', hostname(), `${hostname()}.local`];
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) names.push(a.address);
  }
  return names;
}
