import { Decimal } from 'decimal.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicClient, createWalletClient, getAddress, http, maxUint256 } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import type { Address } from '../../src/core/types.js';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import {
  arbitragePoolToPrice,
  createAndSeedPool,
  deployUniswapV3,
  fundWithTokens,
  mintLpPosition,
  poolTokens,
  quoteExactInputSingle,
  readPoolState,
  swapExactInput,
  type DevnetClients,
  type UniswapDeployment,
} from '../../src/devnet/uniswap.js';
import { priceE8FromSqrtPriceX96, positionBaseQuote, ticksAroundPrice } from '../../src/spot/uniswap-math.js';
import { mockUsdcAbi, mockUsdcBytecode, nonfungiblePositionManagerAbi, weth9Abi, weth9Bytecode } from '../../contracts-abi/index.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
const PRICE_E8 = 312_345_678_901n; // $3123.45678901, deliberately not round
const E18 = 10n ** 18n;

let anvil: AnvilInstance;
let deployer: DevnetClients;
let demo: DevnetClients;
let uni: UniswapDeployment;
let weth: Address;
/** Two USDC deployments, so that one pool has WETH as token0 and the other as token1. */
const usdcs: { usdc: Address; pool: Address; baseIsToken0: boolean }[] = [];

function clientsFor(index: number): DevnetClients {
  const transport = http(anvil.rpcUrl);
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: index });
  return {
    publicClient: createPublicClient({ chain: foundry, transport }),
    walletClient: createWalletClient({ chain: foundry, transport, account }),
  };
}

async function deploy(c: DevnetClients, abi: typeof weth9Abi | typeof mockUsdcAbi, bytecode: `0x${string}`): Promise<Address> {
  const hash = await c.walletClient.deployContract({ abi, bytecode });
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  if (!receipt.contractAddress) throw new Error('no contract address');
  return getAddress(receipt.contractAddress);
}

/** |a - b| / b in basis points. */
const bps = (a: bigint, b: bigint) => new Decimal((a > b ? a - b : b - a).toString()).mul(10_000).div(b.toString()).toNumber();

beforeAll(async () => {
  // The default 10k ETH is less than two $20M pools plus the arbitrage inventory.
  anvil = await startAnvil({ args: ['--balance', '1000000'] });
  deployer = clientsFor(0);
  demo = clientsFor(1);
  weth = await deploy(deployer, weth9Abi, weth9Bytecode);
  uni = await deployUniswapV3(deployer, { weth });
  // Deploy USDCs until both token orders exist (a fresh address is on either side of WETH at ~50%).
  const byOrder = new Map<boolean, Address>();
  for (let i = 0; i < 16 && byOrder.size < 2; i++) {
    const usdc = await deploy(deployer, mockUsdcAbi, mockUsdcBytecode);
    const { baseIsToken0 } = poolTokens(weth, usdc);
    if (!byOrder.has(baseIsToken0)) byOrder.set(baseIsToken0, usdc);
  }
  for (const [baseIsToken0, usdc] of byOrder) {
    const { pool } = await createAndSeedPool(deployer, { uniswap: uni, weth, usdc, priceE8: PRICE_E8 });
    usdcs.push({ usdc, pool, baseIsToken0 });
  }
  // Inventory for swaps and arbitrage.
  for (const { usdc } of usdcs) await fundWithTokens(deployer, { weth, usdc, wethWei: 0n, usdcUnits: 50_000_000n * 10n ** 6n });
  await fundWithTokens(deployer, { weth, usdc: usdcs[0]!.usdc, wethWei: 40_000n * E18, usdcUnits: 0n });
});

afterAll(async () => {
  await anvil?.stop();
});

describe('deployUniswapV3', () => {
  it('deploys contracts that point at each other', async () => {
    for (const address of Object.values(uni)) {
      const code = await deployer.publicClient.getCode({ address });
      expect(code && code.length > 1000).toBe(true);
    }
    const factory = await deployer.publicClient.readContract({
      address: uni.positionManager,
      abi: nonfungiblePositionManagerAbi,
      functionName: 'factory',
    });
    expect(factory).toBe(uni.factory);
    expect(usdcs.map((u) => u.baseIsToken0).sort()).toEqual([false, true]);
  });
});

describe.each([true, false])('pool with WETH as token0 = %s', (baseIsToken0) => {
  const ctx = () => usdcs.find((u) => u.baseIsToken0 === baseIsToken0)!;

  it('is initialized at the given price (within 1 bp) with deep liquidity', async () => {
    const state = await readPoolState(deployer.publicClient, ctx().pool);
    const { token0 } = poolTokens(weth, ctx().usdc);
    expect(state.token0).toBe(token0);
    expect(bps(priceE8FromSqrtPriceX96(state.sqrtPriceX96, baseIsToken0), PRICE_E8)).toBeLessThan(1);
    expect(state.liquidity > 0n).toBe(true);
  });

  it('moves the price down when WETH is sold and up when WETH is bought; QuoterV2 matches the swap', async () => {
    const { usdc, pool } = ctx();
    const price = async () => priceE8FromSqrtPriceX96((await readPoolState(deployer.publicClient, pool)).sqrtPriceX96, baseIsToken0);
    const p0 = await price();
    const sell = { tokenIn: weth, tokenOut: usdc, amountIn: 100n * E18 };
    const quoteSell = await quoteExactInputSingle(deployer.publicClient, uni.quoterV2, sell);
    const sold = await swapExactInput(deployer, uni.swapRouter, sell);
    expect(sold.amountIn).toBe(sell.amountIn);
    expect(sold.amountOut).toBe(quoteSell.amountOut);
    const p1 = await price();
    expect(p1 < p0).toBe(true);

    const buy = { tokenIn: usdc, tokenOut: weth, amountIn: 1_000_000n * 10n ** 6n };
    const quoteBuy = await quoteExactInputSingle(deployer.publicClient, uni.quoterV2, buy);
    const bought = await swapExactInput(deployer, uni.swapRouter, buy);
    expect(bought.amountOut).toBe(quoteBuy.amountOut);
    expect((await price()) > p1).toBe(true);
  });

  it('arbitragePoolToPrice lands within 5 bps of the target, up and down', async () => {
    const { usdc, pool } = ctx();
    for (const target of [(PRICE_E8 * 103n) / 100n, (PRICE_E8 * 95n) / 100n, PRICE_E8]) {
      const res = await arbitragePoolToPrice(deployer, { pool, swapRouter: uni.swapRouter, weth, usdc, targetPriceE8: target });
      expect(res.status).toBe('at-target');
      const after = priceE8FromSqrtPriceX96((await readPoolState(deployer.publicClient, pool)).sqrtPriceX96, baseIsToken0);
      expect(after).toBe(res.priceAfterE8);
      expect(bps(after, target)).toBeLessThan(5);
    }
    const again = await arbitragePoolToPrice(deployer, { pool, swapRouter: uni.swapRouter, weth, usdc, targetPriceE8: PRICE_E8 });
    expect(again.swap).toBeUndefined();
  });

  it('the SDK position amounts equal decreaseLiquidity (static call) in range, above and below', async () => {
    const { usdc, pool } = ctx();
    // Demo position, ±10% around the price, minted by the deployer for the demo account.
    const range = ticksAroundPrice(PRICE_E8, 10, 10, baseIsToken0);
    const lp = await mintLpPosition(deployer, {
      positionManager: uni.positionManager,
      weth,
      usdc,
      ...range,
      amountWethWei: 10n * E18,
      amountUsdcUnits: 30_000n * 10n ** 6n,
      recipient: demo.walletClient.account.address,
    });
    expect(lp.liquidity > 0n).toBe(true);
    const onChain = await deployer.publicClient.readContract({
      address: uni.positionManager,
      abi: nonfungiblePositionManagerAbi,
      functionName: 'positions',
      args: [lp.tokenId],
    });
    expect([onChain[5], onChain[6], onChain[7]]).toEqual([range.tickLower, range.tickUpper, lp.liquidity]);

    for (const [target, inRange] of [
      [PRICE_E8, true],
      [(PRICE_E8 * 125n) / 100n, false],
      [(PRICE_E8 * 80n) / 100n, false],
    ] as const) {
      await arbitragePoolToPrice(deployer, { pool, swapRouter: uni.swapRouter, weth, usdc, targetPriceE8: target });
      const state = await readPoolState(deployer.publicClient, pool);
      const sdk = positionBaseQuote({ ...range, liquidity: lp.liquidity, sqrtPriceX96: state.sqrtPriceX96, tick: state.tick, baseIsToken0 });
      const { result } = await demo.publicClient.simulateContract({
        account: demo.walletClient.account.address,
        address: uni.positionManager,
        abi: nonfungiblePositionManagerAbi,
        functionName: 'decreaseLiquidity',
        args: [{ tokenId: lp.tokenId, liquidity: lp.liquidity, amount0Min: 0n, amount1Min: 0n, deadline: maxUint256 }],
      });
      const [amount0, amount1] = result;
      expect(sdk.inRange).toBe(inRange);
      expect(sdk.amountBaseWei).toBe(baseIsToken0 ? amount0 : amount1);
      expect(sdk.amountQuoteUnits).toBe(baseIsToken0 ? amount1 : amount0);
      if (!inRange) expect(sdk.amountBaseWei === 0n || sdk.amountQuoteUnits === 0n).toBe(true);
    }
  });
});
