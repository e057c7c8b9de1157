// Serializing and sending frames. A broadcast serializes its message once and frames it once
// (TextFrame), and every client socket gets the same bytes; writes are corked per event-loop turn.
import type { Socket } from 'node:net';
import * as wsModule from 'ws';
import WebSocket from 'ws';

export function encode(frame: object): Buffer {
  return Buffer.from(JSON.stringify(frame));
}

const TEXT = { binary: false } as const;

/** Send one encoded frame as a text frame; sending to a closed socket is a no-op, not a throw. */
export function sendEncoded(ws: WebSocket, data: Buffer): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  ws.send(data, TEXT);
  return true;
}

/**
 * Broadcasts send through here. The recipient's socket is corked until the end of this event-loop
 * turn, so every frame it gets in the turn leaves in one writev instead of one syscall each: under
 * load, many events arrive per turn and the syscalls — most of a server's time — drop by that
 * factor. Idle or not, the frames leave right after the turn's I/O callbacks (setImmediate).
 * A burst must not pile up: once a turn has corked TURN_BUDGET_BYTES across all sockets, everything
 * is flushed at once and batching restarts.
 */
export function sendBatched(ws: WebSocket, data: Buffer): boolean {
  const socket = corkForTurn(ws);
  if (!socket) return false;
  ws.send(data, TEXT);
  countCorked(socket, data.length);
  return true;
}

/**
 * A text frame built once — header and payload in one buffer — to write as it is to every client
 * it goes to, as uWebSockets does: a broadcast to N clients frames its message once, not N times,
 * and each client costs one write instead of two. Only for sockets this server accepted (its
 * clients): frames a server sends are never masked (RFC 6455 §5.1), so the bytes are the same for all.
 */
export class TextFrame {
  readonly bytes: Buffer;

  constructor(payload: Buffer) {
    this.bytes = Buffer.concat(Sender.frame(payload, { fin: true, rsv1: false, opcode: 0x1, mask: false, readOnly: false }));
  }
}

// ws frames with Sender.frame, made a static function for broadcasts like this one
// (websockets/ws#1016); @types/ws does not declare it.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] };
};

/**
 * sendBatched for a frame built once (a client's socket): the same corking, the bytes written as
 * they are. ws counts them in bufferedAmount all the same, so the slow-consumer bound holds; and
 * without compression ws never holds frames back, so the order of everything sent to the socket holds.
 */
export function sendFramedBatched(ws: WebSocket, frame: TextFrame): boolean {
  const socket = corkForTurn(ws);
  if (!socket) return false;
  socket.write(frame.bytes);
  countCorked(socket, frame.bytes.length);
  return true;
}

/** The open socket under `ws`, corked until the end of this turn; undefined when it is not open. */
function corkForTurn(ws: WebSocket): Socket | undefined {
  if (ws.readyState !== WebSocket.OPEN) return undefined;
  const socket = (ws as unknown as { _socket: Socket })._socket;
  if (!corked.has(socket)) {
    socket.cork();
    corked.add(socket);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(endOfTurn);
    }
  }
  return socket;
}

/**
 * What one socket may hold corked before it is flushed on its own: far below the slow-consumer
 * bound (1 MiB unsent), so a burst to few clients (a backfill after a split heals) is never taken
 * for clients that cannot keep up.
 */
const SOCKET_BUDGET_BYTES = 64 * 1024;

/** `bytes` more were written to the corked `socket`: flush it, or everything, once a budget is passed. */
function countCorked(socket: Socket, bytes: number): void {
  if (socket.writableLength > SOCKET_BUDGET_BYTES) {
    socket.uncork();
    corked.delete(socket);
  }
  corkedBytes += bytes;
  if (corkedBytes > TURN_BUDGET_BYTES) uncorkAll();
}

/**
 * What a turn may cork across all sockets before everything is flushed. Measured under overload
 * (1,500 msg/s to 1,000 clients; docs/benchmark.md): 1 MiB flushed every ~5 messages (5.4
 * deliveries per write syscall), 16 MiB carries ~70, 64 MiB ~170; delivered throughput moved
 * within the run-to-run noise. 16 MiB: most of the syscalls saved, a bounded burst of memory.
 */
const TURN_BUDGET_BYTES = 16 * 1024 * 1024;
const corked = new Set<Socket>();
let corkedBytes = 0;
let flushScheduled = false;

function endOfTurn(): void {
  flushScheduled = false;
  uncorkAll();
}

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
  corkedBytes = 0;
}

/**
 * Send `frame` with more fields whose JSON is already at hand as bytes, kept up to date by their
 * owner (the roster keeps the welcome's list of everyone), in pieces. The message goes as WebSocket
 * fragments (RFC 6455 §5.4) that every client reassembles: the big kept bytes are written as they
 * are, never copied into a buffer of their own per message (a welcome to the 10,000th person is
 * 80 KB, and thousands of those left the process holding memory it had freed). A field without
 * pieces is left out.
 */
export function sendSpliced(ws: WebSocket, frame: object, json: Record<string, readonly Buffer[]>): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  const parts: Buffer[] = [Buffer.from(JSON.stringify(frame).slice(0, -1))];
  for (const [key, value] of Object.entries(json)) if (value.length > 0) parts.push(Buffer.from(`,${JSON.stringify(key)}:`), ...value);
  parts.push(Buffer.from('}'));
  const pieces = joinSmall(parts);
  for (const [i, piece] of pieces.entries()) ws.send(piece, { binary: false, fin: i === pieces.length - 1 });
  return true;
}

/** Parts as pieces worth a fragment each: runs of small parts joined, big ones as they are. */
function joinSmall(parts: readonly Buffer[]): Buffer[] {
  const pieces: Buffer[] = [];
  let small: Buffer[] = [];
  for (const part of parts) {
    if (part.length < SMALL_PART_BYTES) {
      small.push(part);
      continue;
    }
    if (small.length > 0) pieces.push(Buffer.concat(small));
    small = [];
    pieces.push(part);
  }
  if (small.length > 0) pieces.push(Buffer.concat(small));
  return pieces;
}

const SMALL_PART_BYTES = 4096;

export function sendFrame(ws: WebSocket, frame: object): boolean {
  return sendEncoded(ws, encode(frame));
}

/** RFC 6455 allows a close reason of at most 123 UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** Close with a reason, shortened to fit (by whole characters: half a character would not fit). */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  let fitted = reason;
  if (Buffer.byteLength(fitted) > MAX_CLOSE_REASON_BYTES) {
    fitted = '';
    for (const ch of reason) {
      if (Buffer.byteLength(fitted + ch) > MAX_CLOSE_REASON_BYTES) break;
      fitted += ch;
    }
  }
  ws.close(code, fitted);
}
