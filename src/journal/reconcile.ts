import { parseTransaction, type Chain, type Hex, type PublicClient, type Transport } from 'viem';
import type { Logger } from 'pino';
import type { Journal, TxRow } from './journal.js';
import type { TxSender } from '../chain/sender.js';

export interface ReconcileReport {
  /** Journaled transactions found mined (or reverted) on chain. */
  settled: number;
  /** Transactions still in a mempool that were waited for (and replaced if stuck). */
  resumed: number;
  /** Signed but never seen by the chain: not sent again (the next plan starts from the chain). */
  abandoned: number;
  /** Nonce used by a transaction the keeper did not send. */
  dropped: number;
  /** Mined transactions whose block is no longer on the chain. */
  reorged: number;
}

export interface ReconcileDeps {
  journal: Journal;
  sender: TxSender;
  publicClient: PublicClient<Transport, Chain>;
  account: `0x${string}`;
  logger: Logger;
}

function groupByNonce(rows: readonly TxRow[]): TxRow[][] {
  const groups = new Map<number, TxRow[]>();
  for (const r of rows) groups.set(r.nonce, [...(groups.get(r.nonce) ?? []), r]);
  return [...groups.values()];
}

async function receipt(pc: PublicClient<Transport, Chain>, hash: Hex) {
  try {
    return await pc.getTransactionReceipt({ hash });
  } catch {
    return null;
  }
}

async function known(pc: PublicClient<Transport, Chain>, hash: Hex): Promise<boolean> {
  try {
    return Boolean(await pc.getTransaction({ hash }));
  } catch {
    return false;
  }
}

/** Settle one nonce's journaled transactions against the chain. */
async function settleGroup(d: ReconcileDeps, group: TxRow[], report: ReconcileReport): Promise<void> {
  const { journal, publicClient: pc, logger } = d;
  const first = group[0] as TxRow;
  const last = group[group.length - 1] as TxRow;
  for (const row of group) {
    const r = await receipt(pc, row.hash);
    if (!r) continue;
    const ok = r.status === 'success';
    journal.markTx(row.hash, ok ? 'mined' : 'reverted', { block: r.blockNumber, gasUsed: r.gasUsed });
    for (const other of group) if (other.hash !== row.hash) journal.markTx(other.hash, 'replaced');
    report.settled++;
    logger.info({ event: 'journal.settled', label: row.label, hash: row.hash, nonce: row.nonce, status: r.status }, `journal: ${row.label} (nonce ${row.nonce}) was ${ok ? 'mined' : 'reverted'} while the keeper was away`);
    return;
  }
  const confirmed = await pc.getTransactionCount({ address: d.account, blockTag: 'latest' });
  if (confirmed > first.nonce) {
    for (const row of group) journal.markTx(row.hash, 'dropped');
    report.dropped++;
    logger.warn({ event: 'journal.dropped', label: first.label, nonce: first.nonce }, `journal: nonce ${first.nonce} (${first.label}) was used by another transaction`);
    return;
  }
  const inMempool = (await Promise.all(group.map((r) => known(pc, r.hash)))).some(Boolean);
  if (inMempool) {
    report.resumed++;
    logger.info({ event: 'journal.resumed', label: last.label, nonce: last.nonce, hashes: group.map((r) => r.hash) }, `journal: ${last.label} (nonce ${last.nonce}) is still pending: waiting for it before planning`);
    await d.sender.resume({
      intentId: last.intentId,
      label: last.label,
      nonce: last.nonce,
      hashes: group.map((r) => r.hash),
      last: lastSigned(last),
    });
    return;
  }
  for (const row of group) journal.markTx(row.hash, 'abandoned');
  report.abandoned++;
  logger.warn({ event: 'journal.abandoned', label: last.label, nonce: last.nonce }, `journal: ${last.label} (nonce ${last.nonce}) never reached the chain; not resent, the next plan starts from the chain state`);
}

/** The fields a replacement needs, decoded from the journaled raw transaction. */
function lastSigned(row: TxRow) {
  const tx = parseTransaction(row.raw);
  if (!tx.to || tx.gas === undefined) throw new Error(`journal: transaction ${row.hash} has no target or gas`);
  return {
    to: tx.to,
    data: tx.data ?? '0x',
    value: tx.value ?? 0n,
    gas: tx.gas,
    maxFeePerGas: BigInt(row.maxFeePerGas),
    maxPriorityFeePerGas: BigInt(row.maxPriorityFeePerGas),
  };
}

/** Confirmations at which a mined transaction is checked again: <= 1, then powers of two. */
export function dueForReorgCheck(confirmations: bigint): boolean {
  return confirmations <= 1n || (confirmations & (confirmations - 1n)) === 0n;
}

/**
 * Bring the journal in line with the chain: run before the first plan after a start (and cheaply
 * on every tick): nothing journaled is ever sent twice, and a mined action that a reorg removed
 * is noticed.
 */
export async function reconcileJournal(d: ReconcileDeps, opts: { reorgDepth?: bigint; head?: bigint } = {}): Promise<ReconcileReport> {
  const { journal, publicClient: pc, logger } = d;
  const chainId = pc.chain.id;
  const report: ReconcileReport = { settled: 0, resumed: 0, abandoned: 0, dropped: 0, reorged: 0 };
  const unsettled = journal.unsettledTxs(chainId, d.account);
  for (const group of groupByNonce(unsettled)) await settleGroup(d, group, report);

  // The caller usually knows the head (the last snapshot's block): no request for it then.
  const head = opts.head ?? (await pc.getBlockNumber({ cacheTime: 0 }));
  const depth = opts.reorgDepth ?? 64n;
  for (const row of journal.minedSince(chainId, d.account, head > depth ? head - depth : 0n)) {
    // On every tick this would cost a receipt per recent transaction for `depth` blocks: check
    // at 0, 1, 2, 4, 8 ... confirmations instead (and everything at start, when head is unknown).
    if (opts.head !== undefined && !dueForReorgCheck(head - BigInt(row.block ?? '0'))) continue;
    const r = await receipt(pc, row.hash);
    if (r && r.blockNumber.toString() === row.block) continue;
    if (r) {
      journal.markTx(row.hash, r.status === 'success' ? 'mined' : 'reverted', { block: r.blockNumber });
      continue;
    }
    journal.markTx(row.hash, 'reorged');
    journal.finishIntent(row.intentId, 'reorged', `${row.label} mined in block ${row.block} is no longer on the chain`);
    report.reorged++;
    logger.warn({ event: 'chain.reorg', label: row.label, hash: row.hash, block: row.block }, `${row.label} mined in block ${row.block} was removed by a reorg: replanning from the chain state`);
  }
  for (const intent of journal.openIntents(chainId, d.account)) {
    const txs = journal.txsOfIntent(intent.id);
    if (txs.some((t) => t.status === 'signed' || t.status === 'broadcast')) continue;
    const mined = txs.filter((t) => t.status === 'mined').length;
    journal.finishIntent(intent.id, 'abandoned', `interrupted: ${mined} of its transactions reached the chain; the next plan starts from the chain state`);
  }
  return report;
}
