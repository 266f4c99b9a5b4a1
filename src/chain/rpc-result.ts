import {
  BaseError,
  HttpRequestError,
  TimeoutError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Chain,
  type Hex,
  type PublicClient,
  type Transaction,
  type TransactionReceipt,
  type Transport,
} from 'viem';

/**
 * The one place that turns an RPC answer into a fact. A look-up is `found`, `absent` (the node
 * answered, and its answer was "no such thing") or `unknown` (an error, a timeout, a rate limit:
 * the node said nothing about the question). Only the first two may change the journal; an
 * unknown means wait and ask again. Reading an error as "not found" is how a restart during an
 * RPC outage once concluded a pending hedge "never reached the chain" and sent a second one.
 */
export type Lookup<T> =
  | { kind: 'found'; value: T }
  | { kind: 'absent' }
  | { kind: 'unknown'; reason: string; retryAfterMs?: number };

type PC = PublicClient<Transport, Chain>;

/** Seconds or an HTTP date, as Retry-After allows; undefined when absent or unreadable. */
export function retryAfterMs(headers: Headers | undefined, nowMs = Date.now()): number | undefined {
  const v = headers?.get('retry-after');
  if (!v) return undefined;
  const sec = Number(v);
  if (Number.isFinite(sec)) return Math.max(0, sec * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** A short, URL-free description of why an RPC call gave no answer. */
export function unknownReason(err: unknown): string {
  if (err instanceof BaseError) {
    const http = err.walk((e) => e instanceof HttpRequestError);
    if (http instanceof HttpRequestError) return http.status ? `HTTP ${http.status}` : 'HTTP request failed';
    if (err.walk((e) => e instanceof TimeoutError)) return 'timeout';
    const rpc = err.walk((e) => typeof (e as { code?: unknown }).code === 'number') as { code?: number; shortMessage?: string } | null;
    if (rpc?.code !== undefined) return `RPC error ${rpc.code}`;
    return err.name;
  }
  return err instanceof Error ? err.name : 'error';
}

/** Classify a thrown error: viem's "not found" errors are answers, everything else is not. */
export function classifyError(err: unknown): Exclude<Lookup<never>, { kind: 'found' }> {
  if (err instanceof TransactionReceiptNotFoundError || err instanceof TransactionNotFoundError) return { kind: 'absent' };
  if (err instanceof BaseError) {
    if (err.walk((e) => e instanceof TransactionReceiptNotFoundError || e instanceof TransactionNotFoundError)) return { kind: 'absent' };
    const http = err.walk((e) => e instanceof HttpRequestError);
    const after = http instanceof HttpRequestError ? retryAfterMs(http.headers) : undefined;
    return after === undefined ? { kind: 'unknown', reason: unknownReason(err) } : { kind: 'unknown', reason: unknownReason(err), retryAfterMs: after };
  }
  return { kind: 'unknown', reason: unknownReason(err) };
}

export async function lookup<T>(fn: () => Promise<T | null | undefined>): Promise<Lookup<T>> {
  try {
    const value = await fn();
    return value === null || value === undefined ? { kind: 'absent' } : { kind: 'found', value };
  } catch (err) {
    return classifyError(err);
  }
}

export const lookupReceipt = (pc: PC, hash: Hex): Promise<Lookup<TransactionReceipt>> => lookup(() => pc.getTransactionReceipt({ hash }));

export const lookupTransaction = (pc: PC, hash: Hex): Promise<Lookup<Transaction>> => lookup(() => pc.getTransaction({ hash }));

/** The account's mined-transaction count at a block: the chain's own record of used nonces. */
export const lookupNonceAt = (pc: PC, address: `0x${string}`, blockNumber: bigint): Promise<Lookup<number>> =>
  lookup(() => pc.getTransactionCount({ address, blockNumber }));

/** The first found of several look-ups; else unknown if any was unknown; else absent. */
export function firstFound<T>(results: ReadonlyArray<Lookup<T>>): Lookup<T> & { index?: number } {
  const i = results.findIndex((r) => r.kind === 'found');
  if (i >= 0) return { ...(results[i] as Lookup<T>), index: i };
  const unknown = results.find((r) => r.kind === 'unknown');
  return unknown ?? { kind: 'absent' };
}
