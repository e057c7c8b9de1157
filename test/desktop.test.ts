// The desktop app's flows — Host, Join as a replica, errors, links — through the real preload,
// IPC handlers and ChatSession, with the renderer in Chromium (see helpers/desktop.ts).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hasChromium, chromiumForFile, say, screenshot } from './helpers/browser.js';
import { openDesktopWindow } from './helpers/desktop.js';
import { startNode } from './helpers/nodes.js';
import { freePort } from './helpers/ports.js';

describe.skipIf(!hasChromium)('desktop window (real preload and main-process logic)', () => {
  const browser = chromiumForFile();

  it('Host in one window, Join as a replica in another, chat; the chat survives the host leaving', async () => {
    const host = await openDesktopWindow(browser());
    const port = await freePort();
    await host.page.getByTestId('name').fill('Ann');
    await host.page.getByTestId('port').fill(String(port));
    await screenshot(host.page, 'desktop-start');
    await host.page.getByTestId('host').click();
    await host.page.getByTestId('status').getByText('as Ann').waitFor();

    // The host shows its server invite; the guest pastes it (a replica needs it: the people's invite runs no server).
    const invite = (await host.page.getByTestId('server-invite').textContent())!;
    expect(invite).toMatch(new RegExp(`^chatty://127\\.0\\.0\\.1:${port}/#server-invite=[\\w-]+&fp=[0-9A-F]{64}$`));
    const guest = await openDesktopWindow(browser());
    await guest.page.getByTestId('name').fill('Bob');
    await guest.page.getByTestId('address').fill(invite);
    await guest.page.getByTestId('replica').check();
    await guest.page.getByTestId('join').click();
    await guest.page.getByTestId('status').getByText('as Bob').waitFor();
    expect(guest.session.node).toBeDefined(); // a replica runs in the guest's app
    await expect.poll(() => guest.page.getByTestId('server-count').textContent()).toBe('2 servers');

    await say(guest.page, 'hello from the replica, see https://example.com/docs');
    const onHost = host.page.getByTestId('message').filter({ hasText: 'hello from the replica' });
    await onHost.waitFor();
    await onHost.locator('a').click();
    await expect.poll(() => host.opened).toEqual(['https://example.com/docs']);
    await screenshot(host.page, 'desktop-host-chat');

    await host.page.getByTestId('leave').click();
    await host.page.getByTestId('host').waitFor();
    await guest.page.getByTestId('event').filter({ hasText: 'Ann left the chat' }).waitFor();
    await expect.poll(() => guest.page.getByTestId('server-count').textContent()).toBe('1 server');
    await say(guest.page, 'still chatting');
    await guest.page.getByTestId('message').filter({ hasText: 'still chatting' }).waitFor();
    expect(await guest.page.getByTestId('status').textContent()).toContain('Connected');
  });

  it('the host lists the servers and takes a replica out: the chat re-keys, and the host shows the new invites', async () => {
    const host = await openDesktopWindow(browser());
    await host.page.getByTestId('name').fill('Ann');
    await host.page.getByTestId('port').fill(String(await freePort()));
    await host.page.getByTestId('host').click();
    await host.page.getByTestId('status').getByText('as Ann').waitFor();
    const invite = (await host.page.getByTestId('invite').textContent())!;
    const serverInvite = (await host.page.getByTestId('server-invite').textContent())!;
    const guest = await openDesktopWindow(browser());
    await guest.page.getByTestId('name').fill('Bob');
    await guest.page.getByTestId('address').fill(serverInvite);
    await guest.page.getByTestId('join').click();
    await guest.page.getByTestId('status').getByText('as Bob').waitFor();
    await expect.poll(() => host.page.getByTestId('server-count').textContent()).toBe('2 servers');
    // Two steps: the first only asks.
    await host.page.getByTestId('server-count').click();
    await host.page.getByTestId('take-out').click();
    expect(await host.page.locator('.servers .confirm').textContent()).toContain('out of the chat? Every other server makes new keys');
    await screenshot(host.page, 'desktop-take-out');
    await host.page.getByTestId('take-out-confirm').click();
    await expect.poll(() => host.page.getByTestId('server-count').textContent()).toBe('1 server');
    await expect.poll(() => host.page.getByTestId('invite').textContent()).not.toBe(invite);
    expect(await host.page.getByTestId('server-invite').textContent()).not.toBe(serverInvite);
    expect(host.session.node!.servers()).toEqual([host.session.node!.url]);
  });

  it('hosts a private chat: a guest without the invite is told so; with the code typed it joins, and sees the certificate it trusted', async () => {
    const host = await openDesktopWindow(browser());
    const port = await freePort();
    await host.page.getByTestId('name').fill('Ann');
    await host.page.getByTestId('port').fill(String(port));
    await host.page.getByTestId('private').check();
    await host.page.getByTestId('host').click();
    await host.page.getByTestId('status').getByText('as Ann').waitFor();
    const invite = (await host.page.getByTestId('invite').textContent())!;
    const code = /invite=([\w-]+)/.exec(invite)![1]!;

    const guest = await openDesktopWindow(browser());
    await guest.page.getByTestId('name').fill('Bob');
    await guest.page.getByTestId('replica').uncheck();
    await guest.page.getByTestId('address').fill(`127.0.0.1:${port}`);
    await guest.page.getByTestId('join').click();
    await expect.poll(() => guest.page.getByTestId('start-error').textContent()).toBe('This chat is private: join with its invite link or code: ask the host');
    // The field for the code opens by itself, ready to type in.
    await expect.poll(() => guest.page.getByTestId('passphrase').evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await guest.page.getByTestId('passphrase').fill(code.toLowerCase().replace(/-/g, ' '));
    await guest.page.getByTestId('join').click();
    await guest.page.getByTestId('status').getByText('as Bob').waitFor();
    // Joined by address: the certificate it trusted on first use is shown, and it is the host's.
    expect(await guest.page.getByTestId('fingerprint').textContent()).toBe(await host.page.getByTestId('fingerprint').textContent());
    await say(guest.page, 'in the private chat');
    await host.page.getByTestId('message').filter({ hasText: 'in the private chat' }).waitFor();

    // A new invite: the old code lets nobody new in; Bob, already here, stays.
    await host.page.locator('details.invite summary').click();
    await host.page.getByTestId('new-invite').click();
    await expect.poll(() => host.page.getByTestId('invite').textContent()).not.toBe(invite);
    const late = await openDesktopWindow(browser());
    await late.page.getByTestId('name').fill('Cid');
    await late.page.getByTestId('replica').uncheck();
    await late.page.getByTestId('address').fill(invite);
    await late.page.getByTestId('join').click();
    await expect.poll(() => late.page.getByTestId('start-error').textContent()).toMatch(/not \(or no longer\) right for this chat/);
    await say(guest.page, 'still in');
    await host.page.getByTestId('message').filter({ hasText: 'still in' }).waitFor();
  });

  it('lists hosts discovered on the LAN live; a click fills the address', async () => {
    const win = await openDesktopWindow(browser());
    await win.page.getByText('Looking for servers on this network…').waitFor();
    await win.send({ kind: 'hosts', hosts: [{ name: 'Ann on laptop', url: 'ws://192.168.1.20:4000', buddies: 3, needsInvite: false }] });
    const host = win.page.getByRole('button', { name: /Ann on laptop/ });
    expect(await host.textContent()).toBe('Ann on laptop 192.168.1.20:4000 · 3 buddies');
    await host.click();
    expect(await win.page.getByTestId('address').inputValue()).toBe('ws://192.168.1.20:4000');
    await win.send({ kind: 'hosts', hosts: [] });
    await win.page.getByText('Looking for servers on this network…').waitFor();
  });

  it('refuses a port outside 0–65535 in the form, with the same rule as the CLI', async () => {
    const win = await openDesktopWindow(browser());
    await win.page.getByTestId('name').fill('Zoë');
    await win.page.getByTestId('port').fill('70000');
    await win.page.getByTestId('host').click();
    expect(await win.page.getByTestId('start-error').textContent()).toBe('The port must be from 0 to 65535 (0 picks a free one).');
    await win.page.getByTestId('port').fill('http');
    await win.page.getByTestId('host').click();
    expect(await win.page.getByTestId('start-error').textContent()).toBe('The port must be a number, not "http".');
    expect(win.session.node).toBeUndefined();
  });

  it('remembers the last name, port and address between runs', async () => {
    const userData = mkdtempSync(join(tmpdir(), 'chatty-userdata-'));
    const port = await freePort();
    const first = await openDesktopWindow(browser(), userData);
    await first.page.getByTestId('name').fill('Zoë');
    await first.page.getByTestId('port').fill(String(port));
    await first.page.getByTestId('host').click();
    await first.page.getByTestId('status').getByText('as Zoë').waitFor();
    await first.page.getByTestId('leave').click();
    await first.page.close();

    const next = await openDesktopWindow(browser(), userData);
    await expect.poll(() => next.page.getByTestId('name').inputValue()).toBe('Zoë');
    expect(await next.page.getByTestId('port').inputValue()).toBe(String(port));
  });

  it('shows clear errors: port in use, host unreachable, bad address, name taken', async () => {
    const busy = await startNode();
    const win = await openDesktopWindow(browser());
    await win.page.getByTestId('name').fill('Ann');
    await win.page.getByTestId('port').fill(String(busy.port));
    await win.page.getByTestId('host').click();
    await expect.poll(() => win.page.getByTestId('start-error').textContent()).toBe(`Port ${busy.port} is already in use on 127.0.0.1`);

    await win.page.getByTestId('replica').uncheck();
    await win.page.getByTestId('address').fill('127.0.0.1:1');
    // What the user set stays set while they type elsewhere.
    expect(await win.page.getByTestId('replica').isChecked()).toBe(false);
    expect(await win.page.getByTestId('port').inputValue()).toBe(String(busy.port));
    await win.page.getByTestId('join').click();
    await expect
      .poll(() => win.page.getByTestId('start-error').textContent())
      .toMatch(/^Chatty could not reach the chat\. .*\(cannot reach wss:\/\/127\.0\.0\.1:1: ECONNREFUSED/);

    await win.page.getByTestId('address').fill('http://example.com/chat');
    await win.page.getByTestId('join').click();
    await expect.poll(() => win.page.getByTestId('start-error').textContent()).toContain('is not a server address');

    const other = await openDesktopWindow(browser());
    await other.page.getByTestId('name').fill('Ann');
    await other.page.getByTestId('port').fill(String(await freePort()));
    await other.page.getByTestId('host').click();
    await other.page.getByTestId('status').getByText('as Ann').waitFor();
    await win.page.getByTestId('address').fill(other.session.node!.url);
    await win.page.getByTestId('join').click();
    await expect.poll(() => win.page.getByTestId('start-error').textContent()).toBe('The name "Ann" is already taken');
    await screenshot(win.page, 'desktop-error');
  });
});
