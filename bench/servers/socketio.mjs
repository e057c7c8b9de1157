// Reference "socket.io": the socket.io chat example's pattern, io.emit to everyone.
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { transports: ['websocket'] });
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => io.emit('chat message', msg));
});
http.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `ws://127.0.0.1:${http.address().port}` })));
process.on('SIGTERM', () => process.exit(0));
// Settled memory readings: on SIGUSR2, a full GC, then what the process holds.
process.on('SIGUSR2', () => {
  globalThis.gc?.();
  const { rss, heapTotal, heapUsed, external } = process.memoryUsage();
  console.log(JSON.stringify({ memory: { rss, heapTotal, heapUsed, external } }));
});
