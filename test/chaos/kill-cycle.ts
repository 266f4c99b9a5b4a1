import type { RpcProxy } from '../../src/devnet/rpc-proxy.js';
import type { Devnet } from '../helpers/devnet.js';
import { reads, startKeeper, waitUntil, type KeeperProcess, type Line } from './keeper-process.js';

/** Where a kill -9 cycle strikes the keeper (both kill loops draw one per cycle from their seed). */
export type KillPoint = 'at once' | 'on the plan' | 'on tx.sent' | 'on tx.mined' | 'after a random delay';
export const KILL_POINTS: readonly KillPoint[] = ['at once', 'on the plan', 'on tx.sent', 'on tx.mined', 'after a random delay'];

const isPlan = (l: Line) => l['event'] === 'plan' && Array.isArray(l['actions']) && (l['actions'] as unknown[]).length > 0;

/**
 * One cycle of a kill loop, after the price moved: wait for the kill point, kill -9, let what was
 * pending land (when nothing was mined), start a new keeper, and wait until the move's hedge is on
 * chain and the new keeper has read five more times (five chances to send it twice).
 */
export async function killAndRestart(o: {
  d: Devnet;
  keeper: KeeperProcess;
  proxy: RpcProxy;
  env: Record<string, string>;
  cycle: number;
  point: KillPoint;
  manual: boolean;
  delayMs: number;
  /** The keeper's log length when the price moved: kill points are looked for after it. */
  since: number;
  isTrade: (l: Line) => boolean;
  hedgesOnChain: () => Promise<number>;
}): Promise<KeeperProcess> {
  const { d, keeper, point, since } = o;
  const what = `cycle ${o.cycle}: the kill point "${point}"`;
  if (point === 'on the plan') await keeper.waitForLine(isPlan, what, 30_000, since);
  if (point === 'on tx.sent') await keeper.waitForLine(o.isTrade, what, 30_000, since);
  if (point === 'on tx.mined') await keeper.waitForLine((l) => l['event'] === 'tx.mined', what, 30_000, since);
  if (point === 'after a random delay') await new Promise((r) => setTimeout(r, o.delayMs)); // the fault: a kill at a random instant
  await keeper.kill9();
  if (o.manual) {
    await d.test.setAutomine(true);
    await d.test.mine({ blocks: 1 }); // what was pending lands while no keeper runs
  }
  const next = startKeeper(['run'], o.env);
  // Reads count from its first tick: start-up checks read too.
  await next.waitForLine((l) => l['event'] === 'tick', `cycle ${o.cycle}: a first tick after the restart`);
  await waitUntil(async () => (await o.hedgesOnChain()) >= 1, `cycle ${o.cycle}: the hedge on chain`, 45_000, 100, [next]);
  const r0 = reads(o.proxy);
  await waitUntil(() => reads(o.proxy) >= r0 + 5, `cycle ${o.cycle}: five reads after the hedge`, 45_000, 50, [next]);
  return next;
}
