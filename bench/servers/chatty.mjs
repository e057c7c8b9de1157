// Chatty under load: one node, as `chatty host` runs it. Args: [bootUrl serverInviteCode]. Prints {"url","invite"} once listening
// ("invite" is the server invite's code: what the next node of a replicated set joins with).
import { ChatServer } from '../../dist/server/chat-server.js';
import { reportMemoryOnSignal } from './memory-report.mjs';

// The bench measures fan-out, not abuse limits: its generator sends hundreds of messages a second
// per client and joins thousands of clients from one address. The greedy-members step measures the
// limits themselves (CHATTY_BENCH_LIMITS=default).
const unlimited = 1e9;
const node = await ChatServer.start({
  port: 0,
  bind: '127.0.0.1',
  join: process.argv[2],
  joinInvite: process.argv[3],
  // Plain ws://, as the raw ws and socket.io servers beside it speak: the bench compares fan-out.
  insecure: true,
  // The bench's "history in SQLite" row gives a data folder; the others keep history in memory.
  data: process.env.CHATTY_BENCH_DATA ?? ':memory:',
  limits:
    process.env.CHATTY_BENCH_LIMITS === 'default'
      ? {}
      : {
          clientBurst: unlimited,
          clientRate: unlimited,
          joinBurstPerAddress: unlimited,
          joinRatePerAddress: unlimited,
          pendingPerAddress: unlimited,
          pendingTotal: unlimited,
          maxClients: unlimited,
        },
});
console.log(JSON.stringify({ url: node.url, invite: node.serverInvite().serverCode }));
// The bench waits until every node of a replicated set sees all the others.
const reportServers = () => console.log(JSON.stringify({ servers: node.servers().length }));
reportServers();
node.on('servers', reportServers);
process.on('SIGTERM', () => node.disconnect().then(() => process.exit(0)));
reportMemoryOnSignal();
