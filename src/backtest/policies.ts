import type { GuardPolicy, HedgePolicy } from '../core/types.js';
import { DEFAULT_BAND_PARAMS, bandParams } from '../core/band-policy.js';
import { loadConfig } from '../config.js';
import type { LpScenario, TxCostModel } from './market.js';

/**
 * What a backtest compares (policies) and the world it replays them in (scenario). Policies are
 * HedgePolicy values, the same type loadConfig builds for the live keeper:
 * - `default`: the policy the keeper runs with its default configuration (no variable set);
 * - `config`: the policy of the configuration the command was started with (.env / environment);
 * - `fixed`, `vol`, `ww`, `adaptive`: that configuration with BAND_MODE set to the name;
 * - `time-<n><s|m|h|d>` (or `time`: the configured period): rebalance to target every period;
 * - baselines: `unhedged` (no hedge at all) and `static` (hedged at the start, never traded;
 *   margin top-ups keep it alive).
 */

export interface PolicySpec {
  name: string;
  /** keeper: the keeper's own assess -> plan -> guard; static: never trades; unhedged: no hedge. */
  kind: 'keeper' | 'static' | 'unhedged';
  policy: HedgePolicy;
}

export const DEFAULT_POLICY_NAMES = ['time-1h', 'fixed', 'ww', 'default'] as const;
/** Added to every run unless asked otherwise: the report measures hedging against them. */
export const BASELINE_NAMES = ['unhedged', 'static'] as const;
export const BAND_MODE_NAMES = ['fixed', 'vol', 'ww', 'adaptive'] as const;

const NAMES_HELP = 'default, config, fixed, vol, ww, adaptive, unhedged, static, time or time-<n><s|m|h|d>';

/** Parse `time-15m`, `time-1h`, `time-1d` (or `time` = the base policy's period). */
function periodSec(name: string, base: HedgePolicy): number {
  if (name === 'time') return bandParams(base).rebalancePeriodSec;
  const m = /^time-(\d+)([smhd])$/.exec(name);
  if (!m) throw new RangeError(`unknown policy "${name}": expected ${NAMES_HELP}`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const sec = Number(m[1]) * unit;
  if (!(sec > 0)) throw new RangeError(`policy "${name}": the period must be > 0`);
  return sec;
}

/** `base`: the configured policy; `defaults`: the keeper's default one (loadConfig({}).policy). */
export function policyPreset(name: string, base: HedgePolicy, defaults: HedgePolicy = loadConfig({}).policy): PolicySpec {
  const band = base.band ?? DEFAULT_BAND_PARAMS;
  switch (name) {
    case 'default':
      return { name, kind: 'keeper', policy: defaults };
    case 'config':
      return { name, kind: 'keeper', policy: base };
    case 'fixed':
    case 'vol':
    case 'ww':
    case 'adaptive':
      return { name, kind: 'keeper', policy: { ...base, bandMode: name, band } };
    case 'unhedged':
      return { name, kind: 'unhedged', policy: base };
    case 'static':
      // A band wider than any position: plan never trades, top-ups keep the initial hedge alive.
      return { name, kind: 'static', policy: { ...base, bandMode: 'fixed', deltaBandWei: 10n ** 40n, band } };
    default:
      return { name, kind: 'keeper', policy: { ...base, bandMode: 'time', band: { ...band, rebalancePeriodSec: periodSec(name, base) } } };
  }
}

export function policyPresets(names: readonly string[], base: HedgePolicy, defaults?: HedgePolicy): PolicySpec[] {
  const seen = new Set<string>();
  return names.map((n) => n.trim()).filter((n) => n !== '' && !seen.has(n) && seen.add(n)).map((n) => policyPreset(n, base, defaults));
}

export interface BacktestScenario {
  lp: LpScenario;
  /** Wallet WETH held besides the LP (hedged too). */
  walletWethEth: number;
  /** Wallet USDC, the reserve the keeper tops the margin up from. */
  walletUsdc: number;
  /** Taker fee of the hedge venue (integer bps) and funding paid by shorts (fraction a year). */
  perp: { takerFeeBps: number; fundingAprPaidByShorts: number };
  tx: TxCostModel;
  /** Fill price worse than the oracle by this, on every hedge trade and LP recentering swap. */
  slippageBps: number;
  /** The guard's caps, from the configuration (MAX_TRADE_ETH, MAX_NOTIONAL_PER_DAY_USD, MAX_TOPUP_USDC, ...). */
  guard: GuardPolicy;
  /** Independent N-day episodes; absent = one run over the whole path. */
  episodeDays?: number;
}

/** The documented defaults of `keeper backtest` (see command.ts); `guard` from the configuration. */
export function defaultScenario(guard: GuardPolicy = loadConfig({}).guard): BacktestScenario {
  return {
    lp: { valueUsd: 100_000, low: 0.5, high: 1.5, tickSpacing: 10, baseIsToken0: false, recenter: 'notional', feeAprPct: 0 },
    walletWethEth: 0,
    walletUsdc: 200_000,
    perp: { takerFeeBps: 5, fundingAprPaidByShorts: 0.1 },
    tx: { gasPriceGwei: 10, gas: { hedgeTrade: 150_000, topUp: 100_000, recenter: 500_000 } },
    slippageBps: 5,
    guard: { ...guard },
  };
}

/** Refuse a scenario that would make the models meaningless (RangeError, one message per problem). */
export function validateScenario(s: BacktestScenario): BacktestScenario {
  const bad: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) bad.push(what);
  };
  const nonNeg = (x: number): boolean => Number.isFinite(x) && x >= 0;
  check(nonNeg(s.lp.valueUsd), 'LP value (--lp-usd) must be >= 0');
  check(s.lp.low > 0 && s.lp.low < 1 && s.lp.high > 1 && Number.isFinite(s.lp.high), 'LP range (--range LOW:HIGH) must have 0 < LOW < 1 < HIGH');
  check(Number.isInteger(s.lp.tickSpacing) && s.lp.tickSpacing > 0, 'tick spacing must be a positive integer');
  check(nonNeg(s.lp.feeAprPct), 'LP fee APR must be >= 0');
  check(['notional', 'value', 'off'].includes(s.lp.recenter), '--recenter must be off, value or notional');
  check(nonNeg(s.walletWethEth) && nonNeg(s.walletUsdc), 'wallet balances must be >= 0');
  check(Number.isInteger(s.perp.takerFeeBps) && s.perp.takerFeeBps >= 0 && s.perp.takerFeeBps <= 100, 'taker fee (--fee-bps) must be an integer 0..100');
  check(Number.isFinite(s.perp.fundingAprPaidByShorts) && Math.abs(s.perp.fundingAprPaidByShorts) <= 10, 'funding APR (--funding-apr) must be within +-10 (1000%)');
  check(nonNeg(s.tx.gasPriceGwei) && nonNeg(s.tx.gas.hedgeTrade) && nonNeg(s.tx.gas.topUp) && nonNeg(s.tx.gas.recenter), 'gas price and gas units must be >= 0');
  check(s.tx.costPerTradeUsd === undefined || nonNeg(s.tx.costPerTradeUsd), 'cost per trade (--cost-per-trade-usd) must be >= 0');
  check(nonNeg(s.slippageBps) && s.slippageBps < 10_000, 'slippage (--slippage-bps) must be in [0, 10000)');
  check(s.episodeDays === undefined || (s.episodeDays > 0 && Number.isFinite(s.episodeDays)), 'episode length (--episode-days) must be > 0');
  if (bad.length > 0) throw new RangeError(`bad backtest scenario: ${bad.join('; ')}`);
  return s;
}
