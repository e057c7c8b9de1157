// The load generator, a process of its own. argv[2] is JSON {kind, urls, clients}. It connects the
// clients (spread evenly over urls), prints {"ready":…}, then runs each JSON command read on stdin:
//   {"cmd":"run","rate":R,"duration":D,"senders":S}  → prints {"result":…}
//   {"cmd":"exit"}
// Every client records each message's delivery latency; sender and receivers share this process's
// monotonic clock, so latency is exact without synchronized clocks.
import { createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import hdr from 'hdr-histogram-js';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { deviceProofMessage } from '../dist/shared/device-key.js';

const config = JSON.parse(process.argv[2]);
// performance.now() is the monotonic clock as a double: no BigInt to make and divide per delivery.
const nowUs = () => Math.round(performance.now() * 1000);
const say = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

let run; // the load step in progress: its latencies and counters
let lastFrameAt = nowUs();
/** Bytes of the newest `welcome` (it lists every buddy: the join storm's per-join cost). */
let welcomeBytes = 0;

/** A text is "seq|sentAtMicros"; read the number straight from the frame's bytes (no JSON.parse). */
function sentAtIn(buf, start) {
  let i = buf.indexOf(0x7c, start) + 1; // '|'
  let n = 0;
  for (let c = buf[i]; c >= 0x30 && c <= 0x39; c = buf[++i]) n = n * 10 + (c - 0x30);
  return n;
}

function onText(text) {
  onSentAt(Number(text.slice(text.indexOf('|') + 1)));
}

/** A delivery, read at `now` (every frame of one read arrived at the same moment: one clock read for them all). */
/** An ack of a send (Chatty): its cid is the text, so it carries the time it was sent. */
function onAck(sentAt, now) {
  lastFrameAt = now;
  if (run) run.acks.push(Math.max(1, now - sentAt));
}

function onSentAt(sentAt, now = nowUs()) {
  lastFrameAt = now;
  if (!run) return;
  // Kept as they come, put in the histogram after the step: recording there was a quarter of the generator's time.
  if (run.received < run.latencies.length) run.latencies[run.received] = Math.max(1, now - sentAt);
  run.received++;
  run.lastReceiveAt = now;
}

/**
 * Read what a WebSocket server sends straight from the TCP stream, frame by frame, and hand each
 * text message to onFrame(buf, start, end, now, bytes) where it lies, instead of through ws's receiver (a
 * Buffer, an event and a UTF-8 check per frame: a third of the generator's time). The generator must
 * cost less per delivery than the servers it measures, or it measures itself. ws still opens the
 * connection and sends; pings are answered here. Frames from a server are never masked (RFC 6455
 * §5.1).
 *
 * Only a message's first HEAD_BYTES are read (buf[start..end]; `bytes` is its whole length): nothing
 * the generator reads is longer (a "seq|sentAt", a frame's type, an error). The rest of a big one
 * is passed over as it streams by rather than gathered and copied: a storm's 10,000th welcome lists
 * everyone (80 KB), and gathering them was most of what the generator did with a storm's bytes. A
 * message comes when its last byte has: a message in fragments (Chatty's welcome) when its last
 * fragment's has, with its first fragment's head.
 */
const HEAD_BYTES = 1024;
function readFrames(ws, onFrame) {
  const socket = ws._socket; // ws's receiver reads from this; nothing has been read yet at 'open'
  socket.removeAllListeners('data');
  let held; // the start of a frame whose header or head is not all here yet
  let skip = 0; // bytes of the frame being passed over still to come
  let atFrameEnd; // the message this frame ends, handed over once its last byte is here
  let message; // a fragmented message: its first fragment's head, and its bytes so far
  const handOver = (m, now) => onFrame(m.buf, m.start, m.end, now, m.bytes);
  socket.on('data', (chunk) => {
    const now = nowUs();
    let buf = chunk;
    if (skip > 0) {
      if (chunk.length < skip) {
        skip -= chunk.length;
        return;
      }
      buf = chunk.subarray(skip);
      skip = 0;
      if (atFrameEnd) handOver(atFrameEnd, now);
      atFrameEnd = undefined;
    }
    if (held) buf = Buffer.concat([held, buf]);
    held = undefined;
    let i = 0;
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      const header = headerBytes(buf[i + 1] & 0x7f);
      if (buf.length - i < header) break;
      const length = payloadBytes(buf, i);
      const start = i + header;
      const headEnd = start + Math.min(length, HEAD_BYTES);
      if (buf.length < headEnd) break;
      const opcode = buf[i] & 0x0f;
      const fin = (buf[i] & 0x80) !== 0;
      const whole = start + length <= buf.length;
      if (opcode === 0x9) ws.pong(buf.subarray(start, headEnd));
      else if ((opcode === 0x1 || opcode === 0x2) && fin && whole)
        onFrame(buf, start, headEnd, now, length); // most frames
      else if (opcode === 0x1 || opcode === 0x2) {
        const head = { buf, start, end: headEnd, bytes: length };
        if (fin) atFrameEnd = head;
        else message = head;
      } else if (opcode === 0x0 && message) {
        message.bytes += length;
        if (fin) {
          atFrameEnd = message;
          message = undefined;
        }
      }
      if (!whole) {
        skip = start + length - buf.length;
        return;
      }
      if (atFrameEnd) handOver(atFrameEnd, now);
      atFrameEnd = undefined;
      i = start + length;
    }
    if (i < buf.length) held = buf.subarray(i);
  });
}

const headerBytes = (length7) => (length7 < 126 ? 2 : length7 === 126 ? 4 : 10);

/** The payload length of the frame at buf[i], whose header is all here. */
function payloadBytes(buf, i) {
  const length7 = buf[i + 1] & 0x7f;
  if (length7 < 126) return length7;
  return length7 === 126 ? buf.readUInt16BE(i + 2) : Number(buf.readBigUInt64BE(i + 2));
}

/**
 * Clients that prove a device key on join (docs/protocol.md § Identity) wait for the server's
 * `hello` and sign its nonce, with shared/device-key.ts's own bytes (the build's). One key for the process:
 * what the server pays per join (a verification) is the same whichever key signs.
 */
const device = generateKeyPairSync('ed25519').privateKey;
const devicePublic = createPublicKey(device).export({ format: 'jwk' }).x;
function joinWithProof(name, helloFrame) {
  const { nonce } = JSON.parse(helloFrame);
  const sig = sign(null, deviceProofMessage(nonce, name, undefined), device).toString('base64url');
  return JSON.stringify({ type: 'client_join_req', name, device: { key: devicePublic, sig, bound: false } });
}

/** One adapter per server kind: connect and join, and send a text. */
const adapters = {
  chattyProof: (url, name) => adapters.chatty(url, name, true),
  chatty(url, name, proof = false) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', reject);
      ws.on('open', () => {
        readFrames(ws, onFrame);
        if (!proof) ws.send(JSON.stringify({ type: 'client_join_req', name }));
      });
      function onFrame(buf, start, end, now, bytes) {
        if (buf[start + 9] === 0x6d) return onSentAt(sentAtIn(buf, start), now); // {"type":"message"…
        if (buf[start + 9] === 0x61 && buf[start + 10] === 0x63) return onAck(sentAtIn(buf, start), now); // {"type":"ack"…
        lastFrameAt = now;
        // Only the start says what a frame is: a storm's big welcomes and batches are not decoded.
        const head = buf.toString('latin1', start, Math.min(end, start + 20));
        if (proof && head.startsWith('{"type":"hello"')) ws.send(joinWithProof(name, buf.toString('utf8', start, end)));
        else if (head.startsWith('{"type":"welcome"')) {
          welcomeBytes = bytes;
          // Every send has a cid, as Chatty's own client's do: the ack (sent once it is written) is timed too.
          resolve({ send: (text) => ws.send(JSON.stringify({ type: 'send', name, text, cid: text })), close: () => ws.terminate() });
        } else if (head.startsWith('{"type":"error"')) reject(new Error(buf.toString('utf8', start, end)));
      }
    });
  },
  raw(url, name) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      ws.on('error', reject);
      ws.on('open', () => {
        readFrames(ws, (buf, start, _end, now) => onSentAt(sentAtIn(buf, start), now));
        resolve({ send: (text) => ws.send(JSON.stringify({ type: 'message', name, text })), close: () => ws.terminate() });
      });
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
    latencies: new Uint32Array(Math.ceil(rate * duration) * clients.length), // µs, one per expected delivery
    received: 0,
    lastReceiveAt: 0,
    acks: [], // µs from send to ack (Chatty only)
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
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  for (let i = 0; i < Math.min(run.received, run.latencies.length); i++) h.recordValue(run.latencies[i]);
  const acks = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 });
  for (const us of run.acks) acks.recordValue(us);
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
    ...(run.acks.length > 0 ? { acked: run.acks.length, ackP50Ms: acks.getValueAtPercentile(50) / 1000, ackP99Ms: acks.getValueAtPercentile(99) / 1000 } : {}),
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
