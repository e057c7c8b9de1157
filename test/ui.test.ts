// The page under everyday use: keyboard only, a dropped connection, a narrow phone screen, and the
// small things people notice (remembered values, focus, plain words). Real hosts, real Chromium.
import { describe, expect, it } from 'vitest';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf, say } from './helpers/browser.js';
import { openDesktopWindow } from './helpers/desktop.js';
import { Chatty } from './helpers/processes.js';
import { RawSocket } from './helpers/sockets.js';

const focused = (page: import('playwright-core').Page) =>
  page.evaluate('document.activeElement?.getAttribute("data-testid") ?? document.activeElement?.tagName');

describe.skipIf(!hasChromium)('the page in everyday use', () => {
  const browser = chromiumForFile();

  it('keyboard only: name, Enter, write, Ctrl+K to a direct message, leave', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    const bob = await RawSocket.join(url, 'Bob');
    const page = await browser().newPage({ ignoreHTTPSErrors: true });
    await page.goto(pageOf(url));
    expect(await focused(page)).toBe('name');
    await page.keyboard.type('Ann');
    await page.keyboard.press('Enter');
    await page.getByTestId('status').getByText('as Ann').waitFor();
    await expect.poll(() => focused(page)).toBe('composer');
    await page.keyboard.type('hello from the keyboard');
    await page.keyboard.press('Enter');
    await bob.next((f) => f.type === 'message' && f.text === 'hello from the keyboard');
    await page.keyboard.press('Control+k');
    await expect.poll(() => focused(page)).toBe('jump-to');
    await page.keyboard.type('bo');
    await page.keyboard.press('Enter');
    await page.getByTestId('conversation-title').getByText('Bob').waitFor();
    await expect.poll(() => focused(page)).toBe('composer');
    await page.keyboard.type('just for you');
    await page.keyboard.press('Enter');
    expect(await bob.next((f) => f.type === 'direct')).toMatchObject({ name: 'Ann', to: 'Bob', text: 'just for you' });
    await page.keyboard.press('Control+f');
    await expect.poll(() => focused(page)).toBe('search');
    for (let i = 0; i < 40 && (await focused(page)) !== 'leave'; i++) await page.keyboard.press('Tab');
    expect(await focused(page)).toBe('leave');
    await page.keyboard.press('Enter');
    await page.getByTestId('name').waitFor();
    // 1. The start screen shows the name used last.
    expect(await page.getByTestId('name').inputValue()).toBe('Ann');
    await page.close();
  });

  it('a dropped connection: a banner that stays, no server count, stale errors cleared, plain words', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    const page = await joinInBrowser(browser(), pageOf(url), 'Ann');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Chatty');
    expect(await page.getByTestId('status').getAttribute('role')).toBe('status');
    await page.getByTestId('composer').press('Enter');
    expect(await page.getByTestId('composer-error').textContent()).toBe('Type a message first.');
    host.kill('SIGKILL');
    const banner = page.getByTestId('connection-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toBe('The connection to the chat was lost. Reconnecting… what you write is sent once it is back.');
    expect(await banner.getAttribute('title')).toMatch(/127\.0\.0\.1/); // the detail, on hover
    expect(await page.getByTestId('composer-error').count()).toBe(0);
    expect(await page.getByTestId('server-count').isVisible()).toBe(false);
    await page.waitForTimeout(2_000);
    expect(await banner.isVisible()).toBe(true); // it stays while the problem lasts
    await page.close();
  });

  it('an error line under the composer keeps the newest message in view', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    const page = await joinInBrowser(browser(), pageOf(url), 'Ann');
    const bob = await RawSocket.join(url, 'Bob');
    for (let i = 1; i <= 40; i++) bob.send({ type: 'send', name: 'Bob', text: `line ${i}\nsecond row` });
    const last = page.getByTestId('message').filter({ hasText: 'line 40' });
    await last.waitFor();
    const inView = async () => {
      const log = (await page.getByTestId('timeline').boundingBox())!;
      const box = (await last.boundingBox())!;
      return box.y + box.height <= log.y + log.height + 1;
    };
    await expect.poll(inView).toBe(true);
    await page.getByTestId('composer').press('Enter');
    await page.getByTestId('composer-error').waitFor();
    await expect.poll(inView).toBe(true);
    await page.close();
  });

  it('at 400 px: a header of at most two lines, and the buddies in a drawer', async () => {
    const host = new Chatty(['host', '--port', '0']);
    const url = await host.url();
    await RawSocket.join(url, 'Bob');
    const page = await browser().newPage({ viewport: { width: 400, height: 760 }, ignoreHTTPSErrors: true });
    await page.goto(pageOf(url));
    await page.getByTestId('name').fill('Ann');
    await page.getByTestId('join').click();
    await page.getByTestId('composer').waitFor();
    const header = (await page.locator('header.status').boundingBox())!;
    expect(header.height).toBeLessThan(110);
    expect(header.width).toBeLessThanOrEqual(400);
    const bob = page.getByTestId('buddy').filter({ hasText: 'Bob' });
    expect(await bob.isVisible()).toBe(false);
    await page.getByTestId('buddies-toggle').click();
    await bob.getByRole('button').click();
    await page.getByTestId('conversation-title').waitFor();
    await expect.poll(() => bob.isVisible()).toBe(false); // the drawer closed on the choice
    await say(page, 'from my phone');
    await page.getByTestId('message').filter({ hasText: 'from my phone' }).waitFor();
    await page.close();
  });

  it('in the app: Leave shows the name and address used; an unreachable address is said plainly', async () => {
    const host = new Chatty(['host', '--port', '0']);
    await host.url();
    const { page } = await openDesktopWindow(browser());
    await page.getByTestId('name').fill('Ann');
    await page.getByTestId('address').fill('127.0.0.1:1');
    await page.getByTestId('replica').uncheck();
    await page.getByTestId('join').click();
    const error = page.getByTestId('start-error');
    await error.waitFor();
    expect(await error.textContent()).toContain('Chatty could not reach the chat. Check the address, and that the host is running and on this network.');
    expect(await error.getAttribute('title')).toContain('127.0.0.1:1');
    await page.getByTestId('address').fill(await host.invite());
    await page.getByTestId('name').press('Enter'); // Enter in the name joins the address typed
    await page.getByTestId('composer').waitFor();
    expect(await focused(page)).toBe('composer');
    await page.getByTestId('leave').click();
    await page.getByTestId('name').waitFor();
    expect(await page.getByTestId('name').inputValue()).toBe('Ann');
    expect(await page.getByTestId('address').inputValue()).toBe(await host.invite());
  });

  it('in the app, as a replica: the status names where it is — its own server — also after the host died', async () => {
    const host = new Chatty(['host', '--port', '0']);
    await host.url();
    const { page, session } = await openDesktopWindow(browser());
    await page.getByTestId('name').fill('Bob');
    await page.getByTestId('address').fill(await host.serverInvite());
    await page.getByTestId('join').click(); // a server invite runs a replica, whatever the box says
    await page.getByTestId('composer').waitFor();
    const own = `Connected to your server (${session.node!.url.replace('wss://', '')}) as Bob`;
    await expect.poll(() => page.getByTestId('status').textContent()).toBe(own);
    await host.kill('SIGKILL');
    await expect.poll(() => page.getByTestId('server-count').textContent(), { timeout: 20_000 }).toBe('1 server');
    expect(await page.getByTestId('status').textContent()).toBe(own);
  });
});
