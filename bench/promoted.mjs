#!/usr/bin/env node
// npm run bench:promoted [-- clients, default 10000]: what a join storm makes the Chatty server
// promote to the old space only to die there — what leaves that space fragmented and an idle
// server's RSS high. Two storms with V8's sampling heap profiler on in the server: one counting
// what is alive at the end, one also counting what major GCs collected. Their difference, by
// allocation site (function, file:line, and two callers), is printed largest first.
// docs/benchmark.md, "One outbox per socket", shows what it found.
import { jsonProcess } from './processes.mjs';

const N = Number(process.argv[2] ?? 10_000);
const log = (line) => process.stderr.write(`${line}\n`);

/** Bytes sampled per allocation site in one storm of N clients. */
async function storm(dead) {
  const server = jsonProcess(['bench/servers/chatty.mjs'], ['--import', './bench/servers/heap-sampler.mjs'], { HEAP_SAMPLER: dead ? 'dead' : 'live' });
  const { url } = await server.next();
  const gen = jsonProcess(['bench/load.mjs', JSON.stringify({ kind: 'chatty', urls: [url], clients: N })]);
  const { joinMs } = await gen.next();
  server.send({ cmd: 'heap-profile' });
  const { heapProfile } = await server.next();
  gen.send({ cmd: 'exit' });
  await gen.stop();
  await server.stop();
  log(`- ${dead ? 'alive and promoted-then-dead' : 'alive'}: ${N} joined in ${(joinMs / 1000).toFixed(2)} s`);
  return bySite(heapProfile);
}

function bySite(profile) {
  const sites = new Map();
  const walk = (node, callers) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const frame = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}:${lineNumber + 1}`;
    const stack = [frame, ...callers];
    if (node.selfSize > 0) {
      const site = stack.slice(0, 3).join(' < ');
      sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
    }
    for (const child of node.children) walk(child, stack);
  };
  walk(profile.head, []);
  return sites;
}

const alive = await storm(false);
const all = await storm(true);
const died = [...all].map(([site, bytes]) => [site, bytes - (alive.get(site) ?? 0)]).sort((a, b) => b[1] - a[1]);
const total = died.reduce((sum, [, bytes]) => sum + Math.max(0, bytes), 0);
console.log(`Promoted, then dead, during a storm of ${N} clients: ${(total / 1e6).toFixed(1)} MB sampled (every 4 KiB). By allocation site:`);
for (const [site, bytes] of died.slice(0, 20)) console.log(`${(bytes / 1e6).toFixed(2).padStart(7)} MB  ${site}`);
