import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Hex } from 'viem';
import type { TxOutcome } from '../chain/executor.js';
import type { Address } from '../core/types.js';
import { fixedToString } from '../core/format.js';
import type { Journal } from '../journal/journal.js';
import type { OrderRow } from '../journal/orders.js';
import type { AssetSpec, HyperliquidVenueAccount, HyperliquidVenueSpec, Portfolio, PortfolioAction, PortfolioSnapshot } from '../portfolio/model.js';
import { positionDrift } from './hyperliquid-collateral.js';
import { buildHedgeOrder, createHyperliquidTrader, type HyperliquidTrader, type OrderOutcome } from './hyperliquid-orders.js';
import { backoffSchedule, createHyperliquidReader, withBackoff, type HyperliquidReaderOptions } from './hyperliquid-read.js';
import { decimalToScaled, lotsToUnits } from './hyperliquid-rules.js';

/**
 * The keeper's desk on one Hyperliquid account: it places the hedge orders the planner asks for
 * and keeps the keeper's picture of the account honest.
 *
 * - An order is an IOC limit (hyperliquid-orders.ts) carrying a fresh client order id (cloid)
 *   that is journaled, with its intent, BEFORE the signed request leaves; a 429 is retried with
 *   back-off (the venue did not take it); what filled is booked, and the rest of a partial fill is
 *   simply replanned by the next tick from the venue's position.
 * - An order whose answer never came (timeout, 5xx, a crash between journal and answer) is asked
 *   about by cloid (`orderStatus`) before anything else is sent to the venue; until the venue has
 *   said what it did, the venue is doubted (no order, no top-up): never act twice on a guess.
 * - Every tick the venue's positions are compared with what the keeper expects (the last read
 *   plus its own fills since): a difference it did not cause (a manual trade, a liquidation) is
 *   logged as `hyperliquid.position_drift`, and the keeper replans from the venue's position,
 *   never from its own expectation, so a drift is never compounded.
 * - A top-up is a USDC transfer to the venue's bridge on chain (venues/hyperliquid-portfolio.ts);
 *   the venue credits it some time after it mines. Until its hash appears in the account's ledger
 *   (`userNonFundingLedgerUpdates`), the deposit is counted as collateral in flight, so the
 *   keeper does not top up twice for one shortfall; one not credited within `creditTimeoutMs` puts
 *   the venue in doubt.
 */

export const DEFAULT_CREDIT_TIMEOUT_MS = 30 * 60_000;

export interface HyperliquidDeskOptions {
  spec: HyperliquidVenueSpec;
  portfolio: Portfolio;
  /** HYPERLIQUID_AGENT_KEY when set, else the keeper's own key (then it must be `spec.user`). */
  signingKey: Hex;
  journal: Journal | null;
  chainId: number;
  /** The keeper's chain account (the journal's key). */
  account: Address;
  logger: Logger;
  dryRun: boolean;
  /** Back-off of the venue's 429/5xx answers (reads and orders). */
  backoff?: Omit<HyperliquidReaderOptions, 'apiUrl'>;
  creditTimeoutMs?: number;
  now?: () => number;
  newCloid?: () => Hex;
  /** Tests: a trader with a different key or transport. */
  trader?: HyperliquidTrader;
}

interface Deposit {
  readonly hash: Hex;
  readonly units: bigint;
  readonly sinceMs: number;
}

export interface HyperliquidDesk {
  readonly spec: HyperliquidVenueSpec;
  /**
   * Once per tick, on the snapshot's read of this venue: settle orders of unknown fate with the
   * venue, report drift, and count deposits in flight. Returns the account to plan on and a doubt
   * (null when the desk knows where it stands).
   */
  prepare(account: HyperliquidVenueAccount): Promise<{ account: HyperliquidVenueAccount; doubt: string | null }>;
  /** Place the IOC order of an adjustHedge on this venue. */
  execute(action: Extract<PortfolioAction, { kind: 'adjustHedge' }>, snapshot: PortfolioSnapshot, intent: (plannedTxs: number) => number | null): Promise<TxOutcome[]>;
  /** A bridge transfer of `units` was sent (or mined): in flight until the venue's ledger shows it. */
  noteDeposit(hash: Hex, units: bigint, sinceMs?: number): void;
  /** Deposits sent and not yet credited. */
  readonly depositsInFlight: readonly Deposit[];
}

const newCloidDefault = (): Hex => `0x${randomBytes(16).toString('hex')}`;

export function createHyperliquidDesk(opts: HyperliquidDeskOptions): HyperliquidDesk {
  const { spec, portfolio, journal, logger } = opts;
  const now = opts.now ?? Date.now;
  const backoff: HyperliquidReaderOptions = { apiUrl: spec.apiUrl, isTestnet: spec.testnet ?? false, ...opts.backoff };
  const info = createHyperliquidReader(backoff).info;
  const trader = opts.trader ?? createHyperliquidTrader({ apiUrl: spec.apiUrl, isTestnet: spec.testnet ?? false, signingKey: opts.signingKey });
  const assets: Record<string, AssetSpec> = Object.fromEntries(portfolio.assets.map((a) => [a.id, a]));
  let expected: Record<string, bigint> | null = null;
  let deposits: Deposit[] = depositsFromJournal(opts, now());
  const log = logger.child({ venue: spec.id });

  /** Asset units the venue filled of a journaled order, from its orderStatus answer; null = the venue does not know it. */
  async function askVenue(row: OrderRow): Promise<{ filledUnits: bigint; status: string; avgPxE8?: bigint } | null> {
    const res = await withBackoff(backoff, () => info.orderStatus({ user: spec.user, oid: row.cloid }));
    if (res.status !== 'order') return null;
    const o = res.order.order;
    // Its fills (by oid): the price it was booked at.
    const fills = (await withBackoff(backoff, () => info.userFills({ user: spec.user }))).filter((f) => f.oid === o.oid);
    const asset = assets[row.asset];
    if (!asset) throw new Error(`hyperliquid venue ${spec.id}: order ${row.cloid} names asset ${row.asset}, not in the portfolio`);
    const szDecimals = Math.max(decimals(o.origSz), decimals(o.sz), ...fills.map((f) => decimals(f.sz)));
    const filledLots = decimalToScaled(o.origSz, szDecimals) - decimalToScaled(o.sz, szDecimals);
    const units = lotsToUnits(filledLots, asset.decimals, szDecimals);
    const fillLots = fills.map((f) => decimalToScaled(f.sz, szDecimals));
    const lots = fillLots.reduce((a, b) => a + b, 0n);
    const avgPxE8 = lots === 0n ? undefined : fills.reduce((a, f, i) => a + fillLots[i]! * decimalToScaled(f.px, 8), 0n) / lots;
    return { filledUnits: o.side === 'B' ? units : -units, status: res.order.status, ...(avgPxE8 !== undefined ? { avgPxE8 } : {}) };
  }

  /** Orders journaled but not answered: ask the venue; a venue that cannot say keeps the doubt. */
  async function settleOrders(): Promise<string | null> {
    if (!journal) return null;
    for (const row of journal.orders.unsettled(spec.id)) {
      let found;
      try {
        found = await askVenue(row);
      } catch (e) {
        return `order ${row.cloid} (${row.coin} ${row.isBuy ? 'buy' : 'sell'} ${row.sz}) has an unknown fate and the venue did not say what it did: ${(e as Error).message}`;
      }
      if (found === null) {
        journal.orders.settle(row.cloid, 'none', { filledUnits: 0n, detail: 'the venue does not know this cloid: it never arrived' });
        journal.finishIntent(row.intentId, 'failed', `order ${row.cloid} never reached the venue`);
        log.warn({ event: 'hyperliquid.order.settled', cloid: row.cloid, filled: '0' }, `hyperliquid order ${row.cloid}: the venue never received it; nothing filled`);
        continue;
      }
      const status = found.filledUnits === 0n ? 'rejected' : found.status === 'filled' ? 'filled' : 'partial';
      journal.orders.settle(row.cloid, status, { filledUnits: found.filledUnits, ...(found.avgPxE8 !== undefined ? { avgPxE8: found.avgPxE8 } : {}), detail: `venue status ${found.status}` });
      journal.finishIntent(row.intentId, found.filledUnits === 0n ? 'failed' : 'done', `order ${row.cloid}: venue status ${found.status}`);
      // Its fill is already in the position just read; the expectation catches up with it.
      if (expected) expected = { ...expected, [row.asset]: (expected[row.asset] ?? 0n) + found.filledUnits };
      log.warn(
        { event: 'hyperliquid.order.settled', cloid: row.cloid, asset: row.asset, filledUnits: found.filledUnits, venueStatus: found.status },
        `hyperliquid order ${row.cloid} of unknown fate: the venue says ${found.status}, ${fmt(found.filledUnits, assets[row.asset])} ${row.asset} filled`,
      );
    }
    return null;
  }

  /** Resting orders on a hedged coin: said when they appear (they are the user's; any fill shows as drift). */
  let restingSeen: Record<string, number> = {};
  function checkResting(account: HyperliquidVenueAccount): void {
    const now: Record<string, number> = {};
    for (const [asset, m] of Object.entries(account.markets)) {
      const n = m.restingOrders ?? 0;
      if (n > 0) now[asset] = n;
      if (n > 0 && (restingSeen[asset] ?? 0) === 0) {
        log.warn({ event: 'hyperliquid.resting_orders', asset, coin: m.coin, count: n }, `hyperliquid ${spec.id}: ${n} order(s) resting on ${m.coin}, not the keeper's: a fill changes the position without it (reported as drift, replanned)`);
      }
    }
    restingSeen = now;
  }

  function checkDrift(account: HyperliquidVenueAccount): void {
    const actual = Object.fromEntries(Object.entries(account.markets).map(([a, m]) => [a, m.sizeUnits]));
    if (expected) {
      for (const [asset, drift] of Object.entries(positionDrift(expected, actual))) {
        log.warn(
          { event: 'hyperliquid.position_drift', asset, expectedUnits: expected[asset] ?? 0n, reportedUnits: actual[asset] ?? 0n, driftUnits: drift },
          `hyperliquid ${spec.id} ${asset}: the venue reports ${fmt(actual[asset] ?? 0n, assets[asset])}, the keeper expected ${fmt(expected[asset] ?? 0n, assets[asset])} (drift ${fmt(drift, assets[asset])} it did not cause: a manual trade or a liquidation); replanning from the venue's position`,
        );
      }
    }
    expected = actual;
  }

  async function creditDeposits(account: HyperliquidVenueAccount): Promise<{ account: HyperliquidVenueAccount; doubt: string | null }> {
    if (deposits.length === 0) return { account, doubt: null };
    const since = Math.min(...deposits.map((d) => d.sinceMs)) - 3_600_000;
    const ledger = await withBackoff(backoff, () => info.userNonFundingLedgerUpdates({ user: spec.user, startTime: Math.max(0, since) }));
    const credited = new Set(ledger.filter((l) => l.delta.type === 'deposit').map((l) => l.hash.toLowerCase()));
    for (const d of deposits.filter((x) => credited.has(x.hash.toLowerCase()))) {
      log.info({ event: 'hyperliquid.deposit.credited', hash: d.hash, units: d.units }, `hyperliquid ${spec.id}: deposit ${d.hash} credited`);
    }
    deposits = deposits.filter((d) => !credited.has(d.hash.toLowerCase()));
    if (deposits.length === 0) return { account, doubt: null };
    const inFlight = deposits.reduce((s, d) => s + d.units, 0n);
    const late = deposits.find((d) => now() - d.sinceMs > (opts.creditTimeoutMs ?? DEFAULT_CREDIT_TIMEOUT_MS));
    const doubt = late
      ? `deposit ${late.hash} sent ${Math.round((now() - late.sinceMs) / 60_000)} min ago is not credited by the venue: its collateral is unknown`
      : null;
    return { account: { ...account, accountValueUnits: account.accountValueUnits + inFlight, withdrawableUnits: account.withdrawableUnits + inFlight }, doubt };
  }

  return {
    spec,
    get depositsInFlight() {
      return deposits;
    },
    noteDeposit(hash, units, sinceMs) {
      if (!deposits.some((d) => d.hash.toLowerCase() === hash.toLowerCase())) deposits = [...deposits, { hash, units, sinceMs: sinceMs ?? now() }];
    },
    async prepare(account) {
      const unsettled = await settleOrders();
      // Until every order's fill is known, the expectation cannot be compared (nor replaced).
      if (unsettled) return { account, doubt: unsettled };
      checkResting(account);
      checkDrift(account);
      try {
        return await creditDeposits(account);
      } catch (e) {
        return { account, doubt: `deposits in flight and the venue's ledger could not be read: ${(e as Error).message}` };
      }
    },
    async execute(action, snapshot, intent) {
      const label = `${spec.id}.order ${action.asset}`;
      const acct = snapshot.venues[spec.id];
      const market = acct?.kind === 'hyperliquid' ? acct.markets[action.asset] : undefined;
      const asset = assets[action.asset];
      if (!market || !asset) return [{ status: 'reverted', label, stage: 'simulation', reason: `venue ${spec.id} has no read of market ${action.asset}` }];
      const built = buildHedgeOrder({
        asset, market, sizeDeltaUnits: action.sizeDeltaUnits, oraclePriceE8: snapshot.prices[action.asset]?.priceE8 ?? 0n, maxSlippageBps: portfolio.policy.maxSlippageBps,
      });
      if (built.kind === 'skip') return [{ status: 'reverted', label, stage: 'simulation', reason: built.reason }];
      const o = built.order;
      const what = `${o.isBuy ? 'buy' : 'sell'} ${o.s} ${o.coin} IOC at ${o.p}${o.reduceOnly ? ' reduce-only' : ''}`;
      if (opts.dryRun) {
        log.info({ event: 'tx.simulated', label, order: what }, `dry-run: would ${what} on ${spec.id}`);
        return [{ status: 'simulated', label, gasUsed: 0n }];
      }
      const cloid = (opts.newCloid ?? newCloidDefault)();
      const intentId = intent(0);
      if (intentId !== null) journal?.orders.record({ intentId, venue: spec.id, cloid, asset: action.asset, coin: o.coin, isBuy: o.isBuy, px: o.p, sz: o.s });
      log.info({ event: 'hyperliquid.order.sent', label, cloid, order: what, signer: trader.signer }, `${what} on ${spec.id} (cloid ${cloid})`);
      const outcome = await placeWithBackoff(o, asset, cloid);
      return book(outcome, { label, cloid, intentId, asset: action.asset, block: snapshot.blockNumber, what });
    },
  };

  async function placeWithBackoff(o: Parameters<HyperliquidTrader['place']>[0], asset: AssetSpec, cloid: Hex): Promise<OrderOutcome> {
    // The venue did not take a 429'd order: the same order (same cloid) again, on the reads' schedule.
    const { attempts, delayMs: delayOf, sleep } = backoffSchedule(backoff);
    for (let attempt = 0; ; attempt++) {
      const out = await trader.place(o, asset, cloid);
      if (out.status !== 'rejected' || !out.rateLimited) return out;
      if (attempt + 1 >= attempts) return { ...out, reason: `${out.reason} (rate-limited after ${attempt + 1} attempts)` };
      const delayMs = delayOf(attempt + 1);
      backoff.onRetry?.({ status: 429, attempt: attempt + 1, delayMs });
      log.warn({ event: 'hyperliquid.rate_limited', attempt: attempt + 1, delayMs }, `hyperliquid rate-limited the order: retrying in ${delayMs} ms`);
      await sleep(delayMs);
    }
  }

  function book(out: OrderOutcome, c: { label: string; cloid: Hex; intentId: number | null; asset: string; block: bigint; what: string }): TxOutcome[] {
    const a = assets[c.asset];
    switch (out.status) {
      case 'filled':
      case 'partial': {
        journal?.orders.settle(c.cloid, out.status, { filledUnits: out.filledUnits, avgPxE8: out.avgPriceE8 });
        if (c.intentId !== null) journal?.finishIntent(c.intentId, 'done', `${out.status}: ${fmt(out.filledUnits, a)} ${c.asset} at ${fixedToString(out.avgPriceE8, 8, 2)}`);
        if (expected) expected = { ...expected, [c.asset]: (expected[c.asset] ?? 0n) + out.filledUnits };
        log[out.status === 'partial' ? 'warn' : 'info'](
          { event: `hyperliquid.order.${out.status}`, cloid: c.cloid, oid: out.oid, filledUnits: out.filledUnits, avgPriceE8: out.avgPriceE8 },
          `${c.what}: ${out.status === 'partial' ? 'partly filled' : 'filled'}, ${fmt(out.filledUnits, a)} ${c.asset} at ${fixedToString(out.avgPriceE8, 8, 2)}${out.status === 'partial' ? ' (the rest is replanned next tick)' : ''}`,
        );
        return [{ status: 'mined', label: c.label, hash: c.cloid, gasUsed: 0n, blockNumber: c.block }];
      }
      case 'rejected':
        journal?.orders.settle(c.cloid, 'rejected', { filledUnits: 0n, detail: out.reason });
        if (c.intentId !== null) journal?.finishIntent(c.intentId, 'failed', out.reason);
        log.error({ event: 'hyperliquid.order.rejected', cloid: c.cloid, reason: out.reason }, `${c.what}: ${out.reason}`);
        return [{ status: 'reverted', label: c.label, stage: 'chain', reason: out.reason }];
      case 'unknown':
        journal?.orders.settle(c.cloid, 'unknown', { detail: out.reason });
        log.error({ event: 'hyperliquid.order.unknown', cloid: c.cloid, reason: out.reason }, `${c.what}: ${out.reason}; the venue is asked before anything else is sent there`);
        // Pending: the next tick asks the venue by cloid before planning anything on it.
        return [{ status: 'sent', label: c.label, hash: c.cloid, nonce: -1 }];
      default: {
        const never: never = out;
        throw new Error(`unknown order outcome ${String(never)}`);
      }
    }
  }
}

/**
 * Deposits of the last day the journal holds (a restart): still in flight until the venue's ledger
 * shows them, which the first prepare() asks.
 */
function depositsFromJournal(opts: HyperliquidDeskOptions, nowMs: number): Deposit[] {
  const { journal, spec } = opts;
  if (!journal) return [];
  const out: Deposit[] = [];
  for (const intent of journal.recentIntents(500)) {
    if (intent.chainId !== opts.chainId || intent.account.toLowerCase() !== opts.account.toLowerCase() || nowMs - intent.createdAtMs > 86_400_000) continue;
    const a = JSON.parse(intent.action) as { kind?: string; venue?: string; to?: string; amountUnits?: string };
    const into = (a.kind === 'topUp' && a.venue === spec.id) || (a.kind === 'moveCollateral' && a.to === spec.id);
    if (!into || a.amountUnits === undefined) continue;
    for (const tx of journal.txsOfIntent(intent.id)) {
      if (tx.label === `${spec.id}.deposit` && ['signed', 'broadcast', 'mined'].includes(tx.status)) out.push({ hash: tx.hash, units: BigInt(a.amountUnits), sinceMs: intent.createdAtMs });
    }
  }
  return out;
}

function decimals(x: string): number {
  const i = x.indexOf('.');
  return i < 0 ? 0 : x.length - i - 1;
}

function fmt(units: bigint, asset: AssetSpec | undefined): string {
  const d = asset?.decimals ?? 18;
  return fixedToString(units, d, Math.min(d, 6));
}

/** Desks by venue id for every Hyperliquid venue of the portfolio. */
export function createHyperliquidDesks(
  portfolio: Portfolio,
  make: (spec: HyperliquidVenueSpec) => HyperliquidDesk,
): Readonly<Record<string, HyperliquidDesk>> {
  return Object.fromEntries(portfolio.venues.filter((v): v is HyperliquidVenueSpec => v.kind === 'hyperliquid').map((v) => [v.id, make(v)]));
}
