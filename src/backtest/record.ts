import { MAX_UINT256 } from '../core/format.js';
import type { EpisodeTrack, MarketTrack } from './market.js';
import { accountValueUnits, marginRatioE18 } from './perp-model.js';
import type { RunState, Totals } from './run-state.js';
import type { TickContext } from './keeper-tick.js';

/**
 * What a policy run keeps: one sample per close (after the keeper acted) on one time axis
 * across episodes, one line per episode, and the P&L attribution. The first sample is the
 * start (P&L 0); an episode's first close is the previous episode's last, so it is not
 * repeated: the per-close P&L pools every close of every episode.
 */

export interface PolicySeries {
  timeSec: Float64Array;
  /** Change of the portfolio value since the previous close of the same episode (0 at the start). */
  pnlUsd: Float64Array;
  /** Net delta (spot + hedge) in USD at the close's price. */
  netDeltaUsd: Float64Array;
  /** Perp margin ratio (Infinity without a position). */
  marginRatio: Float64Array;
  /** Band in USD (0 for time policies when due; their reference band otherwise). */
  bandUsd: Float64Array;
  cumCostUsd: Float64Array;
  /** Trades so far (all episodes). */
  cumTrades: Float64Array;
  /** Index of each episode's first sample (a P&L sample, the close after its start). */
  episodeStarts: Int32Array;
}

export interface EpisodeResult {
  startSec: number;
  pnlUsd: number;
  costUsd: number;
  trades: number;
  /** The hedge's P&L at oracle prices (before fees, funding, slippage, penalties). */
  hedgePnlUsd: number;
  /** Wallet WETH's price move (held besides the LP). */
  walletHodlUsd: number;
}

export interface Recorder {
  series: PolicySeries;
  start(et: EpisodeTrack, s: RunState, valueUsd: number): void;
  close(c: TickContext, j: number, bandWei: number, pnlUsd: number, costUnits: bigint): void;
}

/** Number of samples: the start plus every close after an episode's start. */
export function sampleCount(track: MarketTrack): number {
  let n = 1;
  for (const et of track.episodes) for (let j = 1; j < et.n; j++) if (track.path.steps[et.start + j]!.isClose) n++;
  return n;
}

export function createRecorder(track: MarketTrack): Recorder {
  const n = sampleCount(track);
  const series: PolicySeries = {
    timeSec: new Float64Array(n), pnlUsd: new Float64Array(n), netDeltaUsd: new Float64Array(n), marginRatio: new Float64Array(n),
    bandUsd: new Float64Array(n), cumCostUsd: new Float64Array(n), cumTrades: new Float64Array(n), episodeStarts: new Int32Array(track.episodes.length),
  };
  let k = 0;
  let e = 0;
  const put = (et: EpisodeTrack, j: number, s: RunState, bandWei: number, pnlUsd: number, costUnits: bigint, trades: number): void => {
    const { timeSec, priceE8 } = track.path.steps[et.start + j]!;
    const price = Number(priceE8) / 1e8;
    series.timeSec[k] = timeSec;
    series.pnlUsd[k] = pnlUsd;
    series.netDeltaUsd[k] = (Number(s.wethWei + et.lpBaseWei[j]! + s.perp.sizeWei) / 1e18) * price;
    const ratio = marginRatioE18(accountValueUnits(s.perp, priceE8), s.perp.sizeWei, priceE8);
    series.marginRatio[k] = ratio >= MAX_UINT256 ? Infinity : Number(ratio) / 1e18;
    series.bandUsd[k] = bandWei >= 1e70 ? Infinity : (bandWei / 1e18) * price;
    series.cumCostUsd[k] = Number(costUnits) / 1e6;
    series.cumTrades[k] = trades;
    k++;
  };
  return {
    series,
    start(et, s) {
      if (k === 0) put(et, 0, s, 0, 0, 0n, 0);
      series.episodeStarts[e++] = k;
    },
    close(c, j, bandWei, pnlUsd, costUnits) {
      put(c.et, j, c.s, bandWei, pnlUsd, costUnits, c.t.trades);
    },
  };
}

/** Where the P&L came from, USD, summed over episodes; the lines add up to the total P&L. */
export interface Attribution {
  lpFeesUsd: number;
  /** What holding the tokens the LP held at its (last) minting would have made, with wallet WETH. */
  lpPriceMoveUsd: number;
  /** The LP principal's P&L minus that: the loss against holding (impermanent loss). */
  lpLossVsHoldingUsd: number;
  /** Swap slippage and transaction costs of recentering the LP. */
  lpRecenterUsd: number;
  hedgePnlUsd: number;
  fundingUsd: number;
  feesUsd: number;
  slippageUsd: number;
  gasUsd: number;
  penaltiesUsd: number;
  totalUsd: number;
}

const usd = (units: bigint): number => Number(units) / 1e6;

/** The LP lines come from the track; the rest from the run's totals (costs as negative P&L). */
export function attributionOf(track: MarketTrack, episodes: readonly EpisodeResult[], t: Totals): Attribution {
  let fees = 0n;
  let hodl = 0n;
  let move = 0n;
  let recenter = 0n;
  for (const et of track.episodes) {
    const last = et.n - 1;
    fees += et.lpFeesUnits[last]!;
    hodl += et.lpHodlUnits[last]!;
    move += et.lpMoveUnits[last]!;
    recenter += et.lpRecenterCostUnits[last]!;
  }
  const wallet = episodes.reduce((a, e) => a + e.walletHodlUsd, 0);
  return {
    lpFeesUsd: usd(fees), lpPriceMoveUsd: usd(hodl) + wallet, lpLossVsHoldingUsd: usd(move - hodl), lpRecenterUsd: -usd(recenter),
    hedgePnlUsd: episodes.reduce((a, e) => a + e.hedgePnlUsd, 0),
    fundingUsd: -usd(t.fundingUnits), feesUsd: -usd(t.feeUnits), slippageUsd: -usd(t.slippageUnits), gasUsd: -usd(t.gasUnits),
    penaltiesUsd: -usd(t.penaltyUnits), totalUsd: episodes.reduce((a, e) => a + e.pnlUsd, 0),
  };
}
