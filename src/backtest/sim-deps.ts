import { createRequire } from 'node:module';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { Action, Address, Snapshot } from '../core/types.js';
import { E8 } from '../core/format.js';
import type { TxOutcome } from '../chain/executor.js';
import type { RunnerState, SyncTickDeps, TickResult } from '../runner/tick.js';
import type { TickContext } from './keeper-tick.js';
import { lpPositionAt } from './lp-model.js';
import { perpAccountView } from './perp-model.js';
import { execute } from './run-state.js';

/**
 * The simulated chain behind the keeper's own tick (runner/tick.ts) in a backtest: the
 * dependencies the live keeper fills from the RPC and the executor (runner/keeper.ts), filled
 * from the models instead.
 * - readSnapshot: the Snapshot the chain reader would return at the step (wallet, LP, perp);
 * - execute: the action carried out on the perp model: 'mined' with the model's gas, or
 *   'reverted' (stage 'simulation', no gas) when the model refuses it, as the keeper's
 *   pre-send simulation would (a top-up over the wallet, a trade under initial margin);
 * - spentToday: the run state's guard counters, so the configuration's caps apply;
 * - bandFor: the policy's band at the step (undefined for BAND_MODE fixed: assess's own band,
 *   as live); checkSanity and gate: none (the data is the truth, nothing is ever pending);
 * - logger: a silent pino: tick() builds no line for it.
 */

const ACCOUNT: Address = '0x00000000000000000000000000000000000b4c7e';
const NO_HASH: Hex = `0x${'0'.repeat(64)}`;

let silent: Logger | undefined;

/**
 * One silent pino for every simulated chain of the thread, loaded on the first tick (~20 ms): a
 * main thread that hands the policies to worker threads never loads it.
 */
export function silentLogger(): Logger {
  if (!silent) {
    const { pino } = createRequire(import.meta.url)('pino') as typeof import('pino');
    silent = pino({ level: 'silent' });
  }
  return silent;
}

/** The band tick() is given (runner/tick.ts TickDeps.bandFor); the note is read only when logged. */
export interface TickBand {
  readonly bandWei: bigint;
  readonly note: string;
}

/** What the backtest passed to tick() at one step, and what came of it (for the equivalence test). */
export interface SimTick {
  /** Local step in the episode, global step in the path. */
  j: number;
  i: number;
  /** The runner state tick() was given. */
  state: RunnerState;
  /** What bandFor returned at this step. */
  band: TickBand | undefined;
  result: TickResult;
}

export interface SimChain {
  readonly deps: SyncTickDeps;
  /** Point the chain at local step j (global i) with the policy's band there. */
  at(j: number, i: number, band: TickBand | undefined): void;
}

/** The simulated chain of one episode's run state (c.s); one per TickContext. */
export function createSimChain(c: TickContext): SimChain {
  let j = 0;
  let i = 0;
  let band: TickBand | undefined;
  const deps: SyncTickDeps = {
    readSnapshot: () => snapshotAt(c, j, i),
    execute: (action, _assessment, snapshot) => simExecute(c, i, action, snapshot.blockNumber),
    policy: c.spec.policy,
    guard: c.scenario.guard,
    logger: silentLogger(),
    spentToday: () => c.s.guardState,
    bandFor: () => band,
  };
  return {
    deps,
    at(stepJ, stepI, stepBand) {
      j = stepJ;
      i = stepI;
      band = stepBand;
    },
  };
}

/** One action on the models at step i (block `blockNumber`), as the executor would report it. */
export function simExecute(c: TickContext, i: number, action: Action, blockNumber: bigint): TxOutcome[] {
  const topUp = action.kind === 'topUp';
  const label = topUp ? 'perp.deposit' : 'perp.trade';
  const refused = execute(action, i, c.track, c.scenario, c.pp, c.s, c.t);
  if (refused !== null) return [{ status: 'reverted', label, stage: 'simulation', reason: refused }];
  const gasUsed = BigInt(topUp ? c.scenario.tx.gas.topUp : c.scenario.tx.gas.hedgeTrade);
  return [{ status: 'mined', label, hash: NO_HASH, gasUsed, blockNumber }];
}

/** The Snapshot the chain reader would return at local step j (global i). */
export function snapshotAt(c: TickContext, j: number, i: number): Snapshot {
  const { et, s } = c;
  const { timeSec, priceE8 } = c.track.path.steps[i]!;
  const range = et.ranges[et.rangeIndex[j]!]!;
  const lp = lpPositionAt(
    range,
    { amountBaseWei: et.lpBaseWei[j]!, amountQuoteUnits: et.lpQuoteUnits[j]!, inRange: et.lpInRange[j] === 1 },
    { baseWei: 0n, quoteUnits: et.lpFeesUnits[j]! },
  );
  const time = BigInt(timeSec);
  return {
    chainId: 0,
    blockNumber: BigInt(i),
    blockTimestampSec: time,
    account: ACCOUNT,
    oracle: { priceE8, updatedAtSec: time, quotePriceE8: E8 },
    // The pool's tick and liquidity are not read by assess; the pool trades at the oracle price.
    pool: { sqrtPriceX96: et.sqrtPriceX96[j]!, tick: 0, liquidity: range.liquidity, priceE8 },
    wallet: { ethWei: 0n, wethWei: s.wethWei, usdcUnits: s.usdcUnits },
    lps: [lp],
    hedge: perpAccountView(s.perp, c.pp, priceE8),
  };
}
