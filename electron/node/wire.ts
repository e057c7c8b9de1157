// Serializing and sending frames. A broadcast serializes its frame once into a Buffer and hands
// the same bytes to every socket (ws frames a Buffer without copying it).
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

export function sendFrame(ws: WebSocket, frame: object): boolean {
  return sendEncoded(ws, encode(frame));
}

/** Close reasons are limited to 123 bytes by RFC 6455. */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
}
