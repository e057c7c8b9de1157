// Direct messages across the set: kept by every server like any event, delivered only to their two
// people — never to a third client, never in a history page or a resume that a third client gets.
// Real `chatty host` processes, terminal clients and a page in Chromium.
import { describe, expect, it } from 'vitest';
import { chromiumForFile, hasChromium, joinInBrowser, say, screenshot, pageOf } from './helpers/browser.js';
import { Chatty, hostAndReplica } from './helpers/processes.js';
import { RawSocket } from './helpers/sockets.js';

describe('direct messages', () => {
  it('reach only their two people, on two servers; a third client never sees them, live or in history', async () => {
    const { aUrl, bUrl, invite } = await hostAndReplica();
    const ann = await RawSocket.join(aUrl, 'Ann');
    const cid = await RawSocket.join(aUrl, 'Cid'); // on Ann's own server
    const bob = await RawSocket.join(bUrl, 'Bob');
    await ann.next((f) => f.type === 'join' && f.name === 'Bob');
    ann.send({ type: 'send', name: 'Ann', text: 'just for you, Bob', cid: 'd1', to: 'bob' }); // any case: the holder's name is used
    const got = await bob.next((f) => f.type === 'direct');
    expect(got).toMatchObject({ name: 'Ann', to: 'Bob', text: 'just for you, Bob', cid: 'd1' });
    expect((await ann.next((f) => f.type === 'ack' && f.cid === 'd1')).id).toBe(got.id);
    await ann.next((f) => f.type === 'direct' && f.id === got.id); // the sender sees its own
    bob.send({ type: 'send', name: 'Bob', text: 'and back to you', to: 'Ann' });
    await ann.next((f) => f.type === 'direct' && f.text === 'and back to you');
    // A public message after them: Cid has it, and nothing of the direct ones.
    ann.send({ type: 'send', name: 'Ann', text: 'hello everyone' });
    await cid.next((f) => f.type === 'message' && f.text === 'hello everyone');
    expect(JSON.stringify(cid.frames)).not.toMatch(/just for you|and back to you/);
    cid.send({ type: 'history_req', limit: 500 });
    const page = await cid.next((f) => f.type === 'history' && f.page === true);
    expect(page.events.map((e: { type: string }) => e.type)).not.toContain('direct');
    // A late joiner on the other server, and the same people joining again, see what is theirs.
    const dan = await RawSocket.join(bUrl, 'Dan');
    const danHistory = await dan.next((f) => f.type === 'history');
    expect(danHistory.events.map((e: { type: string }) => e.type)).not.toContain('direct');
    expect(danHistory.events.map((e: { text?: string }) => e.text)).toContain('hello everyone');
    // Bob's terminal client, joining again later, prints the conversation as his.
    bob.send({ type: 'client_leave_req', name: 'Bob' });
    await ann.next((f) => f.type === 'leave' && f.name === 'Bob');
    const bobAgain = new Chatty(['client', invite, 'Bob', '--give-up', '1']);
    await bobAgain.waitFor(/^\[Ann → you\] just for you, Bob$/);
    await bobAgain.waitFor(/^\[you → Ann\] and back to you$/);
    // In the terminal: /msg NAME text.
    bobAgain.type('/msg Ann one more, from the terminal');
    await ann.next((f) => f.type === 'direct' && f.text === 'one more, from the terminal' && f.name === 'Bob');
    await bobAgain.waitFor(/^\[you → Ann\] one more, from the terminal$/);
    expect(JSON.stringify(cid.frames)).not.toMatch(/from the terminal/);
    expect(JSON.stringify(dan.frames)).not.toMatch(/from the terminal/);
  });

  it('to nobody, or to oneself, is a clear error; nothing is published', async () => {
    const { aUrl } = await hostAndReplica();
    const ann = await RawSocket.join(aUrl, 'Ann');
    ann.send({ type: 'send', name: 'Ann', text: 'hello?', to: 'Nobody' });
    expect((await ann.nextError('NO_SUCH_BUDDY')).message).toBe('nobody called "Nobody" is in the chat');
    ann.send({ type: 'send', name: 'Ann', text: 'note to self', to: 'ann' });
    await ann.next((f) => f.type === 'error' && f.message === 'a direct message goes to someone else');
    const terminal = new Chatty(['client', aUrl, 'Tess', '--give-up', '1']);
    await terminal.waitFor(/^\[JOIN\] Tess joined the chat$/);
    terminal.type('/msg Nobody hi');
    await terminal.waitFor(/^\[ERROR\] nobody called "Nobody" is in the chat$/, 'stderr');
    terminal.type('/msg');
    await terminal.waitFor(/^chatty: \/msg NAME text sends text to NAME only$/, 'stderr');
    expect(ann.frames.filter((f) => f.type === 'direct')).toEqual([]);
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();

    it('a click on a buddy opens the conversation; the other side sees an unread count, then the message', async () => {
      const { aUrl, bUrl } = await hostAndReplica();
      const ann = await joinInBrowser(browser(), pageOf(aUrl), 'Ann');
      const bob = await joinInBrowser(browser(), pageOf(bUrl), 'Bob');
      const cid = await RawSocket.join(aUrl, 'Cid');
      await ann.getByTestId('buddy').filter({ hasText: 'Bob' }).getByRole('button').click();
      await ann.getByTestId('conversation-title').waitFor();
      await say(ann, 'a secret for Bob');
      await ann.getByTestId('message').filter({ hasText: 'a secret for Bob' }).waitFor();
      // Bob is in the public chat: Ann's name gets an unread count; the public timeline stays public.
      await expect.poll(() => bob.getByTestId('buddy').filter({ hasText: 'Ann' }).getByTestId('unread').textContent()).toBe('1');
      expect(await bob.getByTestId('message').filter({ hasText: 'a secret for Bob' }).count()).toBe(0);
      await bob.getByTestId('buddy').filter({ hasText: 'Ann' }).getByRole('button').click();
      await bob.getByTestId('message').filter({ hasText: 'a secret for Bob' }).waitFor();
      expect(await bob.getByTestId('buddy').filter({ hasText: 'Ann' }).getByTestId('unread').count()).toBe(0);
      await say(bob, 'got it');
      await ann.getByTestId('message').filter({ hasText: 'got it' }).waitFor();
      await screenshot(ann, 'direct-messages');
      // Back to everyone: the direct messages are not there.
      await ann.getByTestId('conversation-public').click();
      await say(ann, 'hi all');
      await cid.next((f) => f.type === 'message' && f.text === 'hi all');
      expect(await ann.getByTestId('message').filter({ hasText: 'got it' }).count()).toBe(0);
      expect(JSON.stringify(cid.frames)).not.toMatch(/a secret for Bob|got it/);
    });
  });
});
