// The search thread (search-index.ts starts it): SQLite's FTS5 over an index in this thread's
// memory, of the history the server holds. It shares no file with the writer, so neither waits
// for the other's lock.
import { parentPort } from 'node:worker_threads';
import sqlite from 'node-sqlite3-wasm'; // CommonJS: its names are on the default export

import type { SearchReport, SearchRequest } from './search-index.js';

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
  const db = new sqlite.Database(':memory:');
  db.exec('CREATE VIRTUAL TABLE texts USING fts5(text, name UNINDEXED, peer UNINDEXED)');
  const insert = db.prepare('INSERT INTO texts (text, name, peer) VALUES (?, ?, ?)');
  const remove = db.prepare('DELETE FROM texts WHERE rowid = ?');
  const find = db.prepare("SELECT rowid FROM texts WHERE texts MATCH ? AND (peer = '' OR name = ? OR peer = ?) ORDER BY rank LIMIT ?");
  // Event ids by row, and rows by event id: a row is removed by its rowid (the id is not indexed).
  const rowOf = new Map<string, number>();
  const idOf = new Map<number, string>();

  port.on('message', (request: SearchRequest) => {
    switch (request.kind) {
      case 'add':
        db.exec('BEGIN');
        for (const [text, id, name, peer] of request.rows) {
          if (rowOf.has(id)) continue;
          const row = Number(insert.run([text, name, peer]).lastInsertRowid);
          rowOf.set(id, row);
          idOf.set(row, id);
        }
        db.exec('COMMIT');
        return;
      case 'remove':
        db.exec('BEGIN');
        for (const id of request.ids) {
          const row = rowOf.get(id);
          if (row === undefined) continue;
          remove.run([row]);
          rowOf.delete(id);
          idOf.delete(row);
        }
        db.exec('COMMIT');
        return;
      case 'search': {
        const match = ftsQuery(request.query);
        try {
          const rows = match ? find.all([match, request.name, request.name, request.limit]) : [];
          const ids = rows.flatMap((r) => idOf.get(Number(r.rowid)) ?? []);
          port.postMessage({ kind: 'found', ref: request.ref, ids } satisfies SearchReport);
        } catch (err) {
          port.postMessage({ kind: 'failed', ref: request.ref, message: `search: ${(err as Error).message}` } satisfies SearchReport);
        }
        return;
      }
    }
  });
}
