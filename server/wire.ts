// Sending frames. A broadcast serializes its message once and frames it once (TextFrame, in
// frames.ts), and every client socket gets the same bytes; what a socket gets in one event-loop
// turn leaves in one write at its end (a client's outbox, with what was published to every
// client in the Audience; a peer link's socket is corked), and under heavy load in one write
// every 25 ms (flush-policy.ts).
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { FlushPolicy } from './flush-policy.js';
import { encode, framed, splicedFrames, type TextFrame } from './frames.js';

const TEXT = { binary: false } as const;

/** Send one encoded frame as a text frame; sending to a closed socket is a no-op, not a throw. */
export function sendEncoded(ws: WebSocket, data: Buffer): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  flushOutbox(ws);
  ws.send(data, TEXT);
  return true;
}

/**
 * Relays to peer links send through here. The socket is corked until the end of this event-loop
 * turn, so every frame it gets in the turn leaves in one writev instead of one syscall each: under
 * load, many events arrive per turn and the syscalls — most of a server's time — drop by that
 * factor. The frames leave right after the turn's I/O callbacks (setImmediate), or under load
 * a little later (FlushPolicy).
 * A burst must not pile up: once a turn holds TURN_BUDGET_BYTES across all sockets, everything is
 * flushed at once and batching restarts. (A client's socket gets broadcasts as TextFrames.)
 */
export function sendBatched(ws: WebSocket, data: Buffer): boolean {
  const socket = corkForTurn(ws);
  if (!socket) return false;
  ws.send(data, TEXT);
  countCorked(socket, data.length);
  return true;
}

/**
 * Send a frame built once to a client's socket: it waits in the socket's outbox until the end of
 * the turn, when everything the socket got in the turn leaves in one write. A delivery costs a
 * comparison or two — the frame usually starts where the socket's last one ended, in the same
 * segment — not a trip through the socket's stream machinery (measured: that was a third of the
 * server's time under overload). Anything else sent to the socket through this module flushes
 * its outbox first, so the order holds; an outbox is flushed on its own once it holds
 * SOCKET_BUDGET_BYTES, so what waits never hides a slow consumer for long.
 *
 * 'slow', and nothing sent, when what the socket has not sent yet (what its socket and ws hold,
 * and its outbox) is past `maxUnsent`; 'closed' when it is not open as its outbox starts to fill
 * (a socket that closes while its outbox waits is found at the write, which drops what waits).
 */
export function sendFramedBatched(outbox: Outbox, frame: TextFrame, maxUnsent: number): 'sent' | 'slow' | 'closed' {
  const { ws } = outbox;
  outbox.audience?.catchUp(outbox);
  if (outbox.bytes === 0) {
    if (ws.readyState !== WebSocket.OPEN) return 'closed';
    // What the socket and ws hold grows only when something is written to them, and this module
    // empties the outbox before it writes: read it when the outbox starts to fill, not per delivery.
    outbox.heldBefore = ws.bufferedAmount;
  }
  // It may have shrunk since (a write completed): read it again before calling the client slow.
  if (outbox.heldBefore + outbox.bytes > maxUnsent && unsent(ws) > maxUnsent) return 'slow';
  put(outbox, frame);
  framesSinceFlush++;
  countTurn(frame.end - frame.start);
  return 'sent';
}

/** Put `frame` in `outbox` after what waits there; written at the end of the turn, or once the outbox is full. */
function put(outbox: Outbox, frame: TextFrame): void {
  if (outbox.bytes === 0) {
    outbox.first = frame.bytes;
    outbox.run = frame.buffer;
    outbox.start = frame.start;
    outbox.end = frame.start;
    if (!outbox.waiting) {
      outbox.waiting = true;
      waiting[waitingCount++] = outbox;
      flushAtEndOfTurn();
    }
  }
  if (outbox.run === frame.buffer && outbox.end === frame.start) outbox.end = frame.end;
  else {
    outbox.earlier ??= [];
    outbox.earlier.push(runOf(outbox));
    outbox.run = frame.buffer;
    outbox.start = frame.start;
    outbox.end = frame.end;
  }
  outbox.bytes += frame.end - frame.start;
  if (outbox.bytes > SOCKET_BUDGET_BYTES) writeOutbox(outbox.ws, outbox);
}

/** What `ws` has not sent yet: what its socket and ws hold, and what waits in its outbox (at most SOCKET_BUDGET_BYTES). */
export function unsent(ws: WebSocket): number {
  const outbox = (ws as WithOutbox)[OUTBOX];
  return ws.bufferedAmount + (outbox ? outbox.bytes + (outbox.audience?.waitingFor(outbox) ?? 0) : 0);
}

/** The outbox of a client's socket (see Outbox): made once, kept by whoever sends to the socket. */
export function outboxOf(ws: WebSocket): Outbox {
  let outbox = (ws as WithOutbox)[OUTBOX];
  if (outbox === undefined) outbox = (ws as WithOutbox)[OUTBOX] = new Outbox(ws);
  return outbox;
}

/**
 * Frames waiting for the end of the turn for one client socket, in the order they were sent. A
 * socket has one for its life, reached from the socket itself (outboxOf): a broadcast to 10,000
 * clients made 10,000 outboxes and a map of them anew each turn, and the major GC then found them
 * in the old space (most of what a join storm promoted to die there: docs/benchmark.md). Empty
 * between turns, so it keeps no segment alive.
 */
export class Outbox {
  /** Runs before the current one (a frame that did not follow the last broke the run). */
  earlier: Buffer[] | undefined = undefined;
  /** The first frame: what is written as it is when it is all there is (most turns at low load). */
  first: Buffer | undefined = undefined;
  /** The current run: bytes start..end of one buffer, frames that follow each other there. */
  run: ArrayBufferLike | undefined = undefined;
  start = 0;
  end = 0;
  bytes = 0;
  /** What the socket and ws held when the outbox started to fill (see sendFramedBatched). */
  heldBefore = 0;
  /** In `waiting`: written at the end of this turn. */
  waiting = false;
  /** The audience the socket is in, if any, how many of its waiting frames are in this outbox already, and where it is in its list. */
  audience: AudienceOfOutbox | undefined = undefined;
  seen = 0;
  index = 0;

  constructor(readonly ws: WebSocket) {}
}
const OUTBOX = Symbol('outbox');
type WithOutbox = WebSocket & { [OUTBOX]?: Outbox };

/** The outboxes that wait for the end of the turn: the first `waitingCount` entries (kept, not regrown each turn). */
const waiting: (Outbox | undefined)[] = [];
let waitingCount = 0;

const runOf = (outbox: Outbox): Buffer => Buffer.from(outbox.run as ArrayBuffer, outbox.start, outbox.end - outbox.start);

/** Write what waits in `ws`'s outbox now. */
function flushOutbox(ws: WebSocket): void {
  const outbox = (ws as WithOutbox)[OUTBOX];
  if (!outbox) return;
  outbox.audience?.catchUp(outbox);
  writeOutbox(ws, outbox);
}

/**
 * One write per socket: its runs as they are, no copy (runs in two segments go in one writev: a
 * copy joining them was, with the garbage it left, a sixth of the server's time under overload).
 * A socket that still has a write pending is backed up, and its next write may wait in memory for
 * long: it gets one copy of it all, so a slow client keeps alive only its own bytes, not the
 * segments they were in. Dropped when the socket is no longer open. The outbox is left empty.
 */
function writeOutbox(ws: WebSocket, outbox: Outbox): void {
  const { bytes, earlier, first } = outbox;
  if (bytes === 0 || !first) return;
  const last = bytes === first.length ? first : runOf(outbox);
  empty(outbox);
  const runs = earlier ?? [];
  runs.push(last);
  writeRuns(ws, runs, () => Buffer.concat(runs, bytes));
}

function empty(outbox: Outbox): void {
  outbox.earlier = undefined;
  outbox.first = undefined;
  outbox.run = undefined;
  outbox.bytes = 0;
}

/**
 * Write `runs` to `ws`'s socket as they are: one run in one write, runs in different segments (the
 * frames crossed into a new one) in one writev, no copy. A socket still writing gets `copy()` of
 * them instead (see writeOutbox). Dropped when the socket is no longer open.
 */
function writeRuns(ws: WebSocket, runs: readonly Buffer[], copy: () => Buffer): void {
  if (ws.readyState !== WebSocket.OPEN) return;
  const socket = socketOf(ws);
  if (socket.writableLength > 0) return void socket.write(copy());
  if (runs.length === 1) return void socket.write(runs[0] as Buffer);
  socket.cork();
  for (const run of runs) socket.write(run);
  socket.uncork();
}

/**
 * Who gets every broadcast: this server's clients. A frame published to them goes in no outbox:
 * it waits once, in the audience's list, and at the flush every member's socket gets the same
 * runs of it. Putting a frame in each of 1,000 outboxes was, under overload, a seventh of the
 * server's time, most of it in reaching 1,000 objects per message. A member's outbox first
 * catches up — takes the frames published since it last did — whenever anything else is sent to
 * its socket, so the order holds. A member whose socket holds more than `maxUnsent` unsent at the
 * flush gets none of them: `onSlow` is told after the flush, and must remove it.
 */
export class Audience<M extends { readonly outbox: Outbox }> implements AudienceOfOutbox, PendingAudience {
  readonly #members: M[] = [];
  /** Published since the last flush, in order, and their bytes. */
  #frames: TextFrame[] = [];
  #bytes = 0;
  #pending = false;

  constructor(
    private readonly maxUnsent: number,
    private readonly onSlow: (members: M[]) => void,
  ) {}

  get members(): readonly M[] {
    return this.#members;
  }

  /** Frames published from now on go to `member` (not those before: it was not here for them). */
  add(member: M): void {
    const { outbox } = member;
    outbox.audience?.remove(outbox);
    outbox.audience = this;
    outbox.seen = this.#frames.length;
    outbox.index = this.#members.length;
    this.#members.push(member);
  }

  /** No more frames to `outbox`'s member; those published while it was one still go to it. */
  remove(outbox: Outbox): void {
    if (outbox.audience !== this) return;
    this.catchUp(outbox);
    outbox.audience = undefined;
    // The last member takes its place: the order among sockets is not the order of anything.
    const last = this.#members.pop() as M;
    if (last.outbox !== outbox) {
      last.outbox.index = outbox.index;
      this.#members[outbox.index] = last;
    }
  }

  /**
   * `frame` to every member (but `except`): no work per member until the flush. The one left out
   * takes what came before it now and skips it; it catches up on what follows as usual.
   */
  publish(frame: TextFrame, except?: M): void {
    if (this.#members.length === 0) return;
    if (!this.#pending) {
      this.#pending = true;
      pendingAudiences.push(this);
      flushAtEndOfTurn();
    }
    const skipping = except?.outbox.audience === this ? except.outbox : undefined;
    if (skipping) this.catchUp(skipping);
    this.#frames.push(frame);
    if (skipping) skipping.seen = this.#frames.length;
    const size = frame.end - frame.start;
    this.#bytes += size;
    if (this.#bytes > SOCKET_BUDGET_BYTES) this.flush();
    else countTurn(size * this.#members.length);
  }

  /** Put in `outbox` the frames published since it last caught up. */
  catchUp(outbox: Outbox): void {
    const frames = this.#frames;
    for (let i = outbox.seen; i < frames.length; i++) put(outbox, frames[i] as TextFrame);
    outbox.seen = frames.length;
  }

  /** The bytes published that `outbox` has not caught up with. */
  waitingFor(outbox: Outbox): number {
    let bytes = 0;
    for (let i = outbox.seen; i < this.#frames.length; i++) bytes += (this.#frames[i] as TextFrame).end - (this.#frames[i] as TextFrame).start;
    return bytes;
  }

  /** Deliveries waiting: what the flush policy weighs. */
  get waitingDeliveries(): number {
    return this.#frames.length * this.#members.length;
  }

  /** Write what was published to every member: the same runs to each, one write per socket. */
  flush(): void {
    this.#pending = false;
    const frames = this.#frames;
    const bytes = this.#bytes;
    if (frames.length === 0) return;
    const runs = runsOf(frames);
    // For sockets still writing: one copy for all of them, made when one needs it.
    let copy: Buffer | undefined;
    const copyOnce = (): Buffer => {
      copy ??= Buffer.concat(runs, bytes);
      return copy;
    };
    const slow: M[] = [];
    for (const member of this.#members) {
      const { outbox } = member;
      const { ws } = outbox;
      if (outbox.bytes > 0 || outbox.seen > 0) {
        // It got frames of its own in between: the rest follow them in its outbox.
        this.catchUp(outbox);
        outbox.seen = 0;
        if (ws.bufferedAmount + outbox.bytes > this.maxUnsent) {
          empty(outbox);
          slow.push(member);
        } else writeOutbox(ws, outbox);
        continue;
      }
      if (ws.readyState === WebSocket.OPEN && ws.bufferedAmount + bytes > this.maxUnsent) slow.push(member);
      else writeRuns(ws, runs, copyOnce);
    }
    this.#frames = [];
    this.#bytes = 0;
    if (slow.length > 0) this.onSlow(slow);
  }
}

/** Frames as runs: those that follow each other in one segment joined (no copy), in order. */
function runsOf(frames: readonly TextFrame[]): Buffer[] {
  const runs: Buffer[] = [];
  let first = frames[0] as TextFrame;
  let end = first.end;
  const endRun = () => runs.push(end === first.end ? first.bytes : Buffer.from(first.buffer as ArrayBuffer, first.start, end - first.start));
  for (let i = 1; i < frames.length; i++) {
    const frame = frames[i] as TextFrame;
    if (frame.buffer === first.buffer && frame.start === end) {
      end = frame.end;
      continue;
    }
    endRun();
    first = frame;
    end = frame.end;
  }
  endRun();
  return runs;
}

/** Audiences with frames waiting for the end of the turn. */
const pendingAudiences: PendingAudience[] = [];

/** What an outbox asks of its audience, and the turn of an audience with frames waiting (whatever its members are). */
interface AudienceOfOutbox {
  catchUp(outbox: Outbox): void;
  waitingFor(outbox: Outbox): number;
  remove(outbox: Outbox): void;
}
interface PendingAudience {
  readonly members: readonly unknown[];
  readonly waitingDeliveries: number;
  flush(): void;
}

/** The open socket under `ws`, corked until the end of this turn; undefined when it is not open. */
function corkForTurn(ws: WebSocket): Socket | undefined {
  if (ws.readyState !== WebSocket.OPEN) return undefined;
  flushOutbox(ws);
  const socket = socketOf(ws);
  if (!corked.has(socket)) {
    socket.cork();
    corked.add(socket);
    flushAtEndOfTurn();
  }
  return socket;
}

/**
 * The TCP socket under `ws`. ws has no public way to write bytes it did not frame, nor to cork:
 * its `_socket` is the one place this module reaches inside it. Bytes written here go after what
 * ws has written and before what it writes next: without compression (off on ws's servers unless
 * asked for, and never asked for here) ws writes to the socket as it is called.
 */
const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

/** Schedule the flush: right after this turn's I/O callbacks, or later under load (FlushPolicy). */
function flushAtEndOfTurn(): void {
  if (flushScheduled) return;
  flushScheduled = true;
  const wait = flushPolicy.delay(performance.now());
  if (wait > 0) setTimeout(endOfTurn, wait);
  else setImmediate(endOfTurn);
}

const flushPolicy = new FlushPolicy();
/** Frames put in outboxes since the last flush: over the sockets it writes, how loaded we are. */
let framesSinceFlush = 0;

/**
 * What one socket may hold back before it is flushed on its own: far below the slow-consumer
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
  countTurn(bytes);
}

/** `bytes` more wait for the end of the turn: flush everything once the turn's budget is passed. */
function countTurn(bytes: number): void {
  heldBytes += bytes;
  if (heldBytes > TURN_BUDGET_BYTES) flushAll();
}

/**
 * What a turn may hold back across all sockets (outboxes and corked) before everything is
 * flushed. Measured under overload (1,500 msg/s to 1,000 clients; docs/benchmark.md, with corked
 * sockets then): 1 MiB flushed every ~5 messages (5.4 deliveries per write syscall), 16 MiB
 * carries ~70, 64 MiB ~170. With flushes spaced under load, 16 MiB cut a spaced flush short at
 * 3,000 msg/s (56 deliveries a write, 32 MiB 101). Outboxes hold only references to frames
 * built once: the bytes counted here are the burst the sockets' kernel buffers take at once.
 */
const TURN_BUDGET_BYTES = 32 * 1024 * 1024;
const corked = new Set<Socket>();
let heldBytes = 0;
let flushScheduled = false;

function endOfTurn(): void {
  flushScheduled = false;
  let sockets = waitingCount;
  let frames = framesSinceFlush;
  for (const audience of pendingAudiences) {
    sockets += audience.members.length;
    frames += audience.waitingDeliveries;
  }
  flushPolicy.flushing(performance.now(), sockets, frames);
  flushAll();
}

function flushAll(): void {
  // Audiences first: a member's outbox that holds frames of its own takes the rest of the
  // audience's after them and is written then; the loop below finds it empty.
  for (const audience of pendingAudiences.splice(0)) audience.flush();
  // Written in order; an outbox filled again by a write's events joins the end and is written too.
  for (let i = 0; i < waitingCount; i++) {
    const outbox = waiting[i] as Outbox;
    waiting[i] = undefined;
    outbox.waiting = false;
    writeOutbox(outbox.ws, outbox);
  }
  waitingCount = 0;
  framesSinceFlush = 0;
  for (const socket of corked) socket.uncork();
  corked.clear();
  heldBytes = 0;
}

/**
 * Send `frame` with more fields whose JSON is already at hand as bytes (splicedFrames: the
 * welcome's list of everyone, in fragments, its kept bytes as they are), then the frames `after`
 * it, all in one write: a newcomer's welcome and history are one writev, not one per fragment and
 * frame.
 */
export function sendSpliced(ws: WebSocket, frame: object, json: Record<string, readonly Buffer[]>, after: readonly object[] = []): boolean {
  if (ws.readyState !== WebSocket.OPEN) return false;
  flushOutbox(ws);
  const buffers = splicedFrames(frame, json);
  for (const next of after) buffers.push(...framed(encode(next)));
  writeRuns(ws, buffers, () => Buffer.concat(buffers));
  return true;
}

export function sendFrame(ws: WebSocket, frame: object): boolean {
  return sendEncoded(ws, encode(frame));
}

/** RFC 6455 allows a close reason of at most 123 UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/** Close with a reason, shortened to fit (by whole characters: half a character would not fit). */
export function closeWith(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.CLOSED || ws.readyState === WebSocket.CLOSING) return;
  flushOutbox(ws);
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
