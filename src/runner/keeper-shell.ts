import type { Logger } from 'pino';
import type { Hex } from 'viem';
import { rpcOrigin, type KeeperConfig } from '../config.js';
import type { Address } from '../core/types.js';
import { utcDay, type CallAllowList } from '../core/guard.js';
import { createClients, type Clients } from '../chain/clients.js';
import { createExecutor, type Executor } from '../chain/executor.js';
import { createTxSender } from '../chain/sender.js';
import { openJournal, type Journal, type Spent } from '../journal/journal.js';
import { createPendingQueue, type PendingQueue, type ReconcileReport } from '../journal/reconcile.js';
import { emit, type KeeperTelemetry, type TxCost, type TxEventKind } from '../monitor/telemetry.js';
import { createLoop, type Loop } from './loop.js';

/**
 * What every keeper shares whatever it hedges (one asset or a portfolio): the clients, the
 * journal, the sender and its pending queue, the freshness gate, escalation of repeated
 * failures, the hedge-failure back-off and the block loop that refuses stale heads. The keeper
 * on top supplies only its reads, its decisions and its venues.
 */

export interface ShellOptions {
  config: KeeperConfig;
  rpcUrls: readonly string[];
  chainId: number;
  privateKey: Hex;
  logger: Logger;
  dryRun: boolean;
  telemetry?: KeeperTelemetry;
  journal?: Journal | null;
  adoptHistory?: boolean;
  escalateAfterTicks?: number;
  settleWaitMs?: number;
}

/** The keeper's viem clients, with RPC requests counted and failures logged once a minute per URL. */
export function createShellClients(opts: ShellOptions): Clients {
  const { logger } = opts;
  const rpcFailureLoggedAt = new Map<string, number>();
  return createClients({
    rpcUrls: opts.rpcUrls,
    chainId: opts.chainId,
    privateKey: opts.privateKey,
    transport: {
      // Counting parses each request body: only when someone counts.
      onRequest: opts.telemetry?.rpcRequest ? (info) => emit(opts.telemetry, 'rpcRequest', info.url, info.method) : undefined,
      onError: (info) => {
        emit(opts.telemetry, 'rpcError', info.url, info.error);
        // One line per URL per minute: a dead primary behind a fallback must not flood the log.
        const now = Date.now();
        if ((rpcFailureLoggedAt.get(info.url) ?? 0) + 60_000 < now) {
          rpcFailureLoggedAt.set(info.url, now);
          const origin = rpcOrigin(info.url);
          logger.warn({ event: 'rpc.failed', rpc: origin, err: info.error }, `RPC ${origin} failed: ${(info.error as Error).message?.split('\n')[0] ?? 'error'}`);
        }
      },
    },
  });
}

export interface Gate {
  hold: string | null;
  hedgeHold: string | null;
  stale: string | null;
}

export interface ShellHooks {
  /** A hedge that the cooldown counted from is gone (reorged, failed, dropped): forget it. */
  resetCooldown(): void;
}

export interface KeeperShell {
  readonly clients: Clients;
  readonly account: Address;
  readonly journal: Journal | null;
  readonly queue: PendingQueue | null;
  readonly executor: Executor;
  readonly onTx: (kind: TxEventKind, label: string, cost?: TxCost) => void;
  readonly failedTicks: number;
  /** Freshness and the queue's holds for a read at this block (also raises the stale escalation). */
  gate(blockNumber: bigint): Gate;
  /** Today's spending, counted from the journal (every mined or pending transaction); null without a journal. */
  spentToday(nowSec: number): (Spent & { day: number }) | null;
  /** Prove the next nonce is free just before the first transaction (null = go). */
  beforeSend(blockNumber: bigint): Promise<string | null>;
  reconcile(head?: bigint): Promise<ReconcileReport | null>;
  /**
   * One tick: drive the queue at the block, run the keeper's own tick, settle what it sent
   * (waiting up to settleWaitMs), count failures and escalate repeats.
   */
  tickOnce<R>(blockNumber: bigint | undefined, run: () => Promise<R>, sentSomething: (r: R) => boolean): Promise<R>;
  settle(opts?: { timeoutMs?: number }): Promise<void>;
  run(tickOnce: (block?: bigint) => Promise<unknown>, opts?: { maxTicks?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** Blocks a hedge backs off per consecutive on-chain failure (after the second). */
const HEDGE_FAILURE_BACKOFF_BLOCKS = 10n;

export function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export function createKeeperShell(opts: ShellOptions & { clients: Clients; allowList: CallAllowList; hooks: ShellHooks }): KeeperShell {
  const { config, logger, clients } = opts;
  const account = clients.walletClient.account.address;
  const journal = opts.journal !== undefined ? opts.journal : opts.dryRun ? null : openJournal(config.safety.journalPath);
  const onTx = (kind: TxEventKind, label: string, cost?: TxCost) => emit(opts.telemetry, 'tx', kind, label, cost);
  const sender = opts.dryRun || !journal ? null : createTxSender({ clients, logger, journal, maxFeeCeilingWei: config.guard.maxGasPriceWei, onTx });
  const executor = createExecutor({ clients, logger, allowList: opts.allowList, dryRun: opts.dryRun, onTx, sender });
  const queue =
    journal && sender
      ? createPendingQueue({
          journal,
          sender,
          publicClient: clients.publicClient,
          account,
          logger,
          replaceAfterBlocks: config.safety.replaceAfterBlocks,
          maxFeeCeilingWei: config.guard.maxGasPriceWei,
          rpcOrigins: opts.rpcUrls.map((u) => rpcOrigin(u)),
          adoptHistory: opts.adoptHistory,
          onTx,
          escalateAfterTicks: opts.escalateAfterTicks,
        })
      : null;
  /** The newest block the keeper knows of (heads, reads, its own receipts): no read may be older. */
  let knownBlock = 0n;
  /** Hedges that failed on chain in a row: after two, hedging backs off (longer each time). */
  let hedgeFailures = { count: 0, untilBlock: 0n };
  const escalation = createEscalation(logger, opts.escalateAfterTicks ?? 3);
  let failedTicks = 0;

  function gate(blockNumber: bigint): Gate {
    const known = maxOf(knownBlock, queue?.state.lastMinedBlock ?? 0n);
    const stale =
      blockNumber < known
        ? `stale read: block ${blockNumber} is older than block ${known} the keeper already knows${queue?.state.lastMinedBlock === known ? ' (its own last mined transaction)' : ''}`
        : null;
    knownBlock = maxOf(knownBlock, blockNumber);
    escalation.condition('stale', stale);
    const q = queue?.state;
    const pendingCollateral = q?.pendingKinds.some((k) => k === 'topUp' || k === 'moveCollateral');
    const hold = stale ?? q?.alarms[0] ?? q?.hold ?? (pendingCollateral ? 'a top-up is still waiting for the chain' : null);
    const hedgeHold = q?.pendingKinds.includes('adjustHedge')
      ? 'a hedge is still waiting for the chain'
      : hedgeFailures.count >= 2 && blockNumber < hedgeFailures.untilBlock
        ? `${hedgeFailures.count} hedges in a row failed on chain: backing off until block ${hedgeFailures.untilBlock}`
        : null;
    return { hold, hedgeHold, stale };
  }

  async function reconcile(head?: bigint): Promise<ReconcileReport | null> {
    if (!queue) return null;
    const report = await queue.drive(head ?? (() => clients.publicClient.getBlockNumber({ cacheTime: 0 })), knownBlock > 0n ? knownBlock : undefined);
    // The hedge the cooldown counts from is gone: replan now.
    if (report.reorged > 0) opts.hooks.resetCooldown();
    for (const f of report.finished) emit(opts.telemetry, 'actionSettled', f.kind, f.status);
    for (const f of report.finished.filter((x) => x.kind === 'adjustHedge')) {
      if (f.status === 'done') {
        hedgeFailures = { count: 0, untilBlock: 0n };
        continue;
      }
      // A hedge that did not happen does not start the cooldown...
      opts.hooks.resetCooldown();
      // ...but one that keeps failing on chain must not be retried every tick (an Aave borrow
      // mined and its sale reverted leaves the borrowed asset in the wallet: retrying borrows again).
      if (f.status === 'failed') {
        hedgeFailures = { count: hedgeFailures.count + 1, untilBlock: knownBlock + HEDGE_FAILURE_BACKOFF_BLOCKS * BigInt(hedgeFailures.count + 1) };
        if (hedgeFailures.count >= 2) {
          logger.error(
            { event: 'safe_mode.entered', reason: `${hedgeFailures.count} hedges in a row failed on chain`, cause: 'hedge-failures' },
            `safe mode: ${hedgeFailures.count} hedges in a row failed on chain: no new hedge before block ${hedgeFailures.untilBlock}`,
          );
        }
      }
    }
    if (report.settled + report.abandoned + report.dropped + report.reorged + report.replaced > 0) {
      logger.info({ event: 'journal.reconciled', ...report }, 'journal reconciled with the chain');
    }
    return report;
  }

  async function tickOnce<R>(blockNumber: bigint | undefined, run: () => Promise<R>, sentSomething: (r: R) => boolean): Promise<R> {
    const t0 = performance.now();
    let result: R;
    try {
      // The queue is driven at the block the loop saw (or, in interval mode, the last read's).
      await reconcile(blockNumber);
      result = await run();
      // What was just sent may already be mined (automining chains, fast blocks): settle it now.
      if (queue && sentSomething(result)) await queue.settleMined(opts.settleWaitMs ?? 0);
    } catch (err) {
      failedTicks++;
      escalation.failure(err);
      emit(opts.telemetry, 'tickFailed', err, performance.now() - t0);
      throw err;
    }
    escalation.success();
    return result;
  }

  async function settle(o: { timeoutMs?: number } = {}): Promise<void> {
    if (!queue) return;
    const until = Date.now() + (o.timeoutMs ?? 30_000);
    for (;;) {
      await reconcile();
      if (queue.state.pendingKinds.length === 0) return;
      if (Date.now() > until) throw new Error(`settle: still waiting for ${queue.state.pendingKinds.join(', ')} after ${o.timeoutMs ?? 30_000} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  let loop: Loop | null = null;
  let staleHeadSaid = false;
  let lastHeadTicked: bigint | null = null;
  let lastStaleHead: bigint | null = null;

  async function run(tick: (block?: bigint) => Promise<unknown>, runOpts: { maxTicks?: number } = {}): Promise<void> {
    loop = createLoop({
      mode: config.loop.tickMode,
      intervalMs: config.loop.tickIntervalMs,
      pollMs: Math.min(config.loop.tickIntervalMs, 1_000),
      getBlockNumber: async () => {
        const head = await clients.publicClient.getBlockNumber({ cacheTime: 0 });
        // The highest head any endpoint showed counts too: a tick whose read failed at it must
        // not make a replica behind it look new.
        const known = maxOf(maxOf(knownBlock, lastHeadTicked ?? 0n), queue?.state.lastMinedBlock ?? 0n);
        if (head < known) {
          // A node behind what we already know (a frozen or lagging replica; our own hedge was
          // mined in a later block): no tick on it, and say so once, not silence.
          const reason = `stale head: the RPC's head ${head} is behind block ${known} the keeper already knows${queue?.state.lastMinedBlock === known ? ' (its own last mined transaction)' : ''}; holding until it catches up`;
          if (!staleHeadSaid) logger.warn({ event: 'chain.stale', head, known }, reason);
          staleHeadSaid = true;
          // Counted once per head the endpoint shows, not per poll: a replica a block behind for
          // a few polls is not yet a persistent failure.
          if (head !== lastStaleHead) escalation.condition('stale', reason);
          lastStaleHead = head;
          return lastHeadTicked ?? head;
        }
        if (staleHeadSaid) logger.info({ event: 'chain.caught_up', head }, `the RPC's head ${head} caught up`);
        staleHeadSaid = false;
        lastHeadTicked = head;
        return head;
      },
      runTick: async (block) => {
        await tick(block);
      },
      logger,
      maxTicks: runOpts.maxTicks,
    });
    await loop.run();
  }

  return {
    clients,
    account,
    journal,
    queue,
    executor,
    onTx,
    get failedTicks() {
      return failedTicks;
    },
    gate,
    spentToday(nowSec) {
      if (!journal) return null;
      // Counted from the journal every tick: every mined or pending transaction, whatever its
      // intent's label, and across restarts.
      const day = utcDay(nowSec);
      return { ...journal.spentSince(opts.chainId, account, day * 86_400), day };
    },
    beforeSend: async (blockNumber) => (queue ? queue.prove(blockNumber) : null),
    reconcile,
    tickOnce,
    settle,
    run,
    async stop() {
      await loop?.stop();
    },
  };
}

/** What a failure is about, for counting repeats: the journal, the RPC, or the error's first line. */
function failureCause(err: unknown): string {
  const e = err as { name?: string; code?: string; message?: string };
  if (e?.code?.startsWith?.('SQLITE') || /SqliteError|journal/i.test(`${e?.name} ${e?.message}`)) return `journal (${e.code ?? e.name})`;
  if (/HttpRequestError|TimeoutError|RpcRequestError|fetch failed|ECONNREFUSED/i.test(`${e?.name} ${e?.message}`)) return 'RPC';
  return (e?.message ?? String(err)).split('\n')[0]?.slice(0, 120) ?? 'error';
}

/**
 * Failures and doubtful conditions that repeat escalate: after N consecutive ticks, a
 * `safe_mode.entered` line (alerted) naming the cause; `safe_mode.left` when it clears.
 */
function createEscalation(logger: Logger, afterTicks: number) {
  const counts = new Map<string, { n: number; reason: string; raised: boolean }>();
  function raise(key: string, reason: string): void {
    const c = counts.get(key) ?? { n: 0, reason, raised: false };
    c.n++;
    c.reason = reason;
    counts.set(key, c);
    if (c.n >= afterTicks && !c.raised) {
      c.raised = true;
      logger.error({ event: 'safe_mode.entered', reason: `${reason} (${c.n} ticks in a row)`, cause: key }, `safe mode: ${reason} (${c.n} ticks in a row)`);
    }
  }
  function clear(key: string): void {
    const c = counts.get(key);
    if (c?.raised) logger.info({ event: 'safe_mode.left', was: c.reason, cause: key }, `safe mode left: ${key} recovered`);
    counts.delete(key);
  }
  return {
    condition(key: string, reason: string | null) {
      if (reason) raise(key, reason);
      else clear(key);
    },
    failure(err: unknown) {
      const cause = failureCause(err);
      for (const key of [...counts.keys()]) if (key.startsWith('failure:') && key !== `failure:${cause}`) clear(key);
      raise(`failure:${cause}`, `tick failing: ${cause}`);
    },
    success() {
      for (const key of [...counts.keys()]) if (key.startsWith('failure:')) clear(key);
    },
  };
}
