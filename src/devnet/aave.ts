/**
 * Real Aave V3 (3.0.2, from the `@aave/core-v3` npm artifacts) on the devnet, wired to OUR tokens and
 * price feeds. Order and gotchas: /work/shared/notes/aave-v3-devnet.md (G1: the Pool proxy must exist
 * before the configurator proxy; token impls take the Pool PROXY; ACL admin before ACLManager).
 */
import { LENDING_CALL_GAS } from './confirm.js';
import { encodeFunctionData, getAddress, parseAbi, parseUnits, sliceHex, zeroAddress, type Abi, type Account, type Address, type Hex } from 'viem';
import {
  createAaveTxPipeline,
  aaveAclManagerAbi,
  aaveConfiguratorAbi,
  aaveDataProviderAbi,
  aaveMockTokenAbi,
  aaveOracleAbi,
  aavePoolAbi,
  aaveProviderAbi,
  type AaveClients,
  type AaveTxPipeline,
} from './aave-artifacts.js';

export type { AaveClients } from './aave-artifacts.js';

export interface AaveDeployOptions {
  usdc: Address;
  weth: Address;
  /** Chainlink-compatible feeds, 8 decimals; Aave reads `latestAnswer()`. */
  usdcFeed: Address;
  wethFeed: Address;
  /** Receives reserve-factor and liquidation-protocol-fee aTokens. */
  treasury: Address;
  /** Called once with the deploy's cost (transactions, gas, wall time). */
  onStats?: (stats: AaveDeployStats) => void;
}

export interface AaveDeployStats {
  txCount: number;
  gasUsed: bigint;
  elapsedMs: number;
}

export interface AaveAddresses {
  poolAddressesProvider: Address;
  /** Proxies: call these (with the Pool / PoolConfigurator ABIs), never the impls. */
  pool: Address;
  poolConfigurator: Address;
  poolImpl: Address;
  poolConfiguratorImpl: Address;
  aclManager: Address;
  oracle: Address;
  dataProvider: Address;
  usdcRateStrategy: Address;
  wethRateStrategy: Address;
  aUsdc: Address;
  variableDebtUsdc: Address;
  stableDebtUsdc: Address;
  aWeth: Address;
  variableDebtWeth: Address;
  stableDebtWeth: Address;
  /** Linked logic libraries by name (SupplyLogic, BorrowLogic, ...). */
  libraries: Record<string, Address>;
  /** The WBTC reserve's tokens, listed after the market (see `listAaveReserve`). */
  aWbtc?: Address;
  variableDebtWbtc?: Address;
  stableDebtWbtc?: Address;
}

export interface AaveReserveRisk {
  ltvBps: bigint;
  liquidationThresholdBps: bigint;
  liquidationBonusBps: bigint;
  reserveFactorBps: bigint;
  /** Share of the liquidation bonus paid to the treasury. */
  liquidationProtocolFeeBps: bigint;
  borrowingEnabled: boolean;
}

/** The devnet market's risk parameters (the one place they are stated). */
export const AAVE_DEVNET_RISK: Readonly<Record<'usdc' | 'weth' | 'wbtc', AaveReserveRisk>> = {
  usdc: { ltvBps: 7700n, liquidationThresholdBps: 8000n, liquidationBonusBps: 10500n, reserveFactorBps: 1000n, liquidationProtocolFeeBps: 1000n, borrowingEnabled: true },
  weth: { ltvBps: 8000n, liquidationThresholdBps: 8250n, liquidationBonusBps: 10500n, reserveFactorBps: 1500n, liquidationProtocolFeeBps: 1000n, borrowingEnabled: true },
  // Aave V3 mainnet's WBTC (73% / 78%, 5% bonus, 20% reserve factor).
  wbtc: { ltvBps: 7300n, liquidationThresholdBps: 7800n, liquidationBonusBps: 10500n, reserveFactorBps: 2000n, liquidationProtocolFeeBps: 1000n, borrowingEnabled: true },
};

const ray = (x: string): bigint => parseUnits(x, 27);
/** deploy-v3's rateStrategyStableOne / rateStrategyVolatileOne (constructor order after the provider). */
const RATE_STRATEGIES = {
  stable: ['0.9', '0', '0.04', '0.6', '0.005', '0.6', '0.01', '0.08', '0.2'].map(ray),
  volatile: ['0.45', '0', '0.07', '3', '0.07', '3', '0.02', '0.05', '0.2'].map(ray),
};

/** Libraries without links first; FlashLoanLogic links BorrowLogic. The Pool links all but ConfiguratorLogic. */
const LOGIC_LIBRARIES = ['SupplyLogic', 'BorrowLogic', 'LiquidationLogic', 'EModeLogic', 'BridgeLogic', 'ConfiguratorLogic', 'PoolLogic', 'FlashLoanLogic'];

/** Steps 1-10 of the notes: libraries, provider, data provider, impls, ACL, oracle, then the two proxies. */
async function deployMarketCore(tx: AaveTxPipeline, deployer: Address, opts: AaveDeployOptions) {
  const libraries: Record<string, Address> = {};
  for (const name of LOGIC_LIBRARIES) libraries[name] = await tx.deploy(name, [], libraries);
  const provider = await tx.deploy('PoolAddressesProvider', ['Aave Devnet Market', deployer]);
  const setOnProvider = (fn: 'setPoolDataProvider' | 'setACLAdmin' | 'setACLManager' | 'setPriceOracle' | 'setPoolImpl' | 'setPoolConfiguratorImpl', arg: Address) =>
    tx.call(fn, provider, encodeFunctionData({ abi: aaveProviderAbi, functionName: fn, args: [arg] }));

  const dataProvider = await tx.deploy('AaveProtocolDataProvider', [provider]);
  await setOnProvider('setPoolDataProvider', dataProvider);
  const poolImpl = await tx.deploy('Pool', [provider], libraries);
  const poolConfiguratorImpl = await tx.deploy('PoolConfigurator', [], libraries);
  // The ACLManager constructor requires a non-zero ACL admin on the provider.
  await setOnProvider('setACLAdmin', deployer);
  const aclManager = await tx.deploy('ACLManager', [provider]);
  await setOnProvider('setACLManager', aclManager);
  for (const fn of ['addPoolAdmin', 'addRiskAdmin', 'addEmergencyAdmin'] as const) {
    await tx.call(fn, aclManager, encodeFunctionData({ abi: aaveAclManagerAbi, functionName: fn, args: [deployer] }));
  }
  // Base currency USD (address 0) with 8 decimals, the unit of Chainlink USD feeds.
  const oracle = await tx.deploy('AaveOracle', [provider, [opts.usdc, opts.weth], [opts.usdcFeed, opts.wethFeed], zeroAddress, zeroAddress, 10n ** 8n]);
  await setOnProvider('setPriceOracle', oracle);
  // G1: PoolConfigurator.initialize caches provider.getPool(), so the Pool proxy must exist first.
  await setOnProvider('setPoolImpl', poolImpl);
  await setOnProvider('setPoolConfiguratorImpl', poolConfiguratorImpl);
  const usdcRateStrategy = await tx.deploy('DefaultReserveInterestRateStrategy', [provider, ...RATE_STRATEGIES.stable]);
  const wethRateStrategy = await tx.deploy('DefaultReserveInterestRateStrategy', [provider, ...RATE_STRATEGIES.volatile]);
  return { libraries, provider, dataProvider, poolImpl, poolConfiguratorImpl, aclManager, oracle, usdcRateStrategy, wethRateStrategy };
}

function reserveInput(
  symbol: string, underlying: Address, decimals: number, rateStrategy: Address, impls: { aToken: Address; stableDebt: Address; variableDebt: Address }, treasury: Address,
) {
  return {
    aTokenImpl: impls.aToken, stableDebtTokenImpl: impls.stableDebt, variableDebtTokenImpl: impls.variableDebt,
    underlyingAssetDecimals: decimals, interestRateStrategyAddress: rateStrategy, underlyingAsset: underlying,
    treasury, incentivesController: zeroAddress,
    aTokenName: `Aave Devnet ${symbol}`, aTokenSymbol: `aDev${symbol}`,
    variableDebtTokenName: `Aave Devnet Variable Debt ${symbol}`, variableDebtTokenSymbol: `variableDebtDev${symbol}`,
    stableDebtTokenName: `Aave Devnet Stable Debt ${symbol}`, stableDebtTokenSymbol: `stableDebtDev${symbol}`,
    params: '0x10' as Hex,
  };
}

/** Collateral before any supply (G9): a first supply only turns collateral on when LTV is non-zero. */
async function configureReserve(tx: AaveTxPipeline, configurator: Address, asset: Address, risk: AaveReserveRisk): Promise<void> {
  const cfg = (data: Hex, label: string) => tx.call(label, configurator, data);
  await cfg(encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'configureReserveAsCollateral', args: [asset, risk.ltvBps, risk.liquidationThresholdBps, risk.liquidationBonusBps] }), 'configureReserveAsCollateral');
  await cfg(encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'setReserveBorrowing', args: [asset, risk.borrowingEnabled] }), 'setReserveBorrowing');
  await cfg(encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'setReserveFactor', args: [asset, risk.reserveFactorBps] }), 'setReserveFactor');
  await cfg(encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'setLiquidationProtocolFee', args: [asset, risk.liquidationProtocolFeeBps] }), 'setLiquidationProtocolFee');
}

/** Deploy and configure an Aave V3 market with a USDC and a WETH reserve, priced by the given feeds. */
export async function deployAaveV3(clients: AaveClients, opts: AaveDeployOptions): Promise<AaveAddresses> {
  const started = performance.now();
  const { publicClient } = clients;
  const deployer = clients.walletClient.account.address;
  // Loosely typed on purpose: each result is narrowed by a cast where it is read.
  const read = (address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []) =>
    publicClient.readContract({ address, abi, functionName, args });
  const [usdcDecimals, wethDecimals] = (await Promise.all([
    read(opts.usdc, aaveMockTokenAbi, 'decimals'),
    read(opts.weth, aaveMockTokenAbi, 'decimals'),
  ])) as [number, number];

  const tx = await createAaveTxPipeline(clients);
  const core = await deployMarketCore(tx, deployer, opts);
  await tx.flush();
  const [pool, poolConfigurator] = (await Promise.all([
    read(core.provider, aaveProviderAbi, 'getPool'),
    read(core.provider, aaveProviderAbi, 'getPoolConfigurator'),
  ])) as [Address, Address];

  // Token impls are bound to the Pool proxy: initReserves requires initializingPool == POOL.
  const impls = {
    aToken: await tx.deploy('AToken', [pool]),
    stableDebt: await tx.deploy('StableDebtToken', [pool]),
    variableDebt: await tx.deploy('VariableDebtToken', [pool]),
  };
  const inputs = [
    reserveInput('USDC', opts.usdc, usdcDecimals, core.usdcRateStrategy, impls, opts.treasury),
    reserveInput('WETH', opts.weth, wethDecimals, core.wethRateStrategy, impls, opts.treasury),
  ];
  await tx.call('initReserves', poolConfigurator, encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'initReserves', args: [inputs] }));
  await configureReserve(tx, poolConfigurator, opts.usdc, AAVE_DEVNET_RISK.usdc);
  await configureReserve(tx, poolConfigurator, opts.weth, AAVE_DEVNET_RISK.weth);
  await tx.flush();

  const [usdcTokens, wethTokens] = (await Promise.all([
    read(core.dataProvider, aaveDataProviderAbi, 'getReserveTokensAddresses', [opts.usdc]),
    read(core.dataProvider, aaveDataProviderAbi, 'getReserveTokensAddresses', [opts.weth]),
  ])) as [readonly [Address, Address, Address], readonly [Address, Address, Address]];

  opts.onStats?.({ ...tx.stats, elapsedMs: performance.now() - started });
  return {
    poolAddressesProvider: core.provider, pool, poolConfigurator,
    poolImpl: core.poolImpl, poolConfiguratorImpl: core.poolConfiguratorImpl,
    aclManager: core.aclManager, oracle: core.oracle, dataProvider: core.dataProvider,
    usdcRateStrategy: core.usdcRateStrategy, wethRateStrategy: core.wethRateStrategy,
    aUsdc: usdcTokens[0], stableDebtUsdc: usdcTokens[1], variableDebtUsdc: usdcTokens[2],
    aWeth: wethTokens[0], stableDebtWeth: wethTokens[1], variableDebtWeth: wethTokens[2],
    libraries: core.libraries,
  };
}

export interface SeedAaveOptions {
  aave: Pick<AaveAddresses, 'pool'>;
  weth: Address;
  usdc: Address;
  /** The liquidity provider: a local account, or an address the node signs for (anvil's unlocked accounts). */
  supplier: Account | Address;
  /** Wrapped from the supplier's ETH with WETH9 `deposit()`. */
  amountWethWei: bigint;
  /** Minted to the supplier by the wallet client's account (the token's owner). */
  amountUsdcUnits: bigint;
}

/** Fund a liquidity provider and supply its WETH and USDC to the Pool, so a demo account can borrow. */
export async function seedAaveLiquidity(clients: AaveClients, opts: SeedAaveOptions): Promise<void> {
  const { publicClient, walletClient } = clients;
  const supplierAddress = typeof opts.supplier === 'string' ? opts.supplier : opts.supplier.address;
  const write = async (account: Account | Address, to: Address, data: Hex, label: string, value?: bigint) => {
    const gas = to === opts.aave.pool ? LENDING_CALL_GAS : undefined;
    const hash = await walletClient.sendTransaction({ account, chain: walletClient.chain, to, data, value, gas });
    // A local devnet mines in milliseconds: poll faster than viem's 4 s default.
    const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    if (receipt.status !== 'success') throw new Error(`seedAaveLiquidity: ${label} reverted (tx ${hash})`);
  };
  const legs = [
    { asset: opts.weth, amount: opts.amountWethWei },
    { asset: opts.usdc, amount: opts.amountUsdcUnits },
  ];
  if (opts.amountWethWei > 0n) {
    await write(opts.supplier, opts.weth, encodeFunctionData({ abi: aaveMockTokenAbi, functionName: 'deposit' }), 'WETH deposit', opts.amountWethWei);
  }
  if (opts.amountUsdcUnits > 0n) {
    const mint = encodeFunctionData({ abi: aaveMockTokenAbi, functionName: 'mint', args: [supplierAddress, opts.amountUsdcUnits] });
    await write(walletClient.account, opts.usdc, mint, 'USDC mint');
  }
  for (const { asset, amount } of legs) {
    if (amount === 0n) continue;
    await write(opts.supplier, asset, encodeFunctionData({ abi: aaveMockTokenAbi, functionName: 'approve', args: [opts.aave.pool, amount] }), 'approve');
    const supply = encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [asset, amount, supplierAddress, 0] });
    await write(opts.supplier, opts.aave.pool, supply, 'supply');
  }
}

/** Configurator setters outside `aaveConfiguratorAbi` (caps are in whole tokens; 0 = unlimited). */
const aaveCapsAbi = parseAbi([
  'function setSupplyCap(address asset, uint256 newSupplyCap)',
  'function setBorrowCap(address asset, uint256 newBorrowCap)',
]);

/** EIP-1967 implementation slot: Aave's token proxies keep their impl there. */
const IMPLEMENTATION_SLOT = '0x360894a13ba1a3210667c828492db98dca3e2076cc3735a920a3ca505d382bbc';

export interface AaveListingOptions {
  aave: Pick<AaveAddresses, 'pool' | 'poolConfigurator' | 'oracle' | 'dataProvider' | 'aWeth' | 'stableDebtWeth' | 'variableDebtWeth'>;
  asset: Address;
  symbol: string;
  /** Chainlink-compatible USD feed, 8 decimals. */
  feed: Address;
  rateStrategy: Address;
  risk: AaveReserveRisk;
  supplyCapTokens: bigint;
  borrowCapTokens: bigint;
  treasury: Address;
}

export interface AaveReserveTokens {
  aToken: Address;
  stableDebtToken: Address;
  variableDebtToken: Address;
}

async function implementationOf(clients: AaveClients, proxy: Address): Promise<Address> {
  const word = await clients.publicClient.getStorageAt({ address: proxy, slot: IMPLEMENTATION_SLOT });
  if (!word || BigInt(word) === 0n) throw new Error(`listAaveReserve: ${proxy} has no EIP-1967 implementation`);
  return getAddress(sliceHex(word, 12));
}

/**
 * List one more reserve on a deployed market, as governance does on mainnet: oracle source first,
 * then initReserves (reusing the market's token impls, read from the WETH reserve's proxies),
 * risk parameters and caps. The caller is pool admin.
 */
export async function listAaveReserve(clients: AaveClients, o: AaveListingOptions): Promise<AaveReserveTokens> {
  const [aToken, stableDebt, variableDebt] = await Promise.all(
    [o.aave.aWeth, o.aave.stableDebtWeth, o.aave.variableDebtWeth].map((proxy) => implementationOf(clients, proxy)),
  );
  const decimals = (await clients.publicClient.readContract({ address: o.asset, abi: aaveMockTokenAbi, functionName: 'decimals' })) as number;
  const tx = await createAaveTxPipeline(clients);
  await tx.call('setAssetSources', o.aave.oracle, encodeFunctionData({ abi: aaveOracleAbi, functionName: 'setAssetSources', args: [[o.asset], [o.feed]] }));
  const input = reserveInput(o.symbol, o.asset, decimals, o.rateStrategy, { aToken: aToken!, stableDebt: stableDebt!, variableDebt: variableDebt! }, o.treasury);
  await tx.call('initReserves', o.aave.poolConfigurator, encodeFunctionData({ abi: aaveConfiguratorAbi, functionName: 'initReserves', args: [[input]] }));
  await configureReserve(tx, o.aave.poolConfigurator, o.asset, o.risk);
  await tx.call('setSupplyCap', o.aave.poolConfigurator, encodeFunctionData({ abi: aaveCapsAbi, functionName: 'setSupplyCap', args: [o.asset, o.supplyCapTokens] }));
  await tx.call('setBorrowCap', o.aave.poolConfigurator, encodeFunctionData({ abi: aaveCapsAbi, functionName: 'setBorrowCap', args: [o.asset, o.borrowCapTokens] }));
  await tx.flush();
  const tokens = (await clients.publicClient.readContract({
    address: o.aave.dataProvider,
    abi: aaveDataProviderAbi,
    functionName: 'getReserveTokensAddresses',
    args: [o.asset],
  })) as readonly [Address, Address, Address];
  return { aToken: tokens[0], stableDebtToken: tokens[1], variableDebtToken: tokens[2] };
}

/** Mint `amount` of a mock token (anyone may mint Aave's MintableERC20) to the supplier and supply it. */
export async function supplyMintedToAave(clients: AaveClients, o: { pool: Address; asset: Address; amount: bigint }): Promise<void> {
  const me = clients.walletClient.account.address;
  const tx = await createAaveTxPipeline(clients);
  await tx.call('mint', o.asset, encodeFunctionData({ abi: aaveMockTokenAbi, functionName: 'mint', args: [me, o.amount] }));
  await tx.call('approve', o.asset, encodeFunctionData({ abi: aaveMockTokenAbi, functionName: 'approve', args: [o.pool, o.amount] }));
  await tx.call('supply', o.pool, encodeFunctionData({ abi: aavePoolAbi, functionName: 'supply', args: [o.asset, o.amount, me, 0] }));
  await tx.flush();
}
