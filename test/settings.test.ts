// electron/settings.ts: what the app remembers between runs.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SettingsStore } from '../electron/settings.js';

describe('SettingsStore', () => {
  it('falls back to defaults on a missing or damaged file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatty-settings-'));
    const store = new SettingsStore(dir);
    const defaults = { name: '', port: 4000, address: '', replica: false, mutePublic: false, showJoins: true, startAtLogin: false, idleMinutes: 10 };
    expect(await store.load()).toEqual(defaults);
    writeFileSync(store.file, '{"name": 12, "port": "x"');
    expect(await store.load()).toEqual(defaults);
    await store.update({ name: 'Zoë', address: '10.0.0.2:4000' });
    expect(await new SettingsStore(dir).load()).toEqual({ ...defaults, name: 'Zoë', address: '10.0.0.2:4000' });
  });
});
