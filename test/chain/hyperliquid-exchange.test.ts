import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExchangeClient, HttpTransport } from '@nktkas/hyperliquid';
import { ApiRequestError } from '@nktkas/hyperliquid/api/exchange';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalHyperliquid, type LocalHyperliquidServer } from '../../src/devnet/hyperliquid/server.js';
import { createHyperliquidReader, HyperliquidUnavailableError } from '../../src/venues/hyperliquid-read.js';
import { buildHedgeOrder, createHyperliquidTrader, type HyperliquidOrder } from '../../src/venues/hyperliquid-orders.js';
import { hyperliquidCollateralModel, positionDrift } from '../../src/venues/hyperliquid-collateral.js';
import type { AssetSpec, HyperliquidVenueSpec } from '../../src/portfolio/model.js';

/** Real SDK clients, real EIP-712 signatures, against the local exchange (no chain needed: prices are fixed). */

const E8 = 10n ** 8n;
const ONE = 10n ** 18n;
const eth: AssetSpec = { id: 'ETH', token: '0x0000000000000000000000000000000000000001', decimals: 18, feed: '0x0000000000000000000000000000000000000002', heartbeatSec: 3600, wrapsNative: true };
const assets = { ETH: eth };
const quote = { id: 'USDC', token: '0x0000000000000000000000000000000000000003' as const, decimals: 6, feed: null };

let server: LocalHyperliquidServer;
let clockOffsetMs = 0;
const userKey = generatePrivateKey();
const user = privateKeyToAccount(userKey);
const agentKey = generatePrivateKey();
const agent = privateKeyToAccount(agentKey);
let spec: HyperliquidVenueSpec;

beforeAll(async () => {
  server = await startLocalHyperliquid({
    coins: [
      { name: 'BTC', szDecimals: 5, maxLeverage: 40 },
      { name: 'ETH', szDecimals: 4, maxLeverage: 25, book: { levels: 5, spacingBps: 5, levelLots: 10_000n } }, // 1 ETH a level
    ],
    priceE8: (coin) => (coin === 'ETH' ? 3000n * E8 : 60_000n * E8),
    now: () => Date.now() + clockOffsetMs,
  });
  server.exchange.deposit(user.address, 10_000n * E8);
  spec = {
    kind: 'hyperliquid', id: 'hl', apiUrl: server.url, user: user.address, markets: { ETH: 'ETH' },
    collateral: { triggerE18: 15n * 10n ** 16n, targetE18: 25n * 10n ** 16n, maxTopUpUnits: 0n, maxTopUpPerDayUnits: 0n },
  };
});

afterAll(async () => {
  await server?.close();
});

const reader = () => createHyperliquidReader({ apiUrl: server.url, sleep: async () => {} });
const readSize = async (): Promise<bigint> => (await reader().read(spec, assets, 6)).markets['ETH']!.sizeUnits;

async function orderFor(deltaUnits: bigint): Promise<HyperliquidOrder> {
  const account = await reader().read(spec, assets, 6);
  const built = buildHedgeOrder({ asset: eth, market: account.markets['ETH']!, sizeDeltaUnits: deltaUnits, oraclePriceE8: 3000n * E8, maxSlippageBps: 50 });
  if (built.kind !== 'order') throw new Error(built.reason);
  return built.order;
}

describe('local Hyperliquid exchange through the SDK', () => {
  it('reads the venue: asset index from meta, funding from the asset contexts', async () => {
    const account = await reader().read(spec, assets, 6);
    expect(account.markets['ETH']).toMatchObject({ assetIndex: 1, szDecimals: 4, maxLeverage: 25, sizeUnits: 0n, markPriceE8: 3000n * E8, fundingRateHourlyE18: 12_500_000_000_000n });
    expect(account.accountValueUnits).toBe(10_000_000_000n);
  });

  it('places a signed IOC short with the user key: filled, booked at what filled', async () => {
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: userKey });
    const order = await orderFor(-(ONE / 2n));
    expect(order).toMatchObject({ isBuy: false, p: '2985', s: '0.5', reduceOnly: false });
    const out = await trader.place(order, eth);
    // Best bid: 3000 × (1 − 2.5 bps) = 2999.25, on the tick (5 significant figures) 2999.2.
    expect(out).toEqual({ status: 'filled', filledUnits: -(ONE / 2n), avgPriceE8: 2999_20000000n, oid: expect.any(Number) });
    expect(await readSize()).toBe(-(ONE / 2n));
  });

  it('a wrong signing key is refused by the venue and reported clearly; nothing trades', async () => {
    const stranger = generatePrivateKey();
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: stranger });
    const out = await trader.place(await orderFor(-(ONE / 10n)), eth);
    expect(out.status).toBe('rejected');
    if (out.status !== 'rejected') return;
    expect(out.reason).toContain(`hyperliquid refused the signature of ${privateKeyToAccount(stranger).address}`);
    expect(out.reason).toContain(`User or API Wallet ${privateKeyToAccount(stranger).address.toLowerCase()} does not exist.`);
    expect(await readSize()).toBe(-(ONE / 2n));
  });

  it('an agent is refused until the user approves it, then trades for the user', async () => {
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: agentKey });
    const before = await trader.place(await orderFor(-(ONE / 10n)), eth);
    expect(before).toMatchObject({ status: 'rejected' });
    const userClient = new ExchangeClient({ transport: new HttpTransport({ apiUrl: server.url }), wallet: user, signatureChainId: '0x66eee' });
    await userClient.approveAgent({ agentAddress: agent.address, agentName: 'keeper' });
    const after = await trader.place(await orderFor(-(ONE / 10n)), eth);
    expect(after).toMatchObject({ status: 'filled', filledUnits: -(ONE / 10n) });
    expect(await readSize()).toBe(-(6n * ONE) / 10n);
  });

  it('a buy that shrinks the short goes reduce-only', async () => {
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: agentKey });
    const order = await orderFor(ONE / 10n);
    expect(order.reduceOnly).toBe(true);
    expect(await trader.place(order, eth)).toMatchObject({ status: 'filled', filledUnits: ONE / 10n });
    expect(await readSize()).toBe(-(ONE / 2n));
  });

  it('a thin book fills part of an IOC; the rest is not left resting', async () => {
    server.exchange.books.get('ETH')!.configure({ levels: 2, spacingBps: 5, levelLots: 1_000n }); // 0.1 ETH a level
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: agentKey });
    const out = await trader.place(await orderFor(-(ONE / 2n)), eth);
    expect(out).toMatchObject({ status: 'partial', filledUnits: -(2n * ONE) / 10n });
    expect(await readSize()).toBe(-(7n * ONE) / 10n);
    expect(await reader().info.openOrders({ user: user.address })).toEqual([]);
    server.exchange.books.get('ETH')!.configure({ levels: 5, spacingBps: 5, levelLots: 10_000n });
  });

  it('prices and sizes off the tick/lot rules are refused when forced past our builder', async () => {
    const client = new ExchangeClient({ transport: new HttpTransport({ apiUrl: server.url }), wallet: agent });
    const send = (p: string, s: string) => client.order({ orders: [{ a: 1, b: false, p, s, r: false, t: { limit: { tif: 'Ioc' } } }], grouping: 'na' });
    await expect(send('2985.123', '0.1')).rejects.toThrow(/Order 0: Order has invalid price\. asset=1/);
    await expect(send('2985', '0.12345')).rejects.toThrow(/Order has invalid size\. asset=1/);
    await expect(send('2985', '0.003')).rejects.toThrow(/Order must have minimum value of \$10\. asset=1/);
    await expect(send('2985', '0.003')).rejects.toBeInstanceOf(ApiRequestError);
    // Our builder never produces them: under $10 is skipped, never sent.
    const account = await reader().read(spec, assets, 6);
    expect(buildHedgeOrder({ asset: eth, market: account.markets['ETH']!, sizeDeltaUnits: -(3n * ONE) / 1000n, oraclePriceE8: 3000n * E8, maxSlippageBps: 50 }).kind).toBe('skip');
    expect(await readSize()).toBe(-(7n * ONE) / 10n);
  });

  it('a 429 is backed off by the reader (250 ms, then 500 ms) and reported once it persists; an order under 429 is not placed', async () => {
    const delays: number[] = [];
    const r = createHyperliquidReader({ apiUrl: server.url, attempts: 3, baseDelayMs: 250, sleep: async (ms) => void delays.push(ms) });
    // The read's three requests (meta, account, open orders) run in parallel: four 429s are three first refusals and one second.
    server.injectFault(429, 4);
    expect((await r.read(spec, assets, 6)).markets['ETH']!.sizeUnits).toBe(-(7n * ONE) / 10n);
    expect(delays.sort((a, b) => a - b)).toEqual([250, 250, 250, 500]);
    server.injectFault(429, 9);
    const err = await r.read(spec, assets, 6).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HyperliquidUnavailableError);
    expect((err as Error).message).toBe('hyperliquid API rate-limited (429) after 3 attempt(s)');
    const trader = createHyperliquidTrader({ apiUrl: server.url, signingKey: agentKey });
    const order = await orderFor(-(ONE / 10n));
    server.injectFault(429, 1);
    expect(await trader.place(order, eth)).toMatchObject({ status: 'rejected', rateLimited: true });
    expect(await readSize()).toBe(-(7n * ONE) / 10n);
  });

  it('a position changed behind the keeper is detected as drift', async () => {
    const expected = { ETH: await readSize() };
    // The user trades by hand with the main key.
    const manual = createHyperliquidTrader({ apiUrl: server.url, signingKey: userKey });
    expect(await manual.place(await orderFor(ONE / 5n), eth)).toMatchObject({ status: 'filled' });
    expect(positionDrift(expected, { ETH: await readSize() })).toEqual({ ETH: ONE / 5n });
    expect(positionDrift({ ETH: await readSize() }, { ETH: await readSize() })).toEqual({});
  });

  it('hourly funding on the exchange clock: a short receives size × price × rate', async () => {
    const before = await reader().read(spec, assets, 6);
    clockOffsetMs += 3_600_000;
    const after = await reader().read(spec, assets, 6);
    // 0.5 ETH short × 3000 × 0.0000125 = 0.01875 USD received.
    expect(after.accountValueUnits - before.accountValueUnits).toBe(18_750n);
  });

  it('the model agrees with the venue: maintenance, and the liquidation price within a cent', async () => {
    const account = await reader().read(spec, assets, 6);
    const ctx = { pricesE8: { ETH: 3000n * E8 }, quotePriceE8: E8, assets, quote };
    expect(hyperliquidCollateralModel.consistency!(spec, account, ctx)).toBeNull();
    const [bucket] = hyperliquidCollateralModel.buckets(spec, account, ctx);
    const ours = bucket!.liquidationPricesE8['ETH']!;
    const venue = account.markets['ETH']!.liquidationPriceE8!;
    expect(ours > venue - E8 / 100n && ours < venue + E8 / 100n).toBe(true);
  });
});
