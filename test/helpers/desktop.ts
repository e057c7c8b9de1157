// The desktop app's window without Electron: the built renderer in Chromium, the real preload
// bundled against an IPC shim, and the real main-process logic (ipc.ts handlers, ChatSession,
// SettingsStore) in this process. Only Electron's transport is replaced.
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterEach } from 'vitest';
import { pageDir } from '../../server/hosting.js';
import { Channel, type InvokeChannel, type SessionEvent } from '../../shared/bridge.js';
import { invokeHandlers } from '../../electron/ipc.js';
import { staticFiles } from '../../server/static-files.js';
import { ChatSession } from '../../electron/session.js';
import { SettingsStore } from '../../electron/settings.js';
import { nodeSockets } from '../../shared/node/node-socket.js';

let preloadBundle: string | undefined;
async function preload(): Promise<string> {
  const result = await build({
    entryPoints: ['electron/preload.ts'],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    alias: { electron: './test/fixtures/electron-ipc-shim.ts' },
    logLevel: 'warning',
  });
  preloadBundle ??= result.outputFiles[0]!.text;
  return preloadBundle;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Serves the built renderer the way Electron loads it: our own page, nothing else. */
async function rendererServer(): Promise<string> {
  const server: Server = createServer(staticFiles(pageDir));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

export interface DesktopWindow {
  page: Page;
  session: ChatSession;
  opened: string[];
  /** What main.ts sends the window besides the session's events (e.g. discovered hosts). */
  send(event: SessionEvent): Promise<unknown>;
}

/**
 * @param settingsDir where settings are remembered (the app's userData); default: a new folder
 * @param pageOptions the window's size, colour scheme and such (Playwright's page options)
 */
export async function openDesktopWindow(
  browser: Browser,
  settingsDir = mkdtempSync(join(tmpdir(), 'chatty-desktop-')),
  pageOptions: Parameters<Browser['newPage']>[0] = {},
): Promise<DesktopWindow> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 650 }, ignoreHTTPSErrors: true, ...pageOptions });
  page.on('pageerror', (err) => console.error(`[desktop page] ${err.message}`));
  let ready = false;
  const early: SessionEvent[] = [];
  const deliver = (event: SessionEvent) =>
    page
      .evaluate(([channel, e]) => (globalThis as unknown as { __electronEmit(c: string, p: unknown): void }).__electronEmit(channel, e), [
        Channel.event,
        event,
      ] as const)
      .catch(() => {});
  const session = new ChatSession({
    emit: (event) => (ready ? void deliver(event) : early.push(event)),
    sockets: nodeSockets,
    bind: '127.0.0.1',
  });
  cleanups.push(() => session.quit());
  const opened: string[] = [];
  const handlers = invokeHandlers({
    session,
    settings: new SettingsStore(settingsDir),
    openExternal: async (url) => void opened.push(url),
  });
  await page.exposeBinding('__electronInvoke', (_source, channel: InvokeChannel, payload: unknown) => handlers[channel](payload));
  await page.addInitScript({ content: await preload() });
  await page.goto(await rendererServer());
  ready = true;
  for (const event of early.splice(0)) await deliver(event);
  return { page, session, opened, send: deliver };
}
