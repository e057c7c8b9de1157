// An ack means written: a lone `chatty host` with a data folder, killed (SIGKILL) at the moment of
// an ack, stopped (SIGINT) in the middle of a search flood, or given a full disk (a real tmpfs),
// has every text it acked when it comes back. Real processes, real sockets, a real file system.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Chatty } from './helpers/processes.js';
import { type AnyFrame, RawSocket } from './helpers/sockets.js';

const dataFolder = () => mkdtempSync(join(tmpdir(), 'chatty-data-'));

/** Every text in the newest page a newcomer gets after its welcome. */
async function textsAfterRestart(host: Chatty, name: string): Promise<string[]> {
  const reader = await RawSocket.join(await host.url(), name);
  const history = await reader.next((f) => f.type === 'history');
  reader.ws.close();
  return history.events.flatMap((e: AnyFrame) => (e.type === 'message' ? [e.text] : []));
}

/** A tmpfs of `size` mounted on a new folder, or why not (not root, no mount). */
function mountTmpfs(size: string): { dir: string; unmount: () => void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'chatty-tmpfs-'));
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (mounted.status !== 0) return `cannot mount a tmpfs here (${(mounted.stderr || mounted.error?.message || 'mount failed').trim()})`;
  return { dir, unmount: () => void spawnSync('umount', ['-l', dir]) };
}

/** Write zeros to `file` until the disk says it is full. */
function fillDisk(file: string): void {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    // the last, partial chunks: down to single bytes
    for (let size = 32 * 1024; size >= 1; size >>= 1) {
      try {
        for (;;) writeSync(fd, chunk.subarray(0, size));
      } catch {
        // full at this size; try a smaller one
      }
    }
  } finally {
    closeSync(fd);
  }
}

describe('an ack means written', () => {
  it('a lone host killed at the moment of an ack, 20 times, restarts with every text it acked', async () => {
    const data = dataFolder();
    let acked: string[] = [];
    for (let round = 1; round <= 21; round++) {
      const host = new Chatty(['host', '--port', '0', '--data', data]);
      const url = await host.url();
      // What the last round's host acked before it was killed is all here.
      if (round > 1) expect(await textsAfterRestart(host, `Reader${round}`)).toEqual(expect.arrayContaining(acked));
      if (round === 21) break;
      const ann = await RawSocket.join(url, `Ann${round}`);
      const texts = Array.from({ length: 30 }, (_, i) => `r${round}-t${i + 1}`);
      const killAt = 1 + ((round * 7) % 30); // a different moment each round
      const acks: string[] = [];
      ann.ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as AnyFrame;
        if (frame.type !== 'ack') return;
        acks.push(frame.cid);
        if (acks.length === killAt) host.child.kill('SIGKILL');
      });
      for (const [i, text] of texts.entries()) ann.send({ type: 'send', name: `Ann${round}`, text, cid: `c${i + 1}` });
      await host.exited();
      // Acks already on their way when the signal landed count too: the server sent them.
      await new Promise((resolve) => setTimeout(resolve, 50));
      acked = acks.map((cid) => texts[Number(cid.slice(1)) - 1]!);
      expect(acked.length).toBeGreaterThanOrEqual(killAt);
    }
  }, 120_000);

  it('a clean stop in the middle of a search flood writes every acked text and stops at once', async () => {
    const data = dataFolder();
    const host = new Chatty(['host', '--port', '0', '--data', data]);
    const url = await host.url();
    // Two senders, 55 texts each: within what the rate limit lets one client send at once.
    const texts = Array.from({ length: 110 }, (_, i) => `needle ${i + 1} in the haystack`);
    const senders = await Promise.all(['Ann', 'Bea'].map((name) => RawSocket.join(url, name)));
    for (const [i, text] of texts.entries()) senders[i % 2]!.send({ type: 'send', name: i % 2 ? 'Bea' : 'Ann', text, cid: `c${i + 1}` });
    await Promise.all(senders.map((s, i) => s.next((f) => f.type === 'ack' && f.cid === `c${109 + i}`, 10_000)));
    // Eight members ask as fast as the rate limit lets them.
    const searchers = await Promise.all(Array.from({ length: 8 }, (_, i) => RawSocket.join(url, `Seeker${i + 1}`)));
    for (const s of searchers) for (let i = 0; i < 40; i++) s.send({ type: 'search_req', query: `needle ${i} haystack`, limit: 100 });
    await searchers[0]!.next((f) => f.type === 'search_results');
    expect(await host.kill('SIGINT')).toBe(0);
    expect(host.stderr.join('\n')).not.toMatch(/did not finish|not written/);
    const again = new Chatty(['host', '--port', '0', '--data', data]);
    expect(await textsAfterRestart(again, 'Reader')).toEqual(expect.arrayContaining(texts));
  }, 60_000);

  it('a full data disk refuses new sends with STORE_FULL, loses none it acked, and goes on when space is freed', async (ctx) => {
    const disk = mountTmpfs('4m');
    if (typeof disk === 'string') {
      console.log(`SKIP: full-disk test: ${disk}`);
      return ctx.skip();
    }
    try {
      const data = join(disk.dir, 'data');
      const host = new Chatty(['host', '--port', '0', '--data', data]);
      const ann = await RawSocket.join(await host.url(), 'Ann');
      const send = (cid: string, text: string) => ann.send({ type: 'send', name: 'Ann', text, cid });
      const ackOf = (cid: string, timeoutMs = 5_000) => ann.next((f) => f.type === 'ack' && f.cid === cid, timeoutMs);
      send('before', 'written before the disk filled');
      await ackOf('before');

      const filler = join(disk.dir, 'filler');
      fillDisk(filler);
      // Texts big enough to need new pages: their commit fails; they are held and tried again.
      const big = 'x'.repeat(3000);
      for (let i = 1; i <= 3; i++) send(`held${i}`, `${big} held ${i}`);
      await host.waitFor(/disk I\/O error: the data disk is full.*could not write the chat history/, 'stderr');
      // Known to fail now: what comes is refused, not taken.
      for (let i = 1; i <= 3; i++) send(`refused${i}`, `${big} refused ${i}`);
      const refused = await ann.nextError('STORE_FULL');
      expect(refused.message).toMatch(/cannot save messages right now/);
      // (The first held text may have fit in the file's last page and been acked: the rest wait.)
      expect(ann.frames.filter((f) => f.type === 'ack' && ['held3', 'refused1', 'refused2', 'refused3'].includes(f.cid))).toEqual([]);
      expect(ann.frames.filter((f) => f.type === 'message' && String(f.cid).startsWith('refused'))).toEqual([]);

      rmSync(filler);
      // What was held is written and acked now; the refused ones go again and are taken.
      for (let i = 1; i <= 3; i++) await ackOf(`held${i}`, 10_000);
      await host.waitFor(/the chat history is written again/, 'stderr');
      for (let i = 1; i <= 3; i++) send(`refused${i}`, `${big} refused ${i}`);
      send('held1', `${big} held 1`); // a resend of one already taken is acked again, not doubled
      for (let i = 1; i <= 3; i++) await ackOf(`refused${i}`);
      await ann.until(() => ann.frames.filter((f) => f.type === 'ack' && f.cid === 'held1').length === 2 || undefined, 5_000, "held1's second ack");
      send('after', 'written after space was freed');
      await ackOf('after');

      await host.kill('SIGKILL');
      const again = new Chatty(['host', '--port', '0', '--data', data]);
      const texts = await textsAfterRestart(again, 'Reader');
      expect(texts).toEqual([
        'written before the disk filled',
        ...[1, 2, 3].map((i) => `${big} held ${i}`),
        ...[1, 2, 3].map((i) => `${big} refused ${i}`),
        'written after space was freed',
      ]);
      await again.kill('SIGINT');
    } finally {
      disk.unmount();
    }
  }, 60_000);
});
