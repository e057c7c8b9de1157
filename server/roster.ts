// Who is connected where, across the whole set of servers. A server keeps its own clients' names
// and what peers told it (`roster` frames, then `join`/`leave`/`away`/`back` events). Names are held
// by key (names.ts): one holder per key across the set, so look-alikes cannot be present together.
// The welcome lists everyone, and thousands may join at once: the roster keeps that list's JSON
// bytes up to date as names come, so a welcome copies them rather than building them anew.
import type { Buddy, ChatEvent, Status } from '../shared/protocol.js';
import { JsonList } from './json-bytes.js';
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
  /** Presence set by hand (a `presence` event): shown to everyone, kept across a resume. Set by Roster.setStatus. */
  readonly status?: 'away';
}

const NO_CLAIM: Claim = { since: 0, clock: 0, origin: '' };

export class Roster {
  readonly #byKey = new Map<string, Holder>();
  readonly #byServer = new Map<string, Set<string>>();
  /** Per server, its names as JSON: appended to on a join, dropped when a name goes, rebuilt when asked for. */
  readonly #namesJson = new Map<string, JsonList>();
  /** Keys of the holders whose status is away. */
  readonly #away = new Set<string>();

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
    if (previous) this.#forget(key, previous);
    // Written out, not spread: every holder gets one shape with its fields in the object itself.
    const holder: Holder = { name, server, away: false, since: claim.since, clock: claim.clock, origin: claim.origin, key: claim.key };
    this.#byKey.set(key, holder);
    const keys = this.#byServer.get(server) ?? new Set<string>();
    this.#byServer.set(server, keys);
    keys.add(key);
    this.#namesJson.get(server)?.push(name);
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
    if (event.type === 'back' && previous?.name === name && previous.status) this.setStatus(holder, previous.status);
    return holder;
  }

  /** Forget `name` if a buddy on `server` holds it; returns whether one did. */
  remove(server: string, name: string): boolean {
    if (!this.isOn(server, name)) return false;
    const key = nameKey(name);
    this.#forget(key, this.#byKey.get(key)!);
    this.#byKey.delete(key);
    return true;
  }

  /** Presence set by hand: `available` clears it. */
  setStatus(holder: Holder, status: Status): void {
    const key = nameKey(holder.name);
    const writable = holder as { status?: 'away' };
    if (status === 'away') {
      this.#away.add(key);
      writable.status = 'away';
    } else {
      this.#away.delete(key);
      delete writable.status;
    }
  }

  /** `holder` no longer holds `key` where it was: out of its server's names. */
  #forget(key: string, holder: Holder): void {
    this.#byServer.get(holder.server)?.delete(key);
    this.#namesJson.delete(holder.server);
    this.#away.delete(key);
  }

  /** How many buddies `server` has. */
  countOn(server: string): number {
    return this.#byServer.get(server)?.size ?? 0;
  }

  /** The buddies on `server`. */
  on(server: string): Holder[] {
    return [...(this.#byServer.get(server) ?? [])].map((key) => this.#byKey.get(key)!);
  }

  /**
   * Everyone, as a welcome lists them, as JSON: `roster` (names under their server) and `away`
   * (who shows as away). Only a server whose names changed other than by a join is rebuilt.
   */
  welcomeJson(): { roster: Buffer[]; away: Buffer[] } {
    const roster: Buffer[] = [];
    for (const [server, keys] of this.#byServer) {
      if (keys.size === 0) continue;
      let names = this.#namesJson.get(server);
      if (names === undefined) {
        names = new JsonList([...keys].map((key) => this.#byKey.get(key)!.name));
        this.#namesJson.set(server, names);
      }
      roster.push(Buffer.from(`${roster.length === 0 ? '{' : ','}${JSON.stringify(server)}:[`), names.bytes(), Buffer.from(']'));
    }
    roster.push(Buffer.from(roster.length === 0 ? '{}' : '}'));
    const away = [...this.#away].map((key) => this.#byKey.get(key)!.name);
    return { roster, away: away.length === 0 ? [] : [Buffer.from(JSON.stringify(away))] };
  }

  buddies(): Buddy[] {
    const all: Buddy[] = [];
    for (const { name, server, status } of this.#byKey.values()) all.push({ name, server, ...(status ? { status } : {}) });
    return all;
  }
}
