import type { BandMode, HedgePolicy } from '../core/types.js';
import { DEFAULT_BAND_PARAMS, bandParams } from '../core/band-policy.js';
import { actIfNeeded, bandAt, type TickContext } from './keeper-tick.js';
import type { EpisodeTrack, MarketTrack } from './market.js';
import { accountValueUnits, accrueFunding, liquidateIfDue, pendingFundingUnits, perpParams } from './perp-model.js';
import type { BacktestScenario, PolicySpec } from './policies.js';
import type { SimTick } from './sim-deps.js';
import { attributionOf, createRecorder, type Attribution, type EpisodeResult, type PolicySeries, type Recorder } from './record.js';
import { costUnits, initialState, newTotals, perpWorthUnits, settleLpFlow, type RunState, type Totals } from './run-state.js';

/**
 * One policy replayed over a market track, episode by episode, through the keeper's own tick()
 * on a simulated chain (keeper-tick.ts, sim-deps.ts). Liquidations come first: a liquidator
 * watching the exchange closes an account under maintenance before the keeper's next tick.
 *
 * Speed: the state is exact (bigint, the contracts' roundings); a float copy of it screens each
 * tick. When the floats show the deviation well inside the band and the margin well above its
 * trigger (and above maintenance), plan() would provably do nothing, and the tick costs a few
 * float operations; otherwise the tick is decided exactly, by tick(). Per-tick values, which
 * only feed statistics, are floats. `alwaysPlan` runs tick() on every step instead; a test
 * checks that both give the same run.
 */

/** Relative margin of the float screen: float errors here are ~1e-15. */
const EPS = 1e-9;
const SIZE_PRICE_TO_UNITS = 10n ** 20n;

export interface TickPnlStats {
  n: number;
  mean: number;
  m2: number;
}

export interface PolicyRun {
  name: string;
  kind: PolicySpec['kind'];
  mode: BandMode;
  policy: HedgePolicy;
  totals: Totals;
  attribution: Attribution;
  series: PolicySeries;
  episodes: EpisodeResult[];
  tickPnl: TickPnlStats;
  runtimeMs: number;
}

export interface RunOptions {
  /** Called with the number of steps done, every few thousand steps. */
  onProgress?: (stepsDone: number) => void;
  /** Run the keeper's tick() on every step (no screen); for the equivalence test. */
  alwaysPlan?: boolean;
  /** Sees every tick() the run makes: its inputs and result (test/unit/backtest-live-tick.test.ts). */
  onTick?: (t: SimTick) => void;
}

/** Float copy of the exact state (USDC units, wei, E8), refreshed whenever the exact state changes. */
interface Mirror {
  /** Wallet USDC - gas spent - capital brought in. */
  cash: number;
  weth: number;
  size: number;
  entry: number;
  margin: number;
}

function sync(m: Mirror, s: RunState): void {
  m.cash = Number(s.usdcUnits - s.gasUnits - s.externalInflowUnits);
  m.weth = Number(s.wethWei);
  m.size = Number(s.perp.sizeWei);
  m.entry = Number(s.perp.entryPriceE8);
  m.margin = Number(s.perp.marginUnits);
}

/** The perp account's value (USDC units) from the mirror: margin + PnL - pending funding. */
function accountValueF(m: Mirror, s: RunState, priceF: number): number {
  if (m.size === 0) return m.margin;
  return m.margin + (m.size * (priceF - m.entry)) / 1e20 - (m.size * Number(s.perp.indexE26 - s.perp.lastIndexE26)) / 1e38;
}

function ratioF(m: Mirror, av: number, priceF: number): number {
  if (m.size === 0) return Infinity;
  return av <= 0 ? 0 : (av * 1e20) / (Math.abs(m.size) * priceF);
}

export function runPolicy(track: MarketTrack, spec: PolicySpec, scenario: BacktestScenario, opts: RunOptions = {}): PolicyRun {
  const started = performance.now();
  const pp = perpParams(scenario.perp);
  const t = newTotals();
  const rec = createRecorder(track);
  const tickPnl: TickPnlStats = { n: 0, mean: 0, m2: 0 };
  const episodes: EpisodeResult[] = [];
  const volFast = spec.policy.bandMode === 'adaptive' ? track.volFastAnnual(bandParams(spec.policy).volFastHalfLifeSec ?? DEFAULT_BAND_PARAMS.volFastHalfLifeSec!) : null;
  let done = 0;
  for (const et of track.episodes) {
    const s = initialState(track, et, spec, scenario);
    const c: TickContext = { track, et, spec, scenario, pp, s, t, volFast, epStartSec: track.path.steps[et.start]!.timeSec, alwaysPlan: opts.alwaysPlan ?? false, onTick: opts.onTick };
    episodes.push(runEpisode(c, rec, tickPnl, (k) => {
      if (opts.onProgress && ((done + k) & 4095) === 0) opts.onProgress(done + k);
    }));
    done += et.n;
  }
  opts.onProgress?.(done);
  const { name, kind, policy } = spec;
  return { name, kind, mode: policy.bandMode, policy, totals: t, attribution: attributionOf(track, episodes, t), series: rec.series, episodes, tickPnl, runtimeMs: performance.now() - started };
}

/** The exact liquidation check, when the float screen cannot rule it out. */
function liquidate(c: TickContext, priceE8: bigint): boolean {
  const liq = liquidateIfDue(c.s.perp, c.pp, priceE8);
  if (!liq) return false;
  c.t.liquidations++;
  c.t.badDebtUnits += liq.badDebtUnits;
  c.t.penaltyUnits += liq.penaltyPaidUnits;
  c.t.fundingUnits += liq.fundingPaidUnits;
  return true;
}

function runEpisode(c: TickContext, rec: Recorder, tickPnl: TickPnlStats, progress: (k: number) => void): EpisodeResult {
  const { track, et, s, t } = c;
  const { policy } = c.spec;
  const steps = track.path.steps;
  const keeper = c.spec.kind !== 'unhedged';
  const maintF = Number(c.pp.maintenanceRatioE18) / 1e18;
  const triggerF = Number(policy.marginTriggerE18) / 1e18;
  const hedgeRatioF = Number(policy.hedgeRatioE18) / 1e18;
  const costAtStart = costUnits(t, null);
  const depositsAtStart = t.depositUnits;
  const tradesAtStart = t.trades;
  const startPrice = steps[et.start]!.priceE8;
  const perpAtStart = perpWorthUnits(accountValueUnits(s.perp, startPrice));
  const m: Mirror = { cash: 0, weth: 0, size: 0, entry: 0, margin: 0 };
  sync(m, s);
  const valueOf = (j: number, priceF: number, av: number): number => (m.cash + ((m.weth + et.lpBaseF[j]!) * priceF) / 1e20 + et.lpQuoteFeesF[j]! + Math.max(av, 0)) / 1e6;
  let prev = valueOf(0, track.priceF[et.start]!, accountValueF(m, s, track.priceF[et.start]!));
  const startValue = prev;
  let lastCloseValue = prev;
  rec.start(et, s, prev);
  for (let j = 1; j < et.n; j++) {
    const i = et.start + j;
    const { timeSec, priceE8, isClose } = steps[i]!;
    const priceF = track.priceF[i]!;
    accrueFunding(s.perp, c.pp, timeSec, priceE8);
    if (et.lpInflowUnits[j] !== 0n) {
      settleLpFlow(et.lpInflowUnits[j]!, s);
      sync(m, s);
    }
    let av = accountValueF(m, s, priceF);
    if (ratioF(m, av, priceF) < maintF * (1 + EPS) && liquidate(c, priceE8)) {
      sync(m, s);
      av = accountValueF(m, s, priceF);
    }
    let bandF = 0;
    if (keeper) {
      const spot = m.weth + et.lpBaseF[j]!;
      const grossF = Math.abs(m.weth) + et.lpBaseF[j]!;
      const band = bandAt(c, j, i, (s.wethWei < 0n ? -s.wethWei : s.wethWei) + et.lpBaseWei[j]!, grossF);
      const dev = Math.abs(m.size + spot * hedgeRatioF);
      const slack = EPS * (grossF + Math.abs(m.size)) + 16;
      // Time policies are measured against the fixed band of the same base policy.
      bandF = policy.bandMode === 'time' ? Math.max(Number(policy.deltaBandWei), (grossF * Number(policy.deltaBandPctE18)) / 1e18) : band.approxWei;
      if (dev > bandF) t.ticksOutsideBand++;
      const clear = dev + slack < band.approxWei * (1 - EPS) && ratioF(m, av, priceF) > triggerF * (1 + EPS);
      if ((!clear || c.alwaysPlan) && actIfNeeded(c, j, i, band)) {
        sync(m, s);
        av = accountValueF(m, s, priceF);
      }
    }
    t.ticks++;
    const value = valueOf(j, priceF, av);
    addSample(tickPnl, value - prev);
    prev = value;
    if (isClose) {
      rec.close(c, j, bandF, value - lastCloseValue, costUnits(t, s));
      lastCloseValue = value;
    }
    progress(j);
  }
  const endPrice = steps[et.start + et.n - 1]!.priceE8;
  // The position's unsettled funding is a cost of this episode: settle it into the totals.
  t.fundingUnits += pendingFundingUnits(s.perp);
  const costInEpisode = costUnits(t, null) - costAtStart;
  // The hedge's P&L at oracle prices: the account's change less deposits, plus what it paid.
  const hedgeUnits = perpWorthUnits(accountValueUnits(s.perp, endPrice)) - perpAtStart - (t.depositUnits - depositsAtStart) + (costInEpisode - s.gasUnits);
  return {
    startSec: steps[et.start]!.timeSec, pnlUsd: prev - startValue, costUsd: Number(costInEpisode) / 1e6, trades: t.trades - tradesAtStart,
    hedgePnlUsd: Number(hedgeUnits) / 1e6, walletHodlUsd: Number((s.wethWei * (endPrice - startPrice)) / SIZE_PRICE_TO_UNITS) / 1e6,
  };
}

function addSample(st: TickPnlStats, x: number): void {
  st.n++;
  const d = x - st.mean;
  st.mean += d / st.n;
  st.m2 += d * (x - st.mean);
}
