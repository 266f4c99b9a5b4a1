import { describe, expect, it } from 'vitest';
import { HttpRequestError, RpcRequestError, TimeoutError, TransactionNotFoundError, TransactionReceiptNotFoundError } from 'viem';
import { classifyError, firstFound, lookup, retryAfterMs } from '../../src/chain/rpc-result.js';

const HASH = `0x${'ab'.repeat(32)}` as const;
const URL = 'https://rpc.example/v2/SECRETKEY';

describe('RPC results: found, absent or unknown', () => {
  it('"not found" answers are absent; a null result is absent', async () => {
    expect(classifyError(new TransactionReceiptNotFoundError({ hash: HASH }))).toEqual({ kind: 'absent' });
    expect(classifyError(new TransactionNotFoundError({ hash: HASH }))).toEqual({ kind: 'absent' });
    expect(await lookup(async () => null)).toEqual({ kind: 'absent' });
    expect(await lookup(async () => 7)).toEqual({ kind: 'found', value: 7 });
  });

  it('HTTP 500, 429, timeouts and JSON-RPC errors are unknown, never absent, and name no URL', async () => {
    const e500 = new HttpRequestError({ url: URL, status: 500, body: { method: 'eth_getTransactionByHash' } });
    const headers = new Headers({ 'retry-after': '3' });
    const e429 = new HttpRequestError({ url: URL, status: 429, headers, body: { method: 'eth_getTransactionReceipt' } });
    const timeout = new TimeoutError({ body: { method: 'eth_getTransactionCount' }, url: URL });
    const rpc = new RpcRequestError({ body: {}, error: { code: -32000, message: 'header not found' }, url: URL });
    for (const [err, reason] of [[e500, 'HTTP 500'], [e429, 'HTTP 429'], [timeout, 'timeout'], [rpc, 'RPC error -32000']] as const) {
      const r = classifyError(err);
      expect(r.kind).toBe('unknown');
      expect(r.kind === 'unknown' && r.reason).toBe(reason);
      expect(JSON.stringify(r)).not.toContain('SECRETKEY');
    }
    expect(classifyError(e429)).toMatchObject({ kind: 'unknown', retryAfterMs: 3000 });
    expect((await lookup(async () => Promise.reject(e500))).kind).toBe('unknown');
  });

  it('Retry-After in seconds or as a date', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
    expect(retryAfterMs(new Headers({}))).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
  });

  it('of several look-ups: any found wins; else an unknown makes the whole unknown; absent only when all are', () => {
    expect(firstFound([{ kind: 'unknown', reason: 'x' }, { kind: 'found', value: 1 }])).toMatchObject({ kind: 'found', value: 1, index: 1 });
    expect(firstFound([{ kind: 'absent' }, { kind: 'unknown', reason: 'HTTP 500' }])).toEqual({ kind: 'unknown', reason: 'HTTP 500' });
    expect(firstFound([{ kind: 'absent' }, { kind: 'absent' }])).toEqual({ kind: 'absent' });
  });
});
