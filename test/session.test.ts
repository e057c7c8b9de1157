// The desktop app's main-process logic, without Electron: real nodes on 127.0.0.1.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Channel, type SessionEvent } from '../shared/bridge.js';
import { initialState, reduce } from '../shared/chat-state.js';
import { invokeHandlers, isTrustedSender } from '../electron/ipc.js';
import { nodeSocket } from '../shared/node/node-socket.js';
import { ChatSession } from '../electron/session.js';
import { SettingsStore } from '../electron/settings.js';
import { eventually, startNode } from './helpers/nodes.js';
import { RawSocket } from './helpers/sockets.js';

const sessions: ChatSession[] = [];
afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.quit()));
});

/** A session as the app has it, recording what it would send to the window. */
function newSession() {
  const events: SessionEvent[] = [];
  const session = new ChatSession({ emit: (e) => events.push(e), createSocket: nodeSocket, bind: '127.0.0.1' });
  sessions.push(session);
  const state = () => events.reduce(reduce, initialState);
  return { session, events, state };
}

describe('ChatSession', () => {
  describe('#host', () => {
    it('runs a node and joins it; the window sees welcome, buddies and connected', async () => {
      const { session, state } = newSession();
      const result = await session.host({ name: 'Ann', port: 0 });
      expect(result).toMatchObject({ ok: true, value: { name: 'Ann', runsNode: true } });
      const url = session.node!.url;
      const bob = await RawSocket.join(url, 'Bob');
      await eventually(() => expect(state().buddies.map((b) => b.name)).toEqual(['Ann', 'Bob']));
      expect(state()).toMatchObject({ status: 'connected', me: 'Ann', servers: [url] });
      await session.send('hello');
      await bob.next((f) => f.type === 'message' && f.name === 'Ann' && f.text === 'hello');
    });

    it('refuses a port in use with PORT_IN_USE and leaves nothing running', async () => {
      const other = await startNode();
      const { session, state } = newSession();
      const result = await session.host({ name: 'Ann', port: other.port! });
      expect(result).toMatchObject({ ok: false, error: { code: 'PORT_IN_USE', message: expect.stringContaining(`port ${other.port}`) } });
      expect(session.node).toBeUndefined();
      expect(state().status).toBe('idle');
    });

    it('refuses an invalid name before starting anything', async () => {
      const { session } = newSession();
      expect(await session.host({ name: ' ', port: 0 })).toMatchObject({ ok: false, error: { code: 'NAME_INVALID' } });
      expect(session.node).toBeUndefined();
    });

    it('refuses a second host or join while in a chat', async () => {
      const { session } = newSession();
      await session.host({ name: 'Ann', port: 0 });
      expect(await session.host({ name: 'Ann', port: 0 })).toMatchObject({ ok: false, error: { code: 'ALREADY_CONNECTED' } });
      expect(await session.join({ name: 'Ann', address: session.node!.url, replica: false })).toMatchObject({
        ok: false,
        error: { code: 'ALREADY_CONNECTED' },
      });
    });
  });

  describe('#join', () => {
    it('as a replica: runs a local node that joins the host, and the chat survives the host quitting', async () => {
      const host = newSession();
      await host.session.host({ name: 'Ann', port: 0 });
      const hostUrl = host.session.node!.url;
      const guest = newSession();
      const result = await guest.session.join({ name: 'Bob', address: hostUrl.replace('ws://', ''), replica: true });
      expect(result).toMatchObject({ ok: true, value: { runsNode: true } });
      const replicaUrl = guest.session.node!.url;
      expect(replicaUrl).not.toBe(hostUrl);
      await eventually(() => expect(guest.state().servers).toEqual([hostUrl, replicaUrl].sort()));
      await eventually(() => expect(guest.state().buddies.map((b) => b.name)).toEqual(['Ann', 'Bob']));
      const cid = await RawSocket.join(replicaUrl, 'Cid');

      // Quitting the host app is the seminar's disconnect: the replica is told and carries on.
      await host.session.quit();
      await eventually(() => expect(guest.state().servers).toEqual([replicaUrl]));
      await eventually(() => expect(guest.state().buddies.map((b) => b.name)).toEqual(['Bob', 'Cid']));
      await guest.session.send('still here');
      await cid.next((f) => f.type === 'message' && f.text === 'still here');
      expect(guest.state().status).toBe('connected');
    });

    it('as a client only: talks to the host directly, and sees the host go away', async () => {
      const host = newSession();
      await host.session.host({ name: 'Ann', port: 0 });
      const guest = newSession();
      expect(await guest.session.join({ name: 'Bob', address: host.session.node!.url, replica: false })).toMatchObject({
        ok: true,
        value: { runsNode: false, server: host.session.node!.url },
      });
      expect(guest.session.node).toBeUndefined();
      await host.session.send('hi Bob');
      await eventually(() => expect(guest.state().timeline.some((e) => e.kind === 'message' && e.text === 'hi Bob')).toBe(true));
      await host.session.quit();
      await eventually(() => expect(guest.state().status).toBe('disconnected'));
      expect(guest.state().timeline.at(-1)).toMatchObject({ kind: 'notice', text: expect.stringContaining('Lost the connection') });
    });

    it('explains an unreachable host, a bad address and a taken name', async () => {
      const { session } = newSession();
      expect(await session.join({ name: 'Bob', address: '127.0.0.1:1', replica: false })).toMatchObject({
        ok: false,
        error: { code: 'UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') },
      });
      expect(await session.join({ name: 'Bob', address: '127.0.0.1:1', replica: true })).toMatchObject({ ok: false, error: { code: 'JOIN_FAILED', message: expect.stringContaining('ECONNREFUSED') } });
      expect(session.node).toBeUndefined();
      expect(await session.join({ name: 'Bob', address: 'http://x/y', replica: false })).toMatchObject({ ok: false, error: { code: 'PEER_INVALID' } });
      const node = await startNode();
      await RawSocket.join(node.url, 'Bob');
      expect(await session.join({ name: 'Bob', address: node.url, replica: true })).toMatchObject({ ok: false, error: { code: 'NAME_TAKEN' } });
      expect(session.node).toBeUndefined(); // the replica it started for the attempt is gone again
    });
  });

  it('leave: the user leaves cleanly, then can host again', async () => {
    const { session, state } = newSession();
    await session.host({ name: 'Ann', port: 0 });
    const url = session.node!.url;
    await session.leave();
    expect(state()).toMatchObject({ status: 'idle', me: undefined });
    await expect(RawSocket.open(url)).rejects.toThrow();
    expect(await session.host({ name: 'Ann', port: 0 })).toMatchObject({ ok: true });
  });
});

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
      expect(await table[Channel.host](bad), JSON.stringify(bad)).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
    }
    expect(await table[Channel.join]({ name: 'Ann', address: 'x' })).toMatchObject({ ok: false, error: { message: expect.stringContaining('replica') } });
    expect(await table[Channel.send]({ text: 'hi' })).toMatchObject({ ok: false, error: { code: 'BAD_FRAME' } });
    expect(session.node).toBeUndefined();
  });

  it('remembers the name, port and address of the last successful host or join', async () => {
    const { table, settings } = handlers();
    expect(await table[Channel.host]({ name: 'Ann', port: 0 })).toMatchObject({ ok: true });
    expect(await settings.load()).toMatchObject({ name: 'Ann', port: 0 });
    expect(await table[Channel.settings](undefined)).toMatchObject({ ok: true, value: { name: 'Ann' } });
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

describe('SettingsStore', () => {
  it('falls back to defaults on a missing or damaged file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chatty-settings-'));
    const store = new SettingsStore(dir);
    expect(await store.load()).toEqual({ name: '', port: 4000, address: '', replica: true });
    writeFileSync(store.file, '{"name": 12, "port": "x"');
    expect(await store.load()).toEqual({ name: '', port: 4000, address: '', replica: true });
    await store.update({ name: 'Zoë', address: '10.0.0.2:4000' });
    expect(await new SettingsStore(dir).load()).toEqual({ name: 'Zoë', port: 4000, address: '10.0.0.2:4000', replica: true });
  });
});
