import { keccak256, type Hex, type TransactionReceipt } from 'viem';
import type { Logger } from 'pino';
import type { Clients } from './clients.js';
import type { Journal } from '../journal/journal.js';
import type { TxEventKind } from '../monitor/telemetry.js';

/**
 * Our own nonce and fee management: one in-flight transaction per signer, EIP-1559 fees under a
 * ceiling, replacement at the same nonce when a transaction sits unmined for N blocks (both fees
 * +12.5% at least, never above the ceiling), every hash of a nonce tracked, and the nonce done
 * when any of them is mined. Every signed transaction is journaled before it is broadcast.
 */

export interface PreparedTx {
  label: string;
  to: `0x${string}`;
  data: Hex;
  value?: bigint;
  gas: bigint;
}

export type SendOutcome =
  | { status: 'mined'; hash: Hex; receipt: TransactionReceipt; replacements: number }
  | { status: 'reverted'; hash: Hex; receipt: TransactionReceipt; replacements: number }
  /** Nothing was sent: the fee market is above the ceiling. */
  | { status: 'deferred'; reason: string }
  /** The nonce was used by a transaction we did not send. */
  | { status: 'dropped'; reason: string }
  /** Still unmined after the wait limit: left in the journal, reconciled on the next tick. */
  | { status: 'pending'; hash: Hex; reason: string };

export interface SenderOptions {
  clients: Clients;
  logger: Logger;
  journal: Journal | null;
  maxFeeCeilingWei: bigint;
  replaceAfterBlocks: number;
  /** Give up waiting (leaving the nonce to reconciliation) after this many blocks... */
  maxWaitBlocks?: number;
  /** ...or this long, should the chain stop producing blocks. */
  maxWaitMs?: number;
  pollMs?: number;
  onTx?: (kind: TxEventKind, label: string) => void;
}

export interface TxSender {
  send(tx: PreparedTx, intentId: number | null): Promise<SendOutcome>;
  /** Wait for (and if stuck, replace) journaled transactions of one nonce. */
  resume(group: ResumeGroup): Promise<SendOutcome>;
}

export interface ResumeGroup {
  intentId: number;
  label: string;
  nonce: number;
  hashes: Hex[];
  /** The latest signed version, for replacement. */
  last: { to: `0x${string}`; data: Hex; value: bigint; gas: bigint; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };
}

const BUMP_NUM = 1125n; // +12.5%, the minimum geth and anvil accept for a replacement
const BUMP_DEN = 1000n;
const GWEI = 10n ** 9n;

export function bumpFee(fee: bigint): bigint {
  return (fee * BUMP_NUM + BUMP_DEN - 1n) / BUMP_DEN;
}

function gwei(wei: bigint): string {
  return `${(Number(wei) / 1e9).toFixed(3)} gwei`;
}

export function createTxSender(opts: SenderOptions): TxSender {
  const { clients, logger, journal } = opts;
  const { publicClient, walletClient } = clients;
  const account = walletClient.account;
  const chainId = publicClient.chain.id;
  const pollMs = opts.pollMs ?? 200;
  const maxWaitBlocks = BigInt(opts.maxWaitBlocks ?? 60);
  const maxWaitMs = opts.maxWaitMs ?? 10 * 60_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  async function marketFees(): Promise<{ maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; baseFee: bigint }> {
    const block = await publicClient.getBlock({ blockTag: 'latest' });
    const baseFee = block.baseFeePerGas ?? 0n;
    let tip: bigint;
    try {
      tip = await publicClient.estimateMaxPriorityFeePerGas();
    } catch {
      tip = GWEI / 10n;
    }
    return { baseFee, maxPriorityFeePerGas: tip, maxFeePerGas: baseFee * 2n + tip };
  }

  async function signAndBroadcast(
    tx: { label: string; to: `0x${string}`; data: Hex; value: bigint; gas: bigint },
    nonce: number,
    fees: { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint },
    intentId: number | null,
  ): Promise<Hex> {
    const raw = await walletClient.signTransaction({
      account,
      chain: walletClient.chain,
      type: 'eip1559',
      to: tx.to,
      data: tx.data,
      value: tx.value,
      gas: tx.gas,
      nonce,
      maxFeePerGas: fees.maxFeePerGas,
      maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
    });
    const hash = keccak256(raw);
    if (journal && intentId !== null) {
      journal.recordSigned({ intentId, chainId, account: account.address, label: tx.label, nonce, hash, raw, ...fees });
    }
    try {
      await publicClient.sendRawTransaction({ serializedTransaction: raw });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      // A node that already has it, or a second broadcast after a flaky response: not an error.
      if (!/already known|already imported|known transaction/i.test(msg)) throw err;
    }
    journal?.markTx(hash, 'broadcast');
    return hash;
  }

  async function receiptOf(hash: Hex): Promise<TransactionReceipt | null> {
    try {
      return await publicClient.getTransactionReceipt({ hash });
    } catch {
      return null;
    }
  }

  /** Wait until one of the hashes of `nonce` is mined, replacing when stuck. */
  async function watch(group: ResumeGroup): Promise<SendOutcome> {
    const hashes = [...group.hashes];
    let last = group.last;
    let sentAt = await publicClient.getBlockNumber({ cacheTime: 0 });
    const startedAt = sentAt;
    const startedAtMs = Date.now();
    let atCeilingLogged = false;
    for (;;) {
      for (const hash of hashes) {
        const receipt = await receiptOf(hash);
        if (!receipt) continue;
        for (const other of hashes) if (other !== hash) journal?.markTx(other, 'replaced');
        const ok = receipt.status === 'success';
        journal?.markTx(hash, ok ? 'mined' : 'reverted', { block: receipt.blockNumber, gasUsed: receipt.gasUsed });
        return { status: ok ? 'mined' : 'reverted', hash, receipt, replacements: hashes.length - 1 };
      }
      const head = await publicClient.getBlockNumber({ cacheTime: 0 });
      const confirmedNonce = await publicClient.getTransactionCount({ address: account.address, blockTag: 'latest' });
      if (confirmedNonce > group.nonce) {
        // Re-check once: the receipt may have landed between the two reads.
        const late = await Promise.all(hashes.map(receiptOf));
        if (late.some(Boolean)) continue;
        for (const h of hashes) journal?.markTx(h, 'dropped');
        return { status: 'dropped', reason: `nonce ${group.nonce} was used by a transaction the keeper did not send` };
      }
      if (head - startedAt >= maxWaitBlocks || Date.now() - startedAtMs > maxWaitMs) {
        return { status: 'pending', hash: hashes[hashes.length - 1] as Hex, reason: `not mined after ${head - startedAt} blocks / ${Math.round((Date.now() - startedAtMs) / 1000)}s; reconciled next tick` };
      }
      if (head - sentAt >= BigInt(opts.replaceAfterBlocks)) {
        const market = await marketFees();
        let maxFee = bumpFee(last.maxFeePerGas);
        let tip = bumpFee(last.maxPriorityFeePerGas);
        if (market.maxFeePerGas > maxFee) maxFee = market.maxFeePerGas;
        if (maxFee > opts.maxFeeCeilingWei) maxFee = opts.maxFeeCeilingWei;
        if (tip > maxFee) tip = maxFee;
        if (maxFee < bumpFee(last.maxFeePerGas) || tip < bumpFee(last.maxPriorityFeePerGas)) {
          if (!atCeilingLogged) {
            logger.warn({ event: 'tx.stuck', label: group.label, nonce: group.nonce, maxFeePerGas: last.maxFeePerGas, ceiling: opts.maxFeeCeilingWei }, `${group.label} is stuck and its fee is at the ceiling ${gwei(opts.maxFeeCeilingWei)}: waiting`);
            atCeilingLogged = true;
          }
          sentAt = head;
        } else {
          const hash = await signAndBroadcast({ ...last, label: group.label }, group.nonce, { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip }, group.intentId);
          hashes.push(hash);
          logger.warn(
            { event: 'tx.replaced', label: group.label, nonce: group.nonce, hash, replaces: hashes[hashes.length - 2], maxFeePerGas: maxFee, maxPriorityFeePerGas: tip },
            `${group.label} not mined after ${opts.replaceAfterBlocks} blocks: replaced at nonce ${group.nonce} with ${gwei(maxFee)} max fee`,
          );
          opts.onTx?.('replaced', group.label);
          last = { ...last, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip };
          sentAt = head;
        }
      }
      await sleep(pollMs);
    }
  }

  return {
    async send(tx, intentId) {
      const market = await marketFees();
      if (market.baseFee + market.maxPriorityFeePerGas > opts.maxFeeCeilingWei) {
        return {
          status: 'deferred',
          reason: `gas price ${gwei(market.baseFee + market.maxPriorityFeePerGas)} is above the ceiling ${gwei(opts.maxFeeCeilingWei)} (MAX_GAS_PRICE_GWEI): waiting`,
        };
      }
      const maxFeePerGas = market.maxFeePerGas > opts.maxFeeCeilingWei ? opts.maxFeeCeilingWei : market.maxFeePerGas;
      const fees = { maxFeePerGas, maxPriorityFeePerGas: market.maxPriorityFeePerGas };
      const nonce = await publicClient.getTransactionCount({ address: account.address, blockTag: 'pending' });
      const full = { ...tx, value: tx.value ?? 0n };
      const hash = await signAndBroadcast(full, nonce, fees, intentId);
      logger.info({ event: 'tx.sent', label: tx.label, hash, nonce, maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }, `sent ${tx.label}`);
      opts.onTx?.('sent', tx.label);
      return watch({ intentId: intentId ?? -1, label: tx.label, nonce, hashes: [hash], last: { ...full, ...fees } });
    },
    resume: watch,
  };
}
