import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { ChainAddresses, KeeperConfig } from '../config.js';
import type { Address, HedgeVenueKind } from '../core/types.js';
import { initialPolicyState } from '../core/policy.js';
import { initialGuardState } from '../core/guard.js';
import { createOracleChecker } from '../core/oracle-check.js';
import type { Clients } from '../chain/clients.js';
import { createSnapshotReader, type SnapshotReader } from '../chain/snapshot.js';
import { createPerpVenue } from '../venues/perp.js';
import { createAaveVenue } from '../venues/aave.js';
import type { HedgeVenue } from '../venues/types.js';
import { emit, type KeeperTelemetry } from '../monitor/telemetry.js';
import type { Journal } from '../journal/journal.js';
import type { PendingQueue, ReconcileReport } from '../journal/reconcile.js';
import { absBig, fmtPriceE8, weiToUsdE8 } from '../core/format.js';
import { createLiveRisk, type LiveRisk } from './live-risk.js';
import { bandModeNeedsGamma, bandWeiFor, lpGammaBasePerUsd } from '../core/band-policy.js';
import { exposures } from '../core/exposure.js';
import { tick, withSettled, type RunnerState, type TickDeps, type TickResult } from './tick.js';
import { createKeeperShell, createShellClients } from './keeper-shell.js';

export interface KeeperOptions {
  config: KeeperConfig;
  /** The RPCs this keeper talks to (the configured ones, the embedded devnet, or a fork). */
  rpcUrls: readonly string[];
  chainId: number;
  privateKey: Hex;
  addresses: ChainAddresses;
  logger: Logger;
  dryRun: boolean;
  /** Called after every tick (metrics, journal, tests). */
  onTick?: (result: TickResult) => void;
  /** Metrics/benchmark hooks: ticks, transactions, RPC requests and errors. */
  telemetry?: KeeperTelemetry;
  /** The restart journal; default: opened at config.safety.journalPath (none in dry-run). */
  journal?: Journal | null;
  /** Live risk figures and the vol for adaptive bands; default: in memory, prior 80%/yr. */
  risk?: LiveRisk;
  /**
   * A new journal on an account that already has transactions: take that history as not the
   * keeper's (first run on this key). Without it the keeper refuses to send: a lost journal
   * looks exactly like a new one.
   */
  adoptHistory?: boolean;
  /** Consecutive ticks a failure (or a stale read) may last before it escalates to safe mode + alert. */
  escalateAfterTicks?: number;
  /**
   * After sending, wait up to this long for the receipts before the tick returns (an automining
   * test chain mines within milliseconds, but not synchronously). Default 0: a tick never waits.
   */
  settleWaitMs?: number;
}

/** The band of BAND_MODE vol / ww / time for this snapshot (fixed: undefined, assess does it). */
export function adaptiveBand(config: KeeperConfig, risk: LiveRisk): NonNullable<TickDeps['bandFor']> {
  let lastRebalanceSec: number | null = null;
  const policy = config.policy;
  return (s) => {
    if (policy.bandMode === 'fixed') return undefined;
    // Only the Whalley-Wilmott bands use gamma.
    const gammaBasePerUsd = bandModeNeedsGamma(policy.bandMode) ? lpGammaBasePerUsd(s.lps, s.oracle.priceE8) : 0;
    const nowSec = Number(s.blockTimestampSec);
    const d = bandWeiFor(policy, {
      grossSpotWei: exposures(s, policy.includeNativeEth).grossSpotWei,
      priceE8: s.oracle.priceE8,
      volAnnual: risk.volAnnual(),
      volFastAnnual: risk.volFastAnnual(),
      gammaBasePerUsd,
      nowSec,
      lastRebalanceSec,
    });
    if (d.rebalanceDue) lastRebalanceSec = nowSec;
    return { bandWei: d.bandWei, note: d.note };
  };
}

export interface Keeper {
  readonly account: Address;
  readonly clients: Clients;
  readonly venue: HedgeVenue;
  readonly reader: SnapshotReader;
  readonly state: RunnerState;
  tickOnce(blockNumber?: bigint): Promise<TickResult>;
  /** Tick until stop() (or maxTicks); resolves when stopped. */
  run(opts?: { maxTicks?: number }): Promise<void>;
  /** Finish the in-flight tick (and its transactions), then stop. */
  stop(): Promise<void>;
  /** Settle the journal against the chain (done before the first plan and on every tick). */
  reconcile(): Promise<ReconcileReport | null>;
  /** Drive the pending queue until nothing of ours is waiting for the chain (tests, fork dry-run). */
  settle(opts?: { timeoutMs?: number }): Promise<void>;
  /** The pending queue's holds and alarms (null in dry-run). */
  readonly queue: PendingQueue | null;
  /** Ticks that threw. */
  readonly failedTicks: number;
  readonly journal: Journal | null;
  /** Release the journal. */
  close(): void;
}

/** Oracle sanity: a stale feed or a pool far from the feed means safe mode. */
export function oracleSanity(config: KeeperConfig): NonNullable<TickDeps['checkSanity']> {
  const { oracleMaxAgeSec, maxPoolDeviationBps } = config.safety;
  // Every round of both feeds (answer, decimals, round order, answeredInRound, time, heartbeat);
  // the checker keeps the highest round seen between ticks.
  const rounds = createOracleChecker({ maxAgeSec: oracleMaxAgeSec });
  return (snapshot, a) => {
    const badRound = rounds.check(snapshot.oracle, snapshot.blockTimestampSec);
    if (badRound) return badRound;
    if (a.poolOracleDivergenceBps > BigInt(maxPoolDeviationBps)) {
      return `pool price ${fmtPriceE8(a.poolPriceE8)} is ${a.poolOracleDivergenceBps} bps from the oracle ${fmtPriceE8(a.priceE8)} (MAX_POOL_DEVIATION_BPS ${maxPoolDeviationBps})`;
    }
    return null;
  };
}

export async function createVenue(
  kind: HedgeVenueKind,
  addresses: ChainAddresses,
  config: KeeperConfig,
  clients: Clients,
): Promise<HedgeVenue> {
  if (kind === 'perp') {
    if (!addresses.perpExchange) throw new Error('HEDGE_VENUE=perp needs PERP_EXCHANGE');
    return createPerpVenue({ exchange: addresses.perpExchange, marketId: config.perpMarketId, usdc: addresses.usdc });
  }
  if (!addresses.aavePoolAddressesProvider) throw new Error('HEDGE_VENUE=aave needs AAVE_POOL_ADDRESSES_PROVIDER');
  return createAaveVenue({ addresses, publicClient: clients.publicClient });
}

export async function createKeeper(opts: KeeperOptions): Promise<Keeper> {
  const { config, addresses, logger } = opts;
  const clients = createShellClients(opts);
  const account = clients.walletClient.account.address;
  const venue = await createVenue(config.venue, addresses, config, clients);
  const reader = createSnapshotReader({
    publicClient: clients.publicClient,
    account,
    venue,
    multicall3: config.chain.multicall3,
    addresses: {
      oracleFeed: addresses.oracleFeed,
      usdcFeed: addresses.usdcFeed,
      weth: addresses.weth,
      usdc: addresses.usdc,
      positionManager: addresses.uniswapPositionManager,
      pool: addresses.uniswapPool,
    },
  });
  const risk = opts.risk ?? createLiveRisk({ fastHalfLifeSec: config.policy.band?.volFastHalfLifeSec });
  await risk.load();
  let state: RunnerState = { policy: initialPolicyState(), guard: initialGuardState(Math.floor(Date.now() / 1000)) };
  const shell = createKeeperShell({
    ...opts,
    clients,
    allowList: venue.allowList(),
    hooks: { resetCooldown: () => (state = { ...state, policy: { ...state.policy, lastHedgeAtSec: null } }) },
  });
  const { journal, queue, executor } = shell;
  let pinnedBlock: bigint | undefined;

  const deps: TickDeps = {
    readSnapshot: () => reader.read(pinnedBlock),
    policy: config.policy,
    guard: config.guard,
    logger,
    checkSanity: oracleSanity(config),
    riskFigures: (snapshot, assessment) => risk.figures(snapshot, assessment),
    bandFor: adaptiveBand(config, risk),
    gate: (snapshot) => shell.gate(snapshot.blockNumber),
    spentToday: journal
      ? (nowSec) => {
          const spent = shell.spentToday(nowSec)!;
          return { ...state.guard, day: spent.day, notionalTodayUsdE8: spent.hedgeNotionalUsdE8, topUpTodayUnits: spent.topUpUnits };
        }
      : undefined,
    beforeSend: queue ? (snapshot) => shell.beforeSend(snapshot.blockNumber) : undefined,
    async execute(action, assessment, snapshot) {
      const built = await venue.buildTxs(action, {
        account,
        publicClient: clients.publicClient,
        oracle: snapshot.oracle,
        maxSlippageBps: config.policy.maxSlippageBps,
        blockNumber: assessment.blockNumber,
      });
      if (built.status === 'refused') {
        // The venue's own pre-send check (e.g. a quote) failed: nothing was sent.
        const { label, reason } = built;
        logger.warn({ event: 'tx.reverted', stage: 'simulation', label, reason, action: action.kind, block: assessment.blockNumber }, `${label} would revert: ${reason}`);
        return [{ status: 'reverted', label, stage: 'simulation', reason }];
      }
      const notionalUsdE8 = action.kind === 'adjustHedge' ? weiToUsdE8(absBig(action.sizeDeltaWei), snapshot.oracle.priceE8) : 0n;
      const intentId =
        journal?.beginIntent({ chainId: opts.chainId, account, block: assessment.blockNumber, action, notionalUsdE8, blockTimeSec: snapshot.blockTimestampSec, plannedTxs: built.txs.length }) ?? null;
      const outcomes = await executor.run(built.txs, {
        intentId,
        bounds: { ...snapshot.oracle, maxSlippageBps: config.policy.maxSlippageBps, weth: addresses.weth, usdc: addresses.usdc },
        block: assessment.blockNumber,
        log: { action: action.kind, block: assessment.blockNumber },
      });
      if (intentId !== null && !outcomes.some((o) => o.status === 'sent')) {
        // Nothing reached an RPC: finished now. Anything sent is finished by the queue.
        const last = outcomes[outcomes.length - 1];
        journal?.finishIntent(intentId, 'failed', last && 'reason' in last ? last.reason : 'not completed');
      }
      return outcomes;
    },
  };

  async function tickOnce(blockNumber?: bigint): Promise<TickResult> {
    pinnedBlock = blockNumber;
    const t0 = performance.now();
    let result = await shell.tickOnce(blockNumber, () => tick(deps, state), (r) => r.results.some((x) => x.outcome === 'pending'));
    if (journal && result.results.some((r) => r.outcome === 'pending')) {
      result = { ...result, results: result.results.map((r) => (r.outcome === 'pending' ? withSettled(r, journal) : r)) };
    }
    state = result.state;
    emit(opts.telemetry, 'tick', result, performance.now() - t0);
    opts.onTick?.(result);
    return result;
  }

  await shell.reconcile(); // before anything is planned
  return {
    account,
    journal,
    reconcile: () => shell.reconcile(),
    settle: (o) => shell.settle(o),
    queue,
    get failedTicks() {
      return shell.failedTicks;
    },
    close: () => journal?.close(),
    clients,
    venue,
    reader,
    get state() {
      return state;
    },
    tickOnce,
    run: (runOpts = {}) => shell.run(tickOnce, runOpts),
    stop: () => shell.stop(),
  };
}
