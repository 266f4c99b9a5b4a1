import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { startRpcProxy, type RpcProxy } from '../../src/devnet/rpc-proxy.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, tradesSince } from './helpers.js';
import { keeperEnv, reads, newDataDir, onChain, readJournal, startKeeper, waitUntil, type KeeperProcess } from './keeper-process.js';

const MOVES = [1_900n, 1_820n, 2_000n];

/**
 * Move the price three times; after each move wait until the hedge is on chain (or every keeper
 * still running has read five times without one), then four more reads by each: the chances a
 * second keeper has to trade too. Returns the trades per move.
 */
async function threeMoves(d: Devnet, keepers: Array<{ k: KeeperProcess; proxy: RpcProxy }>): Promise<number[]> {
  const perMove: number[] = [];
  const alive = () => keepers.filter((x) => !x.k.exited);
  const readsNow = () => alive().map((x) => reads(x.proxy));
  const afterReads = async (n: number, what: string) => {
    const base = new Map(alive().map((x) => [x, reads(x.proxy)]));
    await waitUntil(() => alive().every((x) => reads(x.proxy) >= (base.get(x) ?? 0) + n), what, 45_000, 50, keepers.map((x) => x.k));
  };
  for (const price of MOVES) {
    const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    await setMarketPrice(d, price * E8);
    const base = readsNow();
    await waitUntil(
      async () => (await tradesSince(d, from)).length >= 1 || readsNow().every((r, i) => r >= (base[i] ?? 0) + 5),
      `a hedge after the move to ${price}`,
      45_000,
      100,
      keepers.map((x) => x.k),
    );
    // Block mode at 1 s blocks: four reads are four blocks, each a chance to trade again.
    await afterReads(4, `four more reads by each keeper after the move to ${price}`);
    perMove.push((await tradesSince(d, from)).length);
  }
  return perMove;
}

describe('chaos: two keepers on one key', { timeout: 120_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  /** 1 s blocks: both keepers see the same head, and the second reads the first's pending nonce. */
  async function blockTimeOneSecond(d: Devnet): Promise<void> {
    await d.test.setIntervalMining({ interval: 1 });
    cleanup.push(async () => {
      await d.test.setIntervalMining({ interval: 0 });
      await d.test.setAutomine(true);
    });
  }

  it('separate journals (each started as a first run): at most the trades one keeper makes', async () => {
    const d = devnet();
    const nonceBefore = await nonceOf(d);
    const start = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const dirs = [newDataDir('twin-a'), newDataDir('twin-b')];
    const keepers = await Promise.all(
      dirs.map(async (dir) => {
        const proxy = await startRpcProxy({ upstream: d.rpcUrl });
        cleanup.push(() => proxy.stop());
        const k = startKeeper(['run', '--adopt-history'], keeperEnv(d, dir, proxy.url, { TICK_MODE: 'block' }));
        cleanup.push(() => k.kill9());
        return { k, proxy };
      }),
    );
    await Promise.all(keepers.map((x) => x.k.waitForLine((l) => l['event'] === 'tick', 'a first tick')));
    await blockTimeOneSecond(d);
    const perMove = await threeMoves(d, keepers);
    const runs = await Promise.all(keepers.map((x) => x.k.stop()));

    const trades = await tradesSince(d, start + 1n);
    expect(perMove.every((n) => n <= 1), `trades per move: ${perMove.join(', ')}`).toBe(true);
    expect(trades.length).toBeLessThanOrEqual(MOVES.length);
    expect(trades.length).toBeGreaterThanOrEqual(1); // one of them does hedge
    // Two keepers planning the same hedge on the same block can sign the very same bytes: one hash.
    const journaled = new Set(dirs.flatMap((dir) => onChain(readJournal(join(dir, 'journal.sqlite')).txs).map((t) => t.hash)));
    expect(trades.filter((t) => !journaled.has(t.transactionHash))).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + journaled.size);
    // The one that found nonces it cannot explain said so.
    const alarms = runs.flatMap((r) => r.lines.filter((l) => l['event'] === 'safe_mode.entered'));
    expect(alarms.length).toBeGreaterThanOrEqual(1);
    recordFault({ fault: 'two keepers on one key, separate journals', survived: true, lostUsd: duplicateUsd(trades, MOVES.length), note: `${trades.length} trades for ${MOVES.length} moves` });
  });

  it('one shared journal: the second keeper refuses to start, naming the first', async () => {
    const d = devnet();
    const nonceBefore = await nonceOf(d);
    const start = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const dir = newDataDir('shared');
    const proxies = await Promise.all([0, 1].map(() => startRpcProxy({ upstream: d.rpcUrl })));
    for (const p of proxies) cleanup.push(() => p.stop());
    const first = startKeeper(['run', '--adopt-history'], keeperEnv(d, dir, proxies[0]!.url, { TICK_MODE: 'block' }));
    cleanup.push(() => first.kill9());
    await first.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    const second = startKeeper(['run', '--adopt-history'], keeperEnv(d, dir, proxies[1]!.url, { TICK_MODE: 'block' }));
    cleanup.push(() => second.kill9());
    await waitUntil(() => second.exited || reads(proxies[1]!) >= 3, 'the second keeper to refuse (or to run)', 45_000, 50, [second]);
    await blockTimeOneSecond(d);
    const perMove = await threeMoves(d, [
      { k: first, proxy: proxies[0]! },
      { k: second, proxy: proxies[1]! },
    ]);
    const [r1, r2] = await Promise.all([first.stop(), second.stop()]);

    const trades = await tradesSince(d, start + 1n);
    expect(perMove, `trades per move: ${perMove.join(', ')}`).toEqual([1, 1, 1]);
    expect(r2.code, 'the second keeper ran on a journal another keeper holds').not.toBe(0);
    expect(r2.signal).toBeNull();
    expect(`${r2.stderr}${r2.stdout}`).toContain(`pid ${first.pid}`);
    expect(r1.code).toBe(0);
    const { txs } = readJournal(join(dir, 'journal.sqlite'));
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    recordFault({ fault: 'two keepers on one key, one shared journal', survived: true, lostUsd: duplicateUsd(trades, MOVES.length), note: `${trades.length} trades for ${MOVES.length} moves` });
  });
});
