import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { fixedToString } from '../core/format.js';
import { pow10, unitsToUsdE8, usablePriceE8 } from '../core/portfolio/exposure.js';
import type { Portfolio, PortfolioAction, PortfolioSnapshot, VenueId } from '../portfolio/model.js';
import { accruedMarket, borrowedAssets, toAssetsDown } from '../venues/morpho-math.js';
import type { PortfolioActionResult } from './portfolio-tick.js';
import { parseReleaseLabel } from '../venues/release.js';
import type { PnlStore } from './portfolio-pnl-store.js';

/**
 * Where the money goes (issue 12, item 6), live: the change of the portfolio's value between two
 * consecutive ticks, split into the lines the backtest reports (backtest/record.ts `Attribution`).
 * The actions of tick N land between snapshot N and N+1, so an interval is explained with the
 * previous tick's results. USD E8 bigint throughout; `unexplained` is what the named parts do not
 * cover (transfers we cannot see, slippage beyond the fee tier), so the parts sum to the change exactly.
 *
 * Value = wallet (assets, the native coin at the price of the asset that wraps it when the policy's
 * includeNative counts it, quote; otherwise the native coin is the gas tank: its gas is charged) + LP
 * principal and uncollected fees + every venue account (perp/Hyperliquid account value, Aave and
 * Morpho supplied minus borrowed). Quote moved between wallet and venue is neither P&L nor loss.
 */

export interface PnlParts {
  /** Growth of the LPs' uncollected fees (what was collected restarts from 0), at the new prices. */
  lpFees: bigint;
  /** Price move of what was held at the interval's start: LP amounts and fees, the wallet (as the backtest counts it). */
  lpPriceMove: bigint;
  /** LP principal at the new prices minus the start amounts at the new prices: the loss against holding (IL). */
  lpLossVsHolding: bigint;
  /** Per venue: perp account value change net of deposits, funding and fees; Aave/Morpho: debt and collateral repriced. */
  hedge: Record<VenueId, bigint>;
  /** Perp funding (pending funding's change), Aave/Morpho interest (balances' growth at fixed prices). */
  fundingInterest: bigint;
  /** Perp taker fees and swap fee tiers of the hedges done (negative). */
  tradingFees: bigint;
  /** Mined transactions' gasUsed × effectiveGasPrice, at the price of the asset that wraps the native coin (negative). */
  gas: bigint;
  unexplained: bigint;
  /** The value change: the sum of every line above. */
  total: bigint;
}

export interface PnlInterval extends PnlParts {
  fromBlock: bigint;
  toBlock: bigint;
  /** Block time of the interval's end (the 24 h window is by block time). */
  timeSec: bigint;
}

export interface PnlReport {
  sinceStart: PnlParts;
  last24h: PnlParts;
  intervals: number;
  startBlock: bigint | null;
}

export interface PnlAttribution {
  /** The interval from the previous snapshot to this one (null at the first). */
  observe(snapshot: PortfolioSnapshot): Promise<PnlInterval | null>;
  /** The tick's results (after settlement): their flows, fees and gas belong to the next interval. */
  acted(results: readonly PortfolioActionResult[]): void;
  report(): PnlReport;
}

export interface PnlAttributionOptions {
  portfolio: Portfolio;
  /** Each interval as it is attributed (a file, a test). */
  record?: (interval: PnlInterval) => void;
  /** gasUsed × effectiveGasPrice of a mined transaction, wei; absent = gas is left in `unexplained`. */
  gasCostWei?: (hash: Hex) => Promise<bigint>;
  /** Where the intervals persist across restarts (portfolio-pnl-store.ts); absent = in memory only. */
  store?: PnlStore;
  /** A failed write of the store is a warning, never a failed tick. */
  logger?: Pick<Logger, 'warn'>;
  /**
   * A result still 'pending' when its tick ended (sent, not yet mined), as the journal knows it
   * now (runner/tick.ts withSettled): its flows, fees and gas belong to the first interval whose
   * end snapshot includes the block it mined in. Absent: pending results count as not done.
   */
  settle?: (result: PortfolioActionResult) => PortfolioActionResult;
}

const DAY_SEC = 86_400n;
/** A result still pending after this many intervals is dropped from the attribution (its flows land in `unexplained`). */
const MAX_CARRIED_INTERVALS = 100;

export function zeroParts(): PnlParts {
  return { lpFees: 0n, lpPriceMove: 0n, lpLossVsHolding: 0n, hedge: {}, fundingInterest: 0n, tradingFees: 0n, gas: 0n, unexplained: 0n, total: 0n };
}

export function addParts(a: PnlParts, b: PnlParts): PnlParts {
  const hedge = { ...a.hedge };
  for (const [k, v] of Object.entries(b.hedge)) hedge[k] = (hedge[k] ?? 0n) + v;
  return {
    lpFees: a.lpFees + b.lpFees, lpPriceMove: a.lpPriceMove + b.lpPriceMove, lpLossVsHolding: a.lpLossVsHolding + b.lpLossVsHolding, hedge,
    fundingInterest: a.fundingInterest + b.fundingInterest, tradingFees: a.tradingFees + b.tradingFees, gas: a.gas + b.gas,
    unexplained: a.unexplained + b.unexplained, total: a.total + b.total,
  };
}

function negParts(a: PnlParts): PnlParts {
  return {
    lpFees: -a.lpFees, lpPriceMove: -a.lpPriceMove, lpLossVsHolding: -a.lpLossVsHolding, hedge: Object.fromEntries(Object.entries(a.hedge).map(([k, v]) => [k, -v])),
    fundingInterest: -a.fundingInterest, tradingFees: -a.tradingFees, gas: -a.gas, unexplained: -a.unexplained, total: -a.total,
  };
}

/** One priced balance: units of a token (signed: debt negative), its decimals and price at each end. */
interface Line { units: bigint; decimals: number; p0: bigint; p1: bigint }

const valueAt = (l: Line, units: bigint, price: bigint) => unitsToUsdE8(units, price, l.decimals);

/** Per venue: what was done on it last tick, in its own units. */
interface Flows { deposits: Map<VenueId, bigint>; trades: Array<{ venue: VenueId; asset: string; sizeDeltaUnits: bigint }> }

function flowsOf(results: readonly PortfolioActionResult[]): Flows {
  const deposits = new Map<VenueId, bigint>();
  const add = (v: VenueId, x: bigint) => deposits.set(v, (deposits.get(v) ?? 0n) + x);
  const trades: Flows['trades'] = [];
  for (const r of results) {
    if (r.outcome !== 'done') continue;
    const a: PortfolioAction = r.action;
    if (a.kind === 'topUp') add(a.venue, a.amountUnits);
    else if (a.kind === 'moveCollateral') {
      add(a.from, -a.amountUnits);
      add(a.to, a.amountUnits);
    } else {
      trades.push({ venue: a.venue, asset: a.asset, sizeDeltaUnits: a.sizeDeltaUnits });
      // Collateral released to the wallet to pay the buy-back: out of the venue, not a loss.
      for (const t of r.txs) {
        const rel = t.status === 'mined' ? parseReleaseLabel(t.label) : null;
        if (rel) add(rel.venue, -rel.units);
      }
    }
  }
  return { deposits, trades };
}

/** Attribute one interval (pure; `gasWei` from the previous tick's mined transactions). */
export function attributeInterval(p: Portfolio, s0: PortfolioSnapshot, s1: PortfolioSnapshot, results: readonly PortfolioActionResult[], gasWei: bigint): PnlInterval {
  const out = zeroParts();
  const q = { decimals: p.quote.decimals, p0: s0.quotePriceE8, p1: s1.quotePriceE8 };
  const token = (id: string): Omit<Line, 'units'> => {
    if (id === p.quote.id) return q;
    const a = p.assets.find((x) => x.id === id);
    return { decimals: a?.decimals ?? 18, p0: a ? usablePriceE8(s0, id) : 0n, p1: a ? usablePriceE8(s1, id) : 0n };
  };
  const held = (l: Line) => valueAt(l, l.units, l.p1) - valueAt(l, l.units, l.p0);

  // Wallet: only its price move is P&L; its amount changes are transfers, swaps and gas.
  const native = p.assets.find((a) => a.wrapsNative);
  const withNative = p.policy.includeNative ? native : undefined;
  for (const id of [...p.assets.map((a) => a.id), p.quote.id]) {
    const units = (s0.wallet.balances[id] ?? 0n) + (withNative?.id === id ? s0.wallet.nativeWei : 0n);
    out.lpPriceMove += held({ units, ...token(id) });
  }
  if (native) out.gas = -unitsToUsdE8(gasWei, usablePriceE8(s1, native.id), native.decimals);

  // LPs present at both ends (a mint or burn is a transfer: unexplained).
  for (const lp0 of s0.lps) {
    const lp1 = s1.lps.find((x) => x.pool === lp0.pool && x.tokenId === lp0.tokenId);
    const pool = p.pools.find((x) => x.id === lp0.pool);
    if (!lp1 || !pool) continue;
    for (const [id, a0, a1, f0, f1] of [[pool.token0, lp0.amount0, lp1.amount0, lp0.fees0, lp1.fees0], [pool.token1, lp0.amount1, lp1.amount1, lp0.fees1, lp1.fees1]] as const) {
      const t = token(id);
      const l = { units: a0 + f0, ...t };
      out.lpPriceMove += held(l);
      out.lpLossVsHolding += valueAt(l, a1, t.p1) - valueAt(l, a0, t.p1);
      out.lpFees += valueAt(l, f1 >= f0 ? f1 - f0 : f1, t.p1);
    }
  }

  const { deposits, trades } = flowsOf(results);
  for (const spec of p.venues) {
    const v0 = s0.venues[spec.id];
    const v1 = s1.venues[spec.id];
    if (!v0 || !v1 || v0.kind !== v1.kind) continue;
    const dep = deposits.get(spec.id) ?? 0n;
    const mine = trades.filter((t) => t.venue === spec.id);
    let hedge = 0n;
    if (v0.kind === 'perp' && v1.kind === 'perp') {
      for (const [asset, m0] of Object.entries(v0.markets)) {
        const m1 = v1.markets[asset];
        if (!m1) continue;
        const t = token(asset);
        const tradeUnits = mine.filter((x) => x.asset === asset).reduce((s, x) => s + x.sizeDeltaUnits, 0n);
        // The exchange charges its taker fee on the traded notional (valued at the tick-start price).
        const fee = -(unitsToUsdE8(tradeUnits < 0n ? -tradeUnits : tradeUnits, t.p0, t.decimals) * m0.takerFeeBps) / 10_000n;
        // Pending funding is what the account value holds back: margin + uPnL - account value.
        // Funding is settled into margin on a trade: only measured on an untraded market.
        const pending = (m: typeof m0, px: bigint) => m.marginUnits + (((m.sizeE18 * (px - m.entryPriceE8)) / 10n ** 18n) * pow10(q.decimals)) / 10n ** 8n - m.accountValueUnits;
        const funding = m0.sizeE18 === m1.sizeE18 && m0.entryPriceE8 === m1.entryPriceE8
          ? -unitsToUsdE8(pending(m1, t.p1) - pending(m0, t.p0), q.p1, q.decimals) : 0n;
        out.tradingFees += fee;
        out.fundingInterest += funding;
        hedge += valueAt({ units: 0n, ...q }, m1.accountValueUnits, q.p1) - valueAt({ units: 0n, ...q }, m0.accountValueUnits, q.p0) - fee - funding;
      }
      // Deposits are split over markets in the venue's own way: net them once, at the new quote price.
      hedge -= unitsToUsdE8(dep, q.p1, q.decimals);
    } else if (v0.kind === 'hyperliquid' && v1.kind === 'hyperliquid') {
      hedge = unitsToUsdE8(v1.accountValueUnits, q.p1, q.decimals) - unitsToUsdE8(v0.accountValueUnits, q.p0, q.decimals) - unitsToUsdE8(dep, q.p1, q.decimals);
    } else if ((v0.kind === 'aave' && v1.kind === 'aave') || (v0.kind === 'morpho' && v1.kind === 'morpho')) {
      const lines0 = balanceLines(p, v0, s0);
      const lines1 = balanceLines(p, v1, s1);
      const collateralKey = v0.kind === 'aave' ? `supply:${p.quote.token.toLowerCase()}` : 'collateral';
      const flow = new Map<string, bigint>([[collateralKey, dep]]);
      const swapPool = spec.kind === 'aave' ? null : spec.kind === 'morpho' ? spec.swapPool : null;
      for (const tr of mine) {
        const a = p.assets.find((x) => x.id === tr.asset);
        const key = v0.kind === 'aave' ? `debt:${a?.token.toLowerCase()}` : 'debt';
        flow.set(key, (flow.get(key) ?? 0n) + tr.sizeDeltaUnits);
        // The swap pays the pool's fee tier (hundredths of a bip) on the notional at the oracle price.
        const poolId = spec.kind === 'aave' ? spec.swapPools[tr.asset] : swapPool;
        const fee = BigInt(p.pools.find((x) => x.id === poolId)?.fee ?? 0);
        const t = token(tr.asset);
        out.tradingFees -= (unitsToUsdE8(tr.sizeDeltaUnits < 0n ? -tr.sizeDeltaUnits : tr.sizeDeltaUnits, t.p0, t.decimals) * fee) / 1_000_000n;
      }
      for (const key of new Set([...lines0.keys(), ...lines1.keys(), ...flow.keys()])) {
        const l0 = lines0.get(key);
        const l1 = lines1.get(key);
        const base = l0 ?? l1;
        if (!base) continue;
        const l = { ...base, p0: l0?.p0 ?? base.p0, p1: l1?.p1 ?? base.p1 };
        const after = (l0?.units ?? 0n) + (flow.get(key) ?? 0n);
        hedge += valueAt(l, after, l.p1) - valueAt(l, after, l.p0);
        out.fundingInterest += valueAt(l, l1?.units ?? 0n, l.p1) - valueAt(l, after, l.p1);
      }
    }
    out.hedge[spec.id] = hedge;
  }
  // Without includeNative the native coin is the gas tank, not the portfolio: its value is left
  // out (its price move would swamp everything), and the gas it paid is charged here instead.
  const total = portfolioValueE8(p, s1) - portfolioValueE8(p, s0) + (withNative ? 0n : out.gas);
  const named = out.lpFees + out.lpPriceMove + out.lpLossVsHolding + Object.values(out.hedge).reduce((s, x) => s + x, 0n) + out.fundingInterest + out.tradingFees + out.gas;
  return { ...out, unexplained: total - named, total, fromBlock: s0.blockNumber, toBlock: s1.blockNumber, timeSec: s1.blockTimestampSec };
}

/** Aave reserves (at Aave's own prices) and a Morpho position (at the snapshot's), debt negative. */
function balanceLines(p: Portfolio, v: PortfolioSnapshot['venues'][string], s: PortfolioSnapshot): Map<string, Line> {
  const out = new Map<string, Line>();
  if (v.kind === 'aave') {
    for (const [tok, r] of Object.entries(v.reserves)) {
      out.set(`supply:${tok.toLowerCase()}`, { units: r.suppliedUnits, decimals: r.decimals, p0: r.priceE8, p1: r.priceE8 });
      out.set(`debt:${tok.toLowerCase()}`, { units: -r.debtUnits, decimals: r.decimals, p0: r.priceE8, p1: r.priceE8 });
    }
  } else if (v.kind === 'morpho') {
    const spec = p.venues.find((x) => x.id === v.venue);
    const asset = p.assets.find((a) => spec?.kind === 'morpho' && a.id === spec.loanAsset);
    const m = accruedMarket(v);
    const px = asset ? usablePriceE8(s, asset.id) : 0n;
    const dec = asset?.decimals ?? 18;
    out.set('collateral', { units: v.collateralUnits, decimals: p.quote.decimals, p0: s.quotePriceE8, p1: s.quotePriceE8 });
    out.set('supply', { units: toAssetsDown(v.supplyShares, m.totalSupplyAssets, m.totalSupplyShares), decimals: dec, p0: px, p1: px });
    out.set('debt', { units: -borrowedAssets(v.borrowShares, m), decimals: dec, p0: px, p1: px });
  }
  return out;
}

/** The whole portfolio's value, USD E8 (see the header for what counts). */
export function portfolioValueE8(p: Portfolio, s: PortfolioSnapshot): bigint {
  const price = (id: string) => (id === p.quote.id ? s.quotePriceE8 : usablePriceE8(s, id));
  const dec = (id: string) => (id === p.quote.id ? p.quote.decimals : p.assets.find((a) => a.id === id)?.decimals ?? 18);
  const native = p.policy.includeNative ? p.assets.find((a) => a.wrapsNative) : undefined;
  let v = 0n;
  for (const id of [...p.assets.map((a) => a.id), p.quote.id]) {
    v += unitsToUsdE8((s.wallet.balances[id] ?? 0n) + (native?.id === id ? s.wallet.nativeWei : 0n), price(id), dec(id));
  }
  for (const lp of s.lps) {
    const pool = p.pools.find((x) => x.id === lp.pool);
    if (!pool) continue;
    v += unitsToUsdE8(lp.amount0 + lp.fees0, price(pool.token0), dec(pool.token0)) + unitsToUsdE8(lp.amount1 + lp.fees1, price(pool.token1), dec(pool.token1));
  }
  for (const spec of p.venues) {
    const acct = s.venues[spec.id];
    if (!acct) continue;
    if (acct.kind === 'perp') for (const m of Object.values(acct.markets)) v += unitsToUsdE8(m.accountValueUnits, s.quotePriceE8, p.quote.decimals);
    else if (acct.kind === 'hyperliquid') v += unitsToUsdE8(acct.accountValueUnits, s.quotePriceE8, p.quote.decimals);
    else for (const l of balanceLines(p, acct, s).values()) v += unitsToUsdE8(l.units, l.p1, l.decimals);
  }
  return v;
}

export function createPnlAttribution(opts: PnlAttributionOptions): PnlAttribution {
  let last: PortfolioSnapshot | null = null;
  /** Results not yet attributed, with how many intervals each has been carried over. */
  let pending: ReadonlyArray<{ r: PortfolioActionResult; age: number }> = [];
  /** Intervals older than the 24 h window, summed (and, on file, the `base` line). */
  let base = zeroParts();
  let window: PnlInterval[] = [];
  /** Σ window, kept running: a day of one-second blocks is 86,400 intervals, too many to re-add each tick. */
  let windowSum = zeroParts();
  let count = 0;
  let startBlock: bigint | null = null;
  /** Block time of the newest interval known (a reloaded one until the first new snapshot). */
  let newestSec: bigint | null = null;
  /** Lines in the store's file: compacted when it holds far more than the window. */
  let onFile = 0;
  const store = opts.store;

  /** Intervals come in block-time order: the old ones are at the front. */
  const evict = (nowSec: bigint) => {
    let n = 0;
    while (n < window.length && window[n]!.timeSec <= nowSec - DAY_SEC) {
      base = addParts(base, window[n]!);
      windowSum = addParts(windowSum, negParts(window[n]!));
      n++;
    }
    if (n > 0) window = window.slice(n);
  };
  const guarded = (what: string, f: () => void) => {
    try {
      f();
    } catch (err) {
      opts.logger?.warn({ event: 'pnl.record_failed', err, file: store?.path }, `P&L record ${store?.path}: ${what} failed: ${(err as Error).message}`);
    }
  };
  const compact = () => guarded('compaction', () => {
    store!.compact({ sinceStart: base, intervals: count - window.length, startBlock }, window);
    onFile = window.length + 1;
  });

  if (store) {
    const h = store.load();
    if (h.base) {
      base = h.base.sinceStart;
      count = h.base.intervals;
      startBlock = h.base.startBlock;
    }
    for (const x of h.intervals) {
      window.push(x);
      windowSum = addParts(windowSum, x);
      count += 1;
      startBlock ??= x.fromBlock;
      if (newestSec === null || x.timeSec > newestSec) newestSec = x.timeSec;
    }
    onFile = h.intervals.length + (h.base ? 1 : 0);
    if (newestSec !== null) evict(newestSec);
    // Start from a file of one day: what left the window is folded into the base line.
    if (h.intervals.length > window.length) compact();
  }

  return {
    async observe(snapshot) {
      const prev = last;
      last = snapshot;
      if (prev === null) {
        startBlock ??= snapshot.blockNumber;
        pending = [];
        evict(snapshot.blockTimestampSec); // after a restart: what the downtime pushed out of the last 24 h
        if (store && onFile > 2 * window.length + 100) compact();
        return null;
      }
      // What landed by this snapshot's block is this interval's; what is still on its way, the next one's.
      const settled = pending.map((p) => ({ r: p.r.outcome === 'pending' && opts.settle ? opts.settle(p.r) : p.r, age: p.age }));
      const landed = (r: PortfolioActionResult) =>
        r.outcome !== 'pending' && r.txs.every((t) => t.status !== 'mined' || t.blockNumber <= snapshot.blockNumber);
      const acted = settled.filter((p) => landed(p.r)).map((p) => p.r);
      let gasWei = 0n;
      if (opts.gasCostWei) {
        for (const t of acted.flatMap((r) => r.txs)) if (t.status === 'mined') gasWei += await opts.gasCostWei(t.hash);
      }
      const interval = attributeInterval(opts.portfolio, prev, snapshot, acted, gasWei);
      // A transaction that never mines (dropped, replaced by another) is not carried forever.
      pending = settled.filter((p) => !landed(p.r) && p.age < MAX_CARRIED_INTERVALS).map((p) => ({ r: p.r, age: p.age + 1 }));
      count += 1;
      newestSec = snapshot.blockTimestampSec;
      window.push(interval);
      windowSum = addParts(windowSum, interval);
      evict(snapshot.blockTimestampSec);
      if (store) {
        guarded('append', () => {
          store.append(interval);
          onFile += 1;
        });
        if (onFile > 2 * window.length + 100) compact();
      }
      opts.record?.(interval);
      return interval;
    },
    acted(results) {
      pending = [...pending, ...results.map((r) => ({ r, age: 0 }))];
    },
    report() {
      // The window was last evicted at the newest interval's block time: it is the last 24 h.
      return { sinceStart: addParts(base, windowSum), last24h: windowSum, intervals: count, startBlock };
    },
  };
}

/** The process's running attribution (set by the portfolio keeper): what `keeper status` shows. */
let current: PnlAttribution | null = null;
export function setCurrentPnlAttribution(a: PnlAttribution | null): void {
  current = a;
}
export function currentPnlAttribution(): PnlAttribution | null {
  return current;
}

/** Metric/label names of the lines, in table order. */
export function pnlComponents(parts: PnlParts): Array<[string, bigint]> {
  return [
    ['lp_fees', parts.lpFees], ['lp_price_move', parts.lpPriceMove], ['lp_loss_vs_holding', parts.lpLossVsHolding],
    ...Object.entries(parts.hedge).map(([v, x]): [string, bigint] => [`hedge_${v}`, x]),
    ['funding_interest', parts.fundingInterest], ['trading_fees', parts.tradingFees], ['gas', parts.gas],
    ['unexplained', parts.unexplained], ['total', parts.total],
  ];
}

/** The `keeper status` table: since start and over the last 24 h. */
export function formatPnlReport(r: PnlReport | null): string[] {
  if (r === null) return ['where the money goes', '  no attribution yet: attribution is kept by a running keeper'];
  const usd = (e8: bigint) => `$${fixedToString(e8, 8, 2)}`;
  const a = pnlComponents(r.sinceStart);
  const b = new Map(pnlComponents(r.last24h));
  const rows = [['line', 'since start', 'last 24 h'], ...a.map(([k, v]) => [k, usd(v), usd(b.get(k) ?? 0n)])];
  const widths = rows.reduce<number[]>((w, row) => row.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return [
    `where the money goes (${r.intervals} interval(s) since block ${r.startBlock ?? '-'})`,
    ...rows.map((row) => `  ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')}`),
  ];
}

/** Float USD for a gauge or a log line (display only). */
export const pnlUsdNumber = (e8: bigint): number => Number(e8) / 1e8;

/** What a tick carries: its interval (prev snapshot → this one) and the totals since start. */
export interface PnlTick {
  interval: PnlInterval;
  sinceStart: PnlParts;
  /** The last 24 h (block time), for the metrics; absent when the caller did not ask. */
  last24h?: PnlParts;
}

/** The tick's P&L from an attribution: its interval and both totals (null at the first snapshot). */
export async function pnlTickOf(pnl: PnlAttribution, snapshot: PortfolioSnapshot): Promise<PnlTick | null> {
  const interval = await pnl.observe(snapshot);
  if (!interval) return null;
  const r = pnl.report();
  return { interval, sinceStart: r.sinceStart, last24h: r.last24h };
}
