// A server's data folder: the set's history, this server's own identity (its origin id, last
// sequence number and Lamport clock) and the peers it has known, in one SQLite file. SQLite is
// node-sqlite3-wasm — SQLite compiled to WebAssembly with real file access — so the same module
// loads in Node (CLI, tests) and inside Electron with no native build per runtime (docs/history.md
// says why). The file is read on this thread when the server starts; from the first write on, a
// worker thread (store-writer.ts) owns it, so commits never hold up the server's deliveries.
// A file that is damaged or belongs to another program is refused with a clear StoreError.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import * as v from 'valibot';
import { AnyEvent, type ChatEvent } from '../shared/protocol.js';
import type { Identity, WriterData, WriterReport, WriterRequest } from './store-messages.js';

/**
 * What the server publishes or receives is handed to the writer at most this long after, in one
 * message, and the writer commits each hand-over in one transaction: a commit costs the writer a
 * millisecond or two of a core the server shares, so not one per event, nor one per turn. A server
 * killed meanwhile loses at most this much of its own file — its peers have those events and
 * backfill them when it comes back.
 */
const HAND_OVER_MS = 20;

/** Stamped into every Chatty data file (PRAGMA application_id), so a foreign SQLite file is recognised. */
const APPLICATION_ID = 0x43687479; // "Chty"

/** Numbered migrations, each run once, in one transaction; the version lives in PRAGMA user_version. */
const MIGRATIONS: string[] = [
  // 1: the first schema.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE events (id TEXT PRIMARY KEY, clock INTEGER NOT NULL, origin TEXT NOT NULL, body TEXT NOT NULL);
   CREATE INDEX events_order ON events (clock, origin);
   CREATE TABLE peers (url TEXT PRIMARY KEY);`,
  // 2: full-text search of messages (FTS5); `peer` is a direct message's addressee ('' for public).
  `CREATE VIRTUAL TABLE events_text USING fts5(text, id UNINDEXED, name UNINDEXED, peer UNINDEXED);
   INSERT INTO events_text (text, id, name, peer)
     SELECT json_extract(body, '$.text'), id, json_extract(body, '$.name'), coalesce(json_extract(body, '$.to'), '')
     FROM events WHERE json_extract(body, '$.type') IN ('message', 'direct');`,
];

export class StoreError extends Error {}

export interface EventStore {
  /** The newest `limit` events, in the set's order. */
  load(limit: number): ChatEvent[];
  append(event: ChatEvent): void;
  /** Keep the newest `maxEvents`. */
  trim(maxEvents: number): void;
}

export interface StoreOptions {
  /** A write that failed (a full disk, say): the events stay in memory, and are lost on restart. */
  onWriteFailed?: (message: string) => void;
}

/**
 * The writer is compiled JavaScript: beside this module when Chatty runs from dist/; when the
 * tests run the TypeScript sources, from dist/ too (the test command builds it first).
 */
function writerScript(): URL {
  const beside = new URL('./store-writer.js', import.meta.url);
  return existsSync(beside) ? beside : new URL('../dist/server/store-writer.js', import.meta.url);
}

export class SqliteStore implements EventStore {
  readonly file: string;
  readonly #lock: string;
  readonly #options: StoreOptions;
  /** The reading connection, open until the first write hands the file to the writer. */
  #db: InstanceType<typeof sqlite.Database> | undefined;
  #writer: Worker | undefined;
  #writerExited: Promise<void> | undefined;
  #pending: ChatEvent[] = [];
  #identity: Identity | undefined;
  #postScheduled = false;
  #closed = false;
  #searches = 0;
  readonly #found = new Map<number, (ids: string[]) => void>();
  /** Rows that could not be read back (a damaged file); reported by whoever opened the store. */
  damaged = 0;

  /** Open (or create) the data file in `directory`; throws StoreError when it is not usable. */
  constructor(directory: string, options: StoreOptions = {}) {
    this.file = join(directory, 'chatty.db');
    this.#lock = join(directory, 'chatty.lock');
    this.#options = options;
    try {
      mkdirSync(directory, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create the data folder ${directory}: ${(err as Error).message}`);
    }
    takeLock(this.#lock, directory);
    // SQLite's own lock here is a directory beside the file (node-sqlite3-wasm's file layer); one
    // left by a process that was killed would refuse every open ("database is locked"). With the
    // folder's lock held, no other process uses this file: such a directory is stale.
    rmSync(`${this.file}.lock`, { recursive: true, force: true });
    let db: InstanceType<typeof sqlite.Database>;
    try {
      db = new sqlite.Database(this.file);
    } catch (err) {
      rmSync(this.#lock, { force: true });
      throw new StoreError(`cannot open the chat history at ${this.file}: ${(err as Error).message}`);
    }
    try {
      this.#migrate(db);
    } catch (err) {
      db.close();
      rmSync(this.#lock, { force: true });
      throw err instanceof StoreError ? err : new StoreError(`cannot read the chat history at ${this.file}: ${(err as Error).message}`);
    }
    this.#db = db;
  }

  #migrate(db: InstanceType<typeof sqlite.Database>): void {
    const appId = Number(db.get('PRAGMA application_id')?.application_id ?? 0);
    const version = Number(db.get('PRAGMA user_version')?.user_version ?? 0);
    const tables = Number(db.get("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")?.n ?? 0);
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new StoreError(`${this.file} is an SQLite file of another program, not Chatty's history: move it away or choose another --data folder`);
    }
    if (version > MIGRATIONS.length) {
      throw new StoreError(`${this.file} was written by a newer Chatty (schema ${version}; this one knows ${MIGRATIONS.length}): update Chatty`);
    }
    for (let next = version + 1; next <= MIGRATIONS.length; next++) {
      db.exec('BEGIN');
      try {
        db.exec(MIGRATIONS[next - 1]!);
        db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${next}`);
        db.exec('COMMIT');
      } catch (err) {
        db.exec('ROLLBACK');
        throw err;
      }
    }
  }

  // --- reads: when the server starts, before its first write

  load(limit: number): ChatEvent[] {
    const rows = this.#reader().all(
      'SELECT body FROM (SELECT body, clock, origin FROM events ORDER BY clock DESC, origin DESC LIMIT ?) ORDER BY clock, origin',
      [limit],
    );
    const events: ChatEvent[] = [];
    for (const row of rows) {
      try {
        events.push(v.parse(AnyEvent, JSON.parse(String(row.body))));
      } catch {
        this.damaged++;
      }
    }
    return events;
  }

  /** This server's origin id, last seq and clock, or undefined on a new data folder. */
  identity(): Identity | undefined {
    const row = this.#reader().get("SELECT value FROM meta WHERE key = 'identity'");
    if (!row) return undefined;
    try {
      const parsed = JSON.parse(String(row.value)) as Identity;
      return typeof parsed.origin === 'string' && Number.isInteger(parsed.seq) && Number.isInteger(parsed.clock) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  peers(): string[] {
    return this.#reader()
      .all('SELECT url FROM peers')
      .map((row) => String(row.url));
  }

  #reader(): InstanceType<typeof sqlite.Database> {
    if (!this.#db) throw new Error('SqliteStore: the file is read when the server starts, before its first write');
    return this.#db;
  }

  // --- writes: handed to the worker every HAND_OVER_MS

  append(event: ChatEvent): void {
    this.#pending.push(event);
    this.#schedule();
  }

  /** Remembered with the next write (every published event moves it). */
  saveIdentity(identity: Identity): void {
    this.#identity = { ...identity };
    this.#schedule();
  }

  setPeers(urls: string[]): void {
    this.#post({ kind: 'peers', urls });
  }

  /** Keep the newest `maxEvents` rows. */
  trim(maxEvents: number): void {
    this.#post({ kind: 'trim', maxEvents });
  }

  /**
   * Ids of messages whose text has every word of `query` (as a word prefix), best matches first,
   * among those `name` may see (public ones, and direct ones to or from them). Written events
   * only: what is pending is handed over first.
   */
  search(query: string, name: string, limit: number): Promise<string[]> {
    if (this.#closed) return Promise.resolve([]);
    this.#postPending();
    const ref = ++this.#searches;
    return new Promise((resolve) => {
      this.#found.set(ref, resolve);
      this.#post({ kind: 'search', ref, query, name, limit });
    });
  }

  /** Write what is pending, then let go of the file and the data folder's lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#postPending(); // may start the writer, for a server that stops before its first hand-over
    this.#closed = true;
    if (this.#writer) {
      this.#writer.postMessage({ kind: 'close' } satisfies WriterRequest);
      // It writes what it still holds, then exits; one that cannot (a stuck disk) is stopped.
      const stuck = setTimeout(() => {
        this.#options.onWriteFailed?.('the history writer did not finish within 10 s; stopped');
        void this.#writer?.terminate();
      }, 10_000);
      await this.#writerExited;
      clearTimeout(stuck);
    } else {
      this.#db?.close();
    }
    this.#db = undefined;
    rmSync(this.#lock, { force: true });
  }

  #schedule(): void {
    if (this.#postScheduled) return;
    this.#postScheduled = true;
    setTimeout(() => this.#postPending(), HAND_OVER_MS).unref();
  }

  #postPending(): void {
    this.#postScheduled = false;
    if (this.#pending.length > 0) this.#post({ kind: 'append', events: this.#pending });
    if (this.#identity) this.#post({ kind: 'identity', identity: this.#identity });
    this.#pending = [];
    this.#identity = undefined;
  }

  #post(request: WriterRequest): void {
    if (this.#closed) return; // what comes after close() is not kept
    (this.#writer ?? this.#startWriter()).postMessage(request);
  }

  /** The reading connection closes first: one connection to the file at a time. */
  #startWriter(): Worker {
    this.#db?.close();
    this.#db = undefined;
    const writer = new Worker(writerScript(), { workerData: { file: this.file } satisfies WriterData });
    // A server may exit without close() (a signal); what is pending then is what a crash loses.
    writer.unref();
    this.#writerExited = new Promise((resolve) => writer.once('exit', () => resolve()));
    writer.on('message', (report: WriterReport) => {
      if (report.kind === 'found') {
        this.#found.get(report.ref)?.(report.ids);
        this.#found.delete(report.ref);
      } else this.#options.onWriteFailed?.(report.message);
    });
    writer.on('error', (err) => this.#options.onWriteFailed?.(`the history writer stopped: ${err.message}`));
    this.#writer = writer;
    return writer;
  }
}

/**
 * One server per data folder: two would publish under one origin id and spoil the set's history.
 * The lock file holds the owner's pid; one left by a process that is gone is taken over.
 */
function takeLock(lock: string, directory: string): void {
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`cannot lock the data folder ${directory}: ${(err as Error).message}`);
    }
    const owner = Number(readFileSync(lock, 'utf8'));
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new StoreError(`the data folder ${directory} is in use by another Chatty server (pid ${owner}): give this one its own --data`);
    }
    rmSync(lock, { force: true }); // left by a process that died
  }
  throw new StoreError(`cannot lock the data folder ${directory}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
