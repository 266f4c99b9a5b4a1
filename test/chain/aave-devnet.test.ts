import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPublicClient,
  createTestClient,
  createWalletClient,
  encodeErrorResult,
  encodeFunctionData,
  getAddress,
  http,
  maxUint256,
  parseAbi,
  toFunctionSelector,
  type Abi,
  type AbiFunction,
  type Address,
  type PublicClient,
} from 'viem';
import { mnemonicToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import { deployAaveV3, seedAaveLiquidity, type AaveAddresses, type AaveClients, type AaveDeployStats } from '../../src/devnet/aave.js';
import {
  AAVE_ABI_SUBSETS,
  aaveDataProviderAbi,
  aaveMockTokenAbi,
  aaveOracleAbi,
  aavePoolAbi,
  aaveProviderAbi,
  loadAaveArtifact,
} from '../../src/devnet/aave-artifacts.js';
import { aaveErrorTable, decodeAaveError } from '../../src/venues/aave-errors.js';
import {
  AAVE_VARIABLE_RATE_MODE,
  MAX_UINT256,
  aaveHealthFactorE18,
  percentDiv,
  percentMul,
  wadDiv,
} from '../../src/venues/aave-math.js';

import { mockUsdcAbi, mockUsdcBytecode, priceFeedAbi, priceFeedBytecode, weth9Abi, weth9Bytecode } from '../../contracts-abi/index.js';

const MNEMONIC = 'test test test test test test test test test test test junk';
const account = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
const deployer = account(0);
const supplier = account(2);
const liquidator = account(3);
const user = account(4);
const treasury = account(9).address;

const E8 = 10n ** 8n;
const WAD = 10n ** 18n;
const USDC = 10n ** 6n;

/**
 * A fixed gas limit for Aave calls: viem's estimate is made on the latest block, and interest
 * accrual in the block the call lands in (a later timestamp on a loaded machine) can cost more,
 * starving an inner call (seen: a supply reverting with gas used 97% of the estimate).
 */
const AAVE_CALL_GAS = 1_500_000n;

describe('decodeAaveError / Aave math (pure)', () => {
  it('maps codes from Errors.sol, raw revert data and node messages', () => {
    expect(aaveErrorTable().size).toBe(90); // '1'..'91' without '48'
    expect(decodeAaveError('35')).toMatchObject({ code: '35', name: 'HEALTH_FACTOR_LOWER_THAN_LIQUIDATION_THRESHOLD' });
    const data = encodeErrorResult({ abi: parseAbi(['error Error(string)']), errorName: 'Error', args: ['45'] });
    expect(decodeAaveError(data)).toMatchObject({ code: '45', name: 'HEALTH_FACTOR_NOT_BELOW_THRESHOLD' });
    expect(decodeAaveError('execution reverted: 75')?.name).toBe('ACL_ADMIN_CANNOT_BE_ZERO');
    expect(decodeAaveError({ data })?.code).toBe('45');
    expect(decodeAaveError('48')).toBeUndefined();
    expect(decodeAaveError('execution reverted: 450')).toBeUndefined();
    expect(decodeAaveError('timeout after 45 ms')).toBeUndefined();
    expect(decodeAaveError(undefined)).toBeUndefined();
  });

  it('rounds half up like PercentageMath / WadRayMath', () => {
    expect(percentMul(1n, 5000n)).toBe(1n);
    expect(percentMul(1n, 4999n)).toBe(0n);
    expect(percentDiv(1n, 20000n)).toBe(1n);
    expect(wadDiv(2n, 3n)).toBe(666666666666666667n);
    expect(wadDiv(1n, 3n)).toBe(333333333333333333n);
    // 1 USDC unit is 100 base units; 100 × 80.5% = 80.5 rounds to 81, so HF = 81 over a 1-unit debt.
    expect(aaveHealthFactorE18({ collateralUnits: 1n, usdcPriceE8: E8, debtWei: 10n ** 10n, wethPriceE8: E8, liquidationThresholdBps: 8050n })).toBe(81n * WAD);
    // A debt worth less than one base unit counts as no debt, as in GenericLogic.
    expect(aaveHealthFactorE18({ collateralUnits: USDC, usdcPriceE8: E8, debtWei: 10n ** 10n - 1n, wethPriceE8: E8, liquidationThresholdBps: 8000n })).toBe(MAX_UINT256);
    expect(aaveHealthFactorE18({ collateralUnits: 0n, usdcPriceE8: E8, debtWei: WAD, wethPriceE8: 2000n * E8, liquidationThresholdBps: 8000n })).toBe(0n);
  });

  it('typed ABI subsets match the artifacts they restate', () => {
    for (const [name, subset] of AAVE_ABI_SUBSETS) {
      const real = loadAaveArtifact(name).abi.filter((x): x is AbiFunction => x.type === 'function');
      for (const fn of subset.filter((x): x is AbiFunction => x.type === 'function')) {
        const match = real.find((r) => toFunctionSelector(r) === toFunctionSelector(fn));
        expect(match, `${name}.${fn.name}`).toBeDefined();
        expect(match?.outputs.map((o) => o.type), `${name}.${fn.name} outputs`).toEqual(fn.outputs.map((o) => o.type));
      }
    }
  });
});

describe('Aave V3 on anvil', () => {
  let anvil: AnvilInstance;
  let publicClient: PublicClient;
  let clients: AaveClients;
  let aave: AaveAddresses;
  let stats: AaveDeployStats | undefined;
  let usdc: Address;
  let weth: Address;
  let usdcFeed: Address;
  let wethFeed: Address;
  let snapshot: `0x${string}`;
  const test = () => createTestClient({ mode: 'anvil', chain: foundry, transport: http(anvil.rpcUrl) });
  const wallet = (who: ReturnType<typeof account>) => createWalletClient({ account: who, chain: foundry, transport: http(anvil.rpcUrl) });

  async function confirm(hash: `0x${string}`): Promise<bigint> {
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    expect(receipt.status).toBe('success');
    return receipt.blockNumber;
  }

  /** Our own contracts (contracts-abi/), the ones the devnet deploys. */
  async function deployOurs(abi: Abi, bytecode: `0x${string}`, args: readonly unknown[]): Promise<Address> {
    const hash = await clients.walletClient.deployContract({ abi, bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (!receipt.contractAddress) throw new Error('not deployed');
    return getAddress(receipt.contractAddress);
  }

  async function setPrice(asset: Address, priceE8: bigint): Promise<void> {
    const feed = asset === weth ? wethFeed : usdcFeed;
    await confirm(await clients.walletClient.writeContract({ address: feed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] }));
  }

  /** Aave's account data and our recomputation from balances, prices and LT, all at one block. */
  async function position(blockNumber: bigint, who: Address = user.address) {
    const at = { blockNumber } as const;
    const [data, collateralUnits, debtWei, usdcPriceE8, wethPriceE8, cfg] = await Promise.all([
      publicClient.readContract({ ...at, address: aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [who] }),
      publicClient.readContract({ ...at, address: aave.aUsdc, abi: aaveMockTokenAbi, functionName: 'balanceOf', args: [who] }),
      publicClient.readContract({ ...at, address: aave.variableDebtWeth, abi: aaveMockTokenAbi, functionName: 'balanceOf', args: [who] }),
      publicClient.readContract({ ...at, address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [usdc] }),
      publicClient.readContract({ ...at, address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [weth] }),
      publicClient.readContract({ ...at, address: aave.dataProvider, abi: aaveDataProviderAbi, functionName: 'getReserveConfigurationData', args: [usdc] }),
    ]);
    const oursE18 = aaveHealthFactorE18({ collateralUnits, usdcPriceE8, debtWei, wethPriceE8, liquidationThresholdBps: cfg[2] });
    return { healthFactorE18: data[5], totalCollateralBaseE8: data[0], totalDebtBaseE8: data[1], oursE18, collateralUnits, debtWei, wethPriceE8 };
  }

  beforeAll(async () => {
    anvil = await startAnvil();
    // cacheTime 0: viem caches getBlockNumber for 4 s, which would pin reads to a stale block; a receipt
    // not there on the first look would otherwise wait a whole 4 s polling interval.
    publicClient = createPublicClient({ chain: foundry, transport: http(anvil.rpcUrl), cacheTime: 0, pollingInterval: 50 });
    clients = { publicClient, walletClient: wallet(deployer) };
    usdc = await deployOurs(mockUsdcAbi, mockUsdcBytecode, []);
    weth = await deployOurs(weth9Abi, weth9Bytecode, []);
    usdcFeed = await deployOurs(priceFeedAbi, priceFeedBytecode, [8, 'USDC / USD', 1n * E8, deployer.address]);
    wethFeed = await deployOurs(priceFeedAbi, priceFeedBytecode, [8, 'ETH / USD', 2000n * E8, deployer.address]);
    aave = await deployAaveV3(clients, { usdc, weth, usdcFeed, wethFeed, treasury, onStats: (s) => (stats = s) });
    await seedAaveLiquidity(clients, { aave, weth, usdc, supplier, amountWethWei: 50n * WAD, amountUsdcUnits: 100_000n * USDC });

    // The demo account: 10,000 USDC collateral, 3.5 WETH variable debt at $2000.
    const u = wallet(user);
    await confirm(await clients.walletClient.writeContract({ address: usdc, abi: aaveMockTokenAbi, functionName: 'mint', args: [user.address, 10_000n * USDC] }));
    await confirm(await u.writeContract({ address: usdc, abi: aaveMockTokenAbi, functionName: 'approve', args: [aave.pool, 10_000n * USDC] }));
    await confirm(await u.writeContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'supply', args: [usdc, 10_000n * USDC, user.address, 0], gas: AAVE_CALL_GAS }));
    await confirm(await u.writeContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [weth, 35n * WAD / 10n, AAVE_VARIABLE_RATE_MODE, 0, user.address], gas: AAVE_CALL_GAS }));
    snapshot = await test().snapshot();
  });

  afterEach(async () => {
    await test().revert({ id: snapshot });
    snapshot = await test().snapshot(); // an anvil snapshot is consumed by revert
  });

  afterAll(async () => {
    await anvil?.stop();
  });

  it('deploys the market, lists both reserves and wires the provider, oracle and our feeds', async () => {
    expect(stats?.txCount).toBe(37);
    expect(await publicClient.readContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'getReservesList' })).toEqual([usdc, weth]);
    const p = { address: aave.poolAddressesProvider, abi: aaveProviderAbi } as const;
    expect(await publicClient.readContract({ ...p, functionName: 'getPool' })).toBe(aave.pool);
    expect(await publicClient.readContract({ ...p, functionName: 'getPoolConfigurator' })).toBe(aave.poolConfigurator);
    expect(await publicClient.readContract({ ...p, functionName: 'getPriceOracle' })).toBe(aave.oracle);
    expect(await publicClient.readContract({ ...p, functionName: 'getACLManager' })).toBe(aave.aclManager);
    expect(await publicClient.readContract({ ...p, functionName: 'getPoolDataProvider' })).toBe(aave.dataProvider);
    expect(await publicClient.readContract({ address: aave.oracle, abi: aaveOracleAbi, functionName: 'getSourceOfAsset', args: [weth] })).toBe(wethFeed);
    expect(await publicClient.readContract({ address: aave.oracle, abi: aaveOracleAbi, functionName: 'getAssetPrice', args: [weth] })).toBe(2000n * E8);
    expect(await publicClient.readContract({ address: wethFeed, abi: priceFeedAbi, functionName: 'latestAnswer' })).toBe(2000n * E8);
    for (const token of [aave.aUsdc, aave.variableDebtUsdc, aave.aWeth, aave.variableDebtWeth]) {
      expect((await publicClient.getCode({ address: token }))?.length ?? 0).toBeGreaterThan(2);
    }
  });

  it('reads the risk parameters back from the data provider', async () => {
    const dp = { address: aave.dataProvider, abi: aaveDataProviderAbi } as const;
    // decimals, ltv, lt, bonus, reserveFactor, collateral, borrowing, stableBorrowing, active, frozen
    expect(await publicClient.readContract({ ...dp, functionName: 'getReserveConfigurationData', args: [usdc] })).toEqual([6n, 7700n, 8000n, 10500n, 1000n, true, true, false, true, false]);
    expect(await publicClient.readContract({ ...dp, functionName: 'getReserveConfigurationData', args: [weth] })).toEqual([18n, 8000n, 8250n, 10500n, 1500n, true, true, false, true, false]);
    expect(await publicClient.readContract({ ...dp, functionName: 'getLiquidationProtocolFee', args: [usdc] })).toBe(1000n);
  });

  it('HF after borrowing 3.5 WETH against 10,000 USDC is 8/7, and our recomputation matches to the wei', async () => {
    const pos = await position(await publicClient.getBlockNumber());
    expect(pos.collateralUnits).toBe(10_000n * USDC);
    expect(pos.totalCollateralBaseE8).toBe(10_000n * E8);
    expect(pos.totalDebtBaseE8).toBe(7_000n * E8);
    const diff = pos.healthFactorE18 - 1_142_857n * 10n ** 12n;
    expect(diff >= 0n && diff < 10n ** 12n).toBe(true); // 1.142857 to 1e-6
    expect(pos.oursE18).toBe(pos.healthFactorE18); // stricter than the 1e-9 relative asked for
  });

  it('our HF equals Aave\'s to the wei at odd amounts and prices (where both roundings matter)', async () => {
    // USDC exactly at $1 makes percentMul exact (base values are multiples of 100), hence the odd USDC prices;
    // at 0.99987603 the odd account's collateral base is 1 mod 5, so × 80% ends in .8 and rounding shows.
    const odd = wallet(account(5));
    const collateralUnits = 1_234_567_891n;
    await confirm(await clients.walletClient.writeContract({ address: usdc, abi: aaveMockTokenAbi, functionName: 'mint', args: [odd.account.address, collateralUnits] }));
    await confirm(await odd.writeContract({ address: usdc, abi: aaveMockTokenAbi, functionName: 'approve', args: [aave.pool, collateralUnits] }));
    await confirm(await odd.writeContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'supply', args: [usdc, collateralUnits, odd.account.address, 0], gas: AAVE_CALL_GAS }));
    await confirm(await odd.writeContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [weth, 432_109_876_543_210_987n, AAVE_VARIABLE_RATE_MODE, 0, odd.account.address], gas: AAVE_CALL_GAS }));
    const prices: [bigint, bigint][] = [[99_987_603n, 234_567_891_234n], [100_012_347n, 198_765_432_101n], [99_999_999n, 250_000_000_001n]];
    let checked = 0;
    for (const [usdcPriceE8, wethPriceE8] of prices) {
      await setPrice(usdc, usdcPriceE8);
      await setPrice(weth, wethPriceE8);
      const blockNumber = await publicClient.getBlockNumber();
      for (const who of [user.address, odd.account.address]) {
        const pos = await position(blockNumber, who);
        expect(pos.healthFactorE18).toBeLessThan(MAX_UINT256);
        expect(pos.oursE18, `${who} at ${usdcPriceE8}/${wethPriceE8}`).toBe(pos.healthFactorE18);
        checked += 1;
      }
    }
    expect(checked).toBe(6);
  });

  it('refuses to liquidate a healthy account (45) and to over-borrow (36), decoded by name', async () => {
    const liquidate = publicClient.simulateContract({
      account: liquidator, address: aave.pool, abi: aavePoolAbi, functionName: 'liquidationCall', args: [usdc, weth, user.address, maxUint256, false],
    });
    const err = await liquidate.then(() => undefined, (e: unknown) => e);
    expect(decodeAaveError(err)).toMatchObject({ code: '45', name: 'HEALTH_FACTOR_NOT_BELOW_THRESHOLD' });
    // The same revert through a raw eth_call (the path the deploy pipeline's diagnostics take).
    const data = encodeFunctionData({ abi: aavePoolAbi, functionName: 'liquidationCall', args: [usdc, weth, user.address, maxUint256, false] });
    const raw = await publicClient.call({ account: liquidator.address, to: aave.pool, data }).then(() => undefined, (e: unknown) => e);
    expect(decodeAaveError(raw)?.code).toBe('45');
    const borrow = publicClient.simulateContract({
      account: user, address: aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [weth, WAD, AAVE_VARIABLE_RATE_MODE, 0, user.address],
    });
    expect(decodeAaveError(await borrow.then(() => undefined, (e: unknown) => e))?.name).toBe('COLLATERAL_CANNOT_COVER_NEW_BORROW');
  });

  it('after WETH +20% the account is liquidatable and a third account repays half of its debt', async () => {
    await setPrice(weth, 2400n * E8);
    const before = await position(await publicClient.getBlockNumber());
    expect(before.wethPriceE8).toBe(2400n * E8);
    expect(before.healthFactorE18).toBeLessThan(WAD);
    expect(before.healthFactorE18).toBeGreaterThan(95n * 10n ** 16n); // so the 50% close factor applies
    expect(before.oursE18).toBe(before.healthFactorE18);

    const liq = wallet(liquidator);
    const bal = (token: Address, who: Address, blockNumber?: bigint) =>
      publicClient.readContract({ address: token, abi: aaveMockTokenAbi, functionName: 'balanceOf', args: [who], blockNumber });
    await confirm(await liq.writeContract({ address: weth, abi: aaveMockTokenAbi, functionName: 'deposit', value: 5n * WAD }));
    await confirm(await liq.writeContract({ address: weth, abi: aaveMockTokenAbi, functionName: 'approve', args: [aave.pool, maxUint256] }));
    const liqBlock = await confirm(
      await liq.writeContract({ address: aave.pool, abi: aavePoolAbi, functionName: 'liquidationCall', args: [usdc, weth, user.address, maxUint256, false], gas: AAVE_CALL_GAS }),
    );
    const [wethBefore, wethAfter, usdcAfter, treasuryAUsdc] = await Promise.all([
      bal(weth, liquidator.address, liqBlock - 1n),
      bal(weth, liquidator.address, liqBlock),
      bal(usdc, liquidator.address, liqBlock),
      bal(aave.aUsdc, treasury, liqBlock),
    ]);
    const after = await position(liqBlock);
    const coveredWei = wethBefore - wethAfter;
    // Half of the debt as of the liquidation block (1 wei of index rounding either way).
    const debtThenWei = after.debtWei + coveredWei;
    expect(coveredWei * 2n - debtThenWei).toBeGreaterThanOrEqual(-2n);
    expect(coveredWei * 2n - debtThenWei).toBeLessThanOrEqual(2n);
    expect(after.debtWei).toBeLessThan(before.debtWei);
    // Collateral seized exactly as LiquidationLogic computes it: 105% of the repaid value, minus 10% of the bonus.
    const baseUnits = (2400n * E8 * coveredWei * USDC) / (E8 * WAD);
    const seizedUnits = percentMul(baseUnits, 10500n);
    const feeUnits = percentMul(seizedUnits - percentDiv(seizedUnits, 10500n), 1000n);
    expect(usdcAfter).toBe(seizedUnits - feeUnits);
    expect(treasuryAUsdc).toBe(feeUnits);
    expect(usdcAfter / USDC).toBe(4389n); // ≈ $4,200 × 1.05 − 21
    expect(after.healthFactorE18).toBeGreaterThan(WAD);
    expect(after.oursE18).toBe(after.healthFactorE18);

    const again = publicClient.simulateContract({
      account: liquidator, address: aave.pool, abi: aavePoolAbi, functionName: 'liquidationCall', args: [usdc, weth, user.address, maxUint256, false],
    });
    expect(decodeAaveError(await again.then(() => undefined, (e: unknown) => e))?.code).toBe('45');
  });
});
