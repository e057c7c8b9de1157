// Serializing and sending frames. A broadcast serializes its frame once into a Buffer and hands
// the same bytes to every socket (ws frames a Buffer without copying it).
import type { Socket } from 'node:net';
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
 */
export function sendBatched(ws: WebSocket, data: Buffer): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  const socket = (ws as unknown as { _socket?: Socket })._socket;
  if (socket && !corked.has(socket)) {
    socket.cork();
    corked.add(socket);
    if (corked.size === 1) setImmediate(uncorkAll);
  }
  ws.send(data, TEXT);
  // A burst (hundreds of joins in one turn) must not pile up without bound: past this, send now.
  if (socket && socket.writableLength > MAX_CORKED_BYTES && corked.delete(socket)) socket.uncork();
  return true;
}

const MAX_CORKED_BYTES = 16 * 1024;
const corked = new Set<Socket>();

function uncorkAll(): void {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

export function sendFrame(ws: WebSocket, frame: object): boolean {
  return sendEncoded(ws, encode(frame));
}

/** Close reasons are limited to 123 bytes by RFC 6455. */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
}
