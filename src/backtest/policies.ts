import type { GuardPolicy, HedgePolicy } from '../core/types.js';
import { DEFAULT_BAND_PARAMS, bandParams } from '../core/band-policy.js';
import { loadConfig } from '../config.js';
import type { LpScenario } from './market.js';

/**
 * What a backtest compares (policies) and the world it replays them in (scenario). Policies are
 * HedgePolicy values, the same type loadConfig builds for the live keeper; the presets differ
 * from the base policy only in bandMode (and the time policy's period).
 */

export interface PolicySpec {
  name: string;
  policy: HedgePolicy;
}

export const DEFAULT_POLICY_NAMES = ['fixed', 'vol', 'ww', 'time-1h'] as const;

/** Parse `time-15m`, `time-1h`, `time-1d` (or `time` = the base policy's period). */
function periodSec(name: string, base: HedgePolicy): number {
  if (name === 'time') return bandParams(base).rebalancePeriodSec;
  const m = /^time-(\d+)([smhd])$/.exec(name);
  if (!m) throw new RangeError(`unknown policy "${name}": expected fixed, vol, ww, unhedged, time or time-<n><s|m|h|d>`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const sec = Number(m[1]) * unit;
  if (!(sec > 0)) throw new RangeError(`policy "${name}": the period must be > 0`);
  return sec;
}

export function policyPreset(name: string, base: HedgePolicy): PolicySpec {
  const band = base.band ?? DEFAULT_BAND_PARAMS;
  switch (name) {
    case 'fixed':
    case 'vol':
    case 'ww':
      return { name, policy: { ...base, bandMode: name, band } };
    case 'unhedged':
      // Never trades: a band wider than any position (top-ups still keep the initial hedge alive).
      return { name, policy: { ...base, bandMode: 'fixed', deltaBandWei: 10n ** 40n, band } };
    default:
      return { name, policy: { ...base, bandMode: 'time', band: { ...band, rebalancePeriodSec: periodSec(name, base) } } };
  }
}

export function policyPresets(names: readonly string[], base: HedgePolicy): PolicySpec[] {
  const seen = new Set<string>();
  return names.map((n) => n.trim()).filter((n) => n !== '' && !seen.has(n) && seen.add(n)).map((n) => policyPreset(n, base));
}

export interface BacktestScenario {
  lp: LpScenario;
  /** Wallet WETH held besides the LP (hedged too). */
  walletWethEth: number;
  /** Wallet USDC, the reserve the keeper tops the margin up from. */
  walletUsdc: number;
  perp: { takerFeeBps: number; fundingAprPaidByShorts: number };
  gasPriceGwei: number;
  /** Gas units per transaction. */
  gas: { hedgeTrade: number; topUp: number };
  /** Fill price worse than the oracle by this, on every hedge trade and LP recentering swap. */
  slippageBps: number;
  guard: GuardPolicy;
}

/** The documented defaults of `keeper backtest` (see command.ts). */
export function defaultScenario(base: HedgePolicy = loadConfig({}).policy): BacktestScenario {
  const defaults = loadConfig({});
  return {
    lp: { valueUsd: 100_000, widthPct: 50, tickSpacing: 10, baseIsToken0: false, recenter: 'notional', feeAprPct: 0, recenterGas: 500_000 },
    walletWethEth: 0,
    walletUsdc: 200_000,
    perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0.1 },
    gasPriceGwei: 10,
    gas: { hedgeTrade: 150_000, topUp: 100_000 },
    slippageBps: 5,
    guard: { ...defaults.guard, maxTradeWei: base.maxTradeWei },
  };
}

/** Refuse a scenario that would make the models meaningless (RangeError, one message per problem). */
export function validateScenario(s: BacktestScenario): BacktestScenario {
  const bad: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) bad.push(what);
  };
  const nonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;
  check(nonNeg(s.lp.valueUsd), 'LP value must be >= 0');
  check(s.lp.widthPct > 0 && s.lp.widthPct < 100, 'LP width must be in (0, 100) percent');
  check(Number.isInteger(s.lp.tickSpacing) && s.lp.tickSpacing > 0, 'tick spacing must be a positive integer');
  check(nonNeg(s.lp.feeAprPct) && nonNeg(s.lp.recenterGas), 'LP fee APR and recenter gas must be >= 0');
  check(nonNeg(s.walletWethEth) && nonNeg(s.walletUsdc), 'wallet balances must be >= 0');
  check(Number.isInteger(s.perp.takerFeeBps) && s.perp.takerFeeBps >= 0 && s.perp.takerFeeBps <= 100, 'taker fee must be an integer 0..100 bps');
  check(Number.isFinite(s.perp.fundingAprPaidByShorts) && Math.abs(s.perp.fundingAprPaidByShorts) <= 10, 'funding APR must be within +-1000%');
  check(nonNeg(s.gasPriceGwei) && nonNeg(s.gas.hedgeTrade) && nonNeg(s.gas.topUp), 'gas price and gas units must be >= 0');
  check(nonNeg(s.slippageBps) && s.slippageBps < 10_000, 'slippage must be in [0, 10000) bps');
  if (bad.length > 0) throw new RangeError(`bad backtest scenario: ${bad.join('; ')}`);
  return s;
}
