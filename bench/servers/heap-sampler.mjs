// Loaded with `--import` before a bench server: V8's sampling heap profiler, on from the start.
// HEAP_SAMPLER=dead also keeps the samples of objects a major GC collected (promoted to the old
// space, then dead); otherwise only what is still alive counts. {"cmd":"heap-profile"} on stdin (JSON
// lines, as the load generator takes its commands) prints the profile as one JSON line, {"heapProfile": …}.
import { Session } from 'node:inspector/promises';
import { createInterface } from 'node:readline';

const session = new Session();
session.connect();
await session.post('HeapProfiler.startSampling', {
  samplingInterval: 4096,
  includeObjectsCollectedByMajorGC: process.env.HEAP_SAMPLER === 'dead',
  includeObjectsCollectedByMinorGC: false,
});
createInterface({ input: process.stdin }).on('line', async (line) => {
  if (JSON.parse(line).cmd !== 'heap-profile') return;
  const { profile } = await session.post('HeapProfiler.stopSampling');
  console.log(JSON.stringify({ heapProfile: profile }));
});
