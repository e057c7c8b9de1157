// Debian's Chromium driven by playwright-core, with the flags this sandboxed, offline machine needs.
import { existsSync, mkdirSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);
export const SCREENSHOTS = 'test-results/screenshots';

/** @param extra more flags (a test's own: host resolver rules, say) */
export function launchChromium(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extra,
    ],
  });
}

/** One Chromium for a test file: launched before its tests, closed after them. */
export function chromiumForFile(): () => Browser {
  let browser: Browser | undefined;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  return () => browser!;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}/${name}.png` });
}

/** The page a server serves, from its WebSocket address (wss:// → https://, ws:// → http://). */
export const pageOf = (wsUrl: string) => `${wsUrl.replace(/^ws/, 'http')}/`;

/** Open the chat a node serves and join it as `name` from the browser. */
export async function joinInBrowser(browser: Browser, httpUrl: string, name: string): Promise<Page> {
  // These tests are about the page: they take the hosts' self-signed certificates as accepted
  // (browser.test.ts has one that accepts exactly the set's certificate, as a person would).
  const page = await browser.newPage({ viewport: { width: 1000, height: 650 }, ignoreHTTPSErrors: true });
  page.on('pageerror', (err) => console.error(`[page ${name}] ${err.message}`));
  await page.goto(httpUrl);
  await page.getByTestId('name').fill(name);
  await page.getByTestId('join').click();
  await page.getByTestId('status').getByText(`as ${name}`).waitFor();
  return page;
}

export async function say(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer').fill(text);
  await page.getByTestId('composer').press('Enter');
}
