import { parseAbi, parseAbiItem } from 'viem';

/**
 * The Uniswap v4 functions the keeper and the devnet call, as typed ABIs. Signatures are those
 * of `@uniswap/v4-core@1.0.2` and `@uniswap/v4-periphery@1.0.3` (PoolKey and PoolId are the
 * structs and bytes32 of v4-core; PositionInfo is v4-periphery's packed uint256).
 */

const POOL_KEY = '(address currency0, address currency1, uint24 fee, int24 tickSpacing, address hooks)';

/** PositionManager: an ERC-721 (solmate: not enumerable) whose token ids are v4 positions. */
export const v4PositionManagerAbi = parseAbi([
  'function balanceOf(address owner) view returns (uint256)',
  'function ownerOf(uint256 id) view returns (address)',
  'function transferFrom(address from, address to, uint256 id)',
  'function nextTokenId() view returns (uint256)',
  'function poolManager() view returns (address)',
  `function getPoolAndPositionInfo(uint256 tokenId) view returns (${POOL_KEY} poolKey, uint256 info)`,
  'function getPositionLiquidity(uint256 tokenId) view returns (uint128)',
  'function modifyLiquidities(bytes unlockData, uint256 deadline) payable',
  `function initializePool(${POOL_KEY} key, uint160 sqrtPriceX96) payable returns (int24)`,
  'event Transfer(address indexed from, address indexed to, uint256 indexed id)',
]);

/** The PositionManager's ERC-721 Transfer (mint: from the zero address). */
export const v4TransferEvent = parseAbiItem('event Transfer(address indexed from, address indexed to, uint256 indexed id)');

/** StateView: the PoolManager's storage (extsload) decoded, per pool id. */
export const v4StateViewAbi = parseAbi([
  'function poolManager() view returns (address)',
  'function getSlot0(bytes32 poolId) view returns (uint160 sqrtPriceX96, int24 tick, uint24 protocolFee, uint24 lpFee)',
  'function getLiquidity(bytes32 poolId) view returns (uint128)',
  'function getFeeGrowthGlobals(bytes32 poolId) view returns (uint256, uint256)',
  'function getFeeGrowthInside(bytes32 poolId, int24 tickLower, int24 tickUpper) view returns (uint256, uint256)',
  'function getPositionInfo(bytes32 poolId, address owner, int24 tickLower, int24 tickUpper, bytes32 salt) view returns (uint128 liquidity, uint256 feeGrowthInside0LastX128, uint256 feeGrowthInside1LastX128)',
]);

/** The PoolManager calls the devnet makes (pool creation). */
export const v4PoolManagerAbi = parseAbi([`function initialize(${POOL_KEY} key, uint160 sqrtPriceX96) returns (int24)`]);

/** Permit2's AllowanceTransfer: the PositionManager pulls tokens through it. */
export const permit2Abi = parseAbi([
  'function approve(address token, address spender, uint160 amount, uint48 expiration)',
  'function allowance(address user, address token, address spender) view returns (uint160 amount, uint48 expiration, uint48 nonce)',
]);

/** v4-core's PoolSwapTest (a test router shipped in the npm artifacts): the devnet's v4 swaps. */
export const v4PoolSwapTestAbi = parseAbi([
  `function swap(${POOL_KEY} key, (bool zeroForOne, int256 amountSpecified, uint160 sqrtPriceLimitX96) params, (bool takeClaims, bool settleUsingBurn) testSettings, bytes hookData) payable returns (int256 delta)`,
]);
