// The set's history as this server knows it: every event it published or received, in the set's
// order — by (clock, origin), the Lamport order every server and client agrees on — bounded by a
// count of messages, a count of presence events and a size (the oldest go first), and kept in an
// EventStore when the server has a data folder (store.ts). It answers what a joining client, a
// resuming client and a peer need.
import { type ChatEvent, clientIdOf, searchableText } from '../shared/protocol.js';
import type { HistoryIndex } from './search-index.js';
import type { EventStore } from './store.js';

export interface HistoryOptions {
  /** Most messages kept (texts, direct messages, files). */
  maxEvents: number;
  /**
   * Most presence events kept (joins, leaves, aways, backs, presence), apart from the messages:
   * someone toggling away and back all day must not push the conversation out.
   */
  maxPresence: number;
  /** Most bytes of serialized events kept. */
  maxBytes: number;
  store?: EventStore;
  /** A search index of what is here: told of every event that comes in and of every one trimmed. */
  index?: HistoryIndex;
  /** A file no event here refers to any more (the last one that did was dropped): its bytes can go. */
  onFileDropped?: (hash: string) => void;
}

/** The set's order: Lamport clock, then origin id. */
export function compareEvents(a: Pick<ChatEvent, 'clock' | 'origin'>, b: Pick<ChatEvent, 'clock' | 'origin'>): number {
  return a.clock - b.clock || (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0);
}

const cidKey = (name: string, cid: string) => `${name}\n${cid}`;

/** What the presence bound counts; everything else is a message. */
const isPresence = (event: ChatEvent): boolean => event.type !== 'message' && event.type !== 'direct' && event.type !== 'file';

/**
 * How far before a resuming client's last event its server looks for events it may not have seen
 * (concurrent ones): a few seconds of a busy chat, far more than servers' clocks drift apart.
 */
const CONCURRENT_WINDOW = 1000;

/** The file forgets what the history let go of this often (a delete per event would double the writes). */
const STORE_TRIM_EVERY = 1000;

export class History {
  readonly #events: ChatEvent[] = [];
  /** Every event here by id, with its size serialized (what the byte limit counts). */
  readonly #byId = new Map<string, { event: ChatEvent; bytes: number }>();
  readonly #byCid = new Map<string, string>();
  /** Per origin, the highest seq seen (what a peer's `sync` is answered from). */
  readonly #seen = new Map<string, number>();
  /** The files the events here share, by hash, and how many events share each. */
  readonly #files = new Map<string, number>();
  /** The bytes of those files (each once) per sender: what a person's upload quota counts. */
  readonly #fileBytesBy = new Map<string, { bytes: number; files: Map<string, number> }>();
  #bytes = 0;
  #messages = 0;
  /** Events were let go of (the bounds were reached). */
  #trimmed = false;
  /** Presence events in the order they came (those already trimmed are skipped when met). */
  #presence: ChatEvent[] = [];
  #presenceHead = 0;
  #presenceCount = 0;
  /** Ids let go of here that the file still holds: removed from it in batches. */
  #dropped: string[] = [];

  constructor(private readonly opts: HistoryOptions) {
    const limit = opts.maxEvents + opts.maxPresence + STORE_TRIM_EVERY;
    for (const event of opts.store?.load(limit) ?? []) this.#insert(event, JSON.stringify(event).length);
    // The limits hold here as they did before the restart (a file may hold what a batch had not removed yet).
    this.#trim();
    this.#flushDropped();
  }

  get size(): number {
    return this.#events.length;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /**
   * Add an event; false when it was here already (so it is not relayed twice). `bytes`: its size
   * serialized, when the caller has it (a broadcast serializes once; no need to do it again).
   */
  add(event: ChatEvent, bytes = JSON.stringify(event).length): boolean {
    if (this.#byId.has(event.id)) return false;
    this.#insert(event, bytes);
    this.opts.store?.append(event);
    this.#trim();
    if (this.#dropped.length >= STORE_TRIM_EVERY) this.#flushDropped();
    return true;
  }

  /** The event with this id, if it is (still) here. */
  get(id: string): ChatEvent | undefined {
    return this.#byId.get(id)?.event;
  }

  /**
   * Messages whose text has every word of `query` (any case), newest first, that `visible` passes:
   * the search of a server that keeps no file (a server with one asks its SearchIndex).
   */
  search(query: string, limit: number, visible: (e: ChatEvent) => boolean): ChatEvent[] {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const found: ChatEvent[] = [];
    for (let at = this.#events.length - 1; at >= 0 && found.length < limit; at--) {
      const e = this.#events[at]!;
      const text = searchableText(e)?.toLowerCase();
      if (text !== undefined && visible(e) && words.every((w) => text.includes(w))) found.push(e);
    }
    return found;
  }

  /** `event` is older than the history keeps: it has let events go, and `event` comes before all it holds. */
  before(event: ChatEvent): boolean {
    const oldest = this.#events[0];
    return this.#trimmed && oldest !== undefined && compareEvents(event, oldest) < 0;
  }

  /** When the oldest event here happened (ms since the epoch, its server's clock), if there is one. */
  get oldestTs(): number | undefined {
    return this.#events[0]?.ts;
  }

  /** Bytes of the files `name` shared that the events here still share, each once. */
  fileBytesOf(name: string): number {
    return this.#fileBytesBy.get(name)?.bytes ?? 0;
  }

  /** The hashes of the files the events here share. */
  fileHashes(): ReadonlySet<string> {
    return new Set(this.#files.keys());
  }

  /** The id a send with this `cid` from `name` was published as, if it was. */
  published(name: string, cid: string): string | undefined {
    return this.#byCid.get(cidKey(name, cid));
  }

  /**
   * The newest `limit` events before the event `before` (or the newest of all), oldest first,
   * counting only those `visible` passes (a client sees no one else's direct messages).
   */
  page(limit: number, before?: string, visible: (e: ChatEvent) => boolean = () => true): { events: ChatEvent[]; more: boolean } {
    let end = this.#events.length;
    if (before !== undefined) {
      const at = this.#events.findIndex((e) => e.id === before);
      end = at === -1 ? 0 : at;
    }
    const events: ChatEvent[] = [];
    let at = end - 1;
    for (; at >= 0 && events.length < limit; at--) if (visible(this.#events[at]!)) events.push(this.#events[at]!);
    while (at >= 0 && !visible(this.#events[at]!)) at--;
    return { events: events.reverse(), more: at >= 0 };
  }

  /**
   * Every event after `id` in the set's order that `visible` passes; undefined when `id` is not (or
   * no longer) here. With `seen` (origin → the highest seq a client saw of it), also the events
   * shortly before `id` of an origin it saw, past what it saw: published at the same time as its
   * last event, they reached its old server after that one, or never — a resume must bring them.
   */
  after(id: string, visible: (e: ChatEvent) => boolean = () => true, seen?: Readonly<Record<string, number>>): ChatEvent[] | undefined {
    const at = this.#events.findIndex((e) => e.id === id);
    if (at === -1) return undefined;
    const earlier: ChatEvent[] = [];
    for (let i = Math.max(0, at - CONCURRENT_WINDOW); seen && i < at; i++) {
      const e = this.#events[i]!;
      const saw = seen[e.origin];
      if (saw !== undefined && e.seq > saw && visible(e)) earlier.push(e);
    }
    return [...earlier, ...this.#events.slice(at + 1).filter(visible)];
  }

  /** The newest join (or back) of `name` on `server`: where that buddy's claim stands. */
  lastClaim(name: string, server: string): ChatEvent | undefined {
    for (let i = this.#events.length - 1; i >= 0; i--) {
      const e = this.#events[i]!;
      if ((e.type === 'join' || e.type === 'back') && e.name === name && e.server === server) return e;
    }
    return undefined;
  }

  /** The highest seq seen of `origin` (0: none). */
  seenOf(origin: string): number {
    return this.#seen.get(origin) ?? 0;
  }

  /** Per origin, the highest seq seen. */
  seen(): Record<string, number> {
    return Object.fromEntries(this.#seen);
  }

  /** The events a peer that has seen `seen` lacks, in order. */
  missing(seen: Record<string, number>): ChatEvent[] {
    return this.#events.filter((e) => e.seq > (seen[e.origin] ?? 0));
  }

  #insert(event: ChatEvent, bytes: number): void {
    // Almost every event is the newest: search from the end.
    let at = this.#events.length;
    while (at > 0 && compareEvents(this.#events[at - 1]!, event) > 0) at--;
    this.#events.splice(at, 0, event);
    this.#byId.set(event.id, { event, bytes });
    this.#bytes += bytes;
    const cid = clientIdOf(event);
    if (cid) this.#byCid.set(cidKey(event.name, cid), event.id);
    if (event.seq > (this.#seen.get(event.origin) ?? 0)) this.#seen.set(event.origin, event.seq);
    if (event.type === 'file') this.#countFile(event.name, event.file.hash, event.file.size, +1);
    if (isPresence(event)) {
      this.#presence.push(event);
      this.#presenceCount++;
    } else this.#messages++;
    this.opts.index?.add(event);
  }

  #trim(): void {
    // Presence first, oldest come first: its own bound, so it never pushes a message out.
    while (this.#presenceCount > this.opts.maxPresence) {
      const oldest = this.#presence[this.#presenceHead++]!;
      const at = this.#byId.has(oldest.id) ? this.#indexOf(oldest) : -1;
      if (at >= 0) this.#drop(at);
    }
    if (this.#presenceHead > 1024 && this.#presenceHead * 2 > this.#presence.length) {
      this.#presence = this.#presence.slice(this.#presenceHead);
      this.#presenceHead = 0;
    }
    while (this.#messages > this.opts.maxEvents || (this.#bytes > this.opts.maxBytes && this.#events.length > 1)) this.#drop(0);
  }

  /** Where `event` stands (-1: not here): the events are in the set's order. */
  #indexOf(event: ChatEvent): number {
    let low = 0;
    let high = this.#events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareEvents(this.#events[mid]!, event) < 0) low = mid + 1;
      else high = mid;
    }
    // One origin's clock is unique: the event is at `low`, or a step or two on.
    while (low < this.#events.length && this.#events[low] !== event && compareEvents(this.#events[low]!, event) === 0) low++;
    return this.#events[low] === event ? low : -1;
  }

  #drop(at: number): void {
    this.#trimmed = true;
    const [oldest] = this.#events.splice(at, 1) as [ChatEvent];
    this.#bytes -= this.#byId.get(oldest.id)?.bytes ?? 0;
    this.#byId.delete(oldest.id);
    if (isPresence(oldest)) this.#presenceCount--;
    else this.#messages--;
    const cid = clientIdOf(oldest);
    if (cid) this.#byCid.delete(cidKey(oldest.name, cid));
    if (oldest.type === 'file') this.#countFile(oldest.name, oldest.file.hash, oldest.file.size, -1);
    this.opts.index?.remove(oldest);
    if (this.opts.store) this.#dropped.push(oldest.id);
  }

  /** The file forgets what this history let go of. */
  #flushDropped(): void {
    if (this.#dropped.length === 0) return;
    this.opts.store?.remove(this.#dropped);
    this.#dropped = [];
  }

  /** One more (+1) or one fewer (-1) event shares a file; the last one to go lets its bytes go. */
  #countFile(sender: string, hash: string, size: number, step: 1 | -1): void {
    const shared = (this.#files.get(hash) ?? 0) + step;
    if (shared > 0) this.#files.set(hash, shared);
    else this.#files.delete(hash);
    const by = this.#fileBytesBy.get(sender) ?? { bytes: 0, files: new Map<string, number>() };
    const mine = (by.files.get(hash) ?? 0) + step;
    if (step > 0 && mine === 1) by.bytes += size;
    if (step < 0 && mine === 0) by.bytes -= size;
    if (mine > 0) by.files.set(hash, mine);
    else by.files.delete(hash);
    if (by.files.size > 0) this.#fileBytesBy.set(sender, by);
    else this.#fileBytesBy.delete(sender);
    if (shared === 0) this.opts.onFileDropped?.(hash);
  }
}
