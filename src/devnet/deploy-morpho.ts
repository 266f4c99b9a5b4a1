import { encodeAbiParameters, getAddress, keccak256, parseEther, type Abi, type Address, type Hex } from 'viem';
import { morphoAbi, morphoFeedOracleAbi, morphoFeedOracleBytecode, weth9Abi } from '../../contracts-abi/index.js';
import type { Clients } from '../chain/clients.js';
import { LENDING_CALL_GAS, confirm } from './confirm.js';
import { ensureMorphoArtifacts } from './morpho-artifacts.js';

/**
 * Morpho Blue on the devnet, from its real bytecode (compiled from the npm package, see
 * morpho-artifacts.ts): the singleton owned by the deployer, the package's IrmMock (borrow APR =
 * utilization), our IOracle adapter over the devnet's USDC/USD and ETH/USD feeds, one market
 * lending WETH against USDC collateral at LLTV 86%, and the deployer as its lender.
 */

/** One of Morpho's usual LLTVs (governance enables them one by one). */
export const DEVNET_MORPHO_LLTV = 86n * 10n ** 16n;
/** WETH the deployer supplies to the market: room to borrow for every demo and test. */
export const DEVNET_MORPHO_SUPPLY_WEI = parseEther('1000');

/** JSON-safe: lltv is a decimal string (WAD). */
export interface MorphoDevnetMarketParams {
  loanToken: Address;
  collateralToken: Address;
  oracle: Address;
  irm: Address;
  lltv: string;
}

export interface MorphoDevnetDeployment {
  address: Address;
  irm: Address;
  oracle: Address;
  /** keccak256 of the ABI-encoded MarketParams, as Morpho's MarketParamsLib.id computes it. */
  marketId: Hex;
  marketParams: MorphoDevnetMarketParams;
}

/** MarketParamsLib.id: keccak256 of the five fields, each a 32-byte word. */
export function morphoMarketId(p: { loanToken: Address; collateralToken: Address; oracle: Address; irm: Address; lltv: bigint }): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
      [p.loanToken, p.collateralToken, p.oracle, p.irm, p.lltv],
    ),
  );
}

/** The struct Morpho's functions take, from the JSON-safe params. */
export function morphoParamsArg(p: MorphoDevnetMarketParams) {
  return { loanToken: p.loanToken, collateralToken: p.collateralToken, oracle: p.oracle, irm: p.irm, lltv: BigInt(p.lltv) };
}

async function deploy(c: Clients, what: string, abi: Abi, bytecode: Hex, args: readonly unknown[]): Promise<Address> {
  const receipt = await confirm(c, c.walletClient.deployContract({ abi, bytecode, args }), `deploying ${what}`);
  if (!receipt.contractAddress) throw new Error(`devnet deploy: ${what} has no contract address`);
  return getAddress(receipt.contractAddress);
}

export async function deployMorpho(
  deployer: Clients,
  a: { weth: Address; usdc: Address; ethUsdFeed: Address; usdcUsdFeed: Address },
): Promise<MorphoDevnetDeployment> {
  const artifacts = await ensureMorphoArtifacts();
  const owner = deployer.walletClient.account.address;
  const address = await deploy(deployer, 'Morpho', artifacts.Morpho.abi, artifacts.Morpho.bytecode, [owner]);
  const irm = await deploy(deployer, 'IrmMock', artifacts.IrmMock.abi, artifacts.IrmMock.bytecode, []);
  const oracle = await deploy(deployer, 'MorphoFeedOracle', morphoFeedOracleAbi, morphoFeedOracleBytecode, [a.usdcUsdFeed, a.ethUsdFeed, 6, 18]);
  const params = { loanToken: a.weth, collateralToken: a.usdc, oracle, irm, lltv: DEVNET_MORPHO_LLTV };
  const m = { address, abi: morphoAbi } as const;
  const w = deployer.walletClient;
  await confirm(deployer, w.writeContract({ ...m, functionName: 'enableIrm', args: [irm] }), 'morpho enableIrm');
  await confirm(deployer, w.writeContract({ ...m, functionName: 'enableLltv', args: [DEVNET_MORPHO_LLTV] }), 'morpho enableLltv');
  await confirm(deployer, w.writeContract({ ...m, functionName: 'createMarket', args: [params] }), 'morpho createMarket');
  await confirm(deployer, w.writeContract({ address: a.weth, abi: weth9Abi, functionName: 'deposit', value: DEVNET_MORPHO_SUPPLY_WEI }), 'WETH deposit');
  await confirm(deployer, w.writeContract({ address: a.weth, abi: weth9Abi, functionName: 'approve', args: [address, DEVNET_MORPHO_SUPPLY_WEI] }), 'approve WETH');
  await confirm(deployer, w.writeContract({ ...m, functionName: 'supply', args: [params, DEVNET_MORPHO_SUPPLY_WEI, 0n, owner, '0x'], gas: LENDING_CALL_GAS }), 'morpho supply');
  const marketId = morphoMarketId(params);
  const stored = await deployer.publicClient.readContract({ ...m, functionName: 'idToMarketParams', args: [marketId] });
  if (getAddress(stored[0]) !== getAddress(a.weth)) throw new Error(`devnet deploy: morpho market ${marketId} not found after createMarket`);
  return { address, irm, oracle, marketId, marketParams: { ...params, lltv: params.lltv.toString() } };
}
