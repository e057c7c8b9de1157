#!/usr/bin/env node
// How long `npm start` takes to reach "hosting" (the server listening), twice in a row: the first
// may install and build, the second on an unchanged checkout must be quick (#27: under 5 s). A
// script that prints figures, not a timed test. Its server listens on 127.0.0.1, on a free port,
// with its own HOME, and is stopped (Ctrl-C, the seminar's disconnect) once it listens.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function startOnce() {
  const home = mkdtempSync(join(tmpdir(), 'chatty-start-'));
  const began = performance.now();
  const child = spawn('npm', ['start', '--', '--port', '0', '--bind', '127.0.0.1', '--no-mdns', '--no-app'], {
    cwd: root,
    env: { ...process.env, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local/share') },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 10 minutes:\n${out}`)), 600_000);
    const onData = (chunk) => {
      out += chunk;
      if (!/Chatty server listening on/.test(out)) return;
      const ms = performance.now() - began;
      clearTimeout(timer);
      process.kill(-child.pid, 'SIGINT');
      child.on('exit', () => resolve({ ms, built: /\[setup\]|tsc/.test(out) }));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

const first = await startOnce();
const second = await startOnce();
const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
console.log(`npm start → hosting: first ${s(first.ms)}, second ${s(second.ms)} (${(first.ms / second.ms).toFixed(1)}× quicker; the goal: under 5 s)`);
