import { appendFileSync } from 'node:fs';

export interface FaultResult {
  /** The fault injected, as the chaos table shows it. */
  fault: string;
  /** Every assertion of the outcome held (recorded only after they did). */
  survived: boolean;
  /** Value lost to the fault, USD (duplicate trades, fees above the ceiling). */
  lostUsd: number;
  note?: string;
}

/**
 * Record a fault's outcome for `npm run chaos` (a no-op under plain `npm test`). Called at the
 * end of a test, after its assertions: a failed test records nothing and the script counts it
 * as not survived.
 */
export function recordFault(r: FaultResult): void {
  const file = process.env['CHAOS_RESULTS'];
  if (file) appendFileSync(file, `${JSON.stringify(r)}\n`);
}
