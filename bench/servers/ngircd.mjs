// Reference "ngircd": the C IRC server people run for LAN chat (Debian package ngircd), one
// channel that every client joins. It is a native process, not a Node one: the bench starts it
// itself and reads its memory, CPU and writes from /proc like the others (no heap figure).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY = '/usr/sbin/ngircd';

/** ngircd's version line, or undefined when it is not installed (`apt install ngircd`). */
export function ngircdVersion() {
  const run = spawnSync(BINARY, ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.split('\n')[0] : undefined;
}

/** A free port on 127.0.0.1 (ngircd cannot be told to pick one). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Start ngircd on 127.0.0.1 with the limits that would measure something else lifted: any number
 * of connections from one address, no flood penalties (the generator sends hundreds of lines a
 * second), no DNS or ident lookups. Resolves with the process and its irc:// address.
 */
export async function startNgircd() {
  const dir = mkdtempSync(join(tmpdir(), 'chatty-bench-ngircd-'));
  const port = await freePort();
  const config = join(dir, 'ngircd.conf');
  writeFileSync(
    config,
    [
      '[Global]',
      'Name = bench.chatty.invalid',
      'Info = Chatty bench reference',
      'Listen = 127.0.0.1',
      `Ports = ${port}`,
      `PidFile = ${join(dir, 'ngircd.pid')}`,
      'MotdPhrase = bench',
      '[Limits]',
      'MaxConnections = 0',
      'MaxConnectionsIP = 0',
      'MaxPenaltyTime = 0',
      'PingTimeout = 600',
      'PongTimeout = 600',
      '[Options]',
      'DNS = no',
      'Ident = no',
      'PAM = no',
      '',
    ].join('\n'),
  );
  const child = spawn(BINARY, ['--nodaemon', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `irc://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 50))) {
    if (child.exitCode !== null) throw new Error(`ngircd exited (${child.exitCode}) before listening`);
    if (await accepts(port)) break;
    if (Date.now() > deadline) throw new Error('ngircd did not listen within 10 s');
  }
  return { child, url };
}

function accepts(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
