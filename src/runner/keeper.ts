import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { rpcOrigin, type ChainAddresses, type KeeperConfig } from '../config.js';
import type { Address, HedgeVenueKind } from '../core/types.js';
import { initialPolicyState } from '../core/policy.js';
import { initialGuardState, utcDay } from '../core/guard.js';
import { createClients, type Clients } from '../chain/clients.js';
import { createExecutor } from '../chain/executor.js';
import { createSnapshotReader, type SnapshotReader } from '../chain/snapshot.js';
import { createPerpVenue } from '../venues/perp.js';
import { createAaveVenue } from '../venues/aave.js';
import type { HedgeVenue } from '../venues/types.js';
import { createLoop, type Loop } from './loop.js';
import { emit, type KeeperTelemetry } from '../monitor/telemetry.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { reconcileJournal, type ReconcileReport } from '../journal/reconcile.js';
import { createTxSender } from '../chain/sender.js';
import { absBig, fmtPriceE8, weiToUsdE8 } from '../core/format.js';
import type { TxEventKind } from '../monitor/telemetry.js';
import { createLiveRisk, type LiveRisk } from './live-risk.js';
import { bandWeiFor, lpGammaBasePerUsd } from '../core/band-policy.js';
import { exposures } from '../core/exposure.js';
import { tick, type RunnerState, type TickDeps, type TickResult } from './tick.js';

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
}

/** The band of BAND_MODE vol / ww / time for this snapshot (fixed: undefined, assess does it). */
export function adaptiveBand(config: KeeperConfig, risk: LiveRisk): NonNullable<TickDeps['bandFor']> {
  let lastRebalanceSec: number | null = null;
  const policy = config.policy;
  return (s) => {
    if (policy.bandMode === 'fixed') return undefined;
    // Only the Whalley-Wilmott band uses gamma.
    const gammaBasePerUsd = policy.bandMode === 'ww' ? lpGammaBasePerUsd(s.lps, s.oracle.priceE8) : 0;
    const nowSec = Number(s.blockTimestampSec);
    const d = bandWeiFor(policy, {
      grossSpotWei: exposures(s, policy.includeNativeEth).grossSpotWei,
      priceE8: s.oracle.priceE8,
      volAnnual: risk.volAnnual(),
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
  readonly journal: Journal | null;
  /** Release the journal. */
  close(): void;
}

/** Oracle sanity: a stale feed or a pool far from the feed means safe mode. */
export function oracleSanity(config: KeeperConfig): NonNullable<TickDeps['checkSanity']> {
  const { oracleMaxAgeSec, maxPoolDeviationBps } = config.safety;
  return (_snapshot, a) => {
    if (a.oracleAgeSec > BigInt(oracleMaxAgeSec)) {
      return `oracle stale: the feed's answer is ${a.oracleAgeSec}s old, its heartbeat is ${oracleMaxAgeSec}s (ORACLE_MAX_AGE_SEC)`;
    }
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
  const rpcFailureLoggedAt = new Map<string, number>();
  const clients = createClients({
    rpcUrls: opts.rpcUrls,
    chainId: opts.chainId,
    privateKey: opts.privateKey,
    transport: {
      // Counting parses each request body: only when someone counts.
      onRequest: opts.telemetry?.rpcRequest ? (info) => emit(opts.telemetry, 'rpcRequest', info.url, info.method) : undefined,
      onError: (info) => {
        emit(opts.telemetry, 'rpcError', info.url, info.error);
        // One line per URL per minute: a dead primary behind a fallback must not flood the log.
        const now = Date.now();
        if ((rpcFailureLoggedAt.get(info.url) ?? 0) + 60_000 < now) {
          rpcFailureLoggedAt.set(info.url, now);
          const origin = rpcOrigin(info.url);
          logger.warn({ event: 'rpc.failed', rpc: origin, err: info.error }, `RPC ${origin} failed: ${(info.error as Error).message?.split('\n')[0] ?? 'error'}`);
        }
      },
    },
  });
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
  const risk = opts.risk ?? createLiveRisk();
  await risk.load();
  const journal = opts.journal !== undefined ? opts.journal : opts.dryRun ? null : openJournal(config.safety.journalPath);
  const onTx = (kind: TxEventKind, label: string) => emit(opts.telemetry, 'tx', kind, label);
  const sender = opts.dryRun
    ? null
    : createTxSender({ clients, logger, journal, maxFeeCeilingWei: config.guard.maxGasPriceWei, replaceAfterBlocks: config.safety.replaceAfterBlocks, onTx });
  const executor = createExecutor({ clients, logger, allowList: venue.allowList(), dryRun: opts.dryRun, onTx, sender });
  let state: RunnerState = { policy: initialPolicyState(), guard: initialGuardState(Math.floor(Date.now() / 1000)) };
  if (journal) {
    // The daily notional cap survives restarts: count today's journaled hedges (chain time).
    const block = await clients.publicClient.getBlock({ blockTag: 'latest' });
    const day = utcDay(Number(block.timestamp));
    state = { ...state, guard: { day, notionalTodayUsdE8: journal.hedgeNotionalSince(opts.chainId, account, day * 86_400) } };
  }
  let pinnedBlock: bigint | undefined;

  const deps: TickDeps = {
    readSnapshot: () => reader.read(pinnedBlock),
    policy: config.policy,
    guard: config.guard,
    logger,
    checkSanity: oracleSanity(config),
    riskFigures: (snapshot, assessment) => risk.figures(snapshot, assessment),
    bandFor: adaptiveBand(config, risk),
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
        journal?.beginIntent({ chainId: opts.chainId, account, block: assessment.blockNumber, action, notionalUsdE8, blockTimeSec: snapshot.blockTimestampSec }) ?? null;
      const outcomes = await executor.run(built.txs, {
        intentId,
        bounds: { ...snapshot.oracle, maxSlippageBps: config.policy.maxSlippageBps, weth: addresses.weth, usdc: addresses.usdc },
        block: assessment.blockNumber,
        log: { action: action.kind, block: assessment.blockNumber },
      });
      if (intentId !== null) {
        const last = outcomes[outcomes.length - 1];
        const done = outcomes.length === built.txs.length && last?.status === 'mined';
        journal?.finishIntent(intentId, done ? 'done' : 'failed', done ? undefined : last && 'reason' in last ? last.reason : 'not completed');
      }
      return outcomes;
    },
  };

  let lastHead: bigint | undefined;
  async function reconcile(): Promise<ReconcileReport | null> {
    if (!journal || !sender) return null;
    const report = await reconcileJournal({ journal, sender, publicClient: clients.publicClient, account, logger }, { head: lastHead });
    if (report.reorged > 0) {
      // The hedge the cooldown counts from is gone: replan now.
      state = { ...state, policy: { ...state.policy, lastHedgeAtSec: null } };
    }
    if (report.settled + report.resumed + report.abandoned + report.dropped + report.reorged > 0) {
      logger.info({ event: 'journal.reconciled', ...report }, 'journal reconciled with the chain');
    }
    return report;
  }

  async function tickOnce(blockNumber?: bigint): Promise<TickResult> {
    pinnedBlock = blockNumber;
    const t0 = performance.now();
    let result: TickResult;
    try {
      await reconcile();
      result = await tick(deps, state);
    } catch (err) {
      emit(opts.telemetry, 'tickFailed', err, performance.now() - t0);
      throw err;
    }
    state = result.state;
    lastHead = result.snapshot.blockNumber;
    emit(opts.telemetry, 'tick', result, performance.now() - t0);
    opts.onTick?.(result);
    return result;
  }

  let loop: Loop | null = null;
  await reconcile(); // before anything is planned
  return {
    account,
    journal,
    reconcile,
    close: () => journal?.close(),
    clients,
    venue,
    reader,
    get state() {
      return state;
    },
    tickOnce,
    async run(runOpts = {}) {
      loop = createLoop({
        mode: config.loop.tickMode,
        intervalMs: config.loop.tickIntervalMs,
        pollMs: Math.min(config.loop.tickIntervalMs, 1_000),
        getBlockNumber: () => clients.publicClient.getBlockNumber({ cacheTime: 0 }),
        runTick: async (block) => {
          await tickOnce(block);
        },
        logger,
        maxTicks: runOpts.maxTicks,
      });
      await loop.run();
    },
    async stop() {
      await loop?.stop();
    },
  };
}
