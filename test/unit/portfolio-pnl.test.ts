import { describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import type { PerpMarketAccount, Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { portfolioTick, type PortfolioActionResult, type PortfolioTickResult } from '../../src/runner/portfolio-tick.js';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import { initialPortfolioPolicyState } from '../../src/core/portfolio/plan.js';
import { initialPortfolioGuardState } from '../../src/core/portfolio/guard.js';
import { createPortfolioGauges } from '../../src/monitor/portfolio-metrics.js';
import { formatPortfolioStatus } from '../../src/runner/portfolio-status.js';
import { NOW, modelOf, portfolio as stubPortfolio, snapshot as stubSnapshot } from '../helpers/portfolio-stubs.js';
import {
  attributeInterval, createPnlAttribution, formatPnlReport, portfolioValueE8, type PnlInterval,
} from '../../src/runner/portfolio-pnl.js';

const E8 = 10n ** 8n;
const ETH = 10n ** 18n;
const USD = 10n ** 6n;
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;

const portfolio = {
  quote: { id: 'USDC', token: addr(1), decimals: 6, feed: null },
  assets: [{ id: 'ETH', token: addr(2), decimals: 18, feed: addr(3), heartbeatSec: 3600, wrapsNative: true }],
  pools: [{ id: 'weth-usdc', address: addr(4), token0: 'ETH', token1: 'USDC', fee: 500 }],
  venues: [{ kind: 'perp', id: 'perp', exchange: addr(5), markets: { ETH: 1n }, collateral: { triggerE18: 0n, targetE18: 0n, maxTopUpUnits: 0n, maxTopUpPerDayUnits: 0n } }],
  instruments: [],
  // The wallet's native ETH is part of this portfolio (its own test below leaves it out).
  policy: { assets: {}, cooldownSec: 0, maxSlippageBps: 50, includeNative: true },
} as unknown as Portfolio;

function market(o: Partial<PerpMarketAccount>): PerpMarketAccount {
  return {
    marketId: 1n, sizeE18: 0n, entryPriceE8: 0n, marginUnits: 0n, accountValueUnits: 0n,
    marginRatioE18: 0n, maintenanceRatioE18: 0n, initialRatioE18: 0n, takerFeeBps: 5n, ...o,
  };
}

function snap(o: {
  block: bigint; time: bigint; priceE8: bigint; native: bigint; weth: bigint; usdc: bigint;
  lp: [bigint, bigint, bigint, bigint]; perp: PerpMarketAccount;
}): PortfolioSnapshot {
  const [amount0, amount1, fees0, fees1] = o.lp;
  return {
    chainId: 1, blockNumber: o.block, blockTimestampSec: o.time, account: addr(9),
    prices: { ETH: { priceE8: o.priceE8, updatedAtSec: o.time } }, quotePriceE8: E8,
    wallet: { nativeWei: o.native, balances: { ETH: o.weth, USDC: o.usdc } },
    pools: {},
    lps: [{ pool: 'weth-usdc', tokenId: 7n, liquidity: 1n, tickLower: -887270, tickUpper: 887270, inRange: true, amount0, amount1, fees0, fees1 }],
    venues: { perp: { kind: 'perp', venue: 'perp', markets: { ETH: o.perp } } },
  };
}

// A full-range LP with L = 300 (in whole tokens): x = L/√P, y = L·√P. At $2,500 (√P = 50): 6 ETH +
// 15,000 USDC; at $3,600 (√P = 60): 5 ETH + 18,000 USDC. Held, the 6 ETH + 15,000 would be worth
// 36,600; the LP is worth 36,000: IL = 36,600 × (2√1.44/2.44 − 1) = −$600 exactly.
const s0 = snap({
  block: 100n, time: 1_000_000n, priceE8: 2_500n * E8, native: ETH, weth: ETH, usdc: 20_000n * USD,
  lp: [6n * ETH, 15_000n * USD, ETH / 100n, 10n * USD],
  // 6 ETH short at $2,500, $10,000 margin, no funding owed yet.
  perp: market({ sizeE18: -6n * ETH, entryPriceE8: 2_500n * E8, marginUnits: 10_000n * USD, accountValueUnits: 10_000n * USD }),
});
// The next block: ETH at $3,600; $2,000 topped up from the wallet into the perp; 0.001 ETH of gas
// paid from the native balance; fees owed grew; the short owes $5 of funding.
const s1 = snap({
  block: 101n, time: 1_000_600n, priceE8: 3_600n * E8, native: ETH - ETH / 1000n, weth: ETH, usdc: 18_000n * USD,
  lp: [5n * ETH, 18_000n * USD, ETH / 50n, 25n * USD],
  perp: market({ sizeE18: -6n * ETH, entryPriceE8: 2_500n * E8, marginUnits: 12_000n * USD, accountValueUnits: (12_000n - 6_600n - 5n) * USD }),
});
const hash = `0x${'ab'.repeat(32)}` as Hex;
const topUp: PortfolioActionResult = {
  action: { kind: 'topUp', venue: 'perp', asset: 'ETH', amountUnits: 2_000n * USD, reason: 'test' },
  outcome: 'done', txs: [{ status: 'mined', label: 'deposit', hash, gasUsed: 100_000n, blockNumber: 100n }],
};

const sumParts = (x: PnlInterval) =>
  x.lpFees + x.lpPriceMove + x.lpLossVsHolding + Object.values(x.hedge).reduce((a, b) => a + b, 0n) + x.fundingInterest + x.tradingFees + x.gas + x.unexplained;

describe('attributeInterval: each line known exactly', () => {
  const x = attributeInterval(portfolio, s0, s1, [topUp], ETH / 1000n);

  it('LP: impermanent loss of a full-range position is the closed form; the held amounts move with the price', () => {
    expect(x.lpLossVsHolding).toBe(-600n * E8);
    // Wallet 2 ETH (WETH + native) × $1,100 + LP 6.01 ETH × $1,100 (the quote does not move).
    expect(x.lpPriceMove).toBe(2_200n * E8 + 6_611n * E8);
  });

  it('LP fees: growth of fees owed at the new prices (0.01 ETH × $3,600 + 15 USDC)', () => {
    expect(x.lpFees).toBe(51n * E8);
  });

  it('perp short: price P&L apart from funding; the $2,000 deposit is not P&L', () => {
    expect(x.hedge).toEqual({ perp: -6_600n * E8 });
    expect(x.fundingInterest).toBe(-5n * E8);
    expect(x.tradingFees).toBe(0n);
  });

  it('gas: 0.001 ETH at $3,600', () => {
    expect(x.gas).toBe(-360_000_000n);
  });

  it('the parts sum to the value change exactly, nothing unexplained', () => {
    expect(x.total).toBe(portfolioValueE8(portfolio, s1) - portfolioValueE8(portfolio, s0));
    expect(x.total).toBe(1_653_40000000n);
    expect(x.unexplained).toBe(0n);
    expect(sumParts(x)).toBe(x.total);
  });

  it('without includeNative the native coin is the gas tank: its price move is not P&L, its gas is charged, the parts still sum', () => {
    const gasTank = { ...portfolio, policy: { ...portfolio.policy, includeNative: false } } as Portfolio;
    const y = attributeInterval(gasTank, s0, s1, [topUp], 10n ** 14n);
    const withIt = attributeInterval(portfolio, s0, s1, [topUp], 10n ** 14n);
    // 1 ETH of native held from $2,500 to $3,600: $1,100 less price move; the same gas line.
    expect(withIt.lpPriceMove - y.lpPriceMove).toBe(1_100n * E8);
    expect(y.gas).toBe(withIt.gas);
    expect(y.gas).toBeLessThan(0n);
    expect(y.total).toBe(portfolioValueE8(gasTank, s1) - portfolioValueE8(gasTank, s0) + y.gas);
    expect(sumParts(y)).toBe(y.total);
  });

  it('without the gas cost, the gas is unexplained (still summing exactly)', () => {
    const y = attributeInterval(portfolio, s0, s1, [topUp], 0n);
    expect(y.gas).toBe(0n);
    expect(y.unexplained).toBe(-360_000_000n);
    expect(sumParts(y)).toBe(y.total);
  });
});

describe('createPnlAttribution', () => {
  // A second interval: no price move, the short grows by 1 ETH paying the 5 bps taker fee ($1.80 at $3,600).
  const s2 = snap({
    block: 102n, time: 1_000_000n + 2n * 86_400n, priceE8: 3_600n * E8, native: ETH - ETH / 1000n, weth: ETH, usdc: 18_000n * USD,
    lp: [5n * ETH, 18_000n * USD, ETH / 50n, 25n * USD],
    perp: market({ sizeE18: -7n * ETH, entryPriceE8: 2_657n * E8, marginUnits: 12_000n * USD - 1_800_000n, accountValueUnits: (12_000n - 6_600n - 5n) * USD - 1_800_000n }),
  });
  const trade: PortfolioActionResult = {
    action: { kind: 'adjustHedge', venue: 'perp', instrument: 'perp-eth', asset: 'ETH', sizeDeltaUnits: -ETH, reason: 'test' },
    outcome: 'done', txs: [],
  };

  it('attributes intervals with the previous tick\'s actions, keeps totals since start and the last 24 h by block time', async () => {
    const recorded: PnlInterval[] = [];
    const gasAsked: Hex[] = [];
    const pnl = createPnlAttribution({ portfolio, record: (i) => recorded.push(i), gasCostWei: async (h) => (gasAsked.push(h), ETH / 1000n) });
    expect(formatPnlReport(null).join('\n')).toContain('no attribution yet: attribution is kept by a running keeper');
    expect(await pnl.observe(s0)).toBeNull();
    pnl.acted([topUp]);
    const first = await pnl.observe(s1);
    expect(gasAsked).toEqual([hash]);
    expect(first).toMatchObject({ fromBlock: 100n, toBlock: 101n, total: 1_653_40000000n, unexplained: 0n });
    pnl.acted([trade]);
    const second = (await pnl.observe(s2))!;
    expect(second).toMatchObject({ tradingFees: -180_000_000n, hedge: { perp: 0n }, fundingInterest: 0n, gas: 0n, unexplained: 0n, total: -180_000_000n });
    expect(recorded).toHaveLength(2);
    const r = pnl.report();
    expect(r.intervals).toBe(2);
    expect(r.sinceStart.total).toBe(1_653_40000000n - 180_000_000n);
    expect(r.sinceStart.hedge).toEqual({ perp: -6_600n * E8 });
    // Two days later: only the second interval is within 24 h.
    expect(r.last24h.total).toBe(-180_000_000n);
    expect(r.last24h.lpFees).toBe(0n);
    const table = formatPnlReport(r).join('\n');
    expect(table).toMatch(/hedge_perp\s+\$-6600\.00\s+\$0\.00/);
    expect(table).toMatch(/total\s+\$1651\.60\s+\$-1\.80/);
  });
});

describe('createPnlAttribution: actions still pending at the end of their tick', () => {
  // The keeper sends and the tick ends before the block mines (1 s blocks): the result is
  // 'pending'. Its flows belong to the interval whose end snapshot includes the mined block.
  const pendingTopUp: PortfolioActionResult = { ...topUp, outcome: 'pending', txs: [{ status: 'sent', label: 'deposit', hash, nonce: 7 }] };
  const minedAt = (block: bigint): PortfolioActionResult => ({ ...topUp, txs: [{ status: 'mined', label: 'deposit', hash, gasUsed: 100_000n, blockNumber: block }] });

  it('are settled when the next snapshot is attributed, and count there: the top-up is a flow, not P&L', async () => {
    const pnl = createPnlAttribution({ portfolio, gasCostWei: async () => ETH / 1000n, settle: () => minedAt(101n) });
    await pnl.observe(s0);
    pnl.acted([pendingTopUp]);
    const x = (await pnl.observe(s1))!;
    expect(x).toEqual(attributeInterval(portfolio, s0, s1, [minedAt(101n)], ETH / 1000n));
    expect(x.unexplained).toBe(0n);
  });

  it('mined after the snapshot that ends the interval, or not mined yet: carried to the next interval', async () => {
    let settled: PortfolioActionResult = pendingTopUp;
    const pnl = createPnlAttribution({ portfolio, gasCostWei: async () => ETH / 1000n, settle: () => settled });
    await pnl.observe(s0);
    pnl.acted([pendingTopUp]);
    // Still pending at s1's attribution: s0 → s1 is explained without it.
    expect(await pnl.observe(s1)).toEqual(attributeInterval(portfolio, s0, s1, [], 0n));
    pnl.acted([]);
    settled = minedAt(102n);
    const s2 = { ...s1, blockNumber: 102n, blockTimestampSec: s1.blockTimestampSec + 1n };
    expect(await pnl.observe(s2)).toEqual(attributeInterval(portfolio, s1, s2, [minedAt(102n)], ETH / 1000n));
  });
});

describe('wiring: the tick line, the tick result, /metrics and status', () => {
  const interval = attributeInterval(portfolio, s0, s1, [topUp], ETH / 1000n);
  const tickPnl = { interval, sinceStart: interval };

  it('the portfolio tick line carries pnlUsd and the result carries the attribution', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const result = await portfolioTick(
      { portfolio: stubPortfolio(), modelOf, readSnapshot: async () => stubSnapshot(), execute: async () => [], logger, attributePnl: async () => tickPnl },
      { policy: initialPortfolioPolicyState(), guard: initialPortfolioGuardState(NOW) },
    );
    expect(result.pnl).toBe(tickPnl);
    expect(lines.find((l) => l.event === 'tick')?.pnlUsd).toBe('1653.40');
  });

  it('a failing attribution is logged and the tick goes on without it', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const result = await portfolioTick(
      { portfolio: stubPortfolio(), modelOf, readSnapshot: async () => stubSnapshot(), execute: async () => [], logger, attributePnl: async () => { throw new Error('boom'); } },
      { policy: initialPortfolioPolicyState(), guard: initialPortfolioGuardState(NOW) },
    );
    expect(result.pnl).toBeUndefined();
    expect(lines.some((l) => l.event === 'pnl.failed')).toBe(true);
    expect(lines.find((l) => l.event === 'tick')).not.toHaveProperty('pnlUsd');
  });

  it('/metrics exports keeper_pnl_usd_total{component} since start', async () => {
    const registry = new Registry();
    const update = createPortfolioGauges(registry, 'keeper_');
    update({ assessment: { netUsdE8: 0n, assets: [], venues: [], prices: { pricesE8: {} } }, doubts: { portfolio: null, assets: {}, venues: {} }, pnl: tickPnl } as unknown as PortfolioTickResult);
    const text = await registry.metrics();
    expect(text).toContain('keeper_pnl_usd_total{component="lp_loss_vs_holding"} -600');
    expect(text).toContain('keeper_pnl_usd_total{component="hedge_perp"} -6600');
    expect(text).toContain('keeper_pnl_usd_total{component="gas"} -3.6');
    expect(text).toContain('keeper_pnl_usd_total{component="total"} 1653.4');
  });

  it('status: the table from a running keeper; a fresh process says there is none', () => {
    const p = stubPortfolio();
    const s = stubSnapshot();
    const a = assessPortfolio(p, s, modelOf);
    const doubts = { portfolio: null, assets: {}, venues: {} };
    expect(formatPortfolioStatus(p, s, a, doubts, { pnl: null })).toContain('no attribution yet: attribution is kept by a running keeper');
    const pnl = createPnlAttribution({ portfolio });
    const out = formatPortfolioStatus(p, s, a, doubts, { pnl: pnl.report() });
    expect(out).toMatch(/where the money goes \(0 interval\(s\)/);
    expect(formatPortfolioStatus(p, s, a, doubts)).not.toContain('where the money goes');
  });
});
