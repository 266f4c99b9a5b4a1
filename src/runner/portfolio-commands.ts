import { existsSync } from 'node:fs';
import type { OrderRow } from '../journal/orders.js';
import type { Logger } from 'pino';
import type { KeeperConfig } from '../config.js';
import { fixedToString } from '../core/format.js';
import { assessPortfolio } from '../core/portfolio/assess.js';
import { startAnvil } from '../devnet/anvil.js';
import { openJournal, type Journal } from '../journal/journal.js';
import type { KeeperTelemetry } from '../monitor/telemetry.js';
import type { Portfolio } from '../portfolio/model.js';
import { createPortfolioKeeper, type PortfolioKeeper } from './portfolio-keeper.js';
import { formatPortfolioStatus } from './portfolio-status.js';
import { riskCovarianceOf } from './portfolio-tick.js';
import type { Runtime } from './commands.js';
import { currentPnlAttribution } from './portfolio-pnl.js';

/** The `run`, `status` and `--dry-run=fork` of a portfolio (PORTFOLIO_FILE, or the embedded multi-asset demo). */

export async function portfolioKeeperFor(
  config: KeeperConfig, rt: Runtime & { portfolio: Portfolio }, logger: Logger, dryRun: boolean,
  o: { rpcUrls?: readonly string[]; telemetry?: KeeperTelemetry; journal?: Journal | null; adoptHistory?: boolean } = {},
): Promise<PortfolioKeeper> {
  return createPortfolioKeeper({
    config, portfolio: rt.portfolio, rpcUrls: o.rpcUrls ?? rt.rpcUrls, chainId: rt.chainId, privateKey: rt.privateKey, logger, dryRun,
    telemetry: o.telemetry, journal: o.journal,
    ...(rt.hyperliquidSigningKey ? { hyperliquidSigningKey: rt.hyperliquidSigningKey } : {}),
    // The embedded devnet is new each run: its prices must not join a real chain's record.
    ...(rt.embedded ? { riskRecordDir: null } : {}),
    // The embedded devnet and a fork's throwaway journal are new with their chain: nothing to explain.
    adoptHistory: (o.adoptHistory ?? false) || rt.embedded || o.journal?.path === ':memory:',
  });
}

/** A one-line description of the portfolio for `keeper.started`. */
export function portfolioSummary(p: Portfolio): Record<string, unknown> {
  return {
    assets: p.assets.map((a) => a.id),
    pools: p.pools.map((x) => x.id),
    venues: p.venues.map((v) => `${v.id} (${v.kind})`),
    instruments: p.instruments.map((i) => `${i.id} p${i.priority} w${i.weight}`),
  };
}

/** `--dry-run=fork` of a portfolio: one tick carried out on a throwaway fork; the after-state per asset and venue. */
export async function portfolioForkDryRun(config: KeeperConfig, rt: Runtime & { portfolio: Portfolio }, logger: Logger): Promise<number> {
  const fork = await startAnvil({ forkUrl: rt.rpcUrls[0] as string, chainId: rt.chainId });
  try {
    const keeper = await portfolioKeeperFor(config, rt, logger, false, { rpcUrls: [fork.rpcUrl], journal: openJournal(':memory:') });
    const result = await keeper.tickOnce();
    await keeper.settle({ timeoutMs: 60_000 });
    const after = assessPortfolio(rt.portfolio, await keeper.reader.read(), keeper.modelOf);
    const perAsset = (a: typeof after) => Object.fromEntries(a.assets.map((x) => [x.asset, { delta: fixedToString(x.netUnits, x.decimals, 6), inBand: x.inBand }]));
    const perBucket = (a: typeof after) =>
      Object.fromEntries(a.venues.flatMap((v) => v.buckets.map((b) => [`${v.venue}${b.asset ? `/${b.asset}` : ''}`, fixedToString(b.ratioE18, 18, 4)])));
    let gasUsed = 0n;
    for (const t of result.results.flatMap((r) => r.txs)) {
      if (t.status === 'mined') gasUsed += t.gasUsed;
      else if (t.status === 'sent') gasUsed += (await keeper.clients.publicClient.getTransactionReceipt({ hash: t.hash })).gasUsed;
    }
    keeper.close();
    logger.info(
      {
        event: 'dry_run.fork',
        actions: result.plan.actions,
        outcomes: result.results.map((r) => ({ kind: r.action.kind, outcome: r.outcome, reason: r.reason })),
        before: { assets: perAsset(result.assessment), venues: perBucket(result.assessment) },
        after: { assets: perAsset(after), venues: perBucket(after) },
        gasUsed,
      },
      `fork dry-run: ${result.plan.actions.length} action(s); ` +
        after.assets.map((x, i) => `${x.asset} delta ${fixedToString(result.assessment.assets[i]?.netUnits ?? 0n, x.decimals, 4)} -> ${fixedToString(x.netUnits, x.decimals, 4)}`).join(', ') +
        `, gas ${gasUsed}; the real chain is untouched`,
    );
    return result.results.some((r) => r.outcome === 'failed' || r.outcome === 'blocked') ? 1 : 0;
  } finally {
    await fork.stop();
  }
}

/** `keeper status` of a portfolio: one read, per asset and per venue. */
export async function portfolioStatus(config: KeeperConfig, rt: Runtime & { portfolio: Portfolio }, logger: Logger, json: boolean): Promise<string> {
  const keeper = await portfolioKeeperFor(config, rt, logger, true);
  keeper.close();
  const unsettledOrders = await journaledUnsettledOrders(config, Object.keys(keeper.desks));
  const snapshot = await keeper.reader.read();
  // As the tick does: the risk figures first, then the assessment with their covariance (proxy hedges).
  const risk = keeper.risk.figures(snapshot, assessPortfolio(rt.portfolio, snapshot, keeper.modelOf));
  const assessment = assessPortfolio(rt.portfolio, snapshot, keeper.modelOf, { covariance: riskCovarianceOf(risk) });
  const doubts = keeper.sanity(snapshot);
  // Kept by a keeper running in this process (the embedded shell), else the record a keeper left beside its price records.
  const pnl = currentPnlAttribution()?.report() ?? keeper.pnl.report();
  return json
    ? JSON.stringify({ snapshot, assessment, doubts, risk, pnl, unsettledOrders }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)
    : formatPortfolioStatus(rt.portfolio, snapshot, assessment, doubts, { embedded: rt.embedded, risk, pnl, unsettledOrders });
}

/** Hyperliquid orders of unknown fate in the journal (read beside a running keeper, without its lock). */
async function journaledUnsettledOrders(config: KeeperConfig, venues: readonly string[]): Promise<Record<string, OrderRow[]>> {
  const path = config.safety.journalPath;
  if (venues.length === 0 || path === ':memory:' || !existsSync(path)) return {};
  const journal = openJournal(path, Date.now, { lock: false });
  try {
    return Object.fromEntries(venues.map((id): [string, OrderRow[]] => [id, journal.orders.unsettled(id)]).filter(([, rows]) => rows.length > 0));
  } finally {
    journal.close();
  }
}

/**
 * Before the first tick of a portfolio on a live chain: every address the file names must hold
 * code on this chain, or the keeper stops naming the key (`keeper.yaml: assets.BTC.feed (0x…): no
 * contract`). What each contract answers is checked by the first read, which names the call.
 */
export async function portfolioPreflight(file: string, p: Portfolio, rt: Runtime): Promise<void> {
  const { createPublicClient, http } = await import('viem');
  const client = createPublicClient({ transport: http(rt.rpcUrls[0]) });
  const named: Array<[string, `0x${string}`]> = [
    ['quote.token', p.quote.token],
    ...(p.quote.feed ? [['quote.feed', p.quote.feed] as [string, `0x${string}`]] : []),
    ...(p.positionManager ? [['positionManager', p.positionManager] as [string, `0x${string}`]] : []),
    ...p.assets.flatMap((a): Array<[string, `0x${string}`]> => [[`assets.${a.id}.token`, a.token], [`assets.${a.id}.feed`, a.feed]]),
    ...p.pools.map((x): [string, `0x${string}`] => [`pools.${x.id}.address`, x.address]),
    ...p.venues.flatMap((v): Array<[string, `0x${string}`]> =>
      // A Hyperliquid account lives on the venue's API, not on this chain: no contract to check.
      v.kind === 'hyperliquid'
        ? []
        : v.kind === 'perp'
        ? [[`venues.${v.id}.exchange`, v.exchange]]
        : v.kind === 'morpho'
          ? [[`venues.${v.id}.morpho`, v.morpho], [`venues.${v.id}.swapRouter`, v.swapRouter], [`venues.${v.id}.quoter`, v.quoter]]
          : [[`venues.${v.id}.addressesProvider`, v.addressesProvider], [`venues.${v.id}.swapRouter`, v.swapRouter], [`venues.${v.id}.quoter`, v.quoter]]),
  ];
  const codes = await Promise.all(named.map(([, a]) => client.getCode({ address: a })));
  const { basename } = await import('node:path');
  const problems = named.flatMap(([key, a], i) => (codes[i] && codes[i] !== '0x' ? [] : [`${basename(file)}: ${key} (${a}): no contract at this address on chain ${rt.chainId}`]));
  if (problems.length > 0) {
    const { ConfigError } = await import('../config.js');
    throw new ConfigError(problems);
  }
}

/**
 * `keeper portfolio from-env`: the single-asset configuration (HEDGE_VENUE, the addresses, the
 * policy and caps) printed as the equivalent keeper.yaml, the pool's fee read from the chain. The
 * migration path: save it, set PORTFOLIO_FILE, and remove the variables the file now declares.
 */
export async function portfolioFromEnvCommand(config: KeeperConfig, logger: Logger): Promise<number> {
  const { ConfigError } = await import('../config.js');
  if (config.portfolioFile !== null) throw new ConfigError([`PORTFOLIO_FILE=${config.portfolioFile}: already a portfolio; from-env prints the one the single-asset variables describe`]);
  const { resolveRuntime } = await import('./commands.js');
  const { portfolioFromEnv } = await import('../portfolio/from-env.js');
  const { portfolioToYaml } = await import('../portfolio/to-yaml.js');
  const { createPublicClient, http } = await import('viem');
  const { uniswapV3PoolAbi } = await import('../../contracts-abi/index.js');
  const rt = await resolveRuntime(config, logger, { drive: false });
  try {
    const client = createPublicClient({ transport: http(rt.rpcUrls[0]) });
    const fee = await client.readContract({ address: rt.addresses.uniswapPool, abi: uniswapV3PoolAbi, functionName: 'fee' });
    const p = portfolioFromEnv(config, rt.addresses, Number(fee));
    process.stdout.write(portfolioToYaml(p, [
      `keeper.yaml equivalent to this single-asset configuration (HEDGE_VENUE=${config.venue}${rt.embedded ? ', the embedded devnet' : ''}).`,
      'Save it, set PORTFOLIO_FILE to it, and remove HEDGE_VENUE, the addresses, the policy and the caps from the environment.',
      'keeper.example.yaml documents every key; add assets, pools, venues and instruments as you need.',
    ]));
    return 0;
  } finally {
    await rt.close();
  }
}
