// This browser's device key (docs/protocol.md § Identity): an Ed25519 key pair made with WebCrypto
// on first use and kept in IndexedDB, its private half non-extractable — scripts can use it to
// sign, never read it. Where WebCrypto has no Ed25519 (a plain-http page is not a secure context)
// the page joins without a key for now; @noble/curves is the planned fallback (#28).
import { base64url } from '../shared/auth.js';
import type { DeviceSigner } from '../shared/device-key.js';

const DB = 'chatty';
const STORE = 'keys';
const DEVICE = 'device';

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

/** This browser's key, made and kept on first use; undefined where the browser cannot make one. */
export async function browserDeviceKey(): Promise<DeviceSigner | undefined> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle || typeof indexedDB === 'undefined') return undefined;
  try {
    const db = await database();
    let pair = (await request(db.transaction(STORE).objectStore(STORE).get(DEVICE))) as CryptoKeyPair | undefined;
    if (!pair) {
      pair = (await subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])) as CryptoKeyPair;
      await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(pair, DEVICE));
    }
    db.close();
    const { privateKey } = pair;
    const publicKey = base64url(new Uint8Array(await subtle.exportKey('raw', pair.publicKey)));
    return { publicKey, sign: async (message) => new Uint8Array(await subtle.sign({ name: 'Ed25519' }, privateKey, message as BufferSource)) };
  } catch {
    return undefined; // no Ed25519 here, or storage refused (a private window may): joins go on without a key
  }
}
