import { describe, expect, it } from 'vitest';
import { encodeFunctionData, erc20Abi, getAddress, maxUint256, parseEther, parseEventLogs, zeroAddress, type Address } from 'viem';
import { mockUsdcAbi } from '../../contracts-abi/index.js';
import { createClients } from '../../src/chain/clients.js';
import { createPortfolioSnapshotReader } from '../../src/chain/portfolio-snapshot.js';
import { v4PoolManagerAbi, v4PositionManagerAbi, v4StateViewAbi } from '../../src/chain/v4-abi.js';
import { MULTICALL3_CANONICAL } from '../../src/config.js';
import { portfolioExposures } from '../../src/core/portfolio/exposure.js';
import { DEVNET_ETH_PRICE_E8 } from '../../src/devnet/deploy.js';
import { DEVNET_V4_TICK_SPACING } from '../../src/devnet/deploy-v4.js';
import { fundWithTokens } from '../../src/devnet/uniswap.js';
import {
  V4_ACTIONS, approveForPositionManager, decreaseLiquidityParams, encodeV4Actions, liquidityForAmounts, mintV4Position, PERMIT2_CANONICAL, permit2RuntimeCode,
  swapV4ExactInput, takePairParams,
} from '../../src/devnet/uniswap-v4.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import type { LpHolding, Portfolio, PortfolioSnapshot } from '../../src/portfolio/model.js';
import { sqrtPriceX96FromPriceE8, ticksAroundPrice } from '../../src/spot/uniswap-math.js';
import { decodeV4PositionInfo, v4PoolId, type V4PoolKey } from '../../src/spot/uniswap-v4-math.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';

/**
 * Uniswap v4 LP positions on the spot side: the devnet's real v4 contracts (npm artifacts), the
 * position read in the portfolio snapshot's one multicall, its amounts and fees owed equal to
 * what the PositionManager pays when all its liquidity is removed (a simulated
 * DECREASE_LIQUIDITY + TAKE_PAIR, eth_simulateV1 at the snapshot's block), to the wei.
 */
const devnet = useDevnet();

const key = (d: Devnet): V4PoolKey => d.addresses.v4.pool;
const usdcIs0 = (d: Devnet) => d.addresses.usdc.toLowerCase() < d.addresses.weth.toLowerCase();

/** keeper.yaml of an ETH/USDC portfolio: the v3 pool, the devnet's v4 pool, a perp venue. */
function v4Yaml(d: Devnet, extraPool = ''): string {
  const a = d.addresses;
  const [c0, c1] = usdcIs0(d) ? ['USDC', 'ETH'] : ['ETH', 'USDC'];
  return [
    `positionManager: ${a.uniswap.positionManager}`,
    `uniswapV4: { poolManager: ${a.v4.poolManager}, positionManager: ${a.v4.positionManager}, stateView: ${a.v4.stateView} }`,
    `quote: { symbol: USDC, token: ${a.usdc}, decimals: 6, feed: ${a.usdcUsdFeed} }`,
    `assets: { ETH: { token: ${a.weth}, decimals: 18, feed: ${a.ethUsdFeed}, wrapsNative: true } }`,
    'pools:',
    `  weth-usdc: { address: ${a.uniswap.pool}, token0: ${c0}, token1: ${c1}, fee: ${a.uniswap.fee} }`,
    `  weth-usdc-v4: { version: v4, currency0: ${c0}, currency1: ${c1}, fee: ${a.v4.pool.fee}, tickSpacing: ${a.v4.pool.tickSpacing} }`,
    extraPool,
    `venues: { perp: { kind: perp, exchange: ${a.perp}, markets: { ETH: ${a.perpMarketId} } } }`,
    'instruments: [{ venue: perp, asset: ETH }]',
    'policy: { assets: { ETH: { band: 0.5, minTrade: 0.01, maxTrade: 50 } } }',
    '',
  ].join('\n');
}

function countingClient(d: Devnet) {
  const methods: string[] = [];
  const { publicClient } = createClients({
    rpcUrls: [d.rpcUrl],
    chainId: 31337,
    privateKey: d.key('deployer'),
    pollingIntervalMs: 20,
    transport: { onRequest: ({ method }) => methods.push(method) },
  });
  return { publicClient, methods };
}

function reader(d: Devnet, portfolio: Portfolio, publicClient = d.as('deployer').publicClient, account: Address = d.address('v4Demo')) {
  return createPortfolioSnapshotReader({ publicClient, account, portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: d.addresses.uniswap.positionManager });
}

/** Deep pockets for swaps: the deployer wraps ETH and mints USDC. */
async function swap(d: Devnet, zeroForOne: boolean, amountIn: bigint): Promise<void> {
  const c = d.as('deployer');
  const tokenIn = zeroForOne ? key(d).currency0 : key(d).currency1;
  if (tokenIn.toLowerCase() === d.addresses.weth.toLowerCase()) await fundWithTokens(c, { weth: d.addresses.weth, usdc: d.addresses.usdc, wethWei: amountIn, usdcUnits: 0n });
  else await c.walletClient.writeContract({ address: d.addresses.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [c.walletClient.account.address, amountIn] }).then((hash) => c.publicClient.waitForTransactionReceipt({ hash }));
  await swapV4ExactInput(c, { swapRouter: d.addresses.v4.swapRouter, key: key(d), zeroForOne, amountIn });
}

/** WETH and USDC amounts in currency order. */
const wethUsdc = (d: Devnet, weth: bigint, usdc: bigint): [bigint, bigint] => (usdcIs0(d) ? [usdc, weth] : [weth, usdc]);

/** Round trips through the v4 pool: fees for every position in range, price back near where it was. */
async function churn(d: Devnet): Promise<void> {
  const [in0, in1] = wethUsdc(d, parseEther('50'), 100_000n * 10n ** 6n);
  await swap(d, true, in0);
  await swap(d, false, in1);
}

/**
 * What the PositionManager pays the owner for DECREASE_LIQUIDITY(liquidity) + TAKE_PAIR, simulated
 * at `blockNumber` (eth_simulateV1): the two currencies' Transfer logs from the PoolManager.
 */
async function simulateDecrease(d: Devnet, owner: Address, tokenId: bigint, liquidity: bigint, blockNumber: bigint): Promise<[bigint, bigint]> {
  const a = d.addresses;
  const unlockData = encodeV4Actions([
    { action: V4_ACTIONS.DECREASE_LIQUIDITY, params: decreaseLiquidityParams(tokenId, liquidity) },
    { action: V4_ACTIONS.TAKE_PAIR, params: takePairParams(key(d), owner) },
  ]);
  const data = encodeFunctionData({ abi: v4PositionManagerAbi, functionName: 'modifyLiquidities', args: [unlockData, maxUint256] });
  const [block] = await d.as('deployer').publicClient.simulateBlocks({ blockNumber, blocks: [{ calls: [{ account: owner, to: a.v4.positionManager, data }] }] });
  const call = block!.calls[0]!;
  expect(call.status, String(call.error)).toBe('success');
  const paid = (token: Address) =>
    parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs: call.logs ?? [] })
      .filter((l) => l.address.toLowerCase() === token.toLowerCase() && l.args.from === getAddress(a.v4.poolManager) && l.args.to === getAddress(owner))
      .reduce((sum, l) => sum + l.args.value, 0n);
  return [paid(key(d).currency0), paid(key(d).currency1)];
}

/** The holding against the contract: fees = a zero decrease (v4 collects that way), all = decrease of everything. */
async function expectLpIsWhatTheContractPays(d: Devnet, lp: LpHolding, s: PortfolioSnapshot): Promise<void> {
  const fees = await simulateDecrease(d, s.account, lp.tokenId, 0n, s.blockNumber);
  const all = await simulateDecrease(d, s.account, lp.tokenId, lp.liquidity, s.blockNumber);
  expect({ fees0: lp.fees0, fees1: lp.fees1 }).toEqual({ fees0: fees[0], fees1: fees[1] });
  expect({ all0: lp.amount0 + lp.fees0, all1: lp.amount1 + lp.fees1 }).toEqual({ all0: all[0], all1: all[1] });
}

const v4Lps = (s: PortfolioSnapshot) => s.lps.filter((l) => l.pool === 'weth-usdc-v4');

describe('Uniswap v4 on the devnet (npm artifacts)', () => {
  it('Permit2 at its canonical address, the pool at the feed price, the demo position owned by v4Demo', async () => {
    const d = devnet();
    const a = d.addresses;
    const pc = d.as('deployer').publicClient;
    expect(await pc.getCode({ address: PERMIT2_CANONICAL })).toBe(permit2RuntimeCode());
    expect(a.v4.pool.poolId).toBe(v4PoolId(key(d)));
    const [sqrtPriceX96] = await pc.readContract({ address: a.v4.stateView, abi: v4StateViewAbi, functionName: 'getSlot0', args: [a.v4.pool.poolId] });
    expect(sqrtPriceX96).toBe(sqrtPriceX96FromPriceE8(DEVNET_ETH_PRICE_E8, !usdcIs0(d)));
    expect(await pc.readContract({ address: a.v4.positionManager, abi: v4PositionManagerAbi, functionName: 'ownerOf', args: [BigInt(a.v4.demo.tokenId)] })).toBe(d.address('v4Demo'));
    expect(a.v4.demo.account).toBe(d.address('v4Demo'));
    expect(a.accounts.v4Demo).toBe(d.address('v4Demo'));
  });
});

describe('v4 LP positions in the portfolio snapshot', () => {
  it('in range after fees: amounts and fees owed equal the PositionManager payout to the wei; the ETH delta counts them', async () => {
    const d = devnet();
    const pf = parsePortfolioYaml(v4Yaml(d), 'keeper.yaml');
    await churn(d);
    const s = await reader(d, pf).read();
    const [lp] = v4Lps(s);
    expect(v4Lps(s)).toHaveLength(1);
    expect(lp!.tokenId).toBe(BigInt(d.addresses.v4.demo.tokenId));
    expect(lp!.inRange).toBe(true);
    expect(lp!.fees0 > 0n && lp!.fees1 > 0n).toBe(true);
    expect(lp!.amount0 > 0n && lp!.amount1 > 0n).toBe(true);
    await expectLpIsWhatTheContractPays(d, lp!, s);
    const [slot0, liquidity] = await Promise.all([
      d.as('deployer').publicClient.readContract({ blockNumber: s.blockNumber, address: d.addresses.v4.stateView, abi: v4StateViewAbi, functionName: 'getSlot0', args: [d.addresses.v4.pool.poolId] }),
      d.as('deployer').publicClient.readContract({ blockNumber: s.blockNumber, address: d.addresses.v4.stateView, abi: v4StateViewAbi, functionName: 'getLiquidity', args: [d.addresses.v4.pool.poolId] }),
    ]);
    expect(s.pools['weth-usdc-v4']).toEqual({ sqrtPriceX96: slot0[0], tick: slot0[1], liquidity });

    // The delta vector: the account's ETH is its wallet WETH plus the v4 position's WETH (principal + fees).
    const [eth] = portfolioExposures(pf, s);
    const lpWeth = usdcIs0(d) ? lp!.amount1 + lp!.fees1 : lp!.amount0 + lp!.fees0;
    const wallet = await d.as('deployer').publicClient.readContract({ blockNumber: s.blockNumber, address: d.addresses.weth, abi: erc20Abi, functionName: 'balanceOf', args: [s.account] });
    expect(eth).toMatchObject({ asset: 'ETH', walletUnits: wallet, lpUnits: lpWeth, spotUnits: wallet + lpWeth });
    expect(lpWeth).toBeGreaterThan(parseEther('9'));

    // Without Multicall3 (viem's deployless multicall): the same snapshot.
    const deployless = createPortfolioSnapshotReader({ publicClient: d.as('deployer').publicClient, account: s.account, portfolio: pf, positionManager: d.addresses.uniswap.positionManager });
    expect(await deployless.read(s.blockNumber)).toEqual(s);
  });

  it('out of range on both sides: one currency only, still equal to the payout to the wei', async () => {
    const d = devnet();
    const pf = parsePortfolioYaml(v4Yaml(d), 'keeper.yaml');
    await churn(d);
    const r = reader(d, pf);
    // Sell currency0 until the price is below the range (tick < tickLower): all currency0.
    await swap(d, true, wethUsdc(d, parseEther('400'), 800_000n * 10n ** 6n)[0]);
    const below = await r.read();
    const [lo] = v4Lps(below);
    expect(lo!.inRange).toBe(false);
    expect(below.pools['weth-usdc-v4']!.tick).toBeLessThan(lo!.tickLower);
    expect(lo!.amount1).toBe(0n);
    expect(lo!.amount0).toBeGreaterThan(0n);
    await expectLpIsWhatTheContractPays(d, lo!, below);
    // Then buy it back past the top of the range (tick >= tickUpper): all currency1, fees from crossing it.
    await swap(d, false, wethUsdc(d, parseEther('900'), 1_800_000n * 10n ** 6n)[1]);
    const above = await r.read();
    const [hi] = v4Lps(above);
    expect(hi!.inRange).toBe(false);
    expect(above.pools['weth-usdc-v4']!.tick).toBeGreaterThanOrEqual(hi!.tickUpper);
    expect(hi!.amount0).toBe(0n);
    expect(hi!.amount1).toBeGreaterThan(0n);
    // Fees accrue in the input currency only: currency1 was sold across the range, currency0 fees stand still.
    expect(hi!.fees1).toBeGreaterThan(lo!.fees1);
    expect(hi!.fees0).toBe(lo!.fees0);
    await expectLpIsWhatTheContractPays(d, hi!, above);
  });

  it('a steady read is ONE eth_call; a new position is found once (logs + two rounds), a position given away leaves', async () => {
    const d = devnet();
    const a = d.addresses;
    const pf = parsePortfolioYaml(v4Yaml(d), 'keeper.yaml');
    const { publicClient, methods } = countingClient(d);
    const r = reader(d, pf, publicClient);
    const first = await r.read(); // discovery: Transfer logs, owners and keys, then the positions' state
    expect(methods).toContain('eth_getLogs');
    expect(v4Lps(first).map((l) => l.tokenId)).toEqual([BigInt(a.v4.demo.tokenId)]);

    await churn(d);
    const head = await publicClient.getBlockNumber({ cacheTime: 0 });
    methods.length = 0;
    const s1 = await r.read(head);
    expect(methods).toEqual(['eth_call']);
    await expectLpIsWhatTheContractPays(d, v4Lps(s1)[0]!, s1);

    // A second, narrower position: found at the next read, then steady again.
    const owner = d.as('v4Demo');
    const range = ticksAroundPrice(DEVNET_ETH_PRICE_E8, 3, DEVNET_V4_TICK_SPACING, !usdcIs0(d));
    await fundWithTokens(owner, { weth: a.weth, usdc: a.usdc, wethWei: parseEther('2'), usdcUnits: 0n });
    const deployer = d.as('deployer');
    await deployer.publicClient.waitForTransactionReceipt({
      hash: await deployer.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [d.address('v4Demo'), 2_000n * 10n ** 6n] }),
    });
    const [max0, max1] = wethUsdc(d, parseEther('1'), 2_000n * 10n ** 6n);
    const liquidity = liquidityForAmounts({ sqrtPriceX96: s1.pools['weth-usdc-v4']!.sqrtPriceX96, ...range, amount0: max0, amount1: max1 });
    await approveForPositionManager(owner, [a.weth, a.usdc], a.v4.positionManager);
    const newId = await mintV4Position(owner, { positionManager: a.v4.positionManager, key: key(d), ...range, liquidity: liquidity / 2n, amount0Max: max0, amount1Max: max1 });
    await churn(d);
    methods.length = 0;
    const s2 = await r.read(await publicClient.getBlockNumber({ cacheTime: 0 }));
    expect(methods.filter((m) => m !== 'eth_blockNumber')).toEqual(['eth_call', 'eth_getLogs', 'eth_call', 'eth_call']);
    expect(v4Lps(s2).map((l) => [l.tokenId, l.tickLower, l.tickUpper, l.liquidity])).toEqual([
      [BigInt(a.v4.demo.tokenId), v4Lps(s1)[0]!.tickLower, v4Lps(s1)[0]!.tickUpper, v4Lps(s1)[0]!.liquidity],
      [newId, range.tickLower, range.tickUpper, liquidity / 2n],
    ]);
    for (const lp of v4Lps(s2)) await expectLpIsWhatTheContractPays(d, lp, s2);
    methods.length = 0;
    expect(await r.read(s2.blockNumber)).toEqual(s2);
    expect(methods).toEqual(['eth_call']);

    // The first position given away: gone from the next read (the NFT count changed).
    const gift = await owner.walletClient.writeContract({ address: a.v4.positionManager, abi: v4PositionManagerAbi, functionName: 'transferFrom', args: [d.address('v4Demo'), d.address('liquidator'), BigInt(a.v4.demo.tokenId)] });
    await owner.publicClient.waitForTransactionReceipt({ hash: gift });
    const s3 = await r.read();
    expect(v4Lps(s3).map((l) => l.tokenId)).toEqual([newId]);
    methods.length = 0;
    await r.read(s3.blockNumber);
    expect(methods).toEqual(['eth_call']);
  });

  it('a position in an undeclared v4 pool is ignored; a misdeclared key or pool manager throws, naming it', async () => {
    const d = devnet();
    const a = d.addresses;
    const [c0, c1] = usdcIs0(d) ? ['USDC', 'ETH'] : ['ETH', 'USDC'];
    const other = parsePortfolioYaml(v4Yaml(d).replace(/ {2}weth-usdc-v4: .*\n/, `  weth-usdc-v4: { version: v4, currency0: ${c0}, currency1: ${c1}, fee: 3000, tickSpacing: 60 }\n`), 'k.yaml');
    await expect(reader(d, other).read()).rejects.toThrow(/v4 pool weth-usdc-v4: pool 0x[0-9a-f]{64} is not initialized/);
    // Once that 0.3% pool exists, the account's position (in the 0.05% pool) is not the portfolio's.
    const deployer = d.as('deployer');
    const key30 = { ...key(d), fee: 3000, tickSpacing: 60 };
    const init = await deployer.walletClient.writeContract({ address: a.v4.poolManager, abi: v4PoolManagerAbi, functionName: 'initialize', args: [key30, sqrtPriceX96FromPriceE8(DEVNET_ETH_PRICE_E8, !usdcIs0(d))] });
    await deployer.publicClient.waitForTransactionReceipt({ hash: init });
    const s30 = await reader(d, other).read();
    expect(s30.lps).toEqual([]);
    expect(s30.pools['weth-usdc-v4']?.sqrtPriceX96).toBe(sqrtPriceX96FromPriceE8(DEVNET_ETH_PRICE_E8, !usdcIs0(d)));
    const pf = parsePortfolioYaml(v4Yaml(d), 'keeper.yaml');
    const wrongManager: Portfolio = { ...pf, uniswapV4: { ...pf.uniswapV4!, poolManager: a.perp } };
    await expect(reader(d, wrongManager).read()).rejects.toThrow(`reads pool manager ${getAddress(a.v4.poolManager)}, declared ${a.perp}`);
    const s = await reader(d, pf, undefined, d.address('perpDemo')).read();
    expect(v4Lps(s)).toEqual([]);
    expect(s.lps.map((l) => l.pool)).toEqual(['weth-usdc']);
  });
});

describe('keeper.yaml: v4 pools', () => {
  const A = {
    usdc: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
    weth: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
    feed: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
    pm: '0x0000000000000000000000000000000000000444',
    posm: '0x0000000000000000000000000000000000000555',
    sv: '0x0000000000000000000000000000000000000666',
  } as const;
  const yaml = (pools: string, top = `uniswapV4: { poolManager: ${A.pm}, positionManager: ${A.posm}, stateView: ${A.sv}, fromBlock: 12 }`) =>
    [
      top,
      `quote: { symbol: USDC, token: ${A.usdc}, decimals: 6 }`,
      `assets: { ETH: { token: ${A.weth}, decimals: 18, feed: ${A.feed} } }`,
      'pools:',
      pools,
      'policy: { assets: {} }',
    ].join('\n');

  it('a v4 pool becomes a PoolSpec with version, tickSpacing and hooks; its address is the PoolManager', () => {
    const p = parsePortfolioYaml(yaml('  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 8388608, tickSpacing: 60 }'), 'k.yaml');
    expect(p.uniswapV4).toEqual({ poolManager: A.pm, positionManager: A.posm, stateView: A.sv, fromBlock: 12n });
    expect(p.pools).toEqual([{ id: 'v4', address: A.pm, token0: 'USDC', token1: 'ETH', fee: 8388608, version: 'v4', tickSpacing: 60, hooks: zeroAddress }]);
  });

  it.each([
    ['  v4: { version: v4, currency0: ETH, currency1: USDC, fee: 500, tickSpacing: 10 }', 'k.yaml: pools.v4.currency0: Uniswap orders a pool\'s tokens by address: currency0 should be USDC'],
    ['  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 1000001, tickSpacing: 10 }', 'k.yaml: pools.v4.fee: expected an integer from 0 to 1000000, or 8388608 (dynamic fee)'],
    ['  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 500 }', 'k.yaml: pools.v4.tickSpacing: required'],
    ['  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 500, tickSpacing: 10, address: 0x1 }', 'k.yaml: pools.v4.address: unknown key'],
    ['  v4: { version: v5, address: ' + A.pm + ', token0: USDC, token1: ETH, fee: 500 }', 'k.yaml: pools.v4.version: expected v3 or v4'],
    [
      '  a: { version: v4, currency0: USDC, currency1: ETH, fee: 500, tickSpacing: 10 }\n  b: { version: v4, currency0: USDC, currency1: ETH, fee: 500, tickSpacing: 10, hooks: ' + zeroAddress + ' }',
      'k.yaml: pools.b.fee: same pool key as pools.a',
    ],
  ])('%s is refused', (pools, message) => {
    expect(() => parsePortfolioYaml(yaml(pools), 'k.yaml')).toThrow(message);
  });

  it('a v4 pool needs uniswapV4, and is no Aave swap pool', () => {
    expect(() => parsePortfolioYaml(yaml('  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 500, tickSpacing: 10 }', ''), 'k.yaml')).toThrow(
      'k.yaml: pools.v4.version: a v4 pool needs the top-level uniswapV4 (poolManager, positionManager, stateView)',
    );
    const aave = yaml('  v4: { version: v4, currency0: USDC, currency1: ETH, fee: 500, tickSpacing: 10 }').replace(
      'policy:',
      `venues: { aave: { kind: aave, addressesProvider: ${A.pm}, swapRouter: ${A.pm}, quoter: ${A.pm}, swapPools: { ETH: v4 } } }\npolicy:`,
    );
    expect(() => parsePortfolioYaml(aave, 'k.yaml')).toThrow('k.yaml: venues.aave.swapPools.ETH: pool v4 is a Uniswap v4 pool');
  });
});

describe('decodeV4PositionInfo: PositionInfoLibrary layout, signed ticks', () => {
  const u24 = (t: number) => BigInt(t < 0 ? t + 0x1000000 : t);
  it.each([
    [-887270, 887270, true],
    [-200, -100, false],
    [199_300, 201_300, false],
    [-1, 0, true],
  ])('tickLower %i, tickUpper %i, subscriber %s', (tickLower, tickUpper, hasSubscriber) => {
    const poolBits = BigInt('0x' + 'ab'.repeat(25)) << 56n;
    const info = poolBits | (u24(tickUpper) << 32n) | (u24(tickLower) << 8n) | (hasSubscriber ? 1n : 0n);
    expect(decodeV4PositionInfo(info)).toEqual({ tickLower, tickUpper, hasSubscriber });
  });
});
