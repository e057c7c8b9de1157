// The bench's child processes: servers and the load generator, each speaking JSON lines on stdout.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** SIGTERM a server process; resolves once it has exited. */
export function stopChild(child) {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', r);
    child.kill('SIGTERM');
  });
}

/** A child process whose stdout is JSON lines. */
export function jsonProcess(args, nodeFlags = [], env = {}) {
  const child = spawn(process.execPath, [...nodeFlags, ...args], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const queue = [];
  const waiting = [];
  const proc = {
    child,
    /** How many servers this node sees (Chatty nodes report it on every change). */
    servers: 0,
    next: () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiting.push(r))),
    send: (obj) => child.stdin.write(`${JSON.stringify(obj)}\n`),
    stop: () => stopChild(child),
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.servers !== undefined) {
      proc.servers = msg.servers;
      return;
    }
    const w = waiting.shift();
    if (w) w(msg);
    else queue.push(msg);
  });
  return proc;
}
