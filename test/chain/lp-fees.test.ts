import { describe, expect, it } from 'vitest';
import { decodeFunctionResult, encodeFunctionData, maxUint256, parseEther } from 'viem';
import { nonfungiblePositionManagerAbi } from '../../contracts-abi/index.js';
import { assess } from '../../src/core/assess.js';
import type { Address, LpPosition, Snapshot } from '../../src/core/types.js';
import { arbitragePoolToPrice, swapExactInput } from '../../src/devnet/uniswap.js';
import { DEVNET_ETH_PRICE_E8 } from '../../src/devnet/deploy.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { keeperOn } from '../helpers/keeper.js';

/**
 * LP fees owed, as the snapshot computes them from the pool's fee growth, against what the
 * position manager itself would pay: `collect` (static call, from the owner, at the snapshot's
 * block) for the fees, and `multicall([decreaseLiquidity(all), collect])` for principal + fees.
 */
const MAX_UINT128 = (1n << 128n) - 1n;

const devnet = useDevnet();

type Pair = { amount0: bigint; amount1: bigint };

async function collectStatic(d: Devnet, tokenId: bigint, block: bigint, liquidity: bigint): Promise<{ fees: Pair; all: Pair }> {
  const owner = d.address('perpDemo');
  const npm = d.addresses.uniswap.positionManager;
  const collectArgs = [{ tokenId, recipient: owner, amount0Max: MAX_UINT128, amount1Max: MAX_UINT128 }] as const;
  const { publicClient } = d.as('perpDemo');
  const { result: fees } = await publicClient.simulateContract({
    account: owner,
    address: npm,
    abi: nonfungiblePositionManagerAbi,
    functionName: 'collect',
    args: collectArgs,
    blockNumber: block,
  });
  const calls = [
    encodeFunctionData({
      abi: nonfungiblePositionManagerAbi,
      functionName: 'decreaseLiquidity',
      args: [{ tokenId, liquidity, amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }],
    }),
    encodeFunctionData({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', args: collectArgs }),
  ];
  const { result: returned } = await publicClient.simulateContract({
    account: owner,
    address: npm,
    abi: nonfungiblePositionManagerAbi,
    functionName: 'multicall',
    args: [calls],
    blockNumber: block,
  });
  const [all0, all1] = decodeFunctionResult({ abi: nonfungiblePositionManagerAbi, functionName: 'collect', data: returned[1]! });
  return { fees: { amount0: fees[0], amount1: fees[1] }, all: { amount0: all0, amount1: all1 } };
}

/** WETH <-> USDC round trips through the pool by the market maker: fees for every LP in range. */
async function churn(d: Devnet, rounds: number): Promise<void> {
  const mm = d.as('marketMaker');
  const { weth, usdc } = d.addresses;
  const router = d.addresses.uniswap.swapRouter;
  for (let i = 0; i < rounds; i++) {
    const sold = await swapExactInput(mm, router, { tokenIn: weth, tokenOut: usdc, amountIn: parseEther('50') });
    await swapExactInput(mm, router, { tokenIn: usdc, tokenOut: weth, amountIn: sold.amountOut });
  }
}

async function movePool(d: Devnet, targetPriceE8: bigint): Promise<void> {
  const { weth, usdc } = d.addresses;
  const { pool, swapRouter } = d.addresses.uniswap;
  const r = await arbitragePoolToPrice(d.as('marketMaker'), { pool, swapRouter, weth, usdc, targetPriceE8 });
  expect(r.status).toBe('at-target');
}

async function tokensOwed(d: Devnet, tokenId: bigint, block: bigint): Promise<Pair> {
  const p = await d.as('perpDemo').publicClient.readContract({
    address: d.addresses.uniswap.positionManager,
    abi: nonfungiblePositionManagerAbi,
    functionName: 'positions',
    args: [tokenId],
    blockNumber: block,
  });
  return { amount0: p[10], amount1: p[11] };
}

const toBaseQuote = (p: Pair, baseIsToken0: boolean) =>
  baseIsToken0 ? { base: p.amount0, quote: p.amount1 } : { base: p.amount1, quote: p.amount0 };

/** The snapshot's LP against the position manager's own answers, at the snapshot's block. */
async function checkAgainstCollect(d: Devnet, s: Snapshot, tokenId: bigint): Promise<{ lp: LpPosition; owed: Pair }> {
  const lp = s.lps.find((l) => l.tokenId === tokenId);
  if (!lp) throw new Error(`token ${tokenId} is not in the snapshot`);
  const { fees, all } = await collectStatic(d, tokenId, s.blockNumber, lp.liquidity);
  const f = toBaseQuote(fees, lp.baseIsToken0);
  const a = toBaseQuote(all, lp.baseIsToken0);
  expect({ base: lp.feesBaseWei, quote: lp.feesQuoteUnits }).toEqual(f);
  expect({ base: lp.amountBaseWei + lp.feesBaseWei, quote: lp.amountQuoteUnits + lp.feesQuoteUnits }).toEqual(a);
  return { lp, owed: await tokensOwed(d, tokenId, s.blockNumber) };
}

describe('LP fees owed from the pool fee growth (what collect pays)', () => {
  it('equal collect to the wei in range, above and below the range, where tokensOwed stays 0; the delta counts them', async () => {
    const d = devnet();
    const tokenId = BigInt(d.addresses.demo.perp.lpTokenId);
    const methods: string[] = [];
    const { keeper, config } = await keeperOn(d, {}, { telemetry: { rpcRequest: (_url, m) => methods.push(m) } });
    const first = await keeper.reader.read();
    const dump = await checkAgainstCollect(d, first, tokenId);

    // In range: round trips at the demo price earn the position fees in both tokens.
    await churn(d, 3);
    methods.length = 0;
    const inRange = await keeper.reader.read();
    // The fee reads ride in the steady tick's one eth_call.
    expect(methods.filter((m) => m === 'eth_call')).toHaveLength(1);
    const a = await checkAgainstCollect(d, inRange, tokenId);
    expect(a.lp.inRange).toBe(true);
    expect(a.owed).toEqual({ amount0: 0n, amount1: 0n }); // never touched: tokensOwed misses all of it
    expect(a.lp.feesBaseWei).toBeGreaterThan(0n);
    expect(a.lp.feesQuoteUnits).toBeGreaterThan(0n);
    // The delta holds the fees: the LP's base leg is principal + what collect pays.
    const assessed = assess(inRange, config.policy);
    expect(assessed.lpDeltaWei).toBe(a.lp.amountBaseWei + a.lp.feesBaseWei);
    console.info(
      `lp-fees: devnet dump: owed ${dump.lp.feesBaseWei} wei + ${dump.lp.feesQuoteUnits} USDC units, tokensOwed ${dump.owed.amount0}/${dump.owed.amount1}; ` +
        `after 3 x 50 ETH round trips: owed ${a.lp.feesBaseWei} wei + ${a.lp.feesQuoteUnits} USDC units, tokensOwed ${a.owed.amount0}/${a.owed.amount1}`,
    );

    // Above the range (+25%): the upper tick is crossed, its outside growth flips; swaps there earn nothing.
    await movePool(d, (DEVNET_ETH_PRICE_E8 * 125n) / 100n);
    const above1 = await keeper.reader.read();
    const b = await checkAgainstCollect(d, above1, tokenId);
    expect(b.lp.inRange).toBe(false);
    await churn(d, 1);
    const above2 = await keeper.reader.read();
    const b2 = await checkAgainstCollect(d, above2, tokenId);
    expect({ base: b2.lp.feesBaseWei, quote: b2.lp.feesQuoteUnits }).toEqual({ base: b.lp.feesBaseWei, quote: b.lp.feesQuoteUnits });

    // Below the range (-20%): crossing the whole range back earns fees on the way, then the lower side.
    await movePool(d, (DEVNET_ETH_PRICE_E8 * 80n) / 100n);
    await churn(d, 1);
    const below = await keeper.reader.read();
    const c = await checkAgainstCollect(d, below, tokenId);
    expect(c.lp.inRange).toBe(false);
    expect(c.lp.feesBaseWei).toBeGreaterThan(b.lp.feesBaseWei);

    // Back in range, after the owner touches the position (decreaseLiquidity checkpoints
    // tokensOwed and the growth): fees owed = tokensOwed + the growth since.
    await movePool(d, DEVNET_ETH_PRICE_E8);
    const owner = d.as('perpDemo');
    const hash = await owner.walletClient.writeContract({
      address: d.addresses.uniswap.positionManager,
      abi: nonfungiblePositionManagerAbi,
      functionName: 'decreaseLiquidity',
      args: [{ tokenId, liquidity: c.lp.liquidity / 10n, amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }],
    });
    expect((await owner.publicClient.waitForTransactionReceipt({ hash })).status).toBe('success');
    await churn(d, 2);
    const back = await keeper.reader.read();
    const e = await checkAgainstCollect(d, back, tokenId);
    expect(e.lp.inRange).toBe(true);
    const owedBase = e.lp.baseIsToken0 ? e.owed.amount0 : e.owed.amount1;
    expect(owedBase).toBeGreaterThan(0n);
    expect(e.lp.feesBaseWei).toBeGreaterThan(owedBase);
  });
});
