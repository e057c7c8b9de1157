// Reference "socket.io": the socket.io chat example's pattern, io.emit to everyone.
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { reportMemoryOnSignal } from './memory-report.mjs';

const http = createServer();
const io = new Server(http, { transports: ['websocket'] });
io.on('connection', (socket) => {
  socket.on('chat message', (msg) => io.emit('chat message', msg));
});
http.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ url: `ws://127.0.0.1:${http.address().port}` })));
process.on('SIGTERM', () => process.exit(0));
reportMemoryOnSignal();
