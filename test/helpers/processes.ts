// Real `chatty` processes (bin/chatty.js, as users run it), with their output read line by line.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach } from 'vitest';
import { Waiters } from './waiters.js';

export const CHATTY_BIN = fileURLToPath(new URL('../../bin/chatty.js', import.meta.url));
const running = new Set<Chatty>();

afterEach(async () => {
  const all = [...running].reverse();
  running.clear();
  await Promise.all(all.map((p) => p.kill('SIGKILL')));
});

export class Chatty {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  exitCode: number | null | undefined;
  readonly #exited: Promise<number | null>;
  readonly #waiters = new Waiters();

  constructor(
    readonly args: string[],
    env: Record<string, string> = {},
  ) {
    // Its own config and data folders: certificates a terminal client trusts on first use, and a
    // host's default data folder (per port), are not shared between tests (ports are reused).
    const home = mkdtempSync(join(tmpdir(), 'chatty-home-'));
    const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [CHATTY_BIN, ...args], {
      env: { ...process.env, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), ...env },
    });
    this.child = child;
    running.add(this);
    collectLines(child.stdout, this.stdout, () => this.#wake());
    collectLines(child.stderr, this.stderr, () => this.#wake());
    this.#exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        running.delete(this);
        this.#wake();
        resolve(this.exitCode);
      });
    });
  }

  readonly child: ChildProcessWithoutNullStreams;

  /** Type a line on its standard input. */
  type(line: string): void {
    this.child.stdin.write(`${line}\n`);
  }

  endInput(): void {
    this.child.stdin.end();
  }

  /** Wait for a line on stdout (or stderr with `from`) matching `pattern`; returns it. */
  waitFor(pattern: RegExp, from: 'stdout' | 'stderr' = 'stdout', timeoutMs = 10_000): Promise<string> {
    const lines = from === 'stdout' ? this.stdout : this.stderr;
    return this.#waiters.until(
      () => lines.find((l) => pattern.test(l)),
      timeoutMs,
      () =>
        `chatty ${this.args.join(' ')}: no ${from} line like ${pattern} in ${timeoutMs} ms.\nstdout: ${this.stdout.join('\n')}\nstderr: ${this.stderr.join('\n')}`,
    );
  }

  /** The URL a `chatty host` printed. */
  async url(): Promise<string> {
    const line = await this.waitFor(/listening on wss?:\/\//);
    return /(wss?:\/\/\S+)/.exec(line)![1]!;
  }

  /** The invite link a `chatty host` printed (chatty://…). */
  async invite(): Promise<string> {
    const line = await this.waitFor(/^ {2}chatty(\+ws)?:\/\//);
    return line.trim();
  }

  /** The server invite a `chatty host` printed (`Server invite: chatty://…#server-invite=…`): what `--join` takes. */
  async serverInvite(): Promise<string> {
    const line = await this.waitFor(/^Server invite: /);
    return line.slice('Server invite: '.length).trim();
  }

  /** The server invite's code a `chatty host` printed. */
  async serverInviteCode(): Promise<string> {
    return /#server-invite=([\w-]+)/.exec(await this.serverInvite())![1]!;
  }

  /** The invite code a `chatty host` printed. */
  async inviteCode(): Promise<string> {
    return /#invite=([\w-]+)/.exec(await this.invite())![1]!;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  async kill(signal: NodeJS.Signals): Promise<number | null> {
    if (this.exitCode === undefined) this.child.kill(signal);
    return this.#exited;
  }

  #wake(): void {
    this.#waiters.wake();
  }
}

function collectLines(stream: NodeJS.ReadableStream, into: string[], onLine: () => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    into.push(...parts);
    onLine();
  });
}

/** Two `chatty host` processes on free ports, the second a replica that joined with the first's server invite. */
export async function hostAndReplica(): Promise<{ a: Chatty; aUrl: string; b: Chatty; bUrl: string; invite: string }> {
  const a = new Chatty(['host', '--port', '0']);
  const aUrl = await a.url();
  const invite = await a.invite();
  const b = new Chatty(['host', '--port', '0', '--join', await a.serverInvite()]);
  const bUrl = await b.url();
  await b.waitFor(/^\[SERVER UPDATE\] \[wss:\/\/[^,]+,wss:\/\/[^,]+\]$/);
  return { a, aUrl, b, bUrl, invite };
}
