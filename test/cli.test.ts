// The `chatty` command as users run it: real processes, real sockets, stdin and stdout.
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Chatty, CHATTY_BIN } from './helpers/processes.js';
import { startNode } from './helpers/nodes.js';
import { peerEvent, RawSocket } from './helpers/sockets.js';

/** Each host's invite link, by its address: clients join with it, as people given the link do. */
const invites = new Map<string, string>();

async function host(...args: string[]): Promise<[Chatty, string]> {
  const p = new Chatty(['host', '--port', '0', ...args]);
  const url = await p.url();
  invites.set(url, await p.invite());
  return [p, url];
}

async function client(url: string, name: string): Promise<Chatty> {
  const p = new Chatty(['client', invites.get(url) ?? url, name, '--give-up', '1']);
  await p.waitFor(new RegExp(`^\\[JOIN\\] ${name} joined the chat$`));
  return p;
}

const serversLine = (urls: string[]) => `[SERVER UPDATE] [${[...urls].sort().join(',')}]`;

describe('chatty (command line)', () => {
  it('gives the seminar transcript: join, messages, leave with exit', async () => {
    const [, url] = await host();
    const john = await client(url, 'John');
    const mary = await client(url, 'Mary');
    await john.waitFor(/^\[JOIN\] Mary joined the chat$/);
    john.type('hi!');
    await john.waitFor(/^\[John\] hi!$/);
    await mary.waitFor(/^\[John\] hi!$/);
    mary.type('exit');
    expect(await mary.exited()).toBe(0);
    // Mary joined after John: the chat's recent history comes first, in the same format.
    expect(mary.stdout).toEqual(['[JOIN] John joined the chat', '[JOIN] Mary joined the chat', '[John] hi!', '[LEAVE] Mary left the chat']);
    await john.waitFor(/^\[LEAVE\] Mary left the chat$/);
    john.endInput(); // end of input leaves like `exit`
    expect(await john.exited()).toBe(0);
    expect(john.stderr).toEqual([]);
  });

  it('answers /help, /quit and unknown /commands itself, never sending them; marks mentions', async () => {
    const [, url] = await host();
    const old = await RawSocket.join(url, 'Old');
    const john = await client(url, 'John');
    john.type('/help');
    await john.waitFor(/^ {2}\/msg NAME text/);
    john.type('/shrug');
    await john.waitFor(/^chatty: unknown command \/shrug: \/help lists them/, 'stderr');
    john.type('//shrug is a text');
    await john.waitFor(/^\[John\] \/shrug is a text$/);
    old.send({ type: 'send', name: 'Old', text: 'hey @John, look' });
    await john.waitFor(/^\[Old\] hey @John, look {2}<- mentions you$/);
    john.type('/quit');
    expect(await john.exited()).toBe(0);
    const texts = old.frames.filter((f) => f.type === 'message').map((f) => f.text);
    expect(texts).toEqual(['/shrug is a text', 'hey @John, look']);
  });

  it('history from an earlier day comes under a line naming that day', async () => {
    const [h, url] = await host();
    const fake = 'ws://127.0.0.1:9';
    const peer = await RawSocket.peer(url, fake, await h.serverInviteCode());
    const yesterday = new Date(Date.now() - 24 * 60 * 60_000);
    peer.send({ type: 'backfill', events: [peerEvent({ type: 'message', name: 'Ann', text: 'said yesterday', server: fake, ts: yesterday.getTime() })] });
    await new Promise((r) => setTimeout(r, 200));
    const john = await client(url, 'John');
    const day = `${yesterday.getFullYear()}-${String(yesterday.getMonth() + 1).padStart(2, '0')}-${String(yesterday.getDate()).padStart(2, '0')}`;
    expect(john.stdout.slice(0, 4)).toEqual([`--- ${day} ---`, '[Ann] said yesterday', '--- today ---', '[JOIN] John joined the chat']);
  });

  it('a bad CHATTY_LOG_LEVEL is one line and exit 2; an empty one is the default', async () => {
    const bad = new Chatty(['host', '--port', '0'], { CHATTY_LOG_LEVEL: 'verbose' });
    expect(await bad.exited()).toBe(2);
    expect(bad.stderr.filter((l) => !l.startsWith('Run "chatty help"'))).toEqual([
      'chatty: CHATTY_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (not "verbose")',
    ]);
    const empty = new Chatty(['host', '--port', '0'], { CHATTY_LOG_LEVEL: '' });
    await empty.url();
  });

  it('shows the "-> " prompt in a real terminal', async () => {
    if (spawnSync('tmux', ['-V']).status !== 0) {
      console.log('SKIP: tmux is not installed; the prompt test needs a terminal');
      return;
    }
    const [, url] = await host();
    const session = `chatty-test-${process.pid}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '100', '-y', '10', process.execPath, CHATTY_BIN, 'client', url, 'John']);
    try {
      const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      const waitScreen = async (text: string) => {
        for (let i = 0; i < 100 && !screen().includes(text); i++) await new Promise((r) => setTimeout(r, 50));
        return screen();
      };
      expect(await waitScreen('->')).toContain('[JOIN] John joined the chat');
      execFileSync('tmux', ['send-keys', '-t', session, 'hi!', 'Enter']);
      const after = await waitScreen('[John] hi!');
      expect(after.split('\n').map((l) => l.trimEnd())).toEqual(expect.arrayContaining(['[JOIN] John joined the chat', '-> hi!', '[John] hi!', '->']));
    } finally {
      spawnSync('tmux', ['kill-session', '-t', session]);
    }
  });

  it('neutralizes control characters in what others send', async () => {
    const node = await startNode();
    const john = await client(node.url, 'John');
    const evil = await RawSocket.join(node.url, 'Evil');
    evil.send({ type: 'send', name: 'Evil', text: 'red\u001b[31m bell\u0007 back\rX' });
    const line = await john.waitFor(/^\[Evil\]/);
    expect(line).toBe('[Evil] red␛[31m bell␇ back␍X');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the assertion is that none are left
    expect(line).not.toMatch(/[\u0000-\u001f]/);
  });

  it('three replicated hosts: clients on each chat across them', async () => {
    const [boot, bootUrl] = await host();
    const [second, secondUrl] = await host('--join', await boot.serverInvite());
    const [third, thirdUrl] = await host('--join', await boot.serverInvite());
    const all = serversLine([bootUrl, secondUrl, thirdUrl]);
    for (const h of [boot, second, third]) await h.waitFor(new RegExp(`^${escapeRegExp(all)}$`));
    const ann = await client(bootUrl, 'Ann');
    const bob = await client(secondUrl, 'Bob');
    const cid = await client(thirdUrl, 'Cid');
    await ann.waitFor(/^\[JOIN\] Cid joined the chat$/);
    ann.type('hello from boot');
    cid.type('hello from third');
    for (const c of [ann, bob, cid]) {
      await c.waitFor(/^\[Ann\] hello from boot$/);
      await c.waitFor(/^\[Cid\] hello from third$/);
    }
  });

  it('a host killed with SIGKILL is dropped by the others; its clients move to another server and go on', async () => {
    const [boot, bootUrl] = await host();
    const [victimHost, victimUrl] = await host('--join', await boot.serverInvite());
    await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl, victimUrl]))}$`));
    const ann = await client(bootUrl, 'Ann');
    const vic = await client(victimUrl, 'Vic');
    await ann.waitFor(/^\[JOIN\] Vic joined the chat$/);
    await victimHost.kill('SIGKILL');
    await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl]))}$`));
    await ann.waitFor(/^\[AWAY\] Vic lost the connection \(reconnecting\)$/);
    await vic.waitFor(new RegExp(`^chatty: reconnected on ${escapeRegExp(bootUrl)}$`), 'stderr');
    await ann.waitFor(/^\[BACK\] Vic is back$/);
    vic.type('still here');
    await ann.waitFor(/^\[Vic\] still here$/);
    expect(ann.stdout.filter((l) => l.includes('Vic left'))).toEqual([]);
  });

  it('a host that stops answering (SIGSTOP) is dropped after a missed heartbeat', async () => {
    const [boot, bootUrl] = await host('--heartbeat', '200');
    const [frozen, frozenUrl] = await host('--join', await boot.serverInvite(), '--heartbeat', '200');
    await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl, frozenUrl]))}$`));
    frozen.child.kill('SIGSTOP');
    try {
      await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl]))}$`));
    } finally {
      frozen.child.kill('SIGCONT');
    }
  });

  it("Ctrl-C on a host is the seminar's disconnect: the others are told, its clients move on", async () => {
    const [boot, bootUrl] = await host();
    const [leaving, leavingUrl] = await host('--join', await boot.serverInvite());
    await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl, leavingUrl]))}$`));
    const lou = await client(leavingUrl, 'Lou');
    expect(await leaving.kill('SIGINT')).toBe(0);
    expect(leaving.stdout).toContain('Server disconnected');
    await boot.waitFor(new RegExp(`^${escapeRegExp(serversLine([bootUrl]))}$`));
    await lou.waitFor(new RegExp(`^chatty: reconnected on ${escapeRegExp(bootUrl)}$`), 'stderr');
    // When no server of the set is left, the client gives up (here after 1 s) and exits 1.
    await boot.kill('SIGINT');
    expect(await lou.exited()).toBe(1);
    expect(lou.stderr.at(-1)).toMatch(/^chatty: connection to the chat lost/);
  });

  describe('errors: one clear line on stderr and a non-zero exit', () => {
    const cases: Array<[string, () => Promise<string[]>, RegExp, number]> = [
      ['server unreachable', async () => ['client', 'ws://127.0.0.1:1', 'John'], /^chatty: cannot reach ws:\/\/127\.0\.0\.1:1: ECONNREFUSED$/, 1],
      [
        'bad URL',
        async () => ['client', 'localhost:4000/admin', 'John'],
        /^chatty: "localhost:4000\/admin" is not a server address \(try 192\.168\.1\.20:4000 or wss:\/\/192\.168\.1\.20:4000\)$/,
        2,
      ],
      ['invalid name', async () => ['client', (await host())[1], 'x'.repeat(40)], /^chatty: name must be at most 32 characters$/, 1],
      [
        'name taken',
        async () => {
          const [, url] = await host();
          await client(url, 'John');
          return ['client', invites.get(url)!, 'John'];
        },
        /^chatty: the name "John" is already taken$/,
        1,
      ],
      [
        'port in use',
        async () => {
          const node = await startNode();
          return ['host', '--port', String(node.port)];
        },
        /^chatty: port \d+ is already in use on 127\.0\.0\.1 \(choose another with --port\)$/,
        1,
      ],
      [
        'join unreachable',
        async () => ['host', '--port', '0', '--join', 'ws://127.0.0.1:1'],
        /^chatty: cannot link to ws:\/\/127\.0\.0\.1:1: ECONNREFUSED$/,
        1,
      ],
      ['bad port', async () => ['host', '--port', 'eighty'], /^chatty: --port: the port must be a number, not "eighty"$/, 2],
      ['unknown command', async () => ['serve'], /^chatty: unknown command "serve"$/, 2],
    ];
    for (const [what, args, message, code] of cases) {
      it(what, async () => {
        const p = new Chatty(await args());
        p.endInput();
        expect(await p.exited()).toBe(code);
        expect(p.stderr[0]).toMatch(message);
        expect(p.stderr.filter((l) => !l.startsWith('Run "chatty help"'))).toHaveLength(1);
      });
    }
  });
});

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
