// The bytes of what a server sends its clients: JSON, framed as WebSocket text frames (RFC 6455).
// A server's frames are never masked (§5.1), so the same bytes go to every client: a broadcast is
// serialized and framed once (TextFrame), and a welcome's list of everyone is written as it is
// kept (splicedFrames). wire.ts writes them to sockets.
import * as wsModule from 'ws';

/**
 * A text frame built once — header and payload in one buffer — to write as it is to every client
 * it goes to, as uWebSockets does: a broadcast to N clients frames its message once, not N times.
 * Frames are laid out one after the other in shared segments (see FrameLog): a client that gets
 * every broadcast of a turn gets one stretch of a segment, written as it is, without a copy.
 */
export class TextFrame {
  readonly bytes: Buffer;
  // Where the bytes are, as plain fields: an outbox compares them on every delivery.
  readonly buffer: ArrayBufferLike;
  readonly start: number;
  readonly end: number;

  /** `payload` framed, laid out in `log` (a node's Wire keeps one). */
  constructor(payload: Buffer, log: FrameLog) {
    this.bytes = log.append(framed(payload));
    this.buffer = this.bytes.buffer;
    this.start = this.bytes.byteOffset;
    this.end = this.start + this.bytes.length;
  }
}

/**
 * `frame` with more fields whose JSON is already at hand as bytes, kept up to date by their owner
 * (the roster keeps the welcome's list of everyone), in pieces: one message in WebSocket
 * fragments (§5.4) that every client reassembles. The big kept bytes are framed as they are, never
 * copied into a buffer of their own per message (a welcome to the 10,000th person is 80 KB, and
 * thousands of those left the process holding memory it had freed). A field without pieces is
 * left out. The frames' headers and pieces, in order.
 */
export function splicedFrames(frame: object, json: Record<string, readonly Buffer[]>): Buffer[] {
  const parts: Buffer[] = [Buffer.from(JSON.stringify(frame).slice(0, -1))];
  for (const [key, value] of Object.entries(json)) if (value.length > 0) parts.push(Buffer.from(`,${JSON.stringify(key)}:`), ...value);
  parts.push(Buffer.from('}'));
  const pieces = joinSmall(parts);
  const buffers: Buffer[] = [];
  for (const [i, piece] of pieces.entries()) buffers.push(...framed(piece, i === 0 ? TEXT_OPCODE : CONTINUATION_OPCODE, i === pieces.length - 1));
  return buffers;
}

const TEXT_OPCODE = 0x1;
const CONTINUATION_OPCODE = 0x0;

/** A server's frame of `payload` (a whole text message unless told otherwise): its header, and the payload as it is. */
export function framed(payload: Buffer, opcode = TEXT_OPCODE, fin = true): Buffer[] {
  return Sender.frame(payload, { fin, rsv1: false, opcode, mask: false, readOnly: true });
}

// ws frames with Sender.frame, made a static function for broadcasts like this one
// (websockets/ws#1016); @types/ws does not declare it.
const { Sender } = wsModule as unknown as {
  Sender: { frame(data: Buffer, options: { fin: boolean; rsv1: boolean; opcode: number; mask: boolean; readOnly: boolean }): Buffer[] };
};

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

/**
 * Where frames built once are laid out, each right after the one before, in segments of
 * SEGMENT_BYTES that are filled once and never written again (a new one is started when one is
 * full; the garbage collector takes it once no frame or write refers to it). A frame too big to
 * share one has a buffer of its own.
 */
export class FrameLog {
  #segment = Buffer.allocUnsafeSlow(0);
  #used = 0;

  append(parts: readonly Buffer[]): Buffer {
    let size = 0;
    for (const part of parts) size += part.length;
    if (size > SEGMENT_BYTES / 4) return Buffer.concat(parts, size);
    if (this.#used + size > this.#segment.length) {
      this.#segment = Buffer.allocUnsafeSlow(SEGMENT_BYTES);
      this.#used = 0;
    }
    const start = this.#used;
    for (const part of parts) this.#used += part.copy(this.#segment, this.#used);
    return this.#segment.subarray(start, this.#used);
  }
}

/**
 * Small enough that a segment a backed-up socket still refers to is little memory (see
 * wire.ts, writeOutbox), big enough that a turn's frames rarely cross into a new one.
 */
const SEGMENT_BYTES = 64 * 1024;
