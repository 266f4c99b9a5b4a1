import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDevnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { startRpcProxy } from '../../src/devnet/rpc-proxy.js';
import { mulberry32 } from '../../src/core/risk/random.js';
import { recordFault } from './record.js';
import { KILL_POINTS, killAndRestart, type KillPoint } from './kill-cycle.js';
import { duplicateUsd, nonceOf, tradesSince } from './helpers.js';
import { judge, keeperEnv, newDataDir, onChain, readJournal, startKeeper, type KeeperProcess, type Line } from './keeper-process.js';

/**
 * `npm run chaos` sets CHAOS_KILLS=30; plain `npm test` runs a few cycles to stay fast.
 * CHAOS_SEED replays a run: the kill points, prices and mining modes all come from it.
 */
const KILLS = Number(process.env['CHAOS_KILLS'] ?? 4);
const SEED = Number(process.env['CHAOS_SEED'] ?? 20_240_611);

const POINTS = KILL_POINTS;

const isTrade = (l: Line) => l['event'] === 'tx.sent' && l['label'] === 'perp.trade';

describe('chaos: kill -9 at random points, again and again', () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it(`${KILLS} kill -9 cycles (seed ${SEED}): exactly one hedge per move, every nonce journaled`, async () => {
    const d = devnet();
    const rng = mulberry32(SEED);
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop(), () => d.test.setAutomine(true));
    const dataDir = newDataDir('kill-loop');
    const env = keeperEnv(d, dataDir, proxy.url);
    const nonceBefore = await nonceOf(d);
    const start = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    let keeper: KeeperProcess = startKeeper(['run', '--adopt-history'], env);
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');

    const cycles: Array<{ i: number; point: KillPoint; manual: boolean; price: bigint; trades: number }> = [];
    for (let i = 0; i < KILLS; i++) {
      // Alternate down and up by 6-8%: every move needs one hedge, and the price stays near $2000.
      const price = (i % 2 === 0 ? 1_860n : 2_000n) + BigInt(Math.floor(rng() * 40));
      const point = POINTS[Math.floor(rng() * POINTS.length)] as KillPoint;
      // Sometimes nothing is mined while the keeper works: the kill then leaves a hedge pending.
      const manual = point !== 'on tx.mined' && rng() < 0.35;
      const delayMs = Math.floor(rng() * 1_500);
      const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
      const since = keeper.lines().length;
      await setMarketPrice(d, price * E8);
      if (manual) await d.test.setAutomine(false);
      keeper = await killAndRestart({ d, keeper, proxy, env, cycle: i, point, manual, delayMs, since, isTrade, hedgesOnChain: async () => (await tradesSince(d, from)).length });
      cycles.push({ i, point, manual, price, trades: (await tradesSince(d, from)).length });
    }
    const last = await keeper.stop();

    const trades = await tradesSince(d, start + 1n);
    const table = cycles.map((c) => `#${c.i} ${c.point}${c.manual ? ' (nothing mined)' : ''} $${c.price}: ${c.trades}`).join('\n');
    expect(cycles.filter((c) => c.trades !== 1), table).toEqual([]);
    expect(trades.length).toBe(KILLS);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    const journaled = new Set(onChain(txs).map((t) => t.hash));
    const unjournaled = trades.filter((t) => !journaled.has(t.transactionHash)).map((t) => {
      const rows = txs.filter((x) => x.hash === t.transactionHash);
      return `${t.transactionHash} (block ${t.blockNumber}): journal says ${rows.map((r) => `${r.status} nonce ${r.nonce}`).join(', ') || 'nothing'}`;
    });
    expect(unjournaled, table).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + journaled.size);
    expect(txs.filter((t) => t.status === 'dropped' || t.status === 'reorged')).toEqual([]);
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(last.code).toBe(0);
    const byPoint = POINTS.map((p) => `${p}: ${cycles.filter((c) => c.point === p).length}`).join(', ');
    recordFault({ fault: `kill -9 at random points x${KILLS} (seed ${SEED})`, survived: true, lostUsd: duplicateUsd(trades, KILLS), note: byPoint });
  }, 90_000 + KILLS * 25_000);
});
