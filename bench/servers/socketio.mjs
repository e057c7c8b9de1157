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
// Settled memory readings: the bench asks for a full GC (SIGUSR2) before reading RSS.
process.on('SIGUSR2', () => globalThis.gc?.());
