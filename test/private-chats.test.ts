// Private chats (docs/protocol.md § Access): servers link only with the set's secret, people join
// a private chat only with its invite or passphrase, and everything crosses the network in TLS
// that a pinned client checks. Real `chatty host` and `chatty client` processes, a TCP proxy that
// records what an eavesdropper would read, and a man in the middle with its own certificate.
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { chromium } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { newCertificate } from '../server/set-keys.js';
import { CHROMIUM, hasChromium, say } from './helpers/browser.js';
import { freePort } from './helpers/ports.js';
import { Chatty } from './helpers/processes.js';
import { TcpProxy } from './helpers/proxy.js';
import { RawSocket } from './helpers/sockets.js';
import { eventually } from './helpers/waiters.js';

const proxies: TcpProxy[] = [];
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  for (const s of servers.splice(0)) s.close();
});

const dataFolder = () => mkdtempSync(join(tmpdir(), 'chatty-private-'));
const portOf = (url: string) => Number(new URL(url).port);
/** The same invite, pointing at another port of this machine (a proxy in front of the host). */
const via = (invite: string, port: number) => invite.replace(/:\d+\//, `:${port}/`);

async function host(...args: string[]): Promise<{ proc: Chatty; url: string; invite: string; code: string; serverInvite: string }> {
  const proc = new Chatty(['host', ...(args.includes('--port') ? [] : ['--port', '0']), ...args]);
  const url = await proc.url();
  const serverInvite = args.includes('--no-replicas') ? '' : await proc.serverInvite();
  return { proc, url, invite: await proc.invite(), code: await proc.inviteCode(), serverInvite };
}

async function client(target: string, name: string, env: Record<string, string> = {}): Promise<Chatty> {
  const p = new Chatty(['client', target, name, '--give-up', '1'], env);
  await p.waitFor(new RegExp(`^\\[JOIN\\] ${name} joined the chat$`));
  return p;
}

describe('private chats', () => {
  it('a server without the secret, or with a wrong or old server invite, cannot join; wrong tries are limited', async () => {
    const a = await host();
    // A plain address: this new server's own secret is not the set's.
    const stranger = new Chatty(['host', '--port', '0', '--join', a.url]);
    expect(await stranger.exited()).toBe(1);
    expect(stranger.stderr.join('\n')).toMatch(/AUTH_FAILED: that server is not of this set \(its secret differs\): join it with this set's server invite/);
    const wrong = new Chatty(['host', '--port', '0', '--join', a.serverInvite.replace(/invite=[\w-]+/, 'invite=0000-0000-0000-0000')]);
    expect(await wrong.exited()).toBe(1);
    expect(wrong.stderr.join('\n')).toMatch(/AUTH_FAILED: wrong server invite for this set/);
    // None of them got in.
    expect(a.proc.stdout.filter((l) => l.startsWith('[SERVER UPDATE]'))).toEqual([`[SERVER UPDATE] [${a.url}]`]);
    expect(a.proc.stderr.filter((l) => l.includes("refused a server that did not prove the set's secret"))).toHaveLength(2);
    // The server invite works, and a replica that joined once comes back with a plain address (its data folder has the secret).
    const data = dataFolder();
    const b = new Chatty(['host', '--port', '0', '--join', a.serverInvite, '--data', data]);
    await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    expect(statSync(join(data, 'set-keys.json')).mode & 0o777).toBe(0o600);
    await b.kill('SIGINT');
    const again = new Chatty(['host', '--port', '0', '--join', a.url, '--data', data]);
    await again.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    // Guessing is slow: with the two wrong tries above, three more, then the address is refused
    // before its proof is even read.
    const closes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const s = await RawSocket.open(a.url);
      await s.linkAs('wss://127.0.0.1:9', '0000-0000-0000-0001');
      closes.push((await s.waitClosed()).reason.split(':')[0]!);
    }
    expect(closes).toEqual(['AUTH_FAILED', 'AUTH_FAILED', 'AUTH_FAILED', 'RATE_LIMITED', 'RATE_LIMITED']);
    // The right server invite from that same address still gets in: wrong guesses lock out guesses.
    const late = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    await late.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
  });

  it('a private chat lets nobody in without its invite or passphrase, and tells them nothing', async () => {
    const env = { CHATTY_PASSPHRASE: 'correct horse battery staple' };
    const h = new Chatty(['host', '--port', '0', '--private', '--passphrase'], env);
    const url = await h.url();
    const invite = await h.invite();
    expect(h.stdout.join('\n')).toContain('needed to join: this chat is private');
    const ann = await client(invite, 'Ann');
    ann.type('the plan is secret');
    await ann.waitFor(/^\[Ann\] the plan is secret$/);

    // No proof: the hello (a nonce, "private") and the error, nothing of the chat.
    const nosy = await RawSocket.open(url);
    nosy.send({ type: 'client_join_req', name: 'Nosy' });
    await nosy.waitClosed();
    expect(nosy.frames.map((f) => f.type)).toEqual(['hello', 'error']);
    expect(nosy.frames[0]).toMatchObject({ private: true });
    expect(nosy.frames[1]).toMatchObject({ code: 'AUTH_REQUIRED' });
    expect(JSON.stringify(nosy.frames)).not.toMatch(/Ann|plan/);
    // The terminal client says so in one line.
    const outsider = new Chatty(['client', url, 'Outsider', '--give-up', '1']);
    expect(await outsider.exited()).toBe(1);
    expect(outsider.stderr.at(-2)).toBe('chatty: this chat is private: join with its invite link or code, or the passphrase the host chose');
    expect(outsider.stderr.at(-1)).toContain('the passphrase in CHATTY_PASSPHRASE');
    const guesser = new Chatty(['client', url, 'Guesser', '--give-up', '1'], { CHATTY_PASSPHRASE: 'wrong guess' });
    expect(await guesser.exited()).toBe(1);
    expect(guesser.stderr.at(-2)).toBe('chatty: that passphrase is not right for this chat');

    // The passphrase is a way in too; then the history comes.
    const bob = await client(url, 'Bob', env);
    await bob.waitFor(/^\[Ann\] the plan is secret$/);
    expect(h.stderr.filter((l) => l.includes('refused a client without a valid invite'))).toHaveLength(3);
  });

  it('a passive eavesdropper between servers, and between a client and a server, reads nothing', async () => {
    // A is reached only through the proxy (it advertises the proxy's address): B's link and Ann's
    // connection both cross it.
    const data = dataFolder();
    const aPort = await freePort();
    const toA = await TcpProxy.start(aPort);
    proxies.push(toA);
    const a = await host('--port', String(aPort), '--advertise', `wss://127.0.0.1:${toA.port}`, '--data', data, '--private');
    const secret = JSON.parse(readFileSync(join(data, 'set-keys.json'), 'utf8')).secret as string;
    const b = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    const ann = await client(a.invite, 'Annabelle');
    const bob = await client(await b.invite(), 'Bobbington');
    ann.type('meet at the blue door');
    await bob.waitFor(/^\[Annabelle\] meet at the blue door$/);
    const seen = toA.seen();
    expect(seen.length).toBeGreaterThan(1000);
    for (const plain of ['meet at the blue door', 'Annabelle', 'Bobbington', secret, a.code, 'server_join_req', 'client_join_req']) {
      expect(seen.includes(Buffer.from(plain)), `the proxy saw "${plain}"`).toBe(false);
    }
  });

  it('a man in the middle with its own certificate is refused by pinned clients, and cannot relay a server link', async () => {
    const a = await host('--private');
    // A TLS proxy: it ends TLS with its own certificate and opens its own TLS to A, reading everything.
    const own = await newCertificate();
    const read: Buffer[] = [];
    const mitm = createTlsServer({ cert: own.cert, key: own.key }, (victim) => {
      const upstream = tlsConnect({ port: portOf(a.url), host: '127.0.0.1', rejectUnauthorized: false });
      victim.on('data', (d: Buffer) => read.push(d));
      victim.pipe(upstream).pipe(victim);
      for (const s of [victim, upstream]) s.on('error', () => (s === victim ? upstream : victim).destroy());
    });
    await new Promise<void>((r) => mitm.listen(0, '127.0.0.1', r));
    servers.push(mitm as unknown as Server);
    const port = (mitm.address() as { port: number }).port;

    const pinned = new Chatty(['client', via(a.invite, port), 'Ann', '--give-up', '1']);
    expect(await pinned.exited()).toBe(1);
    expect(pinned.stderr.at(-2)).toMatch(
      /^chatty: the server's certificate \([0-9A-F:]+…\) is not the one this chat uses \([0-9A-F:]+…\): someone may be intercepting/,
    );
    expect(Buffer.concat(read).includes(Buffer.from('client_join_req'))).toBe(false); // it said nothing

    // A server dialing through it proves over the wrong TLS channel: A refuses, nothing is linked.
    const b = new Chatty(['host', '--port', '0', '--join', via(a.serverInvite, port)]);
    expect(await b.exited()).toBe(1);
    expect(b.stderr.join('\n')).toMatch(/AUTH_FAILED/);
    expect(a.proc.stdout.filter((l) => l.startsWith('[SERVER UPDATE]'))).toHaveLength(1);
  });

  it('a new invite replaces the old one on every server of the set', async () => {
    const data = dataFolder();
    const a = await host('--private', '--data', data);
    const b = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    expect(await b.inviteCode()).toBe(a.code); // the set's invite, shown by every server
    await a.proc.kill('SIGINT');
    const renewed = new Chatty(['host', '--port', String(portOf(a.url)), '--private', '--data', data, '--new-invite']);
    const code = await renewed.inviteCode();
    expect(code).not.toBe(a.code);
    // B re-dials it, and is handed the new invite.
    await b.waitFor(/^The chat's invites changed/);
    await b.waitFor(new RegExp(`^  code: ${code}$`));
    // On B, which was told: the old invite is refused, the new one works.
    const bUrl = await b.url();
    const old = new Chatty(['client', `chatty://${new URL(bUrl).host}/#invite=${a.code}`, 'Old', '--give-up', '1']);
    expect(await old.exited()).toBe(1);
    expect(old.stderr.at(-2)).toMatch(/not \(or no longer\) right for this chat/);
    await client(`chatty://${new URL(bUrl).host}/#invite=${code}`, 'New');
  });

  it('a host may let people in with its invite but no new server (--no-replicas)', async () => {
    const data = dataFolder();
    const a = await host('--no-replicas', '--data', data);
    expect(a.proc.stdout.some((l) => l.startsWith('Server invite:'))).toBe(false);
    // Even the right server invite, read from the host's own folder, admits no server.
    const { serverInvite } = JSON.parse(readFileSync(join(data, 'set-keys.json'), 'utf8')) as { serverInvite: string };
    const b = new Chatty(['host', '--port', '0', '--join', a.invite.replace(/#invite=[\w-]+/, `#server-invite=${serverInvite}`)]);
    expect(await b.exited()).toBe(1);
    expect(b.stderr.join('\n')).toMatch(/AUTH_FAILED: this host lets no new server join its set \(--no-replicas\)/);
    await client(a.invite, 'Ann');
  });

  it("the people's invite lets people chat, never run a server: the CLI says so, and a program proving it is refused", async () => {
    const a = await host('--private');
    expect(a.serverInvite).toMatch(/^chatty:\/\/127\.0\.0\.1:\d+\/#server-invite=[\w-]+&fp=[\w-]+$/);
    expect(a.serverInvite).not.toContain(a.code);
    const b = new Chatty(['host', '--port', '0', '--join', a.invite]);
    expect(await b.exited()).toBe(2);
    expect(b.stderr.join('\n')).toMatch(/--join: that is the people's invite, which lets people chat\. To run a server of this chat, use its server invite/);
    // A program that writes the frames itself, proving the people's invite as a server's.
    const s = await RawSocket.open(a.url);
    await s.linkAs('wss://127.0.0.1:9', a.code, 'invite');
    const closed = await s.waitClosed();
    expect(closed.reason).toMatch(/^AUTH_FAILED: that is the people's invite: running a server of this chat needs its server invite/);
    expect(s.frames.map((f) => f.type)).toEqual(['hello']); // no keys, no history, no list: only the close says why
    expect(a.proc.stdout.filter((l) => l.startsWith('[SERVER UPDATE]'))).toEqual([`[SERVER UPDATE] [${a.url}]`]);
    // The people's invite still lets people in; the server invite lets a server in.
    await client(a.invite, 'Ann');
    const c = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    await c.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
  });

  it('revoking a server takes it out of the set and re-keys the rest: its secret, certificate and invites stop working', async () => {
    const a = await host('--private');
    const b = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    const bUrl = await b.url();
    const c = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    const cUrl = await c.url();
    await c.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    // Ann chats on B, pinned through the invite.
    const ann = await client(via(a.invite, portOf(bUrl)), 'Ann');
    // A's operator types the command: C is out, the rest re-key.
    a.proc.type(`revoke ${cUrl}`);
    await a.proc.waitFor(/^Revoked wss:/);
    await a.proc.waitFor(/^The chat's invites changed/);
    const invites = a.proc.stdout.filter((l) => /^ {2}chatty:\/\//.test(l));
    const fresh = invites.at(-1)!.trim();
    expect(fresh).not.toBe(a.invite);
    const fp = (link: string) => /fp=([\w-]+)/.exec(link)![1];
    expect(fp(fresh)).not.toBe(fp(a.invite));
    await b.waitFor(/^The chat's invites changed/);
    await eventually(() =>
      expect(b.stdout.filter((l) => l.startsWith('[SERVER UPDATE]')).at(-1)).toMatch(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/),
    );
    // Ann's pin moves to the new certificate over the connection she trusts, and she chats on.
    await ann.waitFor(/^\[SERVER\] the chat has a new certificate: /);
    const bea = await client(via(fresh, portOf(bUrl)), 'Bea');
    bea.type('after the re-key');
    await ann.waitFor(/^\[Bea\] after the re-key$/);
    // What C held no longer works: the old invite is pinned to a certificate the set no longer shows,
    const old = new Chatty(['client', a.invite, 'Old', '--give-up', '1']);
    expect(await old.exited()).toBe(1);
    expect(old.stderr.at(-2)).toMatch(/is not the one this chat uses/);
    // C's (stolen) certificate does not pass a client pinned to the new one,
    const toC = new Chatty(['client', via(fresh, portOf(cUrl)), 'Cid', '--give-up', '1']);
    expect(await toC.exited()).toBe(1);
    expect(toC.stderr.at(-2)).toMatch(/is not the one this chat uses/);
    // and neither the old server invite nor C's old secret links a server again.
    const again = new Chatty(['host', '--port', '0', '--join', a.serverInvite]);
    expect(await again.exited()).toBe(1);
    expect(again.stderr.join('\n')).toMatch(/AUTH_FAILED: wrong server invite/);
    await new Promise((r) => setTimeout(r, 1_500)); // C re-dials with its old secret: refused
    expect(a.proc.stdout.filter((l) => l.startsWith('[SERVER UPDATE]')).at(-1)).toMatch(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
    // Mistakes are said plainly.
    a.proc.type('revoke nonsense');
    await a.proc.waitFor(/^revoke: /);
    a.proc.type(`revoke ${a.url}`);
    await a.proc.waitFor(/^revoke: a server cannot take itself out of the set/);
  });

  it('the terminal client remembers a certificate trusted on first use, and refuses another at that address', async () => {
    const config = mkdtempSync(join(tmpdir(), 'chatty-config-'));
    const env = { XDG_CONFIG_HOME: config };
    const port = await freePort();
    const first = await host('--port', String(port));
    const firstUse = new Chatty(['client', `127.0.0.1:${port}`, 'Ann', '--give-up', '1'], env);
    await firstUse.waitFor(/^\[JOIN\] Ann joined the chat$/);
    expect(firstUse.stderr[0]).toMatch(/^chatty: wss:\/\/127\.0\.0\.1:\d+ presents the certificate [0-9A-F:]{95}$/);
    firstUse.type('exit');
    expect(await firstUse.exited()).toBe(0);
    expect(statSync(join(config, 'chatty', 'known-servers.json')).mode & 0o777).toBe(0o600);
    const again = await client(`127.0.0.1:${port}`, 'Ann', env);
    expect(again.stderr).toEqual([]); // known: nothing to ask
    again.type('exit');
    await again.exited();
    // Another server (another set, another certificate) at the same address: refused.
    await first.proc.kill('SIGINT');
    await host('--port', String(port));
    const refused = new Chatty(['client', `127.0.0.1:${port}`, 'Ann', '--give-up', '1'], env);
    expect(await refused.exited()).toBe(1);
    expect(refused.stderr.at(-2)).toMatch(/is not the one this chat uses .*someone may be intercepting/);
    expect(refused.stderr.at(-1)).toMatch(
      /join with its new invite link, which names its certificate, or, if you trust it, remove "wss:\/\/127\.0\.0\.1:\d+" from .*known-servers\.json\)$/,
    );
  });

  it.skipIf(!hasChromium)('a browser joins a private chat over https, from the invite link, accepting exactly the set’s certificate', async () => {
    const data = dataFolder();
    const env = { CHATTY_PASSPHRASE: 'correct horse battery staple' };
    const proc = new Chatty(['host', '--port', '0', '--private', '--passphrase', '--data', data], env);
    const a = { proc, url: await proc.url(), invite: await proc.invite() };
    const { cert } = JSON.parse(readFileSync(join(data, 'set-keys.json'), 'utf8')) as { cert: string };
    // What a person does when the browser warns: accept this certificate (and no other).
    const spki = createHash('sha256')
      .update(new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', `--ignore-certificate-errors-spki-list=${spki}`],
    });
    try {
      const page = await browser.newPage();
      const link = /in a browser: (\S+)/.exec(a.proc.stdout.join('\n'))![1]!;
      expect(link).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/#invite=/);
      await page.goto(link);
      await page.getByText('You were invited').waitFor();
      // The page explains the warning, with the fingerprint the link carries: the one the host printed.
      const printed = /Certificate fingerprint \(SHA-256\): (\S+)/.exec(a.proc.stdout.join('\n'))![1]!;
      await page.getByTestId('certificate-note').locator('summary').click();
      expect(await page.getByTestId('page-fingerprint').textContent()).toBe(printed);
      await page.getByTestId('name').fill('Pia');
      await page.getByTestId('join').click();
      await page.getByTestId('status').getByText('as Pia').waitFor();
      const ann = await client(a.invite, 'Ann');
      await say(page, 'hello over https');
      await ann.waitFor(/^\[Pia\] hello over https$/);
      // Without the invite, the same page is told the chat is private.
      const other = await browser.newPage();
      await other.goto(link.replace(/#.*$/, ''));
      await other.getByTestId('name').fill('Nosy');
      await other.getByTestId('join').click();
      await expect.poll(() => other.getByTestId('start-error').textContent()).toMatch(/this chat is private/i);
      // With the passphrase it is in; a reload keeps it in without asking again, and nobody sees it leave.
      await other.getByTestId('passphrase').fill(env.CHATTY_PASSPHRASE);
      await other.getByTestId('join').click();
      await other.getByTestId('status').getByText('as Nosy').waitFor();
      await other.reload();
      await other.getByTestId('status').getByText('as Nosy').waitFor();
      await say(other, 'still in after a reload');
      await ann.waitFor(/^\[Nosy\] still in after a reload$/);
      // The terminal shows the reload as a blip (away, back), not as a leave and a join.
      expect(ann.stdout.filter((l) => /^\[(JOIN|LEAVE)\] Nosy/.test(l))).toEqual(['[JOIN] Nosy joined the chat']);
    } finally {
      await browser.close();
    }
  });
});
