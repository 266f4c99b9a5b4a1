/**
 * Bench sections on a quiet automine devnet: RPC requests and round-trips per steady-state tick
 * and tick latency for 1, 10 and 50 LP positions, and the pure decision time for 100 positions.
 */
import { assess } from '../src/core/assess.js';
import { plan } from '../src/core/plan.js';
import { initialPolicyState } from '../src/core/policy.js';
import type { LpPosition, Snapshot } from '../src/core/types.js';
import type { HedgePolicy } from '../src/core/types.js';
import { DEVNET_ETH_PRICE_E8, DEVNET_POOL_FEE } from '../src/devnet/deploy.js';
import { tickSpacingOf } from '../src/devnet/uniswap.js';
import { positionBaseQuote, ticksAroundPrice } from '../src/spot/uniswap-math.js';
import { addLpPositions, benchKeeper, countHttpRoundTrips, createRpcCounter, distribution, log, type BenchDevnet, type Distribution } from './bench-env.js';

export interface SizeResult {
  positions: number;
  ticks: number;
  rpcRequestsPerTick: number;
  httpRoundTripsPerTick: number;
  /** Requests per tick by JSON-RPC method. */
  methodsPerTick: Record<string, number>;
  /** read + assess + plan (+ the tick's log line), ms. */
  latencyMs: Distribution;
}

/**
 * A live keeper (not dry-run: the same code path as production) with a band so wide that it
 * holds: every tick is read + assess + plan, nothing is sent. Ticks are pinned to the head block,
 * as the daemon's block mode does.
 */
export async function measureTicks(
  d: BenchDevnet,
  sizes: readonly number[],
  ticksPerSize: number,
): Promise<{ sizes: SizeResult[]; snapshot: Snapshot; policy: HedgePolicy }> {
  const counter = createRpcCounter();
  const http = countHttpRoundTrips(d.rpcUrl);
  const { keeper, config, close } = await benchKeeper(d, { env: { DELTA_BAND_ETH: '100000' }, telemetry: counter.telemetry });
  const out: SizeResult[] = [];
  let have = (await keeper.reader.read()).lps.length;
  try {
    for (const size of sizes) {
      await addLpPositions(d, size - have);
      have = size;
      const block = await keeper.clients.publicClient.getBlockNumber({ cacheTime: 0 });
      for (let i = 0; i < 3; i++) await keeper.tickOnce(block); // the reader learns the new token ids
      counter.reset();
      http.reset();
      const latencies: number[] = [];
      for (let i = 0; i < ticksPerSize; i++) {
        const t0 = performance.now();
        const r = await keeper.tickOnce(block);
        latencies.push(performance.now() - t0);
        if (r.plan.actions.length > 0) throw new Error(`bench: the ${size}-position keeper planned ${r.plan.actions.length} action(s); it must hold`);
        if (r.assessment.lpCount !== size) throw new Error(`bench: expected ${size} LP positions, the snapshot has ${r.assessment.lpCount}`);
      }
      const per = (n: number) => Number((n / ticksPerSize).toFixed(3));
      out.push({
        positions: size,
        ticks: ticksPerSize,
        rpcRequestsPerTick: per(counter.total()),
        httpRoundTripsPerTick: per(http.count()),
        methodsPerTick: Object.fromEntries(Object.entries(counter.byMethod()).map(([m, n]) => [m, per(n)])),
        latencyMs: distribution(latencies),
      });
      log(`${size} LP: ${per(counter.total())} requests/tick, median ${distribution(latencies).median} ms`);
    }
    return { sizes: out, snapshot: await keeper.reader.read(), policy: config.policy };
  } finally {
    http.restore();
    await close();
  }
}

/** 100 LP positions around the snapshot's pool, ranges ±3%..±30%, liquidity varied. */
function syntheticLps(base: Snapshot, count: number): LpPosition[] {
  const { sqrtPriceX96, tick } = base.pool;
  const baseIsToken0 = base.lps[0]?.baseIsToken0 ?? true;
  return Array.from({ length: count }, (_, i) => {
    const range = ticksAroundPrice(DEVNET_ETH_PRICE_E8, 3 + (i % 10) * 3, tickSpacingOf(DEVNET_POOL_FEE), baseIsToken0);
    const liquidity = 10n ** 15n * BigInt(1 + (i % 7));
    return { tokenId: BigInt(1_000 + i), liquidity, ...range, feesBaseWei: 0n, feesQuoteUnits: 0n, baseIsToken0, ...decode(liquidity, range, sqrtPriceX96, tick, baseIsToken0) };
  });
}

function decode(liquidity: bigint, range: { tickLower: number; tickUpper: number }, sqrtPriceX96: bigint, tick: number, baseIsToken0: boolean) {
  return positionBaseQuote({ liquidity, ...range, sqrtPriceX96, tick, baseIsToken0 });
}

export interface DecisionResult {
  positions: number;
  /** assess + plan on a decoded snapshot: the pure decision. */
  assessPlanMs: Distribution;
  /** Decoding the positions (Uniswap SDK amounts) + assess + plan: all the CPU of a tick. */
  decodeAssessPlanMs: Distribution;
  plannedActions: string[];
}

/** Pure decision time for a synthetic `positions`-position portfolio built on a real snapshot. */
export function measureDecision(base: Snapshot, policy: HedgePolicy, positions: number, iterations: number): DecisionResult {
  const lps = syntheticLps(base, positions);
  const snapshot: Snapshot = { ...base, lps };
  const state = initialPolicyState();
  const nowSec = Number(base.blockTimestampSec);
  const decide = (s: Snapshot) => plan(assess(s, policy), state, policy, nowSec);
  for (let i = 0; i < 20; i++) decide(snapshot); // JIT warm-up
  const pure: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    decide(snapshot);
    pure.push(performance.now() - t0);
  }
  const full: number[] = [];
  const heavy = Math.max(20, Math.floor(iterations / 10));
  for (let i = 0; i < heavy; i++) {
    const t0 = performance.now();
    const decoded = lps.map((lp) => ({ ...lp, ...decode(lp.liquidity, lp, base.pool.sqrtPriceX96, base.pool.tick, lp.baseIsToken0) }));
    decide({ ...base, lps: decoded });
    full.push(performance.now() - t0);
  }
  return {
    positions,
    assessPlanMs: distribution(pure, 4),
    decodeAssessPlanMs: distribution(full, 3),
    plannedActions: decide(snapshot).plan.actions.map((a) => a.kind),
  };
}
