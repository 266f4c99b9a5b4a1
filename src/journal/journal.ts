import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Action } from '../core/types.js';

/**
 * The keeper's memory across restarts (SQLite, WAL, synchronous FULL): every intent (the planned
 * action and why) and every signed transaction (raw bytes, hash, nonce, fees) is written BEFORE
 * it is broadcast. On start the keeper reconciles what is open here with the chain before it
 * plans anything. No secret is ever stored: a signed transaction does not contain the key.
 */

export type IntentStatus = 'open' | 'done' | 'failed' | 'abandoned' | 'reorged';
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
}

export interface Journal {
  readonly path: string;
  /**
   * A new intent. notionalUsdE8 and blockTimeSec feed the daily notional cap across restarts
   * (the guard's day is the chain's UTC day).
   */
  beginIntent(p: { chainId: number; account: string; block: bigint; action: Action; notionalUsdE8?: bigint; blockTimeSec?: bigint }): number;
  /** Hedge notional (USD E8) of done intents planned at or after a chain time. */
  hedgeNotionalSince(chainId: number, account: string, fromSec: number): bigint;
  finishIntent(id: number, status: Exclude<IntentStatus, 'open'>, detail?: string): void;
  /** Record a signed transaction before it is broadcast. */
  recordSigned(p: { intentId: number; chainId: number; account: string; label: string; nonce: number; hash: `0x${string}`; raw: `0x${string}`; maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }): void;
  markTx(hash: string, status: TxStatus, extra?: { block?: bigint; gasUsed?: bigint }): void;
  /** Transactions that may still reach the chain (signed or broadcast), oldest nonce first. */
  unsettledTxs(chainId: number, account: string): TxRow[];
  /** Mined transactions at or above a block (for reorg checks). */
  minedSince(chainId: number, account: string, block: bigint): TxRow[];
  txsOfIntent(intentId: number): TxRow[];
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
  gas_used AS gasUsed, created_at_ms AS createdAtMs`;
const INTENT_COLUMNS = `id, created_at_ms AS createdAtMs, chain_id AS chainId, account, block, kind, action, reason, status, detail`;

/** Columns added after the first schema: add them to a journal written by an older keeper. */
function migrate(db: Database.Database): void {
  const columns = new Set((db.prepare(`PRAGMA table_info(intents)`).all() as Array<{ name: string }>).map((c) => c.name));
  if (!columns.has('block_time_sec')) db.exec(`ALTER TABLE intents ADD COLUMN block_time_sec INTEGER`);
  if (!columns.has('notional_usd_e8')) db.exec(`ALTER TABLE intents ADD COLUMN notional_usd_e8 TEXT`);
}

function actionJson(action: Action): string {
  return JSON.stringify(action, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function openJournal(path: string, now: () => number = Date.now): Journal {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
  } catch (err) {
    throw new Error(`JOURNAL_PATH=${path}: cannot open the journal database`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  migrate(db);
  const acct = (a: string) => a.toLowerCase();

  const insertIntent = db.prepare(
    `INSERT INTO intents (created_at_ms, chain_id, account, block, kind, action, reason, status, updated_at_ms, block_time_sec, notional_usd_e8)
     VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
  );
  const notionalSince = db.prepare(
    `SELECT notional_usd_e8 AS n FROM intents
     WHERE chain_id = ? AND account = ? AND kind = 'adjustHedge' AND status = 'done' AND block_time_sec >= ?`,
  );
  const updateIntent = db.prepare(`UPDATE intents SET status = ?, detail = ?, updated_at_ms = ? WHERE id = ?`);
  const insertTx = db.prepare(
    `INSERT INTO txs (intent_id, chain_id, account, label, nonce, hash, raw, max_fee_per_gas, max_priority_fee_per_gas, status, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'signed', ?, ?)
     -- The same bytes can be signed again (same nonce, fees and call after a reorg or an
     -- abandoned attempt): the row then belongs to the new intent.
     ON CONFLICT(hash) DO UPDATE SET intent_id = excluded.intent_id, status = 'signed', block = NULL,
       gas_used = NULL, updated_at_ms = excluded.updated_at_ms`,
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
  const ofIntent = db.prepare(`SELECT ${TX_COLUMNS} FROM txs WHERE intent_id = ? ORDER BY id`);
  const openIntents = db.prepare(`SELECT ${INTENT_COLUMNS} FROM intents WHERE chain_id = ? AND account = ? AND status = 'open' ORDER BY id`);
  const recent = db.prepare(`SELECT ${INTENT_COLUMNS} FROM intents ORDER BY id DESC LIMIT ?`);

  return {
    path,
    beginIntent(p) {
      const t = now();
      const r = insertIntent.run(
        t, p.chainId, acct(p.account), p.block.toString(), p.action.kind, actionJson(p.action), p.action.reason, t,
        p.blockTimeSec === undefined ? null : Number(p.blockTimeSec), p.notionalUsdE8?.toString() ?? null,
      );
      return Number(r.lastInsertRowid);
    },
    hedgeNotionalSince(chainId, account, fromSec) {
      const rows = notionalSince.all(chainId, acct(account), fromSec) as Array<{ n: string | null }>;
      return rows.reduce((sum, r) => sum + BigInt(r.n ?? '0'), 0n);
    },
    finishIntent(id, status, detail) {
      updateIntent.run(status, detail ?? null, now(), id);
    },
    recordSigned(p) {
      const t = now();
      insertTx.run(p.intentId, p.chainId, acct(p.account), p.label, p.nonce, p.hash, p.raw, p.maxFeePerGas.toString(), p.maxPriorityFeePerGas.toString(), t, t);
    },
    markTx(hash, status, extra = {}) {
      updateTx.run(status, extra.block?.toString() ?? null, extra.gasUsed?.toString() ?? null, now(), hash);
    },
    unsettledTxs: (chainId, account) => unsettled.all(chainId, acct(account)) as TxRow[],
    minedSince: (chainId, account, block) => minedSince.all(chainId, acct(account), Number(block)) as TxRow[],
    txsOfIntent: (intentId) => ofIntent.all(intentId) as TxRow[],
    openIntents: (chainId, account) => openIntents.all(chainId, acct(account)) as IntentRow[],
    recentIntents: (limit) => recent.all(limit) as IntentRow[],
    close: () => db.close(),
  };
}
