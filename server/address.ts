// Which address other machines on the LAN reach this one at.
import { networkInterfaces } from 'node:os';

/** The first non-internal IPv4 address, or 127.0.0.1 on a machine with no network. */
function lanAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** The URL a node advertises: its bind address, or its LAN address when bound to every interface. */
export function advertisedUrl(bind: string, port: number, secure: boolean): string {
  const host = bind === '0.0.0.0' || bind === '::' ? lanAddress() : bind;
  return `${secure ? 'wss' : 'ws'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
