// Full-text search of what the server keeps (SQLite FTS5 in its data folder; the history in memory
// for a server without one): it finds messages from before a restart, and a direct message only
// for its two people. Real `chatty host` processes, the terminal client and Chromium.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database } from 'node-sqlite3-wasm';
import { describe, expect, it } from 'vitest';
import { pageDir } from '../server/hosting.js';
import { staticFiles } from '../server/static-files.js';
import { chromiumForFile, hasChromium, joinInBrowser, pageOf, say, screenshot } from './helpers/browser.js';
import { startNode } from './helpers/nodes.js';
import { Chatty } from './helpers/processes.js';
import { type AnyFrame, RawSocket } from './helpers/sockets.js';

const texts = (frame: AnyFrame) => (frame.events as Array<{ text?: string }>).map((e) => e.text);

describe('search', () => {
  it('finds messages from before a restart; direct ones only for their two people; any query is safe', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-search-'));
    const first = new Chatty(['host', '--port', '0', '--data', data]);
    const ann = await RawSocket.join(await first.url(), 'Ann');
    const bob = await RawSocket.join(await first.url(), 'Bob');
    ann.send({ type: 'send', name: 'Ann', text: 'meet at the Blue door at noon', cid: 'a1' });
    ann.send({ type: 'send', name: 'Ann', text: 'the secret plan is ready', cid: 'a2', to: 'Bob' });
    await bob.next((f) => f.type === 'direct');
    await ann.next((f) => f.type === 'ack' && f.cid === 'a2');
    await first.kill('SIGINT');

    const again = new Chatty(['host', '--port', '0', '--data', data]);
    const url = await again.url();
    const cid = await RawSocket.join(url, 'Cid');
    cid.send({ type: 'search_req', query: 'blu door' }); // words, as prefixes, in any case
    expect(texts(await cid.next((f) => f.type === 'search_results'))).toEqual(['meet at the Blue door at noon']);
    cid.frames.length = 0;
    cid.send({ type: 'search_req', query: 'secret plan' });
    expect(texts(await cid.next((f) => f.type === 'search_results'))).toEqual([]);
    const bobAgain = await RawSocket.join(url, 'Bob');
    bobAgain.send({ type: 'search_req', query: 'secret plan' });
    expect(texts(await bobAgain.next((f) => f.type === 'search_results'))).toEqual(['the secret plan is ready']);
    // FTS5 syntax in a query is just words; an empty query is a clear error.
    for (const query of ['"', 'AND OR NOT', 'blue*) NEAR(', "'; DROP TABLE events; --"]) {
      cid.frames.length = 0;
      cid.send({ type: 'search_req', query });
      await cid.next((f) => f.type === 'search_results');
    }
    cid.send({ type: 'search_req', query: '   ' });
    expect((await cid.nextError('BAD_FRAME')).message).toMatch(/search for something/);
    // The terminal: /search.
    const tess = new Chatty(['client', url, 'Tess', '--give-up', '1']);
    await tess.waitFor(/^\[JOIN\] Tess joined the chat$/);
    tess.type('/search noon');
    await tess.waitFor(/^\[SEARCH\] 1 found for "noon"$/);
    await tess.waitFor(/^ {2}\[Ann\] meet at the Blue door at noon$/);
  });

  it('a data folder from before search (schema 1) is upgraded, and its old messages are found', async () => {
    const data = mkdtempSync(join(tmpdir(), 'chatty-search-'));
    // Schema 1 as the first version wrote it, with one message in it.
    const db = new Database(join(data, 'chatty.db'));
    db.exec(`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE events (id TEXT PRIMARY KEY, clock INTEGER NOT NULL, origin TEXT NOT NULL, body TEXT NOT NULL);
      CREATE INDEX events_order ON events (clock, origin);
      CREATE TABLE peers (url TEXT PRIMARY KEY);
      PRAGMA application_id = ${0x43687479}; PRAGMA user_version = 1;`);
    const old = {
      type: 'message',
      name: 'Old',
      text: 'written before search existed',
      id: 'abcdefabcdefabcd-1',
      origin: 'abcdefabcdefabcd',
      seq: 1,
      clock: 1,
      server: 'wss://127.0.0.1:9',
      ts: 1,
    };
    db.run('INSERT INTO events (id, clock, origin, body) VALUES (?, ?, ?, ?)', [old.id, 1, old.origin, JSON.stringify(old)]);
    db.close();
    const node = await startNode({ data });
    const ann = await RawSocket.join(node.url, 'Ann');
    ann.send({ type: 'search_req', query: 'before search' });
    expect(texts(await ann.next((f) => f.type === 'search_results'))).toEqual(['written before search existed']);
  });

  it('a server without a data folder searches the history it holds in memory', async () => {
    const node = await startNode();
    const ann = await RawSocket.join(node.url, 'Ann');
    ann.send({ type: 'send', name: 'Ann', text: 'kept in memory only' });
    await ann.next((f) => f.type === 'message');
    ann.send({ type: 'search_req', query: 'MEMORY' });
    expect(texts(await ann.next((f) => f.type === 'search_results'))).toEqual(['kept in memory only']);
  });

  describe.skipIf(!hasChromium)('in the page', () => {
    const browser = chromiumForFile();

    it('the search box lists matches with the words marked; a click opens the conversation at the message', async () => {
      const node = await startNode({ data: mkdtempSync(join(tmpdir(), 'chatty-search-')), httpHandler: staticFiles(pageDir) });
      const page = await joinInBrowser(browser(), pageOf(node.url), 'Ann');
      const bob = await RawSocket.join(node.url, 'Bob');
      bob.send({ type: 'send', name: 'Bob', text: 'the quarterly report is late', to: 'Ann' });
      await say(page, 'lunch at noon?');
      await page.getByTestId('message').filter({ hasText: 'lunch at noon?' }).waitFor();
      await page.getByTestId('search').fill('report');
      await page.getByTestId('search').press('Enter');
      const result = page.getByTestId('search-result');
      await result.waitFor();
      expect(await result.locator('mark').textContent()).toBe('report');
      await screenshot(page, 'search-results');
      await result.click();
      await page.getByTestId('conversation-title').waitFor(); // the direct messages with Bob
      await page.getByTestId('message').filter({ hasText: 'the quarterly report is late' }).waitFor();
      expect(await page.getByTestId('search-results').count()).toBe(0);
    });
  });
});
