import { shortCostAprE18 } from '../../src/venues/venue-rates.js';
import type {
  AssetId,
  AssetPolicy,
  AssetSpec,
  CollateralPolicy,
  InstrumentSpec,
  LpHolding,
  Portfolio,
  PortfolioSnapshot,
  VenueAccount,
  VenueSpec,
} from '../../src/portfolio/model.js';
import type { CollateralBucket, PriceContext, VenueChange, VenueModel } from '../../src/portfolio/venue-model.js';
import { MAX_UINT256, ceilDiv } from '../../src/core/format.js';

/**
 * A two-asset portfolio (ETH 18 decimals, BTC 8, quote 6) and a linear stub venue model for the
 * portfolio core's unit tests: ratio = collateral / Σ(|hedge| × price), in quote terms. A stub venue
 * is isolated (one bucket per asset) or cross (one bucket, key null). It names no real venue kind:
 * the core must work with whatever model it is handed.
 */

export const E18 = 10n ** 18n;
export const E16 = 10n ** 16n;
export const ETH = 10n ** 18n;
export const BTC = 10n ** 8n;
export const USD = 10n ** 6n;
export const NOW = 1_700_000_000;
export const ETH_PRICE = 2000n * 10n ** 8n;
export const BTC_PRICE = 60_000n * 10n ** 8n;

const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;

export const ethSpec: AssetSpec = { id: 'ETH', token: addr(1), decimals: 18, feed: addr(11), heartbeatSec: 3600, wrapsNative: true };
export const btcSpec: AssetSpec = { id: 'BTC', token: addr(2), decimals: 8, feed: addr(12), heartbeatSec: 3600, wrapsNative: false };

export const collateralPolicy: CollateralPolicy = {
  triggerE18: 15n * E16,
  targetE18: 25n * E16,
  maxTopUpUnits: 10_000n * USD,
  maxTopUpPerDayUnits: 20_000n * USD,
};

/** A stub venue: `cross` = one whole-account bucket. Cast: the core never looks at `kind`. */
export function stubVenue(id: string, cross = false, collateral: CollateralPolicy = collateralPolicy): VenueSpec {
  return { kind: 'stub', id, cross, collateral } as unknown as VenueSpec;
}

export interface StubAccount {
  readonly kind: 'stub';
  readonly venue: string;
  readonly hedge: Readonly<Record<AssetId, bigint>>;
  /** Quote units by bucket: the asset id (isolated) or '' (cross). */
  readonly collateral: Readonly<Record<string, bigint>>;
}

export function stubAccount(venue: string, hedge: Record<AssetId, bigint>, collateral: Record<string, bigint>): VenueAccount {
  return { kind: 'stub', venue, hedge, collateral } as unknown as VenueAccount;
}

export const ethPolicy: AssetPolicy = {
  hedgeRatioE18: E18, bandUnits: ETH / 2n, bandPctE18: 0n, hysteresisE18: 50n * E16,
  minTradeUnits: ETH / 100n, maxTradeUnits: 50n * ETH, maxNotionalPerDayUsdE8: 1_000_000n * 10n ** 8n,
};
export const btcPolicy: AssetPolicy = {
  hedgeRatioE18: E18, bandUnits: 2n * BTC / 100n, bandPctE18: 0n, hysteresisE18: 50n * E16,
  minTradeUnits: BTC / 1000n, maxTradeUnits: 5n * BTC, maxNotionalPerDayUsdE8: 1_000_000n * 10n ** 8n,
};

export function inst(id: string, venue: string, asset: AssetId, priority = 0, weight = 1, maxSizeUnits: bigint | null = null): InstrumentSpec {
  return { id, venue, asset, priority, weight, maxSizeUnits };
}

export function portfolio(over: Partial<Portfolio> & { policyOver?: Partial<Portfolio['policy']> } = {}): Portfolio {
  const { policyOver, ...rest } = over;
  return {
    quote: { id: 'USDC', token: addr(3), decimals: 6, feed: null },
    assets: [ethSpec, btcSpec],
    pools: [
      { id: 'wbtc-weth', address: addr(21), token0: 'BTC', token1: 'ETH', fee: 3000 },
      { id: 'weth-usdc', address: addr(22), token0: 'ETH', token1: 'USDC', fee: 500 },
    ],
    venues: [stubVenue('alpha'), stubVenue('beta')],
    instruments: [inst('eth-alpha', 'alpha', 'ETH', 0), inst('eth-beta', 'beta', 'ETH', 1), inst('btc-alpha', 'alpha', 'BTC', 0)],
    policy: { assets: { ETH: ethPolicy, BTC: btcPolicy }, cooldownSec: 60, maxSlippageBps: 50, includeNative: false, ...policyOver },
    ...rest,
  };
}

export function lp(pool: string, amount0: bigint, amount1: bigint, fees0 = 0n, fees1 = 0n): LpHolding {
  return { pool, tokenId: 1n, liquidity: 1n, tickLower: -10, tickUpper: 10, inRange: true, amount0, amount1, fees0, fees1 };
}

export function snapshot(over: Partial<PortfolioSnapshot> = {}): PortfolioSnapshot {
  return {
    chainId: 31337, blockNumber: 100n, blockTimestampSec: BigInt(NOW), account: addr(99),
    prices: { ETH: { priceE8: ETH_PRICE, updatedAtSec: BigInt(NOW) }, BTC: { priceE8: BTC_PRICE, updatedAtSec: BigInt(NOW) } },
    quotePriceE8: 10n ** 8n,
    wallet: { nativeWei: 0n, balances: {} },
    pools: {},
    lps: [],
    venues: {},
    ...over,
  };
}

// --- the linear model ---------------------------------------------------------------------------

const pow10 = (d: number) => 10n ** BigInt(d);

/** |hedge| valued in quote units × 1e18 (kept exact for the tests' round numbers). */
function notionalQE36(units: bigint, asset: AssetId, ctx: PriceContext): bigint {
  const spec = ctx.assets[asset]!;
  const abs = units < 0n ? -units : units;
  return (abs * ctx.pricesE8[asset]! * pow10(ctx.quote.decimals) * E18) / (ctx.quotePriceE8 * pow10(spec.decimals));
}

function state(spec: VenueSpec, account: VenueAccount, bucket: AssetId | null, change: VenueChange = {}) {
  const acct = account as unknown as StubAccount;
  const cross = (spec as unknown as { cross: boolean }).cross;
  const key = cross ? '' : (bucket ?? '');
  const hedge: Record<AssetId, bigint> = { ...acct.hedge };
  for (const [a, d] of Object.entries(change.hedgeDeltaUnits ?? {})) hedge[a] = (hedge[a] ?? 0n) + d;
  const sameBucket = (change.bucket ?? null) === bucket || cross;
  const collateral = (acct.collateral[key] ?? 0n) + (sameBucket ? (change.collateralDeltaUnits ?? 0n) : 0n);
  const assets = cross ? Object.keys(hedge) : bucket === null ? [] : [bucket];
  return { hedge, collateral, assets, cross };
}

function ratioOf(collateral: bigint, notional: bigint): bigint {
  return notional === 0n ? MAX_UINT256 : (collateral * E18 * E18) / notional;
}

function sumNotional(hedge: Record<AssetId, bigint>, assets: AssetId[], ctx: PriceContext): bigint {
  return assets.reduce((s, a) => s + notionalQE36(hedge[a] ?? 0n, a, ctx), 0n);
}

export const linearModel: VenueModel = {
  hedgeUnits: (_spec, account, asset) => (account as unknown as StubAccount).hedge[asset.id] ?? 0n,
  // A stub account of a real kind carries that kind's rate fields: read as the real models do.
  shortCostAprE18: (spec, account, asset) => shortCostAprE18(spec, account, asset),
  buckets(spec, account, ctx): CollateralBucket[] {
    const acct = account as unknown as StubAccount;
    const cross = (spec as unknown as { cross: boolean }).cross;
    const keys: Array<AssetId | null> = cross ? [null] : [...new Set([...Object.keys(acct.hedge), ...Object.keys(acct.collateral)])];
    return keys.map((bucket) => {
      const s = state(spec, account, bucket);
      const ratioE18 = ratioOf(s.collateral, sumNotional(s.hedge, s.assets, ctx));
      return {
        venue: spec.id, asset: bucket, ratioE18, venueRatioE18: ratioE18, liquidationRatioE18: 5n * E16,
        collateralUnits: s.collateral, liquidationPricesE8: Object.fromEntries(s.assets.map((a) => [a, null])),
      };
    });
  },
  ratioAfter(spec, account, ctx, change, bucket) {
    const s = state(spec, account, bucket, change);
    return ratioOf(s.collateral, sumNotional(s.hedge, s.assets, ctx));
  },
  topUpToTarget(spec, account, ctx, bucket, targetE18, change) {
    const s = state(spec, account, bucket, change);
    const need = ceilDiv(targetE18 * sumNotional(s.hedge, s.assets, ctx), E18 * E18);
    return need > s.collateral ? need - s.collateral : 0n;
  },
  shortCapacityUnits(spec, account, ctx, asset, keepRatioE18) {
    const cross = (spec as unknown as { cross: boolean }).cross;
    const s = state(spec, account, cross ? null : asset.id);
    const spare = (s.collateral * E18 * E18) / keepRatioE18 - sumNotional(s.hedge, s.assets.includes(asset.id) ? s.assets : [...s.assets, asset.id], ctx);
    if (spare <= 0n) return 0n;
    return (spare * ctx.quotePriceE8 * pow10(asset.decimals)) / (ctx.pricesE8[asset.id]! * pow10(ctx.quote.decimals) * E18);
  },
  withdrawableUnits(spec, account, ctx, bucket, keepRatioE18) {
    const s = state(spec, account, bucket);
    const keep = ceilDiv(keepRatioE18 * sumNotional(s.hedge, s.assets, ctx), E18 * E18);
    return s.collateral > keep ? s.collateral - keep : 0n;
  },
};

export const modelOf = (_spec: VenueSpec): VenueModel => linearModel;
