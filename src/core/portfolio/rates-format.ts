import { fixedToString } from '../format.js';

/** A yearly rate, E18, as "3.10%" (2 decimals); "unknown" for null. */
export function fmtAprPct(aprE18: bigint | null): string {
  return aprE18 === null ? 'unknown' : `${fixedToString(aprE18 * 100n, 18, 2)}%`;
}
