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

/**
 * What store.ts asks of its writer. A hand-over (`write`) is numbered: the writer says which one
 * it committed, and everything handed over up to it is then on disk.
 */
export type WriterRequest =
  | { kind: 'write'; batch: number; events: ChatEvent[]; identities: ChatEvent[]; identity?: Identity }
  | { kind: 'peers'; urls: string[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'close' };

/**
 * What the writer tells store.ts: a hand-over committed (and every one before it); a commit that
 * failed (the writer keeps what it holds and tries again: nothing is dropped); what a stop could
 * not write.
 */
export type WriterReport =
  | { kind: 'written'; batch: number }
  | { kind: 'failed'; message: string; retrying: boolean }
  | { kind: 'unwritten'; events: number; message: string };
