// Presence across the set: away / available set by hand reaches every server and every client
// (and a late joiner's welcome); "typing…" reaches the conversation it is for, on other servers
// too, and is rate-limited. Real `chatty host` processes, terminal clients and Chromium.
import { describe, expect, it } from 'vitest';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf } from './helpers/browser.js';
import { Chatty, hostAndReplica } from './helpers/processes.js';
import { RawSocket } from './helpers/sockets.js';

describe('presence', () => {
  it('away and available reach the other server, a late joiner and the terminal; typing reaches only its conversation, a few times a second at most', async () => {
    const { aUrl, bUrl, invite } = await hostAndReplica();
    const ann = await RawSocket.join(aUrl, 'Ann');
    const bob = await RawSocket.join(bUrl, 'Bob');
    const cid = await RawSocket.join(aUrl, 'Cid');
    await ann.next((f) => f.type === 'join' && f.name === 'Cid');

    ann.send({ type: 'set_status', status: 'away' });
    await bob.next((f) => f.type === 'presence' && f.name === 'Ann' && f.status === 'away');
    ann.send({ type: 'set_status', status: 'away' }); // no change, no event
    const late = await RawSocket.join(bUrl, 'Late');
    const welcome = await late.next((f) => f.type === 'welcome');
    expect(welcome.roster[aUrl]).toContain('Ann');
    expect(welcome.roster[bUrl]).toContain('Bob');
    expect(welcome.away).toEqual(['Ann']);

    // The terminal: /who shows it; /away and /available set it.
    const tess = new Chatty(['client', invite, 'Tess', '--give-up', '1']);
    await tess.waitFor(/^\[JOIN\] Tess joined the chat$/);
    tess.type('/who');
    await tess.waitFor(/^\[WHO\] Ann \(away\), Bob, Cid, Late, Tess \(you\)$/);
    tess.type('/away');
    await bob.next((f) => f.type === 'presence' && f.name === 'Tess' && f.status === 'away');
    tess.type('/available');
    await bob.next((f) => f.type === 'presence' && f.name === 'Tess' && f.status === 'available');
    ann.send({ type: 'set_status', status: 'available' });
    await tess.waitFor(/^\[STATUS\] Ann is available$/);

    // Typing in the public chat: everyone else, on both servers; to Bob: Bob only.
    for (let i = 0; i < 5; i++) ann.send({ type: 'typing' });
    await bob.next((f) => f.type === 'is_typing' && f.name === 'Ann' && f.to === undefined);
    await cid.next((f) => f.type === 'is_typing' && f.name === 'Ann');
    await new Promise((r) => setTimeout(r, 2_100));
    ann.send({ type: 'typing', to: 'Bob' });
    await bob.next((f) => f.type === 'is_typing' && f.to === 'Bob');
    await new Promise((r) => setTimeout(r, 300));
    // Five in a burst counted once; the one to Bob reached nobody else.
    expect(bob.frames.filter((f) => f.type === 'is_typing')).toHaveLength(2);
    expect(cid.frames.filter((f) => f.type === 'is_typing')).toHaveLength(1);
    expect(ann.frames.filter((f) => f.type === 'is_typing')).toHaveLength(0);
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();

    it('the Available / Away button shows on the other server; typing shows while it lasts', async () => {
      const { aUrl, bUrl } = await hostAndReplica();
      const ann = await joinInBrowser(browser(), pageOf(aUrl), 'Ann');
      const bob = await joinInBrowser(browser(), pageOf(bUrl), 'Bob');
      await ann.getByTestId('buddy').filter({ hasText: 'Bob' }).waitFor();
      await ann.getByTestId('presence').click();
      await expect.poll(() => ann.getByTestId('presence').textContent()).toBe('Away'); // once the server said so
      await bob.getByTestId('buddy').filter({ hasText: 'Ann (away)' }).waitFor();
      await ann.getByTestId('presence').click();
      await expect.poll(() => bob.getByTestId('buddy').filter({ hasText: 'Ann' }).textContent()).not.toContain('(away)');
      await ann.getByTestId('composer').pressSequentially('hello B');
      await expect.poll(() => bob.getByTestId('typing').textContent()).toBe('Ann is typing…');
      await ann.getByTestId('composer').press('Enter');
      await expect.poll(() => bob.getByTestId('typing').count()).toBe(0); // the text came
    });

    it('preferences: away after the idle minutes chosen, the public chat muted; both remembered', async () => {
      const { aUrl } = await hostAndReplica();
      const bob = await RawSocket.join(aUrl, 'Bob');
      const page = await browser().newPage({ ignoreHTTPSErrors: true });
      await page.clock.install(); // then time flows as usual, and the test jumps it ahead
      await page.clock.resume();
      await page.goto(pageOf(aUrl));
      await page.getByTestId('name').fill('Ann');
      await page.getByTestId('join').click();
      await page.getByTestId('status').getByText('as Ann').waitFor();
      await page.getByTestId('preferences').locator('summary').click();
      await page.getByTestId('idle-minutes').fill('1');
      await page.getByTestId('idle-minutes').press('Tab');
      await page.getByTestId('mute-public').check();
      await page.getByTestId('muted-tag').waitFor();
      // A minute of the page's time, a second at a time, its pings answered in between (a jump
      // of a whole minute would look like a frozen connection, and the page would reconnect).
      const later = async (seconds: number) => {
        for (let i = 0; i < seconds; i++) {
          await page.clock.fastForward(1_000);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await later(58);
      expect(bob.frames.filter((f) => f.type === 'presence')).toEqual([]);
      await later(3);
      await bob.next((f) => f.type === 'presence' && f.name === 'Ann' && f.status === 'away');
      await page.mouse.move(10, 10); // back at the keyboard
      await bob.next((f) => f.type === 'presence' && f.name === 'Ann' && f.status === 'available');
      await page.reload(); // back in the chat at once (the tab kept its session)
      await page.getByTestId('status').getByText('as Ann').waitFor();
      await page.getByTestId('preferences').locator('summary').click();
      expect(await page.getByTestId('mute-public').isChecked()).toBe(true);
      expect(await page.getByTestId('idle-minutes').inputValue()).toBe('1');
      await page.close();
    });
  });
});
