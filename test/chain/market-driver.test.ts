import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createPublicClient, erc20Abi, http } from 'viem';
import { priceFeedAbi } from '../../contracts-abi/index.js';
import { createLogger, createRecordingLogger } from '../../src/monitor/logger.js';
import { createMarketDriver, movePrice } from '../../src/devnet/market-driver.js';
import { concatPaths, createGbmPath, rampPath, scriptedPath, takePrices, type PricePath } from '../../src/devnet/price-path.js';
import { serveDevnet, type DevnetAddressesFile } from '../../src/devnet/serve.js';
import { poolTokens, readPoolState } from '../../src/devnet/uniswap.js';
import { priceE8FromSqrtPriceX96 } from '../../src/spot/uniswap-math.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

const E8 = 10n ** 8n;
const devnet = useDevnet();

async function feedAnswer(d: Devnet): Promise<bigint> {
  return d.as('liquidator').publicClient.readContract({ address: d.addresses.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' });
}

async function poolPriceE8(d: Devnet): Promise<bigint> {
  const state = await readPoolState(d.as('liquidator').publicClient, d.addresses.uniswap.pool);
  return priceE8FromSqrtPriceX96(state.sqrtPriceX96, poolTokens(d.addresses.weth, d.addresses.usdc).baseIsToken0);
}

function expectWithinBps(actual: bigint, expected: bigint, bps: bigint): void {
  const diff = actual > expected ? actual - expected : expected - actual;
  expect(diff * 10_000n, `${actual} vs ${expected}`).toBeLessThanOrEqual(bps * expected);
}

describe('market driver', () => {
  it('each step sets the feed to the path price and arbitrages the pool to it, up a +30% ramp and back down', async () => {
    const d = devnet();
    const up = takePrices(rampPath(2_000n * E8, 2_600n * E8, 5, 'geometric'), 5);
    const down = takePrices(rampPath(2_600n * E8, 1_700n * E8, 5), 5);
    const expected = [...up, ...down, 2_000n * E8];
    const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: d.addresses, path: scriptedPath(expected), arbitrage: true });
    for (const [i, priceE8] of expected.entries()) {
      const r = await driver.step();
      expect(r.step).toBe(i + 1);
      expect(r.priceE8).toBe(priceE8);
      expect(r.arbitrage).toBe('at-target');
      expect(await feedAnswer(d)).toBe(priceE8);
      const pool = await poolPriceE8(d);
      expect(r.poolPriceE8).toBe(pool);
      expectWithinBps(pool, priceE8, 5n);
    }
    expect(driver.done).toBe(true);
    await expect(driver.step()).rejects.toThrow(/path has ended/);
  });

  it('without arbitrage only the feed moves', async () => {
    const d = devnet();
    const before = await poolPriceE8(d);
    const r = await movePrice(d.rpcUrl, d.addresses, 2_300n * E8, { arbitrage: false });
    expect(r).toMatchObject({ priceE8: 2_300n * E8, poolPriceE8: before, arbitrage: 'off' });
    expect(await feedAnswer(d)).toBe(2_300n * E8);
    expect(await poolPriceE8(d)).toBe(before);
  });

  it('movePrice moves both feed and pool in one call', async () => {
    const d = devnet();
    const r = await movePrice(d.rpcUrl, d.addresses, 1_500n * E8);
    expect(await feedAnswer(d)).toBe(1_500n * E8);
    expectWithinBps(await poolPriceE8(d), 1_500n * E8, 5n);
    expect(r.arbitrage).toBe('at-target');
  });

  it.each([
    ['USDC', 2_600n * E8],
    ['WETH', 1_400n * E8],
  ] as const)('refills the market maker when its %s runs out', async (token, targetE8) => {
    const d = devnet();
    const maker = d.as('marketMaker');
    const address = token === 'USDC' ? d.addresses.usdc : d.addresses.weth;
    const read = () => maker.publicClient.readContract({ address, abi: erc20Abi, functionName: 'balanceOf', args: [d.address('marketMaker')] });
    // Leave 1 base unit: far too little to move a 20M USD pool by 30%.
    const drained = (await read()) - 1n;
    const hash = await maker.walletClient.writeContract({ address, abi: erc20Abi, functionName: 'transfer', args: [d.address('liquidator'), drained] });
    await maker.publicClient.waitForTransactionReceipt({ hash });
    expect(await read()).toBe(1n);

    const r = await movePrice(d.rpcUrl, d.addresses, targetE8);
    expect(r.toppedUp).toBe(true);
    expect(r.arbitrage).toBe('at-target');
    expectWithinBps(await poolPriceE8(d), targetE8, 5n);
    expect(await read()).toBeGreaterThan(1n);
  });

  it('refills and retries when a big move needs more than the inventory above its floor', async () => {
    const d = devnet();
    const maker = d.as('marketMaker');
    const usdc = d.addresses.usdc;
    const read = () => maker.publicClient.readContract({ address: usdc, abi: erc20Abi, functionName: 'balanceOf', args: [d.address('marketMaker')] });
    // Just above the 5M floor, so no refill before the swap; +60% on the pool needs ~5.3M USDC.
    const keepUnits = 5_000_001n * 10n ** 6n;
    const hash = await maker.walletClient.writeContract({ address: usdc, abi: erc20Abi, functionName: 'transfer', args: [d.address('liquidator'), (await read()) - keepUnits] });
    await maker.publicClient.waitForTransactionReceipt({ hash });

    const r = await movePrice(d.rpcUrl, d.addresses, 3_200n * E8);
    expect(r).toMatchObject({ arbitrage: 'at-target', toppedUp: true });
    expectWithinBps(await poolPriceE8(d), 3_200n * E8, 5n);
    // The first swap spent everything, then one refill of 20M paid for the rest.
    expect(await read()).toBeLessThan(20_000_000n * 10n ** 6n);
    expect(await read()).toBeGreaterThan(15_000_000n * 10n ** 6n);
  });

  it('the background loop runs the path to its end, logging a failed step and going on', async () => {
    const d = devnet();
    const { logger, lines } = createRecordingLogger();
    // A path that yields a nonsense price in the middle (the driver refuses it, the loop goes on).
    const path: PricePath = [2_100n * E8, 0n, 2_200n * E8].values();
    const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: d.addresses, path, arbitrage: true, logger });
    driver.start(1);
    expect(driver.running).toBe(true);
    await vi.waitFor(() => expect(driver.running).toBe(false), { timeout: 30_000, interval: 20 });
    await driver.stop();
    expect(driver.steps).toBe(2);
    expect(await feedAnswer(d)).toBe(2_200n * E8);
    expectWithinBps(await poolPriceE8(d), 2_200n * E8, 5n);
    const events = lines().map((l) => l['msg']);
    expect(events.filter((m) => m === 'market.step')).toHaveLength(2);
    expect(events).toContain('market.step_failed');
    expect(events).toContain('market.path_ended');
  });

  it('stop() ends an endless GBM loop after the step in flight; the feed holds the last price of the seeded path', async () => {
    const d = devnet();
    const gbm = { seed: 9, startPriceE8: 2_000n * E8, volAnnual: 0.8, driftAnnual: 0, stepSec: 3600 };
    const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: d.addresses, path: createGbmPath(gbm), arbitrage: true });
    driver.start(0);
    await vi.waitFor(() => expect(driver.steps).toBeGreaterThanOrEqual(3), { timeout: 30_000, interval: 10 });
    await driver.stop();
    expect(driver.running).toBe(false);
    const n = driver.steps;
    const last = takePrices(createGbmPath(gbm), n).at(-1)!;
    expect(await feedAnswer(d)).toBe(last);
    expectWithinBps(await poolPriceE8(d), last, 5n);
    // A stopped driver still steps on demand, continuing the same path.
    const r = await driver.step();
    expect(r.priceE8).toBe(takePrices(createGbmPath(gbm), n + 1).at(-1));
  });

  it('a path of chained ramps keeps the pool on the feed over many steps', async () => {
    const d = devnet();
    const path = concatPaths(rampPath(2_000n * E8, 2_800n * E8, 8, 'geometric'), rampPath(2_800n * E8, 1_500n * E8, 8, 'geometric'));
    const driver = createMarketDriver({ rpcUrl: d.rpcUrl, addresses: d.addresses, path, arbitrage: true });
    let worstBps = 0n;
    while (!driver.done) {
      const r = await driver.step();
      const diff = r.poolPriceE8 > r.priceE8 ? r.poolPriceE8 - r.priceE8 : r.priceE8 - r.poolPriceE8;
      const bps = (diff * 10_000n) / r.priceE8;
      if (bps > worstBps) worstBps = bps;
    }
    expect(driver.steps).toBe(16);
    expect(await feedAnswer(d)).toBe(1_500n * E8);
    expect(worstBps).toBeLessThanOrEqual(5n);
  });
});

describe('serveDevnet', () => {
  const dir = mkdtempSync(join(tmpdir(), 'serve-devnet-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts anvil from the dump, writes a parsable addresses file, drives the market, and stop() kills anvil', async () => {
    const addressesOut = join(dir, 'nested', 'devnet.addresses.json');
    let printed = '';
    const served = await serveDevnet({
      addressesOut,
      drive: true,
      market: { intervalMs: 0, seed: 5 },
      logger: createLogger({ level: 'silent', format: 'json' }),
      print: (t) => (printed += t),
    });
    try {
      expect(existsSync(addressesOut)).toBe(true);
      const file = JSON.parse(readFileSync(addressesOut, 'utf8')) as DevnetAddressesFile;
      expect(file.rpcUrl).toBe(served.rpcUrl);
      expect(file.chainId).toBe(31337);
      expect(file.ethUsdFeed).toBe(served.addresses.ethUsdFeed);
      expect(file.uniswap.pool).toBe(served.addresses.uniswap.pool);
      expect(printed).toContain(served.rpcUrl);
      expect(printed).toContain(file.ethUsdFeed);
      expect(printed).toContain('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'); // anvil key #0
      expect(printed).toMatch(/well-known test keys/);

      // The driver moves the feed along serve's default market (GBM + jumps) from the dump's 2,000.
      await vi.waitFor(() => expect(served.driver?.steps ?? 0).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 20 });
      await served.driver?.stop();
      const steps = served.driver?.steps ?? 0;
      const jumps = { intensityPerYear: 12, meanPct: 0, stdPct: 5 };
      const expected = takePrices(createGbmPath({ seed: 5, startPriceE8: 2_000n * E8, volAnnual: 0.8, driftAnnual: 0, stepSec: 3600, jumps }), steps).at(-1);
      const client = createPublicClient({ transport: http(served.rpcUrl) });
      expect(await client.readContract({ address: file.ethUsdFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(expected);
    } finally {
      await served.stop();
    }
    const answers = await fetch(served.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    }).then(
      () => true,
      () => false,
    );
    expect(answers).toBe(false);
    await served.stop(); // idempotent
  });
});
