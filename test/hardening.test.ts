// Attacks from the LAN, each tried against a real `chatty host` process with nothing but a
// WebSocket library (issue: hardening). Each test names the attack it answers.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CONCURRENT_CLAIM_MS } from '../server/peer-events.js';
import { formatTime } from '../renderer/components/format.js';
import { ServerKey } from '../server/server-key.js';
import { downloadUrl } from '../shared/files.js';
import { Chatty } from './helpers/processes.js';
import { download, http, upload } from './helpers/files.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

/** A `chatty host` on a free port; resolves with the process and its wss:// address. */
async function host(...args: string[]): Promise<[Chatty, string]> {
  const p = new Chatty(['host', '--port', '0', ...args]);
  return [p, await p.url()];
}

const FAKE = 'ws://127.0.0.1:9'; // the address a fake peer claims: nothing listens there
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (name: string, text: string, server: string, ts = Date.now()) => peerEvent({ type: 'message', name, text, server, ts });
const join = (name: string, server: string, ts = Date.now()) => peerEvent({ type: 'join', name, server, ts });

/** A round trip of one message through the server, in ms. */
async function roundTrip(s: RawSocket, name: string, text: string): Promise<number> {
  const start = performance.now();
  s.send({ type: 'send', name, text });
  await s.next((f) => f.type === 'message' && f.name === name && f.text === text, 10_000);
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe('hardening: a host stays up and honest under attack', () => {
  it('1. slow readers: drops are queued, each logged once, and the host keeps serving', async () => {
    const SLOW = 120;
    const [proc, url] = await host(
      ...['joinBurstPerAddress=1000', 'pendingPerAddress=1000', 'clientBurst=100000', 'clientRate=100000'].flatMap((l) => ['--limit', l]),
    );
    const slow: RawSocket[] = [];
    for (let i = 0; i < SLOW; i += 20) {
      slow.push(...(await Promise.all(Array.from({ length: 20 }, (_, k) => RawSocket.join(url, `slow${i + k}`)))));
    }
    // They all stop reading: kernel buffers fill, then the server's buffer for each passes 1 MiB.
    for (const s of slow) (s.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const sender = await RawSocket.join(url, 'Sender');
    const text = 'x'.repeat(4000);
    let sent = 0;
    while (sender.frames.filter((f) => f.type === 'leave').length < SLOW && sent < 20_000) {
      for (let i = 0; i < 50; i++, sent++) sender.send({ type: 'send', name: 'Sender', text });
      const expected = sent;
      await sender.until(() => (sender.frames.filter((f) => f.type === 'message').length >= expected ? true : undefined), 20_000, 'the batch');
    }
    await sender.until(() => (sender.frames.filter((f) => f.type === 'leave').length >= SLOW ? true : undefined), 20_000, 'every slow reader to leave');
    expect(proc.exitCode).toBeUndefined();
    const fresh = await RawSocket.join(url, 'Fresh');
    expect(await roundTrip(fresh, 'Fresh', 'still here')).toBeGreaterThan(0);
    // One log line per dropped client (before: one per client per nested broadcast, O(n²)).
    const drops = proc.stderr.filter((l) => l.includes('client too slow'));
    expect(drops.length).toBe(SLOW);
  });

  it('2. a page from another origin cannot connect; the host’s own page and native clients can', async () => {
    const [, url] = await host();
    const port = new URL(url).port;
    await expect(RawSocket.open(url, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(RawSocket.open(url, { origin: `http://127.0.0.1:${Number(port) + 1}` })).rejects.toThrow(/403/);
    await expect(RawSocket.open(url, { origin: 'null' })).rejects.toThrow(/403/);
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`, undefined]) {
      const s = await RawSocket.open(url, { origin });
      s.ws.close();
    }
    // --allow-origin widens it for people who know why.
    const [, open] = await host('--allow-origin', 'http://intranet.example:8080');
    (await RawSocket.open(open, { origin: 'http://intranet.example:8080' })).ws.close();
    await expect(RawSocket.open(open, { origin: 'http://evil.example' })).rejects.toThrow(/403/);
  });

  it('3 and 4. a fake peer cannot speak for, or remove, a client it does not have', async () => {
    const [proc, url] = await host();
    const victim = await RawSocket.join(url, 'Victim');
    const peer = await RawSocket.peer(url, FAKE, await proc.serverInviteCode());
    // In Victim's name, under its own address and under the host's; for someone never joined.
    peer.send(message('Victim', 'I owe you nothing', FAKE));
    peer.send(message('Victim', 'I owe you nothing', url));
    peer.send(message('Ghost', 'boo', FAKE));
    // A forged leave for Victim, naming Victim's own server, then naming the peer.
    peer.send(peerEvent({ type: 'leave', name: 'Victim', server: url }));
    peer.send(peerEvent({ type: 'leave', name: 'Victim', server: FAKE }));
    // A join under the host's address, and a join of a look-alike of Victim.
    peer.send(join('Mallory', url));
    peer.send(join('victim', FAKE));
    // What a peer may do: speak for its own client.
    peer.send(join('Mallory', FAKE));
    peer.send(message('Mallory', 'hello from my server', FAKE));
    await victim.next((f) => f.type === 'message' && f.name === 'Mallory');
    expect(victim.events()).toEqual(['join:Victim', 'join:Mallory', 'message:Mallory:hello from my server']);
    // Victim is unharmed: still present, still receiving, and its name cannot be retaken.
    const impostor = await RawSocket.open(url);
    impostor.send({ type: 'client_join_req', name: 'Victim' });
    await impostor.nextError('NAME_TAKEN');
    const bob = await RawSocket.join(url, 'Bob');
    expect(
      Object.values((await bob.next((f) => f.type === 'welcome')).roster)
        .flat()
        .sort(),
    ).toEqual(['Bob', 'Mallory', 'Victim']);
    bob.send({ type: 'send', name: 'Bob', text: 'still there?' });
    await victim.next((f) => f.type === 'message' && f.text === 'still there?');
    // The log is written as the frames are refused; it reaches this process a moment later.
    await expect.poll(() => proc.stderr.filter((l) => l.includes('refused a frame from a peer')).length).toBe(7);
  });

  it('5. a server_join_req claiming a live peer’s address is refused; the set stays whole', async () => {
    const [a, aUrl] = await host();
    const [b, bUrl] = await host('--join', await a.serverInvite());
    const both = `[SERVER UPDATE] [${[aUrl, bUrl].sort().join(',')}]`;
    for (const h of [a, b]) await h.waitFor(new RegExp(`^${both.replace(/[[\]/.]/g, '\\$&')}$`));
    // An invited member (it knows the invite) that claims B's address while B is up.
    const impostor = await RawSocket.open(aUrl);
    await impostor.linkAs(bUrl, await a.serverInviteCode());
    const closed = await impostor.waitClosed();
    expect(closed.reason).toMatch(/^PEER_REFUSED/);
    // The real link is still there: a client on B reaches a client on A.
    const ann = await RawSocket.join(aUrl, 'Ann');
    const bea = await RawSocket.join(bUrl, 'Bea');
    await ann.next((f) => f.type === 'join' && f.name === 'Bea');
    bea.send({ type: 'send', name: 'Bea', text: 'one set' });
    await ann.next((f) => f.type === 'message' && f.text === 'one set');
    // And so the name stays taken across the set.
    const twin = await RawSocket.open(aUrl);
    twin.send({ type: 'client_join_req', name: 'Bea' });
    await twin.nextError('NAME_TAKEN');
  });

  it('6. a fake peer’s update_servers cannot make the host dial paths, or many addresses at once', async () => {
    const [proc, url] = await host();
    const listeners: Array<{ server: Server; port: number; dials: number }> = [];
    for (let i = 0; i < 20; i++) {
      const entry = {
        server: createServer((socket) => {
          entry.dials++;
          socket.destroy();
        }),
        port: 0,
        dials: 0,
      };
      await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
      entry.port = (entry.server.address() as { port: number }).port;
      listeners.push(entry);
    }
    try {
      const peer = await RawSocket.peer(url, FAKE, await proc.serverInviteCode());
      const first = listeners[0]!.port;
      // Paths, queries and credentials are not server addresses: the frame is dropped whole.
      peer.send({ type: 'update_servers', servers: [FAKE, `ws://127.0.0.1:${first}/internal/admin?x=1`] });
      peer.send({ type: 'update_servers', servers: [FAKE, `ws://user:pw@127.0.0.1:${first}`] });
      // More addresses than a set may have: dropped whole.
      peer.send({ type: 'update_servers', servers: [FAKE, ...Array.from({ length: 200 }, (_, i) => `ws://127.0.0.1:${10_000 + i}`)] });
      await sleep(500);
      expect(listeners[0]!.dials).toBe(0);
      // Twenty plain addresses: dialed, but at a bounded rate (burst 8, then 2 a second).
      const started = Date.now();
      peer.send({ type: 'update_servers', servers: [FAKE, ...listeners.map((l) => `ws://127.0.0.1:${l.port}`)] });
      await sleep(1_000);
      const dialed = listeners.filter((l) => l.dials > 0).length;
      const elapsed = (Date.now() - started) / 1000;
      expect(dialed).toBeGreaterThan(0);
      expect(dialed).toBeLessThanOrEqual(8 + Math.ceil(2 * elapsed));
      // And an address that failed is not hammered: each was dialed once.
      expect(Math.max(...listeners.map((l) => l.dials))).toBe(1);
    } finally {
      for (const l of listeners) l.server.close();
    }
  });

  it('7. a peer’s far-off ts is replaced; a peer’s roster is bounded and judged name by name', async () => {
    const [proc, url] = await host('--limit', 'maxClients=500');
    const watcher = await RawSocket.join(url, 'Watcher');
    const peer = await RawSocket.peer(url, FAKE, await proc.serverInviteCode());
    peer.send(join('Timey', FAKE, 8.6e15));
    const relayed = await watcher.next((f) => f.type === 'join' && f.name === 'Timey');
    expect(Math.abs(relayed.ts - Date.now())).toBeLessThan(60_000);
    // Beyond what a Date can hold, the frame is not even valid.
    peer.send(message('Timey', 'from the far future', FAKE, 8.7e15));
    // 1,200 made-up names in three roster frames, one a look-alike of Watcher: at most 500 stay.
    const names = Array.from({ length: 1200 }, (_, i) => `made-up-${i}`);
    names[5] = 'WATCHER';
    for (let i = 0; i < names.length; i += 400) peer.send({ type: 'roster', server: FAKE, names: names.slice(i, i + 400) });
    peer.send(message('Timey', 'after the roster', FAKE));
    await watcher.next((f) => f.type === 'message' && f.text === 'after the roster');
    const listed = watcher.frames.filter((f) => f.type === 'roster').flatMap((f) => f.names as string[]);
    expect(listed).not.toContain('WATCHER');
    expect(listed.length + 1).toBeLessThanOrEqual(500); // Timey counts too
    expect(watcher.events()).not.toContain('message:Timey:from the far future');
    // Whatever a clock says, a time is shown, never an exception (the renderer's formatter).
    for (const ts of [8.7e15, Number.NaN, -1, Number.MAX_VALUE]) expect(typeof formatTime(ts)).toBe('string');
  });

  it('8. a flooding client is limited, told, then cut off; another client’s round trip stays normal', async () => {
    // Plain ws: with TLS, this test process's own encryption of the 20,000 frames sits in front of
    // the bystander's round trips (one event loop), and that is not the server's doing.
    const [, url] = await host('--insecure');
    const bystander = await RawSocket.join(url, 'Bystander');
    const before: number[] = [];
    for (let i = 0; i < 10; i++) before.push(await roundTrip(bystander, 'Bystander', `before ${i}`));
    const flooder = await RawSocket.join(url, 'Flooder');
    const during: Promise<number>[] = [];
    for (let i = 0; i < 20_000; i++) flooder.send({ type: 'send', name: 'Flooder', text: `flood ${i}` });
    for (let i = 0; i < 10; i++) during.push(roundTrip(bystander, 'Bystander', `during ${i}`));
    const times = await Promise.all(during);
    await flooder.nextError('RATE_LIMITED');
    expect((await flooder.waitClosed()).reason).toMatch(/^RATE_LIMITED/);
    await bystander.next((f) => f.type === 'leave' && f.name === 'Flooder');
    // Everyone got at most the burst (60) and a little steady rate, not 20,000.
    const flood = bystander.frames.filter((f) => f.type === 'message' && f.name === 'Flooder').length;
    expect(flood).toBeLessThanOrEqual(100);
    expect(median(times)).toBeLessThan(Math.max(10 * median(before), 50));
  });

  it('9. look-alike and invisible names are refused; a name taken on two servers at once ends with one holder', async () => {
    const [, url] = await host();
    await RawSocket.join(url, 'John');
    for (const name of ['john', 'JOHN', 'Ｊohn', 'J\u03BFhn', 'Jo\u200Bhn']) {
      const s = await RawSocket.open(url);
      s.send({ type: 'client_join_req', name });
      expect((await s.nextError('NAME_TAKEN')).message, name).toMatch(/taken/);
    }
    for (const name of ['\u200B', '\u2800', '\u3164', `a${'\u0301'.repeat(20)}`, '\uD800x', '\u200F', ' ']) {
      const s = await RawSocket.open(url);
      s.send(JSON.stringify({ type: 'client_join_req', name }));
      await s.nextError('NAME_INVALID');
    }
    // Names people write are fine: accents, scripts, emoji.
    for (const name of ['Zoë', 'Nguyễn', 'देवनागरी', 'Лена', '李雷', '👩‍💻 dev']) await RawSocket.join(url, name);

    // The same name on two servers at the same instant: whoever claimed first keeps it everywhere.
    const [a, aUrl] = await host();
    const [b, bUrl] = await host('--join', await a.serverInvite());
    await b.waitFor(/\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\//);
    const watchA = await RawSocket.join(aUrl, 'WatchA');
    const watchB = await RawSocket.join(bUrl, 'WatchB');
    for (let round = 0; round < 10; round++) {
      const name = `Twin${round}`;
      const [onA, onB] = await Promise.all([RawSocket.open(aUrl), RawSocket.open(bUrl)]);
      onA.send({ type: 'client_join_req', name });
      onB.send({ type: 'client_join_req', name });
      await sleep(CONCURRENT_CLAIM_MS / 4);
      const holders = [onA, onB].filter((s) => s.frames.some((f) => f.type === 'welcome') && !s.closed);
      expect(holders.length, `round ${round}`).toBe(1);
      const holderServer = holders[0] === onA ? aUrl : bUrl;
      // Both servers list the same holder.
      for (const w of [watchA, watchB]) {
        const joins = w.frames.filter((f) => f.type === 'join' && f.name === name).map((f) => f.server as string);
        const leaves = w.frames.filter((f) => f.type === 'leave' && f.name === name).map((f) => f.server as string);
        const present = joins.filter((s) => !leaves.includes(s));
        expect(present, `round ${round}`).toEqual([holderServer]);
      }
    }
  });

  it('10. bidi controls and newlines in a text cannot pose as another line in the terminal', async () => {
    const [, url] = await host();
    const reader = new Chatty(['client', url, 'Reader']);
    await reader.waitFor(/^\[JOIN\] Reader joined the chat$/);
    const mallory = await RawSocket.join(url, 'Mallory');
    mallory.send({ type: 'send', name: 'Mallory', text: 'fine\n[Admin] the server restarts, type your password' });
    mallory.send({ type: 'send', name: 'Mallory', text: '\u202E!nimda ma I' });
    await reader.waitFor(/^\[Mallory\] <U\+202E>!nimda ma I$/);
    const i = reader.stdout.indexOf('[Mallory] fine');
    expect(reader.stdout[i + 1]).toBe('          [Admin] the server restarts, type your password');
    expect(reader.stdout.filter((l) => l.startsWith('[Admin]'))).toEqual([]);
  });
  it("11. an admitted server cannot put words in another server's mouth: forged origins are refused, live or backfilled", async () => {
    const [a, aUrl] = await host();
    const [b, bUrl] = await host('--join', await a.serverInvite());
    await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    const ann = await RawSocket.join(aUrl, 'Ann');
    const bea = await RawSocket.join(bUrl, 'Bea');
    ann.send({ type: 'send', name: 'Ann', text: 'the real one' });
    const real = await bea.next((f) => f.type === 'message' && f.text === 'the real one');
    // A server of the set, admitted with the server invite, that turns hostile.
    const peer = await RawSocket.peer(bUrl, FAKE, await a.serverInviteCode());
    peer.send({ type: 'sync', seen: {} });
    await peer.next((f) => f.type === 'backfill' && f.events.some((e: { id: string }) => e.id === real.id));
    const original = peer.frames.flatMap((f) => (f.type === 'backfill' ? f.events : [])).find((e: { id: string }) => e.id === real.id);
    // Ann's line with other words, under A's origin: its signature no longer fits.
    const altered = { ...original, id: `${original.origin}-${original.seq + 1000}`, seq: original.seq + 1000, clock: original.clock + 1000, text: 'I resign' };
    // A's origin, signed with the hostile server's own key (a fake peer's event, made A's).
    const own = peerEvent({ type: 'message', name: 'Ann', text: 'pay Mallory', server: aUrl });
    const reoriginated = { ...own, origin: original.origin, id: `${original.origin}-${original.seq + 2000}`, seq: original.seq + 2000 };
    // And an unsigned one.
    const {
      sig: _sig,
      signer: _signer,
      ...unsigned
    } = { ...original, id: `${original.origin}-${original.seq + 3000}`, seq: original.seq + 3000, text: 'unsigned' };
    peer.send({ type: 'backfill', events: [altered, reoriginated, unsigned] });
    peer.send({ ...altered, server: FAKE, name: 'Mallory' });
    // What it may do: speak for a buddy of its own, signed as itself.
    peer.send(join('Mallory', FAKE));
    peer.send(message('Mallory', 'hello from my server', FAKE));
    await bea.next((f) => f.type === 'message' && f.name === 'Mallory');
    await sleep(300);
    const texts = bea.frames.filter((f) => f.type === 'message').map((f) => f.text);
    expect(texts).toEqual(['the real one', 'hello from my server']);
    bea.send({ type: 'history_req', limit: 500 });
    const page = await bea.next((f) => f.type === 'history' && f.page === true);
    expect(page.events.filter((e: { type: string }) => e.type === 'message').map((e: { text: string }) => e.text)).toEqual([
      'the real one',
      'hello from my server',
    ]);
    await b.waitFor(/is not its origin's own: its signature is wrong/, 'stderr');
    await b.waitFor(/is not its origin's own: its key is not its origin’s/, 'stderr');
    await b.waitFor(/is not its origin's own: it is not signed/, 'stderr');
    // Nor claim another server's away buddy, which locked the real one out of her resume: Ann's
    // connection vanishes (she is away on A), the hostile server says she is back on it — signed,
    // but without her resume key — and B keeps her A's; Ann resumes on A with her token.
    const annToken = ann.frames.find((f) => f.type === 'welcome')!.token as string;
    const annLast = ann.frames.filter((f) => f.id && !String(f.id).includes('.')).at(-1)?.id as string;
    ann.ws.terminate();
    await bea.next((f) => f.type === 'away' && f.name === 'Ann');
    peer.send(peerEvent({ type: 'back', name: 'Ann', server: FAKE, key: 'f'.repeat(64) }));
    await b.waitFor(/without that buddy's resume key/, 'stderr');
    const again = await RawSocket.open(aUrl);
    again.send({ type: 'client_join_req', name: 'Ann', resume: { token: annToken, after: annLast } });
    expect((await again.next((f) => f.type === 'welcome')).resumed).toBe(true);
    await bea.next((f) => f.type === 'back' && f.name === 'Ann');
    // Clients never see what only servers use.
    expect(JSON.stringify(bea.frames)).not.toMatch(/"sig"|"signer"/);
    // Nor mint a file token for a buddy of another server (one keyed with the set's secret, as tokens
    // were; one signed with its own key; one that names B's origin): only Bea's own server's token opens her file.
    expect((await upload(bea, Buffer.from('the plan'), { name: 'plan.txt' })).status).toBe(201);
    const plan = await bea.next((f) => f.type === 'file' && f.file.name === 'plan.txt');
    expect((await download(bea, plan.id)).status).toBe(200);
    const beaJoin = peer.frames
      .flatMap((f) => (f.type === 'backfill' ? f.events : [f]))
      .find((e: { type: string; name: string }) => e.type === 'join' && e.name === 'Bea');
    const text = `chatty-files\nBea\n${beaJoin.key}`;
    const secret = peer.frames.find((f) => f.type === 'set_keys')!.secret as string;
    const mine = ServerKey.load(undefined);
    const forgeries = [
      createHmac('sha256', Buffer.from(secret, 'base64url')).update(text).digest('base64url'),
      `${mine.origin}.${mine.signText(text)}`,
      `${beaJoin.origin}.${mine.signText(text)}`,
    ];
    for (const token of forgeries) {
      const got = await http(downloadUrl(bUrl, plan.id, 'Bea', { token, maxBytes: 1 }));
      expect([got.status, got.json?.code], token).toEqual([403, 'AUTH_FAILED']);
    }
    // Nor can it push the set's keys to the end of the number line (which locked newcomers out and
    // left the host's --new-invite refusing to start): refused and logged, the invite unchanged.
    const keys = peer.frames.find((f) => f.type === 'set_keys')!;
    const { serverInvite } = keys;
    peer.send({ ...keys, version: Number.MAX_SAFE_INTEGER, invite: '0000-0000-0000-0000' });
    await b.waitFor(/a peer sent keys this server does not take/, 'stderr');
    // Nor alter a change another server signed on its way, or send one that no server signed.
    peer.send({ ...keys, version: Date.now() + 1_000, invite: '0000-0000-0000-0001' });
    const { sig: _s, signer: _k, ...unsignedKeys } = keys;
    peer.send({ ...unsignedKeys, version: Date.now() + 2_000, invite: '0000-0000-0000-0002' });
    await expect.poll(() => b.stderr.filter((l) => l.includes('a peer sent keys this server does not take')).length).toBe(3);
    expect(await b.serverInviteCode()).toBe(serverInvite);
    expect(b.stdout.some((l) => /0000-0000-0000-000[0-2]/.test(l))).toBe(false);
  });
});
