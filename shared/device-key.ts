// A device's key (docs/protocol.md § Identity): each app, terminal client and browser makes an
// Ed25519 key pair on first use and keeps it; on every join it signs the server's `hello` nonce
// with it, so the set can tell one person's devices from anyone who types the same name. Here:
// what is signed, and how a proof is made — the same bytes in Node and in the browser. Keeping the
// key is each front end's: shared/node/device-key-file.ts, renderer/device-key-store.ts.
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { base64url } from './auth.js';
import type { DeviceProof } from './protocol.js';

/** What signs for a device; the private half never leaves it. */
export interface DeviceSigner {
  /** The raw 32-byte Ed25519 public key, base64url. */
  readonly publicKey: string;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * The bytes a device signs to join as `name` on the connection whose `hello` carried `helloNonce`:
 * `chatty-device-v1 LF helloNonce LF name LF hex(binding)` in UTF-8 (binding empty where the
 * client cannot read it). The nonce makes a proof worthless on any other connection; the binding,
 * through a man in the middle too.
 */
export function deviceProofMessage(helloNonce: string, name: string, binding: Uint8Array | undefined): Uint8Array {
  return utf8ToBytes(`chatty-device-v1\n${helloNonce}\n${name}\n${binding ? bytesToHex(binding) : ''}`);
}

/** This device's proof for one join. */
export async function proveDevice(signer: DeviceSigner, helloNonce: string, name: string, binding: Uint8Array | undefined): Promise<DeviceProof> {
  const sig = await signer.sign(deviceProofMessage(helloNonce, name, binding));
  return { key: signer.publicKey, sig: base64url(sig), bound: binding !== undefined };
}
