// A client's device proof at join (docs/protocol.md § Identity): the Ed25519 signature of its
// device key over this connection's `hello` nonce, the name and the channel binding. One
// verification per join, handed to libuv's thread pool (crypto.verify's callback form; WebCrypto's
// verify measured slower, with more left on this thread). A wrong one is refused like a wrong invite.
import { verify } from 'node:crypto';
import { fromBase64url } from '../shared/auth.js';
import { deviceProofMessage } from '../shared/device-key.js';
import { type ChatError, ErrorCode } from '../shared/errors.js';
import type { DeviceProof } from '../shared/protocol.js';
import type { Challenge } from './access.js';
import { publicKeyOf } from './server-key.js';

/** Why `proof` does not prove its key for `name` on this connection; undefined when it does. */
export async function deviceProofFault(proof: DeviceProof, name: string, challenge: Challenge): Promise<ChatError | undefined> {
  // Signed without the binding where there is one: it could have been relayed from another connection.
  if (proof.bound !== (challenge.binding !== undefined) && proof.bound) return wrong('it was bound to a channel this connection does not have');
  const key = publicKeyOf(proof.key);
  if (!key) return wrong('its key is not an Ed25519 public key');
  const message = deviceProofMessage(challenge.nonce, name, proof.bound ? challenge.binding : undefined);
  const fine = await new Promise<boolean>((resolve) => {
    try {
      verify(null, message, key, fromBase64url(proof.sig), (err, right) => resolve(!err && right));
    } catch {
      resolve(false);
    }
  });
  return fine ? undefined : wrong('its signature does not match this connection');
}

const wrong = (why: string): ChatError => ({ code: ErrorCode.AUTH_FAILED, message: `that device proof is not right: ${why}` });
