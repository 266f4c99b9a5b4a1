import type { BacktestPath } from './path.js';

/**
 * Independent episodes: `--episode-days N` cuts the path into N-day windows, each starting
 * hedged at target with a freshly minted LP, so a policy is judged on many comparable months
 * instead of one four-year run whose end depends on its start. Without episodes the whole path
 * is one episode.
 *
 * An episode runs from a close to the first close at least N days later; the next one starts
 * at that close (the two share it: the end value of one, the start value of the next). A last
 * window shorter than N days is left out, so every episode has the same length.
 */

export interface Episode {
  /** Step index of the first close (inclusive). */
  startStep: number;
  /** Step index of the last close (inclusive). */
  endStep: number;
}

export function episodesOf(path: BacktestPath, episodeDays?: number): Episode[] {
  const n = path.steps.length;
  if (episodeDays === undefined) return [{ startStep: 0, endStep: n - 1 }];
  if (!(episodeDays > 0 && Number.isFinite(episodeDays))) throw new RangeError(`--episode-days must be > 0, got ${episodeDays}`);
  const lengthSec = episodeDays * 86_400;
  const out: Episode[] = [];
  let start = 0;
  for (let i = 1; i < n; i++) {
    const s = path.steps[i]!;
    if (!s.isClose || s.timeSec - path.steps[start]!.timeSec < lengthSec) continue;
    out.push({ startStep: start, endStep: i });
    start = i;
  }
  if (out.length === 0) throw new RangeError(`the data (${n} steps) is shorter than one ${episodeDays}-day episode`);
  return out;
}
