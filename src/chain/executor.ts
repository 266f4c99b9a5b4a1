import {
  BaseError,
  ContractFunctionRevertedError,
  decodeErrorResult,
  encodeFunctionData,
  type Abi,
  type Hex,
} from 'viem';
import type { Logger } from 'pino';
import type { Clients } from './clients.js';
import { isAllowedCall, type CallAllowList } from '../core/guard.js';
import type { TxRequest } from '../venues/types.js';
import { decodeAaveError } from '../venues/aave-errors.js';
import type { TxEventKind } from '../monitor/telemetry.js';
import { checkTxBounds, type TxBoundsContext } from '../core/guard-tx.js';
import type { TxSender } from './sender.js';

/** The result of one transaction: a value, not an exception (DESIGN). */
export type TxOutcome =
  | { status: 'mined'; label: string; hash: Hex; gasUsed: bigint; blockNumber: bigint }
  /** Signed, journaled and broadcast; the pending queue settles it on a later tick. */
  | { status: 'sent'; label: string; hash: Hex; nonce: number }
  | { status: 'simulated'; label: string; gasUsed: bigint }
  | { status: 'reverted'; label: string; stage: 'simulation' | 'chain'; reason: string; hash?: Hex }
  | { status: 'blocked'; label: string; reason: string };

export interface RunContext {
  /** Journal intent the transactions belong to (null in dry-run). */
  intentId?: number | null;
  /** Oracle reading of the planning tick, for the price bounds of the guard. */
  bounds: TxBoundsContext;
  /** The planning block: dry-run stacks the simulations of one tick on each other. */
  block?: bigint;
  /** Fields bound to every log line of the action (block, action kind). */
  log: Record<string, unknown>;
}

export interface Executor {
  /**
   * Run a sequence in order, back to back: each transaction is simulated on top of the ones this
   * tick already sent (at the planning block), then sent without waiting for mining, so the
   * sequence (approve, deposit, trade) lands together. Stops at the first one not sent.
   */
  run(txs: readonly TxRequest[], context: RunContext): Promise<TxOutcome[]>;
}

export interface ExecutorOptions {
  clients: Clients;
  logger: Logger;
  allowList: CallAllowList;
  /** Plan and simulate, send nothing (the whole sequence is simulated in one eth_simulateV1). */
  dryRun: boolean;
  /** Extra ABIs whose custom errors may appear in reverts (e.g. a swap router's). */
  errorAbis?: readonly Abi[];
  /** Transaction lifecycle hook (metrics). */
  onTx?: (kind: TxEventKind, label: string) => void;
  /** Signs, journals, broadcasts and watches (replacing when stuck); null in dry-run. */
  sender: TxSender | null;
}

/** The most useful revert reason viem (or Aave's numeric codes) can give. */
export function revertReason(err: unknown, abis: readonly Abi[] = []): string {
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      if (reverted.data?.errorName) {
        const args = (reverted.data.args ?? []).map((a) => String(a)).join(', ');
        return `${reverted.data.errorName}(${args})`;
      }
      if (reverted.reason) {
        const aave = decodeAaveError(reverted.reason);
        return aave ? `${reverted.reason} ${aave.name}` : reverted.reason;
      }
      const raw = (reverted as { raw?: Hex }).raw;
      if (raw) {
        for (const abi of abis) {
          try {
            const d = decodeErrorResult({ abi, data: raw });
            return `${d.errorName}(${(d.args ?? []).map(String).join(', ')})`;
          } catch {
            /* not this ABI */
          }
        }
        return `revert data ${raw}`;
      }
    }
    return err.shortMessage;
  }
  return err instanceof Error ? err.message : String(err);
}

export function createExecutor(opts: ExecutorOptions): Executor {
  const { clients, logger, allowList } = opts;
  const { publicClient, walletClient } = clients;
  const account = walletClient.account;

  function guardCall(tx: TxRequest, bounds: TxBoundsContext): TxOutcome | null {
    const bounded = checkTxBounds(tx, bounds);
    const reason = !isAllowedCall(tx.address, tx.functionName, allowList)
      ? `${tx.functionName} on ${tx.address} is not on the allow-list`
      : !bounded.ok
        ? bounded.reason
        : null;
    if (reason === null) return null;
    logger.warn({ event: 'guard.blocked', label: tx.label, reason }, reason);
    opts.onTx?.('blocked', tx.label);
    return { status: 'blocked', label: tx.label, reason };
  }

  /**
   * Dry-run transactions of one tick (same block) are simulated on top of each other, as they
   * would execute: a hedge after a top-up sees the top-up's margin.
   */
  let dryRunPrefix: { block: bigint | undefined; txs: TxRequest[] } = { block: undefined, txs: [] };

  type SimResult = { status: 'success'; gasUsed: bigint } | { status: 'failure'; error: unknown };
  let stackedSimulation = true;

  /**
   * eth_simulateV1 runs the calls on top of each other. An RPC without it gets one eth_call per
   * transaction on the current state instead (said once): a step that needs the previous one
   * (a deposit after its approval) may then be reported as failing.
   */
  async function simulateSequence(txs: readonly TxRequest[], context: Record<string, unknown>, block?: bigint): Promise<SimResult[] | null> {
    if (stackedSimulation) {
      try {
        const { results } = await publicClient.simulateCalls({
          account: account.address,
          calls: txs.map((tx) => ({ to: tx.address, data: encodeFunctionData(tx), value: tx.value })),
          ...(block !== undefined ? { blockNumber: block } : {}),
        });
        return results.map((r) => (r.status === 'success' ? { status: 'success', gasUsed: r.gasUsed } : { status: 'failure', error: r.error }));
      } catch (err) {
        if (!/eth_simulateV1|method not found|not supported|does not exist|unknown method/i.test(String(err))) throw err;
        stackedSimulation = false;
        logger.warn({ event: 'dry_run.unstacked', ...context }, 'the RPC has no eth_simulateV1: each transaction is simulated alone, and one that needs the previous waits for the next tick');
      }
    }
    if (!opts.dryRun) return null;
    const out: SimResult[] = [];
    for (const tx of txs) {
      try {
        const gasUsed = await publicClient.estimateGas({ account, to: tx.address, data: encodeFunctionData(tx), value: tx.value });
        out.push({ status: 'success', gasUsed });
      } catch (error) {
        out.push({ status: 'failure', error });
      }
    }
    return out;
  }

  async function dryRun(txs: readonly TxRequest[], ctx: RunContext): Promise<TxOutcome[]> {
    const context = ctx.log;
    if (ctx.block === undefined || dryRunPrefix.block !== ctx.block) dryRunPrefix = { block: ctx.block, txs: [] };
    const all = [...dryRunPrefix.txs, ...txs];
    const results = (await simulateSequence(all, context)) ?? [];
    const outcomes: TxOutcome[] = [];
    for (const [i, r] of results.slice(dryRunPrefix.txs.length).entries()) {
      const tx = txs[i] as TxRequest;
      if (r.status === 'success') {
        logger.info({ event: 'tx.simulated', label: tx.label, gasUsed: r.gasUsed, dryRun: true, ...context }, `simulated ${tx.label}`);
        opts.onTx?.('simulated', tx.label);
        outcomes.push({ status: 'simulated', label: tx.label, gasUsed: r.gasUsed });
        continue;
      }
      const reason = revertReason(r.error, [tx.abi, ...(opts.errorAbis ?? [])]);
      logger.warn({ event: 'tx.reverted', stage: 'simulation', label: tx.label, reason, dryRun: true, ...context }, `${tx.label} would revert: ${reason}`);
      opts.onTx?.('reverted', tx.label);
      outcomes.push({ status: 'reverted', label: tx.label, stage: 'simulation', reason });
      return outcomes;
    }
    dryRunPrefix.txs.push(...txs);
    return outcomes;
  }

  /** This tick's sent transactions: the next ones are simulated on top of them. */
  let livePrefix: { block: bigint | undefined; txs: TxRequest[] } = { block: undefined, txs: [] };

  /** Gas for one transaction: a plain estimate when it stands alone, else its stacked simulation. */
  async function gasFor(tx: TxRequest, stackedGasUsed: bigint | null): Promise<bigint> {
    if (stackedGasUsed === null) {
      const estimate = await publicClient.estimateGas({ account, to: tx.address, data: encodeFunctionData(tx), value: tx.value });
      // Headroom: anvil and real nodes estimate at the pending block, and storage touched only in
      // a later second (funding accrual, oracle observations) makes an exact estimate run short.
      return (estimate * 125n) / 100n;
    }
    // gasUsed is after refunds and below the 63/64 call-gas rule: a limit needs more.
    return (stackedGasUsed * 3n) / 2n + 30_000n;
  }

  async function simulateLive(txs: readonly TxRequest[], context: RunContext): Promise<Array<{ ok: true; gasUsed: bigint | null } | { ok: false; reason: string; tx: TxRequest }>> {
    const prefix = context.block !== undefined && livePrefix.block === context.block ? livePrefix.txs : [];
    const stacked = await simulateSequence([...prefix, ...txs], context.log, context.block);
    if (stacked) {
      return stacked.slice(prefix.length).map((r, i) => {
        const tx = txs[i] as TxRequest;
        return r.status === 'success' ? { ok: true as const, gasUsed: r.gasUsed } : { ok: false as const, reason: revertReason(r.error, [tx.abi, ...(opts.errorAbis ?? [])]), tx };
      });
    }
    // No eth_simulateV1: only a transaction that does not depend on an earlier one of this tick.
    const first = txs[0] as TxRequest;
    if (prefix.length > 0) return [{ ok: false, reason: 'waits for the previous transaction to be mined (the RPC cannot simulate on top of it)', tx: first }];
    try {
      await publicClient.simulateContract({ account, address: first.address, abi: first.abi, functionName: first.functionName, args: first.args, value: first.value });
      return [{ ok: true, gasUsed: null }];
    } catch (err) {
      return [{ ok: false, reason: revertReason(err, [first.abi, ...(opts.errorAbis ?? [])]), tx: first }];
    }
  }

  async function sendLive(txs: readonly TxRequest[], context: RunContext): Promise<TxOutcome[]> {
    if (!opts.sender) throw new Error('executor: no transaction sender configured');
    // Stacked only within one planning block; a call without a block stands alone.
    if (context.block === undefined || livePrefix.block !== context.block) livePrefix = { block: context.block, txs: [] };
    const sims = await simulateLive(txs, context);
    const outcomes: TxOutcome[] = [];
    for (const [i, sim] of sims.entries()) {
      const tx = txs[i] as TxRequest;
      const log = { label: tx.label, ...context.log };
      if (!sim.ok) {
        logger.warn({ event: 'tx.reverted', stage: 'simulation', reason: sim.reason, ...log }, `${tx.label} would revert: ${sim.reason}`);
        opts.onTx?.('reverted', tx.label);
        outcomes.push({ status: 'reverted', label: tx.label, stage: 'simulation', reason: sim.reason });
        break;
      }
      const gas = await gasFor(tx, livePrefix.txs.length === 0 && i === 0 ? null : sim.gasUsed);
      logger.debug({ event: 'tx.simulated', gas, ...log }, `simulated ${tx.label}`);
      const sent = await opts.sender.send({ label: tx.label, to: tx.address, data: encodeFunctionData(tx), value: tx.value, gas }, context.intentId ?? null);
      if (sent.status === 'sent') {
        livePrefix.txs.push(tx);
        outcomes.push({ status: 'sent', label: tx.label, hash: sent.hash, nonce: sent.nonce });
        continue;
      }
      if (sent.status === 'rejected') {
        logger.error({ event: 'tx.failed', reason: sent.reason, hash: sent.hash, ...log }, `${tx.label}: ${sent.reason}`);
        outcomes.push({ status: 'reverted', label: tx.label, stage: 'chain', reason: sent.reason, hash: sent.hash });
      } else {
        logger.warn({ event: 'action.deferred', reason: sent.reason, ...log }, `${tx.label} not sent: ${sent.reason}`);
        outcomes.push({ status: 'blocked', label: tx.label, reason: sent.reason });
      }
      break;
    }
    return outcomes;
  }

  return {
    async run(txs, context) {
      for (const tx of txs) {
        const blocked = guardCall(tx, context.bounds);
        if (blocked) return [blocked];
      }
      if (opts.dryRun) return dryRun(txs, context);
      return sendLive(txs, context);
    },
  };
}
