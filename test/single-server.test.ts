// The seminar's first system: one server, clients join, send and leave.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ChatClient } from '../shared/chat-client.js';
import { upload } from './helpers/files.js';
import { NO_RATE_LIMITS, startNode } from './helpers/nodes.js';
import { TcpProxy } from './helpers/proxy.js';
import { eventually } from './helpers/waiters.js';
import { RawSocket, trustingSockets } from './helpers/sockets.js';

describe('ChatServer (single server)', () => {
  it('broadcasts join to every client, the new one included, and welcomes it with the buddy list', async () => {
    const node = await startNode();
    const ann = await RawSocket.join(node.url, 'Ann');
    const bob = await RawSocket.open(node.url);
    bob.send({ type: 'client_join_req', name: 'Bob' });
    const welcome = await bob.next((f) => f.type === 'welcome');
    expect(welcome).toMatchObject({ name: 'Bob', server: node.url, servers: [node.url] });
    expect(Object.values(welcome.roster).flat().sort()).toEqual(['Ann', 'Bob']);
    await bob.next((f) => f.type === 'join' && f.name === 'Bob');
    const joinSeenByAnn = await ann.next((f) => f.type === 'join' && f.name === 'Bob');
    expect(joinSeenByAnn).toMatchObject({ server: node.url, id: expect.any(String), ts: expect.any(Number) });
    expect(node.localClients().sort()).toEqual(['Ann', 'Bob']);
  });

  it('delivers every message to 3 clients, each sender in order, all in the same order', async () => {
    const node = await startNode();
    const names = ['Ann', 'Bob', 'Cid'];
    const clients = await Promise.all(names.map((n) => RawSocket.join(node.url, n)));
    const perSender = 50;
    for (let i = 0; i < perSender; i++) {
      for (const [k, c] of clients.entries()) c.send({ type: 'send', name: names[k], text: `${names[k]} ${i}` });
    }
    for (const c of clients) {
      await c.until(() => (c.events().filter((e) => e.startsWith('message:')).length === perSender * 3 ? true : undefined), 10_000, 'all messages');
      for (const sender of names) {
        const fromSender = c.events().filter((e) => e.startsWith(`message:${sender}:`));
        expect(fromSender).toEqual(Array.from({ length: perSender }, (_, i) => `message:${sender}:${sender} ${i}`));
      }
    }
    // One server relays in one order: every client sees the same interleaving of the senders.
    const sequences = clients.map((c) =>
      c
        .events()
        .filter((e) => e.startsWith('message:'))
        .join('\n'),
    );
    expect(new Set(sequences).size).toBe(1);
  });

  it('on leave: the leaver gets leave then exit, is removed, and the others get leave', async () => {
    const node = await startNode();
    const ann = await RawSocket.join(node.url, 'Ann');
    const bob = await RawSocket.join(node.url, 'Bob');
    bob.send({ type: 'client_leave_req', name: 'Bob' });
    await bob.next((f) => f.type === 'exit');
    const tail = bob.frames.slice(-2).map((f) => f.type + (f.name ? `:${f.name}` : ''));
    expect(tail).toEqual(['leave:Bob', 'exit']);
    expect((await bob.waitClosed()).code).toBe(1000);
    await ann.next((f) => f.type === 'leave' && f.name === 'Bob');
    expect(node.localClients()).toEqual(['Ann']);
    // The name is free again.
    await RawSocket.join(node.url, 'Bob');
  });

  it('treats a client that closes without client_leave_req as having left', async () => {
    const node = await startNode();
    const ann = await RawSocket.join(node.url, 'Ann');
    const bob = await RawSocket.join(node.url, 'Bob');
    bob.ws.close();
    await ann.next((f) => f.type === 'leave' && f.name === 'Bob');
    await eventually(() => expect(node.localClients()).toEqual(['Ann']));
  });

  it('keeps the name of a client that vanished (no close frame) for the grace period, then it leaves', async () => {
    const node = await startNode({ graceMs: 1_500 }); // longer than a batch of presence may wait (500 ms)
    const ann = await RawSocket.join(node.url, 'Ann');
    const bob = await RawSocket.join(node.url, 'Bob');
    bob.ws.terminate();
    await ann.next((f) => f.type === 'away' && f.name === 'Bob');
    const taker = await RawSocket.open(node.url);
    taker.send({ type: 'client_join_req', name: 'Bob' });
    await taker.nextError('NAME_TAKEN'); // reserved while Bob may come back
    await ann.next((f) => f.type === 'leave' && f.name === 'Bob');
    expect(ann.events()).toEqual(['join:Ann', 'join:Bob', 'away:Bob', 'leave:Bob']);
  });

  it('disconnect stops the server and tells its clients', async () => {
    const node = await startNode();
    const ann = await RawSocket.join(node.url, 'Ann');
    await node.disconnect();
    await ann.nextError('SERVER_STOPPING');
    expect(await ann.waitClosed()).toEqual({ code: 1001, reason: 'server disconnect' });
    await expect(RawSocket.open(node.url)).rejects.toThrow();
  });

  it('drops a client that stops reading, and keeps serving the others', async () => {
    const node = await startNode(NO_RATE_LIMITS); // default limit: 1 MiB unsent per client
    const ann = await RawSocket.join(node.url, 'Ann');
    const slow = await RawSocket.join(node.url, 'Slow');
    // Slow stops reading: its kernel buffers fill, then the server's buffer for it grows.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = 'x'.repeat(3900);
    let sent = 0;
    // Ann sends in batches and reads each back, as a live client does: she never falls behind.
    for (let batch = 0; batch < 60 && !ann.frames.some((f) => f.type === 'leave'); batch++) {
      for (let i = 0; i < 100; i++, sent++) ann.send({ type: 'send', name: 'Ann', text });
      const expected = sent;
      await ann.until(() => (ann.frames.filter((f) => f.type === 'message').length >= expected ? true : undefined), 10_000, 'the batch');
    }
    await ann.next((f) => f.type === 'leave' && f.name === 'Slow');
    expect(node.localClients()).toEqual(['Ann']);
  });

  it('drops a client that asks for history pages and searches but never reads them; one search at a time', async () => {
    // A data folder: searches run on the search thread (Greedy keeps to 20 frames a second all the same).
    const node = await startNode({ ...NO_RATE_LIMITS, data: mkdtempSync(join(tmpdir(), 'chatty-greedy-')) });
    const ann = await RawSocket.join(node.url, 'Ann');
    const text = 'y'.repeat(3900);
    // In batches she reads back: 300 at once would put Ann herself past 1 MiB unsent on a busy machine.
    for (let sent = 50; sent <= 300; sent += 50) {
      for (let i = 0; i < 50; i++) ann.send({ type: 'send', name: 'Ann', text });
      await ann.until(() => (ann.frames.filter((f) => f.type === 'message').length >= sent ? true : undefined), 30_000, 'the history');
    }
    // One search at a time per client: a second while the first is under way is refused, not queued.
    ann.send({ type: 'search_req', query: 'yyy' });
    ann.send({ type: 'search_req', query: 'yyy' });
    await ann.next((f) => f.type === 'search_results');
    await ann.nextError('RATE_LIMITED');
    // Pages of ~1.2 MB, each asked for once the last came: past 4 MiB in a burst (1 MiB a second
    // after), the server says to wait rather than answer.
    const from = ann.frames.length;
    const answers = () => ann.frames.slice(from).filter((f) => (f.type === 'history' && f.page) || (f.type === 'error' && f.code === 'RATE_LIMITED'));
    for (let i = 0; i < 8 && !answers().some((f) => f.type === 'error'); i++) {
      const before = answers().length;
      ann.send({ type: 'history_req', limit: 300 });
      await ann.until(() => (answers().length > before ? true : undefined), 10_000, 'an answer');
    }
    expect(answers().map((f) => f.type)).toEqual(['history', 'history', 'history', 'history', 'error']);
    const greedy = await RawSocket.join(node.url, 'Greedy');
    (greedy.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    // ~1.2 MB a page, asked for within the rate limit: the replies count against its 1 MiB of unsent bytes.
    for (let i = 0; i < 40 && node.localClients().includes('Greedy'); i++) {
      greedy.send({ type: 'history_req', limit: 300 });
      await new Promise((r) => setTimeout(r, 60));
    }
    await ann.next((f) => f.type === 'leave' && f.name === 'Greedy', 10_000);
    expect(node.localClients()).toEqual(['Ann']);
  }, 60_000);

  describe('ChatClient (the shared client)', () => {
    it('joins, sends, receives and leaves', async () => {
      const node = await startNode();
      const joined = await ChatClient.connect(node.url, 'Ann', trustingSockets);
      if (!joined.ok) throw new Error(joined.error.message);
      const ann = joined.value;
      const seen: string[] = [];
      ann.onFrame((f) => seen.push(f.type));
      expect(ann.send('hello').ok).toBe(true);
      expect(ann.send('   ')).toMatchObject({ ok: false, error: { code: 'TEXT_INVALID' } });
      await eventually(() => expect(seen).toContain('message'));
      await ann.leave();
      expect(seen).toEqual(['history', 'join', 'message', 'ack', 'leave', 'exit']);
    });

    it('a resume asks only for what came after the last event it had, a file event included', async () => {
      const node = await startNode();
      // Ann reaches the node through a proxy the test cuts; she resumes at the node's own address.
      const proxy = await TcpProxy.start(Number(new URL(node.url).port));
      try {
        const joined = await ChatClient.connect(node.url.replace(/:\d+$/, `:${proxy.port}`), 'Ann', trustingSockets, { backoffMs: 50 });
        if (!joined.ok) throw new Error(joined.error.message);
        const ann = joined.value;
        const frames: Array<{ type: string; events?: Array<{ id: string }>; id?: string }> = [];
        ann.onFrame((f) => frames.push(f));
        const bob = await RawSocket.join(node.url, 'Bob');
        bob.send({ type: 'send', name: 'Bob', text: 'before the file' });
        expect((await upload(bob, Buffer.from('plan'), { name: 'plan.txt', type: 'text/plain' })).status).toBe(201);
        const file = await bob.next((f) => f.type === 'file');
        await eventually(() => expect(frames.some((f) => f.id === file.id)).toBe(true));
        const resumed = new Promise<void>((resolve) => ann.onLinkState((s) => s.kind === 'resumed' && resolve()));
        proxy.cut();
        await resumed;
        const again = frames.filter((f) => f.type === 'history').flatMap((f) => f.events ?? []);
        expect(again.map((e) => e.id)).not.toContain(file.id);
        await ann.leave();
      } finally {
        await proxy.close();
      }
    });

    it('answers a taken name and an unreachable server with a clear error result', async () => {
      const node = await startNode();
      await ChatClient.connect(node.url, 'Ann', trustingSockets);
      expect(await ChatClient.connect(node.url, 'Ann', trustingSockets)).toMatchObject({ ok: false, error: { code: 'NAME_TAKEN' } });
      expect(await ChatClient.connect('ws://127.0.0.1:1', 'Ann', trustingSockets)).toMatchObject({
        ok: false,
        error: {
          code: 'UNREACHABLE',
          message: expect.stringContaining('ECONNREFUSED'),
        },
      });
    });
  });

  it('answers plain HTTP with a notice instead of a page (a server run with --insecure)', async () => {
    const node = await startNode({ insecure: true });
    expect(node.url).toMatch(/^ws:\/\//);
    const res = await fetch(node.url.replace('ws:', 'http:'));
    expect(res.status).toBe(426);
    expect(await res.text()).toContain('Chatty server');
  });
});
