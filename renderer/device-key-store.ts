// This browser's device key (docs/protocol.md § Identity): an Ed25519 key pair made with WebCrypto
// on first use and kept in IndexedDB, its private half non-extractable — scripts can use it to
// sign, never read it. Where WebCrypto is missing (a plain-http page on the LAN is not a secure
// context: no crypto.subtle) the key is @noble/curves' Ed25519, its 32 secret bytes kept in the
// same store — readable by this origin's scripts, which the page's CSP limits to its own. A key
// once made is kept, whichever kind it is.
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64url } from '../shared/auth.js';
import type { DeviceSigner } from '../shared/device-key.js';

const DB = 'chatty';
const STORE = 'keys';
const DEVICE = 'device';
/** Where a key made without WebCrypto is kept: its secret bytes. */
const DEVICE_BYTES = 'device-bytes';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function database(): Promise<IDBDatabase> {
  const open = indexedDB.open(DB, 1);
  open.onupgradeneeded = () => open.result.createObjectStore(STORE);
  return request(open);
}

/** This browser's key, made and kept on first use; undefined where the browser cannot keep one. */
export async function browserDeviceKey(): Promise<DeviceSigner | undefined> {
  if (typeof indexedDB === 'undefined') return undefined;
  try {
    const db = await database();
    try {
      const store = () => db.transaction(STORE).objectStore(STORE);
      const pair = (await request(store().get(DEVICE))) as CryptoKeyPair | undefined;
      const secret = (await request(store().get(DEVICE_BYTES))) as Uint8Array | undefined;
      if (pair) return await webCryptoSigner(pair);
      if (secret) return nobleSigner(secret);
      const made = await madeWithWebCrypto();
      if (made) {
        await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(made, DEVICE));
        return await webCryptoSigner(made);
      }
      const fresh = ed25519.utils.randomSecretKey();
      await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(fresh, DEVICE_BYTES));
      return nobleSigner(fresh);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // storage refused (a private window may): joins go on without a key
  }
}

/** A new non-extractable key pair, where WebCrypto does Ed25519. */
async function madeWithWebCrypto(): Promise<CryptoKeyPair | undefined> {
  try {
    return (await globalThis.crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
  } catch {
    return undefined; // no crypto.subtle (not a secure context), or no Ed25519 in it
  }
}

async function webCryptoSigner({ privateKey, publicKey }: CryptoKeyPair): Promise<DeviceSigner> {
  const { subtle } = globalThis.crypto;
  const raw = new Uint8Array(await subtle.exportKey('raw', publicKey));
  return { publicKey: base64url(raw), sign: async (message) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message as BufferSource)) };
}

function nobleSigner(secret: Uint8Array): DeviceSigner {
  return { publicKey: base64url(ed25519.getPublicKey(secret)), sign: async (message) => ed25519.sign(message, secret) };
}
