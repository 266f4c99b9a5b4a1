/**
 * Resident memory over many ticks: a live keeper with metrics on, holding on a quiet devnet,
 * ticking back to back (interval mode with no pause). Memory is sampled after a full GC, so a
 * leak shows as growth between the 1,000th and the last tick, not as garbage not yet collected.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createMetrics } from '../src/monitor/metrics.js';
import { benchKeeper, log, type BenchDevnet } from './bench-env.js';

export interface MemorySample {
  ticks: number;
  rssMiB: number;
  heapUsedMiB: number;
  /** Buffers and other memory outside the JS heap (fetch bodies, sockets). */
  externalMiB: number;
}

export interface MemoryResult {
  ticks: number;
  ticksPerSec: number;
  samples: MemorySample[];
  rssAfter1kMiB: number;
  rssAfterAllMiB: number;
  rssGrowthMiB: number;
  /** Range of the samples from the 1,000th tick on: RSS breathes with the allocator. */
  rssRangeMiB: [number, number];
  heapUsedAfter1kMiB: number;
  heapUsedAfterAllMiB: number;
  heapGrowthMiB: number;
  gc: boolean;
}

/** A full GC without starting node with --expose-gc. */
function gcFunction(): (() => void) | null {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

const MiB = 1024 * 1024;
const round = (x: number) => Number(x.toFixed(1));

export async function measureMemory(d: BenchDevnet, totalTicks: number): Promise<MemoryResult> {
  const gc = gcFunction();
  const metrics = createMetrics();
  const { keeper, close } = await benchKeeper(d, { telemetry: metrics });
  const samples: MemorySample[] = [];
  const sample = (ticks: number) => {
    gc?.();
    gc?.();
    const m = process.memoryUsage();
    samples.push({ ticks, rssMiB: round(m.rss / MiB), heapUsedMiB: round(m.heapUsed / MiB), externalMiB: round(m.external / MiB) });
  };
  const every = 1_000;
  const t0 = performance.now();
  try {
    for (let i = 1; i <= totalTicks; i++) {
      const r = await keeper.tickOnce();
      if (r.plan.actions.length > 0) throw new Error('bench memory: the keeper must hold on a quiet devnet');
      if (i % every === 0 || i === totalTicks) sample(i);
      if (i % 2_000 === 0) log(`memory: ${i} ticks, rss ${samples[samples.length - 1]?.rssMiB} MiB`);
    }
  } finally {
    await close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const first = samples.find((s) => s.ticks >= every) ?? samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) throw new Error('bench memory: no samples');
  const later = samples.filter((s) => s.ticks >= first.ticks);
  return {
    ticks: totalTicks,
    ticksPerSec: round(totalTicks / seconds),
    samples,
    rssAfter1kMiB: first.rssMiB,
    rssAfterAllMiB: last.rssMiB,
    rssGrowthMiB: round(last.rssMiB - first.rssMiB),
    rssRangeMiB: [Math.min(...later.map((s) => s.rssMiB)), Math.max(...later.map((s) => s.rssMiB))],
    heapUsedAfter1kMiB: first.heapUsedMiB,
    heapUsedAfterAllMiB: last.heapUsedMiB,
    heapGrowthMiB: round(last.heapUsedMiB - first.heapUsedMiB),
    gc: gc !== null,
  };
}
