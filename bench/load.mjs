// The load generator, a process of its own. argv[2] is JSON {kind, urls, clients}. It connects the
// clients (spread evenly over urls), prints {"ready":…}, then runs each JSON command read on stdin:
//   {"cmd":"run","rate":R,"duration":D,"senders":S}  → prints {"result":…}
//   {"cmd":"exit"}
// Every client records each message's delivery latency; sender and receivers share this process's
// monotonic clock, so latency is exact without synchronized clocks.
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import hdr from 'hdr-histogram-js';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

const config = JSON.parse(process.argv[2]);
const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

let run; // the load step in progress: its histogram and counters
let lastFrameAt = nowUs();
/** Bytes of the newest `welcome` (it lists every buddy: the join storm's per-join cost). */
let welcomeBytes = 0;

/** A text is "seq|sentAtMicros"; read the number straight from the frame's bytes (no JSON.parse). */
function sentAtIn(buf) {
  let i = buf.indexOf(0x7c) + 1; // '|'
  let n = 0;
  for (let c = buf[i]; c >= 0x30 && c <= 0x39; c = buf[++i]) n = n * 10 + (c - 0x30);
  return n;
}

function onText(text) {
  onSentAt(Number(text.slice(text.indexOf('|') + 1)));
}

function onSentAt(sentAt) {
  lastFrameAt = nowUs();
  if (!run) return;
  const now = lastFrameAt;
  run.histogram.recordValue(Math.max(1, now - sentAt));
  run.received++;
  run.lastReceiveAt = now;
}

/** One adapter per server kind: connect and join, and send a text. */
const adapters = {
  chatty(url, name) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', reject);
      ws.on('open', () => ws.send(JSON.stringify({ type: 'client_join_req', name })));
      ws.on('message', (data) => {
        lastFrameAt = nowUs();
        if (data[9] === 0x6d) return onSentAt(sentAtIn(data)); // {"type":"message"…
        // Only the start says what a frame is: a storm's big welcomes and batches are not decoded.
        const start = data.toString('latin1', 0, 20);
        if (start.startsWith('{"type":"welcome"')) {
          welcomeBytes = data.length;
          resolve({ send: (text) => ws.send(JSON.stringify({ type: 'send', name, text })), close: () => ws.terminate() });
        } else if (start.startsWith('{"type":"error"')) reject(new Error(data.toString()));
      });
    });
  },
  raw(url, name) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', reject);
      ws.on('open', () => resolve({ send: (text) => ws.send(JSON.stringify({ type: 'message', name, text })), close: () => ws.terminate() }));
      ws.on('message', (data) => onSentAt(sentAtIn(data)));
    });
  },
  /** IRC (ngircd): register, join #chat, PRIVMSG to it. A channel message reaches every member but its sender. */
  irc(url, name) {
    return new Promise((resolve, reject) => {
      const { hostname, port } = new URL(url);
      const socket = connect(Number(port), hostname);
      socket.setNoDelay(true);
      socket.on('error', reject);
      socket.on('connect', () => socket.write(`NICK ${name}\r\nUSER ${name} 0 * :${name}\r\n`));
      let pending = '';
      socket.on('data', (data) => {
        lastFrameAt = nowUs();
        const lines = (pending + data.toString('latin1')).split('\r\n');
        pending = lines.pop();
        for (const line of lines) {
          const text = line.indexOf(' PRIVMSG #chat :');
          if (text >= 0) onText(line.slice(text + 16));
          else if (line.startsWith('PING ')) socket.write(`PONG ${line.slice(5)}\r\n`);
          else if (/^:\S+ 001 /.test(line)) socket.write('JOIN #chat\r\n');
          else if (/^:\S+ 366 /.test(line)) resolve({ send: (t) => socket.write(`PRIVMSG #chat :${t}\r\n`), close: () => socket.destroy() });
          else if (/^:\S+ [45]\d\d /.test(line)) reject(new Error(line));
        }
      });
    });
  },
  socketio(url, name) {
    return new Promise((resolve, reject) => {
      const socket = io(url.replace('ws:', 'http:'), { transports: ['websocket'], forceNew: true, reconnection: false });
      socket.on('connect_error', reject);
      socket.on('connect', () => resolve({ send: (text) => socket.emit('chat message', { name, text }), close: () => socket.disconnect() }));
      socket.on('chat message', (msg) => onText(msg.text));
    });
  },
};

async function connectAll() {
  const connect = adapters[config.kind];
  const clients = new Array(config.clients);
  const startedUs = nowUs();
  const BATCH = config.connectBatch ?? 100;
  for (let i = 0; i < config.clients; i += BATCH) {
    const batch = [];
    for (let k = i; k < Math.min(i + BATCH, config.clients); k++) {
      batch.push(connect(config.urls[k % config.urls.length], `c${k}`).then((c) => (clients[k] = c)));
    }
    await Promise.all(batch);
  }
  const connectedAt = nowUs();
  // Chatty tells everyone about every join: wait for that to settle before measuring anything.
  // All have joined when the last of those frames came (the 500 ms of quiet are not counted).
  while (nowUs() - lastFrameAt < 500_000) await new Promise((r) => setTimeout(r, 100));
  const settledAt = Math.max(connectedAt, lastFrameAt);
  return { clients, joinMs: settledAt / 1000 - startedUs / 1000 };
}

async function runLoad(clients, { rate, duration, senders }) {
  run = {
    histogram: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 }),
    received: 0,
    lastReceiveAt: 0,
  };
  const start = nowUs();
  let sent = 0;
  await new Promise((resolve) => {
    const tick = setInterval(() => {
      const elapsed = (nowUs() - start) / 1e6;
      const due = Math.min(Math.floor(rate * elapsed), Math.floor(rate * duration)) - sent;
      for (let k = 0; k < due; k++, sent++) clients[sent % senders].send(`${sent}|${nowUs()}`);
      if (elapsed >= duration) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  const sendEnd = nowUs();
  // IRC does not send a channel message back to its sender; the others do.
  const expected = sent * (config.kind === 'irc' ? clients.length - 1 : clients.length);
  // Drain: until everything arrived, or nothing arrived for 3 s.
  while (run.received < expected && nowUs() - Math.max(run.lastReceiveAt, sendEnd) < 3_000_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const h = run.histogram;
  const span = Math.max(run.lastReceiveAt, sendEnd) - start;
  const result = {
    rate,
    duration,
    senders,
    clients: clients.length,
    sent,
    offeredPerSec: sent / duration,
    expected,
    received: run.received,
    lost: expected - run.received,
    deliveriesPerSec: run.received / (span / 1e6),
    offeredDeliveriesPerSec: expected / duration,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    maxMs: h.maxValue / 1000,
  };
  run = undefined;
  return result;
}

const { clients, joinMs } = await connectAll();
say({ ready: true, joinMs, welcomeBytes });
for await (const line of createInterface({ input: process.stdin })) {
  const cmd = JSON.parse(line);
  if (cmd.cmd === 'run') say({ result: await runLoad(clients, cmd) });
  if (cmd.cmd === 'exit') break;
}
for (const c of clients) c.close();
process.exit(0);
