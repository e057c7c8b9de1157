// What a set of servers shares and nobody else may know (docs/protocol.md § Access): the secret
// servers prove to link, the TLS certificate and key every server of the set presents (one
// certificate, so a client that pinned it can fail over to any server), and what people prove to
// join a private chat — the invite code and, if the host chose one, a passphrase's scrypt key —
// and the server invite, which only servers joining the set prove. The first host makes them; a
// server that joins with the server invite is handed them over the authenticated link. Kept in the data folder, readable by the user only (sealed by the app with
// Electron's safeStorage where it has one).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import * as v from 'valibot';
import { base64url, fingerprintOf, newInviteCode, newSecret, nonce, passphraseKey } from '../shared/auth.js';
import { SetKeysFrame } from '../shared/protocol.js';
import { writePrivateFile } from './private-file.js';
import { StoreError } from './store.js';

export type SetKeys = Omit<v.InferOutput<typeof SetKeysFrame>, 'type'>;

/** Seals the file's contents where the platform keeps secrets (Electron's safeStorage); identity otherwise. */
export interface SecretsCodec {
  /** Asked when the file is written: false keeps it a plain file readable by the user only. */
  available(): boolean;
  seal(text: string): Buffer;
  open(sealed: Buffer): string;
}

const FILE = 'set-keys.json';
const SEALED = 'set-keys.sealed';

/** A self-signed certificate for the set, valid ten years (there is no one to renew it with). */
export async function newCertificate(): Promise<{ cert: string; key: string }> {
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'Chatty chat' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: new Date(now.getTime() - 24 * 3600_000),
    notAfterDate: new Date(now.getTime() + 10 * 365 * 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

export function certificateFingerprint(certPem: string): string {
  return fingerprintOf(new X509Certificate(certPem).raw);
}

/** Keys for a new, open set without a certificate: what a bare ChatServer (no listener) needs. */
export function newSetKeysWithoutTls(): SetKeys {
  return { version: Date.now(), secret: newSecret(), invite: newInviteCode(), serverInvite: newInviteCode(), private: false };
}

export interface KeyChoices {
  /** Folder to read them from (and where the node keeps them), or undefined for none. */
  data: string | undefined;
  insecure: boolean;
  private: boolean | undefined;
  passphrase: string | undefined;
  newInvite: boolean;
  /** A new server invite: the old one admits no new server. */
  newServerInvite?: boolean;
  /** Told what of the kept keys was ignored (and why): a start goes on without it. */
  warn?: (message: string) => void;
  codec: SecretsCodec | undefined;
}

/** The keys a starting server uses: the data folder's (or new ones), with the operator's choices applied. */
export async function prepareSetKeys(choices: KeyChoices): Promise<SetKeys> {
  let keys = (choices.data && loadSetKeys(choices.data, choices.codec, choices.warn)) || newSetKeysWithoutTls();
  if (!choices.insecure && !keys.cert) keys = { ...keys, ...(await newCertificate()) };
  if (choices.private !== undefined && choices.private !== keys.private) keys = { ...keys, version: nextVersion(keys), private: choices.private };
  if (choices.passphrase !== undefined) keys = withPassphrase(keys, choices.passphrase);
  if (choices.newInvite) keys = withNewInvite(keys);
  if (choices.newServerInvite) keys = withNewServerInvite(keys);
  return keys;
}

/** The same keys with a passphrase for people (or none), or a new invite (the old one stops working). */
export function withPassphrase(keys: SetKeys, passphrase: string | undefined): SetKeys {
  const { passphrase: _old, ...rest } = keys;
  if (!passphrase) return { ...rest, version: nextVersion(keys) };
  const salt = nonce();
  return { ...rest, version: nextVersion(keys), passphrase: { salt, key: base64url(passphraseKey(passphrase, salt)) } };
}

export function withNewInvite(keys: SetKeys): SetKeys {
  return { ...keys, version: nextVersion(keys), invite: newInviteCode() };
}

export function withNewServerInvite(keys: SetKeys): SetKeys {
  return { ...keys, version: nextVersion(keys), serverInvite: newInviteCode() };
}

/**
 * The set's keys made anew but for who may join (private, passphrase), taking `server` out of the
 * set: a new secret, certificate and invites, so nothing it held works any more.
 */
export async function revokedKeys(keys: SetKeys, server: string): Promise<SetKeys> {
  const tls = keys.cert ? await newCertificate() : {};
  return { ...keys, ...tls, version: nextVersion(keys), secret: newSecret(), invite: newInviteCode(), serverInvite: newInviteCode(), revoke: server };
}

/**
 * A version may run ahead of this server's clock by this much, no more: a version is the time of
 * its change, and one pushed to the end of the number line would leave no room for the next.
 */
export const KEYS_VERSION_AHEAD_MS = 10 * 60_000;

/** Versions order changes across the set (the newest wins): the time, and always past the last. */
function nextVersion(keys: SetKeys): number {
  const now = Date.now();
  // One from too far ahead (kept from before peers' versions were checked) gives way to now.
  return keys.version > now + KEYS_VERSION_AHEAD_MS ? now : Math.max(now, keys.version + 1);
}

/** The keys kept in `directory`, or undefined when there are none yet. */
export function loadSetKeys(directory: string, codec?: SecretsCodec, warn: (message: string) => void = () => {}): SetKeys | undefined {
  const sealed = join(directory, SEALED);
  const plain = join(directory, FILE);
  let text: string;
  try {
    if (codec && existsSync(sealed)) text = codec.open(readFileSync(sealed));
    else if (existsSync(plain)) text = readFileSync(plain, 'utf8');
    else return undefined;
  } catch (err) {
    throw new StoreError(`cannot read the chat's keys in ${directory}: ${(err as Error).message}`);
  }
  try {
    const stored = JSON.parse(text);
    // Keys kept before there were server invites get one (the people's invite no longer admits servers).
    if (stored && typeof stored === 'object' && !('serverInvite' in stored)) stored.serverInvite = newInviteCode();
    // A version pushed far ahead (by a peer, before versions were checked) would leave no room for
    // the next change: it gives way to now, and the start goes on.
    if (stored && typeof stored === 'object' && !(Number.isSafeInteger(stored.version) && stored.version <= Date.now() + KEYS_VERSION_AHEAD_MS)) {
      warn(`the chat's keys in ${directory} had a version far ahead of this clock (${String(stored.version).slice(0, 24)}): ignored, counting from now`);
      stored.version = Date.now();
    }
    const { type: _type, ...keys } = v.parse(SetKeysFrame, { type: 'set_keys', ...stored });
    return keys;
  } catch {
    throw new StoreError(`the chat's keys in ${directory} are damaged: move ${FILE} away to start a new chat (people will need a new invite)`);
  }
}

/** Written whole (a new file renamed over the old), readable by the user only. */
export function saveSetKeys(directory: string, keys: SetKeys, codec?: SecretsCodec): void {
  const sealing = codec?.available() === true;
  const target = join(directory, sealing ? SEALED : FILE);
  const text = JSON.stringify(keys);
  writePrivateFile(target, sealing ? codec!.seal(text) : text);
  // One copy only: a plain file left beside a sealed one would defeat the seal.
  if (sealing) rmSync(join(directory, FILE), { force: true });
}
