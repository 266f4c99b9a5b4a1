import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';

/**
 * The keeper's files (journal with its signed transactions, lock, price record) are the
 * owner's only: 0600 in a 0700 directory. Modes are set when a file or directory is created;
 * an existing directory is left as the operator made it (it may be shared on purpose), an
 * existing file of ours is tightened.
 */

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/** mkdir -p with every directory it creates 0700. */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/** Create `path` 0600 if missing, else make it 0600. SQLite gives its -wal/-shm files the database's mode. */
export function privateFile(path: string): void {
  if (!existsSync(path)) {
    closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
    return;
  }
  try {
    chmodSync(path, PRIVATE_FILE_MODE);
  } catch (err) {
    // Not our file (EPERM): it keeps its mode; opening it will say whether we may use it.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
  }
}

/** A SQLite database and the side files it may already have (WAL mode). */
export function privateDatabase(path: string): void {
  privateFile(path);
  for (const side of [`${path}-wal`, `${path}-shm`]) if (existsSync(side)) privateFile(side);
}
