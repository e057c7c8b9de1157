// The clients connected to this server (the seminar's `Clients` list) and the fan-out to them.
// Changes of who is here (join, leave, away, back) go out together: a run of them is one `batch`
// frame (a few bytes per name), so a storm of joins — or of lost connections and resumes, when a
// server fails — does not cost every client a frame per person. One goes out within a
// millisecond, or, if some went out less than BATCH_EVERY_MS before, once that much time has
// passed: a lone join is not delayed, and a storm costs every client one frame per period.
// Anything else sent to clients first sends what waits before it, so the order holds; a frame
// sent to a client outside this fan-out that must come after them calls flush() first.
import { type ChatEvent, forClients, forClientsBatched, type IsTyping, isBatched, privateTo } from '../shared/protocol.js';
import type { Connection } from './connections.js';
import { encode } from './json-bytes.js';

/**
 * Batches go out at most this often. Measured (docs/benchmark-log.md): a storm of 5,000 joins took
 * 9.0 s sent every turn, 6.6 s every 100 ms, 5.9 s every 250 ms; one of 10,000, 5.6 s every
 * 250 ms, 5.2 s every 500 ms and every 1,000 ms (a third fewer writes, a tenth less CPU). Only a
 * storm waits this long; a lone join or leave goes out at once.
 */
const BATCH_EVERY_MS = 500;

/**
 * How the bytes reach many clients (the wire's Audience, wire/wire.ts): a frame published once
 * for everyone, or framed once for a few; members too far behind are reported to the `onSlow`
 * the fan-out was made with, after the send or flush.
 */
export interface FanOut<M> {
  add(member: M): void;
  remove(member: M): void;
  publish(data: Buffer, except?: M): void;
  sendTo(members: readonly M[], data: Buffer): void;
}

export class LocalClients {
  readonly #byName = new Map<string, Connection>();
  /** Everyone: what is broadcast goes to the fan-out once, not to each. */
  readonly #everyone: FanOut<Connection>;
  /** Joins, leaves, aways and backs not sent yet. */
  #waiting: ChatEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #sentAt = 0;

  /**
   * @param fanOut makes the fan-out to every client, with what it calls for members that fell behind
   * @param onSlow called once for each client past the limit, after it has been removed and the
   *   send (or, for what goes to everyone, the flush) has finished: what it does (publish a leave,
   *   say) cannot re-enter it
   */
  constructor(
    fanOut: (onSlow: (slow: Connection[]) => void) => FanOut<Connection>,
    private readonly onSlow: (name: string, connection: Connection) => void,
  ) {
    this.#everyone = fanOut((slow) => this.#dropSlow(slow));
  }

  /** `name` is here now, on `connection` (a client that resumed replaces its old one). */
  add(name: string, connection: Connection): void {
    this.remove(name);
    this.#everyone.add(connection);
    this.#byName.set(name, connection);
  }

  remove(name: string): Connection | undefined {
    const connection = this.#byName.get(name);
    if (!connection) return undefined;
    this.#byName.delete(name);
    this.#everyone.remove(connection);
    return connection;
  }

  /** The connection `name` is on here, if it is one of this server's clients. */
  connection(name: string): Connection | undefined {
    return this.#byName.get(name);
  }

  names(): string[] {
    return [...this.#byName.keys()];
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  get size(): number {
    return this.#byName.size;
  }

  /** Send the same encoded frame to every client; never waits on a slow one. */
  broadcast(data: Buffer): void {
    this.flush();
    this.#everyone.publish(data);
  }

  /**
   * An event to the clients who may see it: everyone, or a direct message's two people. `data`:
   * its encoding, when the caller has it (a batched event is encoded with its batch instead).
   */
  deliver(event: ChatEvent, data?: Buffer): void {
    if (isBatched(event)) {
      this.#waiting.push(event);
      this.#timer ??= setTimeout(() => this.flush(), this.#sentAt + BATCH_EVERY_MS - Date.now()).unref();
      return;
    }
    this.flush();
    // The resume key stays between servers: clients get the event without it.
    const seen = forClients(event);
    const bytes = seen === event && data ? data : encode(seen);
    const to = privateTo(event);
    if (to === undefined) return this.broadcast(bytes);
    // Exactly the two people visibleTo() lets see it: its sender and its addressee, where they are ours.
    this.#everyone.sendTo(
      [event.name, to].flatMap((name) => this.#byName.get(name) ?? []),
      bytes,
    );
  }

  /** "Typing…" (`data`: its encoding) to whom it concerns: everyone else, or the one it is written to. */
  typing(typing: IsTyping, data: Buffer): void {
    this.flush();
    if (typing.to !== undefined) {
      const to = this.#byName.get(typing.to);
      return to ? this.#everyone.sendTo([to], data) : undefined;
    }
    this.#everyone.publish(data, this.#byName.get(typing.name));
  }

  /** Send what waits now, to everyone: each run that one `batch` frame can stand for as that frame. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#waiting.length === 0) return;
    const waiting = this.#waiting;
    this.#waiting = [];
    this.#sentAt = Date.now();
    for (const item of forClientsBatched(waiting)) this.#everyone.publish(encode(item));
  }

  #dropSlow(slow: readonly Connection[]): void {
    // Removed first, so no later broadcast finds (and reports) the same client again.
    const dropped: Array<[string, Connection]> = [];
    for (const connection of slow) {
      const name = connection.role.kind === 'client' ? connection.role.name : undefined;
      if (name === undefined || this.#byName.get(name) !== connection) continue;
      this.remove(name);
      dropped.push([name, connection]);
    }
    for (const [name, connection] of dropped) this.onSlow(name, connection);
  }
}
