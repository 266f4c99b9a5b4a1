import { appendFileSync, chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Address } from '../core/types.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../journal/private-files.js';
import type { PnlInterval, PnlParts } from './portfolio-pnl.js';

/**
 * P&L attribution that survives a restart (issue 12, item 6): one JSON object per line in
 * `portfolio-pnl-<chainId>-<account>.jsonl` beside the price records, so two chains or two
 * accounts never mix. Lines are either an attributed interval, or one `base` line holding the
 * totals of the intervals compacted away (older than the 24 h window): the file stays about one
 * day of intervals long, and since-start is the base plus every interval after it.
 *
 * The interval between the last tick before a restart and the first after it is not attributed
 * (the keeper was not looking): since-start is the sum of the intervals it did see.
 *
 * Synchronous, small writes: an interval is appended before the tick's result is published. A
 * line that does not parse (a crash mid-write, a hand edit) is skipped with a warning naming the
 * file and line; it never stops the keeper.
 */

export interface PnlHistory {
  /** Totals of the intervals no longer kept one by one (compacted), or zero. */
  base: { sinceStart: PnlParts; intervals: number; startBlock: bigint | null } | null;
  /** In file order. */
  intervals: PnlInterval[];
}

export interface PnlStore {
  readonly path: string;
  load(): PnlHistory;
  append(interval: PnlInterval): void;
  /** Rewrite the file as one base line plus `keep` (atomic rename). */
  compact(base: NonNullable<PnlHistory['base']>, keep: readonly PnlInterval[]): void;
}

export interface PnlStoreOptions {
  dataDir: string;
  chainId: number;
  account: Address;
  /** Skipped lines are reported here (file and 1-based line). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

/** `portfolio-pnl-<chainId>-<account, lower case>.jsonl`. */
export function pnlStoreFileName(chainId: number, account: Address): string {
  return `portfolio-pnl-${chainId}-${account.toLowerCase()}.jsonl`;
}

const PART_KEYS = ['lpFees', 'lpPriceMove', 'lpLossVsHolding', 'fundingInterest', 'tradingFees', 'gas', 'unexplained', 'total'] as const;
const INT = /^-?\d+$/;

function partsToJson(p: PnlParts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of PART_KEYS) out[k] = p[k].toString();
  out['hedge'] = Object.fromEntries(Object.entries(p.hedge).map(([v, x]) => [v, x.toString()]));
  return out;
}

function big(v: unknown): bigint {
  if (typeof v !== 'string' || !INT.test(v)) throw new Error('not an integer string');
  return BigInt(v);
}

function partsFromJson(o: Record<string, unknown>): PnlParts {
  const hedgeRaw = o['hedge'];
  if (typeof hedgeRaw !== 'object' || hedgeRaw === null || Array.isArray(hedgeRaw)) throw new Error('no hedge object');
  const hedge: Record<string, bigint> = {};
  for (const [v, x] of Object.entries(hedgeRaw)) hedge[v] = big(x);
  const p = { hedge } as PnlParts;
  for (const k of PART_KEYS) p[k] = big(o[k]);
  return p;
}

export function intervalLine(i: PnlInterval): string {
  return JSON.stringify({ kind: 'interval', fromBlock: i.fromBlock.toString(), toBlock: i.toBlock.toString(), timeSec: i.timeSec.toString(), ...partsToJson(i) });
}

function baseLine(b: NonNullable<PnlHistory['base']>): string {
  return JSON.stringify({ kind: 'base', intervals: b.intervals, startBlock: b.startBlock?.toString() ?? null, ...partsToJson(b.sinceStart) });
}

type Parsed = { kind: 'interval'; interval: PnlInterval } | { kind: 'base'; base: NonNullable<PnlHistory['base']> };

function parseLine(line: string): Parsed {
  const o = JSON.parse(line) as unknown;
  if (typeof o !== 'object' || o === null) throw new Error('not an object');
  const r = o as Record<string, unknown>;
  if (r['kind'] === 'interval') {
    return { kind: 'interval', interval: { ...partsFromJson(r), fromBlock: big(r['fromBlock']), toBlock: big(r['toBlock']), timeSec: big(r['timeSec']) } };
  }
  if (r['kind'] === 'base') {
    const n = r['intervals'];
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new Error('bad interval count');
    const sb = r['startBlock'];
    return { kind: 'base', base: { sinceStart: partsFromJson(r), intervals: n, startBlock: sb === null ? null : big(sb) } };
  }
  throw new Error('unknown kind');
}

export function createPnlStore(opts: PnlStoreOptions): PnlStore {
  const path = join(opts.dataDir, pnlStoreFileName(opts.chainId, opts.account));
  let fresh = true;
  const ensureDir = () => mkdirSync(opts.dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  return {
    path,
    load() {
      if (!existsSync(path)) return { base: null, intervals: [] };
      const text = readFileSync(path, 'utf8');
      let base: PnlHistory['base'] = null;
      const intervals: PnlInterval[] = [];
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        try {
          const p = parseLine(line);
          if (p.kind === 'base') base = p.base;
          else intervals.push(p.interval);
        } catch (err) {
          opts.warn?.(`P&L record ${path}: line ${i + 1} skipped (${(err as Error).message})`, { event: 'pnl.record_line_skipped', file: path, line: i + 1 });
        }
      });
      return { base, intervals };
    },
    append(interval) {
      ensureDir();
      // A previous run that died mid-line: start on a fresh line (the cut line is skipped on load).
      let prefix = '';
      if (fresh && existsSync(path)) {
        const t = readFileSync(path);
        if (t.length > 0 && t[t.length - 1] !== 0x0a) prefix = '\n';
        chmodSync(path, PRIVATE_FILE_MODE);
      }
      fresh = false;
      appendFileSync(path, `${prefix}${intervalLine(interval)}\n`, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
    },
    compact(base, keep) {
      ensureDir();
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, [baseLine(base), ...keep.map(intervalLine)].join('\n') + '\n', { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
      renameSync(tmp, path);
      fresh = false;
    },
  };
}
