import { readdirSync, readFileSync } from 'node:fs';
import { ensureDevnetState } from '../src/devnet/state.js';

/** anvil processes alive now (Linux /proc; elsewhere the check is skipped). */
function anvilPids(): Set<number> {
  const pids = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ...": zombies are dead already.
      if (/^\d+ \(anvil\) [^Z]/.test(stat)) pids.add(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return pids;
}

let before = new Set<number>();

/**
 * Deploy the devnet once per test run (or reuse the cached dump of identical sources): every
 * chain test file then starts its own anvil from the dump in well under a second.
 */
export async function setup(): Promise<void> {
  before = anvilPids();
  await ensureDevnetState();
}

/** No orphans: every anvil the suite started is gone when it ends. */
export async function teardown(): Promise<void> {
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = [...anvilPids()].filter((pid) => !before.has(pid));
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // vitest only prints a teardown error: make the run fail too.
  process.exitCode = 1;
  throw new Error(`anvil processes left behind by the test run: ${left.join(', ')}`);
}
