// The benchmark still runs end to end (a tiny load): it prints the side-by-side table, the ratios
// and writes its results. No assertion on speed: figures are for people, not for tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('npm run bench', () => {
  it('prints Chatty side by side with raw ws and socket.io, with ratios, and writes results', () => {
    const out = mkdtempSync(join(tmpdir(), 'chatty-bench-'));
    const run = spawnSync(
      process.execPath,
      [
        'bench/run.mjs',
        '--clients',
        '20',
        '--senders',
        '4',
        '--rate',
        '20',
        '--duration',
        '1',
        '--failover',
        '10',
        '--storm',
        '50',
        '--overload',
        '200',
        '--out',
        out,
      ],
      {
        encoding: 'utf8',
        timeout: 140_000,
      },
    );
    expect(run.status, run.stderr).toBe(0);
    for (const label of [
      'Chatty, 1 node',
      'Chatty, 1 node, history in SQLite',
      'Chatty, 3 replicated nodes',
      'raw ws',
      'raw ws, batched per turn',
      'socket.io',
    ]) {
      expect(run.stdout).toMatch(new RegExp(`^\\| ${label.replace(/[()]/g, '\\$&')} \\|`, 'm'));
    }
    expect(run.stdout).toContain('Chatty, 1 node / raw ws, deliveries/s at 20 msg/s:');
    expect(run.stdout).toContain('Chatty, 1 node / socket.io, deliveries/s at 20 msg/s:');
    expect(run.stdout).toContain('history in SQLite / in memory, server CPU per delivery at 20 msg/s:');
    expect(run.stdout).toContain('Chatty, 1 node / raw ws, batched per turn, deliveries/s at 20 msg/s:');
    expect(run.stdout).toMatch(/^\| 50 \| [\d.]+ \| [\d.]+ \| [\d.]+× \| [\d.]+×, [\d.]+×, [\d.]+× \| [\d.]+ MB \| [\d.]+ \|$/m); // the join storm row: the median of three pairs, and each
    expect(run.stdout).toContain('Chatty, 1 node / raw ws, batched per turn, deliveries/s under overload (200 msg/s):');
    expect(run.stdout).toContain('| deliveries/s at 200 msg/s (overload) | lost (overload) |');
    expect(run.stdout).not.toContain('Infinity');
    expect(run.stdout).toMatch(
      /^Failover: 10 clients of a SIGKILLed server resumed on the other \(10 of 10\), time to resume after noticing p50 \d+ ms, p99 \d+ ms; \d+ messages acked during it, lost 0, doubled 0\.$/m,
    );
    const json = readdirSync(out).find((f) => f.endsWith('.json'))!;
    const { rows } = JSON.parse(readFileSync(join(out, json), 'utf8')) as { rows: Array<{ server: string; lost: number; sent: number }> };
    // ngircd is measured where it is installed (apt install ngircd), and said to be missing where not.
    const ngircd = existsSync('/usr/sbin/ngircd');
    expect(rows.map((r) => r.server)).toEqual(['chatty', 'chattydisk', 'chatty3', 'raw', 'rawbatched', 'socketio', ...(ngircd ? ['ngircd'] : [])]);
    if (ngircd) expect(run.stdout).toContain('Chatty, 1 node / ngircd (C, IRC), deliveries per CPU-second under overload:');
    else expect(run.stderr).toContain('ngircd: not installed, not measured (apt install ngircd)');
    for (const row of rows) {
      expect(row.sent).toBeGreaterThan(0);
      expect(row.lost).toBe(0); // every message reached every client
    }
  }, 150_000);
});
