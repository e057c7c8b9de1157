// Sending frames: one node's Wire, and each socket's Outlet (its write end, with its outbox).
//
// A broadcast serializes its message once and frames it once (TextFrame, in frames.ts), and every
// client socket gets the same bytes; what a socket gets in one event-loop turn leaves in one write
// at its end (a client's outbox, with what was published to every client in the Audience; a peer
// link's socket is corked), and under heavy load in one write every 25 ms (flush-policy.ts).
//
// As in NATS's client.go, each socket owns its outbound buffer (its Outlet's outbox) and the turn
// flushes exactly the outlets it touched. The turn's state — who waits, what is corked, the budget
// — is the Wire's: two nodes in one process (a test, or a replica beside its host in the app)
// never share a scheduler. Only the modules that own sockets import this folder (biome.jsonc):
// connections.ts (every client socket) and mesh.ts (every server link); the rest of the server
// sends through an Outlet or an Audience they hand it.
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { encode } from '../json-bytes.js';
import { FlushPolicy } from './flush-policy.js';
import { FrameLog, framed, splicedFrames, TextFrame } from './frames.js';

const TEXT = { binary: false } as const;

/**
 * What one socket may hold back before it is flushed on its own: far below the slow-consumer
 * bound (1 MiB unsent), so a burst to few clients (a backfill after a split heals) is never taken
 * for clients that cannot keep up.
 */
const SOCKET_BUDGET_BYTES = 64 * 1024;

/**
 * What a turn may hold back across all sockets (outboxes and corked) before everything is
 * flushed. Measured under overload (1,500 msg/s to 1,000 clients; docs/benchmark-log.md, with corked
 * sockets then): 1 MiB flushed every ~5 messages (5.4 deliveries per write syscall), 16 MiB
 * carries ~70, 64 MiB ~170. With flushes spaced under load, 16 MiB cut a spaced flush short at
 * 3,000 msg/s (56 deliveries a write, 32 MiB 101). Outboxes hold only references to frames
 * built once: the bytes counted here are the burst the sockets' kernel buffers take at once.
 */
const TURN_BUDGET_BYTES = 32 * 1024 * 1024;

/** A node's sending: the turn every outlet and audience it made writes in. */
export class Wire {
  readonly #frames = new FrameLog();
  readonly #policy = new FlushPolicy();
  /** The outlets whose outbox waits for the end of the turn: the first #waitingCount entries (kept, not regrown each turn). */
  readonly #waiting: (Outlet | undefined)[] = [];
  #waitingCount = 0;
  /** Audiences with frames waiting for the end of the turn. */
  readonly #audiences: PendingAudience[] = [];
  readonly #corked = new Set<Socket>();
  #heldBytes = 0;
  /** Frames put in outboxes since the last flush: over the sockets it writes, how loaded we are. */
  #framesSinceFlush = 0;
  #scheduled = false;
  readonly #endOfTurn = () => this.#onEndOfTurn();

  /** The write end of `ws`: made once per socket, kept by whoever owns the socket. */
  outlet(ws: WebSocket): Outlet {
    return new Outlet(ws, this);
  }

  /** `payload` as a text frame built once, for any number of this wire's sockets. */
  frame(payload: Buffer): TextFrame {
    return new TextFrame(payload, this.#frames);
  }

  /** Whom a broadcast goes to (see Audience); `onSlow` hears of members that fell behind. */
  audience<M extends AudienceMember>(maxUnsent: number, onSlow: (members: M[]) => void): Audience<M> {
    return new Audience(this, maxUnsent, onSlow);
  }

  // --- for this wire's outlets and audiences

  /** `outlet` started to fill: it is written at the end of the turn. */
  waitFor(outlet: Outlet): void {
    this.#waiting[this.#waitingCount++] = outlet;
    this.#schedule();
  }

  /** `audience` has frames to write at the end of the turn. */
  waitForAudience(audience: PendingAudience): void {
    this.#audiences.push(audience);
    this.#schedule();
  }

  /** `socket` is corked until the end of the turn. */
  cork(socket: Socket): void {
    if (this.#corked.has(socket)) return;
    socket.cork();
    this.#corked.add(socket);
    this.#schedule();
  }

  /** `bytes` more were written to the corked `socket`: flush it, or everything, once a budget is passed. */
  countCorked(socket: Socket, bytes: number): void {
    if (socket.writableLength > SOCKET_BUDGET_BYTES) {
      socket.uncork();
      this.#corked.delete(socket);
    }
    this.countTurn(bytes);
  }

  /** `frames` more frames were put in outboxes. */
  countFrames(frames: number): void {
    this.#framesSinceFlush += frames;
  }

  /** `bytes` more wait for the end of the turn: flush everything once the turn's budget is passed. */
  countTurn(bytes: number): void {
    this.#heldBytes += bytes;
    if (this.#heldBytes > TURN_BUDGET_BYTES) this.#flushAll();
  }

  /** Schedule the flush: right after this turn's I/O callbacks, or later under load (FlushPolicy). */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const wait = this.#policy.delay(performance.now());
    if (wait > 0) setTimeout(this.#endOfTurn, wait);
    else setImmediate(this.#endOfTurn);
  }

  #onEndOfTurn(): void {
    this.#scheduled = false;
    let sockets = this.#waitingCount;
    let frames = this.#framesSinceFlush;
    for (const audience of this.#audiences) {
      sockets += audience.members.length;
      frames += audience.waitingDeliveries;
    }
    this.#policy.flushing(performance.now(), sockets, frames);
    this.#flushAll();
  }

  #flushAll(): void {
    // Audiences first: a member's outbox that holds frames of its own takes the rest of the
    // audience's after them and is written then; the loop below finds it empty.
    for (const audience of this.#audiences.splice(0)) audience.flush();
    // Written in order; an outbox filled again by a write's events joins the end and is written too.
    for (let i = 0; i < this.#waitingCount; i++) {
      const outlet = this.#waiting[i] as Outlet;
      this.#waiting[i] = undefined;
      outlet.waiting = false;
      outlet.write();
    }
    this.#waitingCount = 0;
    this.#framesSinceFlush = 0;
    for (const socket of this.#corked) socket.uncork();
    this.#corked.clear();
    this.#heldBytes = 0;
  }
}

/**
 * One socket's write end, and the frames waiting for the end of the turn for it (its outbox), in
 * the order they were sent. A socket has one for its life, kept by its owner (a connection, a
 * link): a broadcast to 10,000 clients made 10,000 outboxes and a map of them anew each turn, and
 * the major GC then found them in the old space (most of what a join storm promoted to die there:
 * docs/benchmark-log.md). The outbox is empty between turns, so it keeps no segment alive.
 *
 * Everything sent to the socket goes through here, and whatever is not a frame built once first
 * writes what waits in the outbox: the order holds without the caller having to remember it.
 * Sending to a closed socket is a no-op, not a throw.
 */
export class Outlet {
  /** Runs before the current one (a frame that did not follow the last broke the run). */
  earlier: Buffer[] | undefined = undefined;
  /** The first frame: what is written as it is when it is all there is (most turns at low load). */
  first: Buffer | undefined = undefined;
  /** The current run: bytes start..end of one buffer, frames that follow each other there. */
  run: ArrayBufferLike | undefined = undefined;
  start = 0;
  end = 0;
  bytes = 0;
  /** What the socket and ws held when the outbox started to fill (see sendFramed). */
  heldBefore = 0;
  /** In the wire's waiting list: written at the end of this turn. */
  waiting = false;
  /** The audience the socket is in, if any, how many of its waiting frames are in this outbox already, and where it is in its list. */
  audience: AudienceOfOutlet | undefined = undefined;
  seen = 0;
  index = 0;

  constructor(
    readonly ws: WebSocket,
    private readonly wire: Wire,
  ) {}

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Send one frame (JSON), after what waits. */
  send(frame: object): boolean {
    return this.sendEncoded(encode(frame));
  }

  /** Send one encoded frame as a text frame, after what waits. */
  sendEncoded(data: Buffer): boolean {
    if (!this.isOpen) return false;
    this.flush();
    this.ws.send(data, TEXT);
    return true;
  }

  /**
   * Relays to peer links send through here. The socket is corked until the end of this event-loop
   * turn, so every frame it gets in the turn leaves in one writev instead of one syscall each: under
   * load, many events arrive per turn and the syscalls — most of a server's time — drop by that
   * factor. The frames leave right after the turn's I/O callbacks (setImmediate), or under load
   * a little later (FlushPolicy). A burst must not pile up: once a turn holds TURN_BUDGET_BYTES
   * across all sockets, everything is flushed at once and batching restarts.
   */
  sendBatched(data: Buffer): boolean {
    if (!this.isOpen) return false;
    this.flush();
    const socket = socketOf(this.ws);
    this.wire.cork(socket);
    this.ws.send(data, TEXT);
    this.wire.countCorked(socket, data.length);
    return true;
  }

  /**
   * Send a frame built once: it waits in the outbox until the end of the turn, when everything the
   * socket got in the turn leaves in one write. A delivery costs a comparison or two — the frame
   * usually starts where the socket's last one ended, in the same segment — not a trip through
   * the socket's stream machinery (measured: that was a third of the server's time under
   * overload). An outbox is flushed on its own once it holds SOCKET_BUDGET_BYTES, so what waits
   * never hides a slow consumer for long.
   *
   * 'slow', and nothing sent, when what the socket has not sent yet (what its socket and ws hold,
   * and its outbox) is past `maxUnsent`; 'closed' when it is not open as its outbox starts to fill
   * (a socket that closes while its outbox waits is found at the write, which drops what waits).
   */
  sendFramed(frame: TextFrame, maxUnsent: number): 'sent' | 'slow' | 'closed' {
    this.audience?.catchUp(this);
    if (this.bytes === 0) {
      if (!this.isOpen) return 'closed';
      // What the socket and ws hold grows only when something is written to them, and the outbox
      // is emptied before anything is written: read it when the outbox starts to fill, not per delivery.
      this.heldBefore = this.ws.bufferedAmount;
    }
    // It may have shrunk since (a write completed): read it again before calling the client slow.
    if (this.heldBefore + this.bytes > maxUnsent && this.unsent() > maxUnsent) return 'slow';
    this.put(frame);
    this.wire.countFrames(1);
    this.wire.countTurn(frame.end - frame.start);
    return 'sent';
  }

  /**
   * Send `frame` with more fields whose JSON is already at hand as bytes (splicedFrames: the
   * welcome's list of everyone, in fragments, its kept bytes as they are), then the frames `after`
   * it, all in one write: a newcomer's welcome and history are one writev, not one per fragment and
   * frame.
   */
  sendSpliced(frame: object, json: Record<string, readonly Buffer[]>, after: readonly object[] = []): boolean {
    if (!this.isOpen) return false;
    this.flush();
    const buffers = splicedFrames(frame, json);
    for (const next of after) buffers.push(...framed(encode(next)));
    writeRuns(this.ws, buffers, () => Buffer.concat(buffers));
    return true;
  }

  /** Close with a reason, after what waits, shortened to fit (by whole characters: half a character would not fit). */
  close(code: number, reason: string): void {
    const { readyState } = this.ws;
    if (readyState === WebSocket.CLOSED || readyState === WebSocket.CLOSING) return;
    this.flush();
    let fitted = reason;
    if (Buffer.byteLength(fitted) > MAX_CLOSE_REASON_BYTES) {
      fitted = '';
      for (const ch of reason) {
        if (Buffer.byteLength(fitted + ch) > MAX_CLOSE_REASON_BYTES) break;
        fitted += ch;
      }
    }
    this.ws.close(code, fitted);
  }

  /** What the socket has not sent yet: what its socket and ws hold, and what waits in its outbox (at most SOCKET_BUDGET_BYTES). */
  unsent(): number {
    return this.ws.bufferedAmount + this.bytes + (this.audience?.waitingFor(this) ?? 0);
  }

  /** Write what waits now (what the audience published since this outlet last caught up, too). */
  flush(): void {
    this.audience?.catchUp(this);
    this.write();
  }

  /** Put `frame` in the outbox after what waits there; written at the end of the turn, or once the outbox is full. */
  put(frame: TextFrame): void {
    if (this.bytes === 0) {
      this.first = frame.bytes;
      this.run = frame.buffer;
      this.start = frame.start;
      this.end = frame.start;
      if (!this.waiting) {
        this.waiting = true;
        this.wire.waitFor(this);
      }
    }
    if (this.run === frame.buffer && this.end === frame.start) this.end = frame.end;
    else {
      this.earlier ??= [];
      this.earlier.push(this.#currentRun());
      this.run = frame.buffer;
      this.start = frame.start;
      this.end = frame.end;
    }
    this.bytes += frame.end - frame.start;
    if (this.bytes > SOCKET_BUDGET_BYTES) this.write();
  }

  /**
   * One write: the outbox's runs as they are, no copy (runs in two segments go in one writev: a
   * copy joining them was, with the garbage it left, a sixth of the server's time under overload).
   * A socket that still has a write pending is backed up, and its next write may wait in memory
   * for long: it gets one copy of it all, so a slow client keeps alive only its own bytes, not the
   * segments they were in. Dropped when the socket is no longer open. The outbox is left empty.
   */
  write(): void {
    const { bytes, earlier, first } = this;
    if (bytes === 0 || !first) return;
    const last = bytes === first.length ? first : this.#currentRun();
    this.empty();
    const runs = earlier ?? [];
    runs.push(last);
    writeRuns(this.ws, runs, () => Buffer.concat(runs, bytes));
  }

  /** Forget what waits (a slow member's: it gets none of it). */
  empty(): void {
    this.earlier = undefined;
    this.first = undefined;
    this.run = undefined;
    this.bytes = 0;
  }

  #currentRun(): Buffer {
    return Buffer.from(this.run as ArrayBuffer, this.start, this.end - this.start);
  }
}

/** RFC 6455 allows a close reason of at most 123 UTF-8 bytes. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Write `runs` to `ws`'s socket as they are: one run in one write, runs in different segments (the
 * frames crossed into a new one) in one writev, no copy. A socket still writing gets `copy()` of
 * them instead (see Outlet.write). Dropped when the socket is no longer open.
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
 * The TCP socket under `ws`. ws has no public way to write bytes it did not frame, nor to cork:
 * its `_socket` is the one place this module reaches inside it. Bytes written here go after what
 * ws has written and before what it writes next: without compression (off on ws's servers unless
 * asked for, and never asked for here) ws writes to the socket as it is called.
 */
const socketOf = (ws: WebSocket): Socket => (ws as unknown as { _socket: Socket })._socket;

/** What an audience's members are: anything that keeps its socket's outlet. */
export interface AudienceMember {
  readonly outlet: Outlet;
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
export class Audience<M extends AudienceMember> implements AudienceOfOutlet, PendingAudience {
  readonly #members: M[] = [];
  /** Published since the last flush, in order, and their bytes. */
  #frames: TextFrame[] = [];
  #bytes = 0;
  #pending = false;

  constructor(
    private readonly wire: Wire,
    private readonly maxUnsent: number,
    private readonly onSlow: (members: M[]) => void,
  ) {}

  get members(): readonly M[] {
    return this.#members;
  }

  /** Frames published from now on go to `member` (not those before: it was not here for them). */
  add(member: M): void {
    const { outlet } = member;
    outlet.audience?.detach(outlet);
    outlet.audience = this;
    outlet.seen = this.#frames.length;
    outlet.index = this.#members.length;
    this.#members.push(member);
  }

  /** No more frames to `member`; those published while it was one still go to it. */
  remove(member: M): void {
    this.detach(member.outlet);
  }

  detach(outlet: Outlet): void {
    if (outlet.audience !== this) return;
    this.catchUp(outlet);
    outlet.audience = undefined;
    // The last member takes its place: the order among sockets is not the order of anything.
    const last = this.#members.pop() as M;
    if (last.outlet !== outlet) {
      last.outlet.index = outlet.index;
      this.#members[outlet.index] = last;
    }
  }

  /**
   * `data` to every member (but `except`): framed once, no work per member until the flush. The one
   * left out takes what came before it now and skips it; it catches up on what follows as usual.
   */
  publish(data: Buffer | TextFrame, except?: M): void {
    if (this.#members.length === 0) return;
    const frame = data instanceof TextFrame ? data : this.wire.frame(data);
    if (!this.#pending) {
      this.#pending = true;
      this.wire.waitForAudience(this);
    }
    const skipping = except?.outlet.audience === this ? except.outlet : undefined;
    if (skipping) this.catchUp(skipping);
    this.#frames.push(frame);
    if (skipping) skipping.seen = this.#frames.length;
    const size = frame.end - frame.start;
    this.#bytes += size;
    if (this.#bytes > SOCKET_BUDGET_BYTES) this.flush();
    else this.wire.countTurn(size * this.#members.length);
  }

  /** `data` to some members only (framed once for all of them); those too far behind get nothing and are told to `onSlow`. */
  sendTo(members: readonly M[], data: Buffer): void {
    const frame = this.wire.frame(data);
    const slow: M[] = [];
    for (const member of members) if (member.outlet.sendFramed(frame, this.maxUnsent) === 'slow') slow.push(member);
    if (slow.length > 0) this.onSlow(slow);
  }

  /** Put in `outlet`'s outbox the frames published since it last caught up. */
  catchUp(outlet: Outlet): void {
    const frames = this.#frames;
    for (let i = outlet.seen; i < frames.length; i++) outlet.put(frames[i] as TextFrame);
    outlet.seen = frames.length;
  }

  /** The bytes published that `outlet` has not caught up with. */
  waitingFor(outlet: Outlet): number {
    let bytes = 0;
    for (let i = outlet.seen; i < this.#frames.length; i++) bytes += (this.#frames[i] as TextFrame).end - (this.#frames[i] as TextFrame).start;
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
      const { outlet } = member;
      const { ws } = outlet;
      if (outlet.bytes > 0 || outlet.seen > 0) {
        // It got frames of its own in between: the rest follow them in its outbox.
        this.catchUp(outlet);
        outlet.seen = 0;
        if (ws.bufferedAmount + outlet.bytes > this.maxUnsent) {
          outlet.empty();
          slow.push(member);
        } else outlet.write();
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

/** What an outlet asks of its audience, and the turn of an audience with frames waiting (whatever its members are). */
interface AudienceOfOutlet {
  catchUp(outlet: Outlet): void;
  waitingFor(outlet: Outlet): number;
  detach(outlet: Outlet): void;
}
interface PendingAudience {
  readonly members: readonly unknown[];
  readonly waitingDeliveries: number;
  flush(): void;
}
