// This device's key for the terminal client and the app (docs/protocol.md § Identity): an Ed25519
// key pair made on first use and kept as PKCS#8 PEM in a file only the user can read, next to the
// front end's other settings. Losing it is like losing an SSH key. (Kept here, beside the other
// files only their user may read, because both front ends use it.)
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DeviceSigner } from '../shared/device-key.js';
import { type Result, ErrorCode, fail, ok } from '../shared/errors.js';
import { writePrivateFile } from './private-file.js';

export const DEVICE_KEY_FILE = 'device-key.pem';

/** The device key kept in `folder`, made there on first use; a damaged file is a clear error, never replaced silently. */
export function deviceKeyIn(folder: string): Result<DeviceSigner> {
  const file = join(folder, DEVICE_KEY_FILE);
  let pem: string | undefined;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      return fail(ErrorCode.DATA_UNUSABLE, `cannot read this device's key ${file}: ${(err as Error).message}`);
  }
  let privateKey: KeyObject;
  if (pem === undefined) {
    privateKey = generateKeyPairSync('ed25519').privateKey;
    try {
      writePrivateFile(file, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
    } catch (err) {
      return fail(ErrorCode.DATA_UNUSABLE, `cannot keep this device's key in ${folder}: ${(err as Error).message}`);
    }
  } else {
    try {
      privateKey = createPrivateKey(pem);
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
    } catch (err) {
      return fail(
        ErrorCode.DATA_UNUSABLE,
        `this device's key ${file} is damaged (${(err as Error).message}): move it away to make a new one (the names it holds then need the operator)`,
      );
    }
  }
  // JWK's `x` is the raw 32-byte public key in base64url: what DeviceProof.key carries.
  const publicKey = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return ok({ publicKey, sign: async (message) => sign(null, message, privateKey) });
}
