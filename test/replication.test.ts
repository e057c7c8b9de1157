// The seminar's second system (server2): replicated servers, full mesh, clients on any of them.
import { describe, expect, it } from 'vitest';
import type { ChatServer, ChatServerOptions } from '../server/chat-server.js';
import { startNode, joining, splitPair } from './helpers/nodes.js';
import { eventually } from './helpers/waiters.js';
import { RawSocket } from './helpers/sockets.js';

const sorted = (urls: string[]) => [...urls].sort();

async function cluster(size: number, options: ChatServerOptions = {}): Promise<ChatServer[]> {
  const boot = await startNode(options);
  const nodes = [boot];
  for (let i = 1; i < size; i++) nodes.push(await startNode({ ...options, ...joining(boot) }));
  const all = sorted(nodes.map((n) => n.url));
  await eventually(() => {
    for (const n of nodes) expect(n.servers()).toEqual(all);
  });
  return nodes;
}

describe('ChatServer (replicated servers)', () => {
  it('a server boots alone with itself as the only server', async () => {
    const boot = await startNode();
    expect(boot.servers()).toEqual([boot.url]);
  });

  it('a joining server is added everywhere and every server holds the same list', async () => {
    const [a, b, c] = await cluster(3);
    expect(a!.servers()).toEqual(sorted([a!.url, b!.url, c!.url]));
  });

  it('clients on 3 servers chat with each other, each sender in order', async () => {
    const nodes = await cluster(3);
    const names = ['Ann', 'Bob', 'Cid'];
    const clients = await Promise.all(nodes.map((n, i) => RawSocket.join(n.url, names[i]!)));
    // Everyone sees everyone join (the later ones at least).
    await clients[0]!.next((f) => f.type === 'join' && f.name === 'Cid');
    const perSender = 30;
    for (let i = 0; i < perSender; i++) for (const [k, c] of clients.entries()) c.send({ type: 'send', name: names[k], text: `${i}` });
    for (const c of clients) {
      await c.until(() => (c.events().filter((e) => e.startsWith('message:')).length === perSender * 3 ? true : undefined), 10_000, 'all messages');
      for (const sender of names) {
        expect(c.events().filter((e) => e.startsWith(`message:${sender}:`))).toEqual(Array.from({ length: perSender }, (_, i) => `message:${sender}:${i}`));
      }
    }
    // Events say which server the sender is on.
    const fromBob = clients[0]!.frames.find((f) => f.type === 'message' && f.name === 'Bob');
    expect(fromBob?.server).toBe(nodes[1]!.url);
  });

  it('a newcomer is welcomed with the buddies of every server, and names are unique across servers', async () => {
    const [a, b] = await cluster(2);
    await RawSocket.join(a!.url, 'Ann');
    await eventually(() => expect(b!.buddies()).toEqual([{ name: 'Ann', server: a!.url }]));
    const bob = await RawSocket.open(b!.url);
    bob.send({ type: 'client_join_req', name: 'Ann' });
    await bob.nextError('NAME_TAKEN');
    bob.send({ type: 'client_join_req', name: 'Bob' });
    const welcome = await bob.next((f) => f.type === 'welcome');
    // Names grouped under their server: a welcome stays small when thousands are in.
    expect(welcome.roster).toEqual({ [a!.url]: ['Ann'], [b!.url]: ['Bob'] });
  });

  it("a server that joins later learns the others' buddies and its clients see them", async () => {
    const boot = await startNode();
    await RawSocket.join(boot.url, 'Ann');
    const late = await startNode({ ...joining(boot) });
    await eventually(() => expect(late.buddies()).toEqual([{ name: 'Ann', server: boot.url }]));
  });

  it('a server that disconnects tells the others; its clients are away, then leave if they do not come back', async () => {
    const [a, b, c] = await cluster(3, { graceMs: 300 });
    const ann = await RawSocket.join(a!.url, 'Ann');
    await RawSocket.join(c!.url, 'Cid');
    await ann.next((f) => f.type === 'join' && f.name === 'Cid');
    await c!.disconnect();
    await eventually(() => {
      expect(a!.servers()).toEqual(sorted([a!.url, b!.url]));
      expect(b!.servers()).toEqual(sorted([a!.url, b!.url]));
    });
    await ann.next((f) => f.type === 'away' && f.name === 'Cid');
    await ann.next((f) => f.type === 'leave' && f.name === 'Cid');
    await ann.next((f) => f.type === 'update_servers' && f.servers.length === 2);
    expect(a!.buddies()).toEqual([{ name: 'Ann', server: a!.url }]);
  });

  it('two servers joining the same boot server at the same moment converge', async () => {
    const boot = await startNode();
    const joiners = await Promise.all([1, 2, 3, 4].map(() => startNode({ ...joining(boot) })));
    const all = sorted([boot, ...joiners].map((n) => n.url));
    await eventually(() => {
      for (const n of [boot, ...joiners]) expect(n.servers()).toEqual(all);
    });
  });

  it('servers joining through different members at the same moment converge', async () => {
    const [a, b] = await cluster(2);
    const [c, d] = await Promise.all([startNode({ ...joining(a!) }), startNode({ ...joining(b!) })]);
    const all = sorted([a!, b!, c, d].map((n) => n.url));
    await eventually(() => {
      for (const n of [a!, b!, c, d]) expect(n.servers()).toEqual(all);
    });
    // And the mesh carries messages between the two newcomers.
    const cid = await RawSocket.join(c.url, 'Cid');
    const dan = await RawSocket.join(d.url, 'Dan');
    dan.send({ type: 'send', name: 'Dan', text: 'hi Cid' });
    await cid.next((f) => f.type === 'message' && f.text === 'hi Cid');
  });

  it('six servers joining through three different members at once converge', async () => {
    const members = await cluster(3);
    const joiners = await Promise.all([0, 1, 2, 0, 1, 2].map((i) => startNode(joining(members[i]!))));
    const everyone = [...members, ...joiners];
    const all = sorted(everyone.map((n) => n.url));
    await eventually(() => {
      for (const n of everyone) expect(n.servers()).toEqual(all);
    });
  });

  it('a join through an unreachable server fails with a clear error', async () => {
    await expect(startNode({ join: 'ws://127.0.0.1:1' })).rejects.toMatchObject({
      code: 'JOIN_FAILED',
      message: expect.stringContaining('ECONNREFUSED'),
    });
  });
});

describe('a split that heals', () => {
  it('one name given away on both sides: after the heal, the earlier claim keeps it everywhere, the other is told', async () => {
    const { a, b, aUrl, proxy } = await splitPair();
    try {
      const onA = await RawSocket.join(aUrl, 'Zed');
      const onB = await RawSocket.join(b.url, 'Zed');
      proxy.heal();
      await eventually(() => {
        expect(a.servers()).toHaveLength(2);
        const holders = [onA, onB].filter((s) => !s.closed);
        expect(holders).toHaveLength(1);
      }, 15_000);
      const [loser, winner, winnerServer] = onA.closed ? [onA, onB, b.url] : [onB, onA, a.url];
      expect((await loser.nextError('NAME_TAKEN')).message).toMatch(/was taken on another server/);
      for (const node of [a, b]) expect(node.buddies().filter((x) => x.name === 'Zed')).toEqual([{ name: 'Zed', server: winnerServer }]);
      expect(winner.closed).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
