import { parseTransaction, type Chain, type Hex, type PublicClient, type TransactionReceipt, type Transport } from 'viem';
import type { Logger } from 'pino';
import type { IntentStatus, Journal, TxRow } from './journal.js';
import { bumpFee, gwei, type TxSender } from '../chain/sender.js';
import { firstFound, lookupNonceAt, lookupReceipt, lookupTransaction, type Lookup } from '../chain/rpc-result.js';
import type { TxCost, TxEventKind } from '../monitor/telemetry.js';

/**
 * The pending-transaction queue, driven once per tick: it settles what was mined (whenever it was
 * mined, before or after a restart), replaces what is stuck, rebroadcasts what a node lost,
 * notices reorgs, and proves which nonce is free before anything new is sent. Every decision
 * rests on a found or definitely-absent answer (chain/rpc-result.ts); an unknown one holds.
 */

export interface ReconcileReport {
  /** Journaled transactions found mined (or reverted) on chain. */
  settled: number;
  /** Transactions still waiting in a mempool. */
  resumed: number;
  /** Never seen by the chain: not sent again, their nonce free for the next transaction. */
  abandoned: number;
  /** Nonce used by a transaction the keeper did not send. */
  dropped: number;
  /** Mined transactions whose block is no longer on the chain. */
  reorged: number;
  /** Replacements (higher fee, same nonce) and rebroadcasts (same bytes) made this tick. */
  replaced: number;
  /** Intents that finished this tick. */
  finished: Array<{ id: number; kind: string; status: Exclude<IntentStatus, 'open'> }>;
  /** Highest block of a receipt seen this tick (freshness: a read must not be older). */
  highestReceiptBlock: bigint | null;
}

export interface QueueState {
  /** Why nothing new may be sent right now (an unknown fate, an unproven nonce); null = free. */
  hold: string | null;
  /** Standing alarms (safe mode + alert): an unexplained nonce, an endpoint that never forwards. */
  alarms: string[];
  /** Kinds of the intents still waiting for the chain. */
  pendingKinds: string[];
  /** Block of the last mined transaction of ours: reads older than this are stale. */
  lastMinedBlock: bigint | null;
}

export interface ReconcileDeps {
  journal: Journal;
  sender: TxSender;
  publicClient: PublicClient<Transport, Chain>;
  account: `0x${string}`;
  logger: Logger;
  replaceAfterBlocks: number;
  maxFeeCeilingWei: bigint;
  /** Origins of the configured RPCs, to name a lying one. */
  rpcOrigins: readonly string[];
  /** A journal that is new on an account with history: adopt its nonce instead of alarming. */
  adoptHistory?: boolean;
  onTx?: (kind: TxEventKind, label: string, cost?: TxCost) => void;
  /** Ticks an unknown fate or an unexplained nonce may last before it becomes an alarm. */
  escalateAfterTicks?: number;
}

export interface PendingQueue {
  /**
   * Settle, replace, rebroadcast, check reorgs at the chain head: given (the block the loop saw),
   * or asked for only when there is something to check (interval mode, steady state: no request).
   */
  drive(head: bigint | (() => Promise<bigint>), knownHead?: bigint): Promise<ReconcileReport>;
  /** Before sending: prove the next free nonce at `block` (sets the sender's nonce, or holds). */
  prove(block: bigint): Promise<string | null>;
  /** Receipts only: settle what is already mined (right after sending, on a fast chain). */
  settleMined(waitMs?: number): Promise<ReconcileReport>;
  readonly state: QueueState;
}

function emptyReport(): ReconcileReport {
  return { settled: 0, resumed: 0, abandoned: 0, dropped: 0, reorged: 0, replaced: 0, finished: [], highestReceiptBlock: null };
}

/** Confirmations at which a mined transaction is checked again: <= 1, then powers of two. */
export function dueForReorgCheck(confirmations: bigint): boolean {
  return confirmations <= 1n || (confirmations & (confirmations - 1n)) === 0n;
}

function groupByNonce(rows: readonly TxRow[]): TxRow[][] {
  const groups = new Map<number, TxRow[]>();
  for (const r of rows) groups.set(r.nonce, [...(groups.get(r.nonce) ?? []), r]);
  return [...groups.values()];
}

/** The fields a replacement needs, decoded from the journaled raw transaction. */
function lastSigned(row: TxRow) {
  const tx = parseTransaction(row.raw);
  if (!tx.to || tx.gas === undefined) throw new Error(`journal: transaction ${row.hash} has no target or gas`);
  return { to: tx.to, data: tx.data ?? '0x', value: tx.value ?? 0n, gas: tx.gas, maxFeePerGas: BigInt(row.maxFeePerGas), maxPriorityFeePerGas: BigInt(row.maxPriorityFeePerGas) };
}

const MAX_BROADCASTS_UNSEEN = 3;
/** Blocks a "never forwarded" alarm stands before the keeper tries sending again. */
const UNFORWARDED_ALARM_BLOCKS = 100n;

export function createPendingQueue(d: ReconcileDeps): PendingQueue {
  const { journal, publicClient: pc, logger, account } = d;
  const chainId = pc.chain.id;
  const startedAtMs = Date.now();
  const escalateAfter = d.escalateAfterTicks ?? 3;
  /** Ticks each unexplained or unknown thing has lasted (key: what). */
  const lasting = new Map<string, { ticks: number; since: bigint }>();
  const alarms = new Map<string, { reason: string; untilBlock: bigint | null }>();
  /** Nonces below this are explained (ours and settled, or before the adopted baseline). */
  let cursor: number | null = null;
  let hold: string | null = null;
  // Across a restart too: a read older than the keeper's last mined transaction is stale.
  let lastMinedBlock: bigint | null = journal.minedSince(chainId, account, 0n).reduce<bigint | null>((m, r) => {
    const b = BigInt(r.block ?? '0');
    return m === null || b > m ? b : m;
  }, null);

  function alarm(key: string, reason: string, untilBlock: bigint | null = null): void {
    if (!alarms.has(key)) logger.error({ event: 'safe_mode.entered', reason, cause: key.split(':')[0] }, `safe mode: ${reason}`);
    alarms.set(key, { reason, untilBlock });
  }

  /** The RPC answers again about a nonce whose fate was unknown: that alarm is over. */
  function known(nonce: number): void {
    lasting.delete(`unknown:${nonce}`);
    const a = alarms.get(`rpc:${nonce}`);
    if (!a) return;
    alarms.delete(`rpc:${nonce}`);
    logger.info({ event: 'safe_mode.left', was: a.reason, cause: 'rpc' }, `safe mode left: the RPC answers again about nonce ${nonce}`);
  }

  /** Count one more tick of something uncertain; true once it has lasted long enough to alarm. */
  function persists(key: string, head: bigint): boolean {
    const l = lasting.get(key) ?? { ticks: 0, since: head };
    l.ticks++;
    lasting.set(key, l);
    return l.ticks >= escalateAfter && head > l.since;
  }

  function settle(row: TxRow, group: readonly TxRow[], r: TransactionReceipt, report: ReconcileReport, why: string): void {
    const ok = r.status === 'success';
    journal.markTx(row.hash, ok ? 'mined' : 'reverted', { block: r.blockNumber, gasUsed: r.gasUsed });
    journal.markSeen(row.hash);
    for (const other of group) if (other.hash !== row.hash && other.status !== 'abandoned') journal.markTx(other.hash, 'replaced');
    report.settled++;
    if (report.highestReceiptBlock === null || r.blockNumber > report.highestReceiptBlock) report.highestReceiptBlock = r.blockNumber;
    if (lastMinedBlock === null || r.blockNumber > lastMinedBlock) lastMinedBlock = r.blockNumber;
    const fields = { label: row.label, hash: row.hash, nonce: row.nonce, block: r.blockNumber, gasUsed: r.gasUsed, intentId: row.intentId, replacements: group.length - 1 };
    if (ok) logger.info({ event: 'tx.mined', ...fields }, `mined ${row.label} in block ${r.blockNumber}${why}`);
    else logger.error({ event: 'tx.reverted', stage: 'chain', ...fields, reason: 'reverted on chain' }, `${row.label} reverted on chain in block ${r.blockNumber}${why}`);
    d.onTx?.(ok ? 'mined' : 'reverted', row.label, { gasUsed: r.gasUsed, effectiveGasPriceWei: r.effectiveGasPrice });
  }

  /** After a broadcast: does the node show it? An endpoint that never does is not forwarding. */
  async function checkSeen(hash: Hex): Promise<void> {
    if ((await lookupTransaction(pc, hash)).kind === 'found') journal.markSeen(hash);
  }

  /**
   * A transaction not mined yet: after `replaceAfterBlocks` it is replaced at the same nonce with
   * both fees +12.5% (never above the ceiling); sooner, if no mempool shows it any more (evicted,
   * lost, never forwarded), the same bytes are broadcast again.
   */
  async function replaceOrRebroadcast(group: TxRow[], head: bigint, inPool: boolean, report: ReconcileReport): Promise<void> {
    const last = group[group.length - 1] as TxRow;
    const sentBlock = BigInt(last.sentBlock ?? head.toString());
    const rebroadcast = async () => {
      if (inPool || head <= sentBlock) return;
      const r = await d.sender.rebroadcast(last.hash, last.raw);
      report.replaced++;
      logger.warn({ event: 'tx.rebroadcast', label: last.label, hash: last.hash, nonce: last.nonce, error: r.error }, `${last.label} (nonce ${last.nonce}) is in no mempool the RPC shows: broadcast again`);
      await checkSeen(last.hash);
    };
    if (head - sentBlock < BigInt(d.replaceAfterBlocks)) return rebroadcast();
    const prev = lastSigned(last);
    const market = await d.sender.marketFees();
    let maxFee = bumpFee(prev.maxFeePerGas);
    let tip = bumpFee(prev.maxPriorityFeePerGas);
    if (market.maxFeePerGas > maxFee) maxFee = market.maxFeePerGas;
    if (maxFee > d.maxFeeCeilingWei) maxFee = d.maxFeeCeilingWei;
    if (tip > maxFee) tip = maxFee;
    if (maxFee < bumpFee(prev.maxFeePerGas) || tip < bumpFee(prev.maxPriorityFeePerGas)) {
      const key = `stuck:${last.nonce}`;
      if (!lasting.has(key)) {
        lasting.set(key, { ticks: 1, since: head });
        logger.warn({ event: 'tx.stuck', label: last.label, nonce: last.nonce, maxFeePerGas: prev.maxFeePerGas, ceiling: d.maxFeeCeilingWei }, `${last.label} is stuck and its fee is at the ceiling ${gwei(d.maxFeeCeilingWei)}: waiting`);
      }
      return rebroadcast();
    }
    const { hash, error } = await d.sender.resign({ ...prev, label: last.label }, last.nonce, { maxFeePerGas: maxFee, maxPriorityFeePerGas: tip }, last.intentId);
    report.replaced++;
    logger.warn(
      { event: 'tx.replaced', label: last.label, nonce: last.nonce, hash, replaces: last.hash, maxFeePerGas: maxFee, maxPriorityFeePerGas: tip, error },
      `${last.label} not mined after ${head - sentBlock} blocks: replaced at nonce ${last.nonce} with ${gwei(maxFee)} max fee`,
    );
    d.onTx?.('replaced', last.label);
    await checkSeen(hash);
  }

  /** One nonce's journaled transactions against the chain. Returns a hold reason, or null. */
  async function settleGroup(group: TxRow[], head: bigint, confirmed: () => Promise<Lookup<number>>, report: ReconcileReport): Promise<string | null> {
    const first = group[0] as TxRow;
    const last = group[group.length - 1] as TxRow;
    const what = `${last.label} (nonce ${last.nonce})`;
    const receipts = firstFound(await Promise.all(group.map((r) => lookupReceipt(pc, r.hash))));
    if (receipts.kind === 'found') {
      settle(group[receipts.index ?? 0] as TxRow, group, receipts.value, report, first.createdAtMs < startedAtMs ? ' (settled after a restart)' : '');
      known(first.nonce);
      return null;
    }
    if (receipts.kind === 'unknown') return unknownFate(what, first.nonce, receipts.reason, head);
    const nonce = await confirmed();
    if (nonce.kind !== 'found') return unknownFate(what, first.nonce, nonce.kind === 'unknown' ? nonce.reason : 'no nonce', head);
    if (nonce.value > first.nonce) {
      // The nonce is used but none of our hashes has a receipt: a lagging receipt index, or a
      // transaction we did not send. Wait a few ticks before calling it either.
      if (!persists(`foreign:${first.nonce}`, head)) return `nonce ${first.nonce} is used on chain but ${what} has no receipt yet`;
      for (const row of group) journal.markTx(row.hash, 'dropped');
      report.dropped++;
      alarm(`nonce:${first.nonce}`, `nonce ${first.nonce} of ${account} was used by a transaction the keeper did not send (its own ${what} never mined): another process is signing with this key`);
      return null;
    }
    const inPool = firstFound(await Promise.all(group.map((r) => lookupTransaction(pc, r.hash))));
    if (inPool.kind === 'unknown') return unknownFate(what, first.nonce, inPool.reason, head);
    known(first.nonce);
    if (inPool.kind === 'found') {
      for (const row of group) journal.markSeen(row.hash);
      report.resumed++;
      if (last.createdAtMs < startedAtMs && !lasting.has(`resumed:${last.nonce}`)) {
        lasting.set(`resumed:${last.nonce}`, { ticks: 1, since: head });
        logger.info({ event: 'journal.resumed', label: last.label, nonce: last.nonce, hashes: group.map((r) => r.hash) }, `journal: ${what} from before the restart is still pending: waiting for it, nothing new is planned on top of it`);
      }
      await replaceOrRebroadcast(group, head, true, report);
      return null;
    }
    // Definitely not mined (nonce free at `head`) and in no mempool the RPC shows.
    const everSeen = group.some((r) => r.seen === 1);
    const fromEarlierRun = last.createdAtMs < startedAtMs;
    const broadcasts = group.reduce((s, r) => s + r.broadcasts, 0);
    if (fromEarlierRun || (!everSeen && broadcasts >= MAX_BROADCASTS_UNSEEN && head - BigInt(first.sentBlock ?? head.toString()) >= BigInt(d.replaceAfterBlocks))) {
      for (const row of group) journal.markTx(row.hash, 'abandoned');
      report.abandoned++;
      if (fromEarlierRun) {
        logger.warn({ event: 'journal.abandoned', label: last.label, nonce: last.nonce }, `journal: ${what} never reached the chain; not resent, its nonce goes to the next transaction`);
      } else {
        const rpcs = d.rpcOrigins.join(', ');
        alarm(
          'unforwarded',
          `the RPC (${rpcs}) accepted ${broadcasts} broadcasts of ${what} but the chain never saw it: the endpoint does not forward transactions`,
          head + UNFORWARDED_ALARM_BLOCKS,
        );
      }
      return null;
    }
    await replaceOrRebroadcast(group, head, false, report);
    return null;
  }


  function unknownFate(what: string, nonce: number, reason: string, head: bigint): string {
    const why = `the fate of ${what} is unknown (${reason}): nothing new is sent until the RPC answers`;
    if (persists(`unknown:${nonce}`, head) && (lasting.get(`unknown:${nonce}`)?.ticks ?? 0) >= escalateAfter * 3) alarm(`rpc:${nonce}`, `${why}, for ${lasting.get(`unknown:${nonce}`)?.ticks} ticks`);
    return why;
  }

  async function checkReorgs(head: bigint, confirmed: () => Promise<Lookup<number>>, report: ReconcileReport, everything: boolean): Promise<void> {
    const depth = 64n;
    for (const row of journal.minedSince(chainId, account, head > depth ? head - depth : 0n)) {
      if (!everything && !dueForReorgCheck(head - BigInt(row.block ?? '0'))) continue;
      const r = await lookupReceipt(pc, row.hash);
      if (r.kind === 'unknown') continue;
      if (r.kind === 'found') {
        if (r.value.blockNumber.toString() !== row.block) journal.markTx(row.hash, r.value.status === 'success' ? 'mined' : 'reverted', { block: r.value.blockNumber });
        continue;
      }
      // No receipt. A node whose head is below the transaction's block is behind (or the chain was
      // cut back and has not grown again): that proves nothing. At or past that height, a nonce
      // that is free again proves the transaction is gone.
      if (head < BigInt(row.block ?? '0')) continue;
      const nonce = await confirmed();
      if (nonce.kind !== 'found' || nonce.value > row.nonce) continue;
      journal.markTx(row.hash, 'reorged');
      journal.finishIntent(row.intentId, 'reorged', `${row.label} mined in block ${row.block} is no longer on the chain`);
      // The block it was mined in is gone: reads need not be newer than it any more.
      if (lastMinedBlock !== null && lastMinedBlock >= BigInt(row.block ?? '0')) lastMinedBlock = null;
      report.reorged++;
      report.finished.push({ id: row.intentId, kind: journal.intent(row.intentId)?.kind ?? '?', status: 'reorged' });
      logger.warn({ event: 'chain.reorg', label: row.label, hash: row.hash, block: row.block }, `${row.label} mined in block ${row.block} was removed by a reorg: replanning from the chain state`);
    }
  }

  function finishIntents(report: ReconcileReport): string[] {
    const pendingKinds: string[] = [];
    for (const intent of journal.openIntents(chainId, account)) {
      // An order on an off-chain venue is settled by that venue's desk (venues/hyperliquid-desk.ts), not by the chain.
      if (journal.orders.ofIntent(intent.id).length > 0) continue;
      const txs = journal.txsOfIntent(intent.id);
      if (txs.some((t) => t.status === 'signed' || t.status === 'broadcast')) {
        pendingKinds.push(intent.kind);
        continue;
      }
      const planned = journal.intent(intent.id)?.plannedTxs ?? txs.length;
      const mined = new Set(txs.filter((t) => t.status === 'mined').map((t) => t.nonce)).size;
      let status: Exclude<IntentStatus, 'open'>;
      let detail: string | undefined;
      if (txs.some((t) => t.status === 'reverted')) [status, detail] = ['failed', `${txs.find((t) => t.status === 'reverted')?.label} reverted on chain`];
      else if (mined >= planned && planned > 0) status = 'done';
      else if (txs.some((t) => t.status === 'dropped')) [status, detail] = ['failed', `a nonce was used by another transaction; ${mined} of ${planned} transactions mined`];
      else [status, detail] = ['abandoned', `${mined} of ${planned} transactions reached the chain; the next plan starts from the chain state`];
      journal.finishIntent(intent.id, status, detail);
      report.finished.push({ id: intent.id, kind: intent.kind, status });
    }
    return pendingKinds;
  }

  let pendingKinds: string[] = [];
  let started = false;

  return {
    get state(): QueueState {
      return { hold, alarms: [...alarms.values()].map((a) => a.reason), pendingKinds, lastMinedBlock };
    },
    async drive(headOrGet, knownHead) {
      const unsettled = journal.unsettledTxs(chainId, account);
      // Mined transactions still inside the reorg window of the newest block known.
      const near = knownHead ?? lastMinedBlock ?? 0n;
      const recentMined = journal.minedSince(chainId, account, near > 64n ? near - 64n : 0n);
      if (typeof headOrGet === 'function' && unsettled.length === 0 && recentMined.length === 0 && started && alarms.size === 0) {
        pendingKinds = finishIntents(emptyReport());
        hold = null;
        return emptyReport();
      }
      const head = typeof headOrGet === 'function' ? await headOrGet() : headOrGet;
      if (!started && d.adoptHistory && !journal.baseline(chainId, account) && !journal.hasHistory(chainId, account)) {
        // Adopt at start, not at the first send: a first run stopped before it sent anything
        // must not leave the next (plain) start looking at a lost journal.
        const n = await lookupNonceAt(pc, account, head);
        if (n.kind === 'found') {
          journal.setBaseline(chainId, account, n.value, head);
          if (n.value > 0) logger.warn({ event: 'journal.adopted', nonce: n.value, block: head }, `journal: adopted the account's history (${n.value} transactions before block ${head}) as not the keeper's`);
        }
      }
      const report: ReconcileReport = { settled: 0, resumed: 0, abandoned: 0, dropped: 0, reorged: 0, replaced: 0, finished: [], highestReceiptBlock: null };
      for (const [key, a] of alarms) {
        if (a.untilBlock !== null && head >= a.untilBlock) {
          alarms.delete(key);
          logger.info({ event: 'safe_mode.left', was: a.reason }, `alarm cleared after ${UNFORWARDED_ALARM_BLOCKS} blocks: sending is tried again`);
        }
      }
      let nonceAtHead: Lookup<number> | null = null;
      const confirmed = async () => (nonceAtHead ??= await lookupNonceAt(pc, account, head));
      const holds: string[] = [];
      for (const group of groupByNonce(unsettled)) {
        const h = await settleGroup(group, head, confirmed, report);
        if (h) holds.push(h);
      }
      await checkReorgs(head, confirmed, report, !started);
      started = true;
      pendingKinds = finishIntents(report);
      hold = holds[0] ?? null;
      return report;
    },
    async settleMined(waitMs = 0) {
      const report: ReconcileReport = { settled: 0, resumed: 0, abandoned: 0, dropped: 0, reorged: 0, replaced: 0, finished: [], highestReceiptBlock: null };
      const until = Date.now() + waitMs;
      for (;;) {
        let waiting = 0;
        for (const group of groupByNonce(journal.unsettledTxs(chainId, account))) {
          const receipts = firstFound(await Promise.all(group.map((r) => lookupReceipt(pc, r.hash))));
          if (receipts.kind === 'found') {
            settle(group[receipts.index ?? 0] as TxRow, group, receipts.value, report, '');
            known((group[0] as TxRow).nonce);
          } else waiting++;
        }
        if (waiting === 0 || Date.now() >= until) break;
        await new Promise((r) => setTimeout(r, 25));
      }
      pendingKinds = finishIntents(report);
      return report;
    },
    async prove(block) {
      if (hold) {
        d.sender.setNextNonce(null, block);
        return hold;
      }
      const n = await lookupNonceAt(pc, account, block);
      if (n.kind !== 'found') {
        d.sender.setNextNonce(null, block);
        return `the account's nonce at block ${block} could not be read (${n.kind === 'unknown' ? n.reason : 'no answer'})`;
      }
      const gap = await explain(n.value, block);
      if (gap) {
        d.sender.setNextNonce(null, block);
        return gap;
      }
      // Our own pending transactions occupy the nonces after the confirmed one.
      const pendingNonces = journal.unsettledTxs(chainId, account).map((r) => r.nonce);
      const next = Math.max(n.value, ...pendingNonces.map((x) => x + 1));
      d.sender.setNextNonce(next, block);
      return null;
    },
  };

  /**
   * Every nonce below the chain's must be explained by the journal (a mined transaction of ours,
   * or history before the adopted baseline). One that is not means another signer on this key,
   * or a lost journal: hold, and after a few ticks alarm, naming the nonces.
   */
  async function explain(confirmedNonce: number, block: bigint): Promise<string | null> {
    if (cursor === null) {
      const base = journal.baseline(chainId, account);
      if (base) cursor = base.nonce;
      else if (journal.hasHistory(chainId, account)) {
        // A journal written before baselines existed: its first nonce is where our history starts.
        cursor = Math.min(...journal.unsettledTxs(chainId, account).map((r) => r.nonce), journal.highestSettledNonce(chainId, account) + 1, confirmedNonce);
        journal.setBaseline(chainId, account, cursor, block);
      } else if (confirmedNonce === 0 || d.adoptHistory) {
        journal.setBaseline(chainId, account, confirmedNonce, block);
        cursor = confirmedNonce;
        if (confirmedNonce > 0) logger.warn({ event: 'journal.adopted', nonce: confirmedNonce, block }, `journal: adopted the account's history (${confirmedNonce} transactions before block ${block}) as not the keeper's`);
      } else {
        alarm(
          'history',
          `the journal ${journal.path} has no record of ${account}, which has sent ${confirmedNonce} transactions: a lost journal cannot be told from a first run, so nothing is sent. If no keeper has run on this key (or its journal is truly gone and its hedges are settled), start once with --adopt-history`,
        );
        return alarms.get('history')?.reason ?? 'unexplained history';
      }
    }
    while (cursor < confirmedNonce) {
      const rows = journal.txsAtNonce(chainId, account, cursor);
      if (rows.some((r) => r.status === 'mined' || r.status === 'reverted')) {
        cursor++;
        continue;
      }
      if (rows.some((r) => r.status === 'signed' || r.status === 'broadcast')) return `nonce ${cursor} is still being settled`;
      // A transaction we gave up on may have landed after all (an RPC that forwarded it late).
      const late = firstFound(await Promise.all(rows.map((r) => lookupReceipt(pc, r.hash))));
      if (late.kind === 'found') {
        const row = rows[late.index ?? 0] as TxRow;
        const report: ReconcileReport = { settled: 0, resumed: 0, abandoned: 0, dropped: 0, reorged: 0, replaced: 0, finished: [], highestReceiptBlock: null };
        settle(row, rows, late.value, report, ' (after it was given up: it counts against the caps)');
        cursor++;
        continue;
      }
      if (late.kind === 'unknown') return `nonce ${cursor}: receipt look-up failed (${late.reason})`;
      const key = `foreign:${cursor}`;
      if (!persists(key, block)) return `nonce ${cursor} is used on chain but not (yet) by a transaction in the journal`;
      const hashes = await foreignHashes(cursor, block);
      alarm(
        `nonce:${cursor}`,
        `nonces ${cursor}..${confirmedNonce - 1} of ${account} were used by transactions the keeper did not send${hashes.length ? ` (${hashes.join(', ')})` : ''}: another process is signing with this key, or the journal was lost`,
      );
      return alarms.get(`nonce:${cursor}`)?.reason ?? 'unexplained nonce';
    }
    return [...alarms.values()][0]?.reason ?? null;
  }

  /** Name the foreign transactions: scan the last blocks for ones from our account (bounded). */
  async function foreignHashes(fromNonce: number, head: bigint): Promise<Hex[]> {
    const found: Hex[] = [];
    for (let b = head; b >= 0n && head - b < 32n && found.length < 5; b--) {
      try {
        const block = await pc.getBlock({ blockNumber: b, includeTransactions: true });
        for (const tx of block.transactions) {
          if (tx.from.toLowerCase() === account.toLowerCase() && tx.nonce >= fromNonce) found.push(tx.hash);
        }
      } catch {
        break;
      }
    }
    return found;
  }
}
