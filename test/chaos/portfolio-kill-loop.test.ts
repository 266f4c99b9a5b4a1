import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { startRpcProxy } from '../../src/devnet/rpc-proxy.js';
import { mulberry32 } from '../../src/core/risk/random.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { recordFault } from './record.js';
import { portfolioEthTradesSince } from './helpers.js';
import { KILL_POINTS, killAndRestart, type KillPoint } from './kill-cycle.js';
import { newDataDir, onChain, readJournal, startKeeper, type KeeperProcess, type Line } from './keeper-process.js';

/**
 * The kill -9 loop against the portfolio keeper (PORTFOLIO_FILE, the multi-asset demo account):
 * the same promise as the single-asset keeper's: every price move gets exactly one hedge, every
 * transaction that reached the chain is in the journal, and no nonce is unexplained, whatever
 * the instant of the kill. `npm run chaos` sets CHAOS_KILLS=30; plain `npm test` runs a few.
 */
const KILLS = Math.max(2, Math.round(Number(process.env['CHAOS_KILLS'] ?? 4) / 2));
const SEED = Number(process.env['CHAOS_SEED'] ?? 20_240_611) + 1;
const E8 = 10n ** 8n;
const BTC_USD = 60_000n * E8;

const POINTS = KILL_POINTS;

const isTrade = (l: Line) => l['event'] === 'tx.sent' && l['label'] === 'perp.trade ETH';

/** ETH hedged on the perp first (the demo's yaml); BTC's band wide so only ETH trades; a fixed 0.5 ETH band. */
const yamlFor = (d: Devnet) =>
  devnetPortfolioYaml(d.addresses)
    .replace(/^ {4}ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 0.5, bandPct: 0, hysteresis: 0.5, minTrade: 0.01, maxTrade: 50, maxNotionalPerDayUsd: 100000000 }')
    .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 100000000 }');


describe('chaos: kill -9 the portfolio keeper at random points', () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it(`${KILLS} kill -9 cycles (seed ${SEED}): exactly one ETH hedge per move, every nonce journaled`, async () => {
    const d = devnet();
    const rng = mulberry32(SEED);
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop(), () => d.test.setAutomine(true));
    const dataDir = newDataDir('portfolio-kill-loop');
    const file = join(dataDir, 'keeper.yaml');
    writeFileSync(file, yamlFor(d));
    const env = { RPC_URLS: proxy.url, PRIVATE_KEY: d.key('portfolioDemo'), PORTFOLIO_FILE: file, TICK_MODE: 'interval', TICK_INTERVAL_MS: '200', DATA_DIR: dataDir };
    const pc = d.as('portfolioDemo').publicClient;
    const nonceBefore = await pc.getTransactionCount({ address: d.address('portfolioDemo') });
    const start = await pc.getBlockNumber({ cacheTime: 0 });
    let keeper: KeeperProcess = startKeeper(['run', '--adopt-history'], env);
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');

    const cycles: Array<{ i: number; point: KillPoint; manual: boolean; price: bigint; trades: number }> = [];
    for (let i = 0; i < KILLS; i++) {
      // Alternate down and up by 5-7%: every move needs one ETH hedge, and the price stays near $2000.
      const price = (i % 2 === 0 ? 1_870n : 2_000n) + BigInt(Math.floor(rng() * 30));
      const point = POINTS[Math.floor(rng() * POINTS.length)] as KillPoint;
      const manual = point !== 'on tx.mined' && rng() < 0.35;
      const delayMs = Math.floor(rng() * 1_500);
      const from = (await pc.getBlockNumber({ cacheTime: 0 })) + 1n;
      const since = keeper.lines().length;
      await setPortfolioPrices(d, { eth: price * E8, btc: BTC_USD });
      if (manual) await d.test.setAutomine(false);
      keeper = await killAndRestart({ d, keeper, proxy, env, cycle: i, point, manual, delayMs, since, isTrade, hedgesOnChain: async () => (await portfolioEthTradesSince(d, from)).length });
      cycles.push({ i, point, manual, price, trades: (await portfolioEthTradesSince(d, from)).length });
    }
    const last = await keeper.stop();

    const trades = await portfolioEthTradesSince(d, start + 1n);
    const table = cycles.map((c) => `#${c.i} ${c.point}${c.manual ? ' (nothing mined)' : ''} $${c.price}: ${c.trades}`).join('\n');
    expect(cycles.filter((c) => c.trades !== 1), table).toEqual([]);
    expect(trades.length).toBe(KILLS);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    const journaled = new Set(onChain(txs).map((t) => t.hash));
    expect(trades.filter((t) => !journaled.has(t.transactionHash)).map((t) => t.transactionHash), table).toEqual([]);
    // Every nonce the account used since the start is a transaction of ours (approvals, top-ups included).
    expect(await pc.getTransactionCount({ address: d.address('portfolioDemo') })).toBe(nonceBefore + journaled.size);
    expect(txs.filter((t) => t.status === 'dropped' || t.status === 'reorged')).toEqual([]);
    // An independent judge, a dry-run keeper on the real chain: ETH is in its band.
    const { keeper: j } = await portfolioKeeperOn(d, { yaml: () => yamlFor(d), dryRun: true });
    expect((await j.tickOnce()).assessment.assets.find((a) => a.asset === 'ETH')?.inBand).toBe(true);
    j.close();
    expect(last.code).toBe(0);
    const usd = trades.slice(KILLS).reduce((s, t) => s + Math.abs(Number(t.args.sizeDeltaWei) / 1e18) * (Number(t.args.fillPriceE8) / 1e8), 0);
    const byPoint = POINTS.map((p) => `${p}: ${cycles.filter((c) => c.point === p).length}`).join(', ');
    recordFault({ fault: `portfolio keeper: kill -9 at random points x${KILLS} (seed ${SEED})`, survived: true, lostUsd: usd, note: byPoint });
  }, 90_000 + KILLS * 25_000);
});
