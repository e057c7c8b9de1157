// What store.ts and its writer thread (store-writer.ts) say to each other, in one place: both
// import it, neither imports the other.
import type { ChatEvent } from '../shared/protocol.js';

/** A server's place in the set's order, kept across restarts: its origin, last seq and Lamport clock. */
export interface Identity {
  origin: string;
  seq: number;
  clock: number;
}

/** What the writer is started with. */
export interface WriterData {
  file: string;
}

/** What store.ts asks of its writer. */
export type WriterRequest =
  | { kind: 'append'; events: ChatEvent[] }
  | { kind: 'identity'; identity: Identity }
  | { kind: 'peers'; urls: string[] }
  | { kind: 'trim'; maxEvents: number }
  | { kind: 'search'; ref: number; query: string; name: string; limit: number }
  | { kind: 'close' };

/** What the writer tells store.ts: a write that failed (the events stay in the server's memory), or search results. */
export type WriterReport = { kind: 'failed'; message: string } | { kind: 'found'; ref: number; ids: string[] };
