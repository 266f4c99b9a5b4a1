import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ensureDevnetState } from '../src/devnet/state.js';

/**
 * Marks every process this test run starts: vitest's workers inherit the environment from here,
 * anvil inherits it from them (src/devnet/anvil.ts), the CLI helper forwards it
 * (test/helpers/cli.ts). Another checkout's anvils, or a developer's `npm run devnet`, do not
 * carry this run's value and are none of our business.
 */
export const RUN_MARKER = 'KEEPER_TEST_RUN_ID';

/** anvil processes alive now that carry `marker=value` in their environment (Linux /proc; elsewhere none). */
export function anvilPidsOfRun(marker: string, value: string): number[] {
  const needle = `\0${marker}=${value}\0`;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ...": zombies are dead already.
      if (!/^\d+ \(anvil\) [^Z]/.test(stat)) continue;
      if (`\0${readFileSync(`/proc/${entry}/environ`, 'latin1')}`.includes(needle)) pids.push(Number(entry));
    } catch {
      /* gone meanwhile, or not ours to read */
    }
  }
  return pids;
}

let runId = '';

/**
 * Deploy the devnet once per test run (or reuse the cached dump of identical sources): every
 * chain test file then starts its own anvil from the dump in well under a second.
 */
export async function setup(): Promise<void> {
  runId = `${process.pid}-${randomBytes(6).toString('hex')}`;
  process.env[RUN_MARKER] = runId;
  await ensureDevnetState();
}

/** No orphans: every anvil this run started is gone when it ends. */
export async function teardown(): Promise<void> {
  let left: number[] = [];
  for (let i = 0; i < 50; i++) {
    left = anvilPidsOfRun(RUN_MARKER, runId);
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  // vitest only prints a teardown error: make the run fail too.
  process.exitCode = 1;
  throw new Error(`anvil processes left behind by the test run ${runId}: ${left.join(', ')}`);
}
