// A server's data folder: the set's history, this server's own identity (its origin id, last
// sequence number and Lamport clock) and the peers it has known, in one SQLite file. SQLite is
// node-sqlite3-wasm — SQLite compiled to WebAssembly with real file access — so the same module
// loads in Node (CLI, tests) and inside Electron with no native build per runtime (docs/history.md
// says why). Writes are batched: what arrives within FLUSH_MS is written in one transaction.
// A file that is damaged or belongs to another program is refused with a clear StoreError.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import * as v from 'valibot';
import { AnyEvent, type ChatEvent } from '../shared/protocol.js';

/**
 * Pending writes go to disk at most this long after they happen, in one transaction: a commit
 * costs a millisecond or two, and a chat server must not spend that per event. A server killed
 * meanwhile loses at most this much of its own history — its peers have those events and
 * backfill them when it comes back.
 */
const FLUSH_MS = 50;

/** Stamped into every Chatty data file (PRAGMA application_id), so a foreign SQLite file is recognised. */
const APPLICATION_ID = 0x43687479; // "Chty"

/** Numbered migrations, each run once, in one transaction; the version lives in PRAGMA user_version. */
const MIGRATIONS: string[] = [
  // 1: the first schema.
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE events (id TEXT PRIMARY KEY, clock INTEGER NOT NULL, origin TEXT NOT NULL, body TEXT NOT NULL);
   CREATE INDEX events_order ON events (clock, origin);
   CREATE TABLE peers (url TEXT PRIMARY KEY);`,
];

export class StoreError extends Error {}

export interface Identity {
  origin: string;
  seq: number;
  clock: number;
}

export interface EventStore {
  /** The newest `limit` events, in the set's order. */
  load(limit: number): ChatEvent[];
  append(event: ChatEvent): void;
  /** Keep the newest `maxEvents`. */
  trim(maxEvents: number): void;
}

export class SqliteStore implements EventStore {
  readonly file: string;
  readonly #db: InstanceType<typeof sqlite.Database>;
  readonly #lock: string;
  /** Compiled once: compiling SQL on every write would cost more than the write. */
  #insertEvent: sqlite.Statement | undefined;
  #saveMeta: sqlite.Statement | undefined;
  #pending: ChatEvent[] = [];
  #identity: Identity | undefined;
  #flushScheduled = false;
  /** Rows that could not be read back (a damaged file); reported by whoever opened the store. */
  damaged = 0;

  /** Open (or create) the data file in `directory`; throws StoreError when it is not usable. */
  constructor(directory: string) {
    this.file = join(directory, 'chatty.db');
    this.#lock = join(directory, 'chatty.lock');
    try {
      mkdirSync(directory, { recursive: true });
    } catch (err) {
      throw new StoreError(`cannot create the data folder ${directory}: ${(err as Error).message}`);
    }
    takeLock(this.#lock, directory);
    try {
      this.#db = new sqlite.Database(this.file);
    } catch (err) {
      rmSync(this.#lock, { force: true });
      throw new StoreError(`cannot open the chat history at ${this.file}: ${(err as Error).message}`);
    }
    try {
      // No fsync on every commit (this file outlives a crash of the process, not always of the OS),
      // and the journal file is kept between commits rather than created and deleted each time.
      this.#db.exec('PRAGMA synchronous = NORMAL; PRAGMA journal_mode = PERSIST');
      this.#migrate();
      this.#insertEvent = this.#db.prepare('INSERT OR IGNORE INTO events (id, clock, origin, body) VALUES (?, ?, ?, ?)');
      this.#saveMeta = this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('identity', ?)");
    } catch (err) {
      this.#db.close();
      rmSync(this.#lock, { force: true });
      throw err instanceof StoreError ? err : new StoreError(`cannot read the chat history at ${this.file}: ${(err as Error).message}`);
    }
  }

  #migrate(): void {
    const appId = Number(this.#db.get('PRAGMA application_id')?.application_id ?? 0);
    const version = Number(this.#db.get('PRAGMA user_version')?.user_version ?? 0);
    const tables = Number(this.#db.get("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'")?.n ?? 0);
    if (appId !== APPLICATION_ID && (appId !== 0 || tables > 0)) {
      throw new StoreError(`${this.file} is an SQLite file of another program, not Chatty's history: move it away or choose another --data folder`);
    }
    if (version > MIGRATIONS.length) {
      throw new StoreError(`${this.file} was written by a newer Chatty (schema ${version}; this one knows ${MIGRATIONS.length}): update Chatty`);
    }
    for (let next = version + 1; next <= MIGRATIONS.length; next++) {
      this.#transaction(() => {
        this.#db.exec(MIGRATIONS[next - 1]!);
        this.#db.exec(`PRAGMA application_id = ${APPLICATION_ID}; PRAGMA user_version = ${next}`);
      });
    }
  }

  load(limit: number): ChatEvent[] {
    const rows = this.#db.all('SELECT body FROM (SELECT body, clock, origin FROM events ORDER BY clock DESC, origin DESC LIMIT ?) ORDER BY clock, origin', [
      limit,
    ]);
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

  append(event: ChatEvent): void {
    this.#pending.push(event);
    this.#schedule();
  }

  /** This server's origin id, last seq and clock, or undefined on a new data folder. */
  identity(): Identity | undefined {
    const row = this.#db.get("SELECT value FROM meta WHERE key = 'identity'");
    if (!row) return undefined;
    try {
      const parsed = JSON.parse(String(row.value)) as Identity;
      return typeof parsed.origin === 'string' && Number.isInteger(parsed.seq) && Number.isInteger(parsed.clock) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remembered with the next write (every published event moves it). */
  saveIdentity(identity: Identity): void {
    this.#identity = { ...identity };
    this.#schedule();
  }

  peers(): string[] {
    return this.#db.all('SELECT url FROM peers').map((row) => String(row.url));
  }

  setPeers(urls: string[]): void {
    this.#transaction(() => {
      this.#db.run('DELETE FROM peers');
      for (const url of urls) this.#db.run('INSERT INTO peers (url) VALUES (?)', [url]);
    });
  }

  /** Write what is pending now (also called on close). */
  flush(): void {
    this.#flushScheduled = false;
    if (!this.#db.isOpen || (this.#pending.length === 0 && !this.#identity)) return;
    const events = this.#pending;
    const identity = this.#identity;
    this.#pending = [];
    this.#identity = undefined;
    this.#transaction(() => {
      for (const e of events) this.#insertEvent!.run([e.id, e.clock, e.origin, JSON.stringify(e)]);
      if (identity) this.#saveMeta!.run([JSON.stringify(identity)]);
    });
  }

  /** Keep the newest `maxEvents` rows. */
  trim(maxEvents: number): void {
    this.#db.run('DELETE FROM events WHERE id NOT IN (SELECT id FROM events ORDER BY clock DESC, origin DESC LIMIT ?)', [maxEvents]);
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.flush();
    this.#insertEvent?.finalize();
    this.#saveMeta?.finalize();
    this.#db.close();
    rmSync(this.#lock, { force: true });
  }

  #schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setTimeout(() => this.flush(), FLUSH_MS).unref();
  }

  #transaction(work: () => void): void {
    this.#db.exec('BEGIN');
    try {
      work();
      this.#db.exec('COMMIT');
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
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
