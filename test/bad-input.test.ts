// Hostile and broken input: each gets an error frame or a close with a reason, and the server
// keeps serving everyone else.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatServer } from '../server/chat-server.js';
import { startNode } from './helpers/nodes.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

describe('ChatServer (bad input)', () => {
  let node: ChatServer;
  let bystander: RawSocket;

  beforeEach(async () => {
    node = await startNode({ handshakeTimeoutMs: 500 });
    bystander = await RawSocket.join(node.url, 'Bystander');
  });

  // Whatever happened, the server still relays for the others.
  afterEach(async () => {
    const probe = `still alive ${Math.random()}`;
    bystander.send({ type: 'send', name: 'Bystander', text: probe });
    await bystander.next((f) => f.type === 'message' && f.text === probe);
  });

  const cases: Array<[string, string | object, string]> = [
    ['non-JSON', 'hello?', 'BAD_JSON'],
    ['a JSON array', '[1,2,3]', 'BAD_FRAME'],
    ['no type', { name: 'x' }, 'BAD_FRAME'],
    ['an unknown type', { type: 'kick', name: 'Bystander' }, 'UNKNOWN_TYPE'],
    ['a missing name', { type: 'client_join_req' }, 'NAME_INVALID'],
    ['a 33-character name', { type: 'client_join_req', name: 'x'.repeat(33) }, 'NAME_INVALID'],
    ['a name with escape codes', { type: 'client_join_req', name: '\u001b[2J' }, 'NAME_INVALID'],
    ['an extra field', { type: 'client_join_req', name: 'Eve', admin: true }, 'BAD_FRAME'],
    ['send before join', { type: 'send', name: 'Eve', text: 'hi' }, 'NOT_JOINED'],
    ['leave before join', { type: 'client_leave_req', name: 'Eve' }, 'NOT_JOINED'],
    ['a taken name', { type: 'client_join_req', name: 'Bystander' }, 'NAME_TAKEN'],
    ['update_servers without server_join_req', { type: 'update_servers', servers: ['ws://127.0.0.1:9'] }, 'NOT_A_SERVER'],
    ['a forged join event', peerEvent({ type: 'join', name: 'Ghost', server: 'ws://127.0.0.1:9' }), 'NOT_A_SERVER'],
    ['a forged roster', { type: 'roster', server: 'ws://127.0.0.1:9', names: ['Ghost'] }, 'NOT_A_SERVER'],
    ['server_join_req with a bad address', { type: 'server_join_req', from: 'not a url' }, 'BAD_FRAME'],
  ];

  for (const [what, frame, code] of cases) {
    it(`answers ${what} with ${code} and keeps the connection`, async () => {
      const s = await RawSocket.open(node.url);
      s.send(frame);
      const error = await s.nextError(code);
      expect(error.message).toEqual(expect.any(String));
      expect(s.closed).toBeUndefined();
      // The same connection can still join properly afterwards.
      s.send({ type: 'client_join_req', name: 'Eve' });
      await s.next((f) => f.type === 'welcome');
    });
  }

  it('rejects text that is too long or blank, from a joined client', async () => {
    const eve = await RawSocket.join(node.url, 'Eve');
    eve.send({ type: 'send', name: 'Eve', text: 'x'.repeat(4001) });
    await eve.nextError('TEXT_INVALID');
    eve.send({ type: 'send', name: 'Eve', text: '   ' });
    expect(eve.frames.filter((f) => f.code === 'TEXT_INVALID')).toHaveLength(1);
    await eve.until(() => (eve.frames.filter((f) => f.code === 'TEXT_INVALID').length === 2 ? true : undefined), 2_000, 'second error');
  });

  it('rejects send under another name (the connection is the identity)', async () => {
    const eve = await RawSocket.join(node.url, 'Eve');
    eve.send({ type: 'send', name: 'Bystander', text: 'I am not Eve' });
    await eve.nextError('NAME_MISMATCH');
    eve.send({ type: 'client_leave_req', name: 'Bystander' });
    await eve.until(() => (eve.frames.filter((f) => f.code === 'NAME_MISMATCH').length === 2 ? true : undefined), 2_000, 'second error');
    expect(bystander.events()).not.toContain('message:Bystander:I am not Eve');
    expect(node.localClients().sort()).toEqual(['Bystander', 'Eve']);
  });

  it('rejects a second join and a server_join_req on a client connection', async () => {
    const eve = await RawSocket.join(node.url, 'Eve');
    eve.send({ type: 'client_join_req', name: 'Eve2' });
    await eve.nextError('ALREADY_JOINED');
    eve.send({ type: 'server_join_req', from: 'ws://127.0.0.1:9' });
    await eve.until(() => (eve.frames.filter((f) => f.code === 'ALREADY_JOINED').length === 2 ? true : undefined), 2_000, 'second error');
    expect(node.servers()).toEqual([node.url]);
  });

  it('answers a binary frame with BINARY_FRAME', async () => {
    const s = await RawSocket.open(node.url);
    s.ws.send(Buffer.from([1, 2, 3]));
    await s.nextError('BINARY_FRAME');
  });

  it('closes a connection that sends a frame over 64 KiB with 1009', async () => {
    const eve = await RawSocket.join(node.url, 'Eve');
    eve.send({ type: 'send', name: 'Eve', text: 'x'.repeat(70 * 1024) });
    expect((await eve.waitClosed()).code).toBe(1009);
    await bystander.next((f) => f.type === 'leave' && f.name === 'Eve');
  });

  it('closes a connection that never says who it is', async () => {
    const s = await RawSocket.open(node.url);
    await s.nextError('HANDSHAKE_TIMEOUT');
    expect((await s.waitClosed()).code).toBe(1008);
  });

  it('refuses a server_join_req that claims to be this server', async () => {
    const s = await RawSocket.open(node.url);
    await s.linkAs(node.url, node.serverInvite().serverCode);
    expect(await s.waitClosed()).toMatchObject({ code: 1008, reason: expect.stringContaining('PEER_INVALID') });
    expect(node.servers()).toEqual([node.url]);
  });
});
