// Thousands of broken, mutated and random frames from several connections: the node answers
// with errors or closes those connections, and keeps serving a well-behaved client throughout.
// Seeded, so a failure replays exactly.
import { describe, expect, it } from 'vitest';
import { startNode } from './helpers/nodes.js';
import { RawSocket } from './helpers/sockets.js';

function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const valid = [
  { type: 'client_join_req', name: 'Fuzz' },
  { type: 'send', name: 'Fuzz', text: 'hello' },
  { type: 'client_leave_req', name: 'Fuzz' },
  { type: 'update_servers', servers: ['ws://127.0.0.1:9'] },
  { type: 'roster', server: 'ws://127.0.0.1:9', names: ['A'] },
  {
    type: 'server_join_req',
    from: 'ws://127.0.0.1:9',
    auth: { with: 'invite', nonce: 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', proof: 'A'.repeat(43), bound: true },
  },
  { type: 'set_keys', version: 1, secret: 'A'.repeat(43), invite: 'AAAA-AAAA-AAAA-AAAA', private: true },
  { type: 'hello', nonce: 'AAAAAAAAAAAAAAAAAAAAAAAA', private: false },
  { type: 'message', name: 'A', text: 't', id: '0123456789abcdef-1', origin: '0123456789abcdef', seq: 1, clock: 1, server: 'ws://127.0.0.1:9', ts: 1 },
];
const weird: unknown[] = [
  null,
  true,
  -1,
  1e308,
  '',
  '\u0000',
  '\u202E',
  'x'.repeat(5000),
  [],
  {},
  { type: 'send' },
  [1, [2, [3]]],
  { __proto__: { type: 'send' } },
  { constructor: 'x' },
];

function mutate(rand: () => number): string {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  const roll = rand();
  const base = structuredClone(pick(valid)) as Record<string, unknown>;
  if (roll < 0.35) {
    base[pick(Object.keys(base))] = pick(weird); // a field of the wrong kind
  } else if (roll < 0.5) {
    base[pick(['extra', 'type', 'name', '__proto__', 'toString'])] = pick(weird);
  } else if (roll < 0.65) {
    const text = JSON.stringify(base);
    return text.slice(0, Math.floor(rand() * text.length)); // truncated
  } else if (roll < 0.8) {
    return Array.from({ length: 1 + Math.floor(rand() * 40) }, () => String.fromCharCode(Math.floor(rand() * 0xffff))).join('');
  } else if (roll < 0.9) {
    return JSON.stringify(pick(weird));
  }
  return JSON.stringify(base);
}

describe('ChatServer (fuzz)', () => {
  it('survives 3,000 mutated frames and keeps relaying for everyone else', async () => {
    // Parsing is under test here, not rate limits (hardening.test.ts has those): let the garbage in.
    const node = await startNode({ handshakeTimeoutMs: 60_000, limits: { clientBurst: 10_000, clientRate: 10_000, joinBurstPerAddress: 10_000 } });
    const bystander = await RawSocket.join(node.url, 'Bystander');
    const rand = random(20261125);
    const attackers = await Promise.all(Array.from({ length: 6 }, () => RawSocket.open(node.url)));
    // One more attacker opens a real server link first (it has the invite: an invited member gone
    // bad): peers are never answered with errors
    // (two servers would echo them forever), so its garbage must simply be dropped.
    const peer = await RawSocket.peer(node.url, 'ws://127.0.0.1:9', node.serverInvite().serverCode);
    for (let i = 0; i < 3000; i++) {
      const attacker = attackers[i % attackers.length]!;
      if (attacker.closed || attacker.ws.readyState !== attacker.ws.OPEN) continue;
      attacker.send(mutate(rand));
      if (!peer.closed) peer.send(mutate(rand));
      if (i % 500 === 0) {
        const probe = `alive ${i}`;
        bystander.send({ type: 'send', name: 'Bystander', text: probe });
        await bystander.next((f) => f.type === 'message' && f.text === probe);
      }
    }
    const last = 'still alive at the end';
    bystander.send({ type: 'send', name: 'Bystander', text: last });
    await bystander.next((f) => f.type === 'message' && f.text === last);
    // A connection is answered in order: once each attacker's sentinel error is back, every answer is.
    // (An attacker that happened to leave the chat is being closed instead: wait for that.)
    await Promise.all(
      attackers.map((a) => {
        if (a.ws.readyState === a.ws.OPEN) a.send({ type: 'sentinel' });
        return a.until(() => a.closed ?? a.frames.find((f) => f.type === 'error' && String(f.message).includes('"sentinel"')), 10_000, 'the sentinel');
      }),
    );
    // Every answer an attacker got was a well-formed error (or a join's normal replies).
    for (const a of attackers) {
      for (const f of a.frames)
        expect([
          'hello',
          'error',
          'welcome',
          'history',
          'ack',
          'pong',
          'join',
          'batch',
          'leave',
          'away',
          'message',
          'exit',
          'update_servers',
          'roster',
        ]).toContain(f.type);
    }
    expect(node.localClients()).toContain('Bystander');
    // The fuzz reached the validator: many frames were answered with errors. (How many varies: an
    // attacker whose mutation happened to be a valid leave is closed, and skips the rest.)
    const errors = attackers.flatMap((a) => a.frames).filter((f) => f.type === 'error').length;
    expect(errors).toBeGreaterThan(500);
    expect(peer.frames.filter((f) => f.type === 'error')).toEqual([]);
  });
});
