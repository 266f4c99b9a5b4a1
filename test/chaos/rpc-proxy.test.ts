import { afterEach, describe, expect, it } from 'vitest';
import { createPublicClient, http, keccak256, parseEther, type Hex } from 'viem';
import { erc20Abi } from 'viem';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { startRpcProxy, TX_METHODS, type RpcProxy } from '../../src/devnet/rpc-proxy.js';
import { chainFor } from '../../src/chain/clients.js';

type Answer = { status: number; headers: Headers; body: { result?: unknown; error?: { code: number; message: string } } & Array<{ result?: unknown }> };

async function rpc(url: string, method: string, params: unknown[] = []): Promise<Answer> {
  return post(url, { jsonrpc: '2.0', id: 1, method, params });
}

async function post(url: string, body: unknown): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Answer['body'] };
}

const hexOf = (r: Answer) => BigInt(r.body.result as string);

/** A transfer from the liquidator, signed but not sent: raw bytes and the hash they have. */
/**
 * Automine answers eth_sendRawTransaction before its block is sealed: wait for the receipt at the
 * node itself (a condition, not a sleep) before asserting on the mined state.
 */
async function minedReceipt(url: string, hash: Hex): Promise<{ status: string; blockNumber: string }> {
  const until = Date.now() + 30_000;
  for (;;) {
    const r = (await rpc(url, 'eth_getTransactionReceipt', [hash])).body.result as { status: string; blockNumber: string } | null;
    if (r) return r;
    if (Date.now() > until) throw new Error(`no receipt for ${hash} after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function signedTransfer(d: Devnet, wei: bigint): Promise<{ raw: Hex; hash: Hex }> {
  const { walletClient, publicClient } = d.as('liquidator');
  const nonce = await publicClient.getTransactionCount({ address: walletClient.account.address, blockTag: 'pending' });
  const raw = await walletClient.signTransaction({
    account: walletClient.account,
    chain: walletClient.chain,
    to: d.address('aaveDemo'),
    value: wei,
    nonce,
    gas: 21_000n,
    maxFeePerGas: 100_000_000_000n,
    maxPriorityFeePerGas: 1_000_000_000n,
  });
  return { raw, hash: keccak256(raw) };
}

describe('chaos tool: the JSON-RPC fault proxy', () => {
  const devnet = useDevnet();
  let proxy: RpcProxy | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it('forwards single calls and batches, counting calls per method; a viem client works through it', async () => {
    const d = devnet();
    proxy = await startRpcProxy({ upstream: d.rpcUrl });
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const head = hexOf(await rpc(d.rpcUrl, 'eth_blockNumber'));
    expect(hexOf(await rpc(proxy.url, 'eth_blockNumber'))).toBe(head);
    const batch = await post(proxy.url, [
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] },
      { jsonrpc: '2.0', id: 2, method: 'eth_blockNumber', params: [] },
    ]);
    expect(batch.body.map((b) => b.result)).toEqual(['0x7a69', `0x${head.toString(16)}`]);
    const client = createPublicClient({ chain: chainFor(31337, [proxy.url]), transport: http(proxy.url, { retryCount: 0 }) });
    const balance = await client.readContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'balanceOf', args: [d.address('perpDemo')] });
    expect(balance).toBeGreaterThan(0n);
    expect(proxy.stats().requests).toMatchObject({ eth_blockNumber: 2, eth_chainId: 1, eth_call: 1 });
  });

  it('a frozen head: block number, latest reads, receipts and logs stop at the frozen block', async () => {
    const d = devnet();
    proxy = await startRpcProxy({ upstream: d.rpcUrl });
    const frozen = await proxy.freezeHead();
    const who = d.address('aaveDemo');
    const before = hexOf(await rpc(d.rpcUrl, 'eth_getBalance', [who, 'latest']));
    const { raw, hash } = await signedTransfer(d, parseEther('1'));
    await rpc(d.rpcUrl, 'eth_sendRawTransaction', [raw]); // automine: mined at frozen + 1
    expect(BigInt((await minedReceipt(d.rpcUrl, hash)).blockNumber)).toBe(frozen + 1n);
    expect(hexOf(await rpc(d.rpcUrl, 'eth_blockNumber'))).toBe(frozen + 1n);

    expect(hexOf(await rpc(proxy.url, 'eth_blockNumber'))).toBe(frozen);
    expect(hexOf(await rpc(proxy.url, 'eth_getBalance', [who, 'latest']))).toBe(before);
    expect(hexOf(await rpc(proxy.url, 'eth_getBalance', [who, 'pending']))).toBe(before);
    const latest = (await rpc(proxy.url, 'eth_getBlockByNumber', ['latest', false])).body.result as { number: string };
    expect(BigInt(latest.number)).toBe(frozen);
    expect((await rpc(proxy.url, 'eth_getBlockByNumber', [`0x${(frozen + 1n).toString(16)}`, false])).body.result).toBeNull();
    expect((await rpc(proxy.url, 'eth_getBalance', [who, `0x${(frozen + 1n).toString(16)}`])).body.error?.message).toBe('header not found');
    expect((await rpc(proxy.url, 'eth_getTransactionReceipt', [hash])).body.result).toBeNull();
    const pending = (await rpc(proxy.url, 'eth_getTransactionByHash', [hash])).body.result as { hash: string; blockNumber: string | null };
    expect(pending.hash).toBe(hash);
    expect(pending.blockNumber).toBeNull();
    // eth_call without a block tag is served at the frozen block too.
    const call = { to: d.addresses.usdc, data: '0x18160ddd' }; // totalSupply()
    expect((await rpc(proxy.url, 'eth_call', [call])).body.result).toBe((await rpc(d.rpcUrl, 'eth_call', [call, `0x${frozen.toString(16)}`])).body.result);

    // A load balancer whose transaction backend is current: receipts and nonces are fresh.
    await proxy.freezeHead({ block: frozen, fresh: TX_METHODS });
    expect(BigInt(((await rpc(proxy.url, 'eth_getTransactionReceipt', [hash])).body.result as { blockNumber: string }).blockNumber)).toBe(frozen + 1n);
    expect(hexOf(await rpc(proxy.url, 'eth_blockNumber'))).toBe(frozen);
    proxy.live();
    expect(hexOf(await rpc(proxy.url, 'eth_getBalance', [who, 'latest']))).toBe(before + parseEther('1'));
  });

  it('a lagging replica answers N blocks behind, for all requests or a share of them', async () => {
    const d = devnet();
    proxy = await startRpcProxy({ upstream: d.rpcUrl, seed: 7 });
    await d.test.mine({ blocks: 5 });
    const head = hexOf(await rpc(d.rpcUrl, 'eth_blockNumber'));
    proxy.lag(3);
    expect(hexOf(await rpc(proxy.url, 'eth_blockNumber'))).toBe(head - 3n);
    const latest = (await rpc(proxy.url, 'eth_getBlockByNumber', ['latest', false])).body.result as { number: string };
    expect(BigInt(latest.number)).toBe(head - 3n);
    proxy.lag(3, { probability: 0.5 });
    const seen = new Set<bigint>();
    for (let i = 0; i < 40; i++) seen.add(hexOf(await rpc(proxy.url, 'eth_blockNumber')));
    expect([...seen].sort()).toEqual([head - 3n, head]); // a head that flaps between two backends
  });

  it('injects HTTP 500, 429 with Retry-After, JSON-RPC errors, hangs and resets, per method and for the next K calls', async () => {
    const d = devnet();
    proxy = await startRpcProxy({ upstream: d.rpcUrl });
    const e500 = proxy.inject({ methods: ['eth_chainId'], fault: { kind: 'http', status: 500 }, count: 2 });
    expect((await rpc(proxy.url, 'eth_chainId')).status).toBe(500);
    expect((await rpc(proxy.url, 'eth_blockNumber')).status).toBe(200); // another method: untouched
    expect((await rpc(proxy.url, 'eth_chainId')).status).toBe(500);
    expect((await rpc(proxy.url, 'eth_chainId')).status).toBe(200);
    expect(e500.hits).toBe(2);

    proxy.inject({ methods: ['eth_chainId'], fault: { kind: 'http', status: 429, retryAfterSec: 2 }, count: 1 });
    const limited = await rpc(proxy.url, 'eth_chainId');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');

    proxy.inject({ methods: ['eth_chainId'], fault: { kind: 'rpc-error', code: -32005, message: 'limit exceeded' }, count: 1 });
    const rpcErr = await rpc(proxy.url, 'eth_chainId');
    expect(rpcErr.status).toBe(200);
    expect(rpcErr.body.error).toEqual({ code: -32005, message: 'limit exceeded' });

    proxy.inject({ methods: ['eth_chainId'], fault: { kind: 'hang', ms: 300 }, count: 1 });
    const t0 = performance.now();
    expect((await rpc(proxy.url, 'eth_chainId')).body.result).toBe('0x7a69');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290); // held at least as long as asked

    proxy.inject({ methods: ['eth_chainId'], fault: { kind: 'reset' }, count: 1 });
    await expect(rpc(proxy.url, 'eth_chainId')).rejects.toThrow();
    expect((await rpc(proxy.url, 'eth_chainId')).status).toBe(200);
    expect(proxy.stats().faults).toEqual({ 'http-500': 2, 'http-429': 1, 'rpc-error': 1, hang: 1, reset: 1 });
  });

  it('faults by probability are reproducible from the seed', async () => {
    const d = devnet();
    const pattern = async (seed: number) => {
      const p = await startRpcProxy({ upstream: d.rpcUrl, seed });
      p.inject({ fault: { kind: 'rpc-error' }, probability: 0.3 });
      const out: boolean[] = [];
      for (let i = 0; i < 60; i++) out.push((await rpc(p.url, 'eth_chainId')).body.error !== undefined);
      await p.stop();
      return out;
    };
    const a = await pattern(42);
    expect(await pattern(42)).toEqual(a);
    expect(await pattern(43)).not.toEqual(a);
    const share = a.filter(Boolean).length / a.length;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.5);
  });

  it('swallows raw transactions with the right hash; after-forward faults lose only the answer', async () => {
    const d = devnet();
    proxy = await startRpcProxy({ upstream: d.rpcUrl });
    const sender = d.address('liquidator');
    const nonce = hexOf(await rpc(d.rpcUrl, 'eth_getTransactionCount', [sender, 'latest']));
    proxy.swallowSends(true);
    const lie = await signedTransfer(d, 1n);
    expect((await rpc(proxy.url, 'eth_sendRawTransaction', [lie.raw])).body.result).toBe(lie.hash);
    expect((await rpc(d.rpcUrl, 'eth_getTransactionByHash', [lie.hash])).body.result).toBeNull();
    expect(hexOf(await rpc(d.rpcUrl, 'eth_getTransactionCount', [sender, 'pending']))).toBe(nonce);
    expect(proxy.stats().swallowed).toEqual([lie.hash]);

    proxy.swallowSends(false);
    proxy.inject({ methods: ['eth_sendRawTransaction'], fault: { kind: 'http', status: 502 }, count: 1, afterForward: true });
    expect((await rpc(proxy.url, 'eth_sendRawTransaction', [lie.raw])).status).toBe(502);
    expect(proxy.stats().sent).toEqual([lie.hash, lie.hash]); // every raw transaction received, swallowed or not
    expect((await minedReceipt(d.rpcUrl, lie.hash)).status).toBe('0x1'); // the node took it although the client saw an error
  });

  it('stops cleanly with a request held in flight', async () => {
    const d = devnet();
    const p = await startRpcProxy({ upstream: d.rpcUrl });
    p.inject({ fault: { kind: 'hang', ms: 60_000 } });
    const held = rpc(p.url, 'eth_chainId').then(
      () => 'answered',
      () => 'failed',
    );
    await expect.poll(() => p.stats().requests['eth_chainId'] ?? 0).toBe(1);
    await p.stop();
    expect(await held).toBe('failed');
    await expect(rpc(p.url, 'eth_chainId')).rejects.toThrow();
  });
});
