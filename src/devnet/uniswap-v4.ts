/**
 * Real Uniswap v4 on the devnet, from the npm artifacts: PoolManager (`@uniswap/v4-core`),
 * PositionManager and StateView (`@uniswap/v4-periphery`), v4-core's PoolSwapTest as the swap
 * helper, and Permit2's runtime placed at its canonical address (the periphery package ships it
 * as a hex literal in `lib/permit2/test/utils/DeployPermit2.sol`, the file Uniswap's own tests
 * etch it from). Helpers to mint a position and swap through a pool.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encodeAbiParameters, encodePacked, getAddress, maxUint256, parseEventLogs, zeroAddress, type Abi, type Hex } from 'viem';
import type { Address } from '../core/types.js';
import { permit2Abi, v4PoolSwapTestAbi, v4PositionManagerAbi } from '../chain/v4-abi.js';
import { toBigint, toJsbi, v3Sdk } from '../spot/sdk.js';
import { MAX_SQRT_RATIO, MIN_SQRT_RATIO, sqrtPriceX96AtTick } from '../spot/uniswap-math.js';
import type { V4PoolKey } from '../spot/uniswap-v4-math.js';
import { confirm } from './confirm.js';
import { devnetTokenAbi, type DevnetClients } from './uniswap.js';

/** Permit2's address on every chain (deployed there with a keyless CREATE2). */
export const PERMIT2_CANONICAL: Address = '0x000000000022D473030F116dDEE9F6B43aC78BA3';
/** PositionManager's gas budget for a subscriber's unsubscribe hook (the value Uniswap deploys with). */
const UNSUBSCRIBE_GAS_LIMIT = 300_000n;
const MAX_UINT160 = (1n << 160n) - 1n;
const MAX_UINT48 = (1n << 48n) - 1n;
/** Devnet-only: no deadline, the chain's clock may be moved by tests. */
const NO_DEADLINE = maxUint256;

/** v4-periphery's Actions (src/libraries/Actions.sol). */
export const V4_ACTIONS = { INCREASE_LIQUIDITY: 0x00, DECREASE_LIQUIDITY: 0x01, MINT_POSITION: 0x02, SETTLE_PAIR: 0x0d, TAKE_PAIR: 0x11 } as const;

const require = createRequire(import.meta.url);

/** A Foundry artifact of the npm packages (no libraries to link for these). */
export function v4Artifact(contract: 'PoolManager' | 'PositionManager' | 'StateView' | 'PoolSwapTest'): { abi: Abi; bytecode: Hex } {
  const path =
    contract === 'PoolManager' || contract === 'PoolSwapTest'
      ? `@uniswap/v4-core/out/${contract}.sol/${contract}.json`
      : `@uniswap/v4-periphery/foundry-out/${contract}.sol/${contract}.json`;
  const j = require(path) as { abi: Abi; bytecode: { object: Hex } };
  return { abi: j.abi, bytecode: j.bytecode.object };
}

/** Permit2's runtime bytecode, as v4-periphery's test helper etches it. */
export function permit2RuntimeCode(): Hex {
  const file = require.resolve('@uniswap/v4-periphery/lib/permit2/test/utils/DeployPermit2.sol');
  const m = /hex"([0-9a-fA-F]+)"/.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`no Permit2 bytecode in ${file}`);
  return `0x${m[1]}`;
}

export interface V4Contracts {
  poolManager: Address;
  positionManager: Address;
  stateView: Address;
  permit2: Address;
  /** v4-core's PoolSwapTest: exact-input swaps for tests and the devnet. */
  swapRouter: Address;
}

const signer = (c: DevnetClients) => ({ account: c.walletClient.account, chain: c.walletClient.chain }) as const;

async function deploy(c: DevnetClients, contract: Parameters<typeof v4Artifact>[0], args: readonly unknown[]): Promise<Address> {
  const { abi, bytecode } = v4Artifact(contract);
  const receipt = await confirm(c, c.walletClient.deployContract({ ...signer(c), abi, bytecode, args }), `deploy ${contract}`);
  if (!receipt.contractAddress) throw new Error(`deploy ${contract}: no contract address`);
  return getAddress(receipt.contractAddress);
}

/** PoolManager (owned by the deployer), PositionManager, StateView and the swap helper; Permit2 by setCode. */
export async function deployUniswapV4(
  c: DevnetClients,
  opts: { weth: Address; setCode: (address: Address, bytecode: Hex) => Promise<void> },
): Promise<V4Contracts> {
  await opts.setCode(PERMIT2_CANONICAL, permit2RuntimeCode());
  const poolManager = await deploy(c, 'PoolManager', [c.walletClient.account.address]);
  // The token descriptor is only read by tokenURI: none on the devnet.
  const positionManager = await deploy(c, 'PositionManager', [poolManager, PERMIT2_CANONICAL, UNSUBSCRIBE_GAS_LIMIT, zeroAddress, opts.weth]);
  const stateView = await deploy(c, 'StateView', [poolManager]);
  const swapRouter = await deploy(c, 'PoolSwapTest', [poolManager]);
  return { poolManager, positionManager, stateView, permit2: PERMIT2_CANONICAL, swapRouter };
}

/** ERC-20 approval of Permit2 and Permit2's allowance for the PositionManager, both unlimited. */
export async function approveForPositionManager(c: DevnetClients, tokens: readonly Address[], positionManager: Address): Promise<void> {
  for (const token of tokens) {
    await confirm(c, c.walletClient.writeContract({ ...signer(c), address: token, abi: devnetTokenAbi, functionName: 'approve', args: [PERMIT2_CANONICAL, maxUint256] }), 'approve Permit2');
    const args = [token, positionManager, MAX_UINT160, Number(MAX_UINT48)] as const;
    await confirm(c, c.walletClient.writeContract({ ...signer(c), address: PERMIT2_CANONICAL, abi: permit2Abi, functionName: 'approve', args }), 'Permit2 approve');
  }
}

const POOL_KEY_PARAM = {
  type: 'tuple',
  components: [
    { name: 'currency0', type: 'address' },
    { name: 'currency1', type: 'address' },
    { name: 'fee', type: 'uint24' },
    { name: 'tickSpacing', type: 'int24' },
    { name: 'hooks', type: 'address' },
  ],
} as const;

/** `unlockData` of modifyLiquidities: abi.encode(bytes actions, bytes[] params). */
export function encodeV4Actions(steps: readonly { action: number; params: Hex }[]): Hex {
  const actions = encodePacked(steps.map(() => 'uint8'), steps.map((s) => s.action));
  return encodeAbiParameters([{ type: 'bytes' }, { type: 'bytes[]' }], [actions, steps.map((s) => s.params)]);
}

export function settlePairParams(key: V4PoolKey): Hex {
  return encodeAbiParameters([{ type: 'address' }, { type: 'address' }], [key.currency0, key.currency1]);
}

export function takePairParams(key: V4PoolKey, recipient: Address): Hex {
  return encodeAbiParameters([{ type: 'address' }, { type: 'address' }, { type: 'address' }], [key.currency0, key.currency1, recipient]);
}

export function decreaseLiquidityParams(tokenId: bigint, liquidity: bigint): Hex {
  return encodeAbiParameters([{ type: 'uint256' }, { type: 'uint256' }, { type: 'uint128' }, { type: 'uint128' }, { type: 'bytes' }], [tokenId, liquidity, 0n, 0n, '0x']);
}

/** The largest liquidity `amount0` / `amount1` can pay for in [tickLower, tickUpper) at `sqrtPriceX96`. */
export function liquidityForAmounts(p: { sqrtPriceX96: bigint; tickLower: number; tickUpper: number; amount0: bigint; amount1: bigint }): bigint {
  const { maxLiquidityForAmounts } = v3Sdk();
  const [a, b] = [sqrtPriceX96AtTick(p.tickLower), sqrtPriceX96AtTick(p.tickUpper)].map(toJsbi) as [ReturnType<typeof toJsbi>, ReturnType<typeof toJsbi>];
  return toBigint(maxLiquidityForAmounts(toJsbi(p.sqrtPriceX96), a, b, p.amount0.toString(), p.amount1.toString(), true));
}

export interface V4Mint {
  positionManager: Address;
  key: V4PoolKey;
  tickLower: number;
  tickUpper: number;
  liquidity: bigint;
  /** Most the pool may take of each currency (the wallet must hold it and have approved Permit2). */
  amount0Max: bigint;
  amount1Max: bigint;
  owner?: Address;
}

/** MINT_POSITION + SETTLE_PAIR through the PositionManager; the new token id from its Transfer event. */
export async function mintV4Position(c: DevnetClients, m: V4Mint): Promise<bigint> {
  const owner = m.owner ?? c.walletClient.account.address;
  const mint = encodeAbiParameters(
    [POOL_KEY_PARAM, { type: 'int24' }, { type: 'int24' }, { type: 'uint256' }, { type: 'uint128' }, { type: 'uint128' }, { type: 'address' }, { type: 'bytes' }],
    [m.key, m.tickLower, m.tickUpper, m.liquidity, m.amount0Max, m.amount1Max, owner, '0x'],
  );
  const unlockData = encodeV4Actions([
    { action: V4_ACTIONS.MINT_POSITION, params: mint },
    { action: V4_ACTIONS.SETTLE_PAIR, params: settlePairParams(m.key) },
  ]);
  const sent = c.walletClient.writeContract({ ...signer(c), address: m.positionManager, abi: v4PositionManagerAbi, functionName: 'modifyLiquidities', args: [unlockData, NO_DEADLINE] });
  const receipt = await confirm(c, sent, 'v4 mint');
  const [minted] = parseEventLogs({ abi: v4PositionManagerAbi, eventName: 'Transfer', logs: receipt.logs, args: { from: zeroAddress } });
  if (!minted) throw new Error(`v4 mint ${receipt.transactionHash}: no Transfer event`);
  return minted.args.id;
}

/**
 * Exact-input swap through the v4 pool with PoolSwapTest (it pulls the input with transferFrom:
 * the swap helper is approved here). No price limit beyond the pool's bounds.
 */
export async function swapV4ExactInput(c: DevnetClients, p: { swapRouter: Address; key: V4PoolKey; zeroForOne: boolean; amountIn: bigint }): Promise<void> {
  const tokenIn = p.zeroForOne ? p.key.currency0 : p.key.currency1;
  await confirm(c, c.walletClient.writeContract({ ...signer(c), address: tokenIn, abi: devnetTokenAbi, functionName: 'approve', args: [p.swapRouter, p.amountIn] }), 'approve v4 swap');
  const params = { zeroForOne: p.zeroForOne, amountSpecified: -p.amountIn, sqrtPriceLimitX96: p.zeroForOne ? MIN_SQRT_RATIO + 1n : MAX_SQRT_RATIO - 1n };
  const args = [p.key, params, { takeClaims: false, settleUsingBurn: false }, '0x'] as const;
  await confirm(c, c.walletClient.writeContract({ ...signer(c), address: p.swapRouter, abi: v4PoolSwapTestAbi, functionName: 'swap', args }), 'v4 swap');
}
