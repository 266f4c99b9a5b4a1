// Plain JS on purpose: bin/keeper.mjs loads this without tsx. It runs `keeper backtest` from a
// cached esbuild bundle of main.ts, built on first use (or after a source changed) by bundle.ts,
// which itself needs tsx only for that build.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'node_modules', '.cache', 'keeper-backtest');

/** The manifest check of bundle.ts, repeated here so the fast path needs no TypeScript. */
function fresh(name) {
  try {
    const m = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    if (m.node !== process.version || !existsSync(join(dir, `${name}.mjs`))) return false;
    return Object.entries(m.inputs).every(([file, [mtimeMs, size]]) => {
      const st = statSync(join(root, file), { throwIfNoEntry: false });
      return st !== undefined && st.mtimeMs === mtimeMs && st.size === size;
    });
  } catch {
    return false;
  }
}

export async function runBacktestCli() {
  if (!fresh('main') || !fresh('worker')) {
    const { register } = await import('tsx/esm/api');
    const unregister = register();
    const { cachedBundle } = await import('./bundle.ts');
    await cachedBundle('src/backtest/main.ts', 'main');
    await cachedBundle('src/backtest/worker.ts', 'worker');
    await unregister();
  }
  await import(pathToFileURL(join(dir, 'main.mjs')).href);
}
