import type { Hex } from 'viem';
import { privateKeyToAddress } from 'viem/accounts';
import { pino, type Logger } from 'pino';
import { ConfigError, resolveAddresses, rpcOrigin, type ChainAddresses, type KeeperConfig, configSummary } from '../config.js';
import { assess } from '../core/assess.js';
import { fmtEth } from '../core/format.js';
import { fetchChainId } from '../chain/clients.js';
import { readKeystoreFile } from '../chain/keystore.js';
import { createLogger } from '../monitor/logger.js';
import { startAnvil } from '../devnet/anvil.js';
import { readAddressesFile } from './addresses.js';
import { monitoringError, preflight, prepareDirectories, refuseIgnoredSettings } from './preflight.js';
import { adaptiveBand, createKeeper, type Keeper } from './keeper.js';
import { createAlerter, type Alerter } from '../monitor/alerts.js';
import { createLiveRisk } from './live-risk.js';
import { createPriceRecord } from '../backtest/price-record.js';
import { loadPortfolioFile } from '../portfolio/file.js';
import type { Portfolio } from '../portfolio/model.js';
import { portfolioForkDryRun, portfolioKeeperFor, portfolioPreflight, portfolioStatus, portfolioSummary } from './portfolio-commands.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { formatHistory, formatStatus, noJournalText } from './status.js';
import type { TickResult } from './tick.js';
import type { KeeperTelemetry } from '../monitor/telemetry.js';
import { createMetrics } from '../monitor/metrics.js';
import { startHealthServer, type HealthServer } from '../monitor/health-server.js';

/** Where the keeper runs: RPCs, chain, key, addresses; and what to tear down at the end. */
export interface Runtime {
  rpcUrls: string[];
  chainId: number;
  privateKey: Hex;
  /** The single-asset keeper's addresses (a portfolio's are in its file). */
  addresses: ChainAddresses;
  /** PORTFOLIO_FILE, or the embedded multi-asset demo's; null = the single-asset keeper. */
  portfolio: Portfolio | null;
  /** The embedded demo's Hyperliquid agent key (a live keeper's comes from HYPERLIQUID_AGENT_KEY). */
  hyperliquidSigningKey?: Hex;
  embedded: boolean;
  close(): Promise<void>;
}

function unreachable(url: string, err: unknown): Error {
  const origin = rpcOrigin(url);
  const why = err instanceof Error ? (err as { shortMessage?: string }).shortMessage ?? err.message : String(err);
  return new Error(`RPC_URLS: cannot reach ${origin} (${why.split('\n')[0]}); nothing was sent`, { cause: err });
}

/** The live runtime: configured RPCs, the configured key, the configured addresses. */
async function liveRuntime(config: KeeperConfig): Promise<Runtime> {
  const urls = [...config.chain.rpcUrls];
  let chainId: number | undefined;
  let lastError: unknown;
  for (const url of urls) {
    try {
      chainId = await fetchChainId(url);
      break;
    } catch (err) {
      lastError = unreachable(url, err);
    }
  }
  if (chainId === undefined) throw lastError;
  if (config.chain.chainId !== null && config.chain.chainId !== chainId) {
    throw new Error(`CHAIN_ID=${config.chain.chainId}: the RPC serves chain ${chainId}; refusing to run on the wrong chain`);
  }
  const privateKey =
    config.signer.kind === 'keystore'
      ? readKeystoreFile(config.signer.keystorePath, config.secrets.keystorePassword ?? '')
      : config.secrets.privateKey;
  if (!privateKey) throw new Error('PRIVATE_KEY: no signing key configured');
  if (config.portfolioFile !== null) {
    // The portfolio file names every address; the single-asset ones are not used (config refused them).
    const portfolio = loadPortfolioFile(config.portfolioFile);
    return { rpcUrls: urls, chainId, privateKey, addresses: NO_ADDRESSES, portfolio, embedded: false, close: async () => {} };
  }
  const fromFile = config.addressesFile ? readAddressesFile(config.addressesFile) : {};
  return { rpcUrls: urls, chainId, privateKey, addresses: resolveAddresses(config, fromFile), portfolio: null, embedded: false, close: async () => {} };
}

/** A portfolio keeper reads its addresses from its file: the single-asset ones stay unset. */
const NO_ADDRESSES = Object.freeze({}) as ChainAddresses;

/** No RPC configured: start the devnet (and its market driver), sign as the venue's demo account. */
async function embeddedRuntime(config: KeeperConfig, logger: Logger, opts: { drive: boolean; seed?: number }): Promise<Runtime> {
  const { startEmbeddedDevnet } = await import('./embedded.js');
  return startEmbeddedDevnet(config, logger, opts);
}

/** `seed` is the embedded demo's price path (`--seed`); a live chain has no price path to seed. */
export async function resolveRuntime(config: KeeperConfig, logger: Logger, opts: { drive: boolean; seed?: number }): Promise<Runtime> {
  if (config.chain.rpcUrls.length > 0 && opts.seed !== undefined) {
    throw new ConfigError([`--seed ${opts.seed}: seeds the embedded demo's market, but RPC_URLS is set (a real chain has no price path to seed); drop --seed or unset RPC_URLS`]);
  }
  if (config.chain.rpcUrls.length === 0 && config.portfolioFile !== null) {
    throw new ConfigError([`PORTFOLIO_FILE=${config.portfolioFile}: needs RPC_URLS (the chain its addresses are on); the embedded demo has its own portfolio: unset PORTFOLIO_FILE to run it`]);
  }
  return config.chain.rpcUrls.length > 0 ? liveRuntime(config) : embeddedRuntime(config, logger, opts);
}

function loggerFor(config: KeeperConfig, bindings: Record<string, unknown> = {}, alerter?: Alerter, toStderr = false): Logger {
  const secrets = [config.secrets.privateKey, config.secrets.keystorePassword].filter((s): s is string => Boolean(s));
  return createLogger({
    level: config.loop.logLevel,
    format: config.loop.logFormat,
    bindings,
    secrets,
    // API keys live in RPC and webhook URLs: lines show them by origin only.
    rpcUrls: [...config.chain.rpcUrls, config.safety.alertWebhookUrl ?? ''],
    onLine: alerter?.onLine,
    // Commands whose stdout is the product (status, history) log to stderr.
    ...(toStderr ? { destination: pino.destination({ dest: 2, sync: true }) } : {}),
  });
}

/** ALERT_WEBHOOK_URL set: alerts derived from the log's events, delivered in the background. */
function alerterFor(config: KeeperConfig): Alerter | undefined {
  const url = config.safety.alertWebhookUrl;
  if (!url) return undefined;
  return createAlerter({ url, largeActionUsd: Number(config.safety.alertLargeActionUsdE8 / 10n ** 8n), label: 'keeper' });
}

async function keeperFor(
  config: KeeperConfig, rt: Runtime, logger: Logger, dryRun: boolean, rpcUrls = rt.rpcUrls, telemetry?: KeeperTelemetry,
  journal?: Journal | null, adoptHistory = false,
): Promise<Keeper> {
  // A real chain's prices are kept (DATA_DIR/prices.jsonl) so volatility survives restarts; the
  // embedded devnet is new each run.
  const fastHalfLifeSec = config.policy.band?.volFastHalfLifeSec;
  const risk = createLiveRisk(rt.embedded ? { fastHalfLifeSec } : { fastHalfLifeSec, record: createPriceRecord({ dataDir: config.loop.dataDir }) });
  return createKeeper({ config, rpcUrls, chainId: rt.chainId, privateKey: rt.privateKey, addresses: rt.addresses, logger, dryRun, telemetry, journal, risk,
    // The embedded devnet and a fork's throwaway journal are new with their chain: nothing to explain.
    adoptHistory: adoptHistory || rt.embedded || journal?.path === ':memory:' });
}

/** METRICS_PORT set: Prometheus /metrics and /healthz for the daemon; otherwise nothing listens. */
async function startMonitoring(config: KeeperConfig, logger: Logger, portfolio: Portfolio | null): Promise<{ telemetry?: KeeperTelemetry; server: HealthServer | null }> {
  const port = config.loop.metricsPort;
  if (port === null) return { server: null };
  // The venue labels every series (one dashboard over several keepers); the cap feeds the "daily cap near" alert.
  // A portfolio's series carry their own asset and venue labels.
  const metrics = portfolio
    ? createMetrics({})
    : createMetrics({ labels: { venue: config.venue }, maxNotionalPerDayUsdE8: config.guard.maxNotionalPerDayUsdE8 });
  const server = await startHealthServer({ port, host: config.loop.metricsHost, metrics, maxTickAgeSec: config.loop.healthMaxTickAgeSec });
  logger.info({ event: 'metrics.started', url: server.url }, `metrics on ${server.url}/metrics, health on ${server.url}/healthz`);
  return { telemetry: metrics, server };
}

/** `--dry-run=fork`: one tick, executed for real on a throwaway anvil fork; report the after-state. */
async function forkDryRun(config: KeeperConfig, rt: Runtime, logger: Logger): Promise<number> {
  const fork = await startAnvil({ forkUrl: rt.rpcUrls[0] as string, chainId: rt.chainId });
  try {
    // The fork's transactions are throwaway: they must not enter the real journal.
    const keeper = await keeperFor(config, rt, logger, false, [fork.rpcUrl], undefined, openJournal(':memory:'));
    const result = await keeper.tickOnce();
    // The fork mines what the tick sent: wait for it, then read the after-state.
    await keeper.settle({ timeoutMs: 60_000 });
    // The same band as the tick (an adaptive band is not the fixed one assess defaults to).
    const after = assess(await keeper.reader.read(), config.policy, { bandWei: result.assessment.bandWei });
    let gasUsed = 0n;
    for (const t of result.results.flatMap((r) => r.txs)) {
      if (t.status === 'mined') gasUsed += t.gasUsed;
      else if (t.status === 'sent') gasUsed += (await keeper.clients.publicClient.getTransactionReceipt({ hash: t.hash })).gasUsed;
    }
    logger.info(
      {
        event: 'dry_run.fork',
        actions: result.plan.actions,
        outcomes: result.results.map((r) => ({ kind: r.action.kind, outcome: r.outcome, reason: r.reason })),
        before: { deltaEth: fmtEth(result.assessment.netDeltaWei), ratio: result.assessment.collateral.ratio.toFixed(4), inBand: result.assessment.inBand },
        after: { deltaEth: fmtEth(after.netDeltaWei), ratio: after.collateral.ratio.toFixed(4), inBand: after.inBand },
        gasUsed,
      },
      `fork dry-run: ${result.plan.actions.length} action(s); delta ${fmtEth(result.assessment.netDeltaWei)} -> ${fmtEth(after.netDeltaWei)} ETH, ` +
        `ratio ${result.assessment.collateral.ratio.toFixed(4)} -> ${after.collateral.ratio.toFixed(4)}, gas ${gasUsed}; the real chain is untouched`,
    );
    return result.results.some((r) => r.outcome === 'failed' || r.outcome === 'blocked') ? 1 : 0;
  } finally {
    await fork.stop();
  }
}

export async function runCommand(
  config: KeeperConfig,
  opts: { dryRun: 'simulate' | 'fork' | null; maxTicks?: number; seed?: number; adoptHistory?: boolean },
): Promise<number> {
  refuseIgnoredSettings(config);
  const alerter = alerterFor(config);
  const boot = loggerFor(config, {}, alerter);
  const rt = await resolveRuntime(config, boot, { drive: true, seed: opts.seed });
  const logger = boot.child({ chainId: rt.chainId });
  let monitoring: HealthServer | null = null;
  let keeper: Pick<Keeper, 'run' | 'stop' | 'failedTicks' | 'close'> | null = null;
  try {
    const account = privateKeyToAddress(rt.privateKey);
    if (!rt.embedded) {
      // Wrong chain, an address without code or not answering: exit 2 naming it, before any tick.
      if (rt.portfolio) await portfolioPreflight(config.portfolioFile ?? 'keeper.yaml', rt.portfolio, rt);
      else await preflight({ config, rpcUrls: rt.rpcUrls, chainId: rt.chainId, account, addresses: rt.addresses });
      prepareDirectories(config, { journal: opts.dryRun === null });
    }
    if (opts.dryRun === 'fork') return rt.portfolio ? await portfolioForkDryRun(config, { ...rt, portfolio: rt.portfolio }, logger) : await forkDryRun(config, rt, logger);
    const log = logger.child({ account });
    // --- metrics + /healthz (METRICS_PORT) ---
    const { telemetry, server } = await startMonitoring(config, log, rt.portfolio).catch((err: unknown) => {
      throw monitoringError(config, err);
    });
    monitoring = server;
    // The embedded devnet is new each run: a journal kept across runs would describe another chain.
    const journal = rt.embedded && opts.dryRun === null ? openJournal(':memory:') : undefined;
    keeper = rt.portfolio
      ? await portfolioKeeperFor(config, { ...rt, portfolio: rt.portfolio }, log, opts.dryRun === 'simulate', { telemetry, journal, adoptHistory: opts.adoptHistory ?? false })
      : await keeperFor(config, rt, log, opts.dryRun === 'simulate', rt.rpcUrls, telemetry, journal, opts.adoptHistory ?? false);
    const running = keeper;
    const what = rt.portfolio ? `portfolio ${rt.portfolio.assets.map((a) => a.id).join(' + ')} on ${rt.portfolio.venues.map((v) => v.id).join(' + ')}` : `${config.venue} venue`;
    log.info(
      {
        event: 'keeper.started', dryRun: opts.dryRun, embedded: rt.embedded, config: configSummary(config),
        ...(rt.portfolio ? { portfolio: portfolioSummary(rt.portfolio) } : { venue: config.venue }),
      },
      `keeper started on chain ${rt.chainId} (${what}${opts.dryRun ? ', dry-run' : ''}${rt.embedded ? ', embedded devnet' : ''})`,
    );
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      log.info({ event: 'keeper.stopping', signal }, `${signal}: finishing the in-flight tick, then stopping`);
      void running.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    await running.run({ maxTicks: opts.maxTicks });
    // A bounded run (--max-ticks: scripts, CI, cron) reports failed ticks in its exit code.
    const failedTicks = running.failedTicks;
    log.info({ event: 'keeper.stopped', failedTicks }, failedTicks > 0 ? `keeper stopped; ${failedTicks} tick(s) failed` : 'keeper stopped');
    return opts.maxTicks !== undefined && failedTicks > 0 ? 1 : 0;
  } finally {
    keeper?.close();
    await monitoring?.close();
    await rt.close();
    await alerter?.flush();
  }
}

export async function statusCommand(config: KeeperConfig, opts: { json: boolean }): Promise<number> {
  const logger = loggerFor(config, {}, undefined, true);
  const rt = await resolveRuntime(config, logger, { drive: false });
  try {
    if (rt.portfolio) {
      process.stdout.write(`${await portfolioStatus(config, { ...rt, portfolio: rt.portfolio }, logger, opts.json)}\n`);
      return 0;
    }
    const keeper = await keeperFor(config, rt, logger, true);
    keeper.close();
    const snapshot = await keeper.reader.read();
    // The band the keeper would use (BAND_MODE), not only the fixed one.
    const band = adaptiveBand(config, createLiveRisk({ fastHalfLifeSec: config.policy.band?.volFastHalfLifeSec }))(snapshot);
    const assessment = assess(snapshot, config.policy, band ? { bandWei: band.bandWei } : undefined);
    const text = opts.json
      ? JSON.stringify({ snapshot, assessment }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)
      : formatStatus(snapshot, assessment, { embedded: rt.embedded });
    process.stdout.write(`${text}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}

export async function devnetCommand(opts: { out: string; drive: boolean; blockTimeSec?: number; port?: number; logger: Logger }): Promise<number> {
  const { serveDevnet } = await import('../devnet/serve.js');
  const devnet = await serveDevnet({ addressesOut: opts.out, drive: opts.drive, blockTimeSec: opts.blockTimeSec, port: opts.port, logger: opts.logger });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await devnet.stop();
  return 0;
}

export type { TickResult };

/** `keeper history`: the newest intents of the journal with their transactions. */
export async function historyCommand(config: KeeperConfig, opts: { limit: number; json: boolean }): Promise<number> {
  const { existsSync } = await import('node:fs');
  const path = config.safety.journalPath;
  if (!existsSync(path)) {
    process.stdout.write(`${noJournalText(path, config.chain.rpcUrls.length === 0)}\n`);
    return 0;
  }
  const journal = openJournal(path, Date.now, { lock: false }); // read beside a running keeper
  try {
    const rows = journal.recentIntents(opts.limit).map((i) => {
      const orders = journal.orders.ofIntent(i.id);
      return { ...i, txs: journal.txsOfIntent(i.id).map(({ raw: _raw, ...t }) => t), ...(orders.length ? { orders } : {}) };
    });
    process.stdout.write(`${opts.json ? JSON.stringify(rows, null, 2) : formatHistory(rows)}\n`);
    return 0;
  } finally {
    journal.close();
  }
}
