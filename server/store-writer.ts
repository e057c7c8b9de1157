// The store's writer, run in a worker thread (store.ts starts it): an SQLite commit takes a
// millisecond or two, and outliers of 10 ms and more, which on the server's own thread would hold
// up every delivery behind it. Here it holds up nothing. The server hands events over in batches
// (store.ts, HAND_OVER_MS); whatever arrives while a commit runs goes into the next one.
import { parentPort, workerData } from 'node:worker_threads';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import { type ChatEvent, privateTo, searchableText } from '../shared/protocol.js';
import type { Identity, WriterData, WriterReport, WriterRequest } from './store-messages.js';

/** A person's words as an FTS5 query: each one quoted (no operators get through) and matched as a word prefix. */
export function ftsQuery(query: string): string {
  return query
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 8)
    .map((word) => `"${word.replace(/"/g, '""')}"*`)
    .join(' ');
}

const port = parentPort;
if (port) {
  const { file } = workerData as WriterData;
  const db = new sqlite.Database(file);
  // No fsync on every commit (this file outlives a crash of the process, not always of the OS),
  // and the journal file is kept between commits rather than created and deleted each time.
  db.exec('PRAGMA synchronous = NORMAL; PRAGMA journal_mode = PERSIST');
  const insertEvent = db.prepare('INSERT OR IGNORE INTO events (id, clock, origin, body) VALUES (?, ?, ?, ?)');
  const saveIdentity = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('identity', ?)");
  const insertText = db.prepare('INSERT INTO events_text (text, id, name, peer) VALUES (?, ?, ?, ?)');
  const searchText = db.prepare("SELECT id FROM events_text WHERE events_text MATCH ? AND (peer = '' OR name = ? OR peer = ?) ORDER BY rank LIMIT ?");

  let events: ChatEvent[] = [];
  let identity: Identity | undefined;
  let peers: string[] | undefined;
  let trimTo: number | undefined;
  let scheduled = false;

  const transaction = (work: () => void): void => {
    db.exec('BEGIN');
    try {
      work();
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
  };

  const flush = (): void => {
    scheduled = false;
    const batch = { events, identity, peers, trimTo };
    events = [];
    identity = peers = trimTo = undefined;
    try {
      transaction(() => {
        for (const e of batch.events) {
          const { changes } = insertEvent.run([e.id, e.clock, e.origin, JSON.stringify(e)]);
          const text = changes === 1 ? searchableText(e) : undefined;
          if (text !== undefined) insertText.run([text, e.id, e.name, privateTo(e) ?? '']);
        }
        if (batch.identity) saveIdentity.run([JSON.stringify(batch.identity)]);
        if (batch.peers) {
          db.run('DELETE FROM peers');
          for (const url of batch.peers) db.run('INSERT INTO peers (url) VALUES (?)', [url]);
        }
      });
      // The DELETE scans the table: outside the transaction that carries new events.
      if (batch.trimTo !== undefined)
        db.run('DELETE FROM events WHERE id NOT IN (SELECT id FROM events ORDER BY clock DESC, origin DESC LIMIT ?)', [batch.trimTo]);
    } catch (err) {
      port.postMessage({ kind: 'failed', message: (err as Error).message } satisfies WriterReport);
    }
  };

  port.on('message', (request: WriterRequest) => {
    switch (request.kind) {
      case 'append':
        for (const e of request.events) events.push(e);
        break;
      case 'identity':
        identity = request.identity;
        break;
      case 'peers':
        peers = request.urls;
        break;
      case 'trim':
        trimTo = request.maxEvents;
        break;
      case 'search': {
        if (scheduled) flush(); // what was handed over before the question is part of the answer
        let ids: string[] = [];
        const match = ftsQuery(request.query);
        try {
          if (match) ids = searchText.all([match, request.name, request.name, request.limit]).map((row) => String(row.id));
        } catch (err) {
          port.postMessage({ kind: 'failed', message: `search: ${(err as Error).message}` } satisfies WriterReport);
        }
        port.postMessage({ kind: 'found', ref: request.ref, ids } satisfies WriterReport);
        return;
      }
      case 'close':
        flush();
        insertEvent.finalize();
        saveIdentity.finalize();
        insertText.finalize();
        searchText.finalize();
        db.close();
        port.close();
        return;
    }
    // Everything that arrived during this turn (or during the last commit) goes in one transaction.
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
}
