// server/client-requests.ts with the parts it works with (connections, the fan-out, the roster,
// the history, the grace period), on a bare ws server on 127.0.0.1: a server alone, without the
// mesh, the files or the listener a ChatServer puts around it. Clients are real sockets.
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Access } from '../server/access.js';
import { ClientRequests } from '../server/client-requests.js';
import { Connections } from '../server/connections.js';
import { EventClock } from '../server/event-clock.js';
import { Grace } from '../server/grace.js';
import { Heartbeat } from '../server/heartbeat.js';
import { Identities } from '../server/identities.js';
import { History } from '../server/history.js';
import { AddressLimits, resolveLimits } from '../server/limits.js';
import { LocalClients } from '../server/local-clients.js';
import { Roster } from '../server/roster.js';
import { issueFileToken } from '../server/file-http.js';
import { ServerKey } from '../server/server-key.js';
import { newSetKeysWithoutTls } from '../server/set-keys.js';
import { RawSocket } from './helpers/sockets.js';

const stops: Array<() => void> = [];
const serverKey = ServerKey.load(undefined);
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** Client requests on their own: one server, no peers (a set of one broadcasts to nobody). */
async function alone({ graceMs = 20_000 } = {}) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}`;
  const log = pino({ level: 'silent' });
  const limits = resolveLimits({});
  const access = new Access({ keys: newSetKeysWithoutTls(), invitedReplicas: true, onKeysChanged() {} });
  const addresses = new AddressLimits(limits);
  const roster = new Roster();
  const history = new History({ maxEvents: 1_000, maxPresence: 1_000, maxBytes: 1 << 20 });
  const grace = new Grace(graceMs);
  const relayed: string[] = [];
  let requests: ClientRequests | undefined;
  const connections = new Connections({
    access,
    heartbeat: new Heartbeat(0),
    addresses,
    limits,
    handshakeTimeoutMs: 10_000,
    log,
    clients: {
      join: (conn, msg) => requests!.join(conn, msg),
      holdsSession: (name, token) => requests!.holdsSession(name, token),
      request: (conn, name, msg) => requests!.request(conn, name, msg),
      vanished: (name) => requests!.vanished(name),
      gone: (name) => requests!.gone(name),
    },
    acceptLink: (outlet) => outlet.close(1008, 'no links here'),
  });
  const clients = new LocalClients(
    (onSlow) => connections.wire.audience(1 << 20, onSlow),
    (name, conn) => requests!.dropSlow(name, conn),
  );
  requests = new ClientRequests({
    self: url,
    roster,
    history,
    identities: new Identities(),
    requireKeys: false,
    grace,
    clients,
    events: new EventClock(undefined, serverKey.origin),
    access,
    addresses,
    connections,
    mesh: { broadcast() {}, servers: () => [url] },
    store: undefined,
    index: undefined,
    limits,
    maxUnsent: 1 << 20,
    sign: (event) => event,
    fileToken: (name, key) => issueFileToken(serverKey, name, key),
    maxFileBytes: 1 << 20,
    log,
    onEvent: (event) => relayed.push(`${event.type}:${event.name}`),
  });
  wss.on('connection', (ws) => connections.handle(ws, '127.0.0.1', undefined));
  stops.push(() => {
    connections.stop();
    grace.stop();
    wss.close();
    for (const ws of wss.clients) ws.terminate();
  });
  return { url, roster, history, clients, relayed };
}

describe('ClientRequests', () => {
  it('join: welcome, then history, then the join to everyone; a held name (or a look-alike) is NAME_TAKEN', async () => {
    const { url, roster, relayed } = await alone();
    const ann = await RawSocket.join(url, 'Ann');
    expect(ann.frames.map((f) => f.type).slice(0, 3)).toEqual(['hello', 'welcome', 'history']);
    await ann.next((f) => f.type === 'join' && f.name === 'Ann');
    const bob = await RawSocket.join(url, 'Bob');
    await ann.next((f) => f.type === 'join' && f.name === 'Bob');
    expect(bob.frames.find((f) => f.type === 'welcome')!.roster[url].sort()).toEqual(['Ann', 'Bob']);
    const again = await RawSocket.open(url);
    again.send({ type: 'client_join_req', name: 'ann' });
    expect((await again.nextError('NAME_TAKEN')).message).toContain('it looks like "Ann"');
    expect(roster.holder('Ann')?.server).toBe(url);
    expect(relayed).toEqual(['join:Ann', 'join:Bob']);
  });

  it('send: acked by cid; a resend is acked with the same id and not published again; a name not its own is NAME_MISMATCH', async () => {
    const { url, history } = await alone();
    const ann = await RawSocket.join(url, 'Ann');
    ann.send({ type: 'send', name: 'Ann', text: 'hi', cid: 'c1' });
    const ack = await ann.next((f) => f.type === 'ack' && f.cid === 'c1');
    ann.send({ type: 'send', name: 'Ann', text: 'hi', cid: 'c1' });
    await ann.until(() => (ann.frames.filter((f) => f.type === 'ack').length === 2 ? true : undefined), 2_000, 'the second ack');
    expect(ann.frames.filter((f) => f.type === 'ack').map((f) => f.id)).toEqual([ack.id, ack.id]);
    expect(history.page(10).events.filter((e) => e.type === 'message')).toHaveLength(1);
    ann.send({ type: 'send', name: 'Bob', text: 'as Bob' });
    expect((await ann.nextError('NAME_MISMATCH')).message).toBe('this connection joined as "Ann"');
  });

  it('direct messages reach only their two people; to nobody, or to oneself, is NO_SUCH_BUDDY', async () => {
    const { url } = await alone();
    const [ann, bob, cid] = [await RawSocket.join(url, 'Ann'), await RawSocket.join(url, 'Bob'), await RawSocket.join(url, 'Cid')];
    ann.send({ type: 'send', name: 'Ann', text: 'just you', to: 'bob' }); // spelt as people type it
    const seen = await bob.next((f) => f.type === 'direct');
    expect(seen).toMatchObject({ name: 'Ann', to: 'Bob', text: 'just you' });
    await ann.next((f) => f.type === 'direct');
    ann.send({ type: 'send', name: 'Ann', text: 'everyone' });
    await cid.next((f) => f.type === 'message');
    expect(cid.frames.some((f) => f.type === 'direct')).toBe(false);
    ann.send({ type: 'send', name: 'Ann', text: 'x', to: 'Nina' });
    expect((await ann.nextError('NO_SUCH_BUDDY')).message).toBe('nobody called "Nina" is in the chat');
    ann.send({ type: 'send', name: 'Ann', text: 'x', to: 'Ann' });
    expect((await ann.next((f) => f.type === 'error' && f.message === 'a direct message goes to someone else')).code).toBe('NO_SUCH_BUDDY');
  });

  it('leave: the leaver hears its leave, then exit, then the close (1000, left); the others see it leave', async () => {
    const { url, clients } = await alone();
    const [ann, bob] = [await RawSocket.join(url, 'Ann'), await RawSocket.join(url, 'Bob')];
    bob.send({ type: 'client_leave_req', name: 'Bob' });
    expect(await bob.waitClosed()).toEqual({ code: 1000, reason: 'left' });
    const tail = bob.frames.slice(-2).map((f) => f.type);
    expect(tail).toEqual(['leave', 'exit']);
    await ann.next((f) => f.type === 'leave' && f.name === 'Bob');
    expect(clients.names()).toEqual(['Ann']);
  });

  it('a vanished connection is away, and leaves when the grace period ends; a resume with its token within it is back, with what it missed', async () => {
    const { url } = await alone({ graceMs: 1_500 }); // presence changes go out at most every 500 ms
    const ann = await RawSocket.join(url, 'Ann');
    const bob = await RawSocket.join(url, 'Bob');
    const token = bob.frames.find((f) => f.type === 'welcome')!.token as string;
    const last = (await bob.next((f) => f.type === 'join' && f.name === 'Bob')).id as string;
    bob.ws.terminate(); // no close frame: a network blip
    await ann.next((f) => f.type === 'away' && f.name === 'Bob');
    ann.send({ type: 'send', name: 'Ann', text: 'while you were out' });
    const back = await RawSocket.open(url);
    back.send({ type: 'client_join_req', name: 'Bob', resume: { token, after: last } });
    const welcome = await back.next((f) => f.type === 'welcome');
    expect(welcome, JSON.stringify(back.frames)).toMatchObject({ resumed: true });
    const missed = (await back.next((f) => f.type === 'history')).events.map((e: { type: string; text?: string }) => e.text ?? e.type);
    expect(missed).toEqual(['away', 'while you were out']);
    await ann.next((f) => f.type === 'back' && f.name === 'Bob');
    // A wrong token is someone else.
    const impostor = await RawSocket.open(url);
    impostor.send({ type: 'client_join_req', name: 'Bob', resume: { token: 'not-the-token' } });
    await impostor.nextError('NAME_TAKEN');
    // Ann vanishes and does not come back: after the grace period everyone sees her leave.
    ann.ws.terminate();
    await back.next((f) => f.type === 'away' && f.name === 'Ann');
    await back.next((f) => f.type === 'leave' && f.name === 'Ann', 4_000);
  });

  it('typing counts once every 2 s per client and goes to everyone else; a history page and a search see only what the asker may', async () => {
    const { url } = await alone();
    const [ann, bob] = [await RawSocket.join(url, 'Ann'), await RawSocket.join(url, 'Bob')];
    const cid = await RawSocket.join(url, 'Cid');
    for (let i = 0; i < 5; i++) ann.send({ type: 'typing' });
    await bob.next((f) => f.type === 'is_typing');
    await new Promise((r) => setTimeout(r, 100));
    expect(bob.frames.filter((f) => f.type === 'is_typing')).toHaveLength(1);
    expect(ann.frames.some((f) => f.type === 'is_typing')).toBe(false);
    ann.send({ type: 'send', name: 'Ann', text: 'secret plan', to: 'Bob' });
    ann.send({ type: 'send', name: 'Ann', text: 'open plan' });
    await cid.next((f) => f.type === 'message');
    cid.send({ type: 'history_req' });
    const page = await cid.next((f) => f.type === 'history' && f.page === true);
    expect(page.events.map((e: { text?: string }) => e.text).filter(Boolean)).toEqual(['open plan']);
    cid.send({ type: 'search_req', query: 'plan' });
    expect((await cid.next((f) => f.type === 'search_results')).events.map((e: { text: string }) => e.text)).toEqual(['open plan']);
    bob.send({ type: 'search_req', query: 'plan' });
    expect((await bob.next((f) => f.type === 'search_results')).events.map((e: { text: string }) => e.text).sort()).toEqual(['open plan', 'secret plan']);
  });

  it('requests before a join are NOT_JOINED; a second join is ALREADY_JOINED; a server frame is NOT_A_SERVER', async () => {
    const { url } = await alone();
    const s = await RawSocket.open(url);
    s.send({ type: 'send', name: 'Ann', text: 'hi' });
    await s.nextError('NOT_JOINED');
    s.send({ type: 'update_servers', servers: [url] });
    await s.nextError('NOT_A_SERVER');
    s.send({ type: 'client_join_req', name: 'Ann' });
    await s.next((f) => f.type === 'welcome');
    s.send({ type: 'client_join_req', name: 'Ann' });
    expect((await s.nextError('ALREADY_JOINED')).message).toBe('already joined as "Ann"');
    s.send({ type: 'ping' });
    await s.next((f) => f.type === 'pong');
  });
});
