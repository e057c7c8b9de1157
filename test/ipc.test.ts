// electron/ipc.ts: the main-process handlers behind the preload, called as Electron would call them.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Channel } from '../shared/bridge.js';
import { invokeHandlers, isTrustedSender } from '../electron/ipc.js';
import { SettingsStore } from '../electron/settings.js';
import { newSession } from './helpers/sessions.js';

describe('IPC handlers', () => {
  function handlers() {
    const { session } = newSession();
    const dir = mkdtempSync(join(tmpdir(), 'chatty-settings-'));
    const settings = new SettingsStore(dir);
    const opened: string[] = [];
    const table = invokeHandlers({ session, settings, openExternal: async (url) => void opened.push(url) });
    return { table, settings, opened, session };
  }

  it('parses every payload with the shared schema: bad ones get an error result', async () => {
    const { table, session } = handlers();
    for (const bad of [undefined, null, 'Ann', { name: 1, port: 4000 }, { name: 'Ann', port: -1 }, { name: 'Ann', port: 4000, admin: true }]) {
      expect(await table[Channel.host](bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
    expect(await table[Channel.join]({ name: 'Ann', address: 'x' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('replica') } });
    expect(await table[Channel.send]({ text: 'hi' })).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(session.node).toBeUndefined();
  });

  it('remembers the name, port and address of the last successful host or join', async () => {
    const { table, settings } = handlers();
    expect(await table[Channel.host]({ name: 'Ann', port: 0 })).toMatchObject({ ok: true });
    expect(await settings.load()).toMatchObject({ name: 'Ann', port: 0 });
    expect(await table[Channel.settings](undefined)).toMatchObject({ ok: true, value: { name: 'Ann' } });
  });

  it('keeps preferences (mute, idle minutes), checked, and tells main to apply them', async () => {
    const { session } = newSession();
    const dir = mkdtempSync(join(tmpdir(), 'chatty-settings-'));
    const applied: unknown[] = [];
    const table = invokeHandlers({ session, settings: new SettingsStore(dir), openExternal: async () => {}, onPreferences: (s) => applied.push(s.mutePublic) });
    expect(await table[Channel.settings](undefined)).toMatchObject({ ok: true, value: { mutePublic: false, idleMinutes: 10 } });
    expect(await table[Channel.setPreferences]({ mutePublic: true, idleMinutes: 3 })).toMatchObject({ ok: true, value: { mutePublic: true, idleMinutes: 3 } });
    expect(applied).toEqual([true]);
    for (const bad of [
      { mutePublic: 'yes', idleMinutes: 3 },
      { mutePublic: true, idleMinutes: -1 },
      { mutePublic: true, idleMinutes: 1.5 },
      { mutePublic: true },
    ]) {
      expect(await table[Channel.setPreferences](bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    }
    expect(await new SettingsStore(dir).load()).toMatchObject({ mutePublic: true, idleMinutes: 3 });
  });

  it('opens only http(s) links, through the system browser', async () => {
    const { table, opened } = handlers();
    for (const bad of ['javascript:alert(1)', 'file:///etc/passwd', 'https://user:pw@example.com/', 'not a url', 42]) {
      expect(await table[Channel.openLink](bad), String(bad)).toMatchObject({ ok: false });
    }
    expect(await table[Channel.openLink]('https://example.com/a?b=1')).toEqual({ ok: true, value: undefined });
    expect(opened).toEqual(['https://example.com/a?b=1']);
  });

  it('answers only our own page', () => {
    const index = 'file:///opt/Chatty/resources/app/dist/renderer/index.html';
    expect(isTrustedSender(index, index)).toBe(true);
    expect(isTrustedSender(`${index}#x`, index)).toBe(true);
    expect(isTrustedSender('https://evil.example/index.html', index)).toBe(false);
    expect(isTrustedSender('file:///tmp/evil.html', index)).toBe(false);
    expect(isTrustedSender(undefined, index)).toBe(false);
  });
});
