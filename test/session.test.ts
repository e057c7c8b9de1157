// The desktop app's main-process logic, without Electron: real nodes on 127.0.0.1.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { newCertificate } from '../server/set-keys.js';
import { startNode } from './helpers/nodes.js';
import { newSession } from './helpers/sessions.js';
import { RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';
import { formatInvite } from '../shared/invite.js';

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

    it("trusts for the window's file downloads exactly the chat's certificate", async () => {
      const { session } = newSession();
      expect(session.trustsCertificate('-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----')).toBe(false);
      await session.host({ name: 'Ann', port: 0 });
      const peer = await new Promise<Buffer>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: session.node!.port!, rejectUnauthorized: false }, () => {
          resolve(socket.getPeerCertificate().raw);
          socket.destroy();
        });
        socket.on('error', reject);
      });
      expect(session.trustsCertificate(new X509Certificate(peer).toString())).toBe(true);
      expect(session.trustsCertificate((await newCertificate()).cert)).toBe(false);
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
      const hosted = await host.session.host({ name: 'Ann', port: 0 });
      const hostUrl = host.session.node!.url;
      const guest = newSession();
      // The host app shows its invites; the people's runs no replica, the server invite does.
      const invite = hosted.ok ? hosted.value.invite : undefined;
      const serverInvite = hosted.ok ? hosted.value.serverInvite : undefined;
      expect(invite).toMatch(/^chatty:\/\/127\.0\.0\.1:\d+\/#invite=[\w-]+&fp=[0-9A-F]{64}$/);
      expect(serverInvite).toMatch(/^chatty:\/\/127\.0\.0\.1:\d+\/#server-invite=[\w-]+&fp=[0-9A-F]{64}$/);
      expect(await guest.session.join({ name: 'Bob', address: invite!, replica: true })).toMatchObject({
        ok: false,
        error: { code: 'INVITE_INVALID', message: expect.stringContaining("That is the people's invite: it lets you chat, not run a server.") },
      });
      expect(guest.session.node).toBeUndefined();
      const result = await guest.session.join({ name: 'Bob', address: serverInvite!, replica: false });
      expect(result).toMatchObject({ ok: true, value: { runsNode: true, joined: hostUrl } });
      expect(hosted).toMatchObject({ ok: true, value: { runsNode: true } });
      expect(hosted.ok && hosted.value.joined).toBeFalsy();
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

    it('a replica keeps its port, and so its address and invites, across joins of the same chat', async () => {
      const host = newSession();
      const hosted = await host.session.host({ name: 'Ann', port: 0 });
      const serverInvite = hosted.ok ? hosted.value.serverInvite! : '';
      const guest = newSession(mkdtempSync(join(tmpdir(), 'chatty-app-')));
      const first = await guest.session.join({ name: 'Bob', address: serverInvite, replica: true });
      const url = guest.session.node!.url;
      await guest.session.leave();
      const again = await guest.session.join({ name: 'Bob', address: serverInvite, replica: true });
      expect(guest.session.node!.url).toBe(url);
      expect(again.ok && again.value.invite).toBe(first.ok && first.value.invite);
      // Its port taken meanwhile: the replica starts all the same, on another.
      await guest.session.leave();
      const squatter = await startNode({ port: Number(new URL(url).port) });
      expect(await guest.session.join({ name: 'Bob', address: serverInvite, replica: true })).toMatchObject({ ok: true });
      expect(guest.session.node!.url).not.toBe(url);
      await squatter.disconnect();
    });

    it('as a client only: talks to the host directly, and keeps trying when the host goes away', async () => {
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
      // The only server is gone: the window says so, and what Bob types waits for a server.
      await eventually(() => expect(guest.state()).toMatchObject({ status: 'reconnecting', statusDetail: expect.stringContaining('trying') }));
      expect(await guest.session.send('anyone?')).toMatchObject({ ok: true });
      expect(guest.state().timeline.at(-1)).toMatchObject({ kind: 'message', text: 'anyone?', pending: 'sending' });
      await guest.session.quit();
      expect(guest.state().timeline.at(-1)).toMatchObject({ kind: 'message', text: 'anyone?', pending: 'failed' });
    });

    it('explains an unreachable host, a bad address and a taken name', async () => {
      const { session } = newSession();
      expect(await session.join({ name: 'Bob', address: '127.0.0.1:1', replica: false })).toMatchObject({
        ok: false,
        error: { code: 'UNREACHABLE', message: expect.stringContaining('ECONNREFUSED') },
      });
      expect(await session.join({ name: 'Bob', address: '127.0.0.1:1', replica: true })).toMatchObject({
        ok: false,
        error: { code: 'JOIN_FAILED', message: expect.stringContaining('ECONNREFUSED') },
      });
      expect(session.node).toBeUndefined();
      expect(await session.join({ name: 'Bob', address: 'http://x/y', replica: false })).toMatchObject({ ok: false, error: { code: 'PEER_INVALID' } });
      const node = await startNode();
      await RawSocket.join(node.url, 'Bob');
      // A replica must show the invite: a plain address gets it nowhere, and says so.
      expect(await session.join({ name: 'Bob', address: node.url, replica: true })).toMatchObject({
        ok: false,
        error: { code: 'JOIN_FAILED', message: expect.stringContaining("join it with this set's server invite") },
      });
      expect(await session.join({ name: 'Bob', address: formatInvite(node.serverInvite()), replica: true })).toMatchObject({
        ok: false,
        error: { code: 'NAME_TAKEN' },
      });
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
