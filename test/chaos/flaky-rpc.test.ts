import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDevnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { PROVIDER_ERRORS, startRpcProxy } from '../../src/devnet/rpc-proxy.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, tradesSince } from './helpers.js';
import { headReads, judge, keeperEnv, reads, newDataDir, onChain, readJournal, startKeeper, waitUntil, type KeeperProcess } from './keeper-process.js';

describe('chaos: an RPC that fails or lies', { timeout: 120_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('30% bad responses (5xx, 429, resets, JSON-RPC errors, hangs): no false reorg, no false foreign nonce, one trade per move', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl, seed: 30 });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('flaky');
    const nonceBefore = await nonceOf(d);
    const start = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const keeper = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    // Broadcasts that reach the node but whose answer is lost, and 30% of everything else bad.
    const lostSends = proxy.inject({ methods: ['eth_sendRawTransaction'], fault: { kind: 'http', status: 502 }, probability: 0.3, afterForward: true });
    const bad = proxy.inject({ fault: PROVIDER_ERRORS, probability: 0.3 });

    const perMove: number[] = [];
    const detail: string[] = [];
    for (const price of [1_900n, 1_820n, 2_000n]) {
      // Blocks after the current head: the previous move's hedge may be in the head block.
      const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
      await setMarketPrice(d, price * E8);
      await waitUntil(async () => (await tradesSince(d, from)).length >= 1, `the hedge after the move to ${price}`, 45_000, 100, [keeper]);
      const r0 = reads(proxy);
      // More reads: more chances to take an error for a reorg or for someone else's nonce.
      await waitUntil(() => reads(proxy) >= r0 + 10, 'ten more reads', 45_000, 50, [keeper]);
      const moveTrades = await tradesSince(d, from);
      perMove.push(moveTrades.length);
      detail.push(`${price}: ${moveTrades.map((t) => `${t.args.sizeDeltaWei} @${t.blockNumber} nonce-tx ${t.transactionHash.slice(0, 10)}`).join(', ')}`);
    }
    bad.remove();
    lostSends.remove();
    const r1 = reads(proxy);
    await waitUntil(() => reads(proxy) >= r1 + 3, 'three clean reads', 20_000, 50, [keeper]);
    const run = await keeper.stop();

    const events = run.lines
      .filter((l) => /^(tx\.|journal\.|safe_mode|action\.|plan$)/.test(String(l['event'])))
      .map((l) => `${String(l['event'])}: ${String(l['msg'] ?? '').slice(0, 160)}`);
    expect(perMove, `trades per move: ${detail.join(' | ')}\n${events.join('\n')}`).toEqual([1, 1, 1]);
    const said = run.lines.map((l) => `${String(l['event'])} ${String(l['msg'] ?? '')}`);
    expect(said.filter((s) => /chain\.reorg|removed by a reorg/.test(s))).toEqual([]);
    expect(said.filter((s) => /journal\.dropped|did not send/.test(s))).toEqual([]);
    const { txs, intents } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(txs.filter((t) => t.status === 'reorged' || t.status === 'dropped')).toEqual([]);
    expect(intents.filter((i) => i.status === 'reorged')).toEqual([]);
    const trades = await tradesSince(d, start + 1n);
    const journaled = new Set(onChain(txs).map((t) => t.hash));
    expect(trades.filter((t) => !journaled.has(t.transactionHash))).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(bad.hits).toBeGreaterThan(10);
    recordFault({
      fault: '30% bad RPC responses (5xx/429/reset/errors/hangs, lost send answers)',
      survived: true,
      lostUsd: duplicateUsd(trades, perMove.length),
      note: `${bad.hits + lostSends.hits} faults`,
    });
  });

  it('an RPC that accepts raw transactions and never forwards them: named, no endless replacing, nothing double-sent once honest', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('liar');
    const nonceBefore = await nonceOf(d);
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const keeper: KeeperProcess = startKeeper(
      ['run', '--adopt-history'],
      keeperEnv(d, dataDir, proxy.url, { TICK_MODE: 'block', REPLACE_AFTER_BLOCKS: '2' }),
    );
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    proxy.swallowSends(true);
    await setMarketPrice(d, 1_900n * E8);
    const mineOne = async () => {
      const before = headReads(proxy);
      await d.test.mine({ blocks: 1 });
      await waitUntil(() => headReads(proxy) >= before + 2, 'the keeper to poll twice after a block', 20_000, 25, [keeper]);
    };
    const origin = `127.0.0.1:${proxy.port}`;
    const namesTheLiar = (l: Record<string, unknown>) => l['event'] === 'safe_mode.entered' && JSON.stringify(l).includes(origin);
    let blocks = 0;
    while (!keeper.lines().some(namesTheLiar) && blocks < 30) {
      await mineOne();
      blocks++;
    }
    const named = keeper.lines().find(namesTheLiar);
    const distinctAtNaming = new Set(proxy.stats().swallowed).size;
    for (let i = 0; i < 10; i++) await mineOne();
    const distinctLater = new Set(proxy.stats().swallowed).size;
    // The honest RPC is back: whatever the keeper sends now reaches the chain.
    proxy.swallowSends(false);
    for (let i = 0; i < 8; i++) await mineOne();
    const run = await keeper.stop();

    expect(named, `no safe_mode.entered naming ${origin} after ${blocks} blocks of swallowed transactions`).toBeDefined();
    expect(distinctLater, 'new replacements were signed after the endpoint was named').toBe(distinctAtNaming);
    const trades = await tradesSince(d, from);
    expect(trades.length).toBeLessThanOrEqual(1);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    const journaled = new Set(onChain(txs).map((t) => t.hash));
    expect(trades.filter((t) => !journaled.has(t.transactionHash))).toEqual([]);
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    expect(run.code).toBe(0);
    recordFault({
      fault: 'RPC swallows sendRawTransaction (lying endpoint)',
      survived: true,
      lostUsd: duplicateUsd(trades, 1),
      note: `named after ${blocks} blocks, ${distinctAtNaming} signed versions swallowed`,
    });
  });
});
