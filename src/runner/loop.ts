import type { Logger } from 'pino';

export interface LoopOptions {
  /** 'block': tick when the chain has a new block; 'interval': tick every intervalMs. */
  mode: 'block' | 'interval';
  intervalMs: number;
  /** Block mode: how to learn the head (polled every pollMs). */
  getBlockNumber?: () => Promise<bigint>;
  pollMs?: number;
  /** One tick; given the block that triggered it (block mode). Errors are logged, not fatal. */
  runTick: (blockNumber?: bigint) => Promise<void>;
  logger: Logger;
  /** Stop by itself after this many ticks (tests, benchmarks). */
  maxTicks?: number;
  /** Block mode: say so (warn, once per stall) when no new block came for this long. Default 30 s. */
  stallWarnMs?: number;
}

export interface Loop {
  /** Resolves when the loop has stopped (after the in-flight tick finished). */
  run(): Promise<void>;
  /** Ask the loop to stop; resolves once the in-flight tick (and its transactions) finished. */
  stop(): Promise<void>;
  readonly ticks: number;
  /** Ticks that threw. */
  readonly failedTicks: number;
}

/**
 * The daemon's heartbeat. Ticks never overlap: the next trigger is awaited only after the
 * previous tick returned, and blocks that arrive meanwhile collapse into one tick on the head.
 */
export function createLoop(opts: LoopOptions): Loop {
  let stopping = false;
  let ticks = 0;
  let failedTicks = 0;
  let lastNewBlockAtMs = Date.now();
  let stallWarned = false;
  let wake: (() => void) | null = null;
  let done: Promise<void> | null = null;
  let lastBlock: bigint | null = null;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        wake = null;
        resolve();
      }, ms);
      wake = () => {
        clearTimeout(t);
        wake = null;
        resolve();
      };
    });

  /** Wait for the next trigger; undefined block in interval mode, null when stopping. */
  async function nextTrigger(): Promise<bigint | undefined | null> {
    if (opts.mode === 'interval') {
      if (ticks > 0) await sleep(opts.intervalMs);
      return stopping ? null : undefined;
    }
    const getBlockNumber = opts.getBlockNumber;
    if (!getBlockNumber) throw new Error('block mode needs getBlockNumber');
    for (;;) {
      if (stopping) return null;
      try {
        const head = await getBlockNumber();
        if (lastBlock === null || head > lastBlock) {
          if (stallWarned) opts.logger.info({ event: 'chain.resumed', block: head, waitedSec: Math.round((Date.now() - lastNewBlockAtMs) / 1000) }, `new block ${head}: ticking again`);
          lastBlock = head;
          lastNewBlockAtMs = Date.now();
          stallWarned = false;
          return head;
        }
        const waitedMs = Date.now() - lastNewBlockAtMs;
        if (!stallWarned && waitedMs >= (opts.stallWarnMs ?? 30_000)) {
          // A frozen head (a stuck node, a halted chain) must not look like a quiet keeper.
          stallWarned = true;
          opts.logger.warn({ event: 'chain.stalled', block: lastBlock, waitedSec: Math.round(waitedMs / 1000) }, `no new block after ${lastBlock} for ${Math.round(waitedMs / 1000)}s: waiting for blocks (the RPC's head may be stuck)`);
        }
        if (head < lastBlock) {
          // The head went backwards: a reorg or a reset chain. Tick on it; the reader re-reads.
          opts.logger.warn({ event: 'chain.reorg', from: lastBlock, to: head }, 'chain head moved backwards');
          lastBlock = head;
          return head;
        }
      } catch (err) {
        opts.logger.warn({ event: 'rpc.failed', during: 'head poll', err }, 'could not read the chain head');
      }
      await sleep(opts.pollMs ?? 500);
    }
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      const block = await nextTrigger();
      if (block === null) break;
      ticks++;
      try {
        await opts.runTick(block);
      } catch (err) {
        failedTicks++;
        opts.logger.error({ event: 'tick.failed', err }, `tick failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (opts.maxTicks !== undefined && ticks >= opts.maxTicks) break;
    }
  }

  return {
    run() {
      done ??= loop();
      return done;
    },
    async stop() {
      stopping = true;
      wake?.();
      await done;
    },
    get ticks() {
      return ticks;
    },
    get failedTicks() {
      return failedTicks;
    },
  };
}
