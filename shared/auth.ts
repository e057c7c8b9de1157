// Proving a secret without sending it (docs/protocol.md § Access): every server opens a connection
// with `hello` and a fresh nonce; the side that wants in answers with its own nonce and an HMAC
// over both nonces and the TLS channel binding, keyed with what it knows — the set's secret (a
// server), the invite code or the passphrase (a person). The server then proves the same key
// back (`auth_ok`), so an impostor learns nothing and is found out. Runs in Node and in browsers
// (@noble/hashes: WebCrypto is async, and missing on plain-http pages).
import { hmac } from '@noble/hashes/hmac.js';
import { scrypt } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, randomBytes as systemRandomBytes, utf8ToBytes } from '@noble/hashes/utils.js';

/** Who computes a proof: part of what is signed, so one side's proof never passes as the other's. */
export type ProofRole = 'client' | 'server' | 'dialer';

/** The label both ends of a TLS connection export their channel binding under (RFC 5705). */
export const BINDING_LABEL = 'EXPORTER-chatty-auth';
export const BINDING_BYTES = 32;

/** scrypt cost for passphrases: about a quarter of a second in a browser, 32 MiB. */
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, dkLen: 32 } as const;

/** Invite codes: 16 letters and digits of Crockford's base32 (no I, L, O, U): 80 bits. */
const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CODE_LENGTH = 16;

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Random bytes from the system's generator, taken from a pool it fills POOL_BYTES at a time (as
 * Node does for randomUUID and ws for its masks): a server makes a nonce for every connection and
 * a resume token for every join, and a call into the generator for each was 4 % of a server's
 * time in a join storm. Each byte is handed out once.
 */
export function randomBytes(count: number): Uint8Array {
  if (count > POOL_BYTES) return systemRandomBytes(count);
  if (poolUsed + count > pool.length) {
    pool = systemRandomBytes(POOL_BYTES);
    poolUsed = 0;
  }
  const bytes = pool.slice(poolUsed, poolUsed + count);
  poolUsed += count;
  return bytes;
}
const POOL_BYTES = 4096;
let pool = new Uint8Array(0);
let poolUsed = 0;

/** A fresh random value for `hello` and join requests. */
export function nonce(): string {
  return base64url(randomBytes(24));
}

/** A client's resume token: 128 random bits, as hex. */
export function newResumeToken(): string {
  return bytesToHex(randomBytes(16));
}

/** A new set secret (256 bits). */
export function newSecret(): string {
  return base64url(randomBytes(32));
}

/** A new invite code, grouped for reading aloud: `7KQ2-M9XD-4TPA-H3VR`. */
export function newInviteCode(): string {
  const bytes = randomBytes(CODE_LENGTH);
  let code = '';
  for (const b of bytes) code += CODE_ALPHABET[b % 32];
  return code.match(/.{4}/g)!.join('-');
}

/** An invite code as typed (any case, with or without dashes and spaces), or undefined if it is not one. */
export function normalizeInviteCode(text: string): string | undefined {
  const plain = text.toUpperCase().replace(/[\s-]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
  if (plain.length !== CODE_LENGTH || [...plain].some((c) => !CODE_ALPHABET.includes(c))) return undefined;
  return plain.match(/.{4}/g)!.join('-');
}

/** The key an invite code stands for (what servers keep and prove with). */
export function inviteKey(code: string): Uint8Array {
  return sha256(utf8ToBytes(`chatty-invite-v1\n${normalizeInviteCode(code) ?? code}`));
}

/** The key a server invite code stands for: another label, so the people's invite proves nothing to a server. */
export function serverInviteKey(code: string): Uint8Array {
  return sha256(utf8ToBytes(`chatty-server-invite-v1\n${normalizeInviteCode(code) ?? code}`));
}

/** Why a passphrase is easy to guess, or undefined when it is not obviously so (the UI warns; it does not refuse). */
export function passphraseWeakness(passphrase: string): string | undefined {
  if ([...passphrase].length < 12) return 'it is shorter than 12 characters';
  if (new Set(passphrase.toLowerCase()).size < 6) return 'it repeats a few characters';
  if (/^(.+?)\1+$/.test(passphrase)) return 'it is one short piece repeated';
  return undefined;
}

/** The key a passphrase stands for: scrypt with the chat's salt, so a stolen key file is not a passphrase. */
export function passphraseKey(passphrase: string, salt: string): Uint8Array {
  return scrypt(utf8ToBytes(passphrase.normalize('NFC')), fromBase64url(salt), SCRYPT);
}

export function secretKey(secret: string): Uint8Array {
  return fromBase64url(secret);
}

/** HMAC over the role, both nonces and the channel binding (empty where the channel has none: a browser). */
export function proof(key: Uint8Array, role: ProofRole, serverNonce: string, peerNonce: string, binding: Uint8Array | undefined): string {
  const message = utf8ToBytes(`chatty-auth-v1\n${role}\n${serverNonce}\n${peerNonce}\n${binding ? bytesToHex(binding) : ''}`);
  return base64url(hmac(sha256, key, message));
}

/**
 * The answer to a server's `hello` by the side that wants in: its nonce and proof, and the proof
 * it must get back in `auth_ok` (anything else is an impostor).
 */
export function answerHello(
  key: Uint8Array,
  role: 'client' | 'dialer',
  serverNonce: string,
  binding: Uint8Array | undefined,
): { nonce: string; proof: string; bound: boolean; expect: string } {
  const mine = nonce();
  return {
    nonce: mine,
    proof: proof(key, role, serverNonce, mine, binding),
    bound: binding !== undefined,
    expect: proof(key, 'server', serverNonce, mine, binding),
  };
}

/** Compares two proofs in time that does not depend on where they differ. */
export function sameProof(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * A certificate's SHA-256 fingerprint (of its DER bytes), as invites carry it (base64url) and as
 * people compare it with what a browser shows (hex pairs).
 */
export function fingerprintOf(der: Uint8Array): string {
  return base64url(sha256(der));
}

export function fingerprintForPeople(fingerprint: string): string {
  return bytesToHex(fromBase64url(fingerprint)).toUpperCase().match(/.{2}/g)!.join(':');
}
