// The store's writer, run in a worker thread (store.ts starts it): an SQLite commit takes a
// millisecond or two, and outliers of 10 ms and more, which on the server's own thread would hold
// up every delivery behind it. Here it holds up nothing, and nothing else runs here (searches
// have a thread of their own, search-worker.ts): a stop is never queued behind them. Whatever
// arrives while a commit runs goes into the next one (group commit); a commit that fails keeps
// what it holds and is tried again, so a full disk delays acks but loses nothing.
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import type { ChatEvent } from '../shared/protocol.js';
import type { Identity, WriterData, WriterReport, WriterRequest } from './store-messages.js';

/** A failed commit is tried again after these waits, then every last one, for as long as the server runs. */
const RETRY_MS = [50, 200, 500, 1000];

/**
 * SQLite's message, and what it hides: node-sqlite3-wasm's file layer reports every failed write
 * (ENOSPC too) as "disk I/O error", so a full disk is said in so many words.
 */
export function describeFailure(message: string, folder: string): string {
  try {
    const { bavail, bsize } = statfsSync(folder);
    const free = Number(bavail) * Number(bsize);
    if (free < 1024 * 1024) return `${message}: the data disk is full (${free} bytes free in ${folder})`;
  } catch {
    // the folder cannot be examined: SQLite's message is all there is
  }
  return message;
}

const port = parentPort;
if (port) {
  const { file } = workerData as WriterData;
  const db = new sqlite.Database(file);
  // An ack waits for its commit: what was committed outlives a killed process. NORMAL still syncs
  // at a commit's critical moments (FULL adds a sync of the journal's header, for power cuts); the
  // journal file is kept between commits rather than created and deleted each time.
  db.exec('PRAGMA synchronous = NORMAL; PRAGMA journal_mode = PERSIST');
  const prepare = () => ({
    insertEvent: db.prepare('INSERT OR IGNORE INTO events (id, clock, origin, body) VALUES (?, ?, ?, ?)'),
    removeEvent: db.prepare('DELETE FROM events WHERE id = ?'),
    insertIdentity: db.prepare('INSERT OR IGNORE INTO identities (id, clock, origin, body) VALUES (?, ?, ?, ?)'),
    saveIdentity: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('identity', ?)"),
  });
  let statements = prepare();
  const finalize = (): void => {
    for (const statement of Object.values(statements)) {
      try {
        statement.finalize();
      } catch {
        // it keeps the failed step's error: finalizing it is all that was wanted
      }
    }
  };
  /** What was handed over and is not committed yet: the newest hand-over's number covers it all. */
  let held: { batch: number; events: ChatEvent[]; identities: ChatEvent[]; identity?: Identity; peers?: string[] } | undefined;
  /** Ids the history let go of: deleted after the next commit of new events. */
  let toRemove: string[] = [];
  let scheduled = false;
  let retry: NodeJS.Timeout | undefined;
  let failures = 0;

  const transaction = (work: () => void): void => {
    db.exec('BEGIN');
    try {
      work();
      db.exec('COMMIT');
    } catch (err) {
      try {
        if (db.inTransaction) db.exec('ROLLBACK');
      } catch {
        // SQLite rolled back by itself (a failed COMMIT may): what matters is the first error
      }
      throw err;
    }
  };

  const hold = (): NonNullable<typeof held> => {
    held ??= { batch: 0, events: [], identities: [] };
    return held;
  };

  /** Commit what is held; true when it is on disk (or there was nothing to commit). */
  const flush = (): boolean => {
    scheduled = false;
    if (held) {
      const batch = held;
      try {
        transaction(() => {
          for (const e of batch.events) statements.insertEvent.run([e.id, e.clock, e.origin, JSON.stringify(e)]);
          for (const e of batch.identities) statements.insertIdentity.run([e.id, e.clock, e.origin, JSON.stringify(e)]);
          if (batch.identity) statements.saveIdentity.run([JSON.stringify(batch.identity)]);
          if (batch.peers) {
            db.run('DELETE FROM peers');
            for (const url of batch.peers) db.run('INSERT INTO peers (url) VALUES (?)', [url]);
          }
        });
      } catch (err) {
        failures++;
        // A statement whose step failed refuses to be bound again until it is made anew.
        finalize();
        statements = prepare();
        port.postMessage({ kind: 'failed', message: describeFailure((err as Error).message, dirname(file)), retrying: true } satisfies WriterReport);
        return false;
      }
      held = undefined;
      failures = 0;
      if (batch.batch > 0) port.postMessage({ kind: 'written', batch: batch.batch } satisfies WriterReport);
    }
    // Outside the transaction that carries new events, so a failing delete holds up no ack. One
    // that fails loses nothing: the rows stay, and the ids are tried again with the next batch.
    if (toRemove.length > 0) {
      const ids = toRemove;
      toRemove = [];
      try {
        transaction(() => {
          for (const id of ids) statements.removeEvent.run([id]);
        });
      } catch (err) {
        toRemove = ids.concat(toRemove);
        finalize();
        statements = prepare();
        port.postMessage({
          kind: 'failed',
          message: `trim: ${describeFailure((err as Error).message, dirname(file))}`,
          retrying: false,
        } satisfies WriterReport);
      }
    }
    return true;
  };

  /** Commit soon: at the end of this turn, or (after a failure) when the next try is due. */
  const schedule = (): void => {
    if (scheduled || retry) return;
    scheduled = true;
    setImmediate(() => {
      if (flush()) return;
      const tryAgain = (): void => {
        retry = undefined;
        if (!flush()) retry = setTimeout(tryAgain, RETRY_MS[Math.min(failures, RETRY_MS.length) - 1]);
      };
      retry = setTimeout(tryAgain, RETRY_MS[0]);
    });
  };

  port.on('message', (request: WriterRequest) => {
    switch (request.kind) {
      case 'write': {
        const into = hold();
        for (const e of request.events) into.events.push(e);
        for (const e of request.identities) into.identities.push(e);
        if (request.identity) into.identity = request.identity;
        into.batch = request.batch;
        break;
      }
      case 'peers':
        hold().peers = request.urls;
        break;
      case 'remove':
        for (const id of request.ids) toRemove.push(id);
        break;
      case 'close': {
        clearTimeout(retry);
        // One last try; what a full disk still refuses is said, not lost in silence.
        if (!flush() && held) {
          port.postMessage({
            kind: 'unwritten',
            events: held.events.length,
            message: 'the history writer could not commit before the stop',
          } satisfies WriterReport);
        }
        finalize();
        db.close();
        port.close();
        return;
      }
    }
    schedule();
  });
}
