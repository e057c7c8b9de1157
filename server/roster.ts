// Who is connected where, across the whole set of servers. A server keeps its own clients' names
// and what peers told it (`roster` frames, then `join`/`leave` events). Names are held by key
// (names.ts): one holder per key across the set, so look-alikes cannot be present together.
import type { Buddy } from '../shared/protocol.js';
import { nameKey } from './names.js';

export interface Holder {
  readonly name: string;
  readonly server: string;
  /** The `ts` of the join that claimed the name; 0 when it came in a roster (held before we knew). */
  readonly since: number;
}

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
  add(server: string, name: string, since = 0): void {
    const key = nameKey(name);
    const previous = this.#byKey.get(key);
    if (previous) this.#byServer.get(previous.server)?.delete(key);
    this.#byKey.set(key, { name, server, since });
    const keys = this.#byServer.get(server) ?? new Set<string>();
    this.#byServer.set(server, keys);
    keys.add(key);
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

  /** Forget a server's buddies (it left or failed) and return who they were. */
  dropServer(server: string): string[] {
    const keys = this.#byServer.get(server);
    this.#byServer.delete(server);
    const names: string[] = [];
    for (const key of keys ?? []) {
      names.push(this.#byKey.get(key)!.name);
      this.#byKey.delete(key);
    }
    return names;
  }

  buddies(): Buddy[] {
    const all: Buddy[] = [];
    for (const { name, server } of this.#byKey.values()) all.push({ name, server });
    return all;
  }
}
