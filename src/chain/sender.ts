import { keccak256, type Hex } from 'viem';
import type { Logger } from 'pino';
import type { Clients } from './clients.js';
import type { Journal } from '../journal/journal.js';
import type { TxEventKind } from '../monitor/telemetry.js';
import { unknownReason } from './rpc-result.js';

/**
 * Our own nonce and fee management. The sender signs, journals (before anything leaves the
 * process) and broadcasts; it never waits for mining: the pending queue (journal/queue.ts) is
 * driven once per tick and confirms, replaces and rebroadcasts. Nonces come from the queue's
 * last proven state of the chain, never from an RPC's "pending" count: a transaction whose fate
 * is unknown keeps its nonce, and one found abandoned gives its nonce to the next transaction,
 * so two versions of one decision can never both land.
 */

export interface PreparedTx {
  label: string;
  to: `0x${string}`;
  data: Hex;
  value?: bigint;
  gas: bigint;
}

export type SendOutcome =
  /** Accepted by the RPC (or its fate unknown after an error: the queue finds out). */
  | { status: 'sent'; hash: Hex; nonce: number; uncertain?: string }
  /** Nothing was sent: the fee market is above the ceiling. */
  | { status: 'deferred'; reason: string }
  /** The RPC refused it for good (nonce too low, underpriced...): journaled as abandoned. */
  | { status: 'rejected'; hash: Hex; reason: string }
  /** No nonce is known to be free (the queue could not prove the chain's state this tick). */
  | { status: 'held'; reason: string };

export interface SenderOptions {
  clients: Clients;
  logger: Logger;
  journal: Journal | null;
  maxFeeCeilingWei: bigint;
  onTx?: (kind: TxEventKind, label: string) => void;
}

export interface SignedFees {
  maxFeePerGas: bigint;
  maxPriorityFeePerGas: bigint;
}

export interface TxSender {
  /** The queue sets this every tick from the chain's nonce at the read block and the journal; null = hold. */
  setNextNonce(nonce: number | null, head: bigint | null): void;
  send(tx: PreparedTx, intentId: number | null): Promise<SendOutcome>;
  /** Sign and broadcast another version of a nonce (replacement); returns the new hash. */
  resign(
    tx: { label: string; to: `0x${string}`; data: Hex; value: bigint; gas: bigint },
    nonce: number,
    fees: SignedFees,
    intentId: number,
  ): Promise<{ hash: Hex; error?: string }>;
  /** Hand the same signed bytes to the RPC again (a node that lost or never forwarded them). */
  rebroadcast(hash: Hex, raw: Hex): Promise<{ error?: string }>;
  marketFees(): Promise<SignedFees & { baseFee: bigint }>;
}

const BUMP_NUM = 1125n; // +12.5%, the minimum geth and anvil accept for a replacement
const BUMP_DEN = 1000n;
const GWEI = 10n ** 9n;

export function bumpFee(fee: bigint): bigint {
  return (fee * BUMP_NUM + BUMP_DEN - 1n) / BUMP_DEN;
}

export function gwei(wei: bigint): string {
  return `${(Number(wei) / 1e9).toFixed(3)} gwei`;
}

/** Node answers that mean "this will never be mined as sent", as opposed to "no answer". */
const REFUSED = /nonce too low|replacement transaction underpriced|transaction underpriced|insufficient funds|exceeds block gas limit|intrinsic gas too low|invalid sender|already (been )?used|nonce has already/i;
const ALREADY_KNOWN = /already known|already imported|known transaction/i;

function message(err: unknown): string {
  const e = err as { details?: string; shortMessage?: string; message?: string };
  return e.details ?? e.shortMessage ?? e.message ?? String(err);
}

export function createTxSender(opts: SenderOptions): TxSender {
  const { clients, logger, journal } = opts;
  const { publicClient, walletClient } = clients;
  const account = walletClient.account;
  const chainId = publicClient.chain.id;
  let nextNonce: number | null = null;
  let head: bigint | null = null;

  async function marketFees(): Promise<SignedFees & { baseFee: bigint }> {
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

  /** 'ok', 'refused' (the node will never mine it) or 'unknown' (no answer: it may have arrived). */
  async function broadcast(raw: Hex): Promise<{ kind: 'ok' } | { kind: 'refused' | 'unknown'; reason: string }> {
    try {
      await publicClient.sendRawTransaction({ serializedTransaction: raw });
      return { kind: 'ok' };
    } catch (err) {
      const msg = message(err);
      if (ALREADY_KNOWN.test(msg)) return { kind: 'ok' };
      if (REFUSED.test(msg)) return { kind: 'refused', reason: msg.split('\n')[0] as string };
      return { kind: 'unknown', reason: unknownReason(err) };
    }
  }

  async function sign(
    tx: { label: string; to: `0x${string}`; data: Hex; value: bigint; gas: bigint },
    nonce: number,
    fees: SignedFees,
    intentId: number | null,
  ): Promise<{ hash: Hex; raw: Hex }> {
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
      journal.recordSigned({ intentId, chainId, account: account.address, label: tx.label, nonce, hash, raw, ...fees, sentBlock: head ?? undefined });
    }
    return { hash, raw };
  }

  return {
    setNextNonce(nonce, h) {
      nextNonce = nonce;
      head = h;
    },
    marketFees,
    async send(tx, intentId) {
      if (!journal) {
        // Standalone (no journal, no queue: tools and tests): the chain's mined count, and ours after it.
        const mined = await publicClient.getTransactionCount({ address: account.address, blockTag: 'latest' });
        nextNonce = nextNonce === null || mined > nextNonce ? mined : nextNonce;
      }
      if (nextNonce === null) return { status: 'held', reason: 'no nonce is known to be free this tick (the chain state could not be proven)' };
      const market = await marketFees();
      if (market.baseFee + market.maxPriorityFeePerGas > opts.maxFeeCeilingWei) {
        return {
          status: 'deferred',
          reason: `gas price ${gwei(market.baseFee + market.maxPriorityFeePerGas)} is above the ceiling ${gwei(opts.maxFeeCeilingWei)} (MAX_GAS_PRICE_GWEI): waiting`,
        };
      }
      const maxFeePerGas = market.maxFeePerGas > opts.maxFeeCeilingWei ? opts.maxFeeCeilingWei : market.maxFeePerGas;
      const fees = { maxFeePerGas, maxPriorityFeePerGas: market.maxPriorityFeePerGas };
      const nonce = nextNonce;
      const { hash, raw } = await sign({ ...tx, value: tx.value ?? 0n }, nonce, fees, intentId);
      const result = await broadcast(raw);
      if (result.kind === 'refused') {
        journal?.markTx(hash, 'abandoned');
        // The chain's view of our nonces is not what we proved: let the next tick find out.
        nextNonce = null;
        logger.warn({ event: 'tx.refused', label: tx.label, hash, nonce, reason: result.reason }, `${tx.label} refused by the RPC: ${result.reason}`);
        return { status: 'rejected', hash, reason: `the RPC refused the transaction: ${result.reason}` };
      }
      journal?.markBroadcast(hash, head);
      nextNonce = nonce + 1;
      logger.info({ event: 'tx.sent', label: tx.label, hash, nonce, maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }, `sent ${tx.label}`);
      opts.onTx?.('sent', tx.label);
      if (result.kind === 'unknown') {
        // It may or may not have arrived: it keeps its nonce; the queue asks the chain next tick.
        logger.warn({ event: 'tx.uncertain', label: tx.label, hash, nonce, reason: result.reason }, `${tx.label}: broadcast answered ${result.reason}; its fate is checked next tick, its nonce is kept`);
        return { status: 'sent', hash, nonce, uncertain: result.reason };
      }
      return { status: 'sent', hash, nonce };
    },
    async resign(tx, nonce, fees, intentId) {
      const { hash, raw } = await sign(tx, nonce, fees, intentId);
      const result = await broadcast(raw);
      if (result.kind === 'refused') {
        journal?.markTx(hash, 'abandoned');
        return { hash, error: result.reason };
      }
      journal?.markBroadcast(hash, head);
      return result.kind === 'unknown' ? { hash, error: result.reason } : { hash };
    },
    async rebroadcast(hash, raw) {
      const result = await broadcast(raw);
      if (result.kind === 'ok') journal?.markBroadcast(hash, head);
      return result.kind === 'ok' ? {} : { error: result.reason };
    },
  };
}
