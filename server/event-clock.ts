// Where this server's events get their place in the set's order: its origin id (its signing key's:
// server-key.ts), the next sequence number of that origin, and its Lamport clock (one more than
// anything it has published or seen). Kept in the data folder through the store, so a restarted
// server goes on counting.
import { randomBytes } from 'node:crypto';
import type { ChatEvent } from '../shared/protocol.js';
import type { Identity } from './store-messages.js';

export class EventClock {
  readonly origin: string;
  #seq: number;
  #clock: number;

  /**
   * @param origin this server's origin id (its key's); an identity kept under another (a data
   *   folder from before servers had keys) keeps its clock, and the new origin counts from 1
   * @param save called with the new identity after every event (the store writes it in its next batch)
   */
  constructor(
    identity: Identity | undefined,
    origin: string,
    private readonly save: (identity: Identity) => void = () => {},
  ) {
    this.origin = origin;
    this.#seq = identity?.origin === origin ? identity.seq : 0;
    this.#clock = identity?.clock ?? 0;
  }

  /** A peer's event was seen: this server's next event comes after it (Lamport). */
  observe(clock: number): void {
    this.#clock = Math.max(this.#clock, clock);
  }

  /** A new event of this server's, about `name` on `server`. */
  next<T extends ChatEvent['type']>(type: T, name: string, server: string, extra: object = {}): ChatEvent {
    const seq = ++this.#seq;
    const clock = ++this.#clock;
    this.save({ origin: this.origin, seq, clock });
    return { type, name, ...extra, id: `${this.origin}-${seq}`, origin: this.origin, seq, clock, server, ts: Date.now() } as ChatEvent;
  }

  /**
   * A notice for this server's own clients, not part of the set's history: it takes no seq (its
   * id is `origin-seq.random`, which no history event has) and is never sent to peers.
   */
  notice(type: 'away' | 'back' | 'leave', name: string, server: string): ChatEvent {
    const seq = Math.max(1, this.#seq);
    return { type, name, id: `${this.origin}-${seq}.${randomBytes(4).toString('hex')}`, origin: this.origin, seq, clock: this.#clock, server, ts: Date.now() };
  }
}
