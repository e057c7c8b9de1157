// The everyday experience of the page (#27), in Chromium: the timeline (days, groups, Markdown
// lines, collapsed joins), popovers and the drawer, presence dots, files, and scrolling.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf, say, screenshot } from './helpers/browser.js';
import { NO_RATE_LIMITS, startNode } from './helpers/nodes.js';
import { Chatty } from './helpers/processes.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

const DAY = 24 * 60 * 60_000;
const hostWithUi = () => startNode({ ...NO_RATE_LIMITS, httpHandler: staticFiles(pageDir) });
const heightOf = (page: Page, text: string) =>
  page
    .getByTestId('message')
    .filter({ hasText: text })
    .locator('.text')
    .evaluate((el) => el.getBoundingClientRect().height);

describe.skipIf(!hasChromium)('the page, everyday', () => {
  const browser = chromiumForFile();

  it('the timeline: a heading per day, one person’s messages grouped, Markdown without extra lines, joins collapsed', async () => {
    const node = await hostWithUi();
    // Yesterday's talk comes from a server of the set (its history: the time it says is kept).
    const fake = 'ws://127.0.0.1:9';
    const peer = await RawSocket.peer(node.url, fake, node.serverInvite().serverCode);
    const yesterday = Date.now() - DAY;
    peer.send({
      type: 'backfill',
      events: [
        peerEvent({ type: 'message', name: 'Ann', text: 'good night', server: fake, ts: yesterday }),
        peerEvent({ type: 'message', name: 'Ann', text: 'see you tomorrow', server: fake, ts: yesterday + 60_000 }),
      ],
    });
    const page = await joinInBrowser(browser(), pageOf(node.url), 'Reader');
    const bob = await RawSocket.join(node.url, 'Bob');
    const cid = await RawSocket.join(node.url, 'Cid');
    for (const text of ['morning!', 'p\nq\nr', 's & t\nt\nu', '> you said this\nand this is my answer', '- one\n- two\n\n# Plans']) {
      bob.send({ type: 'send', name: 'Bob', text });
    }
    await page.getByTestId('message').filter({ hasText: 'Plans' }).waitFor();
    await page.getByTestId('message').filter({ hasText: 'good night' }).waitFor();

    expect(await page.getByTestId('day').allTextContents()).toEqual(['Yesterday', 'Today']);
    expect(await page.getByTestId('day').first().locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // Each time says its full date on hover, and is machine-readable.
    const time = page.getByTestId('message').filter({ hasText: 'morning!' }).locator('time');
    expect(await time.getAttribute('datetime')).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(await time.getAttribute('title')).toMatch(/\d{4}/);
    // Ann's two messages of yesterday, and Bob's of today, are groups: the name shows once.
    const classes = async (text: string) => (await page.getByTestId('message').filter({ hasText: text }).getAttribute('class')) ?? '';
    expect(await classes('good night')).not.toContain('continued');
    expect(await classes('see you tomorrow')).toContain('continued');
    expect(await classes('morning!')).not.toContain('continued');
    expect(await classes('p\nq\nr')).toContain('continued');
    // Markdown takes the lines its text has, no more ("&" makes it Markdown); a quote is its own line; lists and headings.
    expect(await heightOf(page, 's & t\nt\nu')).toBe(await heightOf(page, 'p\nq\nr'));
    const quoted = page.getByTestId('message').filter({ hasText: 'you said this' }).getByTestId('message-text');
    expect((await quoted.locator('blockquote').textContent())?.trim()).toBe('you said this');
    expect(await quoted.locator('p').last().textContent()).toBe('and this is my answer');
    const listed = page.getByTestId('message').filter({ hasText: 'Plans' }).getByTestId('message-text');
    expect(await listed.locator('li').allTextContents()).toEqual(['one', 'two']);
    expect(await listed.locator('h1').textContent()).toBe('Plans');
    // Joins in a row are one line; leaves too; and the preference hides them all.
    await expect.poll(() => page.getByTestId('event').allTextContents()).toContainEqual(expect.stringMatching(/Reader, Bob and Cid joined the chat$/));
    await screenshot(page, 'timeline-days-groups-markdown');
    bob.send({ type: 'client_leave_req', name: 'Bob' });
    cid.send({ type: 'client_leave_req', name: 'Cid' });
    await expect.poll(() => page.getByTestId('event').allTextContents()).toContainEqual(expect.stringMatching(/Bob and Cid left the chat$/));
    await page.getByTestId('preferences').locator('summary').click();
    await page.getByTestId('show-joins').uncheck();
    await expect.poll(() => page.getByTestId('event').count()).toBe(0);
  });

  it('popovers and the drawer: Escape and a click elsewhere close them, never two at once; the picker inserts at the caret', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), pageOf(node.url), 'Kai');
    const composer = page.getByTestId('composer');
    await composer.fill('hello world');
    await composer.evaluate((el) => (el as unknown as { setSelectionRange(start: number, end: number): void }).setSelectionRange(5, 5));
    const picker = page.getByTestId('emoji');
    await picker.locator('summary').click();
    await picker.getByTitle(':wave:').click();
    expect(await composer.inputValue()).toBe('hello :wave:  world');
    expect(await picker.getAttribute('open')).toBeNull(); // it closed once it was used
    await picker.locator('summary').click();
    await page.keyboard.press('Escape');
    expect(await picker.getAttribute('open')).toBeNull();
    await picker.locator('summary').click();
    await page.getByTestId('timeline').click();
    expect(await picker.getAttribute('open')).toBeNull();
    // The header's servers list and the picker: opening one closes the other.
    await page.getByTestId('server-count').click();
    await picker.locator('summary').click();
    expect(await page.locator('details.servers').getAttribute('open')).toBeNull();
    // Preferences: checkboxes sit beside their labels.
    await page.getByTestId('preferences').locator('summary').click();
    const box = (await page.getByTestId('mute-public').boundingBox())!;
    const label = (await page.getByTestId('mute-public').locator('..').boundingBox())!;
    expect(box.width).toBeLessThan(40);
    expect(box.y - label.y).toBeLessThan(box.height); // on the label's first line, not above it

    // A narrow screen: the buddy list is a drawer; Escape closes it, Tab stays inside it.
    await page.setViewportSize({ width: 400, height: 700 });
    await page.getByTestId('buddies-toggle').click();
    expect(await page.locator('.composer').getAttribute('inert')).not.toBeNull();
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab');
    expect(await page.locator('#buddy-list :focus, .drawer-scrim:focus').count()).toBe(1);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByTestId('buddies-toggle').getAttribute('aria-expanded')).toBe('false');
    expect(await page.locator('.composer').getAttribute('inert')).toBeNull();
  });

  it('presence dots: green here, amber away, hollow while reconnecting', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), pageOf(node.url), 'Lia');
    const bob = await RawSocket.join(node.url, 'Bob');
    const dot = page.getByTestId('buddy').filter({ hasText: 'Bob' }).getByTestId('presence-dot');
    const colour = () =>
      dot.evaluate((el) => {
        const style = el.ownerDocument.defaultView!.getComputedStyle(el);
        return `${style.backgroundColor} ${style.boxShadow}`;
      });
    await dot.waitFor();
    const here = await colour();
    bob.send({ type: 'set_status', status: 'away' });
    await expect.poll(() => dot.getAttribute('class')).toBe('dot away');
    expect(await colour()).not.toBe(here);
    bob.ws.terminate(); // a lost connection: reconnecting, for the grace period
    await expect.poll(() => dot.getAttribute('class')).toBe('dot reconnecting');
  });

  it('files picked together arrive in that order; an upload can be cancelled; a picture keeps its place and opens large', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    const ann = await joinInBrowser(browser(), pageOf(url), 'Ann');
    const folder = mkdtempSync(join(tmpdir(), 'chatty-experience-'));
    const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
    const names = ['3-big.bin', '1-small.txt', '2-dot.png'];
    writeFileSync(join(folder, names[0]!), Buffer.alloc(3 * 1024 * 1024, 1));
    writeFileSync(join(folder, names[1]!), 'small');
    writeFileSync(join(folder, names[2]!), PNG);
    await ann.getByTestId('attach').setInputFiles(names.map((n) => join(folder, n)));
    for (const name of names) await ann.getByTestId('file').filter({ hasText: name }).waitFor({ timeout: 20_000 });
    expect(await ann.getByTestId('file-name').allTextContents()).toEqual(names);
    // The picture's slot has its height before the picture is there; a click opens the viewer.
    const card = ann.getByTestId('file').filter({ hasText: '2-dot.png' });
    expect((await card.getByTestId('thumbnail-slot').boundingBox())!.height).toBe(180);
    await card.getByTestId('thumbnail').waitFor();
    await card.getByTestId('thumbnail-slot').click();
    await ann.getByTestId('viewer').waitFor();
    await ann.keyboard.press('Escape');
    await ann.getByTestId('viewer').waitFor({ state: 'hidden' });
    // A slow upload, cancelled: it goes away, and nobody gets it.
    const cdp = await ann.context().newCDPSession(ann);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 256 * 1024 });
    writeFileSync(join(folder, 'slow.bin'), Buffer.alloc(4 * 1024 * 1024, 2));
    await ann.getByTestId('attach').setInputFiles(join(folder, 'slow.bin'));
    await ann.getByTestId('upload-cancel').click();
    await ann.getByTestId('upload').waitFor({ state: 'detached' });
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await say(ann, 'after the cancel');
    await ann.getByTestId('message').filter({ hasText: 'after the cancel' }).waitFor();
    expect(await ann.getByTestId('file').filter({ hasText: 'slow.bin' }).count()).toBe(0);
  });

  it('sending while scrolled up brings the view to your message', async () => {
    const node = await hostWithUi();
    const page = await joinInBrowser(browser(), pageOf(node.url), 'Max');
    const writer = await RawSocket.join(node.url, 'Writer');
    for (let i = 1; i <= 60; i++) writer.send({ type: 'send', name: 'Writer', text: `line ${i}` });
    await page
      .getByTestId('message')
      .filter({ hasText: /line 60$/ })
      .waitFor();
    await page.getByTestId('timeline').evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    await say(page, 'my own words');
    const mine = page.getByTestId('message').filter({ hasText: 'my own words' });
    await mine.waitFor();
    const log = (await page.getByTestId('timeline').boundingBox())!;
    await expect.poll(async () => (await mine.boundingBox())!.y + (await mine.boundingBox())!.height <= log.y + log.height + 1).toBe(true);
  });
});
