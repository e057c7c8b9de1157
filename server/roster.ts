// Who is connected where, across the whole set of servers. A server keeps its own clients' names
// and what peers told it (`roster` frames, then `join`/`leave`/`away`/`back` events). Names are held
// by key (names.ts): one holder per key across the set, so look-alikes cannot be present together.
import type { Buddy, ChatEvent } from '../shared/protocol.js';
import { nameKey } from './names.js';

/** How a name was claimed: by a join event (its place in the set's order), or by a roster (all 0). */
export interface Claim {
  /** Wall time of the join on its origin's clock (0: held before this server knew). */
  since: number;
  clock: number;
  origin: string;
  /** SHA-256 of the buddy's resume token: who may come back as this buddy. */
  key?: string;
}

export interface Holder extends Claim {
  readonly name: string;
  readonly server: string;
  /** The buddy's connection dropped; its name is kept for it until the grace period ends. */
  away: boolean;
  /** Presence set by hand (a `presence` event): shown to everyone, kept across a resume. */
  status?: 'away';
}

const NO_CLAIM: Claim = { since: 0, clock: 0, origin: '' };

export class Roster {
  readonly #byKey = new Map<string, Holder>();
  readonly #byServer = new Map<string, Set<string>>();

  /** Who holds `name`, or a name people would take for it. */
  holder(name: string): Holder | undefined {
    return this.#byKey.get(nameKey(name));
  }

  /** `name` is held, exactly so, by a buddy on `server`. */
  isOn(server: string, name: string): boolean {
    const holder = this.holder(name);
    return holder !== undefined && holder.server === server && holder.name === name;
  }

  /** Claim `name` for a buddy on `server`; whoever held its key before is replaced. */
  add(server: string, name: string, claim: Claim = NO_CLAIM): Holder {
    const key = nameKey(name);
    const previous = this.#byKey.get(key);
    if (previous) this.#byServer.get(previous.server)?.delete(key);
    const holder: Holder = { ...claim, name, server, away: false };
    this.#byKey.set(key, holder);
    const keys = this.#byServer.get(server) ?? new Set<string>();
    this.#byServer.set(server, keys);
    keys.add(key);
    return holder;
  }

  /**
   * `name` is on `server` by `event` — a join, or a `back` after a lost connection. A buddy that
   * comes back keeps the place of its first claim: that is what a name clash after a split compares.
   * `key` (the resume key) defaults to the one held before.
   */
  claimBy(server: string, name: string, event: Pick<ChatEvent, 'type' | 'ts' | 'clock' | 'origin'>, key?: string): Holder {
    const previous = this.holder(name);
    const first = event.type === 'back' && previous?.name === name && previous.clock > 0 ? previous : undefined;
    const kept = key ?? previous?.key;
    const holder = this.add(server, name, {
      since: first?.since ?? event.ts,
      clock: first?.clock ?? event.clock,
      origin: first?.origin ?? event.origin,
      ...(kept ? { key: kept } : {}),
    });
    // A buddy that comes back keeps the presence it had set.
    if (event.type === 'back' && previous?.name === name && previous.status) holder.status = previous.status;
    return holder;
  }

  /** Forget `name` if a buddy on `server` holds it; returns whether one did. */
  remove(server: string, name: string): boolean {
    if (!this.isOn(server, name)) return false;
    const key = nameKey(name);
    this.#byKey.delete(key);
    this.#byServer.get(server)?.delete(key);
    return true;
  }

  /** How many buddies `server` has. */
  countOn(server: string): number {
    return this.#byServer.get(server)?.size ?? 0;
  }

  /** The buddies on `server`. */
  on(server: string): Holder[] {
    return [...(this.#byServer.get(server) ?? [])].map((key) => this.#byKey.get(key)!);
  }

  /** Everyone, as a welcome lists them: names under their server, and who shows as away. */
  grouped(): { roster: Record<string, string[]>; away: string[] } {
    const roster: Record<string, string[]> = {};
    const away: string[] = [];
    for (const { name, server, status } of this.#byKey.values()) {
      const names = roster[server] ?? [];
      names.push(name);
      roster[server] = names;
      if (status === 'away') away.push(name);
    }
    return { roster, away };
  }

  buddies(): Buddy[] {
    const all: Buddy[] = [];
    for (const { name, server, status } of this.#byKey.values()) all.push({ name, server, ...(status ? { status } : {}) });
    return all;
  }
}
