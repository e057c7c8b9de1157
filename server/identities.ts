// Whom each name belongs to, across the set (docs/protocol.md § Identity). A name's first claim by
// a device with a key binds it to that key: the join carries `bind` and the key. The operator can
// release it (`release`). These events are the set's like any other — ordered, replicated,
// backfilled — but kept here for good, apart from the bounded history, and replayed per name in
// the set's order, so every server comes to the same owner whatever order they arrived in: of two
// claims made apart during a split, the one earlier in the set's order keeps the name.
//
// A name's *era* is what its private events are handed to: the claim that bound it, or (while it
// is bound to nobody) the release before, or '' before any. A direct message or file is shown to
// its two people only in the era it was sent in: a name claimed anew after a release does not get
// the last owner's. The name's first claim also gets what the name had before it was ever bound
// (then a name was whoever typed it: the person upgrading keeps their conversations).
import { type ChatEvent, isIdentityEvent, privateTo, visibleTo } from '../shared/protocol.js';
import { compareEvents } from './history.js';
import { nameKey } from './names.js';

/** Whom a name is bound to now. */
export interface Owner {
  /** The name as its claim spelt it. */
  readonly name: string;
  /** The device keys that may join as it. */
  readonly keys: readonly string[];
  /** The key that claimed it: the person's safety number is made from it (shared/fingerprint.ts). */
  readonly founder: string;
  /** The id of the join that bound it: its era. */
  readonly claim: string;
  /** When that was (ms, its origin's clock). */
  readonly since: number;
}

interface State {
  owner: Owner | undefined;
  era: string;
  /** The owner claimed the name from its start (no release before): it also has what the name had before any claim. */
  first: boolean;
}

/** Where identity events are kept for good (store.ts). */
export interface IdentityStore {
  loadIdentities(): ChatEvent[];
  appendIdentity(event: ChatEvent): void;
}

/** What changed when an event was applied: a name's owner before and after. */
export interface OwnerChange {
  name: string;
  before: Owner | undefined;
  after: Owner | undefined;
}

/** Names' keys are computed often (every private event a page shows): the last ones are kept. */
const KEY_CACHE = 4096;

export class Identities {
  /** Per name key, its identity events in the set's order. */
  readonly #events = new Map<string, ChatEvent[]>();
  /** Per name key, the state its events come to. */
  readonly #states = new Map<string, State>();
  readonly #ids = new Set<string>();
  readonly #keys = new Map<string, string>();

  constructor(private readonly store?: IdentityStore) {
    for (const event of store?.loadIdentities() ?? []) this.#record(event);
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Keep `event` (a join that binds, a release) if it is new; says how the name's owner changed. */
  apply(event: ChatEvent): OwnerChange | undefined {
    if (!isIdentityEvent(event) || this.#ids.has(event.id)) return undefined;
    const key = this.#keyOf(event.name);
    const before = this.#states.get(key)?.owner;
    this.#record(event);
    this.store?.appendIdentity(event);
    const after = this.#states.get(key)?.owner;
    return sameOwner(before, after) ? undefined : { name: event.name, before, after };
  }

  /** Whom `name` (or a name people would take for it) is bound to; undefined: nobody. */
  owner(name: string): Owner | undefined {
    return this.#states.get(this.#keyOf(name))?.owner;
  }

  /** May a device with `device` (undefined: none) be `name`? Yes when the name is free, or its key is one of the name's. */
  admits(name: string, device: string | undefined): boolean {
    const owner = this.owner(name);
    return owner === undefined || (device !== undefined && owner.keys.includes(device) && owner.name === name);
  }

  /**
   * May the person who is `name` now see `event`? A public one, yes; a private one only if they are
   * one of its two people and it was sent in their name's present era.
   */
  sees(event: ChatEvent, name: string): boolean {
    if (!visibleTo(event, name)) return false;
    if (privateTo(event) === undefined || this.#ids.size === 0) return true;
    const key = this.#keyOf(name);
    const events = this.#events.get(key);
    const then = events ? replay(events, event).era : '';
    const now = this.#states.get(key);
    return then === (now?.era ?? '') || (then === '' && now?.first === true);
  }

  /** The identity events a peer that has seen `seen` lacks. */
  missing(seen: Readonly<Record<string, number>>): ChatEvent[] {
    const missing: ChatEvent[] = [];
    for (const events of this.#events.values()) for (const e of events) if (e.seq > (seen[e.origin] ?? 0)) missing.push(e);
    return missing.sort(compareEvents);
  }

  /** The identity events of these names (a link opening sends its buddies' before their names). */
  of(names: readonly string[]): ChatEvent[] {
    return names.flatMap((name) => this.#events.get(this.#keyOf(name)) ?? []);
  }

  #record(event: ChatEvent): void {
    const key = this.#keyOf(event.name);
    const events = this.#events.get(key) ?? [];
    let at = events.length;
    while (at > 0 && compareEvents(events[at - 1]!, event) > 0) at--;
    events.splice(at, 0, event);
    this.#events.set(key, events);
    this.#ids.add(event.id);
    this.#states.set(key, replay(events));
  }

  #keyOf(name: string): string {
    let key = this.#keys.get(name);
    if (key === undefined) {
      if (this.#keys.size >= KEY_CACHE) this.#keys.clear();
      key = nameKey(name);
      this.#keys.set(name, key);
    }
    return key;
  }
}

/** The same claim with the same keys (a replay makes new objects for an unchanged owner). */
function sameOwner(a: Owner | undefined, b: Owner | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.claim === b.claim && a.keys.length === b.keys.length && a.keys.every((key, i) => key === b.keys[i]);
}

/** A name's state after its identity events (those before `until` in the set's order, if given). */
function replay(events: readonly ChatEvent[], until?: ChatEvent): State {
  let state: State = { owner: undefined, era: '', first: false };
  for (const e of events) {
    if (until && compareEvents(e, until) >= 0) break;
    if (e.type === 'join' && e.bind && e.device && !state.owner) {
      // The first claim while the name is free binds it; a later one (made apart, in a split) does not.
      state = { owner: { name: e.name, keys: [e.device], founder: e.device, claim: e.id, since: e.ts }, era: e.id, first: state.era === '' };
    } else if (e.type === 'release' && state.owner) {
      state = { owner: undefined, era: e.id, first: false };
    }
  }
  return state;
}
