import { afterEach, describe, expect, it } from 'vitest';
import { ExchangeClient, HttpTransport } from '@nktkas/hyperliquid';
import { erc20Abi, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { openJournal } from '../../src/journal/journal.js';
import { formatPortfolioStatus } from '../../src/runner/portfolio-status.js';
import { formatHistory } from '../../src/runner/status.js';
import { startDevnetHyperliquid, type DevnetHyperliquid } from '../../src/devnet/hyperliquid/devnet.js';
import type { CoinConfig } from '../../src/devnet/hyperliquid/exchange.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { join } from 'node:path';

/**
 * The portfolio keeper hedging on Hyperliquid (issue 13): the local exchange priced from the
 * devnet's ETH feed, orders signed by an approved agent through the real SDK, the venue's USDC
 * bridge watched on the devnet. Each test asserts on the venue's own state, on the chain and on
 * the journal.
 */

const E8 = 10n ** 8n;
const ONE = 10n ** 18n;
const LOT = 10n ** 14n; // ETH szDecimals 4
const ETH_USD = 2_000n * E8;
const BTC_USD = 60_000n * E8;
/** Hyperliquid's Bridge2 address on Arbitrum, reused on the devnet. */
const BRIDGE: Address = '0x2Df1c51E09aECF9cacB7bc98cB1742757f163dF7';
const devnet = useDevnet();
let hl: DevnetHyperliquid | undefined;
let clockOffsetMs = 0;

afterEach(async () => {
  await hl?.close();
  hl = undefined;
  clockOffsetMs = 0;
});

async function startHl(d: Devnet, o: { coin?: Partial<CoinConfig>; cashUsd?: bigint; creditDelayMs?: number } = {}): Promise<DevnetHyperliquid> {
  hl = await startDevnetHyperliquid({
    publicClient: d.as('portfolioDemo').publicClient,
    feeds: { ETH: d.addresses.ethUsdFeed },
    coins: [{ name: 'ETH', szDecimals: 4, maxLeverage: 25, ...o.coin }],
    usdc: d.addresses.usdc,
    bridge: BRIDGE,
    now: () => Date.now() + clockOffsetMs,
    ...(o.creditDelayMs !== undefined ? { creditDelayMs: o.creditDelayMs } : {}),
  });
  hl.server.exchange.deposit(d.address('portfolioDemo'), (o.cashUsd ?? 200_000n) * E8);
  return hl;
}

/** An API wallet approved by the venue account (the user's key signs the approval, once). */
async function approvedAgent(d: Devnet, url: string): Promise<Hex> {
  const key = generatePrivateKey();
  const user = new ExchangeClient({ transport: new HttpTransport({ apiUrl: url }), wallet: privateKeyToAccount(d.key('portfolioDemo')) });
  await user.approveAgent({ agentAddress: privateKeyToAccount(key).address, agentName: 'keeper' });
  return key;
}

/** The demo keeper.yaml with a Hyperliquid venue carrying ETH first (priority 0, at most 50 ETH); BTC's band wide. */
function withHl(url: string, d: Devnet): (y: string) => string {
  return (y) =>
    y
      .replace('venues:\n', `venues:\n  hl: { kind: hyperliquid, apiUrl: ${url}, user: ${d.address('portfolioDemo')}, markets: { ETH: ETH }, bridge: ${BRIDGE}, trigger: 0.15, target: 0.25, maxTopUp: 50000 }\n`)
      .replace('instruments:\n', 'instruments:\n  - { venue: hl, asset: ETH, priority: 0, weight: 1, maxSize: 50 }\n')
      .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0001, maxTrade: 1000, maxNotionalPerDayUsd: 100000000 }');
}

const positionUnits = (h: DevnetHyperliquid, d: Devnet): bigint => (h.server.exchange.accounts.get(d.address('portfolioDemo').toLowerCase())?.positions.get('ETH')?.lots ?? 0n) * LOT;
const orders = (dir: string) => {
  const j = openJournal(join(dir, 'journal.sqlite'), Date.now, { lock: false });
  try {
    return j.orders.recent('hl', 100).reverse();
  } finally {
    j.close();
  }
};
const noWait = { backoff: { sleep: async () => {} } };

describe('the portfolio keeper on Hyperliquid', () => {
  it('an ETH move is hedged on Hyperliquid by an IOC order the agent signs, journaled with its cloid before it is sent', async () => {
    const d = devnet();
    const h = await startHl(d);
    const agent = await approvedAgent(d, h.server.url);
    const { keeper, lines, dir } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), env: { HYPERLIQUID_AGENT_KEY: agent }, keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    const hedge = r.plan.actions.find((a) => a.kind === 'adjustHedge' && a.venue === 'hl');
    expect(hedge?.kind).toBe('adjustHedge');
    if (hedge?.kind !== 'adjustHedge') return;
    expect(hedge.sizeDeltaUnits).toBeLessThan(0n);
    expect(r.results.find((x) => x.action === hedge)?.outcome).toBe('done');
    // Truncated to the coin's lots, filled in full: the venue's position is exactly that.
    const lots = -hedge.sizeDeltaUnits / LOT;
    expect(positionUnits(h, d)).toBe(-lots * LOT);
    const [row] = orders(dir);
    expect(row).toMatchObject({ status: 'filled', isBuy: 0, coin: 'ETH', filledUnits: (-lots * LOT).toString() });
    expect(row!.cloid).toMatch(/^0x[0-9a-f]{32}$/);
    expect(h.server.exchange.orderOf(d.address('portfolioDemo'), row!.cloid)?.h.status).toBe('filled');
    // `keeper history` lists the order under its intent.
    const j = openJournal(join(dir, 'journal.sqlite'), Date.now, { lock: false });
    const history = formatHistory(j.recentIntents(10).map((i) => ({ ...i, txs: j.txsOfIntent(i.id), orders: j.orders.ofIntent(i.id) })));
    j.close();
    expect(history).toContain(`hl order sell ${row!.sz} ETH IOC at ${row!.px}  filled, filled ${row!.filledUnits} units  cloid ${row!.cloid}`);
    const sent = lines().find((l) => l['event'] === 'hyperliquid.order.sent');
    expect(sent?.['signer']).toBe(privateKeyToAccount(agent).address);
    const next = await keeper.tickOnce();
    expect(next.assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
    expect(next.snapshot.venues['hl']?.kind === 'hyperliquid' && next.snapshot.venues['hl'].markets['ETH']?.sizeUnits).toBe(-lots * LOT);
    expect(lines().some((l) => l['event'] === 'hyperliquid.position_drift')).toBe(false);
    keeper.close();
  });

  it('a signing key the venue does not know is refused by the venue and named; nothing trades, the order is journaled rejected', async () => {
    const d = devnet();
    const h = await startHl(d);
    const stranger = generatePrivateKey();
    const { keeper, dir } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), env: { HYPERLIQUID_AGENT_KEY: stranger }, keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    const res = r.results.find((x) => x.action.kind === 'adjustHedge' && x.action.venue === 'hl');
    expect(res?.outcome).toBe('failed');
    expect(res?.reason).toContain(`hyperliquid refused the signature of ${privateKeyToAccount(stranger).address}`);
    expect(positionUnits(h, d)).toBe(0n);
    expect(orders(dir).map((o) => o.status)).toEqual(['rejected']);
    keeper.close();
  });

  it('a partial fill is booked at what filled and the rest is replanned next tick', async () => {
    const d = devnet();
    // 0.1 ETH a level, two levels a side: at most 0.2 ETH fills per order until the book requotes.
    const h = await startHl(d, { coin: { book: { levels: 2, spacingBps: 5, levelLots: 1_000n } } });
    const { keeper, lines, dir } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    expect(r.results.find((x) => x.action.kind === 'adjustHedge' && x.action.venue === 'hl')?.outcome).toBe('done');
    expect(positionUnits(h, d)).toBe(-2_000n * LOT);
    expect(orders(dir)[0]).toMatchObject({ status: 'partial', filledUnits: (-2_000n * LOT).toString() });
    expect(lines().some((l) => l['event'] === 'hyperliquid.order.partial')).toBe(true);
    h.server.exchange.books.get('ETH')!.configure({ levels: 10, spacingBps: 5, levelLots: 10n ** 6n });
    const next = await keeper.tickOnce();
    const second = next.plan.actions.find((a) => a.kind === 'adjustHedge' && a.venue === 'hl');
    expect(second?.kind === 'adjustHedge' && second.sizeDeltaUnits).toBeLessThan(0n);
    expect(orders(dir).map((o) => o.status)).toEqual(['partial', 'filled']);
    expect((await keeper.tickOnce()).assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
    // The keeper's own fills are not drift.
    expect(lines().some((l) => l['event'] === 'hyperliquid.position_drift')).toBe(false);
    keeper.close();
  });

  it('an order whose answer is lost is asked about by cloid after a restart and booked; it is never sent twice', async () => {
    const d = devnet();
    const h = await startHl(d);
    const first = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    // The venue executes the order; the proxy in front of it answers 502.
    h.server.injectFault(502, 1, { endpoint: 'exchange', afterProcessing: true });
    const r = await first.keeper.tickOnce();
    expect(r.results.find((x) => x.action.kind === 'adjustHedge' && x.action.venue === 'hl')?.outcome).toBe('pending');
    const filled = positionUnits(h, d);
    expect(filled).toBeLessThan(0n);
    expect(orders(first.dir).map((o) => o.status)).toEqual(['unknown']);
    // `status` names it, from the journal.
    const [open] = orders(first.dir);
    const text = formatPortfolioStatus(first.portfolio, r.snapshot, r.assessment, r.doubts, { unsettledOrders: { hl: [open!] } });
    expect(text).toContain(`hl: order ${open!.cloid} (sell ${open!.sz} ETH at ${open!.px}) unknown: the venue is asked before anything else is sent there`);
    first.keeper.close();
    const exchangeRequests = h.server.requests.exchange;

    const second = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), dir: first.dir, keeper: { hyperliquid: noWait } });
    const t = await second.keeper.tickOnce();
    // Booked at what the venue filled, at its fills' average price (userFills by oid).
    const venueFill = [...h.server.exchange.accounts.get(d.address('portfolioDemo').toLowerCase())!.fills].pop()!;
    expect(orders(first.dir)).toMatchObject([{ status: 'filled', filledUnits: filled.toString(), avgPxE8: venueFill.pxE8.toString() }]);
    expect(second.lines().some((l) => l['event'] === 'hyperliquid.order.settled')).toBe(true);
    expect(t.assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
    expect(h.server.requests.exchange).toBe(exchangeRequests); // no second order
    expect(positionUnits(h, d)).toBe(filled);
    second.keeper.close();
  });

  it('a position changed behind the keeper\'s back is reported as drift and replanned from the venue\'s position, not compounded', async () => {
    const d = devnet();
    const h = await startHl(d);
    const { keeper, lines } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    await keeper.tickOnce();
    const hedged = positionUnits(h, d);
    // Someone buys 2 ETH on the account by hand (the user's own key, through the SDK).
    const user = new ExchangeClient({ transport: new HttpTransport({ apiUrl: h.server.url }), wallet: privateKeyToAccount(d.key('portfolioDemo')) });
    const px = ((ETH_USD * 97n) / 100n) * 101n / 100n / E8;
    await user.order({ orders: [{ a: 0, b: true, p: px.toString(), s: '2', r: false, t: { limit: { tif: 'Ioc' } } }], grouping: 'na' });
    expect(positionUnits(h, d)).toBe(hedged + 2n * ONE);
    const r = await keeper.tickOnce();
    const drift = lines().filter((l) => l['event'] === 'hyperliquid.position_drift');
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ asset: 'ETH', driftUnits: (2n * ONE).toString() });
    // Replanned from the venue's 2 ETH less short: sold back toward the target, once.
    const again = r.plan.actions.find((a) => a.kind === 'adjustHedge' && a.venue === 'hl');
    expect(again?.kind === 'adjustHedge' && again.sizeDeltaUnits).toBeLessThan(-ONE);
    const after = positionUnits(h, d);
    expect(after - hedged).toBeLessThan(ONE / 2n); // back within the band of where it was
    expect(after).toBeGreaterThan(hedged - ONE / 2n);
    await keeper.tickOnce();
    expect(lines().filter((l) => l['event'] === 'hyperliquid.position_drift')).toHaveLength(1);
    keeper.close();
  });

  it('an order resting on a hedged coin (not the keeper\'s) is read with the account and said once', async () => {
    const d = devnet();
    const h = await startHl(d);
    const user = new ExchangeClient({ transport: new HttpTransport({ apiUrl: h.server.url }), wallet: privateKeyToAccount(d.key('portfolioDemo')) });
    // A bid far under the market: it rests.
    await user.order({ orders: [{ a: 0, b: true, p: '1000', s: '1', r: false, t: { limit: { tif: 'Gtc' } } }], grouping: 'na' });
    const { keeper, lines } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), keeper: { hyperliquid: noWait } });
    const r = await keeper.tickOnce();
    expect(r.snapshot.venues['hl']?.kind === 'hyperliquid' && r.snapshot.venues['hl'].markets['ETH']?.restingOrders).toBe(1);
    await keeper.tickOnce();
    expect(lines().filter((l) => l['event'] === 'hyperliquid.resting_orders')).toMatchObject([{ asset: 'ETH', coin: 'ETH', count: 1 }]);
    keeper.close();
  });

  it('a 429 on the order backs off and the order is placed once', async () => {
    const d = devnet();
    const h = await startHl(d);
    const { keeper, lines, dir } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    h.server.injectFault(429, 2, { endpoint: 'exchange' });
    const r = await keeper.tickOnce();
    expect(r.results.find((x) => x.action.kind === 'adjustHedge' && x.action.venue === 'hl')?.outcome).toBe('done');
    expect(lines().filter((l) => l['event'] === 'hyperliquid.rate_limited').map((l) => l['delayMs'])).toEqual([250, 500]);
    expect(h.server.requests.exchange).toBe(3);
    expect(orders(dir).map((o) => o.status)).toEqual(['filled']);
    expect(h.server.exchange.history.size).toBe(1);
    keeper.close();
  });

  it('a top-up is a USDC transfer to the venue\'s bridge; while the venue has not credited it, it is counted and not sent again; uncredited for 30 min, the venue is doubted', async () => {
    const d = devnet();
    let deskOffsetMs = 0;
    const me = d.address('portfolioDemo');
    const h = await startHl(d, { cashUsd: 2_000n, creditDelayMs: 10 * 60_000 });
    // A 5 ETH short on 2,000 USD: ratio 0.2; ETH +10% takes it under the 0.15 trigger.
    const user = new ExchangeClient({ transport: new HttpTransport({ apiUrl: h.server.url }), wallet: privateKeyToAccount(d.key('portfolioDemo')) });
    await user.order({ orders: [{ a: 0, b: false, p: '1980', s: '5', r: false, t: { limit: { tif: 'Ioc' } } }], grouping: 'na' });
    const { keeper, lines } = await portfolioKeeperOn(d, {
      // ETH's band wide: no hedge trade, the top-up alone.
      yaml: (y) => withHl(h.server.url, d)(y).replace(/^ {4}ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 1000, bandPct: 0, hysteresis: 0.5, minTrade: 0.0001, maxTrade: 1000, maxNotionalPerDayUsd: 100000000 }'),
      keeper: { hyperliquid: { ...noWait, now: () => Date.now() + deskOffsetMs } },
    });
    const usdc = (a: Address) => d.as('portfolioDemo').publicClient.readContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [a] });
    await setPortfolioPrices(d, { eth: (ETH_USD * 110n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    const topUp = r.plan.actions.find((a) => a.kind === 'topUp' && a.venue === 'hl');
    expect(topUp?.kind).toBe('topUp');
    if (topUp?.kind !== 'topUp') return;
    expect(r.results.find((x) => x.action === topUp)?.outcome).toMatch(/done|pending/);
    await keeper.settle({ timeoutMs: 10_000 });
    expect(await usdc(BRIDGE)).toBe(topUp.amountUnits);
    expect(keeper.desks['hl']!.depositsInFlight.map((x) => x.units)).toEqual([topUp.amountUnits]);
    // Not credited yet: the next tick counts it in flight and does not top up again.
    const next = await keeper.tickOnce();
    expect(next.plan.actions.filter((a) => a.kind === 'topUp' && a.venue === 'hl')).toEqual([]);
    const b = next.assessment.venues.find((v) => v.venue === 'hl')!.buckets[0]!;
    expect(b.breached).toBe(false);
    // Half an hour on and still not credited (the venue's clock has not reached the bridge's delay):
    // the keeper no longer knows the account's collateral, and leaves the venue alone.
    deskOffsetMs = 31 * 60_000;
    const stuck = await keeper.tickOnce();
    expect(stuck.doubts.venues['hl']).toMatch(/^deposit 0x[0-9a-f]{64} sent 31 min ago is not credited by the venue/);
    expect(stuck.plan.actions.filter((a) => a.kind === 'topUp' && a.venue === 'hl')).toEqual([]);
    // The venue credits it (its clock passes the bridge's delay): the ledger names the hash.
    clockOffsetMs = 11 * 60_000;
    const later = await keeper.tickOnce();
    expect(later.doubts.venues['hl']).toBeUndefined();
    expect(keeper.desks['hl']!.depositsInFlight).toEqual([]);
    expect(lines().some((l) => l['event'] === 'hyperliquid.deposit.credited')).toBe(true);
    expect(later.plan.actions.filter((a) => a.kind === 'topUp' && a.venue === 'hl')).toEqual([]);
    const credited = h.server.exchange.ledger.filter((l) => l.user === me.toLowerCase());
    expect(credited).toHaveLength(1);
    keeper.close();
  });

  it('a dry-run plans and describes the order and sends nothing to the venue', async () => {
    const d = devnet();
    const h = await startHl(d);
    const { keeper, dir } = await portfolioKeeperOn(d, { yaml: withHl(h.server.url, d), dryRun: true, keeper: { hyperliquid: noWait } });
    await setPortfolioPrices(d, { eth: (ETH_USD * 97n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    expect(r.results.find((x) => x.action.kind === 'adjustHedge' && x.action.venue === 'hl')?.outcome).toBe('simulated');
    expect(h.server.requests.exchange).toBe(0);
    expect(orders(dir)).toEqual([]);
    keeper.close();
  });
});
