import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Hex } from 'viem';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { startRpcProxy, type Fault, type RpcProxy } from '../../src/devnet/rpc-proxy.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, perpAccount, tradesSince } from './helpers.js';
import { isWarning, judge, keeperEnv, reads, newDataDir, onChain, readJournal, startKeeper, waitUntil } from './keeper-process.js';

interface Crashed {
  from: bigint;
  nonceBefore: number;
  sizeBefore: bigint;
  hash: Hex;
}

/**
 * A price move, a keeper that sends its hedge while nothing is mined, then kill -9: the hedge
 * sits in the mempool and the journal says "broadcast". Automine stays off (the caller mines).
 */
async function crashWithHedgePending(d: Devnet, proxy: RpcProxy, dataDir: string, extraEnv: Record<string, string> = {}): Promise<Crashed> {
  await setMarketPrice(d, 1_900n * E8);
  const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
  const nonceBefore = await nonceOf(d);
  const sizeBefore = (await perpAccount(d)).sizeWei;
  await d.test.setAutomine(false);
  const first = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url, extraEnv));
  const sent = await first.waitForLine((l) => l['event'] === 'tx.sent' && l['label'] === 'perp.trade', 'the hedge sent');
  await first.kill9();
  const pending = await d.as('perpDemo').publicClient.getTransactionCount({ address: d.addresses.demo.perp.account, blockTag: 'pending' });
  expect(pending).toBe(nonceBefore + 1); // in the mempool, not mined
  expect((await perpAccount(d)).sizeWei).toBe(sizeBefore);
  return { from, nonceBefore, sizeBefore, hash: sent['hash'] as Hex };
}

describe('chaos: crash and restart under RPC faults', { timeout: 120_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  const lookupFaults: Array<[string, Fault]> = [
    ['HTTP 500', { kind: 'http', status: 500 }],
    ['HTTP 429 with Retry-After', { kind: 'http', status: 429, retryAfterSec: 1 }],
  ];
  it.each(lookupFaults)('kill -9 with a hedge pending, restart while transaction lookups answer %s: no second hedge', async (name, fault) => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop(), () => d.test.setAutomine(true));
    const dataDir = newDataDir('lookup-fault');
    const crashed = await crashWithHedgePending(d, proxy, dataDir);

    // The restart cannot learn what became of its hedge: every lookup of it fails.
    const rule = proxy.inject({ methods: ['eth_getTransactionByHash', 'eth_getTransactionReceipt'], fault });
    const sentBefore = proxy.stats().sent.length;
    const restarted = startKeeper(['run'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => restarted.kill9());
    await restarted.waitForLine((l) => l['event'] === 'keeper.started', 'keeper.started');
    const readsBefore = reads(proxy);
    await waitUntil(() => rule.hits >= 9 && reads(proxy) >= readsBefore + 3, 'the restarted keeper to ask about its hedge (and read) several times', 45_000, 50, [restarted]);
    const sentBlind = proxy.stats().sent.slice(sentBefore);

    // The RPC recovers and the chain mines what it holds.
    rule.remove();
    await d.test.setAutomine(true);
    await d.test.mine({ blocks: 1 });
    await waitUntil(async () => (await tradesSince(d, crashed.from)).length >= 1, 'the hedge mined', 20_000);
    const r0 = reads(proxy);
    await waitUntil(() => reads(proxy) >= r0 + 5, 'five reads after the hedge was mined', 45_000, 50, [restarted]);
    const run = await restarted.stop();

    const trades = await tradesSince(d, crashed.from);
    // Rebroadcasting the journaled bytes is fine (same hash); signing anything new was not.
    expect(new Set(sentBlind).size <= 1 && sentBlind.every((h) => h === crashed.hash), `sent while blind: ${sentBlind.join(', ')}`).toBe(true);
    expect(trades.length).toBe(1);
    expect(trades[0]?.transactionHash).toBe(crashed.hash);
    expect(await nonceOf(d)).toBe(crashed.nonceBefore + 1);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(txs.find((t) => t.hash === crashed.hash)?.status).toBe('mined');
    expect(onChain(txs).map((t) => t.hash)).toEqual([crashed.hash]);
    expect(txs.filter((t) => t.status === 'dropped' || t.status === 'reorged')).toEqual([]);
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(run.code).toBe(0);
    recordFault({ fault: `restart with a hedge pending, tx lookups answer ${name}`, survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('a hedge mined while the keeper was down still counts against the daily cap after the restart', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop(), () => d.test.setAutomine(true));
    const dataDir = newDataDir('cap');
    const env = keeperEnv(d, dataDir, proxy.url, { MAX_NOTIONAL_PER_DAY_USD: '12000' });
    const crashed = await crashWithHedgePending(d, proxy, dataDir, env); // ~4.5 ETH at $1900: ~$8.6k of $12k
    await d.test.setAutomine(true);
    await d.test.mine({ blocks: 1 }); // mined while no keeper runs
    const restarted = startKeeper(['run'], env);
    cleanup.push(() => restarted.kill9());
    await restarted.waitForLine((l) => l['event'] === 'tick', 'a first tick after the restart');
    await setMarketPrice(d, 1_800n * E8); // another ~$8k hedge: over the cap
    const r0 = reads(proxy);
    await waitUntil(() => reads(proxy) >= r0 + 8, 'eight reads after the second move', 45_000, 50, [restarted]);
    const run = await restarted.stop();

    const trades = await tradesSince(d, crashed.from);
    const notionalUsd = trades.reduce((sum, t) => sum + (Math.abs(Number(t.args.sizeDeltaWei)) / 1e18) * (Number(t.args.fillPriceE8) / 1e8), 0);
    expect(trades[0]?.transactionHash).toBe(crashed.hash);
    expect(notionalUsd, `traded $${notionalUsd.toFixed(0)} in ${trades.length} trades against a $12000 cap`).toBeLessThanOrEqual(12_000);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(await nonceOf(d)).toBe(crashed.nonceBefore + onChain(txs).length);
    expect(run.code).toBe(0);
    recordFault({ fault: 'hedge mined while the keeper was down vs the daily cap', survived: true, lostUsd: Math.max(0, notionalUsd - 12_000) });
  });

  it('a first run (--adopt-history) killed before it sent anything: the plain restart still hedges', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = newDataDir('adopted');
    const first = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => first.kill9());
    await first.waitForLine((l) => l['event'] === 'tick', 'a first tick');
    await first.kill9(); // nothing to do yet, nothing sent: only the adoption is in its journal
    const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    const nonceBefore = await nonceOf(d);
    // A service manager restarts it with its usual command line, without the one-time flag.
    const restarted = startKeeper(['run'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => restarted.kill9());
    await restarted.waitForLine((l) => l['event'] === 'tick', 'a first tick after the restart');
    await setMarketPrice(d, 1_900n * E8);
    await waitUntil(async () => (await tradesSince(d, from)).length >= 1, 'the hedge after the restart', 25_000, 100, [restarted]);
    const r0 = reads(proxy);
    await waitUntil(() => reads(proxy) >= r0 + 3, 'three reads after the hedge', 45_000, 50, [restarted]);
    const run = await restarted.stop();

    const trades = await tradesSince(d, from);
    expect(trades.length).toBe(1);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(onChain(txs).map((t) => t.hash)).toEqual(trades.map((t) => t.transactionHash));
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    expect(run.code).toBe(0);
    recordFault({ fault: 'first run killed before its first transaction, restarted', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });

  it('journal deleted between a crash and the restart: the keeper holds instead of hedging again', async () => {
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop(), () => d.test.setAutomine(true));
    const dataDir = newDataDir('lost-journal');
    const crashed = await crashWithHedgePending(d, proxy, dataDir);
    // Whatever an operator might wipe: the database, its WAL, its lock.
    for (const f of ['journal.sqlite', 'journal.sqlite-wal', 'journal.sqlite-shm', 'journal.sqlite.lock']) rmSync(join(dataDir, f), { force: true });

    const sentBefore = proxy.stats().sent.length;
    const restarted = startKeeper(['run'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => restarted.kill9());
    // It may refuse to start at all (a non-zero exit): that is holding too.
    await restarted.waitForLine((l) => l['event'] === 'keeper.started', 'keeper.started').catch(() => undefined);
    const readsBefore = reads(proxy);
    await waitUntil(
      () => restarted.exited || reads(proxy) >= readsBefore + 5 || proxy.stats().sent.length > sentBefore,
      'the restarted keeper to read five times (or to refuse to run, or to send)',
      45_000,
      50,
      [restarted],
    );
    const sentBlind = proxy.stats().sent.slice(sentBefore);
    await d.test.setAutomine(true);
    await d.test.mine({ blocks: 1 });
    const r0 = reads(proxy);
    await waitUntil(() => restarted.exited || reads(proxy) >= r0 + 5, 'five reads after the old hedge was mined', 45_000, 50, [restarted]);
    const run = await restarted.stop();

    const trades = await tradesSince(d, crashed.from);
    expect(sentBlind, 'the restarted keeper sent a transaction with no journal to explain the pending nonce').toEqual([]);
    expect(trades.length).toBe(1);
    expect(trades[0]?.transactionHash).toBe(crashed.hash);
    expect(await nonceOf(d)).toBe(crashed.nonceBefore + 1);
    expect(proxy.stats().sent.slice(sentBefore)).toEqual([]);
    // It said why it holds: an alarm (safe mode) about history its journal cannot explain.
    const warned = run.lines.filter(isWarning).map((l) => `${String(l['event'])}: ${String(l['msg'])}`);
    expect(run.lines.some((l) => l['event'] === 'safe_mode.entered'), `no safe_mode.entered; warnings: ${warned.join(' | ')}`).toBe(true);
    expect(onChain(readJournal(join(dataDir, 'journal.sqlite')).txs)).toEqual([]);
    recordFault({ fault: 'journal deleted between a crash and the restart', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });
});
