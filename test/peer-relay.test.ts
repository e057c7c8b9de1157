// server/peer-relay.ts with the parts it works with (roster, history, grace, the fan-out): what a
// peer's link brings in, judged and applied. The link is a real socket pair on 127.0.0.1; what the
// relay sends on it (rosters, sync, backfill) is read on the other end as a peer would.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { WebSocketServer } from 'ws';
import { Grace } from '../server/grace.js';
import { Identities } from '../server/identities.js';
import { History } from '../server/history.js';
import { resolveLimits } from '../server/limits.js';
import { LocalClients } from '../server/local-clients.js';
import type { PeerLink } from '../server/mesh.js';
import { PeerRelay } from '../server/peer-relay.js';
import { Roster } from '../server/roster.js';
import { ServerKey, SignerKeys } from '../server/server-key.js';
import { Wire } from '../server/wire/wire.js';
import type { ChatEvent } from '../shared/protocol.js';
import { RawSocket } from './helpers/sockets.js';

const SELF = 'ws://127.0.0.1:1';
const PEER = 'ws://127.0.0.1:2';
// Origins are their keys' (server-key.ts); sorted, so that this server's comes first in the set's order.
const [selfKey, peerKey] = [ServerKey.load(undefined), ServerKey.load(undefined)].sort((a, b) => (a.origin < b.origin ? -1 : 1)) as [ServerKey, ServerKey];
const SELF_ORIGIN = selfKey.origin;
const PEER_ORIGIN = peerKey.origin;

const stops: Array<() => void> = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** An event as its origin made it (`id` is origin-seq; `clock` places it in the set's order). */
function event(fields: {
  type: ChatEvent['type'];
  name: string;
  origin: string;
  seq: number;
  clock: number;
  server: string;
  text?: string;
  key?: string;
}): ChatEvent {
  const made = { ts: Date.now(), ...fields, id: `${fields.origin}-${fields.seq}` } as ChatEvent;
  // Signed by its origin's key, as a server signs its own.
  return [selfKey, peerKey].find((k) => k.origin === fields.origin)?.sign(made) ?? made;
}

async function relayWithPeer() {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const accepted = new Promise<WebSocket>((r) => wss.once('connection', r));
  const peer = await RawSocket.open(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`);
  const ws = await accepted;
  const wire = new Wire();
  const link: PeerLink = { url: PEER, ws, outlet: wire.outlet(ws), outbound: false, open: true, authenticated: true };
  const roster = new Roster();
  const history = new History({ maxEvents: 1_000, maxPresence: 1_000, maxBytes: 1 << 20 });
  const identities = new Identities();
  const grace = new Grace(20_000);
  const relayed: string[] = [];
  const notices: string[] = [];
  const evicted: string[] = [];
  const moved: string[] = [];
  const relay = new PeerRelay({
    self: SELF,
    roster,
    history,
    identities,
    ownerChanged: () => {},
    grace,
    clients: new LocalClients(
      (onSlow) => wire.audience(1 << 20, onSlow),
      () => {},
    ),
    servers: () => [PEER, SELF],
    limits: resolveLimits({}),
    log: pino({ level: 'silent' }),
    observeClock: () => {},
    notice: (type, name, server) => notices.push(`${type}:${name}@${server}`),
    onRelayed: (e) => relayed.push(e.id),
    evictLocal: (name) => {
      evicted.push(name);
      return false;
    },
    movedAway: (name) => moved.push(name),
    signed: (e) => e,
    signers: new SignerKeys(),
  });
  stops.push(() => {
    grace.stop();
    wss.close();
    ws.terminate();
  });
  return { relay, link, peer, roster, history, identities, relayed, notices, evicted, moved };
}

const raw = (e: ChatEvent) => Buffer.from(JSON.stringify(e));

describe('PeerRelay', () => {
  it('judges each live event: a peer speaks only for its own buddies, under its own address and ids', async () => {
    const { relay, link, roster, history, relayed } = await relayWithPeer();
    const join = event({ type: 'join', name: 'Pia', origin: PEER_ORIGIN, seq: 1, clock: 1, server: PEER });
    relay.onEvent(link, join, raw(join));
    expect(roster.holder('Pia')?.server).toBe(PEER);
    const said = event({ type: 'message', name: 'Pia', origin: PEER_ORIGIN, seq: 2, clock: 2, server: PEER, text: 'hi' });
    relay.onEvent(link, said, raw(said));
    // Refused: a buddy of another server, a buddy not on the peer, an id that is not origin-seq.
    const elsewhere = event({ type: 'join', name: 'Sam', origin: PEER_ORIGIN, seq: 3, clock: 3, server: SELF });
    const stranger = event({ type: 'message', name: 'Zed', origin: PEER_ORIGIN, seq: 4, clock: 4, server: PEER, text: 'x' });
    const forged = { ...event({ type: 'message', name: 'Pia', origin: PEER_ORIGIN, seq: 5, clock: 5, server: PEER, text: 'x' }), id: 'other-9' };
    for (const bad of [elsewhere, stranger, forged]) relay.onEvent(link, bad, raw(bad));
    expect(relayed).toEqual([join.id, said.id]);
    expect(history.page(10).events.map((e) => e.id)).toEqual([join.id, said.id]);
    expect(roster.holder('Sam')).toBeUndefined();
    // A join of a name held on this server is refused too (not concurrent: held for long).
    roster.add(SELF, 'Ann', { since: Date.now() - 60_000, clock: 1, origin: SELF_ORIGIN });
    const taken = event({ type: 'join', name: 'Ann', origin: PEER_ORIGIN, seq: 6, clock: 6, server: PEER });
    relay.onEvent(link, taken, raw(taken));
    expect(roster.holder('Ann')?.server).toBe(SELF);
  });

  it('a back that proves the resume key wins over a connection here that has not closed yet (this server was frozen)', async () => {
    const { relay, link, roster, relayed, moved } = await relayWithPeer();
    roster.add(SELF, 'Uma', { since: Date.now() - 60_000, clock: 1, origin: SELF_ORIGIN, key: 'a'.repeat(64) });
    // Without the buddy's key, a peer cannot take a present buddy of this server.
    const claimed = event({ type: 'back', name: 'Uma', origin: PEER_ORIGIN, seq: 1, clock: 5, server: PEER, key: 'b'.repeat(64) });
    relay.onEvent(link, claimed, raw(claimed));
    expect(roster.holder('Uma')?.server).toBe(SELF);
    expect(moved).toEqual([]);
    // With it, Uma resumed there: her stale connection here ends quietly, and what she says there is relayed.
    const back = event({ type: 'back', name: 'Uma', origin: PEER_ORIGIN, seq: 2, clock: 6, server: PEER, key: 'a'.repeat(64) });
    relay.onEvent(link, back, raw(back));
    expect(moved).toEqual(['Uma']);
    expect(roster.holder('Uma')?.server).toBe(PEER);
    const said = event({ type: 'message', name: 'Uma', origin: PEER_ORIGIN, seq: 3, clock: 7, server: PEER, text: 'still here' });
    relay.onEvent(link, said, raw(said));
    expect(relayed).toEqual([back.id, said.id]);
    // An away buddy cannot be claimed without its key either: the real one could not come back.
    roster.add(SELF, 'Vic', { since: Date.now() - 60_000, clock: 2, origin: SELF_ORIGIN, key: 'c'.repeat(64) }).away = true;
    const grab = event({ type: 'back', name: 'Vic', origin: PEER_ORIGIN, seq: 4, clock: 8, server: PEER, key: 'd'.repeat(64) });
    relay.onEvent(link, grab, raw(grab));
    expect(roster.holder('Vic')).toMatchObject({ server: SELF, key: 'c'.repeat(64), away: true });
    expect(relayed).toEqual([back.id, said.id]);
  });

  it('a name given away on both sides of a split: the claim earlier in the set order keeps it, on the backfill that shows it', async () => {
    const { relay, link, roster, evicted, notices } = await relayWithPeer();
    // This server gave "Ann" away at clock 5, "Bob" at clock 2; the peer gave both away too.
    roster.claimBy(SELF, 'Ann', { type: 'join', ts: Date.now(), clock: 5, origin: SELF_ORIGIN });
    roster.claimBy(SELF, 'Bob', { type: 'join', ts: Date.now(), clock: 2, origin: SELF_ORIGIN });
    relay.onRoster(link, { type: 'roster', server: PEER, names: ['Ann', 'Bob'] });
    expect(roster.holder('Ann')?.server).toBe(SELF); // a roster never displaces anyone
    // The peer's joins come by backfill: its Ann (clock 3) came first, its Bob (clock 4) after ours.
    relay.onBackfill(link, [
      event({ type: 'join', name: 'Ann', origin: PEER_ORIGIN, seq: 1, clock: 3, server: PEER }),
      event({ type: 'join', name: 'Bob', origin: PEER_ORIGIN, seq: 2, clock: 4, server: PEER }),
    ]);
    expect(roster.holder('Ann')?.server).toBe(PEER);
    expect(roster.holder('Bob')?.server).toBe(SELF);
    expect(evicted).toEqual(['Ann']); // this server's own Ann is told and closed
    expect(notices).toEqual([`leave:Ann@${SELF}`]);
  });

  it('backfill: events join the history and reach clients in the set order, whatever order they came in; known ones and bad ids are skipped', async () => {
    const { relay, link, history, relayed } = await relayWithPeer();
    const a1 = event({ type: 'join', name: 'Pia', origin: PEER_ORIGIN, seq: 1, clock: 1, server: PEER });
    const a2 = event({ type: 'message', name: 'Pia', origin: PEER_ORIGIN, seq: 2, clock: 3, server: PEER, text: 'second' });
    const b1 = event({ type: 'join', name: 'Sam', origin: SELF_ORIGIN, seq: 1, clock: 2, server: SELF });
    const b2 = event({ type: 'message', name: 'Sam', origin: SELF_ORIGIN, seq: 2, clock: 3, server: SELF, text: 'same clock, origin a first' });
    history.add(b1);
    const badId = { ...event({ type: 'message', name: 'Pia', origin: PEER_ORIGIN, seq: 3, clock: 4, server: PEER, text: 'x' }), id: 'nope' };
    relay.onBackfill(link, [badId, a2, b2, b1, a1]);
    expect(relayed).toEqual([a1.id, b2.id, a2.id]);
    expect(history.page(10).events.map((e) => e.id)).toEqual([a1.id, b1.id, b2.id, a2.id]);
  });

  it('a binding sent ahead of its origin’s other events (a link’s first frames) is kept as a binding, and joins the history only in order', async () => {
    const { relay, link, history, identities, relayed } = await relayWithPeer();
    const device = 'D'.repeat(43);
    const earlier = [1, 2, 3].map((seq) => event({ type: 'message', name: 'Pia', origin: PEER_ORIGIN, seq, clock: seq, server: PEER, text: `m${seq}` }));
    const bind = event({ type: 'join', name: 'Zoe', origin: PEER_ORIGIN, seq: 4, clock: 4, server: PEER, device, bind: true } as never);
    relay.onBackfill(link, [bind]);
    expect(identities.owner('Zoe')?.founder).toBe(device);
    // Not in the history yet: its seen would otherwise say 4, and a lost link would skip 1–3.
    expect(history.has(bind.id)).toBe(false);
    expect(history.seenOf(PEER_ORIGIN)).toBe(0);
    relay.onBackfill(link, [...earlier, bind]);
    expect(history.page(10).events.map((e) => e.id)).toEqual([...earlier, bind].map((e) => e.id));
    expect(relayed).toEqual([...earlier, bind].map((e) => e.id));
  });

  it('a link that opens gets this server’s buddies and how far its history goes; a sync gets what the peer lacks, oldest first', async () => {
    const { relay, link, peer, history } = await relayWithPeer();
    for (let seq = 1; seq <= 5; seq++)
      history.add(event({ type: 'message', name: 'Sam', origin: SELF_ORIGIN, seq, clock: seq, server: SELF, text: `m${seq}` }));
    relay.onLinkUp(link);
    expect((await peer.next((f) => f.type === 'sync')).seen).toEqual({ [SELF_ORIGIN]: 5 });
    relay.onSync(link, { type: 'sync', seen: { [SELF_ORIGIN]: 2 } });
    const backfill = await peer.next((f) => f.type === 'backfill');
    expect(backfill.events.map((e: ChatEvent) => e.seq)).toEqual([3, 4, 5]);
  });

  it('a lost link makes its buddies away, told to this server’s clients as a notice', async () => {
    const { relay, link, roster, notices } = await relayWithPeer();
    const join = event({ type: 'join', name: 'Pia', origin: PEER_ORIGIN, seq: 1, clock: 1, server: PEER });
    relay.onEvent(link, join, raw(join));
    relay.onLinkDown(PEER);
    expect(roster.holder('Pia')?.away).toBe(true);
    expect(notices).toEqual([`away:Pia@${PEER}`]);
  });
});
