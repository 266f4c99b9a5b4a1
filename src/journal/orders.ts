import type Database from 'better-sqlite3';

/**
 * Orders sent to an off-chain venue (Hyperliquid), journaled like transactions: the row, with its
 * client order id, is written BEFORE the signed request leaves, so a crash or a timeout leaves a
 * `placing` row whose fate the venue can be asked about (orderStatus by cloid) instead of a guess.
 * An order whose fate is not settled holds every new order on its venue: never act twice.
 *
 * placing: written, maybe sent. filled / partial: the venue answered with a fill (partial = less
 * than asked; the rest was cancelled, IOC). rejected: the venue refused it (nothing filled).
 * unknown: sent, no answer (timeout, 5xx): the venue must be asked. none: the venue does not know
 * the cloid (it never arrived).
 */

export type OrderStatus = 'placing' | 'filled' | 'partial' | 'rejected' | 'unknown' | 'none';

export interface OrderRow {
  id: number;
  intentId: number;
  venue: string;
  /** 0x + 32 hex: the client order id the venue knows the order by. */
  cloid: `0x${string}`;
  asset: string;
  coin: string;
  isBuy: number;
  /** Wire strings as sent. */
  px: string;
  sz: string;
  /** Signed asset units the keeper booked (a sell is negative); null until known. */
  filledUnits: string | null;
  avgPxE8: string | null;
  status: OrderStatus;
  detail: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface OrderJournal {
  record(p: { intentId: number; venue: string; cloid: `0x${string}`; asset: string; coin: string; isBuy: boolean; px: string; sz: string }): void;
  settle(cloid: string, status: Exclude<OrderStatus, 'placing'>, extra?: { filledUnits?: bigint; avgPxE8?: bigint; detail?: string }): void;
  /** placing or unknown: the venue has to be asked before anything else is sent there. */
  unsettled(venue: string): OrderRow[];
  ofIntent(intentId: number): OrderRow[];
  byCloid(cloid: string): OrderRow | undefined;
  recent(venue: string, limit: number): OrderRow[];
}

export const ORDERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS orders (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  intent_id INTEGER NOT NULL REFERENCES intents(id),
  venue TEXT NOT NULL,
  cloid TEXT NOT NULL UNIQUE,
  asset TEXT NOT NULL,
  coin TEXT NOT NULL,
  is_buy INTEGER NOT NULL,
  px TEXT NOT NULL,
  sz TEXT NOT NULL,
  filled_units TEXT,
  avg_px_e8 TEXT,
  status TEXT NOT NULL,
  detail TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_by_venue ON orders (venue, status);
`;

const COLUMNS = `id, intent_id AS intentId, venue, cloid, asset, coin, is_buy AS isBuy, px, sz, filled_units AS filledUnits,
  avg_px_e8 AS avgPxE8, status, detail, created_at_ms AS createdAtMs, updated_at_ms AS updatedAtMs`;

/** An order counts against the daily caps unless the venue refused it or never saw it. */
export const ORDER_SPENT_STATUSES = `('placing', 'filled', 'partial', 'unknown')`;

export function createOrderJournal(db: Database.Database, now: () => number): OrderJournal {
  db.exec(ORDERS_SCHEMA);
  const insert = db.prepare(
    `INSERT INTO orders (intent_id, venue, cloid, asset, coin, is_buy, px, sz, status, created_at_ms, updated_at_ms)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'placing', ?, ?)`,
  );
  const update = db.prepare(
    `UPDATE orders SET status = ?, filled_units = COALESCE(?, filled_units), avg_px_e8 = COALESCE(?, avg_px_e8),
       detail = COALESCE(?, detail), updated_at_ms = ? WHERE cloid = ?`,
  );
  const unsettled = db.prepare(`SELECT ${COLUMNS} FROM orders WHERE venue = ? AND status IN ('placing', 'unknown') ORDER BY id`);
  const ofIntent = db.prepare(`SELECT ${COLUMNS} FROM orders WHERE intent_id = ? ORDER BY id`);
  const byCloid = db.prepare(`SELECT ${COLUMNS} FROM orders WHERE cloid = ?`);
  const recent = db.prepare(`SELECT ${COLUMNS} FROM orders WHERE venue = ? ORDER BY id DESC LIMIT ?`);
  return {
    record(p) {
      const t = now();
      insert.run(p.intentId, p.venue, p.cloid.toLowerCase(), p.asset, p.coin, p.isBuy ? 1 : 0, p.px, p.sz, t, t);
    },
    settle(cloid, status, extra = {}) {
      update.run(status, extra.filledUnits?.toString() ?? null, extra.avgPxE8?.toString() ?? null, extra.detail ?? null, now(), cloid.toLowerCase());
    },
    unsettled: (venue) => unsettled.all(venue) as OrderRow[],
    ofIntent: (intentId) => ofIntent.all(intentId) as OrderRow[],
    byCloid: (cloid) => byCloid.get(cloid.toLowerCase()) as OrderRow | undefined,
    recent: (venue, limit) => recent.all(venue, limit) as OrderRow[],
  };
}
