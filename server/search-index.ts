// Full-text search of the history a server holds (history.ts), on a thread of its own
// (search-worker.ts, SQLite's FTS5 over an index in that thread's memory): a search never waits
// for a commit, and a commit, or a stop, never waits behind a search. The index holds what the
// history holds: History tells it what comes in and what is trimmed away.
import { Worker } from 'node:worker_threads';
import { type ChatEvent, privateTo, searchableText } from '../shared/protocol.js';
import { workerScript } from './store.js';

/** A searchable event as the index keeps it: text, id, sender, addressee ('' for public). */
export type IndexRow = [text: string, id: string, name: string, peer: string];

export type SearchRequest =
  | { kind: 'add'; rows: IndexRow[] }
  | { kind: 'remove'; ids: string[] }
  | { kind: 'search'; ref: number; query: string; name: string; limit: number };

export type SearchReport = { kind: 'found'; ref: number; ids: string[] } | { kind: 'failed'; ref: number; message: string };

/** What History tells an index. */
export interface HistoryIndex {
  add(event: ChatEvent): void;
  remove(event: ChatEvent): void;
}

export class SearchIndex implements HistoryIndex {
  readonly #worker: Worker;
  #rows: IndexRow[] = [];
  #removed: string[] = [];
  #scheduled = false;
  #searches = 0;
  readonly #found = new Map<number, (ids: string[]) => void>();
  #closed = false;

  constructor(private readonly onFailed: (message: string) => void) {
    this.#worker = new Worker(workerScript('search-worker'));
    this.#worker.unref(); // it holds nothing that must outlive the server
    this.#worker.on('message', (report: SearchReport) => {
      if (report.kind === 'failed') this.onFailed(report.message);
      this.#found.get(report.ref)?.(report.kind === 'found' ? report.ids : []);
      this.#found.delete(report.ref);
    });
    this.#worker.on('error', (err) => {
      this.onFailed(`the search thread stopped: ${err.message}`);
      this.#closed = true;
      for (const answer of this.#found.values()) answer([]);
      this.#found.clear();
    });
  }

  add(event: ChatEvent): void {
    const text = searchableText(event);
    if (text === undefined) return;
    this.#rows.push([text, event.id, event.name, privateTo(event) ?? '']);
    this.#schedule();
  }

  remove(event: ChatEvent): void {
    if (searchableText(event) === undefined) return;
    this.#removed.push(event.id);
    this.#schedule();
  }

  /**
   * Ids of messages whose text has every word of `query` (as a word prefix), best matches first,
   * among those `name` may see (public ones, and direct ones to or from them).
   */
  search(query: string, name: string, limit: number): Promise<string[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#handOver(); // what came before the question is part of the answer
    const ref = ++this.#searches;
    return new Promise((resolve) => {
      this.#found.set(ref, resolve);
      this.#worker.postMessage({ kind: 'search', ref, query, name, limit } satisfies SearchRequest);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const answer of this.#found.values()) answer([]);
    this.#found.clear();
    await this.#worker.terminate();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#handOver());
  }

  #handOver(): void {
    this.#scheduled = false;
    if (this.#closed) return;
    if (this.#rows.length > 0) this.#worker.postMessage({ kind: 'add', rows: this.#rows } satisfies SearchRequest);
    if (this.#removed.length > 0) this.#worker.postMessage({ kind: 'remove', ids: this.#removed } satisfies SearchRequest);
    this.#rows = [];
    this.#removed = [];
  }
}
