import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { cacheDir } from './bundle.js';
import { loadCandles, type CandleSet } from './candles.js';

/**
 * Parsed candle files cached next to the bundles: parsing the 33,000-row ETH file (its quirks
 * and all) takes ~0.3 s of every backtest's start, reading 1.6 MB of floats ~10 ms. The cache
 * is keyed by the file's path and checked against its size and modification time.
 */

const FIELDS = 6; // timeSec, open, high, low, close, volume

interface Meta extends Omit<CandleSet, 'candles'> {
  mtimeMs: number;
  size: number;
  count: number;
}

export async function loadCandlesCached(file: string): Promise<CandleSet> {
  const abs = resolve(file);
  const st = statSync(abs);
  const key = createHash('sha256').update(abs).digest('hex').slice(0, 16);
  const dir = cacheDir();
  const base = join(dir, `candles-${key}`);
  try {
    const meta = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Meta;
    if (meta.mtimeMs === st.mtimeMs && meta.size === st.size) {
      const buf = readFileSync(`${base}.bin`);
      const f = new Float64Array(buf.buffer, buf.byteOffset, buf.byteLength / 8);
      if (f.length === meta.count * FIELDS) {
        const candles = Array.from({ length: meta.count }, (_, k) => {
          const o = k * FIELDS;
          return { timeSec: f[o]!, open: f[o + 1]!, high: f[o + 2]!, low: f[o + 3]!, close: f[o + 4]!, volume: f[o + 5]! };
        });
        const { mtimeMs: _m, size: _s, count: _c, ...set } = meta;
        return { ...set, candles };
      }
    }
  } catch {
    // no cache yet, or an unreadable one: parse
  }
  const set = await loadCandles(abs);
  const f = new Float64Array(set.candles.length * FIELDS);
  set.candles.forEach((c, k) => f.set([c.timeSec, c.open, c.high, c.low, c.close, c.volume], k * FIELDS));
  const { candles, ...rest } = set;
  try {
    mkdirSync(dir, { recursive: true });
    const tmp = `${base}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    writeFileSync(`${tmp}.bin`, Buffer.from(f.buffer));
    renameSync(`${tmp}.bin`, `${base}.bin`);
    writeFileSync(`${tmp}.json`, JSON.stringify({ ...rest, mtimeMs: st.mtimeMs, size: st.size, count: candles.length } satisfies Meta));
    renameSync(`${tmp}.json`, `${base}.json`);
  } catch {
    // a read-only tree: run without the cache
  }
  return set;
}
