import { hostname } from 'node:os';
import Database from 'better-sqlite3';
import { privateFile } from './private-files.js';

/**
 * One keeper per journal (and so per key): an exclusive lock held for the life of the process.
 *
 * The lock is an OS file lock, taken through SQLite on `<journal>.lock` (a write transaction
 * begun and never committed holds SQLite's RESERVED lock, a POSIX fcntl lock). The kernel drops
 * it when the process dies, however it dies: a keeper killed with kill -9 leaves nothing stale
 * to clean up, and no pid guessing is needed. A PID file would go stale on kill -9 and would
 * have to be taken over by guessing whether that pid is still ours.
 * SQLite also keeps the lock right between two connections of one process, which plain fcntl
 * locks do not. Readers are not blocked, so a refused keeper can read who holds the lock.
 * Network file systems (NFS) may not honour fcntl locks: keep the journal on a local disk.
 */

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock. */
  since: string;
}

export interface JournalLock {
  readonly path: string;
  /** The lock as written by this process. */
  readonly holder: LockHolder;
  /** Idempotent. The kernel releases the lock anyway when the process ends. */
  release(): void;
}

/** Another process holds the journal. */
export class JournalLockedError extends Error {
  readonly holder: LockHolder | null;
  constructor(journalPath: string, holder: LockHolder | null) {
    const who = holder ? `pid ${holder.pid} on host ${holder.host}, since ${holder.since}` : 'a process that did not say who it is';
    super(
      `JOURNAL_PATH=${journalPath}: another keeper holds this journal (${who}). ` +
        'One keeper per key: stop that one first (two keepers on one key trade twice)',
    );
    this.name = 'JournalLockedError';
    this.holder = holder;
  }
}

const isBusy = (err: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test(String((err as { code?: unknown }).code ?? ''));

function readHolder(db: Database.Database): LockHolder | null {
  try {
    // The holder may be committing its row this very moment.
    db.pragma('busy_timeout = 2000');
    const row = db.prepare('SELECT pid, host, since FROM holder WHERE id = 1').get() as LockHolder | undefined;
    return row ?? null;
  } catch {
    return null;
  }
}

/** Take the journal's lock or throw JournalLockedError naming the holder. */
export function lockJournal(journalPath: string): JournalLock {
  const path = `${journalPath}.lock`;
  let db: Database.Database;
  try {
    privateFile(path);
    db = new Database(path, { timeout: 0 });
  } catch (err) {
    throw new Error(`JOURNAL_PATH=${journalPath}: cannot open the lock file ${path}`, { cause: err });
  }
  const holder: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  const insert = () => db.prepare('INSERT OR REPLACE INTO holder (id, pid, host, since) VALUES (1, ?, ?, ?)').run(holder.pid, holder.host, holder.since);
  let wrote = false;
  try {
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, host TEXT NOT NULL, since TEXT NOT NULL)');
    // Only the process that won the write lock writes its name, and commits it so that a
    // refused process can read it; then it takes the lock again, for good. A process that
    // slips in between wins instead, and this one is refused: still exactly one keeper.
    db.exec('BEGIN IMMEDIATE');
    insert();
    db.exec('COMMIT');
    wrote = true;
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    if (!isBusy(err)) {
      db.close();
      throw new Error(`JOURNAL_PATH=${journalPath}: cannot lock ${path}`, { cause: err });
    }
    if (db.inTransaction) db.exec('ROLLBACK');
    const other = readHolder(db);
    db.close();
    // Still our own row: the process that slipped in has not written its name yet.
    const ours = wrote && other?.pid === holder.pid && other.since === holder.since;
    throw new JournalLockedError(journalPath, ours ? null : other);
  }
  let released = false;
  return {
    path,
    holder,
    release() {
      if (released) return;
      released = true;
      // The row stays: it is read only while a lock is held, and the holder has rewritten it.
      db.close();
    },
  };
}
