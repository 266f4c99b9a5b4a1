import { ensureDevnetState } from '../src/devnet/state.js';

/**
 * Deploy the devnet once per test run (or reuse the cached dump of identical sources): every
 * chain test file then starts its own anvil from the dump in well under a second.
 */
export async function setup(): Promise<void> {
  await ensureDevnetState();
}
