/**
 * Real Uniswap V3 on the devnet: the canonical bytecode from the npm artifacts of
 * `@uniswap/v3-core` / `@uniswap/v3-periphery` (the periphery's hard-coded pool init code hash
 * matches that core build, so pool addresses compute exactly as on mainnet), a seeded WETH/USDC
 * pool, LP positions, swaps, and the arbitrage the market driver uses to track the oracle.
 * Token addresses are parameters: any ERC20 with `mint(address,uint256)` (USDC) and a WETH9
 * with `deposit()` will do.
 */
import { createRequire } from 'node:module';
import { getAddress, getContractAddress, maxUint256, parseAbi, parseEventLogs, zeroAddress } from 'viem';
import type { Abi, Account, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem';
import type { Address } from '../core/types.js';
import {
  nonfungiblePositionManagerAbi as positionManagerAbi,
  quoterV2Abi,
  swapRouterAbi,
  uniswapV3FactoryAbi,
  uniswapV3PoolAbi,
} from '../../contracts-abi/external/index.js';
import { confirm } from './confirm.js';
import { fullRangeTicks, priceE8FromSqrtPriceX96, sqrtPriceX96FromPriceE8, ticksAroundPrice } from '../spot/uniswap-math.js';

/** Same shape as `Clients` from src/chain/clients.ts. */
export interface DevnetClients {
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
}

export interface UniswapDeployment {
  factory: Address;
  positionManager: Address;
  swapRouter: Address;
  quoterV2: Address;
}

/** The token calls the devnet helpers make: ERC20 plus WETH9 `deposit` and a mock's `mint`. */
export const devnetTokenAbi = parseAbi([
  'function approve(address spender, uint256 amount) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function deposit() payable',
  'function mint(address to, uint256 amount)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);

const require = createRequire(import.meta.url);

/** `account` and `chain` for every write, so viem never guesses either. */
function signer(clients: DevnetClients) {
  return { account: clients.walletClient.account, chain: clients.walletClient.chain } as const;
}

/** An npm artifact (hardhat format, no libraries to link for these four contracts). */
function artifact(path: string): { abi: Abi; bytecode: Hex } {
  return require(path) as { abi: Abi; bytecode: Hex };
}

/** Devnet-only: no deadline, the chain's clock may be moved by tests. */
const NO_DEADLINE = maxUint256;

/**
 * Gas limit for calls that touch a pool. The pool writes an oracle observation only in a new
 * second, so an estimate made in the same second as the pool's last update is short by that
 * write when the transaction mines a second later (an out-of-gas revert deep in the callback).
 */
function withHeadroom(estimate: bigint): bigint {
  return (estimate * 13n) / 10n;
}

/**
 * Deploy UniswapV3Factory, NonfungiblePositionManager, SwapRouter and QuoterV2. The four
 * deployments go out back to back with explicit nonces (the factory address is predicted from
 * the nonce), then all receipts are awaited.
 */
export async function deployUniswapV3(
  clients: DevnetClients,
  opts: { weth: Address; tokenDescriptor?: Address },
): Promise<UniswapDeployment> {
  const from = clients.walletClient.account.address;
  const nonce = await clients.publicClient.getTransactionCount({ address: from, blockTag: 'pending' });
  const factory = getContractAddress({ from, nonce: BigInt(nonce) });
  const descriptor = opts.tokenDescriptor ?? zeroAddress; // only tokenURI reads it
  const core = '@uniswap/v3-core/artifacts/contracts';
  const periphery = '@uniswap/v3-periphery/artifacts/contracts';
  const plan: [keyof UniswapDeployment, string, readonly unknown[]][] = [
    ['factory', `${core}/UniswapV3Factory.sol/UniswapV3Factory.json`, []],
    ['positionManager', `${periphery}/NonfungiblePositionManager.sol/NonfungiblePositionManager.json`, [factory, opts.weth, descriptor]],
    ['swapRouter', `${periphery}/SwapRouter.sol/SwapRouter.json`, [factory, opts.weth]],
    ['quoterV2', `${periphery}/lens/QuoterV2.sol/QuoterV2.json`, [factory, opts.weth]],
  ];
  const hashes: Hex[] = [];
  for (const [i, [, path, args]] of plan.entries()) {
    const { abi, bytecode } = artifact(path);
    hashes.push(await clients.walletClient.deployContract({ ...signer(clients), abi, bytecode, args, nonce: nonce + i }));
  }
  const out: Partial<UniswapDeployment> = {};
  for (const [i, [name]] of plan.entries()) {
    const receipt = await confirm(clients, hashes[i]!, `deploy ${name}`);
    if (!receipt.contractAddress) throw new Error(`deploy ${name}: no contract address`);
    out[name] = getAddress(receipt.contractAddress);
  }
  if (out.factory?.toLowerCase() !== factory.toLowerCase()) throw new Error('factory address prediction failed');
  return out as UniswapDeployment;
}

/** WETH/USDC token order: the lower address is token0. */
export function poolTokens(weth: Address, usdc: Address): { token0: Address; token1: Address; baseIsToken0: boolean } {
  const baseIsToken0 = weth.toLowerCase() < usdc.toLowerCase();
  return baseIsToken0 ? { token0: weth, token1: usdc, baseIsToken0 } : { token0: usdc, token1: weth, baseIsToken0 };
}

/** Give the wallet account WETH (wrapping its own ETH) and USDC (minted: the account must be allowed to mint). */
export async function fundWithTokens(
  clients: DevnetClients,
  opts: { weth: Address; usdc: Address; wethWei: bigint; usdcUnits: bigint },
): Promise<void> {
  const { walletClient } = clients;
  const base = { ...signer(clients), abi: devnetTokenAbi } as const;
  if (opts.wethWei > 0n) {
    const sent = walletClient.writeContract({ ...base, address: opts.weth, functionName: 'deposit', value: opts.wethWei });
    await confirm(clients, sent, 'WETH deposit');
  }
  if (opts.usdcUnits > 0n) {
    const args = [walletClient.account.address, opts.usdcUnits] as const;
    await confirm(clients, walletClient.writeContract({ ...base, address: opts.usdc, functionName: 'mint', args }), 'USDC mint');
  }
}

/** Approve `spender` for the maximum if the current allowance is below `amount`. */
export async function ensureAllowance(clients: DevnetClients, token: Address, spender: Address, amount: bigint): Promise<void> {
  const owner = clients.walletClient.account.address;
  const current = await clients.publicClient.readContract({
    address: token,
    abi: devnetTokenAbi,
    functionName: 'allowance',
    args: [owner, spender],
  });
  if (current >= amount) return;
  const sent = clients.walletClient.writeContract({
    ...signer(clients),
    address: token,
    abi: devnetTokenAbi,
    functionName: 'approve',
    args: [spender, maxUint256],
  });
  await confirm(clients, sent, 'approve');
}

export interface MintLpParams {
  positionManager: Address;
  weth: Address;
  usdc: Address;
  fee?: number;
  tickLower: number;
  tickUpper: number;
  amountWethWei: bigint;
  amountUsdcUnits: bigint;
  /** Owner of the NFT; defaults to the wallet account (which pays the tokens either way). */
  recipient?: Address;
}

export interface MintedLp {
  tokenId: bigint;
  liquidity: bigint;
  /** What the pool actually took (at most the desired amounts). */
  amountWethWei: bigint;
  amountUsdcUnits: bigint;
}

/** Mint an LP NFT from the wallet account's WETH and USDC; the tokenId comes from the IncreaseLiquidity event. */
export async function mintLpPosition(clients: DevnetClients, p: MintLpParams): Promise<MintedLp> {
  const lp = await mintPairLp(clients, {
    ...p,
    pair: wethUsdcPair(p.weth, p.usdc),
    fee: p.fee ?? 500,
    amountBase: p.amountWethWei,
    amountQuote: p.amountUsdcUnits,
  });
  return { tokenId: lp.tokenId, liquidity: lp.liquidity, amountWethWei: lp.amountBase, amountUsdcUnits: lp.amountQuote };
}

/**
 * A pool's two tokens as base and quote: prices are quote per base with 8 decimals (like a feed),
 * whatever the address order; each token's decimals convert them to the pool's raw ratio.
 */
export interface TokenPair {
  base: Address;
  quote: Address;
  baseDecimals: number;
  quoteDecimals: number;
}

/** The devnet's first pair: WETH (18) priced in USDC (6). */
export function wethUsdcPair(weth: Address, usdc: Address): TokenPair {
  return { base: weth, quote: usdc, baseDecimals: 18, quoteDecimals: 6 };
}

/** Token order of a pair's pool: the lower address is token0. */
export function pairOrder(pair: TokenPair): { token0: Address; token1: Address; baseIsToken0: boolean } {
  const { token0, token1, baseIsToken0 } = poolTokens(pair.base, pair.quote);
  return { token0, token1, baseIsToken0 };
}

/** sqrtPriceX96 of a pair's pool at `priceE8` (quote per base). */
export function pairSqrtPriceX96(pair: TokenPair, priceE8: bigint): bigint {
  return sqrtPriceX96FromPriceE8(priceE8, pairOrder(pair).baseIsToken0, pair.baseDecimals, pair.quoteDecimals);
}

/** A pair's price (quote per base, E8) from its pool's sqrtPriceX96. */
export function pairPriceE8(pair: TokenPair, sqrtPriceX96: bigint): bigint {
  return priceE8FromSqrtPriceX96(sqrtPriceX96, pairOrder(pair).baseIsToken0, pair.baseDecimals, pair.quoteDecimals);
}

export interface MintPairLpParams {
  positionManager: Address;
  pair: TokenPair;
  fee: number;
  tickLower: number;
  tickUpper: number;
  amountBase: bigint;
  amountQuote: bigint;
  recipient?: Address;
}

export interface PairLp {
  tokenId: bigint;
  liquidity: bigint;
  /** What the pool actually took. */
  amountBase: bigint;
  amountQuote: bigint;
}

/** Mint an LP NFT of any pair from the wallet account's tokens. */
export async function mintPairLp(clients: DevnetClients, p: MintPairLpParams): Promise<PairLp> {
  const { token0, token1, baseIsToken0 } = pairOrder(p.pair);
  await ensureAllowance(clients, p.pair.base, p.positionManager, p.amountBase);
  await ensureAllowance(clients, p.pair.quote, p.positionManager, p.amountQuote);
  const params = {
    token0,
    token1,
    fee: p.fee,
    tickLower: p.tickLower,
    tickUpper: p.tickUpper,
    amount0Desired: baseIsToken0 ? p.amountBase : p.amountQuote,
    amount1Desired: baseIsToken0 ? p.amountQuote : p.amountBase,
    amount0Min: 0n,
    amount1Min: 0n,
    recipient: p.recipient ?? clients.walletClient.account.address,
    deadline: NO_DEADLINE,
  };
  const request = { ...signer(clients), address: p.positionManager, abi: positionManagerAbi, functionName: 'mint', args: [params] } as const;
  const gas = withHeadroom(await clients.publicClient.estimateContractGas(request));
  const receipt = await confirm(clients, clients.walletClient.writeContract({ ...request, gas }), 'LP mint');
  const [event] = parseEventLogs({ abi: positionManagerAbi, eventName: 'IncreaseLiquidity', logs: receipt.logs });
  if (!event) throw new Error(`LP mint ${receipt.transactionHash}: no IncreaseLiquidity event`);
  const { tokenId, liquidity, amount0, amount1 } = event.args;
  return { tokenId, liquidity, amountBase: baseIsToken0 ? amount0 : amount1, amountQuote: baseIsToken0 ? amount1 : amount0 };
}

/**
 * Create a pair's pool at `priceE8` (unless it exists) and add `amountBase` + `amountQuote` of
 * liquidity, full range unless `widthPct` is given. The wallet account must hold the tokens
 * once `fund` (called after the pool exists) has run.
 */
export async function createAndSeedPairPool(
  clients: DevnetClients,
  p: {
    uniswap: UniswapDeployment;
    pair: TokenPair;
    fee: number;
    priceE8: bigint;
    amountBase: bigint;
    amountQuote: bigint;
    widthPct?: number;
    fund?: () => Promise<void>;
  },
): Promise<{ pool: Address; lp: PairLp }> {
  const { token0, token1, baseIsToken0 } = pairOrder(p.pair);
  const sent = clients.walletClient.writeContract({
    ...signer(clients),
    address: p.uniswap.positionManager,
    abi: positionManagerAbi,
    functionName: 'createAndInitializePoolIfNecessary',
    args: [token0, token1, p.fee, pairSqrtPriceX96(p.pair, p.priceE8)],
  });
  await confirm(clients, sent, 'pool create');
  const pool = await clients.publicClient.readContract({
    address: p.uniswap.factory,
    abi: uniswapV3FactoryAbi,
    functionName: 'getPool',
    args: [token0, token1, p.fee],
  });
  const spacing = tickSpacingOf(p.fee);
  const range =
    p.widthPct === undefined
      ? fullRangeTicks(spacing)
      : ticksAroundPrice(p.priceE8, p.widthPct, spacing, baseIsToken0, p.pair.baseDecimals, p.pair.quoteDecimals);
  await p.fund?.();
  const lp = await mintPairLp(clients, { ...p, positionManager: p.uniswap.positionManager, ...range });
  return { pool, lp };
}

export interface SeedPoolParams {
  uniswap: UniswapDeployment;
  weth: Address;
  usdc: Address;
  fee?: number;
  /** Initial price, USD per ETH with 8 decimals (like the oracle). */
  priceE8: bigint;
  /** USD value deposited on each side. Default 20 million. */
  liquidityUsd?: bigint;
  /** ± range in percent around the price; omitted = full range (deep wherever the oracle wanders). */
  widthPct?: number;
  /** Wrap/mint the tokens first (the wallet account needs the ETH and the right to mint USDC). Default true. */
  fund?: boolean;
}

const TICK_SPACING: Record<number, number> = { 100: 1, 500: 10, 3000: 60, 10000: 200 };

/** Tick spacing of a standard fee tier. */
export function tickSpacingOf(fee: number): number {
  const spacing = TICK_SPACING[fee];
  if (spacing === undefined) throw new Error(`unknown Uniswap fee tier ${fee}`);
  return spacing;
}

/** Create the WETH/USDC pool at `priceE8` (unless it exists) and add the deep LP liquidity. */
export async function createAndSeedPool(clients: DevnetClients, p: SeedPoolParams): Promise<{ pool: Address; lp: MintedLp }> {
  const usd = p.liquidityUsd ?? 20_000_000n;
  const amountUsdcUnits = usd * 10n ** 6n;
  const amountWethWei = (usd * 10n ** 26n) / p.priceE8; // usd * 1e8 (E8) * 1e18 (wei) / priceE8
  const fund = async () => {
    if (p.fund ?? true) await fundWithTokens(clients, { weth: p.weth, usdc: p.usdc, wethWei: amountWethWei, usdcUnits: amountUsdcUnits });
  };
  const seeded = await createAndSeedPairPool(clients, {
    ...p,
    pair: wethUsdcPair(p.weth, p.usdc),
    fee: p.fee ?? 500,
    amountBase: amountWethWei,
    amountQuote: amountUsdcUnits,
    fund,
  });
  const { tokenId, liquidity, amountBase, amountQuote } = seeded.lp;
  return { pool: seeded.pool, lp: { tokenId, liquidity, amountWethWei: amountBase, amountUsdcUnits: amountQuote } };
}

export interface PoolState {
  sqrtPriceX96: bigint;
  tick: number;
  liquidity: bigint;
  token0: Address;
  token1: Address;
  fee: number;
}

/** slot0, active liquidity and the token pair, all read at one block. */
export async function readPoolState(publicClient: PublicClient<Transport, Chain>, pool: Address): Promise<PoolState> {
  // cacheTime 0: viem caches the block number for a polling interval, which would read stale state right after a swap.
  const blockNumber = await publicClient.getBlockNumber({ cacheTime: 0 });
  const read = { address: pool, abi: uniswapV3PoolAbi, blockNumber } as const;
  const [slot0, liquidity, token0, token1, fee] = await Promise.all([
    publicClient.readContract({ ...read, functionName: 'slot0' }),
    publicClient.readContract({ ...read, functionName: 'liquidity' }),
    publicClient.readContract({ ...read, functionName: 'token0' }),
    publicClient.readContract({ ...read, functionName: 'token1' }),
    publicClient.readContract({ ...read, functionName: 'fee' }),
  ]);
  return { sqrtPriceX96: slot0[0], tick: slot0[1], liquidity, token0, token1, fee };
}

export interface SingleSwap {
  tokenIn: Address;
  tokenOut: Address;
  fee?: number;
  amountIn: bigint;
  /** 0 = no limit. With a limit the pool stops there and only the input needed is pulled. */
  sqrtPriceLimitX96?: bigint;
}

/** QuoterV2's answer for an exact-input single-pool swap (an eth_call: QuoterV2 reverts internally). */
export async function quoteExactInputSingle(publicClient: PublicClient<Transport, Chain>, quoterV2: Address, s: SingleSwap) {
  const { result } = await publicClient.simulateContract({
    address: quoterV2,
    abi: quoterV2Abi,
    functionName: 'quoteExactInputSingle',
    args: [{ ...s, fee: s.fee ?? 500, sqrtPriceLimitX96: s.sqrtPriceLimitX96 ?? 0n }],
  });
  const [amountOut, sqrtPriceX96After, initializedTicksCrossed, gasEstimate] = result;
  return { amountOut, sqrtPriceX96After, initializedTicksCrossed, gasEstimate };
}

export interface SwapResult {
  hash: Hex;
  /** Actually paid and received, from the tokens' Transfer events. */
  amountIn: bigint;
  amountOut: bigint;
  gasUsed: bigint;
}

/** SwapRouter.exactInputSingle from the wallet account, approving the router if needed. */
export async function swapExactInput(
  clients: DevnetClients,
  swapRouter: Address,
  s: SingleSwap & { amountOutMinimum?: bigint; recipient?: Address },
): Promise<SwapResult> {
  const payer = clients.walletClient.account.address;
  const recipient = s.recipient ?? payer;
  await ensureAllowance(clients, s.tokenIn, swapRouter, s.amountIn);
  const params = {
    tokenIn: s.tokenIn,
    tokenOut: s.tokenOut,
    fee: s.fee ?? 500,
    recipient,
    deadline: NO_DEADLINE,
    amountIn: s.amountIn,
    amountOutMinimum: s.amountOutMinimum ?? 0n,
    sqrtPriceLimitX96: s.sqrtPriceLimitX96 ?? 0n,
  };
  const request = { ...signer(clients), address: swapRouter, abi: swapRouterAbi, functionName: 'exactInputSingle', args: [params] } as const;
  const gas = withHeadroom(await clients.publicClient.estimateContractGas(request));
  const receipt = await confirm(clients, clients.walletClient.writeContract({ ...request, gas }), 'swap');
  const transfers = parseEventLogs({ abi: devnetTokenAbi, eventName: 'Transfer', logs: receipt.logs });
  const sum = (token: Address, pick: (a: { from: Address; to: Address }) => boolean) =>
    transfers.filter((t) => t.address.toLowerCase() === token.toLowerCase() && pick(t.args)).reduce((acc, t) => acc + t.args.value, 0n);
  return {
    hash: receipt.transactionHash,
    amountIn: sum(s.tokenIn, (a) => a.from.toLowerCase() === payer.toLowerCase()),
    amountOut: sum(s.tokenOut, (a) => a.to.toLowerCase() === recipient.toLowerCase()),
    gasUsed: receipt.gasUsed,
  };
}

export interface ArbitrageResult {
  /** `at-target`: the pool sits exactly at the target sqrt price; `partial`: inventory ran out first. */
  status: 'at-target' | 'partial' | 'no-funds';
  priceBeforeE8: bigint;
  priceAfterE8: bigint;
  swap?: SwapResult;
}

/**
 * Move the pool price to `targetPriceE8` with one exactInputSingle whose sqrtPriceLimitX96 is
 * the target: the pool stops exactly there and the router pulls only what it used, so the
 * "amount in" is just a cap (the wallet's whole balance of the input token by default).
 */
export async function arbitragePoolToPrice(
  clients: DevnetClients,
  p: { pool: Address; swapRouter: Address; weth: Address; usdc: Address; targetPriceE8: bigint; maxAmountIn?: bigint },
): Promise<ArbitrageResult> {
  return arbitragePairToPrice(clients, { ...p, pair: wethUsdcPair(p.weth, p.usdc) });
}

/** `arbitragePoolToPrice` for any pair's pool; the price is quote per base (E8). */
export async function arbitragePairToPrice(
  clients: DevnetClients,
  p: { pool: Address; swapRouter: Address; pair: TokenPair; targetPriceE8: bigint; maxAmountIn?: bigint },
): Promise<ArbitrageResult> {
  const before = await readPoolState(clients.publicClient, p.pool);
  const priceBeforeE8 = pairPriceE8(p.pair, before.sqrtPriceX96);
  const target = pairSqrtPriceX96(p.pair, p.targetPriceE8);
  if (target === before.sqrtPriceX96) return { status: 'at-target', priceBeforeE8, priceAfterE8: priceBeforeE8 };
  // Selling token0 lowers sqrt(token1/token0).
  const zeroForOne = target < before.sqrtPriceX96;
  const [tokenIn, tokenOut] = zeroForOne ? [before.token0, before.token1] : [before.token1, before.token0];
  const balance = await clients.publicClient.readContract({
    address: tokenIn,
    abi: devnetTokenAbi,
    functionName: 'balanceOf',
    args: [clients.walletClient.account.address],
  });
  const amountIn = p.maxAmountIn === undefined || p.maxAmountIn > balance ? balance : p.maxAmountIn;
  if (amountIn === 0n) return { status: 'no-funds', priceBeforeE8, priceAfterE8: priceBeforeE8 };
  const swap = await swapExactInput(clients, p.swapRouter, { tokenIn, tokenOut, fee: before.fee, amountIn, sqrtPriceLimitX96: target });
  const after = await readPoolState(clients.publicClient, p.pool);
  const status = after.sqrtPriceX96 === target ? 'at-target' : 'partial';
  return { status, priceBeforeE8, priceAfterE8: pairPriceE8(p.pair, after.sqrtPriceX96), swap };
}
