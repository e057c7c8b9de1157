// A person's safety number (docs/protocol.md § Identity): 30 digits people can read to each other
// to check that the "Ann" they talk to is the person they know — as Signal's safety numbers are.
// It is made from the device key that claimed the name, so it stays the same while that person
// keeps the name, and changes when the name was released and claimed by someone else.
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

/** Six groups of five digits: each from five bytes of SHA-256("chatty-safety-v1\n" + key), mod 100000. */
export function safetyNumber(deviceKey: string): string {
  const digest = sha256(utf8ToBytes(`chatty-safety-v1\n${deviceKey}`));
  const groups: string[] = [];
  for (let i = 0; i < 6; i++) {
    let value = 0;
    for (const byte of digest.subarray(i * 5, i * 5 + 5)) value = value * 256 + byte;
    groups.push(String(value % 100_000).padStart(5, '0'));
  }
  return groups.join(' ');
}
