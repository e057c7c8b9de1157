// The set's keys at rest: one file in the data folder, readable by the user only, sealed where the
// platform keeps secrets (the app passes Electron's safeStorage; here, a stand-in keychain).
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SecretsCodec } from '../server/set-keys.js';
import { startNode } from './helpers/nodes.js';

/** A keychain stand-in: reversible, and plainly not the JSON it was given. */
const keychain = (available = true): SecretsCodec => ({
  available: () => available,
  seal: (text) => Buffer.from(`sealed:${Buffer.from(text).toString('base64')}`),
  open: (sealed) => Buffer.from(sealed.toString().replace(/^sealed:/, ''), 'base64').toString(),
});

describe('set keys at rest', () => {
  it('are sealed where a keychain is there, and the same keys come back on restart', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-keys-'));
    const first = await startNode({ data, secretsCodec: keychain() });
    const invite = first.invite();
    await first.disconnect();
    const sealed = join(data, 'set-keys.sealed');
    expect(statSync(sealed).mode & 0o777).toBe(0o600);
    expect(existsSync(join(data, 'set-keys.json'))).toBe(false);
    expect(readFileSync(sealed, 'utf8')).not.toContain(invite.code);
    const again = await startNode({ data, secretsCodec: keychain() });
    expect(again.invite()).toMatchObject({ code: invite.code, fingerprint: invite.fingerprint });
  });

  it('are a plain file only the user can read where there is none', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-keys-'));
    const node = await startNode({ data, secretsCodec: keychain(false) });
    const file = join(data, 'set-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ invite: node.invite().code });
  });

  it('a version pushed to the end of the number line, or keys from before server invites, never stop a host', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-keys-'));
    const first = await startNode({ data });
    const { code } = first.invite();
    await first.disconnect();
    const file = join(data, 'set-keys.json');
    const { serverInvite: _gone, ...kept } = JSON.parse(readFileSync(file, 'utf8'));
    writeFileSync(file, JSON.stringify({ ...kept, version: 2 ** 60 }));
    const said: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => said.push(line) });
    const again = await startNode({ data, logger, newInvite: true });
    expect(said.join('\n')).toMatch(/had a version far ahead of this clock .*: ignored, counting from now/);
    expect(again.invite().code).not.toBe(code); // --new-invite works, as it did not before
    expect(again.serverInvite().serverCode).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/);
    expect(JSON.parse(readFileSync(file, 'utf8')).version).toBeLessThanOrEqual(Date.now());
  });
});
