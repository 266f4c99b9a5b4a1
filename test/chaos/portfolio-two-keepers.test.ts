import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { devnetPortfolioYaml } from '../../src/devnet/portfolio-file.js';
import { startRpcProxy, type RpcProxy } from '../../src/devnet/rpc-proxy.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { setPortfolioPrices } from '../helpers/portfolio-keeper.js';
import { recordFault } from './record.js';
import { portfolioEthTradesSince } from './helpers.js';
import { newDataDir, onChain, readJournal, reads, startKeeper, waitUntil, type KeeperProcess, type Line } from './keeper-process.js';

/**
 * Two portfolio keepers on one key, each with its own journal (a second host started by mistake):
 * the one that sees nonces it did not send stops and says so, so each price move is hedged at most
 * once, and every transaction on chain is in one of the journals.
 */
const MOVES = [1_900n, 1_820n, 2_000n];
const E8 = 10n ** 8n;

/** ETH hedged on the perp only (Aave's WETH debt still counts, untracked); BTC's band wide. */
const yamlFor = (d: Devnet) =>
  devnetPortfolioYaml(d.addresses)
    .replace(/^ {2}- \{ venue: aave, asset: ETH.*\n/m, '')
    .replace(/^ {4}ETH: \{ hedgeRatio.*$/m, '    ETH: { hedgeRatio: 1, band: 0.5, bandPct: 0, hysteresis: 0.5, minTrade: 0.01, maxTrade: 50, maxNotionalPerDayUsd: 100000000 }')
    .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 100000000 }');


describe('chaos: two portfolio keepers on one key', { timeout: 150_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('separate journals: at most one ETH hedge per move, every transaction journaled, the second keeper alarms', async () => {
    const d = devnet();
    const pc = d.as('portfolioDemo').publicClient;
    const me = d.address('portfolioDemo');
    const nonceBefore = await pc.getTransactionCount({ address: me });
    const start = await pc.getBlockNumber({ cacheTime: 0 });
    const dirs = [newDataDir('pf-twin-a'), newDataDir('pf-twin-b')];
    const keepers: Array<{ k: KeeperProcess; proxy: RpcProxy }> = await Promise.all(
      dirs.map(async (dir) => {
        const proxy = await startRpcProxy({ upstream: d.rpcUrl });
        cleanup.push(() => proxy.stop());
        const file = join(dir, 'keeper.yaml');
        writeFileSync(file, yamlFor(d));
        const k = startKeeper(['run', '--adopt-history'], { RPC_URLS: proxy.url, PRIVATE_KEY: d.key('portfolioDemo'), PORTFOLIO_FILE: file, TICK_MODE: 'block', DATA_DIR: dir });
        cleanup.push(() => k.kill9());
        return { k, proxy };
      }),
    );
    await Promise.all(keepers.map((x) => x.k.waitForLine((l: Line) => l['event'] === 'tick', 'a first tick')));
    // One-second blocks: both keepers see the same head, and the second reads the first's pending nonce.
    await d.test.setIntervalMining({ interval: 1 });
    cleanup.push(async () => {
      await d.test.setIntervalMining({ interval: 0 });
      await d.test.setAutomine(true);
    });
    const alive = () => keepers.filter((x) => !x.k.exited);
    const perMove: number[] = [];
    for (const price of MOVES) {
      const from = (await pc.getBlockNumber({ cacheTime: 0 })) + 1n;
      await setPortfolioPrices(d, { eth: price * E8, btc: 60_000n * E8 });
      const base = new Map(alive().map((x) => [x, reads(x.proxy)]));
      await waitUntil(
        async () => (await portfolioEthTradesSince(d, from)).length >= 1 || alive().every((x) => reads(x.proxy) >= (base.get(x) ?? 0) + 5),
        `a hedge after the move to ${price}`, 45_000, 100, keepers.map((x) => x.k),
      );
      // Four more reads by each keeper still running: four chances to trade again.
      const more = new Map(alive().map((x) => [x, reads(x.proxy)]));
      await waitUntil(() => alive().every((x) => reads(x.proxy) >= (more.get(x) ?? 0) + 4), `four more reads after the move to ${price}`, 45_000, 50, keepers.map((x) => x.k));
      perMove.push((await portfolioEthTradesSince(d, from)).length);
    }
    const runs = await Promise.all(keepers.map((x) => x.k.stop()));
    const trades = await portfolioEthTradesSince(d, start + 1n);
    expect(perMove.every((n) => n <= 1), `ETH trades per move: ${perMove.join(', ')}`).toBe(true);
    expect(trades.length).toBeGreaterThanOrEqual(1);
    const journaled = new Set(dirs.flatMap((dir) => onChain(readJournal(join(dir, 'journal.sqlite')).txs).map((t) => t.hash)));
    expect(trades.filter((t) => !journaled.has(t.transactionHash))).toEqual([]);
    expect(await pc.getTransactionCount({ address: me })).toBe(nonceBefore + journaled.size);
    const alarms = runs.flatMap((r) => r.lines.filter((l) => l['event'] === 'safe_mode.entered'));
    expect(alarms.length).toBeGreaterThanOrEqual(1);
    const usd = trades.slice(MOVES.length).reduce((s, t) => s + Math.abs(Number(t.args.sizeDeltaWei) / 1e18) * (Number(t.args.fillPriceE8) / 1e8), 0);
    recordFault({ fault: 'two portfolio keepers on one key, separate journals', survived: true, lostUsd: usd, note: `${trades.length} ETH trades for ${MOVES.length} moves` });
  });
});
