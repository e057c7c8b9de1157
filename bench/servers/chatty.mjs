// Chatty under load: one node, as `chatty host` runs it. Args: [bootUrl]. Prints {"url"} once listening.
import { ChatNode } from '../../dist/server/chat-node.js';

// The bench measures fan-out, not abuse limits: its generator sends hundreds of messages a second
// per client and joins thousands of clients from one address.
const unlimited = 1e9;
const node = await ChatNode.start({
  port: 0,
  bind: '127.0.0.1',
  join: process.argv[2],
  limits: {
    clientBurst: unlimited,
    clientRate: unlimited,
    joinBurstPerAddress: unlimited,
    joinRatePerAddress: unlimited,
    pendingPerAddress: unlimited,
    pendingTotal: unlimited,
    maxClients: unlimited,
  },
});
console.log(JSON.stringify({ url: node.url }));
// The bench waits until every node of a replicated set sees all the others.
const reportServers = () => console.log(JSON.stringify({ servers: node.servers().length }));
reportServers();
node.on('servers', reportServers);
process.on('SIGTERM', () => node.disconnect().then(() => process.exit(0)));
// Settled memory readings: on SIGUSR2, a full GC, then what the process holds.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  console.log(JSON.stringify({ memory: { rss, heapTotal, heapUsed, external } }));
});
