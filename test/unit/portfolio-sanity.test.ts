import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from '../../src/config.js';
import { sqrtPriceX96FromPriceE8 } from '../../src/spot/uniswap-math.js';
import { createPortfolioSanity, poolDeviationBps } from '../../src/runner/portfolio-sanity.js';
import type { OracleRound } from '../../src/core/types.js';
import type { Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';

const E8 = 10n ** 8n;
const a = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;

describe('pool deviation from the feeds, any decimals and either token order', () => {
  it.each([
    // WETH (18) / USDC (6), ETH is token0 or token1
    { name: 'ETH token0 at the feed', pool: 2_000n * E8, baseIsToken0: true, dec: [18, 6], feeds: [2_000n * E8, E8], want: 0n },
    { name: 'ETH token1 at the feed', pool: 2_000n * E8, baseIsToken0: false, dec: [6, 18], feeds: [E8, 2_000n * E8], want: 0n },
    { name: 'ETH token0, pool 2% above', pool: 2_040n * E8, baseIsToken0: true, dec: [18, 6], feeds: [2_000n * E8, E8], want: 200n },
    // In the pool's own orientation (ETH per USDC): 2000/1960 - 1 = 2.04%.
    { name: 'ETH token1, pool 2% below', pool: 1_960n * E8, baseIsToken0: false, dec: [6, 18], feeds: [E8, 2_000n * E8], want: 204n },
  ])('$name: $want bps', ({ pool, baseIsToken0, dec, feeds, want }) => {
    const [d0, d1] = dec as [number, number];
    const baseDec = baseIsToken0 ? d0 : d1;
    const quoteDec = baseIsToken0 ? d1 : d0;
    const sqrt = sqrtPriceX96FromPriceE8(pool, baseIsToken0, baseDec, quoteDec);
    const bps = poolDeviationBps(sqrt, feeds[0] as bigint, d0, feeds[1] as bigint, d1);
    // The sqrt price is floored: within a basis point of the exact figure.
    expect(bps === want || bps === want - 1n).toBe(true);
  });

  it('WBTC (8) / WETH (18) at 30 ETH per BTC, then 10% off', () => {
    // token0 WBTC, token1 WETH: raw price = 30 * 1e18 / 1e8 WETH-wei per satoshi.
    const sqrtAt = (ethPerBtc: bigint) => sqrtPriceX96FromPriceE8(ethPerBtc * E8, true, 8, 18);
    expect(poolDeviationBps(sqrtAt(30n), 60_000n * E8, 8, 2_000n * E8, 18)).toBeLessThanOrEqual(1n);
    expect(poolDeviationBps(sqrtAt(33n), 60_000n * E8, 8, 2_000n * E8, 18)).toBeGreaterThanOrEqual(999n);
  });
});

describe('portfolio doubts, scoped to what they are about', () => {
  const portfolio = {
    quote: { id: 'USDC', token: a(1), decimals: 6, feed: null },
    assets: [
      { id: 'ETH', token: a(2), decimals: 18, feed: a(12), heartbeatSec: 3600, wrapsNative: true },
      { id: 'BTC', token: a(3), decimals: 8, feed: a(13), heartbeatSec: 3600, wrapsNative: false },
    ],
    pools: [{ id: 'weth-usdc', address: a(20), token0: 'ETH', token1: 'USDC', fee: 500 }],
    venues: [],
    instruments: [],
    policy: { assets: {}, cooldownSec: 0, maxSlippageBps: 50, includeNative: false },
  } as unknown as Portfolio;
  const round = (feed: `0x${string}`, roundId: bigint, answer: bigint, updatedAt: bigint): OracleRound => ({ feed, roundId, answer, startedAt: updatedAt, updatedAt, answeredInRound: roundId, decimals: 8 });
  const snap = (o: { eth?: OracleRound; btc?: OracleRound; pool?: bigint; quote?: bigint; now?: bigint }): PortfolioSnapshot =>
    ({
      blockTimestampSec: o.now ?? 10_000n,
      quotePriceE8: o.quote ?? E8,
      prices: {
        ETH: { priceE8: o.eth?.answer ?? 2_000n * E8, updatedAtSec: o.eth?.updatedAt ?? 9_999n, round: o.eth ?? round(a(12), 5n, 2_000n * E8, 9_999n) },
        BTC: { priceE8: o.btc?.answer ?? 60_000n * E8, updatedAtSec: o.btc?.updatedAt ?? 9_999n, round: o.btc ?? round(a(13), 5n, 60_000n * E8, 9_999n) },
      },
      pools: { 'weth-usdc': { sqrtPriceX96: sqrtPriceX96FromPriceE8(o.pool ?? 2_000n * E8, true, 18, 6), tick: 0, liquidity: 1n } },
      venues: {},
    }) as unknown as PortfolioSnapshot;

  it('nothing doubted on a sane read', () => {
    expect(createPortfolioSanity(portfolio, { maxPoolDeviationBps: 150 })(snap({}))).toEqual({ portfolio: null, assets: {}, venues: {} });
  });
  it('a stale BTC feed doubts BTC only; a BTC feed going back a round too', () => {
    const check = createPortfolioSanity(portfolio, { maxPoolDeviationBps: 150 });
    const stale = check(snap({ btc: round(a(13), 6n, 60_000n * E8, 10_000n - 4_000n) }));
    expect(Object.keys(stale.assets)).toEqual(['BTC']);
    expect(stale.assets['BTC']).toMatch(/BTC\/USD/);
    const back = check(snap({ btc: round(a(13), 4n, 60_000n * E8, 9_999n) }));
    expect(Object.keys(back.assets)).toEqual(['BTC']);
  });
  it('a pool far from the feeds doubts the assets in it, not the others', () => {
    const d = createPortfolioSanity(portfolio, { maxPoolDeviationBps: 150 })(snap({ pool: 2_100n * E8 }));
    expect(Object.keys(d.assets)).toEqual(['ETH']);
    expect(d.assets['ETH']).toMatch(/^pool weth-usdc is 49\d bps from the feeds \(MAX_POOL_DEVIATION_BPS 150\)$/);
  });
  it('a zero answer is no price; a quote that answers nothing doubts everything', () => {
    const d = createPortfolioSanity(portfolio, { maxPoolDeviationBps: 150 })(snap({ eth: round(a(12), 6n, 0n, 9_999n), quote: 0n }));
    expect(d.assets['ETH']).toMatch(/no usable ETH\/USD price/);
    expect(d.portfolio).toMatch(/quote price not usable/);
  });
  it('a venue check that disagrees puts that venue alone in safe mode', () => {
    const withVenue = { ...portfolio, venues: [{ id: 'aave' }, { id: 'perp' }] } as unknown as Portfolio;
    const d = createPortfolioSanity(withVenue, { maxPoolDeviationBps: 150, venueCheck: (v) => (v === 'aave' ? 'not modelled: 0xdai' : null) })(snap({}));
    expect(d.venues).toEqual({ aave: 'not modelled: 0xdai' });
  });
});

describe('PORTFOLIO_FILE beside the single-asset variables', () => {
  const base = { RPC_URLS: 'http://127.0.0.1:8545', PRIVATE_KEY: `0x${'11'.repeat(32)}`, PORTFOLIO_FILE: 'keeper.yaml' };
  it('needs none of the single-asset addresses', () => {
    expect(loadConfig(base).portfolioFile).toBe('keeper.yaml');
  });
  it('.env.example copied as .env, plus PORTFOLIO_FILE, loads: it leaves the single-asset settings empty', async () => {
    const { parse } = await import('dotenv');
    const { readFileSync } = await import('node:fs');
    const example = parse(readFileSync(new URL('../../.env.example', import.meta.url)));
    expect(loadConfig({ ...example, ...base }).portfolioFile).toBe('keeper.yaml');
  });
  it('refuses what the file declares, naming each variable', () => {
    let err: unknown;
    try {
      loadConfig({ ...base, HEDGE_VENUE: 'aave', DELTA_BAND_ETH: '2', WETH: a(5) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).message.split('\n');
    for (const name of ['HEDGE_VENUE=aave', 'DELTA_BAND_ETH=2', `WETH=${a(5)}`]) {
      expect(lines.some((l) => l.startsWith(`${name}: the portfolio file (PORTFOLIO_FILE=keeper.yaml) declares this per asset and venue`))).toBe(true);
    }
  });
});
