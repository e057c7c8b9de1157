// The renderer end to end in a real browser (Debian's Chromium): the page a hosting node serves,
// its browser bridge over WebSocket, buddies, events and the composer.
import { describe, expect, it } from 'vitest';
import { pageDir } from '../server/hosting.js';
import type { ChatServerOptions } from '../server/chat-server.js';
import { staticFiles } from '../server/static-files.js';
import { hasChromium, joinInBrowser, chromiumForFile, say, screenshot, CHROMIUM } from './helpers/browser.js';
import { NO_RATE_LIMITS, startNode, joining } from './helpers/nodes.js';
import { Chatty } from './helpers/processes.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

const httpOf = (wsUrl: string) => `${wsUrl.replace(/^ws/, 'http')}/`;
const hostWithUi = (options: ChatServerOptions = {}) => startNode({ ...options, httpHandler: staticFiles(pageDir) });

if (!hasChromium) console.log(`SKIP: browser tests: no Chromium at ${CHROMIUM} (npm test installs Debian's chromium when run as root)`);

describe.skipIf(!hasChromium)('renderer in Chromium', () => {
  const browser = chromiumForFile();

  it('two pages on one host chat; buddies and events update', async () => {
    const node = await hostWithUi();
    const ann = await joinInBrowser(browser(), httpOf(node.url), 'Ann');
    const bob = await joinInBrowser(browser(), httpOf(node.url), 'Bob');
    await ann
      .getByTestId('event')
      .filter({ hasText: /Bob joined the chat/ })
      .waitFor();
    expect(await ann.getByTestId('buddy').allTextContents()).toEqual(['Ann (you)', 'Bob']);
    await say(ann, 'Hello Bob!\nSecond line');
    const onBob = bob.getByTestId('message').filter({ hasText: 'Hello Bob!' });
    await onBob.waitFor();
    expect(await onBob.locator('.text').textContent()).toBe('Hello Bob!\nSecond line');
    expect(await ann.getByTestId('message').filter({ hasText: 'Hello Bob!' }).getAttribute('class')).toContain('mine');
    expect(await onBob.getAttribute('class')).not.toContain('mine');
    await screenshot(ann, 'one-host-ann');
    await bob.getByTestId('leave').click();
    await bob.getByTestId('join').waitFor();
    await ann.getByTestId('event').filter({ hasText: 'Bob left the chat' }).waitFor();
    expect(await ann.getByTestId('buddy').allTextContents()).toEqual(['Ann (you)']);
  });

  it('pages on two replicated hosts chat with each other and with a terminal client', async () => {
    const boot = await hostWithUi({ graceMs: 2_000 });
    const replica = await hostWithUi({ ...joining(boot), graceMs: 2_000 });
    const ann = await joinInBrowser(browser(), httpOf(boot.url), 'Ann');
    const bob = await joinInBrowser(browser(), httpOf(replica.url), 'Bob');
    const term = new Chatty(['client', boot.url, 'Terminal']);
    await term.waitFor(/^\[JOIN\] Terminal joined the chat$/);
    await bob.getByTestId('event').filter({ hasText: 'Terminal joined the chat' }).waitFor();
    await expect.poll(() => bob.getByTestId('server-count').textContent()).toBe('2 servers');
    await say(bob, 'hi from the replica');
    await ann.getByTestId('message').filter({ hasText: 'hi from the replica' }).waitFor();
    await term.waitFor(/^\[Bob\] hi from the replica$/);
    term.type('hi from the terminal');
    await ann.getByTestId('message').filter({ hasText: 'hi from the terminal' }).waitFor();
    await bob.getByTestId('message').filter({ hasText: 'hi from the terminal' }).waitFor();
    expect(await bob.getByTestId('buddy').allTextContents()).toEqual([
      expect.stringMatching(/^Ann/),
      expect.stringMatching(/^Bob \(you\)/),
      expect.stringMatching(/^Terminal/),
    ]);
    await screenshot(bob, 'replicated-bob');
    // The boot host disconnects (it leaves the set on purpose): Ann's page, served by it, and the
    // terminal go on through the replica; nobody left, so no line says so.
    await boot.disconnect();
    await expect.poll(() => bob.getByTestId('server-count').textContent()).toBe('1 server');
    await expect.poll(() => ann.getByTestId('status').textContent(), { timeout: 20_000 }).toContain(`Connected to ${replica.url.replace(/^wss?:\/\//, '')}`);
    await say(ann, 'through the replica');
    await bob.getByTestId('message').filter({ hasText: 'through the replica' }).waitFor();
    expect(await bob.getByTestId('buddy').allTextContents()).toEqual([
      expect.stringMatching(/^Ann/),
      expect.stringMatching(/^Bob \(you\)/),
      expect.stringMatching(/^Terminal/),
    ]);
    expect(
      await bob
        .getByTestId('event')
        .filter({ hasText: /left the chat/ })
        .count(),
    ).toBe(0);
  });

  it('shows clear errors for bad input and renders text as text', async () => {
    const node = await hostWithUi();
    const page = await browser().newPage({ ignoreHTTPSErrors: true });
    await page.goto(httpOf(node.url));
    await page.getByTestId('join').click();
    expect(await page.getByTestId('start-error').textContent()).toBe('Enter your name first.');
    await RawSocket.join(node.url, 'Taken');
    await page.getByTestId('name').fill('Taken');
    await page.getByTestId('join').click();
    await expect.poll(() => page.getByTestId('start-error').textContent()).toBe('The name "Taken" is already taken');
    await screenshot(page, 'error-name-taken');
    await page.getByTestId('name').fill('Eve');
    await page.getByTestId('join').click();
    await page.getByTestId('composer').waitFor();
    await page.getByTestId('composer').press('Enter');
    expect(await page.getByTestId('composer-error').textContent()).toBe('Type a message first.');
    await say(page, '<img src=x onerror="document.title=\'pwned\'"> see https://example.com/a?b=1.');
    const message = page.getByTestId('message').filter({ hasText: '<img src=x' });
    await message.waitFor();
    expect(await message.locator('img').count()).toBe(0);
    expect(await page.title()).toBe('Chatty');
    expect(await message.locator('a').getAttribute('href')).toBe('https://example.com/a?b=1');
    // Near the limit a counter shows; over it, the text is refused before it is sent.
    await page.getByTestId('composer').fill('x'.repeat(3_700));
    expect(await page.getByTestId('counter').textContent()).toBe('3,700 / 4,000');
    await page.getByTestId('composer').fill('x'.repeat(4_001));
    expect(await page.getByTestId('counter').textContent()).toBe('4,001 / 4,000 — too long to send');
    expect(await page.getByTestId('send').isDisabled()).toBe(true);
    await page.getByTestId('composer').press('Enter');
    expect(await page.getByTestId('composer-error').textContent()).toBe('Text must be at most 4000 characters');
    expect(await page.getByTestId('message').filter({ hasText: 'xxxxxxxxxx' }).count()).toBe(0);
  });

  it('renders the Markdown subset, :emoji: and links, and nothing else', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Md');
    const writer = await RawSocket.join(node.url, 'Writer');
    const text = [
      '**bold** _italic_ `code` :tada: see www.example.com',
      '> quoted',
      '```',
      '<script>document.title="pwned"</script>',
      '```',
      '[click](javascript:alert(1)) <b>raw</b> # not a heading',
      '[https://bank.example/login](https://evil.example/x)',
    ].join('\n');
    writer.send({ type: 'send', name: 'Writer', text });
    const message = page.getByTestId('message').filter({ hasText: 'quoted' });
    await message.waitFor();
    const body = message.getByTestId('message-text');
    expect(await body.locator('strong').textContent()).toBe('bold');
    expect(await body.locator('em').textContent()).toBe('italic');
    expect(await body.locator('p code').textContent()).toBe('code');
    expect(await body.textContent()).toContain('🎉');
    expect(await body.locator('blockquote').textContent()).toContain('quoted');
    expect(await body.locator('pre code').textContent()).toBe('<script>document.title="pwned"</script>\n');
    expect(await body.locator('a').evaluateAll((links) => links.map((a) => a.getAttribute('href')))).toEqual([
      'http://www.example.com',
      'https://evil.example/x',
    ]);
    // A link whose text shows one address says where it really goes.
    expect(await body.textContent()).toContain('https://bank.example/login (evil.example)');
    expect(await body.locator('script, b, h1, img').count()).toBe(0);
    expect(await body.textContent()).toContain('<b>raw</b>');
    expect(await page.title()).toBe('Chatty');
    // The picker inserts a shortcode.
    await page.getByTestId('emoji').locator('summary').click();
    await page.getByTestId('emoji').getByTitle(':wave:').click();
    expect(await page.getByTestId('composer').inputValue()).toBe(':wave: ');
  });

  it('a peer’s far-off clock and bidi overrides in texts cannot break or spoof the timeline', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Reader');
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const fake = 'ws://127.0.0.1:9';
    const peer = await RawSocket.peer(node.url, fake, node.serverInvite().serverCode);
    const far = 8.6e15; // a valid number, a year in the 274,000s: the node replaces it
    peer.send(peerEvent({ type: 'join', name: 'Timey', server: fake, ts: far }));
    peer.send(peerEvent({ type: 'message', name: 'Timey', text: '\u202E!nimda ma I', server: fake, ts: far }));
    peer.send(peerEvent({ type: 'message', name: 'Timey', text: 'next line', server: fake }));
    const spoof = page.getByTestId('message').filter({ hasText: 'nimda' });
    const next = page.getByTestId('message').filter({ hasText: 'next line' });
    await next.waitFor();
    // Times show as times of day, and the timeline goes on rendering.
    expect(await spoof.locator('time').textContent()).toMatch(/^\d{1,2}:\d{2}/);
    expect(errors).toEqual([]);
    // Name and text each sit in their own bidi isolate; the override stays inside its text.
    expect(await spoof.locator('.who bdi').textContent()).toBe('Timey');
    expect(await spoof.getByTestId('message-text').evaluate((el) => el.tagName)).toBe('BDI');
    const who = (await spoof.locator('.who').boundingBox())!;
    const time = (await spoof.locator('time').boundingBox())!;
    expect(time.x).toBeLessThan(who.x); // the line still reads time, name, text from the left
    // The next message of the same person is grouped under it: its name is there for screen readers only.
    expect(await next.getAttribute('class')).toContain('continued');
    expect(await next.locator('.head').evaluate((el) => el.ownerDocument.defaultView!.getComputedStyle(el).position)).toBe('absolute');
    await screenshot(page, 'bidi-and-clock');
  });

  it('a late joiner sees the latest messages, and scrolling to the top loads older ones', async () => {
    const node = await hostWithUi(NO_RATE_LIMITS);
    const writer = await RawSocket.join(node.url, 'Writer');
    for (let i = 1; i <= 260; i++) writer.send({ type: 'send', name: 'Writer', text: `old ${i}` });
    await writer.next((f) => f.type === 'message' && f.text === 'old 260');
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Late');
    await page
      .getByTestId('message')
      .filter({ hasText: /old 260$/ })
      .waitFor();
    expect(
      await page
        .getByTestId('message')
        .filter({ hasText: /old 1$/ })
        .count(),
    ).toBe(0);
    // The user scrolls to the top, and again: what is in memory first, then an older page.
    const oldest = page.getByTestId('message').filter({ hasText: /old 1$/ });
    for (let i = 0; i < 5 && (await oldest.count()) === 0; i++) {
      await page.getByTestId('timeline').evaluate((el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await page.waitForTimeout(200);
    }
    await oldest.waitFor();
    expect(await page.getByTestId('message').count()).toBe(260);
  });

  it('keeps a long history smooth: only the newest entries are in the page', async () => {
    const node = await hostWithUi(NO_RATE_LIMITS);
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Reader');
    const writer = await RawSocket.join(node.url, 'Writer');
    for (let i = 1; i <= 3000; i++) writer.send({ type: 'send', name: 'Writer', text: `message ${i}` });
    await page
      .getByTestId('message')
      .filter({ hasText: /^.*message 3000$/ })
      .waitFor({ timeout: 20_000 });
    expect(await page.getByTestId('message').count()).toBeLessThanOrEqual(200);
    await page.getByText(/^Show earlier/).click();
    expect(await page.getByTestId('message').count()).toBeGreaterThan(1000);
    await screenshot(page, 'long-history');
  });

  it('tells the user when the server goes away, and keeps what they type for when it is back', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Lou');
    await node.disconnect();
    await expect.poll(() => page.getByTestId('status').textContent()).toBe('Reconnecting…');
    // Plain words in the banner; which server it is trying, on hover.
    expect(await page.getByTestId('connection-banner').getAttribute('title')).toMatch(/trying 127\.0\.0\.1:\d+$/);
    await say(page, 'are you there?');
    await page.getByTestId('message').filter({ hasText: 'are you there?' }).getByTestId('delivery').filter({ hasText: 'Sending…' }).waitFor();
    await screenshot(page, 'reconnecting');
    await page.getByTestId('leave').click();
    await page.getByTestId('join').waitFor();
  });

  it('the page of host A goes on through host B when A is killed: missed messages shown, its pending message delivered once', async () => {
    const a = new Chatty(['host', '--port', '0']);
    const aUrl = await a.url();
    const b = new Chatty(['host', '--port', '0', '--join', await a.serverInvite()]);
    const bUrl = await b.url();
    await a.waitFor(/\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\//);
    const page = await joinInBrowser(browser(), httpOf(aUrl), 'Pia');
    const bob = await RawSocket.join(bUrl, 'Bob');
    bob.send({ type: 'send', name: 'Bob', text: 'before the crash' });
    await page.getByTestId('message').filter({ hasText: 'before the crash' }).waitFor();
    await a.kill('SIGKILL');
    // While the page looks for a server, Bob talks and Pia types.
    bob.send({ type: 'send', name: 'Bob', text: 'while you were away' });
    await say(page, 'I am still here');
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 20_000 }).toContain(`Connected to ${bUrl.replace(/^wss?:\/\//, '')}`);
    await page.getByTestId('message').filter({ hasText: 'while you were away' }).waitFor();
    await bob.next((f) => f.type === 'message' && f.text === 'I am still here', 10_000);
    await page
      .getByTestId('message')
      .filter({ hasText: 'I am still here' })
      .filter({ hasNot: page.getByTestId('delivery') })
      .waitFor();
    expect(await page.getByTestId('message').filter({ hasText: 'I am still here' }).count()).toBe(1);
    expect(bob.frames.filter((f) => f.type === 'message' && f.text === 'I am still here')).toHaveLength(1);
    await screenshot(page, 'failover');
  });

  it('a page opened before a replica joined goes on through it when its host dies; a reload keeps the person in', async () => {
    // The usual order: a host starts, people open its page, a replica joins later, the host dies.
    const a = new Chatty(['host', '--port', '0']);
    const aUrl = await a.url();
    const page = await joinInBrowser(browser(), httpOf(aUrl), 'Pia');
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
    });
    const b = new Chatty(['host', '--port', '0', '--join', await a.serverInvite()]);
    const bUrl = await b.url();
    await expect.poll(() => page.getByTestId('server-count').textContent(), { timeout: 20_000 }).toBe('2 servers');
    const bob = await RawSocket.join(bUrl, 'Bob');
    bob.send({ type: 'send', name: 'Bob', text: 'first' });
    await page.getByTestId('message').filter({ hasText: 'first' }).waitFor();

    // A reload mid-chat: the same person, the draft and the open conversation kept, no leave or join for anyone.
    await page.getByTestId('buddy').getByText('Bob').click();
    await page.getByTestId('composer').fill('half-written');
    // (Pia's first join — A's first event, seq 1 — may still reach Bob by backfill: it is not a new one.)
    const framesBefore = bob.frames.length;
    await page.reload();
    await page.getByTestId('status').getByText('as Pia').waitFor();
    expect(await page.getByTestId('composer').inputValue()).toBe('half-written');
    expect(await page.getByTestId('conversation-title').textContent()).toContain('Direct messages with Bob');
    await page.getByTestId('conversation-public').click();
    await page.getByTestId('message').filter({ hasText: 'first' }).waitFor();
    bob.send({ type: 'send', name: 'Bob', text: 'after your reload' });
    await page.getByTestId('message').filter({ hasText: 'after your reload' }).waitFor();
    const presenceSeen = bob.frames
      .slice(framesBefore)
      .filter((f) => (f.type === 'leave' || f.type === 'join') && 'name' in f && f.name === 'Pia' && f.seq !== 1);
    expect(presenceSeen).toEqual([]);
    expect(
      await page
        .getByTestId('event')
        .filter({ hasText: /Pia (joined|left)/ })
        .count(),
    ).toBeLessThanOrEqual(1); // her first join only

    await a.kill('SIGKILL');
    bob.send({ type: 'send', name: 'Bob', text: 'while A is down' });
    await page.getByTestId('composer').fill('');
    await say(page, 'still here');
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 30_000 }).toContain(`Connected to ${bUrl.replace(/^wss?:\/\//, '')}`);
    await page.getByTestId('message').filter({ hasText: 'while A is down' }).waitFor();
    await bob.next((f) => f.type === 'message' && f.text === 'still here', 10_000);
    expect(blocked).toEqual([]);
    await screenshot(page, 'failover-to-later-replica');
  });

  it('a duplicated tab (its storage copied) starts afresh instead of taking the session from the first', async () => {
    const node = await hostWithUi(NO_RATE_LIMITS);
    const context = await browser().newContext({ ignoreHTTPSErrors: true }); // two tabs of one browser: they share BroadcastChannels
    const first = await context.newPage();
    await first.goto(httpOf(node.url));
    await first.getByTestId('name').fill('Dora');
    await first.getByTestId('join').click();
    await first.getByTestId('status').getByText('as Dora').waitFor();
    const watcher = await RawSocket.join(node.url, 'Watcher');
    // (Scripts as strings: this file is compiled without the DOM's types.)
    const session = (await first.evaluate("sessionStorage.getItem('chatty.session')")) as string;
    expect(session).toContain('"name":"Dora"');
    const copy = await context.newPage();
    await copy.addInitScript(`sessionStorage.setItem('chatty.session', ${JSON.stringify(session)})`);
    await copy.goto(httpOf(node.url));
    await copy.getByTestId('join').waitFor(); // the start screen: it did not resume Dora's session
    await copy.waitForTimeout(500);
    expect(await first.getByTestId('status').textContent()).toContain('as Dora');
    expect(watcher.frames.filter((f) => (f.type === 'away' || f.type === 'back') && 'name' in f && f.name === 'Dora')).toEqual([]);
  });

  it('a direct message to someone who left is marked not sent, with the reason, and the conversation stays', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Ola');
    const nina = await RawSocket.join(node.url, 'Nina');
    await page.getByTestId('buddy').getByText('Nina').click();
    nina.send({ type: 'client_leave_req', name: 'Nina' });
    await expect.poll(() => page.getByTestId('buddy').allTextContents()).toEqual(['Ola (you)']);
    await say(page, 'are you there?');
    const sent = page.getByTestId('message').filter({ hasText: 'are you there?' });
    await expect.poll(() => sent.getByTestId('delivery').textContent()).toBe('Not sent: Nobody called "Nina" is in the chat');
    expect(await page.getByTestId('conversation-title').textContent()).toContain('Direct messages with Nina');
    expect(await page.getByTestId('absent-buddy').allTextContents()).toEqual(['Nina (not in the chat)']);
  });
});
