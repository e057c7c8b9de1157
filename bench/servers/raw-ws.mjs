// Reference "raw ws": a bare ws server that broadcasts every frame it receives, serialized once
// (the received bytes are sent as they are): what a ws server does with no work of its own.
// With --batched, each recipient's socket is corked for the rest of the event-loop turn, so the
// frames of one turn leave in one write: the same batching Chatty does, and the real ceiling.
import { WebSocketServer } from 'ws';
import { reportMemoryOnSignal } from './memory-report.mjs';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
  console.log(JSON.stringify({ url: `ws://127.0.0.1:${wss.address().port}` }));
});
const batched = process.argv.includes('--batched');
const corked = new Set();
const uncorkAll = () => {
  for (const socket of corked) socket.uncork();
  corked.clear();
};
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    for (const client of wss.clients) {
      if (batched && !corked.has(client._socket)) {
        if (corked.size === 0) setImmediate(uncorkAll);
        client._socket.cork();
        corked.add(client._socket);
      }
      client.send(data, { binary: false });
    }
  });
});
process.on('SIGTERM', () => process.exit(0));
reportMemoryOnSignal();
