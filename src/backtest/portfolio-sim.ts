import type { Hex } from 'viem';
import type { Address } from '../core/types.js';
import type { TxOutcome } from '../chain/executor.js';
import type { AssetId, AssetSpec, LpHolding, PoolState, Portfolio, PortfolioAction, PortfolioSnapshot, VenueAccount, VenueId } from '../portfolio/model.js';
import type { PriceContext } from '../portfolio/venue-model.js';
import { releaseLabel } from '../venues/release.js';
import { priceContextOf } from '../core/portfolio/assess.js';
import { E18, E8 } from '../core/format.js';
import { SECONDS_PER_YEAR } from '../core/risk/returns.js';
import { lpReading, mintRange, type PoolToken, type SimLpRange } from './portfolio-lp.js';
import {
  aaveAccrue, aaveHedge, aaveLiquidateIfDue, aaveReading, aaveWithdraw, perpAccrue, perpLiquidateIfDue, perpReading, perpTrade, perpWithdraw,
  type SimAave, type SimPerpMarket, type VenueCosts, type VenueResult,
} from './portfolio-venues.js';
import type { PortfolioData, PortfolioScenario } from './portfolio-scenario.js';

/**
 * The simulated chain behind the portfolio keeper's own tick in a backtest (as sim-deps.ts is
 * for the single-asset tick): each step it builds the PortfolioSnapshot the chain reader would
 * return (feeds at the close, wallet, one Uniswap V3 position per pool of the portfolio, every
 * venue account), and carries out the tick's actions on the simulated accounts, answering as the
 * executor would ('mined' with its gas, or 'reverted' at simulation when the venue refuses).
 * Between steps: LP fees while in range, perp funding and Aave interest, liquidations.
 */

const ACCOUNT: Address = '0x00000000000000000000000000000000000b4c7e';
const NO_HASH: Hex = `0x${'0'.repeat(64)}`;
const YEAR = BigInt(SECONDS_PER_YEAR);

/** What happened on the simulated chain since the previous snapshot (for the attribution). */
export interface IntervalCosts {
  /** Fill and swap slippage of the actions done, USD E8 (>= 0), per venue. */
  slippageE8: Map<VenueId, bigint>;
  gasWei: bigint;
  /** Perp funding paid, quote units, per venue and asset (negative: received). */
  fundingUnits: Map<VenueId, Map<AssetId, bigint>>;
}

export interface PortfolioSim {
  /** Move the chain to step i (accruing everything since the previous step). */
  at(i: number): void;
  snapshot(): PortfolioSnapshot;
  execute(action: PortfolioAction, prices: PriceContext): TxOutcome[];
  /** The interval's costs, reset. */
  takeCosts(): IntervalCosts;
  readonly liquidations: Map<VenueId, number>;
}

/** Refuse a portfolio the simulation cannot stand behind, naming the venue and the file. */
export function assertSimulable(portfolio: Portfolio, file: string): void {
  for (const v of portfolio.venues) {
    if (v.kind !== 'perp' && v.kind !== 'aave') {
      throw new RangeError(`${file}: venue "${v.id}" is of kind ${v.kind}, which the portfolio backtest does not simulate (perp and aave only)`);
    }
  }
}

const aprE18 = (x: number): bigint => BigInt(Math.round(x * 1e6)) * 10n ** 12n;

export function venueCosts(s: PortfolioScenario): VenueCosts {
  return {
    takerFeeBps: BigInt(s.perp.takerFeeBps), fundingAprE18: aprE18(s.perp.fundingApr), borrowAprE18: aprE18(s.aave.borrowApr),
    supplyAprE18: aprE18(s.aave.supplyApr), slippageBps: BigInt(s.slippageBps),
  };
}

export function createPortfolioSim(portfolio: Portfolio, data: PortfolioData, scenario: PortfolioScenario, file = 'keeper.yaml'): PortfolioSim {
  assertSimulable(portfolio, file);
  const costs = venueCosts(scenario);
  const q = portfolio.quote;
  const native = portfolio.assets.find((a) => a.wrapsNative);
  const gasPriceWei = BigInt(Math.round(scenario.gasPriceGwei * 1e9));
  const wallet: Record<string, bigint> = { [q.id]: BigInt(Math.round(scenario.walletQuoteUsd * 1e6)) * 10n ** BigInt(q.decimals) / 1_000_000n };
  for (const a of portfolio.assets) wallet[a.id] = 0n;
  let nativeWei = 0n;
  const perps = new Map<VenueId, Record<AssetId, SimPerpMarket>>();
  const aaves = new Map<VenueId, SimAave>();
  for (const v of portfolio.venues) {
    if (v.kind === 'perp') perps.set(v.id, Object.fromEntries(Object.keys(v.markets).map((a) => [a, { sizeE18: 0n, entryPriceE8: 0n, marginUnits: 0n, pendingUnits: 0n }])));
    else if (v.kind === 'aave') aaves.set(v.id, { supplied: 0n, debt: {} });
  }
  const liquidations = new Map<VenueId, number>();
  let pending: IntervalCosts = { slippageE8: new Map(), gasWei: 0n, fundingUnits: new Map() };
  let i = 0;
  let cached: PortfolioSnapshot | null = null;

  const priceAt = (id: string, step: number): bigint => (id === q.id ? E8 : data.closesE8[id]![step]!);
  const token = (id: string, step: number): PoolToken => ({ decimals: id === q.id ? q.decimals : portfolio.assets.find((a) => a.id === id)!.decimals, priceE8: priceAt(id, step) });
  for (const a of portfolio.assets) if (!data.closesE8[a.id]) throw new RangeError(`${file}: asset ${a.id} has no price data`);

  const fee0 = BigInt(Math.round(scenario.lpFeeAprPct * 100));
  const perPoolE8 = portfolio.pools.length ? BigInt(Math.round((scenario.lpUsd / portfolio.pools.length) * 100)) * 1_000_000n : 0n;
  const lps = portfolio.pools.map((pool) => ({
    pool,
    range: mintRange(pool, token(pool.token0, 0), token(pool.token1, 0), pool.token0 === q.id, perPoolE8, scenario.range.low, scenario.range.high) as SimLpRange,
    fees0: 0n,
    fees1: 0n,
  }));

  const ctxAt = (step: number): PriceContext => priceContextOf(portfolio, bareSnapshot(step));
  /** Prices only: what priceContextOf reads. */
  function bareSnapshot(step: number): PortfolioSnapshot {
    const t = BigInt(data.timesSec[step]!);
    return {
      chainId: 0, blockNumber: BigInt(step), blockTimestampSec: t, account: ACCOUNT,
      prices: Object.fromEntries(portfolio.assets.map((a) => [a.id, { priceE8: priceAt(a.id, step), updatedAtSec: t }])),
      quotePriceE8: E8, wallet: { nativeWei, balances: { ...wallet } }, pools: {}, lps: [], venues: {},
    };
  }

  function accrue(from: number, to: number): void {
    const dt = BigInt(data.timesSec[to]! - data.timesSec[from]!);
    for (const lp of lps) {
      const t0 = token(lp.pool.token0, from);
      const t1 = token(lp.pool.token1, from);
      const r = lpReading(lp.range, t0, t1, 0n, 0n).holding;
      if (!r.inRange || fee0 === 0n) continue;
      const valueE8 = (r.amount0 * t0.priceE8) / 10n ** BigInt(t0.decimals) + (r.amount1 * t1.priceE8) / 10n ** BigInt(t1.decimals);
      // Half the fee income in each token, at the prices it was earned at.
      const halfE8 = (valueE8 * fee0 * dt) / (10_000n * YEAR * 2n);
      lp.fees0 += (halfE8 * 10n ** BigInt(t0.decimals)) / t0.priceE8;
      lp.fees1 += (halfE8 * 10n ** BigInt(t1.decimals)) / t1.priceE8;
    }
    const ctx = ctxAt(to);
    for (const [venue, markets] of perps) {
      const paid = pending.fundingUnits.get(venue) ?? new Map<AssetId, bigint>();
      for (const [asset, m] of Object.entries(markets)) {
        const p = ctx.pricesE8[asset] ?? 0n;
        paid.set(asset, (paid.get(asset) ?? 0n) + perpAccrue(m, p, dt, costs, q.decimals));
        if (perpLiquidateIfDue(m, p, q.decimals)) liquidations.set(venue, (liquidations.get(venue) ?? 0) + 1);
      }
      pending.fundingUnits.set(venue, paid);
    }
    for (const [venue, a] of aaves) {
      aaveAccrue(a, dt, costs);
      const spec = portfolio.venues.find((v) => v.id === venue)!;
      if (spec.kind === 'aave' && aaveLiquidateIfDue(portfolio, spec, a, ctx, costs)) liquidations.set(venue, (liquidations.get(venue) ?? 0) + 1);
    }
  }

  function venueReading(id: VenueId, ctx: PriceContext): VenueAccount {
    const spec = portfolio.venues.find((v) => v.id === id)!;
    if (spec.kind === 'perp') return perpReading(spec, perps.get(id)!, ctx, costs);
    if (spec.kind === 'aave') return aaveReading(portfolio, spec, aaves.get(id)!, ctx, costs);
    throw new Error(`venue ${id}: not simulated`);
  }

  function snapshotAt(step: number): PortfolioSnapshot {
    const base = bareSnapshot(step);
    const ctx = priceContextOf(portfolio, base);
    const pools: Record<string, PoolState> = {};
    const holdings: LpHolding[] = [];
    for (const lp of lps) {
      const r = lpReading(lp.range, token(lp.pool.token0, step), token(lp.pool.token1, step), lp.fees0, lp.fees1);
      pools[lp.pool.id] = r.pool;
      holdings.push(r.holding);
    }
    const venues = Object.fromEntries(portfolio.venues.map((v) => [v.id, venueReading(v.id, ctx)]));
    return { ...base, pools, lps: holdings, venues };
  }

  const gasOf = (kind: keyof PortfolioScenario['gas']): bigint => BigInt(scenario.gas[kind]);

  function pay(gasUnits: bigint): void {
    const wei = gasUnits * gasPriceWei;
    // Gas is a cost, not a constraint: the native balance may go below zero (the operator refills it).
    if (native) nativeWei -= wei;
    pending.gasWei += wei;
  }

  function deposit(venue: VenueId, asset: AssetId | null, units: bigint): void {
    const m = perps.get(venue);
    if (m) m[asset!]!.marginUnits += units;
    else aaves.get(venue)!.supplied += units;
  }

  function run(action: PortfolioAction, ctx: PriceContext): { label: string; gas: bigint; result: VenueResult } {
    const assetOf = (id: AssetId): AssetSpec => portfolio.assets.find((a) => a.id === id)!;
    if (action.kind === 'adjustHedge') {
      const spec = portfolio.venues.find((v) => v.id === action.venue)!;
      if (spec.kind === 'perp') {
        const account = perpReading(spec, perps.get(spec.id)!, ctx, costs);
        return { label: 'perp.trade', gas: gasOf('perpTrade'), result: perpTrade(spec, account, perps.get(spec.id)![action.asset]!, ctx, assetOf(action.asset), action.sizeDeltaUnits, costs) };
      }
      if (spec.kind === 'aave') return { label: 'aave.hedge', gas: gasOf('aaveHedge'), result: aaveHedge(portfolio, spec, aaves.get(spec.id)!, wallet, ctx, assetOf(action.asset), action.sizeDeltaUnits, costs) };
      throw new Error(`venue ${spec.id}: not simulated`);
    }
    if (action.kind === 'topUp') {
      const label = perps.has(action.venue) ? 'perp.deposit' : 'aave.supply';
      if ((wallet[q.id] ?? 0n) < action.amountUnits) return { label, gas: 0n, result: { refused: `the wallet has ${wallet[q.id]} ${q.id} units, the top-up needs ${action.amountUnits}` } };
      wallet[q.id] = wallet[q.id]! - action.amountUnits;
      deposit(action.venue, action.asset, action.amountUnits);
      return { label, gas: gasOf(perps.has(action.venue) ? 'perpDeposit' : 'aaveSupply'), result: { slippageE8: 0n } };
    }
    const fromPerp = perps.get(action.from);
    const spec = portfolio.venues.find((v) => v.id === action.from)!;
    const refused = fromPerp
      ? perpWithdraw(fromPerp[action.fromAsset!]!, ctx.pricesE8[action.fromAsset!] ?? 0n, action.amountUnits, q.decimals)
      : spec.kind === 'aave' ? aaveWithdraw(portfolio, spec, aaves.get(spec.id)!, ctx, action.amountUnits, costs) : `venue ${spec.id}: not simulated`;
    if (refused !== null) return { label: 'collateral.move', gas: 0n, result: { refused } };
    deposit(action.to, action.toAsset, action.amountUnits);
    return { label: 'collateral.move', gas: gasOf('withdraw') + gasOf(perps.has(action.to) ? 'perpDeposit' : 'aaveSupply'), result: { slippageE8: 0n } };
  }

  return {
    liquidations,
    at(step) {
      if (step !== i) {
        if (step !== i + 1) throw new RangeError(`portfolio sim: steps go one at a time (at ${i}, asked ${step})`);
        accrue(i, step);
        i = step;
      }
      cached = null;
    },
    snapshot() {
      return (cached ??= snapshotAt(i));
    },
    execute(action, prices) {
      const { label, gas, result } = run(action, prices);
      // A refusal is what the keeper's pre-send simulation would see: nothing sent, no gas.
      if ('refused' in result) return [{ status: 'reverted', label, stage: 'simulation', reason: result.refused }];
      const venue = action.kind === 'moveCollateral' ? action.to : action.venue;
      pending.slippageE8.set(venue, (pending.slippageE8.get(venue) ?? 0n) + result.slippageE8);
      pay(gas);
      cached = null;
      const mined = { status: 'mined' as const, hash: NO_HASH, gasUsed: gas, blockNumber: BigInt(i) };
      // A buy-back paid partly from the venue's collateral carries its release, as the live builder's does.
      const release = result.releasedUnits && action.kind !== 'moveCollateral' ? [{ ...mined, gasUsed: 0n, label: releaseLabel(action.venue, result.releasedUnits, portfolio.quote.id) }] : [];
      return [...release, { ...mined, label }];
    },
    takeCosts() {
      const out = pending;
      pending = { slippageE8: new Map(), gasWei: 0n, fundingUnits: new Map() };
      return out;
    },
  };
}

/** Value of gas, USD E8, at the native asset's price (0 without one: gas is then not modelled). */
export function gasUsdE8(portfolio: Portfolio, s: PortfolioSnapshot, gasWei: bigint): bigint {
  const native = portfolio.assets.find((a) => a.wrapsNative);
  return native ? (gasWei * (s.prices[native.id]?.priceE8 ?? 0n)) / E18 : 0n;
}
