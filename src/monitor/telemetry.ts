import type { TickResult } from '../runner/tick.js';
import type { PortfolioTickResult } from '../runner/portfolio-tick.js';

/** Transaction lifecycle events the executor reports (the log's tx.* events, as calls). */
export type TxEventKind = 'sent' | 'mined' | 'reverted' | 'replaced' | 'simulated' | 'blocked';

/** What a transaction that reached a block cost (its receipt's gasUsed and effectiveGasPrice). */
export interface TxCost {
  gasUsed: bigint;
  effectiveGasPriceWei: bigint;
}

/**
 * What the keeper reports as it runs, for metrics and benchmarks. Every method is optional
 * and must be cheap and non-throwing: telemetry never slows or breaks a tick.
 */
export interface KeeperTelemetry {
  tick?(result: TickResult, durationMs: number): void;
  /** A portfolio keeper's tick (per-asset and per-venue figures). */
  portfolioTick?(result: PortfolioTickResult, durationMs: number): void;
  tickFailed?(error: unknown, durationMs: number): void;
  /** `cost` with `mined` and `reverted` (on chain): the gas the keeper paid. */
  tx?(kind: TxEventKind, label: string, cost?: TxCost): void;
  /** An action sent on an earlier tick was settled by the pending queue (done, failed, abandoned, reorged). */
  actionSettled?(kind: string, outcome: string): void;
  rpcRequest?(url: string, method: string): void;
  rpcError?(url: string, error: unknown): void;
}

/** Call a telemetry hook, swallowing its errors. */
export function emit<K extends keyof KeeperTelemetry>(
  t: KeeperTelemetry | undefined,
  key: K,
  ...args: Parameters<NonNullable<KeeperTelemetry[K]>>
): void {
  const fn = t?.[key] as ((...a: unknown[]) => void) | undefined;
  if (!fn) return;
  try {
    fn.apply(t, args);
  } catch {
    /* telemetry must never break the keeper */
  }
}
