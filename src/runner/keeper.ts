import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { rpcOrigin, type ChainAddresses, type KeeperConfig } from '../config.js';
import type { Address, HedgeVenueKind } from '../core/types.js';
import { initialPolicyState } from '../core/policy.js';
import { initialGuardState, utcDay } from '../core/guard.js';
import { createOracleChecker } from '../core/oracle-check.js';
import { createClients, type Clients } from '../chain/clients.js';
import { createExecutor } from '../chain/executor.js';
import { createSnapshotReader, type SnapshotReader } from '../chain/snapshot.js';
import { createPerpVenue } from '../venues/perp.js';
import { createAaveVenue } from '../venues/aave.js';
import type { HedgeVenue } from '../venues/types.js';
import { createLoop, type Loop } from './loop.js';
import { emit, type KeeperTelemetry } from '../monitor/telemetry.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { createPendingQueue, type PendingQueue, type ReconcileReport } from '../journal/reconcile.js';
import { createTxSender } from '../chain/sender.js';
import { absBig, fmtPriceE8, weiToUsdE8 } from '../core/format.js';
import type { TxCost, TxEventKind } from '../monitor/telemetry.js';
import { createLiveRisk, type LiveRisk } from './live-risk.js';
import { bandModeNeedsGamma, bandWeiFor, lpGammaBasePerUsd } from '../core/band-policy.js';
import { exposures } from '../core/exposure.js';
import { describeOutcome, tick, type ActionResult, type RunnerState, type TickDeps, type TickResult } from './tick.js';
import type { TxOutcome } from '../chain/executor.js';

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
  const risk = opts.risk ?? createLiveRisk({ fastHalfLifeSec: config.policy.band?.volFastHalfLifeSec });
  await risk.load();
  const journal = opts.journal !== undefined ? opts.journal : opts.dryRun ? null : openJournal(config.safety.journalPath);
  const onTx = (kind: TxEventKind, label: string, cost?: TxCost) => emit(opts.telemetry, 'tx', kind, label, cost);
  const sender = opts.dryRun || !journal ? null : createTxSender({ clients, logger, journal, maxFeeCeilingWei: config.guard.maxGasPriceWei, onTx });
  const executor = createExecutor({ clients, logger, allowList: venue.allowList(), dryRun: opts.dryRun, onTx, sender });
  const queue =
    journal && sender
      ? createPendingQueue({
          journal,
          sender,
          publicClient: clients.publicClient,
          account,
          logger,
          replaceAfterBlocks: config.safety.replaceAfterBlocks,
          maxFeeCeilingWei: config.guard.maxGasPriceWei,
          rpcOrigins: opts.rpcUrls.map((u) => rpcOrigin(u)),
          adoptHistory: opts.adoptHistory,
          onTx,
          escalateAfterTicks: opts.escalateAfterTicks,
        })
      : null;
  let state: RunnerState = { policy: initialPolicyState(), guard: initialGuardState(Math.floor(Date.now() / 1000)) };
  let pinnedBlock: bigint | undefined;
  /** The newest block the keeper knows of (heads, reads, its own receipts): no read may be older. */
  let knownBlock = 0n;
  /** Hedges that failed on chain in a row: after two, hedging backs off (longer each time). */
  let hedgeFailures = { count: 0, untilBlock: 0n };
  const escalation = createEscalation(logger, opts.escalateAfterTicks ?? 3);

  const deps: TickDeps = {
    readSnapshot: () => reader.read(pinnedBlock),
    policy: config.policy,
    guard: config.guard,
    logger,
    checkSanity: oracleSanity(config),
    riskFigures: (snapshot, assessment) => risk.figures(snapshot, assessment),
    bandFor: adaptiveBand(config, risk),
    gate(snapshot) {
      const known = maxOf(knownBlock, queue?.state.lastMinedBlock ?? 0n);
      const stale =
        snapshot.blockNumber < known
          ? `stale read: block ${snapshot.blockNumber} is older than block ${known} the keeper already knows${queue?.state.lastMinedBlock === known ? ' (its own last mined transaction)' : ''}`
          : null;
      knownBlock = maxOf(knownBlock, snapshot.blockNumber);
      escalation.condition('stale', stale);
      const q = queue?.state;
      const hold = stale ?? q?.alarms[0] ?? q?.hold ?? (q?.pendingKinds.includes('topUp') ? 'a top-up is still waiting for the chain' : null);
      const hedgeHold = q?.pendingKinds.includes('adjustHedge')
        ? 'a hedge is still waiting for the chain'
        : hedgeFailures.count >= 2 && snapshot.blockNumber < hedgeFailures.untilBlock
          ? `${hedgeFailures.count} hedges in a row failed on chain: backing off until block ${hedgeFailures.untilBlock}`
          : null;
      return { hold, hedgeHold, stale };
    },
    spentToday: journal
      ? (nowSec) => {
          // Counted from the journal every tick: every mined or pending transaction, whatever its
          // intent's label, and across restarts.
          const day = utcDay(nowSec);
          const spent = journal.spentSince(opts.chainId, account, day * 86_400);
          return { ...state.guard, day, notionalTodayUsdE8: spent.hedgeNotionalUsdE8, topUpTodayUnits: spent.topUpUnits };
        }
      : undefined,
    beforeSend: queue ? (snapshot) => queue.prove(snapshot.blockNumber) : undefined,
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

  async function reconcile(head?: bigint): Promise<ReconcileReport | null> {
    if (!queue) return null;
    const report = await queue.drive(head ?? (() => clients.publicClient.getBlockNumber({ cacheTime: 0 })), knownBlock > 0n ? knownBlock : undefined);
    if (report.reorged > 0) {
      // The hedge the cooldown counts from is gone: replan now.
      state = { ...state, policy: { ...state.policy, lastHedgeAtSec: null } };
    }
    for (const f of report.finished) emit(opts.telemetry, 'actionSettled', f.kind, f.status);
    for (const f of report.finished.filter((x) => x.kind === 'adjustHedge')) {
      if (f.status === 'done') {
        hedgeFailures = { count: 0, untilBlock: 0n };
        continue;
      }
      // A hedge that did not happen does not start the cooldown...
      state = { ...state, policy: { ...state.policy, lastHedgeAtSec: null } };
      // ...but one that keeps failing on chain must not be retried every tick (an Aave borrow
      // mined and its sale reverted leaves the borrowed WETH in the wallet: retrying borrows again).
      if (f.status === 'failed') {
        hedgeFailures = { count: hedgeFailures.count + 1, untilBlock: knownBlock + HEDGE_FAILURE_BACKOFF_BLOCKS * BigInt(hedgeFailures.count + 1) };
        if (hedgeFailures.count >= 2) {
          logger.error(
            { event: 'safe_mode.entered', reason: `${hedgeFailures.count} hedges in a row failed on chain`, cause: 'hedge-failures' },
            `safe mode: ${hedgeFailures.count} hedges in a row failed on chain: no new hedge before block ${hedgeFailures.untilBlock}`,
          );
        }
      }
    }
    if (report.settled + report.abandoned + report.dropped + report.reorged + report.replaced > 0) {
      logger.info({ event: 'journal.reconciled', ...report }, 'journal reconciled with the chain');
    }
    return report;
  }

  let failedTicks = 0;
  async function tickOnce(blockNumber?: bigint): Promise<TickResult> {
    pinnedBlock = blockNumber;
    const t0 = performance.now();
    let result: TickResult;
    try {
      // The queue is driven at the block the loop saw (or, in interval mode, the last read's).
      await reconcile(blockNumber);
      result = await tick(deps, state);
      // What was just sent may already be mined (automining chains, fast blocks): settle it now.
      if (queue && journal && result.results.some((r) => r.outcome === 'pending')) {
        await queue.settleMined(opts.settleWaitMs ?? 0);
        result = { ...result, results: result.results.map((r) => (r.outcome === 'pending' ? withSettled(r, journal) : r)) };
      }
    } catch (err) {
      failedTicks++;
      escalation.failure(err);
      emit(opts.telemetry, 'tickFailed', err, performance.now() - t0);
      throw err;
    }
    escalation.success();
    state = result.state;
    emit(opts.telemetry, 'tick', result, performance.now() - t0);
    opts.onTick?.(result);
    return result;
  }

  async function settle(o: { timeoutMs?: number } = {}): Promise<void> {
    if (!queue) return;
    const until = Date.now() + (o.timeoutMs ?? 30_000);
    for (;;) {
      await reconcile();
      if (queue.state.pendingKinds.length === 0) return;
      if (Date.now() > until) throw new Error(`settle: still waiting for ${queue.state.pendingKinds.join(', ')} after ${o.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let loop: Loop | null = null;
  let staleHeadSaid = false;
  let lastHeadTicked: bigint | null = null;
  let lastStaleHead: bigint | null = null;
  await reconcile(); // before anything is planned
  return {
    account,
    journal,
    reconcile: () => reconcile(),
    settle,
    queue,
    get failedTicks() {
      return failedTicks;
    },
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
        getBlockNumber: async () => {
          const head = await clients.publicClient.getBlockNumber({ cacheTime: 0 });
          // The highest head any endpoint showed counts too: a tick whose read failed at it must
          // not make a replica behind it look new.
          const known = maxOf(maxOf(knownBlock, lastHeadTicked ?? 0n), queue?.state.lastMinedBlock ?? 0n);
          if (head < known) {
            // A node behind what we already know (a frozen or lagging replica; our own hedge was
            // mined in a later block): no tick on it, and say so once, not silence.
            const reason = `stale head: the RPC's head ${head} is behind block ${known} the keeper already knows${queue?.state.lastMinedBlock === known ? ' (its own last mined transaction)' : ''}; holding until it catches up`;
            if (!staleHeadSaid) logger.warn({ event: 'chain.stale', head, known }, reason);
            staleHeadSaid = true;
            // Counted once per head the endpoint shows, not per poll: a replica a block behind for
            // a few polls is not yet a persistent failure.
            if (head !== lastStaleHead) escalation.condition('stale', reason);
            lastStaleHead = head;
            return lastHeadTicked ?? head;
          }
          if (staleHeadSaid) logger.info({ event: 'chain.caught_up', head }, `the RPC's head ${head} caught up`);
          staleHeadSaid = false;
          lastHeadTicked = head;
          return head;
        },
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

/** An action's outcome with what the journal now knows of its sent transactions. */
function withSettled(r: ActionResult, journal: Journal): ActionResult {
  const txs: TxOutcome[] = r.txs.map((t) => {
    if (t.status !== 'sent') return t;
    const row = journal.tx(t.hash);
    if (row?.status === 'mined') return { status: 'mined', label: t.label, hash: t.hash, gasUsed: BigInt(row.gasUsed ?? '0'), blockNumber: BigInt(row.block ?? '0') };
    if (row?.status === 'reverted') return { status: 'reverted', label: t.label, stage: 'chain', reason: 'reverted on chain', hash: t.hash };
    return t;
  });
  return { ...r, txs, ...describeOutcome(txs) };
}

/** Blocks a hedge backs off per consecutive on-chain failure (after the second). */
const HEDGE_FAILURE_BACKOFF_BLOCKS = 10n;

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** What a failure is about, for counting repeats: the journal, the RPC, or the error's first line. */
function failureCause(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.code?.startsWith?.('SQLITE') || /SqliteError|journal/i.test(`${e?.name} ${e?.message}`)) return `journal (${e.code ?? e.name})`;
  if (/HttpRequestError|TimeoutError|RpcRequestError|fetch failed|ECONNREFUSED/i.test(`${e?.name} ${e?.message}`)) return 'RPC';
  return (e?.message ?? String(err)).split('\n')[0]?.slice(0, 120) ?? 'error';
}

/**
 * Failures and doubtful conditions that repeat escalate: after N consecutive ticks, a
 * `safe_mode.entered` line (alerted) naming the cause; `safe_mode.left` when it clears.
 */
function createEscalation(logger: Logger, afterTicks: number) {
  const counts = new Map<string, { n: number; reason: string; raised: boolean }>();
  function raise(key: string, reason: string): void {
    const c = counts.get(key) ?? { n: 0, reason, raised: false };
    c.n++;
    c.reason = reason;
    counts.set(key, c);
    if (c.n >= afterTicks && !c.raised) {
      c.raised = true;
      logger.error({ event: 'safe_mode.entered', reason: `${reason} (${c.n} ticks in a row)`, cause: key }, `safe mode: ${reason} (${c.n} ticks in a row)`);
    }
  }
  function clear(key: string): void {
    const c = counts.get(key);
    if (c?.raised) logger.info({ event: 'safe_mode.left', was: c.reason, cause: key }, `safe mode left: ${key} recovered`);
    counts.delete(key);
  }
  return {
    condition(key: string, reason: string | null) {
      if (reason) raise(key, reason);
      else clear(key);
    },
    failure(err: unknown) {
      const cause = failureCause(err);
      for (const key of [...counts.keys()]) if (key.startsWith('failure:') && key !== `failure:${cause}`) clear(key);
      raise(`failure:${cause}`, `tick failing: ${cause}`);
    },
    success() {
      for (const key of [...counts.keys()]) if (key.startsWith('failure:')) clear(key);
    },
  };
}
