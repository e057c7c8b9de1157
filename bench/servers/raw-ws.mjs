// Reference "raw ws": a bare ws server that broadcasts every frame it receives, serialized once
// (the received bytes are sent as they are): what a ws server does with no work of its own.
import { WebSocketServer } from 'ws';
import { reportMemoryOnSignal } from './memory-report.mjs';

const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' }, () => {
  console.log(JSON.stringify({ url: `ws://127.0.0.1:${wss.address().port}` }));
});
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    for (const client of wss.clients) client.send(data, { binary: false });
  });
});
process.on('SIGTERM', () => process.exit(0));
reportMemoryOnSignal();
