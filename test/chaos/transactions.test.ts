import { describe, expect, it } from 'vitest';
import { parseGwei } from 'viem';
import { useDevnet } from '../helpers/devnet.js';
import { E8, keeperOn, setMarketPrice } from '../helpers/keeper.js';
import { freePort } from '../../src/devnet/anvil.js';
import { recordFault } from './record.js';
import { duplicateUsd, nonceOf, perpAccount, sleep, tradesSince } from './helpers.js';

describe('chaos: transactions and RPCs', () => {
  const devnet = useDevnet();

  it('a stuck transaction is replaced at the same nonce with both fees +12.5% and mined once', async () => {
    const d = devnet();
    const { keeper, lines } = await keeperOn(d, { REPLACE_AFTER_BLOCKS: '2', MAX_GAS_PRICE_GWEI: '200' });
    await setMarketPrice(d, 1_900n * E8);
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    await d.test.setAutomine(false);
    // The tick sends and returns: it never waits for mining.
    const sent = await keeper.tickOnce();
    expect(sent.results.map((x) => x.outcome)).toEqual(['pending']);
    const firstMaxFee = BigInt(lines().find((l) => l['event'] === 'tx.sent')?.['maxFeePerGas'] as string);
    // Keep every block's base fee just above the first transaction's max fee: it cannot be
    // included, so it is stuck until the keeper outbids it on a later tick.
    for (let i = 0; i < 30 && !lines().some((l) => l['event'] === 'tx.replaced'); i++) {
      await d.test.setNextBlockBaseFeePerGas({ baseFeePerGas: firstMaxFee + 1n });
      await d.test.mine({ blocks: 1 });
      const r = await keeper.tickOnce();
      // Meanwhile nothing new is planned on top of the pending hedge.
      expect(r.results.filter((x) => x.outcome === 'pending')).toEqual([]);
    }
    await d.test.setAutomine(true);
    await d.test.mine({ blocks: 1 });
    await keeper.settle();
    expect(keeper.journal?.intent(1)?.status).toBe('done');
    const replaced = lines().filter((l) => l['event'] === 'tx.replaced');
    expect(replaced.length).toBeGreaterThanOrEqual(1);
    const txs = keeper.journal?.txsOfIntent(1) ?? [];
    expect(txs.length).toBe(replaced.length + 1);
    expect(new Set(txs.map((t) => t.nonce)).size).toBe(1);
    expect(txs.filter((t) => t.status === 'mined').length).toBe(1);
    const [first, second] = txs;
    expect(BigInt(second!.maxFeePerGas) * 1000n).toBeGreaterThanOrEqual(BigInt(first!.maxFeePerGas) * 1125n);
    expect(BigInt(second!.maxPriorityFeePerGas) * 1000n).toBeGreaterThanOrEqual(BigInt(first!.maxPriorityFeePerGas) * 1125n);
    expect(BigInt(second!.maxFeePerGas)).toBeLessThanOrEqual(parseGwei('200'));
    const trades = await tradesSince(d, from);
    expect(trades.length).toBe(1);
    recordFault({ fault: 'stuck transaction (automine off, base fee above its max fee)', survived: true, lostUsd: duplicateUsd(trades, 1), note: `${replaced.length} replacement(s)` });
  });

  it('gas above the ceiling: the keeper waits instead of paying, then acts when gas is back', async () => {
    const d = devnet();
    const { keeper } = await keeperOn(d, { MAX_GAS_PRICE_GWEI: '20' });
    await setMarketPrice(d, 1_900n * E8);
    const nonce = await nonceOf(d);
    await d.test.setNextBlockBaseFeePerGas({ baseFeePerGas: parseGwei('80') });
    await d.test.mine({ blocks: 1 });
    const expensive = await keeper.tickOnce();
    expect(expensive.results.map((x) => x.outcome)).toEqual(['blocked']);
    expect(expensive.results[0]?.reason).toMatch(/above the ceiling 20\.000 gwei/);
    expect(await nonceOf(d)).toBe(nonce);
    await d.test.setNextBlockBaseFeePerGas({ baseFeePerGas: parseGwei('1') });
    await d.test.mine({ blocks: 1 });
    const cheap = await keeper.tickOnce();
    expect(cheap.results.map((x) => x.outcome)).toEqual(['done']);
    for (const t of keeper.journal?.txsOfIntent(2) ?? []) expect(BigInt(t.maxFeePerGas)).toBeLessThanOrEqual(parseGwei('20'));
    recordFault({ fault: 'gas price above MAX_GAS_PRICE_GWEI', survived: true, lostUsd: 0 });
  });

  it('the first RPC is dead: the keeper hedges through the second', async () => {
    const d = devnet();
    const dead = `http://127.0.0.1:${await freePort()}`;
    const { keeper, lines } = await keeperOn(d, { RPC_URLS: `${dead},${d.rpcUrl}` });
    const from = await d.as('perpDemo').publicClient.getBlockNumber({ cacheTime: 0 });
    const before = (await perpAccount(d)).sizeWei;
    await setMarketPrice(d, 1_900n * E8);
    const r = await keeper.tickOnce();
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    expect((await perpAccount(d)).sizeWei).toBeLessThan(before);
    const check = await keeper.tickOnce();
    expect(check.assessment.inBand).toBe(true);
    expect(lines().filter((l) => l['event'] === 'rpc.failed').map((l) => l['rpc'])).toEqual([dead]);
    recordFault({ fault: 'first RPC dead (fallback to the second)', survived: true, lostUsd: duplicateUsd(await tradesSince(d, from), 1) });
  });
});
