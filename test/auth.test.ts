// shared/auth.ts: the random values behind nonces and resume tokens.
import { describe, expect, it } from 'vitest';
import { newResumeToken, nonce, randomBytes } from '../shared/auth.js';

describe('random values', () => {
  it('come from the pool each once, across its refills, as long as asked', () => {
    const seen = new Set<string>();
    // 24 bytes at a time does not divide the pool: some asks start a new one with bytes left in the old.
    for (let i = 0; i < 2_000; i++) {
      const bytes = randomBytes(24);
      expect(bytes.length).toBe(24);
      seen.add(Buffer.from(bytes).toString('hex'));
    }
    expect(seen.size).toBe(2_000);
    expect(randomBytes(10_000).length).toBe(10_000); // more than a pool's worth: straight from the system
  });

  it('a nonce is 32 base64url characters, a resume token 32 hex digits, none twice', () => {
    const nonces = Array.from({ length: 500 }, () => nonce());
    const tokens = Array.from({ length: 500 }, () => newResumeToken());
    for (const n of nonces) expect(n).toMatch(/^[A-Za-z0-9_-]{32}$/);
    for (const t of tokens) expect(t).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set([...nonces, ...tokens]).size).toBe(1_000);
  });
});
