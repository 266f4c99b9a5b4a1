import { erc20Abi, zeroAddress, type Chain, type ContractFunctionParameters, type PublicClient, type Transport } from 'viem';
import { aaveOracleAbi, aaveProtocolDataProviderAbi, poolAbi, poolAddressesProviderAbi } from '../../contracts-abi/index.js';
import type { Address } from '../core/types.js';
import type { AaveReserveHolding, AaveVenueAccount, AaveVenueSpec, AssetId, AssetSpec, VenueId } from '../portfolio/model.js';
import { aaveBorrowAprE18 } from './venue-rates.js';

/**
 * Aave V3's reads for the portfolio snapshot. The market's contracts and reserves are resolved
 * once from the PoolAddressesProvider (`resolveAave`); each tick then reads, in the snapshot's one
 * multicall, the account data, the user's configuration bitmap, the oracle prices and, for EVERY
 * reserve of the pool, the user's aToken / debt balances and the reserve's risk parameters. Every
 * reserve is kept, touched or not: the model must see a reserve the portfolio does not declare,
 * and the LT/LTV/price of one the keeper is about to supply or borrow for the first time.
 * Last, for each asset the venue shorts, the reserve's `getReserveData` for its variable borrow
 * rate (the short's cost, src/venues/venue-rates.ts).
 */

type Client = PublicClient<Transport, Chain>;

/** Aave's base currency must be USD with 8 decimals: the model reads its prices as USD E8. */
const BASE_CURRENCY_UNIT = 10n ** 8n;

export interface AaveReserveRef {
  /** The underlying token. */
  readonly asset: Address;
  /** The reserve's index in the user configuration bitmap (ReserveData.id; not the list position:
   *  getReservesList skips dropped reserves, the ids do not move). */
  readonly id: number;
  readonly aToken: Address;
  /** Zero address when the market has no stable debt token for the reserve. */
  readonly stableDebt: Address;
  readonly variableDebt: Address;
}

export interface AaveMarket {
  readonly venue: VenueId;
  readonly pool: Address;
  readonly dataProvider: Address;
  readonly oracle: Address;
  /** In getReservesList order. */
  readonly reserves: readonly AaveReserveRef[];
}

type ReserveData = { id: number; aTokenAddress: Address; stableDebtTokenAddress: Address; variableDebtTokenAddress: Address };
type AccountData = readonly [bigint, bigint, bigint, bigint, bigint, bigint];
type ReserveConfig = readonly [bigint, bigint, bigint, bigint, bigint, boolean, boolean, boolean, boolean, boolean];

/** Pool, data provider, oracle and every reserve's tokens and id, from the addresses provider. */
export async function resolveAave(client: Client, spec: AaveVenueSpec, blockNumber?: bigint): Promise<AaveMarket> {
  const at = blockNumber === undefined ? {} : { blockNumber };
  const p = { address: spec.addressesProvider, abi: poolAddressesProviderAbi, ...at } as const;
  const [pool, oracle, dataProvider] = await Promise.all([
    client.readContract({ ...p, functionName: 'getPool' }),
    client.readContract({ ...p, functionName: 'getPriceOracle' }),
    client.readContract({ ...p, functionName: 'getPoolDataProvider' }),
  ]);
  const [assets, unit] = await Promise.all([
    client.readContract({ address: pool, abi: poolAbi, functionName: 'getReservesList', ...at }),
    client.readContract({ address: oracle, abi: aaveOracleAbi, functionName: 'BASE_CURRENCY_UNIT', ...at }),
  ]);
  if (unit !== BASE_CURRENCY_UNIT) throw new Error(`aave venue ${spec.id}: oracle ${oracle} base currency unit ${unit}, expected 1e8 (USD)`);
  const reserves = await Promise.all(
    assets.map(async (asset): Promise<AaveReserveRef> => {
      const d = (await client.readContract({ address: pool, abi: poolAbi, functionName: 'getReserveData', args: [asset], ...at })) as ReserveData;
      return { asset, id: Number(d.id), aToken: d.aTokenAddress, stableDebt: d.stableDebtTokenAddress, variableDebt: d.variableDebtTokenAddress };
    }),
  );
  return { venue: spec.id, pool, dataProvider, oracle, reserves };
}

const balanceOf = (token: Address, account: Address): ContractFunctionParameters => ({
  address: token,
  abi: erc20Abi,
  functionName: 'balanceOf',
  args: [account],
});

const hasStableDebt = (r: AaveReserveRef): boolean => r.stableDebt.toLowerCase() !== zeroAddress;

function reserveCalls(m: AaveMarket, r: AaveReserveRef, account: Address): ContractFunctionParameters[] {
  return [
    balanceOf(r.aToken, account),
    balanceOf(r.variableDebt, account),
    ...(hasStableDebt(r) ? [balanceOf(r.stableDebt, account)] : []),
    { address: m.dataProvider, abi: aaveProtocolDataProviderAbi, functionName: 'getReserveConfigurationData', args: [r.asset] },
  ];
}

/** An asset the venue shorts (a key of its swapPools), when the pool lists its token as a reserve. */
export interface AaveRateAsset {
  readonly id: AssetId;
  readonly token: Address;
}

/**
 * The assets whose borrow rate is read, in swapPools order. An asset whose token is no reserve of
 * the pool is left out (its rate is unknown): getReserveData answers zeros for it, not a revert.
 */
export function aaveRateAssets(spec: AaveVenueSpec, m: AaveMarket, assets: readonly AssetSpec[]): AaveRateAsset[] {
  return Object.keys(spec.swapPools).flatMap((id) => {
    const token = assets.find((a) => a.id === id)?.token;
    return token && m.reserves.some((r) => r.asset.toLowerCase() === token.toLowerCase()) ? [{ id, token }] : [];
  });
}

/** Account data, user configuration, reserves list (checked), prices, each reserve's reads, then the rates. */
export function aaveReadCalls(m: AaveMarket, account: Address, rateAssets: readonly AaveRateAsset[] = []): ContractFunctionParameters[] {
  return [
    { address: m.pool, abi: poolAbi, functionName: 'getUserAccountData', args: [account] },
    { address: m.pool, abi: poolAbi, functionName: 'getUserConfiguration', args: [account] },
    // Re-read so a reserve listed after start is noticed (the reader resolves the market again).
    { address: m.pool, abi: poolAbi, functionName: 'getReservesList' },
    { address: m.oracle, abi: aaveOracleAbi, functionName: 'getAssetsPrices', args: [m.reserves.map((r) => r.asset)] },
    ...m.reserves.flatMap((r) => reserveCalls(m, r, account)),
    ...rateAssets.map((x): ContractFunctionParameters => ({ address: m.pool, abi: poolAbi, functionName: 'getReserveData', args: [x.token] })),
  ];
}

/** True when the pool's reserves list in these results is not the one `m` was resolved with. */
export function aaveReservesChanged(m: AaveMarket, results: readonly unknown[]): boolean {
  const list = results[2] as readonly Address[];
  return list.length !== m.reserves.length || list.some((a, i) => a.toLowerCase() !== m.reserves[i]?.asset.toLowerCase());
}

/** UserConfiguration.isUsingAsCollateral: bit 2 * id + 1 of the user's bitmap. */
export function isUsingAsCollateral(userConfig: bigint, reserveId: number): boolean {
  return ((userConfig >> BigInt(2 * reserveId + 1)) & 1n) === 1n;
}

/** The account from the results of `aaveReadCalls(m, account, rateAssets)`, in their order. */
export function parseAaveAccount(spec: AaveVenueSpec, m: AaveMarket, results: readonly unknown[], rateAssets: readonly AaveRateAsset[] = []): AaveVenueAccount {
  if (aaveReservesChanged(m, results)) throw new Error(`aave venue ${spec.id}: the pool's reserves list changed since it was resolved`);
  const data = results[0] as AccountData;
  const userConfig = (results[1] as { data: bigint }).data;
  const prices = results[3] as readonly bigint[];
  const reserves: Record<string, AaveReserveHolding> = {};
  let i = 4;
  m.reserves.forEach((r, k) => {
    const supplied = results[i++] as bigint;
    const variableDebt = results[i++] as bigint;
    const stableDebt = hasStableDebt(r) ? (results[i++] as bigint) : 0n;
    const config = results[i++] as ReserveConfig;
    const liquidationThresholdBps = config[2];
    reserves[r.asset.toLowerCase()] = {
      token: r.asset,
      decimals: Number(config[0]),
      priceE8: prices[k] as bigint,
      suppliedUnits: supplied,
      debtUnits: variableDebt + stableDebt,
      // Aave itself counts a reserve as collateral only with the flag AND a non-zero threshold.
      usedAsCollateral: isUsingAsCollateral(userConfig, r.id) && liquidationThresholdBps !== 0n,
      liquidationThresholdBps,
      ltvBps: config[1],
    };
  });
  const shortCostAprE18: Record<AssetId, bigint> = {};
  for (const x of rateAssets) {
    const rate = (results[i++] as { currentVariableBorrowRate?: unknown } | undefined)?.currentVariableBorrowRate;
    if (typeof rate !== 'bigint') throw new Error(`aave venue ${spec.id}: getReserveData(${x.token}) has no currentVariableBorrowRate`);
    shortCostAprE18[x.id] = aaveBorrowAprE18(rate);
  }
  if (i !== results.length) throw new Error(`aave venue ${spec.id}: ${results.length} results, expected ${i}`);
  const [totalCollateralBaseE8, totalDebtBaseE8, , liquidationThresholdBps, ltvBps, healthFactorE18] = data;
  return {
    kind: 'aave',
    venue: spec.id,
    reserves,
    accountData: { totalCollateralBaseE8, totalDebtBaseE8, liquidationThresholdBps, ltvBps, healthFactorE18 },
    ...(rateAssets.length > 0 ? { shortCostAprE18 } : {}),
  };
}
