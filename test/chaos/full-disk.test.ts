import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, rmdirSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { useDevnet } from '../helpers/devnet.js';
import { E8, setMarketPrice } from '../helpers/keeper.js';
import { startRpcProxy } from '../../src/devnet/rpc-proxy.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, tradesSince } from './helpers.js';
import { judge, keeperEnv, onChain, readJournal, reads, startKeeper, waitUntil } from './keeper-process.js';

/** A small tmpfs of our own to fill up (root on Linux only: elsewhere the test is skipped). */
function mountSmallDisk(): string | null {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return null;
  const dir = mkdtempSync(join(tmpdir(), 'keeper-disk-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8m,mode=0700', 'tmpfs', dir]);
  if (r.status !== 0) {
    rmdirSync(dir);
    return null;
  }
  return dir;
}

/** Write until the file system says ENOSPC; returns the filler's path. */
function fillDisk(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
  return path;
}

describe('chaos: the disk under the journal fills up', { timeout: 120_000 }, () => {
  const devnet = useDevnet();
  const cleanup: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('disk full mid-run: nothing sent unjournaled, safe mode naming the journal, hedges again once there is space', async (ctx) => {
    const mnt = mountSmallDisk();
    if (!mnt) return ctx.skip('needs root on Linux to mount a small tmpfs');
    cleanup.push(async () => {
      if (spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
      rmdirSync(mnt);
    });
    const d = devnet();
    const proxy = await startRpcProxy({ upstream: d.rpcUrl });
    cleanup.push(() => proxy.stop());
    const dataDir = join(mnt, 'data');
    const nonceBefore = await nonceOf(d);
    const keeper = startKeeper(['run', '--adopt-history'], keeperEnv(d, dataDir, proxy.url));
    cleanup.push(() => keeper.kill9());
    await keeper.waitForLine((l) => l['event'] === 'tick', 'a first tick');

    const filler = fillDisk(mnt);
    const from = (await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 })) + 1n;
    await setMarketPrice(d, 1_900n * E8);
    const r0 = reads(proxy);
    const escalated = (l: Record<string, unknown>) => l['event'] === 'safe_mode.entered' && /journal|disk|full|SQLITE/i.test(JSON.stringify(l));
    await waitUntil(() => keeper.lines().some(escalated) || reads(proxy) >= r0 + 12, 'safe mode (or twelve reads)', 45_000, 50, [keeper]);
    const tradesWhileFull = await tradesSince(d, from);
    const said = keeper.lines().find(escalated);

    rmSync(filler);
    await waitUntil(async () => (await tradesSince(d, from)).length >= 1, 'the hedge once the disk has room', 45_000, 100, [keeper]);
    const r1 = reads(proxy);
    await waitUntil(() => reads(proxy) >= r1 + 3, 'three reads after the hedge', 20_000, 50, [keeper]);
    const run = await keeper.stop();

    expect(tradesWhileFull, 'a hedge went out while the journal could not record it').toEqual([]);
    expect(said, 'the disk was full for twelve ticks and no safe_mode.entered named the journal').toBeDefined();
    const trades = await tradesSince(d, from);
    expect(trades.length).toBe(1);
    const { txs } = readJournal(join(dataDir, 'journal.sqlite'));
    expect(onChain(txs).map((t) => t.hash)).toEqual(trades.map((t) => t.transactionHash));
    expect(await nonceOf(d)).toBe(nonceBefore + onChain(txs).length);
    const { keeper: j } = await judge(d);
    expect((await j.tickOnce()).assessment.inBand).toBe(true);
    expect(run.code).toBe(0);
    recordFault({ fault: 'disk full under the journal mid-run', survived: true, lostUsd: duplicateUsd(trades, 1) });
  });
});
