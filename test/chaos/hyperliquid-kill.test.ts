import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { startDevnetHyperliquid, type DevnetHyperliquid } from '../../src/devnet/hyperliquid/devnet.js';
import { mulberry32 } from '../../src/core/risk/random.js';
import { openJournal } from '../../src/journal/journal.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { recordFault } from './record.js';
import { newDataDir, startKeeper, waitUntil, type KeeperProcess } from './keeper-process.js';

/**
 * kill -9 while a Hyperliquid order is in flight: the keeper (the real CLI, PORTFOLIO_FILE) hedges
 * ETH on the local exchange; each cycle moves the price and kills the process the instant it logs
 * that it sends the order (journaled, request leaving) or a random moment later. Whether the
 * venue got the order or not, the restarted keeper asks the venue by cloid before anything else,
 * and the venue ends with exactly one filled order per move: never a second one.
 */
const CYCLES = Math.max(2, Math.round(Number(process.env['CHAOS_KILLS'] ?? 4) / 2));
const SEED = Number(process.env['CHAOS_SEED'] ?? 20_240_611) + 2;
const E8 = 10n ** 8n;
const BRIDGE: Address = '0x2Df1c51E09aECF9cacB7bc98cB1742757f163dF7';

const yamlFor = (d: Devnet, url: string) =>
  devnetPortfolioYaml(d.addresses)
    .replace('venues:\n', `venues:\n  hl: { kind: hyperliquid, apiUrl: ${url}, user: ${d.address('portfolioDemo')}, markets: { ETH: ETH }, bridge: ${BRIDGE}, trigger: 0.15, target: 0.25, maxTopUp: 50000 }\n`)
    .replace('instruments:\n', 'instruments:\n  - { venue: hl, asset: ETH, priority: 0, weight: 1, maxSize: 100 }\n')
    .replace(/^ {2}- \{ venue: (perp|aave), asset: ETH.*\n/gm, '')
    .replace(/^ {4}ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 0.5, bandPct: 0, hysteresis: 0.5, minTrade: 0.01, maxTrade: 50, maxNotionalPerDayUsd: 100000000 }')
    .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 100000000 }');

describe('chaos: kill -9 with a Hyperliquid order in flight', () => {
  const devnet = useDevnet();
  let hl: DevnetHyperliquid | undefined;
  let keeper: KeeperProcess | undefined;
  afterEach(async () => {
    await keeper?.kill9();
    await hl?.close();
  });

  it(`${CYCLES} cycles (seed ${SEED}): one filled order per move on the venue, every order journaled and settled`, async () => {
    const d = devnet();
    const rng = mulberry32(SEED);
    hl = await startDevnetHyperliquid({
      publicClient: d.as('portfolioDemo').publicClient, feeds: { ETH: d.addresses.ethUsdFeed }, coins: [{ name: 'ETH', szDecimals: 4, maxLeverage: 25 }], usdc: d.addresses.usdc, bridge: BRIDGE,
    });
    const user = d.address('portfolioDemo').toLowerCase();
    hl.server.exchange.deposit(d.address('portfolioDemo'), 200_000n * E8);
    const dataDir = newDataDir('hl-kill');
    const file = join(dataDir, 'keeper.yaml');
    writeFileSync(file, yamlFor(d, hl.server.url));
    const env = { RPC_URLS: d.rpcUrl, PRIVATE_KEY: d.key('portfolioDemo'), PORTFOLIO_FILE: file, TICK_MODE: 'interval', TICK_INTERVAL_MS: '200', DATA_DIR: dataDir };
    keeper = startKeeper(['run', '--adopt-history'], env);
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    const filledOrders = () => [...hl!.server.exchange.history.values()].filter((h) => h.user === user && h.status !== 'open');
    const points: string[] = [];
    const outcomes: string[] = [];
    for (let i = 0; i < CYCLES; i++) {
      const before = filledOrders().length;
      const since = keeper.lines().length;
      // Down and up by 8-10%: each move needs one trade, on Hyperliquid (ETH's only instrument here).
      const price = (i % 2 === 0 ? 1_800n : 2_000n) + BigInt(Math.floor(rng() * 40));
      // A third of the cycles, the venue executes the order and answers 2 s late: the kill lands
      // after the fill, before the keeper hears of it (its journal says "placing").
      const slow = rng() < 1 / 3;
      if (slow) hl.server.injectDelay(2_000, 1, { endpoint: 'exchange' });
      await setPortfolioPrices(d, { eth: price * E8, btc: 60_000n * E8 });
      await keeper.waitForLine((l) => l['event'] === 'hyperliquid.order.sent', `cycle ${i}: an order sent`, 30_000, since);
      const delayMs = slow ? 300 : rng() < 0.5 ? 0 : Math.floor(rng() * 60);
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      await keeper.kill9();
      points.push(slow ? 'answer 2 s late, killed at +300 ms' : delayMs === 0 ? 'on send' : `+${delayMs} ms`);
      keeper = startKeeper(['run'], env);
      await keeper.waitForLine((l) => l['event'] === 'tick', `cycle ${i}: a first tick after the restart`);
      await waitUntil(() => filledOrders().length >= before + 1, `cycle ${i}: the order on the venue`, 30_000, 50, [keeper]);
      // Five more ticks: five chances to send it twice.
      const ticks = keeper.lines().filter((l) => l['event'] === 'tick').length;
      await waitUntil(() => keeper!.lines().filter((l) => l['event'] === 'tick').length >= ticks + 5, `cycle ${i}: five more ticks`, 30_000, 50, [keeper]);
      expect(filledOrders().length, `cycle ${i} (${points[i]})`).toBe(before + 1);
      // The restarted keeper settled the killed one's order with the venue (filled, or never arrived).
      const settled = keeper.lines().filter((l) => l['event'] === 'hyperliquid.order.settled');
      outcomes.push(settled.length === 0 ? 'none open' : settled.map((l) => (l['filledUnits'] === undefined ? 'never arrived' : 'filled before the kill')).join('+'));
    }
    const last = await keeper.stop();
    expect(last.code).toBe(0);
    const j = openJournal(join(dataDir, 'journal.sqlite'), Date.now, { lock: false });
    const rows = j.orders.recent('hl', 1000);
    j.close();
    // Every order the venue filled is a journaled order, booked at what the venue says it filled.
    const venueCloids = new Set(filledOrders().map((h) => h.cloid));
    expect(rows.filter((r) => r.status === 'filled' || r.status === 'partial').map((r) => r.cloid).sort()).toEqual([...venueCloids].sort());
    expect(rows.filter((r) => r.status === 'placing' || r.status === 'unknown')).toEqual([]);
    recordFault({ fault: `hyperliquid: kill -9 with an order in flight x${CYCLES} (seed ${SEED})`, survived: true, lostUsd: 0, note: points.map((p, i) => `${p}: ${outcomes[i]}`).join(', ') });
  }, 60_000 + CYCLES * 30_000);
});
