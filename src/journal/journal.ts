import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { lockJournal } from './lock.js';
import { privateDatabase, privateDir } from './private-files.js';
import { createOrderJournal, ORDER_SPENT_STATUSES, type OrderJournal } from './orders.js';
import type { Action } from '../core/types.js';
import type { PortfolioAction } from '../portfolio/model.js';

/**
 * The keeper's memory across restarts (SQLite, WAL, synchronous FULL): every intent (the planned
 * action and why) and every signed transaction (raw bytes, hash, nonce, fees) is written BEFORE
 * it is broadcast. On start the keeper reconciles what is open here with the chain before it
 * plans anything. No secret is ever stored: a signed transaction does not contain the key.
 */

export type IntentStatus = 'open' | 'done' | 'failed' | 'abandoned' | 'reorged';
/**
 * signed: written, maybe not broadcast. broadcast: an RPC accepted it. mined / reverted: a receipt
 * was found. replaced: another hash of the same nonce was mined. dropped: the nonce was used by a
 * transaction the keeper did not send. abandoned: never seen by the chain, its nonce free again
 * (the next transaction reuses it, so this one can never land as well). reorged: mined, then
 * removed by a reorg.
 */
export type TxStatus = 'signed' | 'broadcast' | 'mined' | 'reverted' | 'replaced' | 'dropped' | 'abandoned' | 'reorged';

export interface IntentRow {
  id: number;
  createdAtMs: number;
  chainId: number;
  account: string;
  block: string | null;
  kind: string;
  action: string;
  reason: string;
  status: IntentStatus;
  detail: string | null;
}

export interface TxRow {
  id: number;
  intentId: number;
  chainId: number;
  account: string;
  label: string;
  nonce: number;
  hash: `0x${string}`;
  raw: `0x${string}`;
  maxFeePerGas: string;
  maxPriorityFeePerGas: string;
  status: TxStatus;
  block: string | null;
  gasUsed: string | null;
  createdAtMs: number;
  /** Chain head when this hash was (last) broadcast: replacement counts blocks from it. */
  sentBlock: string | null;
  /** How many times these bytes were handed to an RPC. */
  broadcasts: number;
  /** 1 once any RPC showed the transaction (mempool or receipt): an RPC that never does is lying. */
  seen: number;
}

/** What the caps have spent since a time: counted from every mined or pending transaction. */
export interface Spent {
  hedgeNotionalUsdE8: bigint;
  topUpUnits: bigint;
  /** Portfolio actions: hedge notional per asset id (USD E8) and collateral added per venue id (quote units, moves in included). */
  hedgeNotionalByAssetUsdE8: Record<string, bigint>;
  topUpByVenueUnits: Record<string, bigint>;
}

/** What an intent records: a single-asset action or a portfolio action (it is stored as JSON). */
export type JournalAction = Action | PortfolioAction;

export interface Journal {
  readonly path: string;
  /** Off-chain venue orders (Hyperliquid), journaled before they are sent (journal/orders.ts). */
  readonly orders: OrderJournal;
  /**
   * A new intent. notionalUsdE8 and blockTimeSec feed the daily notional cap across restarts
   * (the guard's day is the chain's UTC day).
   */
  beginIntent(p: { chainId: number; account: string; block: bigint; action: JournalAction; notionalUsdE8?: bigint; blockTimeSec?: bigint; plannedTxs?: number }): number;
  /**
   * Hedge notional and top-up amount of intents planned at or after a chain time that have a
   * transaction mined or still pending, whatever the intent's final label: a hedge mined while
   * the keeper was down counts as much as one it watched.
   */
  spentSince(chainId: number, account: string, fromSec: number): Spent;
  intent(id: number): (IntentRow & { plannedTxs: number | null }) | undefined;
  finishIntent(id: number, status: Exclude<IntentStatus, 'open'>, detail?: string): void;
  /** Record a signed transaction before it is broadcast. */
  recordSigned(p: { intentId: number; chainId: number; account: string; label: string; nonce: number; hash: `0x${string}`; raw: `0x${string}`; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; sentBlock?: bigint }): void;
  markTx(hash: string, status: TxStatus, extra?: { block?: bigint; gasUsed?: bigint }): void;
  /** One more broadcast of these bytes at a chain head. */
  markBroadcast(hash: string, head: bigint | null): void;
  markSeen(hash: string): void;
  /** Every transaction of the account at these nonces, whatever its status. */
  txsAtNonce(chainId: number, account: string, nonce: number): TxRow[];
  /** Highest nonce of a mined or reverted transaction of ours; -1 when none. */
  highestSettledNonce(chainId: number, account: string): number;
  /** The account's nonce the keeper adopted when it first ran with this journal (history before it is not ours to explain). */
  baseline(chainId: number, account: string): { nonce: number; block: string } | undefined;
  setBaseline(chainId: number, account: string, nonce: number, block: bigint): void;
  /** Any row at all for this account: a journal with none on an account with history may have been lost. */
  hasHistory(chainId: number, account: string): boolean;
  /** Transactions that may still reach the chain (signed or broadcast), oldest nonce first. */
  unsettledTxs(chainId: number, account: string): TxRow[];
  /** Mined transactions at or above a block (for reorg checks). */
  minedSince(chainId: number, account: string, block: bigint): TxRow[];
  txsOfIntent(intentId: number): TxRow[];
  tx(hash: string): TxRow | undefined;
  openIntents(chainId: number, account: string): IntentRow[];
  recentIntents(limit: number): IntentRow[];
  close(): void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS intents (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at_ms INTEGER NOT NULL,
  chain_id INTEGER NOT NULL,
  account TEXT NOT NULL,
  block TEXT,
  kind TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  status TEXT NOT NULL,
  detail TEXT,
  updated_at_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  intent_id INTEGER NOT NULL REFERENCES intents(id),
  chain_id INTEGER NOT NULL,
  account TEXT NOT NULL,
  label TEXT NOT NULL,
  nonce INTEGER NOT NULL,
  hash TEXT NOT NULL UNIQUE,
  raw TEXT NOT NULL,
  max_fee_per_gas TEXT NOT NULL,
  max_priority_fee_per_gas TEXT NOT NULL,
  status TEXT NOT NULL,
  block TEXT,
  gas_used TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS txs_by_account ON txs (chain_id, account, status, nonce);
-- block_time_sec / notional_usd_e8 are added by migrate() when missing (older journals).
CREATE INDEX IF NOT EXISTS intents_by_account ON intents (chain_id, account, status);
`;

const TX_COLUMNS = `id, intent_id AS intentId, chain_id AS chainId, account, label, nonce, hash, raw,
  max_fee_per_gas AS maxFeePerGas, max_priority_fee_per_gas AS maxPriorityFeePerGas, status, block,
  gas_used AS gasUsed, created_at_ms AS createdAtMs, sent_block AS sentBlock, broadcasts, seen`;
const INTENT_COLUMNS = `id, created_at_ms AS createdAtMs, chain_id AS chainId, account, block, kind, action, reason, status, detail`;

/** Columns added after the first schema: add them to a journal written by an older keeper. */
function migrate(db: Database.Database): void {
  const columns = new Set((db.prepare(`PRAGMA table_info(intents)`).all() as Array<{ name: string }>).map((c) => c.name));
  if (!columns.has('block_time_sec')) db.exec(`ALTER TABLE intents ADD COLUMN block_time_sec INTEGER`);
  if (!columns.has('notional_usd_e8')) db.exec(`ALTER TABLE intents ADD COLUMN notional_usd_e8 TEXT`);
  if (!columns.has('planned_txs')) db.exec(`ALTER TABLE intents ADD COLUMN planned_txs INTEGER`);
  if (!columns.has('topup_units')) db.exec(`ALTER TABLE intents ADD COLUMN topup_units TEXT`);
  const txColumns = new Set((db.prepare(`PRAGMA table_info(txs)`).all() as Array<{ name: string }>).map((c) => c.name));
  if (!txColumns.has('sent_block')) db.exec(`ALTER TABLE txs ADD COLUMN sent_block TEXT`);
  if (!txColumns.has('broadcasts')) db.exec(`ALTER TABLE txs ADD COLUMN broadcasts INTEGER NOT NULL DEFAULT 0`);
  if (!txColumns.has('seen')) db.exec(`ALTER TABLE txs ADD COLUMN seen INTEGER NOT NULL DEFAULT 0`);
  db.exec(`CREATE TABLE IF NOT EXISTS baseline (chain_id INTEGER NOT NULL, account TEXT NOT NULL, nonce INTEGER NOT NULL, block TEXT NOT NULL, PRIMARY KEY (chain_id, account))`);
}

function actionJson(action: JournalAction): string {
  return JSON.stringify(action, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

/** `lock: false` for readers (`keeper history`) beside a running keeper; a keeper always locks. */
export function openJournal(path: string, now: () => number = Date.now, opts: { lock?: boolean } = {}): Journal {
  const onDisk = path !== ':memory:';
  // Signed transactions live here: owner-only files in an owner-only directory.
  try {
    if (onDisk) privateDir(dirname(path));
  } catch (err) {
    throw new Error(`JOURNAL_PATH=${path}: cannot create the directory ${dirname(path)}`, { cause: err });
  }
  // One keeper per journal: a second process refuses here, naming the holder (journal/lock.ts).
  const lock = onDisk && opts.lock !== false ? lockJournal(path) : null;
  let db: Database.Database;
  try {
    if (onDisk) privateDatabase(path);
    db = new Database(path);
  } catch (err) {
    lock?.release();
    throw new Error(`JOURNAL_PATH=${path}: cannot open the journal database`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  migrate(db);
  const orders = createOrderJournal(db, now);
  const acct = (a: string) => a.toLowerCase();

  const insertIntent = db.prepare(
    `INSERT INTO intents (created_at_ms, chain_id, account, block, kind, action, reason, status, updated_at_ms, block_time_sec, notional_usd_e8, planned_txs, topup_units)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
  );
  const spent = db.prepare(
    `SELECT kind, action, notional_usd_e8 AS n, topup_units AS t FROM intents i
     WHERE chain_id = ? AND account = ? AND block_time_sec >= ?
       AND (EXISTS (SELECT 1 FROM txs x WHERE x.intent_id = i.id AND x.status IN ('signed', 'broadcast', 'mined'))
         OR EXISTS (SELECT 1 FROM orders o WHERE o.intent_id = i.id AND o.status IN ${ORDER_SPENT_STATUSES}))`,
  );
  const intentById = db.prepare(`SELECT ${INTENT_COLUMNS}, planned_txs AS plannedTxs FROM intents WHERE id = ?`);
  const markBroadcast = db.prepare(
    `UPDATE txs SET broadcasts = broadcasts + 1, sent_block = COALESCE(sent_block, ?),
       status = CASE WHEN status = 'signed' THEN 'broadcast' ELSE status END, updated_at_ms = ? WHERE hash = ?`,
  );
  const markSeen = db.prepare(`UPDATE txs SET seen = 1 WHERE hash = ?`);
  const atNonce = db.prepare(`SELECT ${TX_COLUMNS} FROM txs WHERE chain_id = ? AND account = ? AND nonce = ? ORDER BY id`);
  const highestSettled = db.prepare(`SELECT MAX(nonce) AS n FROM txs WHERE chain_id = ? AND account = ? AND status IN ('mined', 'reverted')`);
  const getBaseline = db.prepare(`SELECT nonce, block FROM baseline WHERE chain_id = ? AND account = ?`);
  const putBaseline = db.prepare(`INSERT OR REPLACE INTO baseline (chain_id, account, nonce, block) VALUES (?, ?, ?, ?)`);
  const anyRow = db.prepare(`SELECT 1 FROM intents WHERE chain_id = ? AND account = ? LIMIT 1`);
  const updateIntent = db.prepare(`UPDATE intents SET status = ?, detail = ?, updated_at_ms = ? WHERE id = ?`);
  const insertTx = db.prepare(
    `INSERT INTO txs (intent_id, chain_id, account, label, nonce, hash, raw, max_fee_per_gas, max_priority_fee_per_gas, status, created_at_ms, updated_at_ms, sent_block)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?, ?)
     -- The same bytes can be signed again (same nonce, fees and call after a reorg or an
     -- abandoned attempt): the row then belongs to the new intent.
     ON CONFLICT(hash) DO UPDATE SET intent_id = excluded.intent_id, status = 'signed', block = NULL,
       gas_used = NULL, updated_at_ms = excluded.updated_at_ms, sent_block = excluded.sent_block`,
  );
  const updateTx = db.prepare(
    `UPDATE txs SET status = ?, block = COALESCE(?, block), gas_used = COALESCE(?, gas_used), updated_at_ms = ? WHERE hash = ?`,
  );
  const unsettled = db.prepare(
    `SELECT ${TX_COLUMNS} FROM txs WHERE chain_id = ? AND account = ? AND status IN ('signed', 'broadcast') ORDER BY nonce, id`,
  );
  const minedSince = db.prepare(
    `SELECT ${TX_COLUMNS} FROM txs WHERE chain_id = ? AND account = ? AND status IN ('mined', 'reverted') AND CAST(block AS INTEGER) >= ? ORDER BY id`,
  );
  const byHash = db.prepare(`SELECT ${TX_COLUMNS} FROM txs WHERE hash = ?`);
  const ofIntent = db.prepare(`SELECT ${TX_COLUMNS} FROM txs WHERE intent_id = ? ORDER BY id`);
  const openIntents = db.prepare(`SELECT ${INTENT_COLUMNS} FROM intents WHERE chain_id = ? AND account = ? AND status = 'open' ORDER BY id`);
  const recent = db.prepare(`SELECT ${INTENT_COLUMNS} FROM intents ORDER BY id DESC LIMIT ?`);

  return {
    path,
    orders,
    beginIntent(p) {
      const t = now();
      const r = insertIntent.run(
        t, p.chainId, acct(p.account), p.block.toString(), p.action.kind, actionJson(p.action), p.action.reason, t,
        p.blockTimeSec === undefined ? null : Number(p.blockTimeSec), p.notionalUsdE8?.toString() ?? null,
        p.plannedTxs ?? null, p.action.kind === 'topUp' || p.action.kind === 'moveCollateral' ? p.action.amountUnits.toString() : null,
      );
      return Number(r.lastInsertRowid);
    },
    spentSince(chainId, account, fromSec) {
      const rows = spent.all(chainId, acct(account), fromSec) as Array<{ kind: string; action: string; n: string | null; t: string | null }>;
      const out: Spent = { hedgeNotionalUsdE8: 0n, topUpUnits: 0n, hedgeNotionalByAssetUsdE8: {}, topUpByVenueUnits: {} };
      const add = (into: Record<string, bigint>, key: unknown, v: bigint) => {
        if (typeof key === 'string') into[key] = (into[key] ?? 0n) + v;
      };
      for (const r of rows) {
        // Portfolio actions name their asset and venue; single-asset ones do not (undefined: not keyed).
        const a = JSON.parse(r.action) as { asset?: unknown; venue?: unknown; to?: unknown };
        if (r.kind === 'adjustHedge') {
          out.hedgeNotionalUsdE8 += BigInt(r.n ?? '0');
          add(out.hedgeNotionalByAssetUsdE8, a.asset, BigInt(r.n ?? '0'));
        }
        if (r.kind === 'topUp') {
          out.topUpUnits += BigInt(r.t ?? '0');
          add(out.topUpByVenueUnits, a.venue, BigInt(r.t ?? '0'));
        }
        // Collateral moved in counts against the receiving venue's cap, not the wallet's top-ups.
        if (r.kind === 'moveCollateral') add(out.topUpByVenueUnits, a.to, BigInt(r.t ?? '0'));
      }
      return out;
    },
    intent: (id) => intentById.get(id) as (IntentRow & { plannedTxs: number | null }) | undefined,
    finishIntent(id, status, detail) {
      updateIntent.run(status, detail ?? null, now(), id);
    },
    recordSigned(p) {
      const t = now();
      insertTx.run(p.intentId, p.chainId, acct(p.account), p.label, p.nonce, p.hash, p.raw, p.maxFeePerGas.toString(), p.maxPriorityFeePerGas.toString(), t, t, p.sentBlock?.toString() ?? null);
    },
    markBroadcast(hash, head) {
      markBroadcast.run(head?.toString() ?? null, now(), hash);
    },
    markSeen(hash) {
      markSeen.run(hash);
    },
    txsAtNonce: (chainId, account, nonce) => atNonce.all(chainId, acct(account), nonce) as TxRow[],
    highestSettledNonce(chainId, account) {
      const r = highestSettled.get(chainId, acct(account)) as { n: number | null } | undefined;
      return r?.n ?? -1;
    },
    baseline(chainId, account) {
      return getBaseline.get(chainId, acct(account)) as { nonce: number; block: string } | undefined;
    },
    setBaseline(chainId, account, nonce, block) {
      putBaseline.run(chainId, acct(account), nonce, block.toString());
    },
    hasHistory: (chainId, account) => anyRow.get(chainId, acct(account)) !== undefined,
    markTx(hash, status, extra = {}) {
      updateTx.run(status, extra.block?.toString() ?? null, extra.gasUsed?.toString() ?? null, now(), hash);
    },
    unsettledTxs: (chainId, account) => unsettled.all(chainId, acct(account)) as TxRow[],
    minedSince: (chainId, account, block) => minedSince.all(chainId, acct(account), Number(block)) as TxRow[],
    txsOfIntent: (intentId) => ofIntent.all(intentId) as TxRow[],
    tx: (hash) => byHash.get(hash) as TxRow | undefined,
    openIntents: (chainId, account) => openIntents.all(chainId, acct(account)) as IntentRow[],
    recentIntents: (limit) => recent.all(limit) as IntentRow[],
    close: () => {
      db.close();
      lock?.release();
    },
  };
}
