// Greedy members, for the bench (issue #26): N clients of one server that first fill its history,
// then ask for history pages and searches as fast as the frame rate lets them, reading every
// answer. A child process of bench/run.mjs, so that parsing their answers does not slow the
// bystander whose pings the bench times. Args: URL MEMBERS FILL_PER_MEMBER SECONDS.
// Prints one JSON line once the fill is done ({"filled":…}), then one with what was answered.
import WebSocket from 'ws';

const [url, members, fillPerMember, seconds] = [process.argv[2], ...process.argv.slice(3, 6).map(Number)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** A frame's type from its first bytes: pages are megabytes, and only the type is counted. */
const typeOf = (data) => /"type":"(\w+)"/.exec(data.subarray(0, 64).toString('latin1'))?.[1];
/** The default frame rate (20 a second, a burst of 60): the members keep under it, as the issue asks. */
const EVERY_MS = 55;

async function member(i) {
  // Each from an address of its own (127.0.0.2, .3, …: still loopback), as twenty people on a LAN
  // are: the per-address rates do not lump them together.
  const ws = new WebSocket(url, { perMessageDeflate: false, localAddress: `127.0.0.${2 + i}` });
  const counts = {};
  ws.on('message', (data) => {
    const type = typeOf(data);
    counts[type] = (counts[type] ?? 0) + 1;
  });
  await new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.on('message', function first(data) {
      if (typeOf(data) !== 'hello') return;
      ws.off('message', first);
      ws.send(JSON.stringify({ type: 'client_join_req', name: `greedy${i}` }));
      resolve();
    });
  });
  return { ws, counts, closed: new Promise((r) => ws.once('close', r)) };
}

const all = await Promise.all(Array.from({ length: members }, (_, i) => member(i)));
const text = 'a fairly long message about the blue door and the plan for the week, '.repeat(28); // ~2 KB
for (let k = 0; k < fillPerMember; k++) {
  for (const [i, m] of all.entries()) m.ws.send(JSON.stringify({ type: 'send', name: `greedy${i}`, text: `${k} ${text}`, cid: `f${k}` }));
  await sleep(EVERY_MS);
}
// Every fill message acked: the history holds them all.
for (let deadline = Date.now() + 60_000; all.some((m) => (m.counts.ack ?? 0) < fillPerMember) && Date.now() < deadline; ) await sleep(50);
console.log(JSON.stringify({ filled: all.reduce((n, m) => n + (m.counts.ack ?? 0), 0) }));

const until = Date.now() + seconds * 1000;
let asked = 0;
for (let k = 0; Date.now() < until; k++) {
  for (const m of all) {
    if (m.ws.readyState !== WebSocket.OPEN) continue;
    m.ws.send(JSON.stringify(k % 2 ? { type: 'search_req', query: 'blue door', limit: 100 } : { type: 'history_req', limit: 500 }));
    asked++;
  }
  await sleep(EVERY_MS);
}
await sleep(1_000);
const total = (type) => all.reduce((n, m) => n + (m.counts[type] ?? 0), 0);
console.log(
  JSON.stringify({
    asked,
    pages: total('history') - members, // each member's welcome came with one
    searches: total('search_results'),
    refused: total('error'),
    dropped: all.filter((m) => m.ws.readyState !== WebSocket.OPEN).length,
  }),
);
for (const m of all) m.ws.close();
await Promise.race([Promise.all(all.map((m) => m.closed)), sleep(2_000)]);
process.exit(0);
