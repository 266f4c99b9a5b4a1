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

/** The result of one transaction: a value, not an exception (DESIGN). */
export type TxOutcome =
  | { status: 'mined'; label: string; hash: Hex; gasUsed: bigint; blockNumber: bigint }
  | { status: 'simulated'; label: string; gasUsed: bigint }
  | { status: 'reverted'; label: string; stage: 'simulation' | 'chain'; reason: string; hash?: Hex }
  | { status: 'blocked'; label: string; reason: string };

export interface Executor {
  /** Run a sequence in order; stops at the first transaction that is not mined (or simulated). */
  run(txs: readonly TxRequest[], context: Record<string, unknown>): Promise<TxOutcome[]>;
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

  function guardCall(tx: TxRequest): TxOutcome | null {
    if (isAllowedCall(tx.address, tx.functionName, allowList)) return null;
    const reason = `${tx.functionName} on ${tx.address} is not on the allow-list`;
    logger.warn({ event: 'guard.blocked', label: tx.label, reason }, reason);
    opts.onTx?.('blocked', tx.label);
    return { status: 'blocked', label: tx.label, reason };
  }

  /**
   * Dry-run transactions of one tick (same block) are simulated on top of each other, as they
   * would execute: a hedge after a top-up sees the top-up's margin.
   */
  let dryRunPrefix: { block: unknown; txs: TxRequest[] } = { block: undefined, txs: [] };

  async function dryRun(txs: readonly TxRequest[], context: Record<string, unknown>): Promise<TxOutcome[]> {
    if (dryRunPrefix.block !== context['block'] || context['block'] === undefined) {
      dryRunPrefix = { block: context['block'], txs: [] };
    }
    const all = [...dryRunPrefix.txs, ...txs];
    const { results } = await publicClient.simulateCalls({
      account: account.address,
      calls: all.map((tx) => ({ to: tx.address, data: encodeFunctionData(tx), value: tx.value })),
    });
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

  async function sendOne(tx: TxRequest, context: Record<string, unknown>): Promise<TxOutcome> {
    let request;
    try {
      ({ request } = await publicClient.simulateContract({
        account,
        address: tx.address,
        abi: tx.abi,
        functionName: tx.functionName,
        args: tx.args,
        value: tx.value,
      }));
    } catch (err) {
      const reason = revertReason(err, [tx.abi, ...(opts.errorAbis ?? [])]);
      logger.warn({ event: 'tx.reverted', stage: 'simulation', label: tx.label, reason, ...context }, `${tx.label} would revert: ${reason}`);
      opts.onTx?.('reverted', tx.label);
      return { status: 'reverted', label: tx.label, stage: 'simulation', reason };
    }
    logger.debug({ event: 'tx.simulated', label: tx.label, gas: request.gas, ...context }, `simulated ${tx.label}`);
    const hash = await walletClient.writeContract(request);
    logger.info({ event: 'tx.sent', label: tx.label, hash, ...context }, `sent ${tx.label}`);
    opts.onTx?.('sent', tx.label);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status === 'success') {
      logger.info(
        { event: 'tx.mined', label: tx.label, hash, block: receipt.blockNumber, gasUsed: receipt.gasUsed, ...context },
        `mined ${tx.label}`,
      );
      opts.onTx?.('mined', tx.label);
      return { status: 'mined', label: tx.label, hash, gasUsed: receipt.gasUsed, blockNumber: receipt.blockNumber };
    }
    const reason = await replayReason(tx, receipt.blockNumber);
    logger.error({ event: 'tx.reverted', stage: 'chain', label: tx.label, hash, reason, ...context }, `${tx.label} reverted on chain: ${reason}`);
    opts.onTx?.('reverted', tx.label);
    return { status: 'reverted', label: tx.label, stage: 'chain', reason, hash };
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
        const blocked = guardCall(tx);
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
