// Who may in (docs/protocol.md § Access): this server's side of every proof — the `hello` it opens
// each connection with, checking a client's or a dialing server's proof, proving back, and the
// proof it gives when it dials a peer. It holds the set's keys (set-keys.ts) and takes newer ones
// from peers; who persists them and reloads TLS is told through `onKeysChanged`.
import { ErrorCode } from '../shared/errors.js';
import { answerHello, fromBase64url, inviteKey, nonce, type ProofRole, proof, sameProof, secretKey, serverInviteKey } from '../shared/auth.js';
import { type ClientAuth, type Hello, type LinkAuth, frame } from '../shared/protocol.js';
import { keysSigner } from './server-key.js';
import { certificateFingerprint, KEYS_VERSION_AHEAD_MS, type SetKeys } from './set-keys.js';

export interface AccessOptions {
  keys: SetKeys;
  /** Servers that show the server invite (not the secret) may join the set and are handed its keys. Default true. */
  invitedReplicas: boolean;
  /** The server invite this server joins its set with, until the set's keys arrive. */
  joinInvite?: string;
  onKeysChanged(keys: SetKeys): void;
}

/**
 * `guessable`: the key was a passphrase, which people choose: an address over its rate of wrong
 * proofs is kept out even with the right one, or the rate would not slow guessing. Invites and the
 * secret are random (80 and 256 bits): the right one gets in whatever wrong tries came before it.
 */
export type AccessVerdict =
  | { ok: true; proof: string; guessable: boolean }
  | { ok: false; code: typeof ErrorCode.AUTH_REQUIRED | typeof ErrorCode.AUTH_FAILED; message: string };

/** What one connection's `hello` said, and what the channel binds proofs to. */
export interface Challenge {
  nonce: string;
  binding: Uint8Array | undefined;
}

export class Access {
  #keys: SetKeys;
  #joinInvite: string | undefined;
  #fingerprint: string | undefined;

  constructor(private readonly opts: AccessOptions) {
    this.#keys = opts.keys;
    this.#joinInvite = opts.joinInvite;
    this.#fingerprint = opts.keys.cert ? certificateFingerprint(opts.keys.cert) : undefined;
  }

  get keys(): SetKeys {
    return this.#keys;
  }

  /** This server is joining its set with the server invite: it takes the keys it is handed, whole. */
  get joining(): boolean {
    return this.#joinInvite !== undefined;
  }

  /** New servers may join the set with the server invite. */
  get admitsServers(): boolean {
    return this.opts.invitedReplicas;
  }

  /** The set's certificate fingerprint (base64url SHA-256), or undefined without TLS. */
  get fingerprint(): string | undefined {
    return this.#fingerprint;
  }

  hello(challenge: Challenge): Hello {
    return frame.hello(challenge.nonce, this.#keys.private, this.#keys.passphrase?.salt);
  }

  /** A client's join: open chats take everyone; private ones a proof of the invite or passphrase. */
  checkClient(auth: ClientAuth | undefined, challenge: Challenge): AccessVerdict | undefined {
    if (!this.#keys.private) return undefined;
    // Each says what this chat takes: a passphrase is mentioned only where the host chose one.
    const passphrase = this.#keys.passphrase !== undefined;
    if (!auth) {
      const needs = passphrase ? 'its invite link or code, or the passphrase the host chose' : 'its invite link or code: ask the host';
      return { ok: false, code: ErrorCode.AUTH_REQUIRED, message: `this chat is private: join with ${needs}` };
    }
    const key = auth.with === 'invite' ? inviteKey(this.#keys.invite) : passphrase ? fromBase64url(this.#keys.passphrase!.key) : undefined;
    const wrong =
      auth.with === 'invite'
        ? 'that invite code is not (or no longer) right for this chat: ask the host for the current invite'
        : passphrase
          ? 'that passphrase is not right for this chat'
          : 'this chat has no passphrase: join with its invite link or code';
    const verdict = this.#verify(key, 'client', auth, challenge, wrong);
    return verdict.ok && auth.with === 'passphrase' ? { ...verdict, guessable: true } : verdict;
  }

  /**
   * A server's `server_join_req`: the set's secret always; the server invite when invited replicas
   * are allowed. The people's invite lets people chat, never run a server of the set.
   */
  checkLink(auth: LinkAuth | undefined, challenge: Challenge): AccessVerdict {
    if (!auth)
      return { ok: false, code: ErrorCode.AUTH_REQUIRED, message: "servers of this set prove they know its secret: join with the set's server invite" };
    if (auth.with === 'invite') {
      return { ok: false, code: ErrorCode.AUTH_FAILED, message: "that is the people's invite: running a server of this chat needs its server invite" };
    }
    if (auth.with === 'server_invite' && !this.opts.invitedReplicas) {
      return { ok: false, code: ErrorCode.AUTH_FAILED, message: 'this host lets no new server join its set (--no-replicas)' };
    }
    const key = auth.with === 'secret' ? secretKey(this.#keys.secret) : serverInviteKey(this.#keys.serverInvite);
    const wrong =
      auth.with === 'secret'
        ? "that server is not of this set (its secret differs): join it with this set's server invite"
        : 'wrong server invite for this set (or one since replaced)';
    return this.#verify(key, 'dialer', auth, challenge, wrong);
  }

  #verify(key: Uint8Array | undefined, role: ProofRole, auth: ClientAuth | LinkAuth, challenge: Challenge, wrong: string): AccessVerdict {
    // A proof made without the channel binding where there is one could have been relayed.
    const binding = auth.bound ? challenge.binding : undefined;
    const fine =
      key !== undefined &&
      (auth.bound === (challenge.binding !== undefined) || role === 'client') &&
      sameProof(auth.proof, proof(key, role, challenge.nonce, auth.nonce, binding));
    if (!fine) return { ok: false, code: ErrorCode.AUTH_FAILED, message: wrong };
    return { ok: true, proof: proof(key, 'server', challenge.nonce, auth.nonce, binding), guessable: false };
  }

  /** Dialing a peer: prove the set's secret (or, before this server has it, the server invite it joins with). */
  dial(hello: Hello, binding: Uint8Array | undefined): { auth: LinkAuth; expect: string } {
    const usingInvite = this.#joinInvite !== undefined;
    const key = usingInvite ? serverInviteKey(this.#joinInvite!) : secretKey(this.#keys.secret);
    const { expect, ...answer } = answerHello(key, 'dialer', hello.nonce, binding);
    return { auth: { with: usingInvite ? 'server_invite' : 'secret', ...answer }, expect };
  }

  /**
   * Keys from a peer (or a new invite here): the newest version wins. A server joining with the
   * server invite takes the set's keys whole; after that only who may join changes (the invites,
   * private, passphrase) — the secret and the certificate are the set's identity, and a member
   * swaps them only when it takes a server out of the set (`revoke`). A version far ahead of this
   * server's clock is refused: it would leave no room for the next change. True when they were taken.
   */
  adopt(keys: SetKeys): boolean {
    if (!this.accepts(keys)) return false;
    this.#joinInvite = undefined;
    this.#keys = keys;
    this.#fingerprint = keys.cert ? certificateFingerprint(keys.cert) : undefined;
    this.opts.onKeysChanged(keys);
    return true;
  }

  /** Whether adopt() would take `keys` (the rules above), without taking them. */
  accepts(keys: SetKeys): boolean {
    if (this.#joinInvite !== undefined) return true;
    if (keys.version <= this.#keys.version || keys.version > Date.now() + KEYS_VERSION_AHEAD_MS) return false;
    // A change is signed by the admitted server that made it (server-key.ts): said in the log, and
    // nobody can alter one on its way.
    if (keysSigner(keys) === undefined) return false;
    const identity = keys.secret !== this.#keys.secret || keys.cert !== this.#keys.cert || keys.key !== this.#keys.key;
    return !identity || keys.revoke !== undefined;
  }

  /** A fresh challenge for a new connection. */
  static challenge(binding: Uint8Array | undefined): Challenge {
    return { nonce: nonce(), binding };
  }
}
