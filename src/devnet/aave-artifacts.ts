import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  encodeDeployData,
  getContractAddress,
  parseAbi,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { decodeAaveError } from '../venues/aave-errors.js';

/**
 * Aave V3 (3.0.2) contracts straight from the `@aave/core-v3` npm artifacts, no solc, no Hardhat:
 * loading, library linking, a pipelined sender for their deployment, and typed ABI subsets.
 * The core contracts are BUSL-1.1; using the published artifacts on a local devnet is their intended use.
 */

type LinkReferences = Record<string, Record<string, { start: number; length: number }[]>>;

export interface AaveArtifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
  linkReferences: LinkReferences;
}

/** Root of the installed `@aave/core-v3` package. */
export function aavePackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@aave/core-v3/package.json'));
}

let index: Map<string, string> | undefined;

/** contractName -> artifact path; names are unique across the package's artifacts (checked when indexing). */
function artifactIndex(): Map<string, string> {
  if (index) return index;
  const found = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json') && !entry.name.endsWith('.dbg.json')) {
        const name = entry.name.slice(0, -'.json'.length);
        // Only the first artifact of a duplicated name is kept; none of the ones we deploy are duplicated.
        if (!found.has(name)) found.set(name, path);
      }
    }
  };
  walk(join(aavePackageDir(), 'artifacts', 'contracts'));
  index = found;
  return found;
}

const cache = new Map<string, AaveArtifact>();

/** Load one artifact by contract name, e.g. `Pool`, `MintableERC20`. */
export function loadAaveArtifact(name: string): AaveArtifact {
  const hit = cache.get(name);
  if (hit) return hit;
  const path = artifactIndex().get(name);
  if (!path) throw new Error(`@aave/core-v3 has no artifact named ${name}`);
  const json = JSON.parse(readFileSync(path, 'utf8')) as AaveArtifact;
  if (json.contractName !== name || !json.bytecode.startsWith('0x')) {
    throw new Error(`unexpected artifact shape at ${path}`);
  }
  const artifact: AaveArtifact = {
    contractName: json.contractName,
    abi: json.abi,
    bytecode: json.bytecode,
    linkReferences: json.linkReferences ?? {},
  };
  cache.set(name, artifact);
  return artifact;
}

/** Library names (not file paths) the artifact's creation code must be linked with. */
export function linkedLibraryNames(artifact: AaveArtifact): string[] {
  return Object.values(artifact.linkReferences).flatMap((libs) => Object.keys(libs));
}

/**
 * Splice library addresses into the creation code at the byte offsets of `linkReferences`
 * (the `__$<hash>$__` placeholders). Every referenced library must be given, and no placeholder may remain.
 */
export function linkBytecode(artifact: AaveArtifact, libraries: Readonly<Record<string, Address>>): Hex {
  let code = artifact.bytecode.slice(2);
  for (const libs of Object.values(artifact.linkReferences)) {
    for (const [lib, sites] of Object.entries(libs)) {
      const address = libraries[lib];
      if (!address) throw new Error(`${artifact.contractName} needs library ${lib}, which was not given`);
      const hex = address.slice(2).toLowerCase();
      for (const { start, length } of sites) {
        if (length !== 20) throw new Error(`${artifact.contractName}: link site of ${length} bytes`);
        code = code.slice(0, start * 2) + hex + code.slice((start + length) * 2);
      }
    }
  }
  if (code.includes('__$')) throw new Error(`${artifact.contractName}: unlinked placeholder left in bytecode`);
  return `0x${code}`;
}

export interface AaveClients {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
}

export interface AaveTxPipeline {
  readonly stats: { txCount: number; gasUsed: bigint };
  /** Send the creation tx of an Aave artifact (linked with `libraries`); returns its address, known from the nonce. */
  deploy(name: string, args: readonly unknown[], libraries?: Record<string, Address>): Promise<Address>;
  call(label: string, to: Address, data: Hex): Promise<void>;
  /** Wait for every tx sent so far; throws, with Aave's decoded reason, if one reverted. */
  flush(): Promise<void>;
}

/**
 * Queued txs cannot be gas-estimated before their predecessors are mined, so each gets this limit.
 * The largest (PoolConfigurator creation, initReserves) use ~5.3M; 2^24 is the per-tx cap of recent
 * hardforks (EIP-7825), which anvil enforces.
 */
const TX_GAS_LIMIT = 15_000_000n;

interface Sent {
  label: string;
  hash: Hex;
  to: Address | undefined;
  data: Hex;
}

/**
 * Pipelined sends with explicit nonces: a tx goes out before its predecessor is mined (the chain runs them
 * in nonce order, so on-chain dependencies hold); receipts are checked in bulk at `flush()`, the only
 * points where we need to read state back.
 */
export async function createAaveTxPipeline(clients: AaveClients): Promise<AaveTxPipeline> {
  const { publicClient, walletClient } = clients;
  const account = walletClient.account;
  const from = account.address;
  const [block, startNonce] = await Promise.all([
    publicClient.getBlock(),
    publicClient.getTransactionCount({ address: from, blockTag: 'pending' }),
  ]);
  const maxPriorityFeePerGas = 1_000_000_000n;
  // Twice the base fee outlasts several full blocks; our blocks stay under the target, so it only falls.
  const maxFeePerGas = (block.baseFeePerGas ?? (await publicClient.getGasPrice())) * 2n + maxPriorityFeePerGas;
  let nonce = startNonce;
  let pending: Sent[] = [];
  const stats = { txCount: 0, gasUsed: 0n };

  async function send(label: string, to: Address | undefined, data: Hex): Promise<number> {
    const used = nonce++;
    const hash = await walletClient.sendTransaction({
      account, chain: walletClient.chain, to: to ?? null, data, nonce: used, gas: TX_GAS_LIMIT, maxFeePerGas, maxPriorityFeePerGas,
    });
    pending.push({ label, hash, to, data });
    return used;
  }

  async function revertReason(tx: Sent, blockNumber: bigint): Promise<string> {
    try {
      // Under automine every tx has its own block, so the parent block is its exact pre-state
      // (with interval mining it is only close: earlier txs of the same block are missing).
      await publicClient.call({ account: from, to: tx.to, data: tx.data, blockNumber: blockNumber - 1n });
      return 'no revert on replay (out of gas?)';
    } catch (err) {
      const aave = decodeAaveError(err);
      return aave ? `Aave error ${aave.code} ${aave.name}` : String(err instanceof Error ? err.message.split('\n')[0] : err);
    }
  }

  return {
    stats,
    async deploy(name: string, args: readonly unknown[], libraries: Record<string, Address> = {}): Promise<Address> {
      const artifact = loadAaveArtifact(name);
      const bytecode = linkBytecode(artifact, libraries);
      const used = await send(name, undefined, encodeDeployData({ abi: artifact.abi as Abi, bytecode, args }));
      return getContractAddress({ from, nonce: BigInt(used) });
    },
    async call(label: string, to: Address, data: Hex): Promise<void> {
      await send(label, to, data);
    },
    async flush(): Promise<void> {
      const batch = pending;
      pending = [];
      const receipts = await Promise.all(
        batch.map((tx) => publicClient.waitForTransactionReceipt({ hash: tx.hash, pollingInterval: 20, timeout: 120_000 })),
      );
      for (const [i, receipt] of receipts.entries()) {
        stats.txCount += 1;
        stats.gasUsed += receipt.gasUsed;
        const tx = batch[i];
        if (tx && receipt.status !== 'success') {
          throw new Error(`aave deploy: ${tx.label} reverted: ${await revertReason(tx, receipt.blockNumber)}`);
        }
      }
    },
  };
}

/*
 * Typed subsets of the ABIs we call. The artifacts' JSON ABIs lose viem's inference, so the functions are
 * restated here; a test checks every one of them against the artifact's own ABI.
 */

export const aaveProviderAbi = parseAbi([
  'function setPoolDataProvider(address newDataProvider)',
  'function setACLAdmin(address newAclAdmin)',
  'function setACLManager(address newAclManager)',
  'function setPriceOracle(address newPriceOracle)',
  'function setPoolImpl(address newPoolImpl)',
  'function setPoolConfiguratorImpl(address newPoolConfiguratorImpl)',
  'function getPool() view returns (address)',
  'function getPoolConfigurator() view returns (address)',
  'function getPriceOracle() view returns (address)',
  'function getACLManager() view returns (address)',
  'function getPoolDataProvider() view returns (address)',
]);

export const aaveAclManagerAbi = parseAbi([
  'function addPoolAdmin(address admin)',
  'function addRiskAdmin(address admin)',
  'function addEmergencyAdmin(address admin)',
  'function isPoolAdmin(address admin) view returns (bool)',
]);

export const aaveConfiguratorAbi = parseAbi([
  'struct InitReserveInput { address aTokenImpl; address stableDebtTokenImpl; address variableDebtTokenImpl; uint8 underlyingAssetDecimals; address interestRateStrategyAddress; address underlyingAsset; address treasury; address incentivesController; string aTokenName; string aTokenSymbol; string variableDebtTokenName; string variableDebtTokenSymbol; string stableDebtTokenName; string stableDebtTokenSymbol; bytes params; }',
  'function initReserves(InitReserveInput[] input)',
  'function configureReserveAsCollateral(address asset, uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus)',
  'function setReserveBorrowing(address asset, bool enabled)',
  'function setReserveFactor(address asset, uint256 newReserveFactor)',
  'function setLiquidationProtocolFee(address asset, uint256 newFee)',
  'function setReserveFlashLoaning(address asset, bool enabled)',
]);

export const aaveOracleAbi = parseAbi([
  'function getAssetPrice(address asset) view returns (uint256)',
  'function getSourceOfAsset(address asset) view returns (address)',
  'function setAssetSources(address[] assets, address[] sources)',
]);

export const aaveDataProviderAbi = parseAbi([
  'function getReserveTokensAddresses(address asset) view returns (address aTokenAddress, address stableDebtTokenAddress, address variableDebtTokenAddress)',
  'function getReserveConfigurationData(address asset) view returns (uint256 decimals, uint256 ltv, uint256 liquidationThreshold, uint256 liquidationBonus, uint256 reserveFactor, bool usageAsCollateralEnabled, bool borrowingEnabled, bool stableBorrowRateEnabled, bool isActive, bool isFrozen)',
  'function getLiquidationProtocolFee(address asset) view returns (uint256)',
]);

export const aavePoolAbi = parseAbi([
  'function supply(address asset, uint256 amount, address onBehalfOf, uint16 referralCode)',
  'function withdraw(address asset, uint256 amount, address to) returns (uint256)',
  'function borrow(address asset, uint256 amount, uint256 interestRateMode, uint16 referralCode, address onBehalfOf)',
  'function repay(address asset, uint256 amount, uint256 interestRateMode, address onBehalfOf) returns (uint256)',
  'function liquidationCall(address collateralAsset, address debtAsset, address user, uint256 debtToCover, bool receiveAToken)',
  'function getUserAccountData(address user) view returns (uint256 totalCollateralBase, uint256 totalDebtBase, uint256 availableBorrowsBase, uint256 currentLiquidationThreshold, uint256 ltv, uint256 healthFactor)',
  'function getReservesList() view returns (address[])',
  'function getReserveNormalizedIncome(address asset) view returns (uint256)',
  'function getReserveNormalizedVariableDebt(address asset) view returns (uint256)',
]);

/**
 * The token surface the devnet helpers use: our MockUSDC / WETH9 and Aave's `MintableERC20` / `WETH9Mocked`
 * all have it (the mocks' `mint` also returns a bool, which nothing reads).
 */
export const aaveMockTokenAbi = parseAbi([
  'function mint(address account, uint256 value)',
  'function deposit() payable',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address account) view returns (uint256)',
  'function decimals() view returns (uint8)',
]);

/** Which artifact each typed subset restates (for the consistency test). */
export const AAVE_ABI_SUBSETS: ReadonlyArray<readonly [artifact: string, abi: Abi]> = [
  ['PoolAddressesProvider', aaveProviderAbi],
  ['ACLManager', aaveAclManagerAbi],
  ['PoolConfigurator', aaveConfiguratorAbi],
  ['AaveOracle', aaveOracleAbi],
  ['AaveProtocolDataProvider', aaveDataProviderAbi],
  ['Pool', aavePoolAbi],
];
