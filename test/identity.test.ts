// People, not connections (#28; docs/protocol.md § Identity): each app, terminal client and
// browser keeps an Ed25519 key and proves it on every join, and a name belongs to the key that
// first claimed it — across the set, restarts and splits — until the host releases it. Real
// sockets, real `chatty` processes, a TCP proxy for the split, real Chromium.
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_KEY_FILE, deviceKeyIn } from '../server/device-key-file.js';
import { deviceProofFault } from '../server/device-proof.js';
import { Identities } from '../server/identities.js';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { proveDevice } from '../shared/device-key.js';
import { safetyNumber } from '../shared/fingerprint.js';
import type { DeviceSigner } from '../shared/device-key.js';
import { chromiumForFile, hasChromium, joinInBrowser, launchChromium, pageOf, screenshot } from './helpers/browser.js';
import { download, upload } from './helpers/files.js';
import { joining, splitPair, startNode } from './helpers/nodes.js';
import { freePort } from './helpers/ports.js';
import { Chatty, hostAndReplica } from './helpers/processes.js';
import { newSession } from './helpers/sessions.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';

const folder = () => mkdtempSync(join(tmpdir(), 'chatty-device-'));
const signerIn = (dir: string): DeviceSigner => {
  const key = deviceKeyIn(dir);
  if (!key.ok) throw new Error(key.error.message);
  return key.value;
};

describe('device keys', () => {
  it('are made once, kept where only the user can read them, and a damaged one is a clear error', async () => {
    const dir = folder();
    const first = signerIn(dir);
    expect(first.publicKey).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, DEVICE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(signerIn(dir).publicKey).toBe(first.publicKey);
    writeFileSync(join(dir, DEVICE_KEY_FILE), 'not a key');
    expect(deviceKeyIn(dir)).toMatchObject({ ok: false, error: { code: 'DATA_UNUSABLE', message: expect.stringContaining('is damaged') } });
    // A folder that cannot be one (a file stands in its way): said, never thrown.
    expect(deviceKeyIn(join(dir, DEVICE_KEY_FILE, 'below'))).toMatchObject({ ok: false, error: { code: 'DATA_UNUSABLE' } });
  });

  it('a join proves its key: the right proof joins; a wrong signature, another connection’s nonce, a wrong key are refused', async () => {
    const node = await startNode();
    const device = signerIn(folder());
    const join = async (make: (socket: RawSocket, nonce: string) => Promise<object>) => {
      const socket = await RawSocket.open(node.url);
      const hello = await socket.next((f) => f.type === 'hello');
      socket.send({ type: 'client_join_req', name: 'Ann', device: await make(socket, hello.nonce as string) });
      return socket;
    };
    // Another connection's nonce: a proof taken from one connection is worthless on the next.
    const other = await RawSocket.open(node.url);
    const otherNonce = (await other.next((f) => f.type === 'hello')).nonce as string;
    const replayed = await join((s) => proveDevice(device, otherNonce, 'Ann', s.binding));
    expect((await replayed.nextError('AUTH_FAILED')).message).toMatch(/^that device proof is not right: its signature does not match this connection$/);
    const forged = await join(async (s, nonce) => {
      const proof = await proveDevice(device, nonce, 'Ann', s.binding);
      return { ...proof, sig: `${proof.sig[0] === 'A' ? 'B' : 'A'}${proof.sig.slice(1)}` };
    });
    await forged.nextError('AUTH_FAILED');
    // Proved for another name: not this join's.
    const otherName = await join((s, nonce) => proveDevice(device, nonce, 'Bob', s.binding));
    await otherName.nextError('AUTH_FAILED');
    const badKey = await join(async (s, nonce) => ({ ...(await proveDevice(device, nonce, 'Ann', s.binding)), key: 'short' }));
    expect((await badKey.next((f) => f.type === 'error')).message).toMatch(/device key must be 32 bytes in base64url/);
    // The right one: in.
    const ann = await join((s, nonce) => proveDevice(device, nonce, 'Ann', s.binding));
    await ann.next((f) => f.type === 'welcome');
  });

  it('the worked example of docs/protocol.md § Identity verifies', async () => {
    const proof = {
      key: '6kpsY-KcUgq-9VB7Ey7F-ZVHdq6-vnuSQh7qaRRG0iw',
      sig: 'LCKU55bntIVymUoZmNEsQrvr555LHwxg8aOkC5d6k84uG24xXIXQwfqc2T9YHE4QCS62383EOqorZdbUpqfcBg',
      bound: false,
    };
    expect(await deviceProofFault(proof, 'Ann', { nonce: 'c2VydmVyLW5vbmNlLTI0LWJ5dGVzIQ', binding: undefined })).toBeUndefined();
    expect(await deviceProofFault(proof, 'Ann', { nonce: 'c2VydmVyLW5vbmNlLTI0LWJ5dGVzIR', binding: undefined })).toMatchObject({ code: 'AUTH_FAILED' });
    expect(safetyNumber(proof.key)).toBe('72019 38518 04351 65599 36032 73212');
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();

    it('a browser makes its key once, non-extractable, in IndexedDB; a reload keeps it', async () => {
      const node = await startNode({ httpHandler: staticFiles(pageDir) });
      const page = await joinInBrowser(browser(), pageOf(node.url), 'Pia');
      // (A script as a string: this file is compiled without the DOM's types.)
      const read = `new Promise((resolve, reject) => {
        const open = indexedDB.open('chatty', 1);
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('keys').objectStore('keys').get('device');
          get.onsuccess = async () => {
            const pair = get.result;
            const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
            resolve({ extractable: pair.privateKey.extractable, algorithm: pair.privateKey.algorithm.name, key: Array.from(raw).join(',') });
          };
        };
      })`;
      const before = (await page.evaluate(read)) as { extractable: boolean; algorithm: string; key: string };
      expect(before).toMatchObject({ extractable: false, algorithm: 'Ed25519' });
      await page.reload();
      await page.getByTestId('status').getByText('as Pia').waitFor();
      expect(((await page.evaluate(read)) as { key: string }).key).toBe(before.key);
    });

    it('a plain-http page on the LAN (not a secure context: no WebCrypto) makes its key with @noble/curves, and its name is its own', async () => {
      const node = await startNode({ httpHandler: staticFiles(pageDir), insecure: true, allowedOrigins: ['*'] });
      const port = new URL(node.url).port;
      // A name that is not localhost: Chromium counts only localhost as secure over plain http.
      const lan = await launchChromium(['--host-resolver-rules=MAP chatty-lan.test 127.0.0.1']);
      try {
        const page = await joinInBrowser(lan, `http://chatty-lan.test:${port}/`, 'Lan');
        expect(await page.evaluate('[window.isSecureContext, typeof crypto.subtle]')).toEqual([false, 'undefined']);
        await page.getByTestId('leave').click();
        await page.getByTestId('join').waitFor();
        // Bound: another device is refused; this page (its kept key) gets back in.
        await (await RawSocket.joinWithKey(node.url, 'Lan', signerIn(folder()))).nextError('NAME_BOUND');
        await page.getByTestId('name').fill('Lan');
        await page.getByTestId('join').click();
        await page.getByTestId('status').getByText('as Lan').waitFor();
      } finally {
        await lan.close();
      }
    });

    it('the name a browser claimed is its own: another browser (its own key) is told it belongs to someone else; the first comes back', async () => {
      const node = await startNode({ httpHandler: staticFiles(pageDir) });
      const mine = await joinInBrowser(browser(), pageOf(node.url), 'Pia');
      await mine.getByTestId('leave').click();
      await mine.getByTestId('join').waitFor();
      // Another browser profile (another IndexedDB): another key.
      const other = await browser().newContext({ ignoreHTTPSErrors: true });
      const page = await other.newPage();
      await page.goto(pageOf(node.url));
      await page.getByTestId('name').fill('Pia');
      await page.getByTestId('join').click();
      await expect
        .poll(() => page.getByTestId('start-error').textContent())
        .toMatch(/^The name "Pia" belongs to someone else: only their devices can join as it/);
      await mine.getByTestId('name').fill('Pia');
      await mine.getByTestId('join').click();
      await mine.getByTestId('status').getByText('as Pia').waitFor();
      await other.close();
    });

    it('a person’s profile card shows their safety number; when their name is claimed by another device, the conversation says so', async () => {
      const node = await startNode({ httpHandler: staticFiles(pageDir) });
      const bobKey = signerIn(folder());
      const bob = await RawSocket.joinWithKey(node.url, 'Bob', bobKey);
      await bob.next((f) => f.type === 'welcome');
      const page = await joinInBrowser(browser(), pageOf(node.url), 'Pia');
      await page.getByTestId('buddy').getByText('Bob').click();
      await page.getByTestId('profile').locator('summary').click();
      await expect.poll(() => page.getByTestId('safety-number').textContent()).toBe(safetyNumber(bobKey.publicKey));
      await screenshot(page, 'identity-profile-card');
      // Bob's device is lost; the host releases the name; someone else's device claims it.
      bob.send({ type: 'client_leave_req', name: 'Bob' });
      await bob.waitClosed();
      expect(node.releaseName('Bob')).toBe(true);
      const newKey = signerIn(folder());
      await (await RawSocket.joinWithKey(node.url, 'Bob', newKey)).next((f) => f.type === 'welcome');
      const notice = page.getByTestId('timeline').getByText(/Bob's safety number has changed/);
      await notice.waitFor();
      expect(await notice.textContent()).toContain(safetyNumber(newKey.publicKey));
      await expect.poll(() => page.getByTestId('safety-number').textContent()).toBe(safetyNumber(newKey.publicKey));
      // The public chat says the host released the name.
      await page.getByTestId('timeline').locator('..').getByRole('button', { name: 'Back to everyone' }).click();
      await page.getByTestId('timeline').getByText('The host released the name "Bob"').waitFor();
    });
  });

  it('a name’s claims replay in the set’s order, whatever order they come in; a later claim changes nothing', () => {
    const at = (clock: number, origin: string) => ({ id: `${origin}-${clock}`, origin, seq: clock, clock, server: 'ws://127.0.0.1:1', ts: clock });
    const claim = (clock: number, origin: string, device: string) => ({
      type: 'join' as const,
      name: 'Zoe',
      device,
      bind: true as const,
      ...at(clock, origin),
    });
    const [early, late] = [claim(5, 'aaaaaaaa', 'A'.repeat(43)), claim(7, 'bbbbbbbb', 'B'.repeat(43))];
    const oneWay = new Identities();
    expect(oneWay.apply(early)).toMatchObject({ after: { claim: early.id } });
    expect(oneWay.apply(late)).toBeUndefined(); // ignored: the owner is the same
    const otherWay = new Identities();
    otherWay.apply(late);
    expect(otherWay.apply(early)).toMatchObject({ before: { claim: late.id }, after: { claim: early.id } });
    for (const ids of [oneWay, otherWay]) expect(ids.owner('zoe')?.founder).toBe('A'.repeat(43));
    expect(otherWay.apply({ type: 'release', name: 'Zoe', ...at(9, 'aaaaaaaa') })).toMatchObject({ after: undefined });
    expect(otherWay.admits('Zoe', undefined)).toBe(true);
  });

  describe('a name belongs to the key that first claimed it', () => {
    const welcomed = (s: RawSocket) => s.next((f) => f.type === 'welcome');
    const ann = () => signerIn(folder());

    it('after Ann leaves — cleanly or by a lost connection — no other device, look-alike or keyless client gets her name or anything of hers', async () => {
      const a = await startNode({ graceMs: 300 });
      const b = await startNode({ ...joining(a), graceMs: 300 });
      await eventually(() => expect(b.servers()).toHaveLength(2));
      const annKey = ann();
      const eve = ann();
      const bob = await RawSocket.join(b.url, 'Bob');
      const first = await RawSocket.joinWithKey(a.url, 'Ann', annKey);
      await welcomed(first);
      await bob.next((f) => f.type === 'join' && f.name === 'Ann');
      bob.send({ type: 'send', name: 'Bob', text: 'the door code is 4711', to: 'Ann', cid: 'c1' });
      await first.next((f) => f.type === 'direct' && f.text === 'the door code is 4711');
      const shared = await upload(bob, Buffer.from('secret plans'), { name: 'plans.txt', to: 'Ann' });
      expect(shared.status).toBe(201);
      const fileId = shared.json!.id as string;
      first.send({ type: 'client_leave_req', name: 'Ann' });
      await bob.next((f) => f.type === 'leave' && f.name === 'Ann');

      const refusedEverywhere = async () => {
        for (const node of [a, b]) {
          for (const name of ['Ann', 'ann', '\u0410nn']) {
            const other = await RawSocket.joinWithKey(node.url, name, eve);
            expect((await other.nextError('NAME_BOUND')).message).toMatch(/belongs to someone else.*only their devices can join as it/);
            expect(other.frames.some((f) => f.type === 'welcome')).toBe(false);
          }
          const keyless = await RawSocket.open(node.url);
          keyless.send({ type: 'client_join_req', name: 'Ann' });
          await keyless.nextError('NAME_BOUND');
        }
      };
      await refusedEverywhere();

      // Back, from her own device, on the other server: her direct message and her file are hers.
      const again = await RawSocket.joinWithKey(b.url, 'Ann', annKey);
      const history = await again.next((f) => f.type === 'history');
      expect(history.events.some((e: { text?: string }) => e.text === 'the door code is 4711')).toBe(true);
      expect((await download(again, fileId)).body.toString()).toBe('secret plans');
      again.send({ type: 'search_req', query: 'door code' });
      expect((await again.next((f) => f.type === 'search_results')).events).toHaveLength(1);
      // Lost, not left: past the grace period the name is still hers.
      again.ws.terminate();
      await bob.next((f) => f.type === 'leave' && f.name === 'Ann' && f.server === b.url);
      await refusedEverywhere();
      // Her spelling, her key: "ann" from her own device is told how her name is spelt.
      const spelt = await RawSocket.joinWithKey(a.url, 'ann', annKey);
      expect((await spelt.nextError('NAME_BOUND')).message).toBe(`this device's name is spelt "Ann": join as "Ann"`);
    });

    it('after every server restarted (real processes), the name is still bound on each', async () => {
      const dataA = folder();
      const dataB = folder();
      const [portA, portB] = [await freePort(), await freePort()];
      const start = (port: number, data: string, ...more: string[]) => new Chatty(['host', '--port', String(port), '--data', data, ...more]);
      let a = start(portA, dataA);
      const aUrl = await a.url();
      let b = start(portB, dataB, '--join', await a.serverInvite());
      const bUrl = await b.url();
      await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
      const annKey = ann();
      const watcher = await RawSocket.join(bUrl, 'Wes');
      const first = await RawSocket.joinWithKey(aUrl, 'Ann', annKey);
      await welcomed(first);
      first.send({ type: 'client_leave_req', name: 'Ann' });
      await first.waitClosed();
      await watcher.next((f) => f.type === 'leave' && f.name === 'Ann');
      await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')]);
      a = start(portA, dataA);
      b = start(portB, dataB);
      for (const url of [await a.url(), await b.url()]) {
        const eve = await RawSocket.joinWithKey(url, 'Ann', ann());
        await eve.nextError('NAME_BOUND');
      }
      await welcomed(await RawSocket.joinWithKey(bUrl, 'Ann', annKey));
    });

    it('a split in which two devices claim one new name heals to one owner; the other is told before it reads anything of hers', async () => {
      const { a, b, aUrl, proxy } = await splitPair();
      try {
        const onA = await RawSocket.joinWithKey(aUrl, 'Zoe', ann());
        await welcomed(onA);
        const onB = await RawSocket.joinWithKey(b.url, 'Zoe', ann());
        await welcomed(onB);
        // Each side's friend writes to its Zoe while apart.
        const bobA = await RawSocket.join(aUrl, 'Bob');
        const cidB = await RawSocket.join(b.url, 'Cid');
        bobA.send({ type: 'send', name: 'Bob', text: 'for A-Zoe only', to: 'Zoe' });
        cidB.send({ type: 'send', name: 'Cid', text: 'for B-Zoe only', to: 'Zoe' });
        await onA.next((f) => f.type === 'direct' && f.text === 'for A-Zoe only');
        await onB.next((f) => f.type === 'direct' && f.text === 'for B-Zoe only');
        proxy.heal();
        await eventually(() => expect([onA, onB].filter((s) => !s.closed)).toHaveLength(1), 15_000);
        const [loser, winner] = onA.closed ? [onA, onB] : [onB, onA];
        expect((await loser.nextError('NAME_BOUND')).message).toMatch(/claimed first by someone else's device while the servers were apart/);
        // The loser never got the owner's: neither what was written to her while apart, nor since.
        const winnersText = winner === onA ? 'for A-Zoe only' : 'for B-Zoe only';
        expect(loser.frames.some((f) => f.type === 'direct' && f.text === winnersText)).toBe(false);
        expect(winner.closed).toBeUndefined();
        for (const node of [a, b]) await eventually(() => expect(node.buddies().filter((x) => x.name === 'Zoe')).toHaveLength(1));
      } finally {
        await proxy.close();
      }
    });

    it('the host releases a name on every server (typed, and --release-name); a released name is claimed anew, without the last owner’s messages', async () => {
      const { a, aUrl, b, bUrl } = await hostAndReplica();
      const annKey = ann();
      const bob = await RawSocket.join(bUrl, 'Bob');
      const first = await RawSocket.joinWithKey(aUrl, 'Ann', annKey);
      await welcomed(first);
      await bob.next((f) => f.type === 'join' && f.name === 'Ann');
      bob.send({ type: 'send', name: 'Bob', text: 'old owner only', to: 'Ann' });
      await first.next((f) => f.type === 'direct');
      // Released while she is here: her session ends, and everyone is told.
      b.type('release Ann');
      await b.waitFor(/^Released "Ann" on every server of the set/);
      expect((await first.nextError('NAME_BOUND')).message).toMatch(/released the name "Ann"/);
      await bob.next((f) => f.type === 'release' && f.name === 'Ann');
      const newcomer = ann();
      const claimed = await RawSocket.joinWithKey(aUrl, 'Ann', newcomer);
      const history = await claimed.next((f) => f.type === 'history');
      expect(history.events.some((e: { text?: string }) => e.text === 'old owner only')).toBe(false);
      claimed.send({ type: 'search_req', query: 'owner' });
      expect((await claimed.next((f) => f.type === 'search_results')).events).toEqual([]);
      // The old device is now the stranger.
      claimed.send({ type: 'client_leave_req', name: 'Ann' });
      await claimed.waitClosed();
      const old = await RawSocket.joinWithKey(bUrl, 'Ann', annKey);
      await old.nextError('NAME_BOUND');
      b.type('release Nobody');
      await b.waitFor(/^release: "Nobody" is not bound to any device here/);
      // At start: --release-name.
      await a.kill('SIGTERM');
      const data = folder();
      const host = new Chatty(['host', '--port', '0', '--data', data]);
      const url = await host.url();
      const dee = await RawSocket.joinWithKey(url, 'Dee', ann());
      await welcomed(dee);
      dee.send({ type: 'client_leave_req', name: 'Dee' });
      await dee.waitClosed();
      await host.kill('SIGTERM');
      const port = Number(new URL(url).port);
      const again = new Chatty(['host', '--port', String(port), '--data', data, '--release-name', 'Dee']);
      await again.waitFor(/^Released "Dee" on every server of the set/);
      await welcomed(await RawSocket.joinWithKey(await again.url(), 'Dee', ann()));
    });

    it('a peer server cannot bring a bound name back without its key: a join, a back, a roster are refused', async () => {
      const node = await startNode();
      const annKey = ann();
      const first = await RawSocket.joinWithKey(node.url, 'Ann', annKey);
      await welcomed(first);
      first.send({ type: 'client_leave_req', name: 'Ann' });
      await first.waitClosed();
      const watcher = await RawSocket.join(node.url, 'Wes');
      const FAKE = 'ws://127.0.0.1:9';
      const peer = await RawSocket.peer(node.url, FAKE, node.serverInvite().serverCode);
      peer.send(peerEvent({ type: 'join', name: 'Ann', server: FAKE }));
      peer.send(peerEvent({ type: 'join', name: 'Ann', server: FAKE, device: ann().publicKey } as never));
      peer.send(peerEvent({ type: 'back', name: 'ann', server: FAKE, device: ann().publicKey } as never));
      peer.send({ type: 'roster', server: FAKE, names: ['Ann', 'Ann2'], devices: [ann().publicKey, ''] });
      peer.send(peerEvent({ type: 'message', name: 'Ann2', text: 'after the tries', server: FAKE }));
      await watcher.next((f) => f.type === 'message' && f.text === 'after the tries');
      expect(node.buddies().map((b) => b.name)).not.toContain('Ann');
      expect(watcher.frames.some((f) => (f.type === 'join' || f.type === 'back') && /^ann$/i.test(f.name))).toBe(false);
      // Her own device still gets in.
      await welcomed(await RawSocket.joinWithKey(node.url, 'Ann', annKey));
    });

    it('the app that hosts releases a name (its control); a name bound to nobody is a clear error', async () => {
      const { session } = newSession();
      await session.host({ name: 'Host', port: 0 });
      const url = session.node!.url;
      const lost = await RawSocket.joinWithKey(url, 'Lou', ann());
      await welcomed(lost);
      lost.send({ type: 'client_leave_req', name: 'Lou' });
      await lost.waitClosed();
      await (await RawSocket.joinWithKey(url, 'Lou', ann())).nextError('NAME_BOUND');
      expect(await session.releaseName('Lou')).toEqual({ ok: true, value: undefined });
      await welcomed(await RawSocket.joinWithKey(url, 'Lou', ann()));
      expect(await session.releaseName('Nobody')).toMatchObject({
        ok: false,
        error: { code: 'BAD_INPUT', message: '"Nobody" is not bound to any device: nothing to release' },
      });
    });

    it('the terminal’s /whois prints a safety number (its own without a name), or says a name is bound to nobody', async () => {
      const node = await startNode();
      await RawSocket.join(node.url, 'Kim'); // the seminar's join: no key
      const client = new Chatty(['client', node.url, 'Ann']);
      await client.waitFor(/^\[JOIN\] Ann joined/);
      client.type('/whois');
      const own = await client.waitFor(/^\[WHOIS\] Ann: safety number/);
      expect(own).toMatch(/^\[WHOIS\] Ann: safety number (\d{5} ){5}\d{5} \(1 device, since \d{4}-\d{2}-\d{2}\)$/);
      client.type('/whois Kim');
      await client.waitFor(/^\[WHOIS\] "Kim" is bound to no device: whoever joins as it next claims it$/);
    });

    it('--require-keys: the seminar’s plain join is refused with a clear error; a join with a key is taken', async () => {
      const node = await startNode({ requireKeys: true });
      const plain = await RawSocket.open(node.url);
      plain.send({ type: 'client_join_req', name: 'Sam' });
      expect((await plain.nextError('KEY_REQUIRED')).message).toMatch(/binds every name to a device key/);
      await welcomed(await RawSocket.joinWithKey(node.url, 'Sam', ann()));
      // Without it, the seminar's client still joins an open chat under a free name.
      const open = await startNode();
      await welcomed(await RawSocket.join(open.url, 'Sam'));
    });
  });
});
