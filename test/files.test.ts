// Files and pictures across the set: the sender's server keeps the bytes, any server fetches them
// from another on demand and keeps what it fetched, and only the people who may see a file's event
// may download it. Real `chatty host` processes, HTTP over TLS, and pages in Chromium.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { downloadUrl, fileLinkUrl, sha256Hex, uploadUrl } from '../shared/files.js';
import { accessOf, download, http, sha256, upload } from './helpers/files.js';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf, screenshot } from './helpers/browser.js';
import { startNode } from './helpers/nodes.js';
import { Chatty } from './helpers/processes.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

const MiB = 1024 * 1024;

/** Whatever the server answers, until it closes, to a request written by hand on a TLS socket to `target`. */
function rawAnswer(target: URL, write: (socket: ReturnType<typeof connect>) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: target.hostname, port: Number(target.port), rejectUnauthorized: false }, () => write(socket));
    let answer = '';
    socket.on('data', (d) => {
      answer += d.toString();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', (err) => (answer ? resolve(answer) : reject(err)));
  });
}

/** An upload that announces `length` bytes, sends three, and waits: one under way until its socket is destroyed. */
function uploadUnderWay(url: string, length: number): Promise<ReturnType<typeof connect>> {
  const t = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: t.hostname, port: Number(t.port), rejectUnauthorized: false }, () => {
      socket.write(`POST ${t.pathname}${t.search} HTTP/1.1\r\nHost: ${t.host}\r\nContent-Length: ${length}\r\n\r\nabc`, () => resolve(socket));
    });
  });
}

async function threeServers(extra: string[] = []) {
  const dataOf = () => mkdtempSync(join(tmpdir(), 'chatty-files-test-'));
  const aData = dataOf();
  const a = new Chatty(['host', '--port', '0', '--data', aData, ...extra]);
  const aUrl = await a.url();
  const invite = await a.invite();
  const serverInvite = await a.serverInvite();
  const b = new Chatty(['host', '--port', '0', '--join', serverInvite, '--data', dataOf(), ...extra]);
  const bUrl = await b.url();
  const c = new Chatty(['host', '--port', '0', '--join', serverInvite, '--data', dataOf(), ...extra]);
  const cUrl = await c.url();
  await c.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
  return { a, aUrl, aData, b, bUrl, c, cUrl, invite };
}

describe('files', () => {
  it('a 20 MiB file sent on server A downloads byte-identical on server C; servers keep what they fetched', async () => {
    const { a, aUrl, bUrl, c, cUrl } = await threeServers();
    const ann = await RawSocket.join(aUrl, 'Ann');
    const cid = await RawSocket.join(cUrl, 'Cid');
    const bea = await RawSocket.join(bUrl, 'Bea');
    expect(accessOf(ann).access.maxBytes).toBe(100 * MiB);
    const bytes = randomBytes(20 * MiB);
    const sent = await upload(ann, bytes, { name: 'holiday video.mp4', type: 'video/mp4', cid: 'f1' });
    expect(sent.status).toBe(201);
    const event = await cid.next((f) => f.type === 'file');
    expect(event).toMatchObject({ name: 'Ann', file: { name: 'holiday video.mp4', size: 20 * MiB, type: 'video/mp4', hash: sha256(bytes) }, cid: 'f1' });
    expect((await ann.next((f) => f.type === 'ack' && f.cid === 'f1')).id).toBe(event.id);
    const got = await download(cid, event.id);
    expect(got.status).toBe(200);
    expect(got.headers['content-disposition']).toBe(`attachment; filename="holiday video.mp4"; filename*=UTF-8''holiday%20video.mp4`);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(sha256(got.body)).toBe(sha256(bytes));
    // The sender's server goes: Bea's server fetches from C, which kept its copy.
    a.kill('SIGKILL');
    const fromB = await download(bea, event.id);
    expect(fromB.status).toBe(200);
    expect(sha256(fromB.body)).toBe(sha256(bytes));
    // And B keeps its own: with C gone as well, B still serves it.
    c.kill('SIGKILL');
    const again = await download(bea, event.id);
    expect(sha256(again.body)).toBe(sha256(bytes));
  });

  it('a file whose servers are all down is FILE_UNAVAILABLE, and comes once its server is back', async () => {
    const { a, aUrl, aData, b, bUrl } = await threeServers();
    const ann = await RawSocket.join(aUrl, 'Ann');
    const bea = await RawSocket.join(bUrl, 'Bea');
    const bytes = randomBytes(64 * 1024);
    await upload(ann, bytes, { name: 'notes.txt', type: 'text/plain' });
    const event = await bea.next((f) => f.type === 'file');
    a.kill('SIGKILL');
    const missing = await download(bea, event.id);
    expect(missing.status).toBe(503);
    expect(missing.json).toMatchObject({ code: 'FILE_UNAVAILABLE' });
    // A's server comes back with its data folder (it re-dials the set it remembers): the file is there again.
    const back = new Chatty(['host', '--port', new URL(aUrl).port, '--data', aData]);
    await back.url();
    await expect.poll(async () => (await download(bea, event.id)).status, { timeout: 15_000 }).toBe(200);
    expect(b.stderr.join('\n')).not.toMatch(/Error/);
  });

  it('direct files reach only their two people; nobody else can download them', async () => {
    const { aUrl, cUrl } = await threeServers();
    const ann = await RawSocket.join(aUrl, 'Ann');
    const cid = await RawSocket.join(cUrl, 'Cid');
    const dan = await RawSocket.join(cUrl, 'Dan');
    await ann.next((f) => f.type === 'join' && f.name === 'Dan');
    const sent = await upload(ann, Buffer.from('for Cid only'), { name: 'secret.txt', type: 'text/plain', to: 'Cid' });
    expect(sent.status).toBe(201);
    const event = await cid.next((f) => f.type === 'file');
    expect(event.to).toBe('Cid');
    expect((await download(cid, event.id)).body.toString()).toBe('for Cid only');
    const refused = await download(dan, event.id);
    expect(refused.status).toBe(404);
    expect(refused.json).toMatchObject({ code: 'FILE_NOT_FOUND' });
    cid.send({ type: 'search_req', query: 'secret' });
    expect((await cid.next((f) => f.type === 'search_results')).events.map((e: { id: string }) => e.id)).toEqual([event.id]);
    dan.send({ type: 'search_req', query: 'secret' });
    expect((await dan.next((f) => f.type === 'search_results')).events).toEqual([]);
    expect(JSON.stringify(dan.frames)).not.toContain('secret.txt');
    // A token is its holder's: Dan's token with Cid's name gets nothing.
    const { access } = accessOf(dan);
    const forged = await download(Object.assign(Object.create(dan), { frames: [{ type: 'welcome', server: cUrl, name: 'Cid', files: access }] }), event.id);
    expect(forged.status).toBe(403);
  });

  it("with --insecure too: plain HTTP between servers, with the set's proof", async () => {
    const a = new Chatty(['host', '--port', '0', '--insecure']);
    const aUrl = await a.url();
    const b = new Chatty(['host', '--port', '0', '--insecure', '--join', await a.serverInvite()]);
    const bUrl = await b.url();
    await b.waitFor(/^\[SERVER UPDATE\] \[ws:\/\/[^,]+,ws:\/\/[^,]+\]$/);
    const ann = await RawSocket.join(aUrl, 'Ann');
    const bob = await RawSocket.join(bUrl, 'Bob');
    const bytes = randomBytes(300_000);
    expect((await upload(ann, bytes, { name: 'plain.bin' })).status).toBe(201);
    const event = await bob.next((f) => f.type === 'file');
    const got = await download(bob, event.id);
    expect(sha256(got.body)).toBe(sha256(bytes));
    // Without the set's proof, a server's by-hash route gives nothing.
    const stranger = await http(`${aUrl.replace('ws:', 'http:')}/files/sha256/${event.file.hash}`);
    expect([stranger.status, stranger.json?.code]).toEqual([403, 'AUTH_FAILED']);
  });

  it('the terminal client prints a line with the download link, which works', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    const terminal = new Chatty(['client', await host.invite(), 'Tess', '--give-up', '1']);
    await terminal.waitFor(/^\[JOIN\] Tess joined the chat$/);
    const ann = await RawSocket.join(url, 'Ann');
    await upload(ann, Buffer.from('minutes of the meeting'), { name: 'minutes.txt', type: 'text/plain' });
    const line = await terminal.waitFor(/^\[Ann\] sent minutes\.txt \(22 B, text\/plain\): https:\/\/127\.0\.0\.1:\d+\/files\/\S+$/);
    const link = line.slice(line.indexOf('https://'));
    const got = await http(link);
    expect([got.status, got.body.toString()]).toEqual([200, 'minutes of the meeting']);
    // The link opens that file only, for a day; it is not the session's token.
    const printed = new URL(link);
    expect(printed.searchParams.has('t')).toBe(false);
    expect(Number(printed.searchParams.get('x')) - Date.now()).toBeGreaterThan(23 * 3600_000);
    await upload(ann, Buffer.from('another file'), { name: 'other.txt', type: 'text/plain' });
    const other =
      ann.frames.find((f) => f.type === 'file' && f.file.name === 'other.txt') ?? (await ann.next((f) => f.type === 'file' && f.file.name === 'other.txt'));
    printed.pathname = `/files/${other.id}`;
    const elsewhere = await http(printed.toString());
    expect([elsewhere.status, elsewhere.json?.code]).toEqual([403, 'AUTH_FAILED']);
    const later = new URL(link);
    later.searchParams.set('x', String(Date.now() + 30 * 24 * 3600_000));
    expect((await http(later.toString())).status).toBe(403); // a later expiry is another signature
    // Signed as the protocol says (files.ts), with a session's resume key: good until it expires.
    const annKey = sha256(Buffer.from(ann.frames.find((f) => f.type === 'welcome')!.token));
    const { server } = accessOf(ann);
    expect((await http(fileLinkUrl(server, other.id, 'Ann', annKey, Date.now() + 60_000))).status).toBe(200);
    const expired = await http(fileLinkUrl(server, other.id, 'Ann', annKey, Date.now() - 1));
    expect([expired.status, expired.json?.message]).toEqual([403, 'this link has expired: open the file from the chat for a new one']);
  });

  it('bad uploads are clear errors and leave nothing behind', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-files-bad-'));
    const host = new Chatty(['host', '--port', '0', '--data', data, '--max-file-size', '1M']);
    const url = await host.url();
    const ann = await RawSocket.join(url, 'Ann');
    const bob = await RawSocket.join(url, 'Bob');
    expect(accessOf(ann).access.maxBytes).toBe(MiB);
    const tooLarge = await upload(ann, randomBytes(MiB + 1), { name: 'big.bin' });
    expect([tooLarge.status, tooLarge.json?.code]).toEqual([413, 'FILE_TOO_LARGE']);
    for (const name of ['../../etc/passwd', 'a\\b.txt', 'bell\u0007.txt', 'evil\u202egnp.exe', '..', ' ']) {
      const bad = await upload(ann, Buffer.from('x'), { name });
      expect([bad.status, bad.json?.code], name).toEqual([400, 'FILE_NAME_INVALID']);
    }
    const toNobody = await upload(ann, Buffer.from('x'), { name: 'x.txt', to: 'Nobody' });
    expect([toNobody.status, toNobody.json?.code]).toEqual([404, 'NO_SUCH_BUDDY']);
    const { server, name, access } = accessOf(ann);
    const wrongToken = await upload(
      Object.assign(Object.create(ann), { frames: [{ type: 'welcome', server, name, files: { ...access, token: 'A'.repeat(43) } }] }),
      Buffer.from('x'),
      { name: 'x.txt' },
    );
    expect([wrongToken.status, wrongToken.json?.code]).toEqual([403, 'AUTH_FAILED']);
    // An upload cut half-way: the connection drops after half the bytes.
    const target = new URL(uploadUrl(server, name, access, { name: 'half.bin' }));
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: target.hostname, port: Number(target.port), rejectUnauthorized: false }, () => {
        socket.write(`POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Length: 800000\r\n\r\n`);
        socket.write(randomBytes(400_000), () =>
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 200),
        );
      });
      socket.on('error', reject);
    });
    // The same with no length announced (chunked), over the limit.
    const chunked = await rawAnswer(target, (socket) => {
      socket.write(`POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nTransfer-Encoding: chunked\r\n\r\n`);
      const chunk = randomBytes(256 * 1024);
      for (let i = 0; i < 5; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk.toString('binary')}\r\n`, 'binary');
    });
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    expect(chunked).toContain('FILE_TOO_LARGE');
    // A flood of uploads at once from one person: the fifth waits its turn.
    const held = await Promise.all([1, 2, 3, 4].map((i) => uploadUnderWay(uploadUrl(server, name, access, { name: `slow-${i}.bin` }), 1000)));
    await new Promise((r) => setTimeout(r, 300));
    const fifth = await upload(ann, Buffer.from('x'), { name: 'fifth.txt' });
    expect([fifth.status, fifth.json?.code]).toEqual([429, 'RATE_LIMITED']);
    for (const socket of held) socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    // A malformed link is a clear error, not a crash.
    const malformed = await http(`${server.replace(/^ws/, 'http')}/files/%E0%A4%A?as=Ann&t=${access.token}`);
    expect([malformed.status, malformed.json?.code]).toEqual([404, 'FILE_NOT_FOUND']);
    // Nothing was published, and nothing (not even a part) was kept.
    const ok = await upload(ann, Buffer.from('fine'), { name: 'fine.txt', type: 'text/plain' });
    expect(ok.status).toBe(201);
    const fine = await bob.next((f) => f.type === 'file');
    expect(bob.frames.filter((f) => f.type === 'file')).toEqual([fine]);
    expect(readdirSync(join(data, 'files'))).toEqual([sha256(Buffer.from('fine'))]);
  });

  it('quotas, a minimum pace, a cap on what a peer announces, and requests per address hold a member to its share', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-files-quota-'));
    const limits = [
      '--limit',
      'fileBytesPerPerson=3000',
      '--limit',
      'fileBytesTotal=5000',
      '--limit',
      'uploadMinBytesPerSecond=1000000',
      '--limit',
      'httpRequestsPerAddress=3',
    ];
    const host = new Chatty(['host', '--port', '0', '--data', data, '--max-file-size', '1M', ...limits]);
    const url = await host.url();
    const ann = await RawSocket.join(url, 'Ann');
    const bob = await RawSocket.join(url, 'Bob');
    // Ann's share: 3,000 bytes of files the chat keeps. Her third file does not fit.
    expect((await upload(ann, Buffer.alloc(1400, 1), { name: 'one.bin' })).status).toBe(201);
    expect((await upload(ann, Buffer.alloc(1400, 2), { name: 'two.bin' })).status).toBe(201);
    const third = await upload(ann, Buffer.alloc(1400, 3), { name: 'three.bin' });
    expect([third.status, third.json?.code]).toEqual([413, 'QUOTA_EXCEEDED']);
    expect(third.json?.message).toMatch(/^your files in the chat take 2.7 KB of your 2.9 KB: this one does not fit/);
    // The server's 5,000 in all: Bob has room of his own, the chat has not.
    expect((await upload(bob, Buffer.alloc(1400, 4), { name: 'bob.bin' })).status).toBe(201);
    const over = await upload(bob, Buffer.alloc(1400, 5), { name: 'bob2.bin' });
    expect([over.status, over.json?.code]).toEqual([413, 'QUOTA_EXCEEDED']);
    expect(over.json?.message).toMatch(/^the chat's files take/);
    expect(readdirSync(join(data, 'files'))).toHaveLength(3);
    // A trickle is cut after a window below the minimum pace (1 MB/s here), and leaves nothing.
    const { server, name, access } = accessOf(bob);
    const target = new URL(uploadUrl(server, name, access, { name: 'trickle.bin' }));
    const trickle = await rawAnswer(target, (socket) =>
      socket.write(`POST ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\nContent-Length: 100\r\n\r\nabc`),
    );
    expect(trickle).toMatch(/^HTTP\/1\.1 400/);
    expect(trickle).toContain('slower than 1000000 bytes a second');
    expect(readdirSync(join(data, 'files'))).toHaveLength(3);
    // A peer of the set announces a file far over this server's limit: it is not fetched, not a byte is written.
    const peer = await RawSocket.peer(url, 'ws://127.0.0.1:9', await host.serverInviteCode());
    peer.send(peerEvent({ type: 'join', name: 'Rogue', server: 'ws://127.0.0.1:9' }));
    peer.send(
      peerEvent({
        type: 'file',
        name: 'Rogue',
        server: 'ws://127.0.0.1:9',
        file: { name: 'huge.iso', size: 1e12, type: 'application/octet-stream', hash: 'a'.repeat(64) },
      }),
    );
    const huge = await ann.next((f) => f.type === 'file' && f.file.name === 'huge.iso');
    const refused = await download(ann, huge.id);
    expect([refused.status, refused.json?.code]).toEqual([413, 'FILE_TOO_LARGE']);
    expect(readdirSync(join(data, 'files'))).toHaveLength(3);
    // One address holds at most so many requests under way (3 here, 32 by default): one more is answered 429 at once.
    const held = await Promise.all([1, 2, 3].map((i) => uploadUnderWay(uploadUrl(server, name, access, { name: `held-${i}.bin` }), 100)));
    await new Promise((r) => setTimeout(r, 300));
    const busy = await download(ann, huge.id);
    expect([busy.status, busy.json?.code]).toEqual([429, 'RATE_LIMITED']);
    for (const socket of held) socket.destroy();
    await new Promise((r) => setTimeout(r, 300));
    expect((await download(ann, huge.id)).status).toBe(413);
  }, 60_000);

  it('a file goes from the disk with the last event that shares it; what an earlier run let go of goes at the next start', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-files-test-'));
    const folder = join(data, 'files');
    const node = await startNode({ data, insecure: true, historyMaxEvents: 4 });
    const ann = await RawSocket.join(node.url, 'Ann');
    const [one, two] = [Buffer.from('the same bytes, twice'), Buffer.from('other bytes')];
    for (const [bytes, name] of [
      [one, 'a.txt'],
      [one, 'b.txt'],
      [two, 'c.txt'],
    ] as const) {
      expect((await upload(ann, bytes, { name })).status).toBe(201);
    }
    expect(readdirSync(folder).sort()).toEqual([sha256(one), sha256(two)].sort());
    // The three files and a message: the history's four messages. Each message after pushes out the
    // oldest (and Ann's join, older still, with it).
    const say = async (text: string) => {
      ann.send({ type: 'send', name: 'Ann', text });
      await ann.next((f) => f.type === 'message' && f.text === text);
    };
    await say('0');
    await say('1'); // a.txt goes; b.txt still shares its bytes
    expect(readdirSync(folder).sort()).toEqual([sha256(one), sha256(two)].sort());
    await say('2'); // b.txt goes, and with it those bytes
    expect(readdirSync(folder)).toEqual([sha256(two)]);
    expect((await download(ann, ann.frames.find((f) => f.type === 'file' && f.file.name === 'a.txt')!.id)).json?.code).toBe('FILE_NOT_FOUND');
    await node.disconnect();
    // Bytes no event shares go at the next start: those older than the history (left by a run that
    // could not remove them), not those as young as it (an event its peers may bring back).
    const [stray, young] = [sha256(Buffer.from('stray')), sha256(Buffer.from('young'))];
    writeFileSync(join(folder, stray), 'stray');
    writeFileSync(join(folder, young), 'young');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(join(folder, stray), twoDaysAgo, twoDaysAgo);
    const again = await startNode({ data, insecure: true, historyMaxEvents: 50 });
    expect(readdirSync(folder).sort()).toEqual([sha256(two), young].sort());
    const bea = await RawSocket.join(again.url, 'Bea');
    const c = bea.frames.find((f) => f.type === 'history')!.events.find((e: { type: string; file?: { name: string } }) => e.file?.name === 'c.txt');
    expect((await download(bea, c.id)).body.toString()).toBe('other bytes');
  });

  it("a download's bytes are checked without holding up the page: WebCrypto, or on a plain-http page (none) in slices with pauses between", async () => {
    const bytes = new Uint8Array(randomBytes(5 * MiB + 7));
    let pauses = 0;
    const sliced = await sha256Hex(bytes, null, () => {
      pauses++;
      return new Promise((resolve) => setImmediate(resolve));
    });
    expect(sliced).toBe(sha256(Buffer.from(bytes)));
    expect(pauses).toBe(5); // six slices of 1 MiB, the page's turn between each two
    expect(await sha256Hex(bytes)).toBe(sliced); // WebCrypto: the same hash
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();
    // A 1×1 PNG: a picture, shown as a thumbnail.
    const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

    it('a 20 MiB file picked on server A downloads on server C with a progress bar, byte-identical', async () => {
      const { aUrl, cUrl } = await threeServers(['--max-file-size', '25M']);
      const ann = await joinInBrowser(browser(), pageOf(aUrl), 'Ann');
      const cid = await joinInBrowser(browser(), pageOf(cUrl), 'Cid');
      const bytes = randomBytes(20 * MiB);
      const folder = mkdtempSync(join(tmpdir(), 'chatty-pick-'));
      writeFileSync(join(folder, 'big report.pdf'), bytes);
      await ann.getByTestId('attach').setInputFiles(join(folder, 'big report.pdf'));
      const card = cid.getByTestId('file').filter({ hasText: 'big report.pdf' });
      await card.waitFor();
      expect(await card.textContent()).toContain('20 MB · application/pdf');
      // Cid's network is slowed (Chromium's own throttling) so the transfer can be watched.
      const cdp = await cid.context().newCDPSession(cid);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 6 * MiB, uploadThroughput: -1 });
      const saved = cid.waitForEvent('download', { timeout: 30_000 });
      await card.getByTestId('download').click();
      const progress = card.getByTestId('download-progress');
      await expect.poll(async () => Number(await progress.getAttribute('value')), { timeout: 10_000 }).toBeGreaterThan(0.05);
      expect(Number(await progress.getAttribute('value'))).toBeLessThan(1);
      await screenshot(cid, 'file-transfer');
      const file = await saved;
      expect(file.suggestedFilename()).toBe('big report.pdf');
      expect(sha256(readFileSync((await file.path())!))).toBe(sha256(bytes));
      await progress.waitFor({ state: 'detached' });
    });

    it('pictures show as thumbnails (picked, pasted, dropped); HTML and SVG are downloads, never rendered', async () => {
      const { a, aUrl, cUrl } = await threeServers(['--max-file-size', '2M']);
      const ann = await joinInBrowser(browser(), pageOf(aUrl), 'Ann');
      const cid = await joinInBrowser(browser(), pageOf(cUrl), 'Cid');
      const folder = mkdtempSync(join(tmpdir(), 'chatty-pick-'));
      writeFileSync(join(folder, 'dot.png'), PNG);
      writeFileSync(join(folder, 'evil.html'), '<script>top.pwned = "html"</script><h1>pwned</h1>');
      writeFileSync(join(folder, 'evil.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><script>top.pwned = "svg"</script><circle r="5"/></svg>');
      await ann.getByTestId('attach').setInputFiles([join(folder, 'dot.png'), join(folder, 'evil.html'), join(folder, 'evil.svg')]);
      for (const name of ['dot.png', 'evil.html', 'evil.svg']) await cid.getByTestId('file').filter({ hasText: name }).waitFor();
      await cid.getByTestId('file').filter({ hasText: 'dot.png' }).getByTestId('thumbnail').waitFor();
      for (const name of ['evil.html', 'evil.svg']) {
        const card = cid.getByTestId('file').filter({ hasText: name });
        expect(await card.getByTestId('thumbnail').count()).toBe(0);
        const saved = cid.waitForEvent('download');
        await card.getByTestId('download').click();
        expect((await saved).suggestedFilename()).toBe(name);
      }
      // A screenshot pasted into the composer, and a picture dropped on the chat (as the browser
      // itself would dispatch them; this file is compiled without the DOM's types, hence strings).
      await ann.evaluate(`(() => {
        const data = new DataTransfer();
        data.items.add(new File([Uint8Array.from(atob('${PNG.toString('base64')}'), (c) => c.charCodeAt(0))], 'image.png', { type: 'image/png' }));
        document.querySelector('[data-testid="composer"]').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      })()`);
      await cid
        .getByTestId('file')
        .filter({ hasText: /^Pasted \d{4}-\d\d-\d\d \d\d\.\d\d\.\d\d\.png/ })
        .getByTestId('thumbnail')
        .waitFor();
      const drop = (name: string, size: number) =>
        ann.evaluate(`(() => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(${size})], '${name}', { type: 'image/png' }));
          document.querySelector('[data-testid="timeline"]').dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
        })()`);
      await drop('dropped.png', 4);
      await cid.getByTestId('file').filter({ hasText: 'dropped.png' }).waitFor();
      // Too large for this chat: said in the page, nothing sent.
      await drop('huge.png', 3 * MiB);
      expect(await ann.getByTestId('drop-error').textContent()).toContain('“huge.png” is 3.0 MB: this chat takes files up to 2.0 MB.');
      expect(await cid.evaluate('window.pwned')).toBeUndefined();
      expect(await cid.getByTestId('file').filter({ hasText: 'huge.png' }).count()).toBe(0);
      // The only server that holds a file goes down before anyone fetched it: the page says so.
      writeFileSync(join(folder, 'only-on-a.txt'), 'bytes that never left A');
      await ann.getByTestId('attach').setInputFiles(join(folder, 'only-on-a.txt'));
      const lonely = cid.getByTestId('file').filter({ hasText: 'only-on-a.txt' });
      await lonely.waitFor();
      a.kill('SIGKILL');
      await lonely.getByTestId('download').click();
      expect(await lonely.getByTestId('file-error').textContent()).toContain('no server that holds this file is up right now');
    });

    it('an HTML file opened from its link is saved, not shown', async () => {
      const host = new Chatty(['host', '--port', '0']);
      const url = await host.url();
      const ann = await RawSocket.join(url, 'Ann');
      const sent = await upload(ann, Buffer.from('<script>top.pwned = 1</script>'), { name: 'page.html', type: 'text/html' });
      const { server, name, access } = accessOf(ann);
      const page = await browser().newPage({ ignoreHTTPSErrors: true });
      const saved = page.waitForEvent('download');
      await expect(page.goto(downloadUrl(server, sent.json!.id, name, access))).rejects.toThrow(/Download is starting/);
      expect((await saved).suggestedFilename()).toBe('page.html');
      await page.close();
    });
  });
});
