// A server's data folder: the set's history, this server's own identity (its origin id, last
// sequence number and Lamport clock) and the peers it has known, in one SQLite file. SQLite is
// node-sqlite3-wasm — SQLite compiled to WebAssembly with real file access — so the same module
// loads in Node (CLI, tests) and inside Electron with no native build per runtime (docs/history.md
// says why). The file is read on this thread when the server starts; from the first write on, a
// worker thread (store-writer.ts) owns it, so commits never hold up the server's deliveries, and
// tells when each hand-over is committed: what an ack waits for.
// A file that is damaged or belongs to another program is refused with a clear StoreError.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import * as v from 'valibot';
import { AnyEvent, type ChatEvent } from '../shared/protocol.js';
import type { Identity, WriterData, WriterReport, WriterRequest } from './store-messages.js';

/**
 * Group commit: one hand-over to the writer is committing at a time; what the server publishes or
 * receives meanwhile waits here and goes in the next one, so a busy server makes few, large
 * commits and an idle one commits each event at the end of its turn. An ack waits for its
 * event's commit (`afterWrite`), so it costs the commit's time, not a timer's.
 */

/**
 * Hand-overs start at least this far apart: a commit costs the writer a millisecond or two of a
 * core the server shares, so under a flood it commits a hundred times a second, not after every
 * turn. A quiet server's ack waits for no timer (the last commit is long past).
 */
const COMMIT_GAP_MS = 10;
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
  // 3: searches answer from an index of their own thread's (search-index.ts): this one only cost writes.
  'DROP TABLE events_text;',
  // 4: whom names belong to (identities.ts): kept for good, apart from the bounded history.
  'CREATE TABLE identities (id TEXT PRIMARY KEY, clock INTEGER NOT NULL, origin TEXT NOT NULL, body TEXT NOT NULL);',
];

export class StoreError extends Error {}

export interface EventStore {
  /** The newest `limit` events, in the set's order. */
  load(limit: number): ChatEvent[];
  append(event: ChatEvent): void;
  /** Forget these events (the history let go of them). */
  remove(ids: readonly string[]): void;
}

export interface StoreOptions {
  /** A commit failed (a full disk, say): said once for a run of failures; nothing is dropped, it is tried again (`retrying`; false for a trim). */
  onWriteFailed?: (message: string, retrying: boolean) => void;
  /** Commits succeed again after failing. */
  onWriteRecovered?: () => void;
}

/**
 * A worker's script is compiled JavaScript: beside this module when Chatty runs from dist/; when
 * the tests run the TypeScript sources, from dist/ too (the test command builds it first).
 */
export function workerScript(name: string): URL {
  const beside = new URL(`./${name}.js`, import.meta.url);
  return existsSync(beside) ? beside : new URL(`../dist/server/${name}.js`, import.meta.url);
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
  #pendingIdentities: ChatEvent[] = [];
  #identity: Identity | undefined;
  #postScheduled = false;
  #closed = false;
  /** Hand-overs numbered: the last one posted, and the last the writer committed. */
  #posted = 0;
  #written = 0;
  #handedOverAt = 0;
  /** What waits for a commit: the hand-over that will carry it, in order. */
  readonly #waiting: { batch: number; then: () => void }[] = [];
  /** The last commit's error while commits fail; undefined when they succeed. */
  #failing: string | undefined;
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
    return this.#events(
      this.#reader().all('SELECT body FROM (SELECT body, clock, origin FROM events ORDER BY clock DESC, origin DESC LIMIT ?) ORDER BY clock, origin', [limit]),
    );
  }

  /** Every identity event kept (identities.ts), in the set's order. */
  loadIdentities(): ChatEvent[] {
    return this.#events(this.#reader().all('SELECT body FROM identities ORDER BY clock, origin'));
  }

  /** Rows' bodies as events; one that cannot be read back (a damaged file) is counted and left out. */
  #events(rows: Array<Record<string, unknown>>): ChatEvent[] {
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

  // --- writes: handed to the worker, one commit in flight at a time

  append(event: ChatEvent): void {
    this.#pending.push(event);
    this.#schedule();
  }

  /** An identity event, kept for good (the history's events are trimmed; these never are). */
  appendIdentity(event: ChatEvent): void {
    this.#pendingIdentities.push(event);
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

  /** Forget these events: deleted after the next commit. */
  remove(ids: readonly string[]): void {
    this.#post({ kind: 'remove', ids: [...ids] });
  }

  /** Call `then` once everything appended so far is committed (at once when it is). */
  afterWrite(then: () => void): void {
    const batch = this.#hasPending() ? this.#posted + 1 : this.#posted;
    if (batch <= this.#written) then();
    else this.#waiting.push({ batch, then });
  }

  /** Why commits fail right now (a full disk), or undefined while they succeed. */
  get failing(): string | undefined {
    return this.#failing;
  }

  /** Write what is pending, then let go of the file and the data folder's lock. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#handOver(true); // may start the writer, for a server that stops before its first hand-over
    this.#closed = true;
    if (this.#writer) {
      this.#writer.postMessage({ kind: 'close' } satisfies WriterRequest);
      // It commits what it still holds, then exits; one that cannot (a stuck disk) is stopped.
      const stuck = setTimeout(() => {
        this.#options.onWriteFailed?.('the history writer did not finish within 10 s; stopped', false);
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

  /** At the end of this turn (or COMMIT_GAP_MS after the last), unless a commit is in flight: then when it is done. */
  #schedule(): void {
    if (this.#postScheduled || this.#posted > this.#written) return;
    this.#postScheduled = true;
    const wait = this.#handedOverAt + COMMIT_GAP_MS - performance.now();
    if (wait > 0) setTimeout(() => this.#handOver(false), wait);
    else setImmediate(() => this.#handOver(false));
  }

  #handOver(force: boolean): void {
    this.#postScheduled = false;
    if (!force && this.#posted > this.#written) return; // the commit in flight's report hands over the rest
    if (!this.#hasPending() && !this.#identity) return;
    const batch = ++this.#posted;
    this.#handedOverAt = performance.now();
    this.#post({ kind: 'write', batch, events: this.#pending, identities: this.#pendingIdentities, ...(this.#identity ? { identity: this.#identity } : {}) });
    this.#pending = [];
    this.#pendingIdentities = [];
    this.#identity = undefined;
  }

  /** Events handed to this store and not yet to its writer. */
  #hasPending(): boolean {
    return this.#pending.length > 0 || this.#pendingIdentities.length > 0;
  }

  #committed(batch: number): void {
    this.#written = batch;
    if (this.#failing !== undefined) {
      this.#failing = undefined;
      this.#options.onWriteRecovered?.();
    }
    let done = 0;
    while (done < this.#waiting.length && this.#waiting[done]!.batch <= batch) done++;
    for (const { then } of this.#waiting.splice(0, done)) then();
    if (this.#hasPending() || this.#identity) this.#schedule();
  }

  #post(request: WriterRequest): void {
    if (this.#closed) return; // what comes after close() is not kept
    (this.#writer ?? this.#startWriter()).postMessage(request);
  }

  /** The reading connection closes first: one connection to the file at a time. */
  #startWriter(): Worker {
    this.#db?.close();
    this.#db = undefined;
    const writer = new Worker(workerScript('store-writer'), { workerData: { file: this.file } satisfies WriterData });
    // A server may exit without close() (a signal); what is not committed then was never acked.
    writer.unref();
    this.#writerExited = new Promise((resolve) => writer.once('exit', () => resolve()));
    writer.on('message', (report: WriterReport) => {
      switch (report.kind) {
        case 'written':
          return this.#committed(report.batch);
        case 'failed': {
          // Said once a run of failures (the writer tries again every second), not every try.
          const first = this.#failing === undefined;
          if (report.retrying) this.#failing = report.message;
          if (first || !report.retrying) this.#options.onWriteFailed?.(report.message, report.retrying);
          return;
        }
        case 'unwritten':
          return this.#options.onWriteFailed?.(`${report.message}: ${report.events} events not written (none of them acked)`, false);
      }
    });
    writer.on('error', (err) => {
      this.#failing = `the history writer stopped: ${err.message}`;
      this.#options.onWriteFailed?.(this.#failing, false);
    });
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
