// LAN discovery over mDNS, for real, inside a network namespace this test makes (its own loopback
// with multicast on), so no packet leaves the machine.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const ns = `chatty-mdns-${process.pid}`;
const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const canMakeNamespace = process.getuid?.() === 0 && ip('netns', 'add', ns).status === 0;
if (!canMakeNamespace) console.log('SKIP: discovery test: needs root and `ip netns` to make a private network for multicast');

describe.skipIf(!canMakeNamespace)('LanDiscovery', () => {
  it('finds an advertised host, follows its buddy count, and sees it go; it says TLS and invite, never the invite', () => {
    try {
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up', 'multicast', 'on');
      ip('netns', 'exec', ns, 'ip', 'route', 'add', '224.0.0.0/4', 'dev', 'lo');
      const run = spawnSync('ip', ['netns', 'exec', ns, process.execPath, 'test/fixtures/discovery-pair.mjs'], { encoding: 'utf8', timeout: 20_000 });
      const lists = run.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Array<{ name: string; url: string; buddies: number }>);
      const seen = lists.flat();
      expect(seen[0]).toEqual({ name: expect.stringMatching(/^Ann on /), url: 'wss://127.0.0.1:4999', buddies: 2, needsInvite: true });
      expect(seen.some((h) => h.buddies === 3)).toBe(true);
      expect(lists.at(-1)).toEqual([]);
    } finally {
      ip('netns', 'del', ns);
    }
  });
});
