// The set's history: what a late joiner sees, older pages on request, a restart with the same data
// folder, and data folders that cannot be used. Real nodes and real `chatty host` processes.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Database } from 'node-sqlite3-wasm';
import { Chatty } from './helpers/processes.js';
import { NO_RATE_LIMITS, startNode } from './helpers/nodes.js';
import { download, upload } from './helpers/files.js';
import { RawSocket } from './helpers/sockets.js';

const dataFolder = () => mkdtempSync(join(tmpdir(), 'chatty-data-'));

describe('history', () => {
  it('a late joiner gets the latest 200 events after its welcome, and older pages on request', async () => {
    const node = await startNode(NO_RATE_LIMITS);
    const ann = await RawSocket.join(node.url, 'Ann');
    for (let i = 1; i <= 300; i++) ann.send({ type: 'send', name: 'Ann', text: `m${i}` });
    await ann.next((f) => f.type === 'message' && f.text === 'm300');
    const late = await RawSocket.join(node.url, 'Late');
    const first = await late.next((f) => f.type === 'history');
    await late.next((f) => f.type === 'join' && f.name === 'Late'); // its own join, with the others of that moment
    expect(late.frames.map((f) => f.type).slice(0, 4)).toEqual(['hello', 'welcome', 'history', 'join']);
    expect(first.events).toHaveLength(200);
    expect(first.events.at(-1).text).toBe('m300');
    expect(first.more).toBe(true);
    late.send({ type: 'history_req', before: first.events[0].id, limit: 500 });
    const older = await late.next((f) => f.type === 'history' && f.page === true);
    // Ann's join and her first 100 messages, in order, and nothing older.
    expect(older.events.map((e: { text?: string; type: string }) => e.text ?? e.type)).toEqual(['join', ...Array.from({ length: 100 }, (_, i) => `m${i + 1}`)]);
    expect(older.more).toBe(false);
  });

  it('presence toggled 10,800 times leaves the messages and their files in the history, before and after a restart', async () => {
    const data = dataFolder();
    const node = await startNode({ ...NO_RATE_LIMITS, data, insecure: true });
    const ann = await RawSocket.join(node.url, 'Ann');
    for (let i = 1; i <= 50; i++) ann.send({ type: 'send', name: 'Ann', text: `m${i}`, cid: `c${i}` });
    await ann.next((f) => f.type === 'ack' && f.cid === 'c50');
    const sent = await upload(ann, Buffer.from('the plan'), { name: 'plan.txt', cid: 'file' });
    expect(sent.status).toBe(201);
    // Someone toggles away and back, 10,800 times (an hour of it at three a second).
    const toggler = await RawSocket.join(node.url, 'Toggler');
    for (let i = 0; i < 10_800; i++) toggler.send({ type: 'set_status', status: i % 2 ? 'available' : 'away' });
    toggler.send({ type: 'send', name: 'Toggler', text: 'done', cid: 'done' });
    await toggler.next((f) => f.type === 'ack' && f.cid === 'done', 30_000);
    const kept = async (url: string, name: string) => {
      const reader = await RawSocket.join(url, name);
      await reader.next((f) => f.type === 'history');
      reader.send({ type: 'history_req', limit: 500 });
      const seen: Array<{ type: string; text?: string; file?: { name: string }; id: string }> = [];
      const pages = new Set<object>();
      const nextPage = () => reader.next((f) => f.type === 'history' && f.page === true && !pages.has(f));
      for (let page = await nextPage(); ; page = await nextPage()) {
        pages.add(page);
        seen.unshift(...page.events);
        if (!page.more) break;
        reader.send({ type: 'history_req', before: page.events[0].id, limit: 500 });
      }
      return { reader, seen };
    };
    const before = await kept(node.url, 'Reader');
    expect(before.seen.filter((e) => e.type === 'message').map((e) => e.text)).toEqual([...Array.from({ length: 50 }, (_, i) => `m${i + 1}`), 'done']);
    const fileEvent = before.seen.find((e) => e.type === 'file')!;
    expect(fileEvent.file?.name).toBe('plan.txt');
    expect((await download(before.reader, fileEvent.id)).body.toString()).toBe('the plan');
    // Changes a second apart at most: the toggles were coalesced, the last one asked for counts.
    expect(before.seen.filter((e) => e.type === 'presence').length).toBeLessThan(10);
    await toggler.next((f) => f.type === 'presence' && f.name === 'Toggler' && f.status === 'available', 5_000);
    // The file forgot what the history let go of, and kept the rest.
    await node.disconnect();
    const again = await startNode({ data, insecure: true });
    const after = await kept(again.url, 'Later');
    expect(after.seen.filter((e) => e.type === 'message').map((e) => e.text)).toHaveLength(51);
    expect((await download(after.reader, fileEvent.id)).body.toString()).toBe('the plan');
    expect(after.seen.filter((e) => e.type !== 'message' && e.type !== 'file').length).toBeLessThanOrEqual(2_000 + 5);
  }, 120_000);

  it('a host restarted with the same data folder has its history and its identity back', async () => {
    const data = dataFolder();
    const first = new Chatty(['host', '--port', '0', '--data', data]);
    const url = await first.url();
    const ann = await RawSocket.join(url, 'Ann');
    ann.send({ type: 'send', name: 'Ann', text: 'remember me', cid: 'c1' });
    const sent = await ann.next((f) => f.type === 'ack');
    await first.kill('SIGINT');
    // What a process killed in the middle of a commit leaves: SQLite's lock directory. Stale.
    mkdirSync(`${data}/chatty.db.lock`);
    const again = new Chatty(['host', '--port', '0', '--data', data]);
    const bob = await RawSocket.join(await again.url(), 'Bob');
    const history = await bob.next((f) => f.type === 'history');
    // No leave for Ann: a stopping server's clients move on to another server, as themselves.
    expect(history.events.map((e: { type: string; text?: string }) => e.text ?? e.type)).toEqual(['join', 'remember me']);
    // The same origin goes on counting: the next event continues its sequence.
    const join = await bob.next((f) => f.type === 'join' && f.name === 'Bob');
    expect(join.origin).toBe(sent.id.split('-')[0]);
    expect(join.seq).toBeGreaterThan(Number(sent.id.split('-')[1]));
  });

  it('a damaged, foreign or busy data folder is a clear error, never a crash', async () => {
    const damaged = dataFolder();
    writeFileSync(join(damaged, 'chatty.db'), 'this is not a database at all, just some text'.repeat(200));
    const foreign = dataFolder();
    const db = new Database(join(foreign, 'chatty.db'));
    db.exec('CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)');
    db.close();
    for (const [folder, message] of [
      [damaged, /^chatty: cannot read the chat history at .*chatty\.db: file is not a database$/],
      [foreign, /^chatty: .*chatty\.db is an SQLite file of another program, not Chatty's history/],
    ] as const) {
      const host = new Chatty(['host', '--port', '0', '--data', folder]);
      expect(await host.exited()).toBe(1);
      expect(host.stderr).toEqual([expect.stringMatching(message)]);
    }
    const busy = dataFolder();
    const owner = new Chatty(['host', '--port', '0', '--data', busy]);
    await owner.url();
    const second = new Chatty(['host', '--port', '0', '--data', busy]);
    expect(await second.exited()).toBe(1);
    expect(second.stderr.join('\n')).toMatch(/is in use by another Chatty server \(pid \d+\)/);
  });
});
