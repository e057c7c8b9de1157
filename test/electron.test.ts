// The desktop app itself, for real: two Electron apps, one clicks Host, the other Join (as a
// replica), and they chat; closing the window keeps the app in the tray, a second launch brings it
// back, and the app menu's commands reach the window. electron-playwright-helpers finds a packaged
// build (when `npm run dist` made one), stubs dialogs and drives the menu. Runs where an Electron
// binary is installed; elsewhere says SKIP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { clickMenuItem, findLatestBuild, getApplicationMenu, parseElectronApp, stubAllDialogs } from 'electron-playwright-helpers';
import { _electron as electron, type ElectronApplication } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { electronBinary } from '../cli/desktop.js';
import { screenshot } from './helpers/browser.js';
import { freePort } from './helpers/ports.js';

const binary = electronBinary();
const needsDisplay = process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY;
const skip = !binary ? 'no Electron binary is installed (its download is blocked here)' : needsDisplay ? 'no display (run under xvfb-run)' : '';
if (skip) console.log(`SKIP: Electron end-to-end test: ${skip}`);

const main = fileURLToPath(new URL('../dist/electron/main.js', import.meta.url));
const apps: ElectronApplication[] = [];
afterEach(async () => {
  for (const app of apps.splice(0).reverse()) await app.close();
});

/** The packaged app when `npm run dist` made one (release/), else the built sources with the installed Electron. */
function target(): { executablePath: string; args: string[] } {
  if (existsSync('release')) {
    try {
      const build = parseElectronApp(findLatestBuild('release'));
      return { executablePath: build.executable, args: [] };
    } catch {
      // no packaged build for this platform: the sources
    }
  }
  return { executablePath: binary!, args: [main] };
}

async function launch(userData = mkdtempSync(join(tmpdir(), 'chatty-app-'))): Promise<ElectronApplication> {
  const { executablePath, args } = target();
  const app = await electron.launch({ executablePath, args: [...args, `--user-data-dir=${userData}`, '--no-sandbox'] });
  apps.push(app);
  await stubAllDialogs(app); // no dialog may wait for a click nobody makes
  return app;
}

describe.skipIf(Boolean(skip))('Electron app', () => {
  it('Host in one app, Join as a replica in another, and chat', async () => {
    const port = await freePort();
    const hostApp = await launch();
    const host = await hostApp.firstWindow();
    await host.getByTestId('name').fill('Ann');
    await host.getByTestId('port').fill(String(port));
    await host.getByTestId('host').click();
    await host.getByTestId('status').getByText('as Ann').waitFor();

    const guestApp = await launch();
    const guest = await guestApp.firstWindow();
    await guest.getByTestId('name').fill('Bob');
    // A replica joins with the host's invite (the Invite panel shows it).
    await guest.getByTestId('address').fill((await host.getByTestId('invite').textContent())!);
    await guest.getByTestId('join').click();
    await guest.getByTestId('status').getByText('as Bob').waitFor();

    await guest.getByTestId('composer').fill('hello from the app');
    await guest.getByTestId('composer').press('Enter');
    await host.getByTestId('message').filter({ hasText: 'hello from the app' }).waitFor();
    expect(await host.getByTestId('buddy').count()).toBe(2);
    // The renderer has no Node: the bridge is all it gets.
    expect(await host.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    await screenshot(host, 'electron-host');
  });

  it('closing the window keeps the app (and its server) running in the tray; a second launch brings the window back', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'chatty-app-'));
    const app = await launch(userData);
    const window = await app.firstWindow();
    await window.getByTestId('name').fill('Ann');
    await window.getByTestId('port').fill(String(await freePort()));
    await window.getByTestId('host').click();
    await window.getByTestId('status').getByText('as Ann').waitFor();
    const visible = () => app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().map((w) => w.isVisible()));
    await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows()[0]!.close());
    await expect.poll(visible).toEqual([false]); // hidden, not closed: the chat goes on
    // A second launch with the same profile only brings the running window forward, then exits.
    const { executablePath, args } = target();
    const second = await electron.launch({ executablePath, args: [...args, `--user-data-dir=${userData}`, '--no-sandbox'] }).catch(() => undefined);
    if (second) apps.push(second);
    await expect.poll(visible).toEqual([true]);
    expect(await window.getByTestId('status').textContent()).toContain('as Ann');
  });

  it('the app menu has Edit, View and Window, and Go to Conversation… opens in the window', async () => {
    const app = await launch();
    const window = await app.firstWindow();
    const menu = await getApplicationMenu(app);
    expect(menu.map((m) => m.role ?? m.label)).toEqual(
      expect.arrayContaining(['Chat', 'editmenu', 'viewmenu', 'windowmenu'].map((r) => expect.stringMatching(new RegExp(r, 'i')))),
    );
    await window.getByTestId('name').fill('Ann');
    await window.getByTestId('port').fill(String(await freePort()));
    await window.getByTestId('host').click();
    await window.getByTestId('composer').waitFor();
    await clickMenuItem(app, 'label', 'Go to Conversation…');
    await window.getByTestId('jump-to').waitFor();
  });
});
