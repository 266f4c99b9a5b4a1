import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pnlStoreFileName } from '../../src/runner/portfolio-pnl-store.js';
import { useDevnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * Issue 12, item 6 across a restart: the portfolio keeper keeps its P&L attribution beside the
 * journal, per chain and account, and a keeper started again on the same data dir shows the same
 * since-start and last-24 h, then goes on adding. The risk engine's price records are per chain,
 * and a record from before that (no chain in its name) is adopted once when its last block is
 * this chain's.
 */

const E8 = 10n ** 8n;

describe('the portfolio keeper across a restart', () => {
  const devnet = useDevnet();

  it('P&L since start and over the last 24 h survive a restart, in a file per chain and account', async () => {
    const d = devnet();
    const first = await portfolioKeeperOn(d);
    await first.keeper.tickOnce();
    await setPortfolioPrices(d, { eth: 2_050n * E8, btc: 60_500n * E8 });
    const moved = await first.keeper.tickOnce();
    expect(moved.pnl?.interval.total).not.toBe(0n);
    await first.keeper.settle({ timeoutMs: 10_000 });
    await first.keeper.tickOnce();
    const before = first.keeper.pnl.report();
    expect(before.intervals).toBe(2);
    first.keeper.close();

    const file = join(first.dir, pnlStoreFileName(31337, d.address('portfolioDemo')));
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(2);

    const second = await portfolioKeeperOn(d, { dir: first.dir });
    expect(second.keeper.pnl.report()).toEqual(before);
    // The first tick after the restart starts a new chain of intervals; the next one adds to the totals.
    await second.keeper.tickOnce();
    await setPortfolioPrices(d, { eth: 2_000n * E8, btc: 60_000n * E8 });
    const r = await second.keeper.tickOnce();
    const after = second.keeper.pnl.report();
    expect(after.intervals).toBe(3);
    expect(after.startBlock).toBe(before.startBlock);
    expect(after.sinceStart.total).toBe(before.sinceStart.total + r.pnl!.interval.total);
    expect(r.pnl?.sinceStart).toEqual(after.sinceStart);
    second.keeper.close();
  });

  it('another account on the same data dir starts from nothing', async () => {
    const d = devnet();
    const first = await portfolioKeeperOn(d);
    await first.keeper.tickOnce();
    await first.keeper.tickOnce();
    expect(first.keeper.pnl.report().intervals).toBe(1);
    first.keeper.close();
    const other = await portfolioKeeperOn(d, { dir: first.dir, role: 'perpDemo', keeper: { riskRecordDir: first.dir } });
    expect(other.keeper.pnl.report()).toMatchObject({ intervals: 0, startBlock: null });
    other.keeper.close();
  });

  it('a price record from before the chain id was in its name is adopted once if its last block is this chain\'s', async () => {
    const d = devnet();
    const probe = await portfolioKeeperOn(d, { keeper: { riskRecordDir: null } });
    const s = await probe.keeper.reader.read();
    probe.keeper.close();
    const dir = probe.dir;
    const eth = s.prices['ETH']!.priceE8;
    writeFileSync(join(dir, 'portfolio-prices-ETH.jsonl'), `${JSON.stringify({ blockNumber: s.blockNumber.toString(), timeSec: s.blockTimestampSec.toString(), priceE8: eth.toString() })}\n`);
    // The same block number with another timestamp: another chain's record, left alone.
    writeFileSync(join(dir, 'portfolio-prices-BTC.jsonl'), `${JSON.stringify({ blockNumber: s.blockNumber.toString(), timeSec: (s.blockTimestampSec - 1n).toString(), priceE8: '6000000000000' })}\n`);
    const keeper = await portfolioKeeperOn(d, { dir });
    keeper.keeper.close();
    expect(existsSync(join(dir, 'portfolio-prices-ETH.jsonl'))).toBe(false);
    expect(readFileSync(join(dir, 'portfolio-prices-31337-ETH.jsonl'), 'utf8')).toContain(`"blockNumber":"${s.blockNumber}"`);
    expect(existsSync(join(dir, 'portfolio-prices-BTC.jsonl'))).toBe(true);
    expect(existsSync(join(dir, 'portfolio-prices-31337-BTC.jsonl'))).toBe(false);
  });
});
