// Who is connected where, across the whole set of servers. A server keeps its own clients'
// names and what peers told it (`roster` frames, then `join`/`leave` events).
import type { Buddy } from '../shared/protocol.js';

export class Roster {
  readonly #byServer = new Map<string, Set<string>>();

  add(server: string, name: string): void {
    let names = this.#byServer.get(server);
    if (!names) this.#byServer.set(server, (names = new Set()));
    names.add(name);
  }

  remove(server: string, name: string): void {
    this.#byServer.get(server)?.delete(name);
  }

  /** Forget a server's buddies (it left or failed) and return who they were. */
  dropServer(server: string): string[] {
    const names = this.#byServer.get(server);
    this.#byServer.delete(server);
    return names ? [...names] : [];
  }

  hasName(name: string): boolean {
    for (const names of this.#byServer.values()) if (names.has(name)) return true;
    return false;
  }

  namesOn(server: string): string[] {
    return [...(this.#byServer.get(server) ?? [])];
  }

  buddies(): Buddy[] {
    const all: Buddy[] = [];
    for (const [server, names] of this.#byServer) for (const name of names) all.push({ name, server });
    return all;
  }

  get size(): number {
    let n = 0;
    for (const names of this.#byServer.values()) n += names.size;
    return n;
  }
}
