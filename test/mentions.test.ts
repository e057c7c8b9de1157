// Attention in the page: @mentions are marked and complete with Tab; while the tab is not in
// front, messages count in its title and a mention or a direct message raises a notification
// (the browser's Notification API, recorded by the test: headless Chromium shows none); scrolled
// up, new messages wait behind a "new messages" button.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { chromiumForFile, hasChromium, joinInBrowser, say } from './helpers/browser.js';
import { NO_RATE_LIMITS, startNode } from './helpers/nodes.js';
import { RawSocket } from './helpers/sockets.js';

const httpOf = (wsUrl: string) => `${wsUrl.replace(/^ws/, 'http')}/`;

/** A page that is in the background, and whose notifications the test reads. */
async function inBackground(page: Page): Promise<void> {
  await page.addInitScript(() => {
    // (This runs in the page; the tests compile without the DOM's types.)
    const page = globalThis as unknown as { notifications: Array<[string, string]>; focused?: boolean; document: { hasFocus(): boolean } };
    const seen: Array<[string, string]> = [];
    page.notifications = seen;
    class RecordedNotification {
      static permission = 'granted';
      static requestPermission = async () => 'granted';
      constructor(title: string, options: { body: string }) {
        seen.push([title, options.body]);
      }
    }
    Object.defineProperty(globalThis, 'Notification', { value: RecordedNotification });
    page.document.hasFocus = () => page.focused === true;
  });
}

const notifications = (page: Page) => page.evaluate(() => (globalThis as unknown as { notifications: Array<[string, string]> }).notifications);

describe.skipIf(!hasChromium)('mentions and attention in the page', () => {
  const browser = chromiumForFile();

  it('marks and completes @names; a mention or a direct message notifies while the tab is behind; the title counts', async () => {
    const node = await startNode({ ...NO_RATE_LIMITS, httpHandler: staticFiles(pageDir) });
    const bobPage = await browser().newPage({ ignoreHTTPSErrors: true });
    await inBackground(bobPage);
    await bobPage.goto(httpOf(node.url));
    await bobPage.getByTestId('name').fill('Bob');
    await bobPage.getByTestId('join').click();
    await bobPage.getByTestId('status').getByText('as Bob').waitFor();
    const ann = await joinInBrowser(browser(), httpOf(node.url), 'Ann');

    // Tab completes the one buddy whose name starts with what follows the @.
    await ann.getByTestId('composer').fill('@bo');
    await ann.getByTestId('composer').press('Tab');
    expect(await ann.getByTestId('composer').inputValue()).toBe('@Bob ');
    await ann.getByTestId('composer').pressSequentially('look at this');
    await ann.getByTestId('composer').press('Enter');

    await expect.poll(() => bobPage.title()).toBe('(1) Chatty');
    await expect.poll(() => notifications(bobPage)).toEqual([['Chatty: Ann mentioned you', '@Bob look at this']]);
    expect(await bobPage.locator('mark.mention').first().textContent()).toBe('@Bob');
    await say(ann, 'no mention here');
    await expect.poll(() => bobPage.title()).toBe('(2) Chatty');
    // A direct message says it is for Bob only.
    await ann.getByTestId('buddy').filter({ hasText: 'Bob' }).getByRole('button').click();
    await say(ann, 'just us');
    await expect.poll(async () => (await notifications(bobPage)).at(-1)).toEqual(['Chatty: Ann (to you only)', 'just us']);
    // Back in front: the count goes.
    await bobPage.evaluate(() => {
      const page = globalThis as unknown as { focused: boolean; dispatchEvent(e: Event): void };
      page.focused = true;
      page.dispatchEvent(new Event('focus'));
    });
    await expect.poll(() => bobPage.title()).toBe('Chatty');
  });

  it('scrolled up, new messages do not pull the view down: a button says how many, and jumps to them', async () => {
    const node = await startNode({ ...NO_RATE_LIMITS, httpHandler: staticFiles(pageDir) });
    const page = await joinInBrowser(browser(), httpOf(node.url), 'Reader');
    const writer = await RawSocket.join(node.url, 'Writer');
    for (let i = 0; i < 60; i++) writer.send({ type: 'send', name: 'Writer', text: `line ${i}` });
    await page.getByTestId('message').filter({ hasText: 'line 59' }).waitFor();
    // Scrolled up, and the page told so now (the scroll event would come later, racing the sends).
    await page.getByTestId('timeline').evaluate((el) => {
      el.scrollTop = 0;
      el.dispatchEvent(new Event('scroll'));
    });
    writer.send({ type: 'send', name: 'Writer', text: 'while you were up there' });
    writer.send({ type: 'send', name: 'Writer', text: 'and this' });
    await expect.poll(() => page.getByTestId('jump-to-latest').textContent()).toBe('2 new messages ↓');
    expect(await page.getByTestId('timeline').evaluate((el) => el.scrollTop)).toBeLessThan(50);
    await page.getByTestId('jump-to-latest').click();
    await expect.poll(() => page.getByTestId('jump-to-latest').count()).toBe(0);
  });
});
