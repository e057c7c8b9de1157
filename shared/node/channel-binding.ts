// The TLS channel binding both ends of one connection compute (RFC 5705 keying material): a proof
// made over it is worthless on any other connection, so a man in the middle cannot relay it.
// Node only (browsers cannot read it; docs/protocol.md § Access says what that leaves).
import type { TLSSocket } from 'node:tls';
import { BINDING_BYTES, BINDING_LABEL } from '../auth.js';

export function channelBinding(socket: unknown): Uint8Array | undefined {
  const tls = socket as Partial<TLSSocket> | undefined;
  if (typeof tls?.exportKeyingMaterial !== 'function' || !tls.encrypted) return undefined;
  return new Uint8Array(tls.exportKeyingMaterial(BINDING_BYTES, BINDING_LABEL, Buffer.alloc(0)));
}
