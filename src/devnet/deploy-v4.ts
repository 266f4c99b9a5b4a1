/**
 * Uniswap v4 on the devnet, deployed strictly AFTER everything else `deployDevnet` does (every
 * earlier address, nonce and balance is unchanged): the v4 contracts, a WETH/USDC v4 pool at the
 * feed price with deep full-range liquidity from the deployer, and one LP position ±10% around the
 * price for the `v4Demo` account (its own role, so the other demos' exact deltas do not move).
 */
import { parseEther, zeroAddress, type Hex } from 'viem';
import { mockUsdcAbi } from '../../contracts-abi/index.js';
import type { Clients } from '../chain/clients.js';
import type { Address } from '../core/types.js';
import { fullRangeTicks, ticksAroundPrice } from '../spot/uniswap-math.js';
import { v4PoolId, type V4PoolKey } from '../spot/uniswap-v4-math.js';
import { v4PoolManagerAbi } from '../chain/v4-abi.js';
import { confirm } from './confirm.js';
import { fundWithTokens, pairSqrtPriceX96, wethUsdcPair } from './uniswap.js';
import { approveForPositionManager, deployUniswapV4, liquidityForAmounts, mintV4Position, type V4Contracts } from './uniswap-v4.js';

/** 0.05%, spacing 10: the v3 pool's tier, so the two pools are comparable. */
export const DEVNET_V4_FEE = 500;
export const DEVNET_V4_TICK_SPACING = 10;

const SEED = { usdPerSide: 5_000_000n };
const DEMO = { lpWethWei: parseEther('10'), lpUsdcUnits: 20_000n * 10n ** 6n, widthPct: 10 };
/** What the pool may take beyond the computed amounts (rounding up): 0.1%, funded and left in the wallet. */
const slack = (x: bigint): bigint => x + x / 1_000n + 1n;

/** JSON-safe (DevnetAddresses): the pool key, its id, and the demo's position. */
export interface V4DevnetDeployment extends V4Contracts {
  pool: { currency0: Address; currency1: Address; fee: number; tickSpacing: number; hooks: Address; poolId: Hex };
  demo: { account: Address; tokenId: string };
}

export interface V4DeployBase {
  weth: Address;
  usdc: Address;
  ethPriceE8: bigint;
  setCode: (address: Address, bytecode: Hex) => Promise<void>;
}

async function mintUsdc(deployer: Clients, usdc: Address, to: Address, units: bigint): Promise<void> {
  await confirm(deployer, deployer.walletClient.writeContract({ address: usdc, abi: mockUsdcAbi, functionName: 'mint', args: [to, units] }), 'v4 USDC mint');
}

/** Mint a position worth at most `amountWeth` / `amountUsdc` from the wallet (funded here). */
async function fundAndMint(
  c: Clients,
  deployer: Clients,
  a: { weth: Address; usdc: Address; positionManager: Address; key: V4PoolKey; sqrtPriceX96: bigint },
  range: { tickLower: number; tickUpper: number },
  amounts: { wethWei: bigint; usdcUnits: bigint },
): Promise<bigint> {
  const wethIs0 = a.key.currency0.toLowerCase() === a.weth.toLowerCase();
  const [amount0, amount1] = wethIs0 ? [amounts.wethWei, amounts.usdcUnits] : [amounts.usdcUnits, amounts.wethWei];
  const liquidity = liquidityForAmounts({ sqrtPriceX96: a.sqrtPriceX96, ...range, amount0, amount1 });
  await fundWithTokens(c, { weth: a.weth, usdc: a.usdc, wethWei: slack(amounts.wethWei), usdcUnits: 0n });
  await mintUsdc(deployer, a.usdc, c.walletClient.account.address, slack(amounts.usdcUnits));
  await approveForPositionManager(c, [a.weth, a.usdc], a.positionManager);
  return mintV4Position(c, { positionManager: a.positionManager, key: a.key, ...range, liquidity, amount0Max: slack(amount0), amount1Max: slack(amount1) });
}

export async function deployV4(c: { deployer: Clients; demo: Clients }, b: V4DeployBase): Promise<V4DevnetDeployment> {
  const contracts = await deployUniswapV4(c.deployer, { weth: b.weth, setCode: b.setCode });
  const pair = wethUsdcPair(b.weth, b.usdc);
  const wethIs0 = b.weth.toLowerCase() < b.usdc.toLowerCase();
  const key: V4PoolKey = {
    currency0: wethIs0 ? b.weth : b.usdc,
    currency1: wethIs0 ? b.usdc : b.weth,
    fee: DEVNET_V4_FEE,
    tickSpacing: DEVNET_V4_TICK_SPACING,
    hooks: zeroAddress,
  };
  const sqrtPriceX96 = pairSqrtPriceX96(pair, b.ethPriceE8);
  await confirm(
    c.deployer,
    c.deployer.walletClient.writeContract({ address: contracts.poolManager, abi: v4PoolManagerAbi, functionName: 'initialize', args: [key, sqrtPriceX96] }),
    'v4 pool initialize',
  );
  const at = { weth: b.weth, usdc: b.usdc, positionManager: contracts.positionManager, key, sqrtPriceX96 };
  const seedWethWei = (SEED.usdPerSide * 10n ** 8n * 10n ** 18n) / b.ethPriceE8;
  await fundAndMint(c.deployer, c.deployer, at, fullRangeTicks(DEVNET_V4_TICK_SPACING), { wethWei: seedWethWei, usdcUnits: SEED.usdPerSide * 10n ** 6n });
  const range = ticksAroundPrice(b.ethPriceE8, DEMO.widthPct, DEVNET_V4_TICK_SPACING, wethIs0);
  const tokenId = await fundAndMint(c.demo, c.deployer, at, range, { wethWei: DEMO.lpWethWei, usdcUnits: DEMO.lpUsdcUnits });
  return {
    ...contracts,
    pool: { ...key, poolId: v4PoolId(key) },
    demo: { account: c.demo.walletClient.account.address, tokenId: tokenId.toString() },
  };
}
