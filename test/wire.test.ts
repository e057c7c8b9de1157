// server/wire/: sending frames on real sockets, each through its Outlet, in one Wire's turns.
import { describe, expect, it } from 'vitest';
import { encode } from '../server/json-bytes.js';
import { FLUSH_SPACING_MS, LOADED_FRAMES_PER_SOCKET } from '../server/wire/flush-policy.js';
import { type Outlet, Wire } from '../server/wire/wire.js';
import { startNode } from './helpers/nodes.js';
import { RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';

const wire = new Wire();

/** A bare ws server on 127.0.0.1 and one client of it; resolves with the server's side and its outlet. */
async function pair(): Promise<{ server: WebSocket; out: Outlet; client: RawSocket; close: () => void }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = await RawSocket.open(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  const server = await accepted;
  return { server, out: wire.outlet(server), client, close: () => wss.close() };
}

describe('wire', () => {
  it('sendBatched: frames sent in one turn arrive whole and in order', async () => {
    const { out, client, close } = await pair();
    for (let i = 0; i < 500; i++) out.sendBatched(encode({ type: 'n', i }));
    await client.until(() => (client.frames.length === 500 ? true : undefined), 5_000, '500 frames');
    expect(client.frames.map((f) => f.i)).toEqual([...Array(500).keys()]);
    close();
  });

  it('sendSpliced: kept bytes spliced into a frame arrive as one message (in fragments when big), whole and in order with the frames after it', async () => {
    const { out, client, close } = await pair();
    const names = Array.from({ length: 5_000 }, (_, i) => `name-${i}`);
    const kept = Buffer.from(names.map((n) => JSON.stringify(n)).join(','));
    out.sendFramed(wire.frame(encode({ type: 'waiting' })), Number.POSITIVE_INFINITY);
    out.sendSpliced({ type: 'welcome', name: 'Ann' }, { roster: [Buffer.from('{"ws://h:1":['), kept, Buffer.from(']}')], away: [] }, [{ type: 'next', n: 1 }]);
    out.sendSpliced({ type: 'small' }, { list: [Buffer.from('[1,2]')] });
    out.sendBatched(encode({ type: 'after' }));
    await client.until(() => (client.frames.length === 5 ? true : undefined), 5_000, 'five messages');
    expect(client.frames).toEqual([
      { type: 'waiting' }, // what waited in the socket's outbox goes first
      { type: 'welcome', name: 'Ann', roster: { 'ws://h:1': names } },
      { type: 'next', n: 1 },
      { type: 'small', list: [1, 2] },
      { type: 'after' },
    ]);
    close();
  });

  it('a frame built once goes to many sockets whole, in order with what ws sends itself, and counts as unsent', async () => {
    const pairs = await Promise.all([pair(), pair(), pair()]);
    const big = wire.frame(encode({ type: 'big', text: 'x'.repeat(70_000) })); // a 64-bit length header
    let corkedSeen = 0;
    for (let i = 0; i < 300; i++) {
      const frame = i === 150 ? big : wire.frame(encode({ type: 'n', i }));
      for (const { out } of pairs) {
        if (i % 100 === 0) out.sendEncoded(encode({ type: 'direct', i }));
        out.sendFramed(frame, Number.POSITIVE_INFINITY);
      }
      if (i === 10) corkedSeen = pairs[0]!.out.unsent();
    }
    expect(corkedSeen).toBeGreaterThan(0); // held for the end of the turn, and counted
    for (const { client, close } of pairs) {
      await client.until(() => (client.frames.length === 303 ? true : undefined), 5_000, '303 frames');
      const seen = client.frames.map((f) => (f.type === 'n' ? f.i : f.type === 'big' ? `big ${f.text.length}` : `direct ${f.i}`));
      expect(seen.slice(0, 3)).toEqual(['direct 0', 0, 1]);
      expect(seen).toContain('big 70000');
      expect(seen.filter((x) => typeof x === 'number')).toEqual([...Array(300).keys()].filter((i) => i !== 150));
      close();
    }
  });

  it("sockets that each get a different share of a turn's frames get exactly theirs, in order, and before a close", async () => {
    const pairs = await Promise.all([pair(), pair(), pair()]);
    // 3,000 frames of ~170 bytes: they fill several shared segments, and each socket's share breaks
    // the runs differently (every frame, every second, every third).
    for (let i = 0; i < 3_000; i++) {
      const frame = wire.frame(encode({ type: 'n', i, pad: 'x'.repeat(150) }));
      for (const [k, { out }] of pairs.entries()) if (i % (k + 1) === 0) out.sendFramed(frame, Number.POSITIVE_INFINITY);
    }
    for (const { out } of pairs) out.close(1000, 'done');
    for (const [k, { client, close }] of pairs.entries()) {
      expect(await client.waitClosed()).toEqual({ code: 1000, reason: 'done' });
      expect(client.frames.map((f) => f.i)).toEqual([...Array(3_000).keys()].filter((i) => i % (k + 1) === 0));
      close();
    }
  });

  it("under load a socket's outbox takes several turns' frames (flushes are spaced), in order; once the load is gone, a frame leaves right after its turn", async () => {
    const { out, client, close } = await pair();
    const nextTurn = async () => {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
    };
    // More frames a turn than LOADED_FRAMES_PER_SOCKET: from the first flush on, flushes are spaced.
    const perTurn = LOADED_FRAMES_PER_SOCKET + 1;
    for (let turn = 0; turn < 6; turn++) {
      for (let i = 0; i < perTurn; i++) out.sendFramed(wire.frame(encode({ type: 'n', i: turn * perTurn + i })), Number.POSITIVE_INFINITY);
      await nextTurn();
    }
    await eventually(() => expect(out.unsent()).toBe(0)); // the spaced flush
    const n = 6 * perTurn;
    // A light flush ends the spacing: the next frame goes out right after its turn.
    out.sendFramed(wire.frame(encode({ type: 'n', i: n })), Number.POSITIVE_INFINITY);
    await eventually(() => expect(out.unsent()).toBe(0)); // the last spaced one
    out.sendFramed(wire.frame(encode({ type: 'n', i: n + 1 })), Number.POSITIVE_INFINITY);
    expect(out.unsent()).toBeGreaterThan(0);
    await nextTurn();
    expect(out.unsent()).toBe(0);
    await client.until(() => (client.frames.length === n + 2 ? true : undefined), 5_000, 'every frame');
    expect(client.frames.map((f) => f.i)).toEqual([...Array(n + 2).keys()]);
    close();
  });

  it('a burst to one socket in one turn is flushed as it goes, never held back past what marks a slow consumer', async () => {
    const { out, client, close } = await pair();
    let most = 0;
    for (let i = 0; i < 6_000; i++) {
      out.sendFramed(wire.frame(encode({ type: 'n', i, pad: 'x'.repeat(150) })), Number.POSITIVE_INFINITY); // ~1.1 MiB in all
      most = Math.max(most, out.unsent());
    }
    expect(most).toBeLessThan(256 * 1024); // the slow-consumer bound is 1 MiB
    await client.until(() => (client.frames.length === 6_000 ? true : undefined), 10_000, '6,000 frames');
    close();
  });

  it('a client that stops reading is told apart once what it has not sent passes the bound: nothing more waits for it', async () => {
    const { out, client, close } = await pair();
    client.ws.pause(); // the kernel's buffers fill, then ws's, then the outbox
    const frame = wire.frame(encode({ type: 'n', pad: 'x'.repeat(10_000) }));
    const bound = 256 * 1024;
    let verdict = 'sent';
    for (let turn = 0; turn < 2_000 && verdict === 'sent'; turn++) {
      for (let i = 0; i < 10 && verdict === 'sent'; i++) {
        const before = out.unsent();
        verdict = out.sendFramed(frame, bound);
        expect(verdict === 'slow').toBe(before > bound); // slow exactly when past the bound
      }
      await new Promise((r) => setImmediate(r));
    }
    expect(verdict).toBe('slow');
    client.ws.terminate();
    await new Promise((r) => out.ws.once('close', r));
    // What waited in the outbox is dropped at the (spaced) flush; then the socket is found closed.
    await new Promise((r) => setTimeout(r, FLUSH_SPACING_MS + 5));
    expect(out.sendFramed(frame, bound)).toBe('closed');
    close();
  });

  it('an audience: a frame published once reaches every member (but one left out) in order with what each gets on its own; a member added later gets only what follows, one removed still gets what came before', async () => {
    const pairs = await Promise.all([pair(), pair(), pair()]);
    const [m0, m1, m2] = pairs.map(({ out }) => ({ outlet: out })) as [Member, Member, Member];
    type Member = { outlet: Outlet };
    const audience = wire.audience<Member>(Number.POSITIVE_INFINITY, () => {});
    const frame = (tag: string) => wire.frame(encode({ type: 'n', tag, pad: 'x'.repeat(100) }));
    audience.add(m0);
    audience.add(m1);
    audience.publish(frame('p0'));
    audience.publish(frame('p1'));
    expect(pairs[1]!.out.unsent()).toBeGreaterThan(0); // waiting in the audience counts as unsent
    audience.publish(frame('t0'), m1); // all but m1 ("typing…" goes to everyone else)
    m0.outlet.sendFramed(frame('i0'), Number.POSITIVE_INFINITY);
    audience.publish(frame('p2'));
    audience.add(m2);
    audience.publish(frame('p3'));
    pairs[1]!.out.sendEncoded(encode({ type: 'n', tag: 'd1' }));
    audience.remove(m1);
    audience.publish(frame('p4'));
    await new Promise((r) => setImmediate(r));
    // The next turns: 2,000 more, across several segments and flushes.
    for (let i = 0; i < 2_000; i++) {
      audience.publish(frame(`q${i}`));
      if (i % 500 === 0) await new Promise((r) => setImmediate(r));
    }
    for (const { out } of pairs) out.close(1000, 'done');
    const tags = await Promise.all(
      pairs.map(async ({ client }) => {
        await client.waitClosed();
        return client.frames.map((f) => f.tag);
      }),
    );
    const q = Array.from({ length: 2_000 }, (_, i) => `q${i}`);
    expect(tags[0]).toEqual(['p0', 'p1', 't0', 'i0', 'p2', 'p3', 'p4', ...q]);
    expect(tags[1]).toEqual(['p0', 'p1', 'p2', 'p3', 'd1']);
    expect(tags[2]).toEqual(['p3', 'p4', ...q]);
    for (const { close } of pairs) close();
  });

  it('an audience member that stops reading is told apart at a flush once it holds more than the bound unsent, and gets nothing more; the others get everything', async () => {
    const [fast, stuck] = await Promise.all([pair(), pair()]);
    stuck.client.ws.pause();
    type Member = { outlet: Outlet; name: string };
    const slow: string[] = [];
    const audience = wire.audience<Member>(256 * 1024, (members) => {
      for (const m of members) {
        slow.push(m.name);
        audience.remove(m);
      }
    });
    audience.add({ outlet: fast.out, name: 'fast' });
    audience.add({ outlet: stuck.out, name: 'stuck' });
    let sent = 0;
    for (let turn = 0; turn < 2_000 && slow.length === 0; turn++) {
      for (let i = 0; i < 10; i++) audience.publish(wire.frame(encode({ type: 'n', i: sent++, pad: 'x'.repeat(10_000) })));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(slow).toEqual(['stuck']);
    expect(audience.members.map((m) => m.name)).toEqual(['fast']);
    audience.publish(wire.frame(encode({ type: 'n', i: sent++ })));
    await fast.client.until(() => (fast.client.frames.length === sent ? true : undefined), 10_000, `${sent} frames`);
    expect(fast.client.frames.map((f) => f.i)).toEqual([...Array(sent).keys()]);
    expect(stuck.out.unsent()).toBeLessThan(256 * 1024 + 200 * 1024); // what it held, and at most one window more
    stuck.close();
    fast.close();
  });

  it('sending on a closed socket is a no-op that says so, not a throw', async () => {
    const { out, client, close } = await pair();
    client.ws.close();
    await new Promise((r) => out.ws.once('close', r));
    expect(out.sendEncoded(encode({ type: 'late' }))).toBe(false);
    expect(out.sendBatched(encode({ type: 'late' }))).toBe(false);
    close();
  });

  it('close shortens a long reason to 123 bytes by whole characters', async () => {
    const { out, client, close } = await pair();
    out.close(1008, `${'é'.repeat(100)} and more`); // 2-byte characters: a byte cut would break one
    const closed = await client.waitClosed();
    expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
    expect(closed.reason).toBe('é'.repeat(61));
    close();
  });

  it('a node closes with its reason, as a client sees it', async () => {
    const node = await startNode({ handshakeTimeoutMs: 50 });
    const s = await RawSocket.open(node.url);
    expect(await s.waitClosed()).toEqual({ code: 1008, reason: 'HANDSHAKE_TIMEOUT' });
  });
});
