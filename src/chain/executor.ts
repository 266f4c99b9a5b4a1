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
  /** Run a sequence in order; stops at the first transaction that is not mined (or simulated). */
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
  async function simulateSequence(txs: readonly TxRequest[], context: Record<string, unknown>): Promise<SimResult[]> {
    if (stackedSimulation) {
      try {
        const { results } = await publicClient.simulateCalls({
          account: account.address,
          calls: txs.map((tx) => ({ to: tx.address, data: encodeFunctionData(tx), value: tx.value })),
        });
        return results.map((r) => (r.status === 'success' ? { status: 'success', gasUsed: r.gasUsed } : { status: 'failure', error: r.error }));
      } catch (err) {
        if (!/eth_simulateV1|method not found|not supported|does not exist|unknown method/i.test(String(err))) throw err;
        stackedSimulation = false;
        logger.warn({ event: 'dry_run.unstacked', ...context }, 'the RPC has no eth_simulateV1: dry-run simulates each transaction alone');
      }
    }
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
    const results = await simulateSequence(all, context);
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

  async function sendOne(tx: TxRequest, context: RunContext): Promise<TxOutcome> {
    const log = { label: tx.label, ...context.log };
    try {
      await publicClient.simulateContract({
        account,
        address: tx.address,
        abi: tx.abi,
        functionName: tx.functionName,
        args: tx.args,
        value: tx.value,
      });
    } catch (err) {
      const reason = revertReason(err, [tx.abi, ...(opts.errorAbis ?? [])]);
      logger.warn({ event: 'tx.reverted', stage: 'simulation', reason, ...log }, `${tx.label} would revert: ${reason}`);
      opts.onTx?.('reverted', tx.label);
      return { status: 'reverted', label: tx.label, stage: 'simulation', reason };
    }
    const data = encodeFunctionData(tx);
    const estimate = await publicClient.estimateGas({ account, to: tx.address, data, value: tx.value });
    // Headroom: anvil and real nodes estimate at the pending block, and storage touched only in a
    // later second (funding accrual, oracle observations) makes an exact estimate run out of gas.
    const gas = (estimate * 125n) / 100n;
    logger.debug({ event: 'tx.simulated', gas, ...log }, `simulated ${tx.label}`);
    if (!opts.sender) throw new Error('executor: no transaction sender configured');
    const sent = await opts.sender.send({ label: tx.label, to: tx.address, data, value: tx.value, gas }, context.intentId ?? null);
    switch (sent.status) {
      case 'deferred':
        logger.warn({ event: 'action.deferred', reason: sent.reason, ...log }, `${tx.label} not sent: ${sent.reason}`);
        return { status: 'blocked', label: tx.label, reason: sent.reason };
      case 'dropped':
      case 'pending':
        logger.error({ event: 'tx.failed', reason: sent.reason, ...log }, `${tx.label}: ${sent.reason}`);
        return { status: 'reverted', label: tx.label, stage: 'chain', reason: sent.reason };
      case 'mined': {
        const { receipt, hash } = sent;
        logger.info(
          { event: 'tx.mined', hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed, replacements: sent.replacements, ...log },
          `mined ${tx.label}`,
        );
        opts.onTx?.('mined', tx.label);
        return { status: 'mined', label: tx.label, hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
      }
      case 'reverted': {
        const reason = await replayReason(tx, sent.receipt.blockNumber);
        logger.error({ event: 'tx.reverted', stage: 'chain', hash: sent.hash, reason, ...log }, `${tx.label} reverted on chain: ${reason}`);
        opts.onTx?.('reverted', tx.label);
        return { status: 'reverted', label: tx.label, stage: 'chain', reason, hash: sent.hash };
      }
    }
  }

  /** Re-run a mined-but-reverted call at its block to learn why. */
  async function replayReason(tx: TxRequest, blockNumber: bigint): Promise<string> {
    try {
      await publicClient.simulateContract({ account, address: tx.address, abi: tx.abi, functionName: tx.functionName, args: tx.args, value: tx.value, blockNumber: blockNumber - 1n });
      return 'reverted on chain (the call succeeds in replay: state changed in the same block)';
    } catch (err) {
      return revertReason(err, [tx.abi, ...(opts.errorAbis ?? [])]);
    }
  }

  return {
    async run(txs, context) {
      for (const tx of txs) {
        const blocked = guardCall(tx, context.bounds);
        if (blocked) return [blocked];
      }
      if (opts.dryRun) return dryRun(txs, context);
      const outcomes: TxOutcome[] = [];
      for (const tx of txs) {
        const outcome = await sendOne(tx, context);
        outcomes.push(outcome);
        if (outcome.status !== 'mined') break;
      }
      return outcomes;
    },
  };
}
