// This server's own signing key (docs/protocol.md § Signed events): an Ed25519 key pair made once
// and kept in the data folder, readable by the user only. Its origin id is derived from the public
// key (the first 10 bytes of its SHA-256, hex), so anyone can tell which key an origin's events
// must be signed with, and no server of the set can sign for another's origin.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { base64url, fromBase64url } from '../shared/auth.js';
import type { ChatEvent, SetKeysFrame } from '../shared/protocol.js';
import { writePrivateFile } from './private-file.js';
import { StoreError } from './store.js';

const FILE = 'server-key.pem';
/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the raw 32 bytes follow it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * The origin id an Ed25519 public key (raw 32 bytes) stands for: the first 10 bytes of its SHA-256,
 * as 20 hex digits. Finding another key with the same origin takes ~2^80 tries; every event and
 * event id carries the origin, so it is kept as short as that allows (bytes per delivery).
 */
export function originOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 20);
}

/**
 * The bytes an event's signature covers: every field but `sig` and `ts` (a server may replace a
 * peer's far-off `ts`), as JSON with keys sorted at every depth, so every server makes the same
 * bytes from the same event whatever order its fields came in.
 */
export function signedBytes(event: ChatEvent): Buffer {
  const { sig: _sig, ts: _ts, ...rest } = event;
  return Buffer.from(canonicalJson(rest));
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The Ed25519 public key a field holds (raw 32 bytes, base64url: an event's `signer`, a device's `key`), if it is one. */
export function publicKeyOf(signer: string): KeyObject | undefined {
  const raw = fromBase64url(signer);
  // As a JWK: importing it costs a tenth of the DER form (9 against 76 µs here), once per join and per verified event.
  return raw.length === 32 ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: base64url(raw) }, format: 'jwk' }) : undefined;
}

/** The public key an event's `signer` holds, if it is the key its origin id stands for. */
function signerKey(event: ChatEvent): KeyObject | undefined {
  if (event.signer === undefined || originOf(fromBase64url(event.signer)) !== event.origin) return undefined;
  return publicKeyOf(event.signer);
}

type Keys = Omit<SetKeysFrame, 'type'>;

/** The bytes a key change's signature covers: the keys but `sig`, as JSON with sorted keys. */
function keysBytes(keys: Keys): Buffer {
  const { sig: _sig, ...rest } = keys;
  return Buffer.from(canonicalJson(rest));
}

/** The origin of the server that signed a key change, or undefined when no server did. */
export function keysSigner(keys: Keys): string | undefined {
  if (keys.signer === undefined || keys.sig === undefined) return undefined;
  const key = publicKeyOf(keys.signer);
  try {
    return key && verify(null, keysBytes(keys), key, fromBase64url(keys.sig)) ? originOf(fromBase64url(keys.signer)) : undefined;
  } catch {
    return undefined;
  }
}

/** Why an event from a peer is not its origin's own, or undefined when it is. */
export function signatureFault(event: ChatEvent): string | undefined {
  if (event.signer === undefined || event.sig === undefined) return 'it is not signed';
  const key = signerKey(event);
  if (!key) return 'its key is not its origin’s';
  return verify(null, signedBytes(event), key, fromBase64url(event.sig)) ? undefined : 'its signature is wrong';
}

/**
 * The servers' public keys by origin, learnt from the events that carry them (an origin names its
 * key, so any event's `signer` that hashes to its origin is that origin's key): what checks a
 * server's other signatures, such as the file tokens it gives its clients.
 */
export class SignerKeys {
  readonly #keys = new Map<string, KeyObject>();

  /** Learn the key an event carries, if it is its origin's. */
  note(event: ChatEvent): void {
    if (event.signer === undefined || this.#keys.has(event.origin)) return;
    const key = signerKey(event);
    if (key) this.#keys.set(event.origin, key);
  }

  add(origin: string, key: KeyObject): void {
    this.#keys.set(origin, key);
  }

  /** Whether `sig` (base64url) is `origin`'s signature over `text`; false for an origin not known. */
  verify(origin: string, text: string, sig: string): boolean {
    const key = this.#keys.get(origin);
    if (!key) return false;
    try {
      return verify(null, Buffer.from(text), key, fromBase64url(sig));
    } catch {
      return false;
    }
  }
}

export class ServerKey {
  readonly origin: string;
  /** The public key, raw 32 bytes as base64url: what every signed event carries as `signer`. */
  readonly publicKey: string;
  readonly #private: KeyObject;

  private constructor(privateKey: KeyObject) {
    this.#private = privateKey;
    const raw = createPublicKey(privateKey).export({ format: 'der', type: 'spki' }).subarray(ED25519_SPKI_PREFIX.length);
    this.publicKey = base64url(raw);
    this.origin = originOf(raw);
  }

  /** The data folder's key, made there the first time; a new one each run without a folder. */
  static load(folder: string | undefined): ServerKey {
    if (folder === undefined) return new ServerKey(generateKeyPairSync('ed25519').privateKey);
    const file = join(folder, FILE);
    if (existsSync(file)) {
      try {
        return new ServerKey(createPrivateKey(readFileSync(file, 'utf8')));
      } catch {
        throw new StoreError(`this server's key in ${folder} is damaged: move ${FILE} away (the server starts under a new origin id)`);
      }
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    writePrivateFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    return new ServerKey(privateKey);
  }

  /** This server's public key, to check its own signatures with (SignerKeys). */
  get publicKeyObject(): KeyObject {
    return createPublicKey(this.#private);
  }

  /** Its signature (base64url) over `text`. */
  signText(text: string): string {
    return base64url(sign(null, Buffer.from(text), this.#private));
  }

  /** A key change made here, signed as this server's. */
  signKeys<K extends Keys>(keys: K): K {
    const keyed = { ...keys, signer: this.publicKey };
    return { ...keyed, sig: base64url(sign(null, keysBytes(keyed), this.#private)) };
  }

  /** `event` (one of this server's) with its key and signature. */
  sign(event: ChatEvent): ChatEvent {
    if (event.sig !== undefined) return event;
    const keyed = { ...event, signer: this.publicKey };
    return { ...keyed, sig: base64url(sign(null, signedBytes(keyed), this.#private)) };
  }
}
