/**
 * Reaction in blocks: on a chain mining a block every second, a keeper in block mode; the price
 * is pushed out of the band (feed and pool together), alternately up and down, and for each
 * breach we count the blocks from the first block whose state is out of the band to the block
 * that includes the hedge trade.
 */
import type { Hex } from 'viem';
import { priceFeedAbi } from '../contracts-abi/index.js';
import { assess } from '../src/core/assess.js';
import { createSnapshotReader } from '../src/chain/snapshot.js';
import { arbitragePoolToPrice } from '../src/devnet/uniswap.js';
import type { TickResult } from '../src/runner/tick.js';
import { benchKeeper, distribution, log, startBenchDevnet, type Distribution } from './bench-env.js';

export interface Breach {
  targetPriceE8: string;
  /** Blocks that include the feed update and the pool swap (the same block unless split). */
  feedBlock: string;
  poolBlock: string;
  /** First block whose state, assessed, is outside the band. */
  breachBlock: string;
  /** Block the hedging tick read: how long the keeper took to notice, as opposed to inclusion. */
  decisionBlock: string;
  hedgeBlock: string;
  blocks: number;
  /** What the hedging tick did, in order, with its transactions (a top-up goes first). */
  actions: string;
  /** The hedge trade was re-sent at the same nonce (stuck transaction) before it was mined. */
  replacements: number;
}

export interface ReactionResult {
  blockTimeSec: number;
  breaches: number;
  blocks: Distribution;
  /** How many breaches took n blocks. */
  histogram: Record<string, number>;
  /** Share of breaches whose hedge landed in the block right after the breach (N+1). */
  nextBlockShare: number;
  /** The same for the breaches whose tick also needed a top-up (approve/deposit first). */
  withTopUp: { breaches: number; nextBlock: number };
  /** Gas of each hedge trade the keeper sent (receipts). */
  tradeGas: Distribution;
  /** Moves whose feed update and pool swap landed in different blocks. */
  splitMoves: number;
  /** The keeper's transaction events over the whole run (sent, mined, replaced, ...). */
  txEvents: Record<string, number>;
  detail: Breach[];
}

const E8 = 10n ** 8n;
/** ±4% around 2,000: about 2 ETH of LP delta against a band of about 0.75 ETH. */
const PRICES_E8 = [2_080n * E8, 2_000n * E8];

export async function measureReaction(breaches: number): Promise<ReactionResult> {
  const blockTimeSec = 1;
  const d = await startBenchDevnet({ blockTimeSec });
  const ticks: TickResult[] = [];
  const txEvents: Record<string, number> = {};
  let wake: (() => void) | null = null;
  const k = await benchKeeper(d, {
    env: { TICK_MODE: 'block', TICK_INTERVAL_MS: '100' },
    telemetry: { tx: (kind) => (txEvents[kind] = (txEvents[kind] ?? 0) + 1) },
    onTick: (r) => {
      ticks.push(r);
      wake?.();
    },
  });
  const running = k.keeper.run();
  const a = d.addresses;
  const owner = d.as('deployer');
  const maker = d.as('marketMaker');
  const reader = createSnapshotReader({
    publicClient: d.as('liquidator').publicClient,
    account: k.keeper.account,
    venue: k.keeper.venue,
    addresses: { oracleFeed: a.ethUsdFeed, usdcFeed: a.usdcUsdFeed, weth: a.weth, usdc: a.usdc, positionManager: a.uniswap.positionManager, pool: a.uniswap.pool },
  });
  const detail: Breach[] = [];
  const tradeGas: number[] = [];
  try {
    for (let i = 0; i < breaches; i++) {
      const target = PRICES_E8[i % 2] as bigint;
      const seen = ticks.length;
      const replacedBefore = txEvents['replaced'] ?? 0;
      // Feed and pool in flight together, right after a block: they land in the same block.
      const feedHash: Hex = await owner.walletClient.writeContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'setPrice', args: [target] });
      const arb = await arbitragePoolToPrice(maker, { pool: a.uniswap.pool, swapRouter: a.uniswap.swapRouter, weth: a.weth, usdc: a.usdc, targetPriceE8: target });
      const feed = await owner.publicClient.waitForTransactionReceipt({ hash: feedHash });
      if (!arb.swap) throw new Error(`bench reaction: the pool did not move (${arb.status})`);
      const poolBlock = (await maker.publicClient.getTransactionReceipt({ hash: arb.swap.hash })).blockNumber;
      const hedge = await waitForHedge(ticks, seen, (w) => (wake = w), (hash) => maker.publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 }));
      const breachBlock = await firstOutOfBand(reader, k.config.policy, feed.blockNumber < poolBlock ? feed.blockNumber : poolBlock, hedge.blockNumber);
      tradeGas.push(Number(hedge.gasUsed)); // a gas figure for statistics, far below 2^53
      detail.push({
        targetPriceE8: target.toString(),
        feedBlock: feed.blockNumber.toString(),
        poolBlock: poolBlock.toString(),
        breachBlock: breachBlock.toString(),
        decisionBlock: hedge.decisionBlock.toString(),
        hedgeBlock: hedge.blockNumber.toString(),
        blocks: Number(hedge.blockNumber - breachBlock),
        actions: hedge.actions,
        replacements: (txEvents['replaced'] ?? 0) - replacedBefore,
      });
    }
  } finally {
    await k.close();
    await running;
    await d.stop();
  }
  const blocks = detail.map((b) => b.blocks);
  const histogram: Record<string, number> = {};
  for (const b of blocks) histogram[b] = (histogram[b] ?? 0) + 1;
  const topUps = detail.filter((b) => b.actions.includes('topUp'));
  const nextBlockShare = detail.length ? detail.filter((b) => b.blocks <= 1).length / detail.length : 0;
  log(`reaction: ${JSON.stringify(histogram)} (blocks: breaches); hedged in N+1: ${(nextBlockShare * 100).toFixed(1)}%, with a top-up first: ${topUps.filter((b) => b.blocks <= 1).length}/${topUps.length}`);
  return {
    blockTimeSec,
    breaches: detail.length,
    nextBlockShare,
    withTopUp: { breaches: topUps.length, nextBlock: topUps.filter((b) => b.blocks <= 1).length },
    blocks: distribution(blocks, 2),
    histogram,
    tradeGas: distribution(tradeGas, 0),
    splitMoves: detail.filter((b) => b.feedBlock !== b.poolBlock).length,
    txEvents,
    detail,
  };
}

/** The first perp.trade sent after tick `from`, once mined; fails on a failed hedge. */
async function waitForHedge(
  ticks: TickResult[],
  from: number,
  setWake: (w: (() => void) | null) => void,
  receipt: (hash: Hex) => Promise<{ blockNumber: bigint; gasUsed: bigint; status: string }>,
): Promise<{ blockNumber: bigint; gasUsed: bigint; decisionBlock: bigint; actions: string }> {
  const deadline = Date.now() + 30_000;
  let next = from;
  for (;;) {
    for (; next < ticks.length; next++) {
      const tick = ticks[next] as TickResult;
      for (const r of tick.results) {
        if (r.action.kind !== 'adjustHedge') continue;
        // A hedge still waiting for the chain (the tick never blocks on mining) is held, not failed.
        if (r.outcome === 'held') continue;
        const trade = r.txs.find((t) => (t.status === 'mined' || t.status === 'sent') && t.label === 'perp.trade');
        const actions = tick.results.map((x) => `${x.action.kind}(${x.txs.map((t) => t.label).join(', ')})`).join(' + ');
        if (trade?.status === 'mined') return { blockNumber: trade.blockNumber, gasUsed: trade.gasUsed, decisionBlock: tick.assessment.blockNumber, actions };
        if (trade?.status === 'sent') {
          const rc = await receipt(trade.hash);
          if (rc.status !== 'success') throw new Error(`bench reaction: the hedge reverted in block ${rc.blockNumber}`);
          return { blockNumber: rc.blockNumber, gasUsed: rc.gasUsed, decisionBlock: tick.assessment.blockNumber, actions };
        }
        throw new Error(`bench reaction: the hedge was not done: ${r.outcome} ${r.reason ?? ''}`);
      }
    }
    if (Date.now() > deadline) throw new Error('bench reaction: no hedge within 30 s of the breach');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1_000);
      setWake(() => {
        clearTimeout(t);
        resolve();
      });
    });
    setWake(null);
  }
}

async function firstOutOfBand(
  reader: ReturnType<typeof createSnapshotReader>,
  policy: Parameters<typeof assess>[1],
  from: bigint,
  to: bigint,
): Promise<bigint> {
  for (let b = from; b < to; b++) {
    if (!assess(await reader.read(b), policy).inBand) return b;
  }
  throw new Error(`bench reaction: no block from ${from} to ${to} is out of the band`);
}

