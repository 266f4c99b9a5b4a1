import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { createPnlAttribution, formatPnlReport, pnlTickOf } from '../../src/runner/portfolio-pnl.js';
import { createPnlStore, pnlStoreFileName } from '../../src/runner/portfolio-pnl-store.js';
import { createPortfolioRisk, legacyPriceRecordMigration, portfolioPriceRecords } from '../../src/runner/portfolio-risk.js';

const E8 = 10n ** 8n;
const ETH = 10n ** 18n;
const DAY = 86_400n;
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;
const ACCOUNT = '0x00000000000000000000000000000000000000Ab' as const;

/** One asset in the wallet, nothing else: each interval's P&L is 2 ETH × the price change, all of it lpPriceMove. */
const portfolio = {
  quote: { id: 'USDC', token: addr(1), decimals: 6, feed: null },
  assets: [{ id: 'ETH', token: addr(2), decimals: 18, feed: addr(3), heartbeatSec: 3600 }],
  pools: [],
  venues: [],
  instruments: [],
  policy: { assets: {}, cooldownSec: 0, maxSlippageBps: 50, includeNative: false },
} as unknown as Portfolio;

function snap(block: bigint, time: bigint, usd: bigint): PortfolioSnapshot {
  return {
    chainId: 1, blockNumber: block, blockTimestampSec: time, account: ACCOUNT,
    prices: { ETH: { priceE8: usd * E8, updatedAtSec: time } }, quotePriceE8: E8,
    wallet: { nativeWei: 0n, balances: { ETH: 2n * ETH, USDC: 0n } }, pools: {}, lps: [], venues: {},
  };
}

const T0 = 1_700_000_000n;
const store = (dir: string, o: { chainId?: number; account?: `0x${string}`; warnings?: string[] } = {}) =>
  createPnlStore({ dataDir: dir, chainId: o.chainId ?? 1, account: o.account ?? ACCOUNT, warn: (m) => o.warnings?.push(m) });

/** Prices 2000 → 2100 (day 0) → 2050 (day 2) → 2060 (day 2 + 1 h): +$200, -$100, +$20. */
async function runFirst(dir: string) {
  const pnl = createPnlAttribution({ portfolio, store: store(dir) });
  await pnl.observe(snap(100n, T0, 2000n));
  await pnl.observe(snap(101n, T0 + 600n, 2100n));
  await pnl.observe(snap(102n, T0 + 2n * DAY, 2050n));
  const tick = await pnlTickOf(pnl, snap(103n, T0 + 2n * DAY + 3600n, 2060n));
  return { pnl, tick };
}

describe('P&L attribution across a restart', () => {
  it('a new keeper on the same data dir shows the same since-start and last-24 h, and goes on adding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    const { pnl, tick } = await runFirst(dir);
    const before = pnl.report();
    expect(before.intervals).toBe(3);
    expect(before.startBlock).toBe(100n);
    expect(before.sinceStart.total).toBe(120n * E8);
    expect(before.sinceStart.lpPriceMove).toBe(120n * E8);
    // The first interval is two days old: only the last two are in the last 24 h.
    expect(before.last24h.total).toBe(-80n * E8);
    expect(tick).toMatchObject({ sinceStart: { total: 120n * E8 }, last24h: { total: -80n * E8 }, interval: { total: 20n * E8 } });

    const again = createPnlAttribution({ portfolio, store: store(dir) });
    expect(again.report()).toEqual(before);
    expect(formatPnlReport(again.report()).join('\n')).toMatch(/3 interval\(s\) since block 100[\s\S]*total\s+\$120\.00\s+\$-80\.00/);
    // After the restart: the first snapshot starts a new chain of intervals (the downtime is not attributed).
    expect(await again.observe(snap(200n, T0 + 2n * DAY + 7200n, 2500n))).toBeNull();
    await again.observe(snap(201n, T0 + 2n * DAY + 7800n, 2510n));
    const after = again.report();
    expect(after.intervals).toBe(4);
    expect(after.startBlock).toBe(100n);
    expect(after.sinceStart.total).toBe(140n * E8);
    expect(after.last24h.total).toBe(-60n * E8);
    // A third start sees all four.
    expect(createPnlAttribution({ portfolio, store: store(dir) }).report()).toEqual(after);
  });

  it('keyed by chain id and account: another chain or another account starts from nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    await runFirst(dir);
    expect(existsSync(join(dir, pnlStoreFileName(1, ACCOUNT)))).toBe(true);
    expect(pnlStoreFileName(1, ACCOUNT)).toBe('portfolio-pnl-1-0x00000000000000000000000000000000000000ab.jsonl');
    for (const other of [store(dir, { chainId: 5 }), store(dir, { account: addr(0xcd) })]) {
      const r = createPnlAttribution({ portfolio, store: other }).report();
      expect([r.intervals, r.startBlock, r.sinceStart.total, r.last24h.total]).toEqual([0, null, 0n, 0n]);
    }
  });

  it('a corrupt line is skipped with a warning naming the file and the line; the rest still counts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    const first = createPnlAttribution({ portfolio, store: store(dir) });
    await first.observe(snap(100n, T0, 2000n));
    await first.observe(snap(101n, T0 + 60n, 2010n));
    const path = join(dir, pnlStoreFileName(1, ACCOUNT));
    appendFileSync(path, '{"kind":"interval","fromBlock":"101","toBl'); // a crash mid-line
    const warnings: string[] = [];
    const second = createPnlAttribution({ portfolio, store: store(dir, { warnings }) });
    expect(warnings).toEqual([`P&L record ${path}: line 2 skipped (${errorOf('{"kind":"interval","fromBlock":"101","toBl')})`]);
    expect(second.report().sinceStart.total).toBe(20n * E8);
    // The next append starts on a fresh line: the cut line stays the only bad one.
    await second.observe(snap(102n, T0 + 120n, 2010n));
    await second.observe(snap(103n, T0 + 180n, 2000n));
    const w2: string[] = [];
    const third = createPnlAttribution({ portfolio, store: store(dir, { warnings: w2 }) });
    expect(w2).toHaveLength(1);
    expect(w2[0]).toContain(`${path}: line 2 skipped`);
    expect(third.report().intervals).toBe(2);
    expect(third.report().sinceStart.total).toBe(0n);
  });

  it('a line of the wrong shape is skipped too (a number where a decimal string belongs)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    const path = join(dir, pnlStoreFileName(1, ACCOUNT));
    const parts = '"lpFees":"0","lpPriceMove":"0","lpLossVsHolding":"0","hedge":{},"fundingInterest":"0","tradingFees":"0","gas":"0","unexplained":"0","total":"0"';
    writeFileSync(path, `{"kind":"interval","fromBlock":1,"toBlock":"2","timeSec":"3",${parts}}\n`);
    const warnings: string[] = [];
    expect(createPnlAttribution({ portfolio, store: store(dir, { warnings }) }).report().intervals).toBe(0);
    expect(warnings).toEqual([`P&L record ${path}: line 1 skipped (not an integer string)`]);
  });

  it('the file is compacted to one base line plus the last 24 h, with the same totals', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    await runFirst(dir);
    const path = join(dir, pnlStoreFileName(1, ACCOUNT));
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(3);
    // Reloaded, the two-day-old interval is folded into the base line.
    const reloaded = createPnlAttribution({ portfolio, store: store(dir) });
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l['kind'])).toEqual(['base', 'interval', 'interval']);
    expect(lines[0]).toMatchObject({ intervals: 1, startBlock: '100', total: '20000000000', lpPriceMove: '20000000000' });
    expect(createPnlAttribution({ portfolio, store: store(dir) }).report()).toEqual(reloaded.report());
    expect(reloaded.report().sinceStart.total).toBe(120n * E8);
  });

  it('a running keeper compacts its file when it holds far more than the last 24 h', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pnl-'));
    const pnl = createPnlAttribution({ portfolio, store: store(dir) });
    // One interval an hour for 10 days, +$2 each: the window holds 24, the file never more than 2 × 24 + 100 + 1.
    for (let h = 0n; h <= 240n; h++) await pnl.observe(snap(1000n + h, T0 + h * 3600n, 2000n + h));
    const lines = readFileSync(join(dir, pnlStoreFileName(1, ACCOUNT)), 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThanOrEqual(2 * 24 + 101);
    expect(lines.length).toBeLessThan(240);
    const r = pnl.report();
    expect([r.intervals, r.sinceStart.total, r.last24h.total]).toEqual([240, 480n * E8, 48n * E8]);
    expect(createPnlAttribution({ portfolio, store: store(dir) }).report()).toEqual(r);
  });
});

function errorOf(line: string): string {
  try {
    JSON.parse(line);
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

describe('risk price records keyed by chain id', () => {
  const assets = [{ id: 'ETH', decimals: 18 }];
  const obs = { blockNumber: 7n, timeSec: T0, priceE8: 2000n * E8 };

  it('one file per chain and asset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    expect(portfolioPriceRecords(dir, assets, 31337)['ETH']!.path).toBe(join(dir, 'portfolio-prices-31337-ETH.jsonl'));
    expect(portfolioPriceRecords(dir, assets, 1)['ETH']!.path).toBe(join(dir, 'portfolio-prices-1-ETH.jsonl'));
  });

  it('the old unkeyed file is adopted once, renamed, when its last block is this chain\'s; else left unread', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prices-'));
    const legacy = portfolioPriceRecords(dir, assets)['ETH']!;
    await legacy.append(obs);
    const asked: bigint[] = [];
    const other = legacyPriceRecordMigration(dir, assets, 5, async (o) => (asked.push(o.blockNumber), false));
    const riskOther = createPortfolioRisk({ assets, record: portfolioPriceRecords(dir, assets, 5), migrate: other });
    await riskOther.load();
    expect(asked).toEqual([7n]);
    expect(existsSync(legacy.path)).toBe(true);
    expect(existsSync(join(dir, 'portfolio-prices-5-ETH.jsonl'))).toBe(false);

    const mine = legacyPriceRecordMigration(dir, assets, 1, async (o) => o.blockNumber === 7n && o.timeSec === T0);
    expect(await mine()).toEqual(['ETH']);
    expect(existsSync(legacy.path)).toBe(false);
    expect((await portfolioPriceRecords(dir, assets, 1)['ETH']!.read()).observations).toEqual([obs]);
    // Once: a second run has nothing to adopt.
    expect(await mine()).toEqual([]);
  });
});
