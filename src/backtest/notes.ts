import type { BacktestScenario } from './policies.js';

/** The report's "definitions and assumptions": what the numbers mean and what the world was. */

export interface NotesContext {
  substeps: string;
  ticksPerClose: number;
  /** True when gas is priced with the shipped ETH data because the path is another asset. */
  gasFromEthData: boolean;
}

export function scenarioNotes(s: BacktestScenario, o: NotesContext): string[] {
  const recenter = {
    notional: `re-minted around the price at ${s.lp.valueUsd} USD when the price leaves the range (a surplus goes to the wallet, a shortfall is brought in from outside and counted as inflow)`,
    value: 're-minted with its own value when the price leaves the range',
    off: 'never recentered',
  }[s.lp.recenter];
  const ticks = {
    bridge: `${o.ticksPerClose} ticks per close on a seeded Brownian bridge between the data's closes with each candle's high-low variance`,
    ohlc: 'open-low-high-close ticks (biased against band policies: see path.ts)',
    close: 'closes only',
    simulated: 'simulated ticks',
  }[o.substeps] ?? o.substeps;
  const tx = s.tx.costPerTradeUsd !== undefined
    ? `a fixed ${s.tx.costPerTradeUsd} USD per transaction (hedge trade, top-up, LP recentering) in place of gas`
    : `gas ${s.tx.gasPriceGwei} gwei x ${s.tx.gas.hedgeTrade} per hedge trade, ${s.tx.gas.topUp} per top-up and ${s.tx.gas.recenter} per LP recentering, paid in ETH at ${o.gasFromEthData ? 'the ETH price of the moment (shipped ETH/USDT data: the path is another asset)' : 'the price of the moment'}`;
  return [
    `Keeper ticks: ${ticks}. Every tick checks the band and the margin in bigint; whenever anything can happen it runs the keeper's own assess -> plan -> guard on a synthetic snapshot and stops at a guard block, like the live tick. Results are sampled at the closes.`,
    s.episodeDays !== undefined
      ? `Episodes: independent ${s.episodeDays}-day windows, each starting hedged at target with a fresh LP minted at its start price; time policies count their slots from the episode start. Per-close statistics pool every close of every episode.`
      : 'One run over the whole path; time policies count their slots from its start.',
    `Portfolio: a Uniswap V3 LP of ${s.lp.valueUsd} USD over [${s.lp.low}, ${s.lp.high}] x the price at minting (tick spacing ${s.lp.tickSpacing}), ${recenter}; LP fees ${s.lp.feeAprPct}% a year; wallet ${s.walletWethEth} of the base asset and ${s.walletUsdc} USDC (the margin reserve).`,
    `Hedge: a short on the reference perp exchange (taker fee ${s.perp.takerFeeBps} bps, initial margin 10%, maintenance 5%, liquidation closes the position with a 1% penalty), funding ${s.perp.fundingAprPaidByShorts * 100}% a year paid by shorts; it starts at target with the margin at the top-up target.`,
    `Costs: slippage ${s.slippageBps} bps on every hedge fill and LP swap; ${tx}. Guard caps from the configuration: per trade, per day (notional), per top-up.`,
    'Hedging cost = fees + slippage + transaction costs + net funding + liquidation penalties. Per-close std = standard deviation of the change of the portfolio value from one close to the next (the data grid, where an hourly rebalancer has just reset its delta: its best case). Hedge effectiveness = 1 - that variance / the unhedged portfolio\'s.',
    'Attribution: LP fees; LP price move = what holding the tokens the LP held at its (last) minting would have made; loss vs holding = the LP principal\'s P&L minus that (impermanent loss); hedge P&L at oracle prices; then funding, taker fees, slippage, transaction costs and penalties. The lines add up to the total P&L.',
    'Sharpe and Sortino: mean per-close P&L over its standard deviation (Sortino: downside deviation), annualised by sqrt(closes per year). Drawdown: fall of the cumulative P&L from its running peak.',
  ];
}
