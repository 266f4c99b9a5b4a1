import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { KeeperConfig } from '../config.js';
import type { Address } from '../core/types.js';
import { utcDay } from '../core/guard.js';
import { priceContextOf, type ModelOf } from '../core/portfolio/assess.js';
import { initialPortfolioPolicyState } from '../core/portfolio/plan.js';
import { initialPortfolioGuardState } from '../core/portfolio/guard.js';
import type { Clients } from '../chain/clients.js';
import type { TxOutcome } from '../chain/executor.js';
import { createPortfolioSnapshotReader, type PortfolioSnapshotReader } from '../chain/portfolio-snapshot.js';
import type { Journal } from '../journal/journal.js';
import type { PendingQueue, ReconcileReport } from '../journal/reconcile.js';
import { emit, type KeeperTelemetry } from '../monitor/telemetry.js';
import type { Portfolio, PortfolioSnapshot } from '../portfolio/model.js';
import { venueModel } from '../venues/models.js';
import { createHyperliquidDesk, createHyperliquidDesks, type HyperliquidDesk, type HyperliquidDeskOptions } from '../venues/hyperliquid-desk.js';
import { buildPortfolioAction, createPortfolioVenues, portfolioAllowList, portfolioTxBoundsContext, type PortfolioVenue } from '../venues/portfolio-venues.js';
import { createKeeperShell, createShellClients } from './keeper-shell.js';
import { createPortfolioSanity, type PortfolioDoubts } from './portfolio-sanity.js';
import { withSettled } from './tick.js';
import { dirname } from 'node:path';
import { createPortfolioRisk, legacyPriceRecordMigration, portfolioPriceRecords, type PortfolioRisk } from './portfolio-risk.js';
import { createPnlStore } from './portfolio-pnl-store.js';
import { createPnlAttribution, pnlTickOf, setCurrentPnlAttribution, type PnlAttribution } from './portfolio-pnl.js';
import {
  hedgeNotionalUsdE8,
  portfolioTick,
  type PortfolioRunnerState,
  type PortfolioTickDeps,
  type PortfolioTickResult,
} from './portfolio-tick.js';

/**
 * The portfolio keeper: every asset, pool and venue of a `Portfolio` read in one call per tick
 * and hedged by one signer, under the same shell as the single-asset keeper (journal, pending
 * queue, freshness gate, escalation, block loop). Venues are reached only through their model
 * (decisions) and their adapter (transactions).
 */

/** Seconds a feed round may be late past its heartbeat before the asset's price is doubted. */
export const HEARTBEAT_GRACE_SEC = 300;

export interface PortfolioKeeperOptions {
  config: KeeperConfig;
  portfolio: Portfolio;
  rpcUrls: readonly string[];
  chainId: number;
  privateKey: Hex;
  /** Uniswap V3 NonfungiblePositionManager whose positions in the portfolio's pools are spot; default: the portfolio file's. */
  positionManager?: Address;
  logger: Logger;
  dryRun: boolean;
  onTick?: (result: PortfolioTickResult) => void;
  telemetry?: KeeperTelemetry;
  journal?: Journal | null;
  adoptHistory?: boolean;
  escalateAfterTicks?: number;
  settleWaitMs?: number;
  /** The live risk engine; default: one over the portfolio's assets, its record in riskRecordDir. */
  risk?: PortfolioRisk;
  /**
   * Where the per-asset price records live (portfolio-prices-<asset>.jsonl); null = in memory only.
   * Default: beside the journal (JOURNAL_PATH's directory, DATA_DIR by default); none with an in-memory journal
   * (the embedded devnet, a fork dry-run: their chain is new each run).
   */
  riskRecordDir?: string | null;
  /** The key that signs Hyperliquid orders; default HYPERLIQUID_AGENT_KEY, else privateKey. */
  hyperliquidSigningKey?: Hex;
  /** Hyperliquid desks' back-off and deposit credit timeout (tests). */
  hyperliquid?: Pick<HyperliquidDeskOptions, 'backoff' | 'creditTimeoutMs' | 'now'>;
}

export interface PortfolioKeeper {
  readonly account: Address;
  readonly clients: Clients;
  readonly portfolio: Portfolio;
  readonly reader: PortfolioSnapshotReader;
  readonly venues: Readonly<Record<string, PortfolioVenue>>;
  /** One desk per Hyperliquid venue: its orders, drift and deposits in flight. */
  readonly desks: Readonly<Record<string, HyperliquidDesk>>;
  readonly modelOf: ModelOf;
  /** What the keeper would doubt in this read (feeds, pools, venue accounts); it remembers the highest feed rounds seen. */
  readonly sanity: (snapshot: PortfolioSnapshot) => PortfolioDoubts;
  readonly state: PortfolioRunnerState;
  readonly queue: PendingQueue | null;
  readonly journal: Journal | null;
  readonly failedTicks: number;
  /** VaR/ES, vols, correlations; loaded from its record before the first tick. */
  readonly risk: PortfolioRisk;
  /** Where the money goes, tick to tick: since start and the last 24 h, kept beside the price records so a restart resumes them. */
  readonly pnl: PnlAttribution;
  tickOnce(blockNumber?: bigint): Promise<PortfolioTickResult>;
  run(opts?: { maxTicks?: number }): Promise<void>;
  stop(): Promise<void>;
  reconcile(): Promise<ReconcileReport | null>;
  settle(opts?: { timeoutMs?: number }): Promise<void>;
  close(): void;
}

export async function createPortfolioKeeper(opts: PortfolioKeeperOptions): Promise<PortfolioKeeper> {
  const { config, portfolio, logger } = opts;
  const clients = createShellClients(opts);
  const account = clients.walletClient.account.address;
  const venues = await createPortfolioVenues({ portfolio, publicClient: clients.publicClient });
  const modelOf: ModelOf = venueModel;
  const positionManager = opts.positionManager ?? portfolio.positionManager;
  if (!positionManager) throw new Error('portfolio: no positionManager (the Uniswap V3 NonfungiblePositionManager whose LP positions are spot) in the portfolio file');
  const reader = createPortfolioSnapshotReader({ publicClient: clients.publicClient, account, portfolio, multicall3: config.chain.multicall3, positionManager });
  const nowSec = Math.floor(Date.now() / 1000);
  let state: PortfolioRunnerState = { policy: initialPortfolioPolicyState(), guard: initialPortfolioGuardState(nowSec) };
  const shell = createKeeperShell({
    ...opts,
    clients,
    allowList: portfolioAllowList(venues),
    hooks: { resetCooldown: () => (state = { ...state, policy: { ...state.policy, lastHedgeAtSecByAsset: {} } }) },
  });
  const { journal, queue, executor } = shell;
  const sanity = createPortfolioSanity(portfolio, {
    maxPoolDeviationBps: config.safety.maxPoolDeviationBps,
    // A feed's round can land a little after its heartbeat (network and node delay): stale only
    // past heartbeat + 5 minutes, not at the heartbeat's exact second.
    heartbeatGraceSec: HEARTBEAT_GRACE_SEC,
    venueCheck: (id, s) => {
      if (deskDoubts[id]) return deskDoubts[id]!;
      const spec = portfolio.venues.find((v) => v.id === id);
      const acct = s.venues[id];
      if (!spec || !acct) return null;
      return modelOf(spec).consistency?.(spec, acct, priceContextOf(portfolio, s)) ?? null;
    },
  });
  const desks = createHyperliquidDesks(portfolio, (spec) =>
    createHyperliquidDesk({
      spec, portfolio, journal, chainId: opts.chainId, account, logger, dryRun: opts.dryRun, ...opts.hyperliquid,
      signingKey: opts.hyperliquidSigningKey ?? config.secrets.hyperliquidAgentKey ?? opts.privateKey,
    }),
  );
  /** What each desk doubts this tick (an order of unknown fate, a deposit never credited). */
  let deskDoubts: Record<string, string> = {};
  async function readSnapshot(): Promise<PortfolioSnapshot> {
    const s = await reader.read(pinnedBlock);
    deskDoubts = {};
    if (Object.keys(desks).length === 0) return s;
    const venuesRead = { ...s.venues };
    for (const [id, desk] of Object.entries(desks)) {
      const acct = venuesRead[id];
      if (acct?.kind !== 'hyperliquid') continue;
      const { account: prepared, doubt } = await desk.prepare(acct);
      venuesRead[id] = prepared;
      if (doubt) deskDoubts[id] = doubt;
    }
    return { ...s, venues: venuesRead };
  }
  let pinnedBlock: bigint | undefined;
  const recordDir = riskRecordDirOf(opts, journal);
  const risk = opts.risk ?? createPortfolioRisk({
    assets: portfolio.assets, pools: portfolio.pools, quote: portfolio.quote,
    record: recordDir === null ? undefined : portfolioPriceRecords(recordDir, portfolio.assets, opts.chainId),
    // Records from before they were keyed by chain: adopted once if their last block is this chain's.
    migrate: recordDir === null ? undefined : legacyPriceRecordMigration(recordDir, portfolio.assets, opts.chainId, async (o) =>
      (await clients.publicClient.getBlock({ blockNumber: o.blockNumber })).timestamp === o.timeSec),
  });
  if (!opts.risk) await risk.load();
  const pnl = createPnlAttribution({
    portfolio,
    // Sent in one tick, mined in a later block: counted in the interval that sees it mined.
    settle: (r) => (journal ? withSettled(r, journal) : r),
    logger,
    // Beside the price records, per chain and account: a restart resumes since-start and the last 24 h.
    store: recordDir === null ? undefined : createPnlStore({ dataDir: recordDir, chainId: opts.chainId, account, warn: (msg, fields) => logger.warn(fields, msg) }),
    gasCostWei: async (hash) => {
      // A Hyperliquid order's outcome carries its 16-byte cloid, not a transaction: no gas.
      if (hash.length !== 66) return 0n;
      const r = await clients.publicClient.getTransactionReceipt({ hash });
      return r.gasUsed * r.effectiveGasPrice;
    },
  });

  const deps: PortfolioTickDeps = {
    portfolio,
    modelOf,
    logger,
    readSnapshot,
    checkSanity: sanity,
    gate: (s) => shell.gate(s.blockNumber),
    spentToday: journal
      ? (t) => {
          const spent = shell.spentToday(t)!;
          return { day: utcDay(t), notionalByAssetUsdE8: spent.hedgeNotionalByAssetUsdE8, topUpByVenueUnits: spent.topUpByVenueUnits };
        }
      : undefined,
    beforeSend: queue ? (s) => shell.beforeSend(s.blockNumber) : undefined,
    riskFigures: (s, a) => risk.figures(s, a),
    attributePnl: (s) => pnlTickOf(pnl, s),
    async execute(action, assessment, snapshot): Promise<TxOutcome[]> {
      const intent = (plannedTxs: number): number | null =>
        journal?.beginIntent({
          chainId: opts.chainId, account, block: snapshot.blockNumber, action,
          notionalUsdE8: hedgeNotionalUsdE8(action, portfolio, assessment), blockTimeSec: snapshot.blockTimestampSec, plannedTxs,
        }) ?? null;
      const desk = action.kind === 'adjustHedge' ? desks[action.venue] : undefined;
      if (desk && action.kind === 'adjustHedge') return desk.execute(action, snapshot, intent);
      const built = await buildPortfolioAction(action, venues, {
        account,
        publicClient: clients.publicClient,
        snapshot,
        portfolio,
        maxSlippageBps: portfolio.policy.maxSlippageBps,
        blockNumber: snapshot.blockNumber,
      });
      if (built.status === 'refused') {
        const { label, reason } = built;
        logger.warn({ event: 'tx.reverted', stage: 'simulation', label, reason, action: action.kind, block: snapshot.blockNumber }, `${label} would revert: ${reason}`);
        return [{ status: 'reverted', label, stage: 'simulation', reason }];
      }
      const intentId = intent(built.txs.length);
      const outcomes = await executor.run(built.txs, {
        intentId,
        bounds: portfolioTxBoundsContext(portfolio, snapshot, portfolio.policy.maxSlippageBps),
        block: snapshot.blockNumber,
        log: { action: action.kind, venue: action.kind === 'moveCollateral' ? `${action.from}>${action.to}` : action.venue, block: snapshot.blockNumber },
      });
      // A deposit into a Hyperliquid venue is in flight until the venue credits it (its desk counts it).
      const into = action.kind === 'topUp' ? action.venue : action.kind === 'moveCollateral' ? action.to : null;
      const depositDesk = into === null ? undefined : desks[into];
      if (depositDesk && (action.kind === 'topUp' || action.kind === 'moveCollateral')) {
        for (const o of outcomes) if ((o.status === 'sent' || o.status === 'mined') && o.label === `${into}.deposit`) depositDesk.noteDeposit(o.hash, action.amountUnits);
      }
      if (intentId !== null && !outcomes.some((o) => o.status === 'sent')) {
        const last = outcomes[outcomes.length - 1];
        journal?.finishIntent(intentId, 'failed', last && 'reason' in last ? last.reason : 'not completed');
      }
      return outcomes;
    },
  };

  async function tickOnce(blockNumber?: bigint): Promise<PortfolioTickResult> {
    pinnedBlock = blockNumber;
    const t0 = performance.now();
    let result = await shell.tickOnce(blockNumber, () => portfolioTick(deps, state), (r) => r.results.some((x) => x.outcome === 'pending'));
    if (journal && result.results.some((r) => r.outcome === 'pending')) {
      result = { ...result, results: result.results.map((r) => (r.outcome === 'pending' ? withSettled(r, journal) : r)) };
    }
    state = result.state;
    // The actions land before the next read: their flows, fees and gas belong to the next interval.
    pnl.acted(result.results);
    setCurrentPnlAttribution(pnl);
    emit(opts.telemetry, 'portfolioTick', result, performance.now() - t0);
    opts.onTick?.(result);
    return result;
  }

  await shell.reconcile(); // before anything is planned
  return {
    account,
    clients,
    portfolio,
    reader,
    venues,
    desks,
    modelOf,
    sanity,
    risk,
    pnl,
    journal,
    queue,
    get state() {
      return state;
    },
    get failedTicks() {
      return shell.failedTicks;
    },
    tickOnce,
    run: (runOpts = {}) => shell.run(tickOnce, runOpts),
    stop: () => shell.stop(),
    reconcile: () => shell.reconcile(),
    settle: (o) => shell.settle(o),
    close: () => journal?.close(),
  };
}


function riskRecordDirOf(opts: PortfolioKeeperOptions, journal: Journal | null): string | null {
  if (opts.riskRecordDir !== undefined) return opts.riskRecordDir;
  const path = opts.journal !== undefined ? journal?.path : opts.config.safety.journalPath;
  return path === undefined || path === ':memory:' ? null : dirname(path);
}
