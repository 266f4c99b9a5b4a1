import { describe, expect, it } from 'vitest';
import { createLoop } from '../../src/runner/loop.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the loop', () => {
  it('never overlaps ticks, collapses blocks that arrive during a tick, and survives a failing tick', async () => {
    const { logger, lines } = createRecordingLogger();
    let head = 0n;
    let running = 0;
    let maxRunning = 0;
    const seen: bigint[] = [];
    const loop = createLoop({
      mode: 'block',
      intervalMs: 10,
      pollMs: 5,
      logger,
      maxTicks: 4,
      getBlockNumber: async () => head,
      runTick: async (block) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        seen.push(block as bigint);
        head += 3n; // three blocks arrive while this tick runs
        await sleep(20);
        running--;
        if (seen.length === 2) throw new Error('rpc exploded');
      },
    });
    await loop.run();
    expect(maxRunning).toBe(1);
    expect(seen).toEqual([0n, 3n, 6n, 9n]);
    expect(lines().filter((l) => l['event'] === 'tick.failed').length).toBe(1);
  });

  it('stop() waits for the tick in flight', async () => {
    const { logger } = createRecordingLogger();
    let finished = false;
    const loop = createLoop({
      mode: 'interval',
      intervalMs: 1_000,
      logger,
      runTick: async () => {
        await sleep(100);
        finished = true;
      },
    });
    const done = loop.run();
    await sleep(20);
    await loop.stop();
    expect(finished).toBe(true);
    await done;
    expect(loop.ticks).toBe(1);
  });
});
