import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The project's root directory, found from this module's location: the backtest runs from the
 * TypeScript sources and from bundles cached under node_modules/.cache, and both sit inside it.
 */

const NAME = 'delta-neutral-keeper';
let cached: string | undefined;

export function repoRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === NAME) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) throw new Error(`backtest: no package.json named ${NAME} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** A file shipped in src/backtest/data. */
export function dataFile(name: string): string {
  return join(repoRoot(), 'src', 'backtest', 'data', name);
}
