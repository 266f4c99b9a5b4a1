import { appendFile, chmod, mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import type { PricePoint } from '../core/risk/returns.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../journal/private-files.js';

/**
 * The keeper's own record of the prices it saw on-chain, one JSON object per line
 * (`{"blockNumber":"123","timeSec":"1700000000","priceE8":"250000000000"}`, bigints as decimal
 * strings), so live risk figures come from what the keeper actually observed rather than
 * from an exchange feed. Append-only: a crash can at worst leave a truncated last line,
 * which the reader skips and the next append starts after.
 */

export interface PriceObservation {
  blockNumber: bigint;
  timeSec: bigint;
  /** Oracle (or pool) price of the base asset, USD, 8 decimals. */
  priceE8: bigint;
}

export interface PriceRecordRead {
  /** Ascending by block, one per block (the last line written for a block wins: after a reorg the re-read replaces the old one). */
  observations: PriceObservation[];
  /** 1-based line numbers that could not be parsed (e.g. a line cut by a crash). */
  skippedLines: number[];
  /** Lines superseded by a later line for the same block. */
  duplicates: number;
}

export interface PriceRecord {
  readonly path: string;
  append(obs: PriceObservation): Promise<void>;
  read(): Promise<PriceRecordRead>;
}

export interface PriceRecordOptions {
  dataDir: string;
  /** Default `prices.jsonl`. */
  fileName?: string;
}

const DIGITS = /^\d+$/;

function parseLine(line: string): PriceObservation | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  const fields = [o['blockNumber'], o['timeSec'], o['priceE8']];
  if (!fields.every((f) => typeof f === 'string' && DIGITS.test(f))) return undefined;
  const [blockNumber, timeSec, priceE8] = fields.map((f) => BigInt(f as string)) as [bigint, bigint, bigint];
  return priceE8 > 0n ? { blockNumber, timeSec, priceE8 } : undefined;
}

/** True when the file exists, is non-empty and does not end with a newline. */
async function endsMidLine(path: string): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return false;
    const buf = Buffer.alloc(1);
    await fh.read(buf, 0, 1, size - 1);
    return buf[0] !== 0x0a;
  } finally {
    await fh.close();
  }
}

export function createPriceRecord(opts: PriceRecordOptions): PriceRecord {
  const path = join(opts.dataDir, opts.fileName ?? 'prices.jsonl');
  let checkedTail = false;
  return {
    path,
    async append(obs) {
      if (obs.priceE8 <= 0n || obs.blockNumber < 0n || obs.timeSec < 0n) {
        throw new RangeError(`price record: bad observation at block ${obs.blockNumber}`);
      }
      // The keeper's data is the owner's only: 0700 directory, 0600 file (journal/private-files.ts).
      await mkdir(opts.dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
      // Once per process: if a previous run died mid-line, start on a fresh line.
      const prefix = !checkedTail && (await endsMidLine(path)) ? '\n' : '';
      if (!checkedTail) await chmod(path, PRIVATE_FILE_MODE).catch(() => undefined); // a file from an older run
      checkedTail = true;
      const line = JSON.stringify({ blockNumber: obs.blockNumber.toString(), timeSec: obs.timeSec.toString(), priceE8: obs.priceE8.toString() });
      await appendFile(path, `${prefix}${line}\n`, { encoding: 'utf8', mode: PRIVATE_FILE_MODE });
    },
    async read() {
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { observations: [], skippedLines: [], duplicates: 0 };
        throw new Error(`price record: cannot read ${path}`, { cause: err });
      }
      const byBlock = new Map<bigint, PriceObservation>();
      const skippedLines: number[] = [];
      let duplicates = 0;
      text.split('\n').forEach((line, i) => {
        if (line.trim() === '') return;
        const obs = parseLine(line);
        if (obs === undefined) return void skippedLines.push(i + 1);
        if (byBlock.has(obs.blockNumber)) duplicates++;
        byBlock.set(obs.blockNumber, obs);
      });
      const observations = [...byBlock.values()].sort((a, b) => (a.blockNumber < b.blockNumber ? -1 : 1));
      return { observations, skippedLines, duplicates };
    },
  };
}

/**
 * Observations -> a price series for the risk models (USD as numbers, time in seconds).
 * Several blocks can share a timestamp on fast chains; the last block's price is kept, so
 * the series is strictly increasing in time as logReturnSeries requires.
 */
export function toPricePoints(observations: readonly PriceObservation[]): PricePoint[] {
  const out: PricePoint[] = [];
  for (const o of observations) {
    const point = { timeSec: Number(o.timeSec), price: new Decimal(o.priceE8.toString()).div(1e8).toNumber() };
    const last = out.at(-1);
    if (last !== undefined && point.timeSec <= last.timeSec) {
      if (point.timeSec === last.timeSec) out[out.length - 1] = point;
      continue; // an out-of-order timestamp (reorged block re-read) is dropped
    }
    out.push(point);
  }
  return out;
}
