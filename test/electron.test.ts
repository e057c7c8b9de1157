// The desktop app itself, for real: two Electron apps, one clicks Host, the other Join (as a
// replica), and they chat. Runs where an Electron binary is installed; elsewhere says SKIP.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

async function launch(): Promise<ElectronApplication> {
  const userData = mkdtempSync(join(tmpdir(), 'chatty-app-'));
  const app = await electron.launch({ executablePath: binary, args: [main, `--user-data-dir=${userData}`, '--no-sandbox'] });
  apps.push(app);
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
});
