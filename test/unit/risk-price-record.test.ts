import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPriceRecord, toPricePoints } from '../../src/backtest/price-record.js';

describe('price record (JSONL of on-chain prices)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'price-record-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads nothing before the first append, creating the directory on append', async () => {
    const rec = createPriceRecord({ dataDir: join(dir, 'nested', 'data') });
    expect(await rec.read()).toEqual({ observations: [], skippedLines: [], duplicates: 0 });
    await rec.append({ blockNumber: 10n, timeSec: 1_700_000_000n, priceE8: 250_012_345_678n });
    expect(await readFile(rec.path, 'utf8')).toBe('{"blockNumber":"10","timeSec":"1700000000","priceE8":"250012345678"}\n');
  });

  it('round-trips bigints, sorts by block and dedupes by block (last write wins)', async () => {
    const rec = createPriceRecord({ dataDir: dir });
    await rec.append({ blockNumber: 12n, timeSec: 1024n, priceE8: 300_000_000_000n });
    await rec.append({ blockNumber: 11n, timeSec: 1012n, priceE8: 299_000_000_000n });
    await rec.append({ blockNumber: 12n, timeSec: 1024n, priceE8: 301_000_000_000n });
    const read = await rec.read();
    expect(read.observations).toEqual([
      { blockNumber: 11n, timeSec: 1012n, priceE8: 299_000_000_000n },
      { blockNumber: 12n, timeSec: 1024n, priceE8: 301_000_000_000n },
    ]);
    expect(read.duplicates).toBe(1);
  });

  it('survives a line cut by a crash: skips it and appends on a fresh line', async () => {
    const rec = createPriceRecord({ dataDir: dir, fileName: 'p.jsonl' });
    await rec.append({ blockNumber: 1n, timeSec: 12n, priceE8: 1n });
    await appendFile(rec.path, '{"blockNumber":"2","timeSec":"2'); // the crash
    const after = createPriceRecord({ dataDir: dir, fileName: 'p.jsonl' }); // the restart
    await after.append({ blockNumber: 3n, timeSec: 36n, priceE8: 3n });
    const read = await after.read();
    expect(read.observations.map((o) => o.blockNumber)).toEqual([1n, 3n]);
    expect(read.skippedLines).toEqual([2]);
  });

  it('rejects a non-positive price', async () => {
    const rec = createPriceRecord({ dataDir: dir });
    await expect(rec.append({ blockNumber: 1n, timeSec: 1n, priceE8: 0n })).rejects.toThrow(RangeError);
  });

  it('converts to a strictly increasing USD price series for the risk models', () => {
    const points = toPricePoints([
      { blockNumber: 1n, timeSec: 100n, priceE8: 200_000_000_000n },
      { blockNumber: 2n, timeSec: 100n, priceE8: 200_050_000_000n }, // same second: later block wins
      { blockNumber: 3n, timeSec: 112n, priceE8: 199_912_345_678n },
    ]);
    expect(points).toEqual([
      { timeSec: 100, price: 2000.5 },
      { timeSec: 112, price: 1999.12345678 },
    ]);
  });
});
