// LAN discovery over mDNS, for real, inside a network namespace this test makes (its own loopback
// with multicast on), so no packet leaves the machine.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ns = `chatty-mdns-${process.pid}`;
const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const canMakeNamespace = process.getuid?.() === 0 && ip('netns', 'add', ns).status === 0 && ip('netns', 'del', ns).status === 0;

/** Run a fixture in a network namespace of its own (loopback with multicast); each JSON line it prints is a list seen. */
function inNamespace(fixture: string, timeout: number): { lists: Array<Array<{ name: string; url: string; buddies: number }>>; stderr: string } {
  ip('netns', 'add', ns);
  try {
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up', 'multicast', 'on');
    ip('netns', 'exec', ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
    const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, fixture], { encoding: 'utf8', timeout });
    const lists = run.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Array<{ name: string; url: string; buddies: number }>);
    return { lists, stderr: run.stderr };
  } finally {
    ip('netns', 'del', ns);
  }
}
if (!canMakeNamespace) console.log('SKIP: discovery test: needs root and `ip netns` to make a private network for multicast');

describe.skipIf(!canMakeNamespace)('LanDiscovery', () => {
  it('finds an advertised host, follows its buddy count, and sees it go; it says TLS and invite, never the invite', () => {
    const { lists } = inNamespace('test/fixtures/discovery-pair.mjs', 20_000);
    const seen = lists.flat();
    expect(seen[0]).toEqual({ name: expect.stringMatching(/^Ann on /), url: 'wss://127.0.0.1:4999', buddies: 2, needsInvite: true });
    expect(seen.some((h) => h.buddies === 3)).toBe(true);
    expect(lists.at(-1)).toEqual([]);
  });

  it('`chatty host --bind 0.0.0.0` advertises as the app does, and says goodbye when it stops', () => {
    const { lists, stderr } = inNamespace('test/fixtures/discover-cli-host.mjs', 25_000);
    expect(lists.flat()[0], stderr).toMatchObject({ url: expect.stringMatching(/^wss:\/\/[\d.]+:4998$/), buddies: 0, needsInvite: false });
    expect(lists.at(-1)).toEqual([]);
  });
});
