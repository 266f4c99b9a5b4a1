import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDevnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { freePort } from '../../src/devnet/anvil.js';
import { startRpcProxy, TX_METHODS } from '../../src/devnet/rpc-proxy.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, perpAccount, tradesSince } from './helpers.js';
import { headReads, isWarning, judge, keeperEnv, reads, newDataDir, onChain, readJournal, startKeeper, waitUntil, type KeeperProcess } from './keeper-process.js';

async function healthz(port: number): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return { status: 0, body: String(err) };
  }
}

describe('chaos: a stale head (frozen or lagging replica behind a load balancer)', { timeout: 120_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('head frozen right after a price move, transactions served fresh: one hedge, not one per tick; /healthz says so', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('frozen');
    const metricsPort = await freePort();
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const nonceBefore = await nonceOf(d);
    const sizeBefore = (await perpAccount(d)).sizeWei;
    await setMarketPrice(d, 1_900n * E8);
    // The replica serving reads stops right after the move; sends, nonces and receipts are current.
    await proxy.freezeHead({ fresh: TX_METHODS });
    const keeper = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url, { METRICS_PORT: String(metricsPort) }));
    cleanup.push(() => keeper.kill9());

    await waitUntil(async () => (await tradesSince(d, from)).length >= 1, 'the hedge on chain', 45_000, 50, [keeper]);
    // Fifteen more ticks on the same frozen information: each one a chance to hedge again.
    const seen = headReads(proxy);
    await waitUntil(() => headReads(proxy) >= seen + 15, '15 more head reads by the keeper', 45_000, 50, [keeper]);
    // Its reads are older than its own mined hedge: not healthy, whatever the tick age says.
    const tradesFrozen = (await tradesSince(d, from)).length;
    const saidStale = await waitUntil(async () => (await healthz(metricsPort)).status !== 200, '/healthz not 200', 15_000, 200).then(() => true, () => false);

    proxy.live();
    const back = headReads(proxy);
    await waitUntil(() => headReads(proxy) >= back + 5, '5 head reads after the replica caught up');
    const healthyAgain = await waitUntil(async () => (await healthz(metricsPort)).status === 200, '/healthz 200', 15_000, 200).then(() => true, () => false);
    const run = await keeper.stop();

    const trades = await tradesSince(d, from);
    expect(tradesFrozen).toBe(1);
    expect(trades.length).toBe(1);
    expect((await perpAccount(d)).sizeWei).toBeLessThan(sizeBefore);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(onChain(txs).filter((t) => t.label === 'perp.trade').map((t) => t.hash)).toEqual(trades.map((t) => t.transactionHash));
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length); // every nonce used is journaled
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(saidStale, '/healthz kept answering 200 while the reads were older than the keeper\'s own mined hedge').toBe(true);
    expect(healthyAgain, '/healthz did not come back to 200 once the replica caught up').toBe(true);
    expect(run.code).toBe(0);
    recordFault({ fault: 'head frozen after a price move (reads stale, sends fresh)', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('head frozen in block mode right after its hedge: the keeper says its reads are stale instead of going quiet', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('frozen-block');
    const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const keeper = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url, { TICK_MODE: 'block' }));
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    await setMarketPrice(d, 1_900n * E8);
    const frozen = await proxy.freezeHead({ fresh: TX_METHODS });
    await waitUntil(async () => (await tradesSince(d, from)).length >= 1, 'the hedge on chain', 45_000, 50, [keeper]);
    // The head never moves again while the keeper's own hedge sits in a later block.
    const polls = headReads(proxy);
    // Said at warn level or as safe mode, about the head (not, say, the oracle/pool gap during the move).
    const stale = (l: Record<string, unknown>) => (l['event'] === 'safe_mode.entered' || isWarning(l)) && /stale|behind|frozen|head/i.test(`${String(l['msg'] ?? '')} ${String(l['reason'] ?? '')}`);
    await waitUntil(() => keeper.lines().some(stale) || headReads(proxy) >= polls + 40, 'a stale-head warning (or 40 polls of silence)', 45_000, 50, [keeper]);
    const said = keeper.lines().find(stale);
    proxy.live();
    await d.test.mine({ blocks: 1 });
    const back = headReads(proxy);
    await waitUntil(() => headReads(proxy) >= back + 3, 'polls after the head moved again', 20_000, 50, [keeper]);
    const run = await keeper.stop();

    const trades = await tradesSince(d, from);
    expect(said, `block ${frozen} frozen, the keeper's hedge mined after it, and not a word about it`).toBeDefined();
    expect(trades.length).toBe(1);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(onChain(txs).map((t) => t.hash)).toEqual(trades.map((t) => t.transactionHash));
    expect(run.code).toBe(0);
    recordFault({ fault: 'head frozen in block mode after the hedge (said so)', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('a replica lagging 3 blocks in block mode: no oscillating trades, the one hedge needed', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('lag');
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const nonceBefore = await nonceOf(d);
    // The state dump has no history before its own head: give the replica blocks to lag on.
    await d.test.mine({ blocks: 5 });
    proxy.lag(3, { fresh: TX_METHODS });
    const keeper: KeeperProcess = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url, { TICK_MODE: 'block' }));
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    await setMarketPrice(d, 1_900n * E8);
    /** One block, then wait until the keeper has polled twice: it saw it and its tick is over. */
    const mineOne = async (i: number) => {
      const before = headReads(proxy);
      await d.test.mine({ blocks: 1 });
      await waitUntil(() => headReads(proxy) >= before + 2, `the keeper to poll twice after block ${i}`, 20_000);
    };
    for (let i = 0; i < 15; i++) await mineOne(i);
    const lagging = await tradesSince(d, from);
    proxy.live();
    for (let i = 15; i < 18; i++) await mineOne(i);
    const run = await keeper.stop();

    const trades = await tradesSince(d, from);
    const sizes = trades.map((t) => t.args.sizeDeltaWei);
    expect(lagging.length).toBe(1);
    expect(trades.length).toBe(1);
    expect(sizes.every((s) => s < 0n)).toBe(true); // ETH fell: only ever adds to the short
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(txs.filter((t) => t.status === 'dropped' || t.status === 'reorged')).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(run.code).toBe(0);
    recordFault({ fault: 'replica lagging 3 blocks (block mode)', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('30% of requests served by a replica 4 blocks behind (a flapping head): one trade per move, no false reorg', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl, seed: 4 });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('flap');
    const nonceBefore = await nonceOf(d);
    await d.test.mine({ blocks: 5 }); // history for the replica to lag on
    const start = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const keeper = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    // Whole requests (receipts and nonces too) land on the lagging replica 30% of the time.
    proxy.lag(4, { probability: 0.3 });
    const perMove: number[] = [];
    for (const price of [1_900n, 1_820n, 2_000n]) {
      const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
      await setMarketPrice(d, price * E8);
      await waitUntil(async () => (await tradesSince(d, from)).length >= 1, `the hedge after the move to ${price}`, 45_000, 100, [keeper]);
      const r0 = reads(proxy);
      await waitUntil(() => reads(proxy) >= r0 + 10, 'ten more reads', 45_000, 50, [keeper]);
      perMove.push((await tradesSince(d, from)).length);
    }
    proxy.live();
    const run = await keeper.stop();

    expect(perMove).toEqual([1, 1, 1]);
    const said = run.lines.map((l) => `${String(l['event'])} ${String(l['msg'] ?? '')}`);
    expect(said.filter((x) => /chain\.reorg|removed by a reorg|journal\.dropped|did not send/.test(x))).toEqual([]);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(txs.filter((t) => t.status === 'reorged' || t.status === 'dropped')).toEqual([]);
    const trades = await tradesSince(d, start + 1n);
    const journaled = new Set(onChain(txs).map((t) => t.hash));
    expect(trades.filter((t) => !journaled.has(t.transactionHash))).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    recordFault({ fault: '30% of requests on a replica 4 blocks behind (flapping head)', survived: true, lostUsd: duplicateUsd(trades, perMove.length) });
  });
});
