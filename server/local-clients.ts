// The clients connected to this server (the seminar's `Clients` list) and the fan-out to them.
// Joins wait for the end of the event-loop turn and go out together: a run of consecutive joins
// is one `joins` frame (a few bytes per name), so a storm of joins does not cost every client a
// frame per newcomer. Anything else sent to clients first sends the joins before it, in order.
import type WebSocket from 'ws';
import { type ChatEvent, forClients, frame, type IsTyping, type JoinEvent, privateTo } from '../shared/protocol.js';
import { encode, sendBatched } from './wire.js';

export interface LocalClient {
  readonly name: string;
  readonly ws: WebSocket;
}

export class LocalClients {
  readonly #byName = new Map<string, LocalClient>();
  /** Joins of this turn, not sent yet. */
  #joins: JoinEvent[] = [];

  /**
   * @param maxBufferedBytes a client whose unsent data passes this is too slow to keep up
   * @param onSlow called once for each client past the limit, after it has been removed and the
   *   broadcast has finished: what it does (publish a leave, say) cannot re-enter this broadcast
   */
  constructor(
    private readonly maxBufferedBytes: number,
    private readonly onSlow: (client: LocalClient) => void,
  ) {}

  add(client: LocalClient): void {
    this.#byName.set(client.name, client);
  }

  remove(name: string): LocalClient | undefined {
    const client = this.#byName.get(name);
    this.#byName.delete(name);
    return client;
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
    this.#flushJoins();
    this.#send(this.#byName.values(), data);
  }

  /** An event (`data`: its encoding) to the clients who may see it: everyone, or a direct message's two people. */
  deliver(event: ChatEvent, data: Buffer): void {
    if (event.type === 'join') {
      if (this.#joins.length === 0) setImmediate(() => this.#flushJoins());
      this.#joins.push(event);
      return;
    }
    this.#flushJoins();
    // The resume key stays between servers: clients get the event without it.
    const seen = forClients(event);
    if (seen !== event) data = encode(seen);
    const to = privateTo(event);
    if (to === undefined) return this.broadcast(data);
    // Exactly the two people visibleTo() lets see it: its sender and its addressee, where they are ours.
    this.#send(
      [event.name, to].flatMap((name) => this.#byName.get(name) ?? []),
      data,
    );
  }

  /** "Typing…" (`data`: its encoding) to whom it concerns: everyone else, or the one it is written to. */
  typing(typing: IsTyping, data: Buffer): void {
    this.#flushJoins();
    if (typing.to !== undefined) {
      const to = this.#byName.get(typing.to);
      return to ? this.#send([to], data) : undefined;
    }
    this.#send(
      [...this.#byName.values()].filter((c) => c.name !== typing.name),
      data,
    );
  }

  /** The joins of this turn, to everyone: each run of consecutive ones (one origin, seq and clock one apart) as one frame. */
  #flushJoins(): void {
    if (this.#joins.length === 0) return;
    const joins = this.#joins;
    this.#joins = [];
    let run: JoinEvent[] = [];
    const send = () => {
      if (run.length > 0) this.#send(this.#byName.values(), encode(run.length === 1 ? forClients(run[0]!) : frame.joins(run)));
      run = [];
    };
    for (const join of joins) {
      const last = run.at(-1);
      if (last && !(join.origin === last.origin && join.server === last.server && join.seq === last.seq + 1 && join.clock === last.clock + 1)) send();
      run.push(join);
    }
    send();
  }

  #send(clients: Iterable<LocalClient>, data: Buffer): void {
    const slow: LocalClient[] = [];
    for (const client of clients) {
      if (client.ws.bufferedAmount > this.maxBufferedBytes) slow.push(client);
      else sendBatched(client.ws, data);
    }
    if (slow.length === 0) return;
    // Removed first, so no later broadcast finds (and reports) the same client again.
    for (const client of slow) this.#byName.delete(client.name);
    for (const client of slow) this.onSlow(client);
  }
}
