import { accessSync, constants, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BaseError, ContractFunctionRevertedError, createPublicClient, erc20Abi, type Abi, type Chain, type PublicClient, type Transport } from 'viem';
import { multicall3Abi, nonfungiblePositionManagerAbi, perpExchangeAbi, poolAddressesProviderAbi, priceFeedAbi, quoterV2Abi, swapRouterAbi, uniswapV3PoolAbi } from '../../contracts-abi/index.js';
import { ADDRESS_VARS, ConfigError, MULTICALL3_CANONICAL, rpcOrigin, type ChainAddresses, type KeeperConfig } from '../config.js';
import { chainFor, createRpcTransport } from '../chain/clients.js';
import { resolveAaveMarket } from '../venues/aave.js';
import type { Address } from '../core/types.js';
import { readAddressesFileInfo } from './addresses.js';

/**
 * Checks at start, before anything is signed: the RPC serves the chain the addresses file was
 * written for, and every configured address holds a contract that answers the views the keeper
 * will call. A wrong address used to fail every tick with kilobytes of viem text naming nothing;
 * here it stops the keeper (ConfigError, exit 2) with one line naming the variable (or the
 * addresses file's key) and the address.
 */

export interface PreflightTarget {
  config: KeeperConfig;
  rpcUrls: readonly string[];
  /** What the RPC reported. */
  chainId: number;
  account: Address;
  addresses: ChainAddresses;
}

type Key = keyof ChainAddresses;
type Client = PublicClient<Transport, Chain>;
/** What the keeper counts each token in (config units and the core's E8 prices). */
const EXPECTED_DECIMALS = { feed: 8, weth: 18, usdc: 6 } as const;

export async function preflight(t: PreflightTarget): Promise<void> {
  const { config } = t;
  const file = config.addressesFile ? { path: config.addressesFile, ...readAddressesFileInfo(config.addressesFile) } : null;
  const origin = rpcOrigin(t.rpcUrls[0] ?? '');
  if (file && file.chainId !== null && file.chainId !== t.chainId) {
    // Every address would fail on the wrong chain: this one line says why.
    throw new ConfigError([`ADDRESSES_FILE=${file.path}: written for chain ${file.chainId}, but the RPC (${origin}) serves chain ${t.chainId}`]);
  }
  const client = createPublicClient({ chain: chainFor(t.chainId, t.rpcUrls), transport: createRpcTransport(t.rpcUrls) }) as Client;
  const label = (key: Key, address: Address): string =>
    config.addresses[key] !== null || !file ? `${ADDRESS_VARS[key]}=${address}` : `ADDRESSES_FILE=${file.path}: key ${file.keyOf(key)} (${address})`;
  // Checks run in parallel; lines keep the order the checks were started in.
  const problems: { seq: number; line: string }[] = [];
  let started = 0;
  /** Run one check; a contract that does not answer is a problem line, a failing RPC is thrown. */
  const check = async (what: string, run: () => Promise<string | null>): Promise<boolean> => {
    const seq = started++;
    try {
      const problem = await run();
      if (problem) problems.push({ seq, line: `${what}: ${problem}` });
      return problem === null;
    } catch (err) {
      const reason = contractFailure(err);
      if (reason === null) throw new Error(`preflight: the RPC (${origin}) failed while checking ${what.split('=')[0]} (${shortMessage(err, t.rpcUrls)})`, { cause: err });
      problems.push({ seq, line: `${what}: ${reason}` });
      return false;
    }
  };

  const configured = (Object.keys(ADDRESS_VARS) as Key[]).filter((k) => t.addresses[k] !== null);
  const hasCode = new Set<Key>();
  await Promise.all(
    configured.map((key) =>
      check(label(key, t.addresses[key] as Address), async () => {
        const code = await client.getCode({ address: t.addresses[key] as Address });
        if (!code || code === '0x') return `no contract at this address on chain ${t.chainId}`;
        hasCode.add(key);
        return null;
      }),
    ),
  );
  if (config.chain.multicall3.toLowerCase() !== MULTICALL3_CANONICAL.toLowerCase()) {
    // Set explicitly: it must be one (only the canonical address may be absent, for the deployless fallback).
    await check(`MULTICALL3=${config.chain.multicall3}`, async () => {
      const code = await client.getCode({ address: config.chain.multicall3 });
      if (!code || code === '0x') return `no contract at this address on chain ${t.chainId}`;
      await client.readContract({ address: config.chain.multicall3, abi: multicall3Abi, functionName: 'getCurrentBlockTimestamp' });
      return null;
    });
  }

  const views = viewChecks(client, t);
  // The pool's factory is what the position manager and the router must share.
  const pool = t.addresses.uniswapPool;
  let poolFactory: Address | null = null;
  if (hasCode.has('uniswapPool')) {
    await check(label('uniswapPool', pool), async () => {
      const r = await views.pool();
      poolFactory = r.factory;
      return r.problem;
    });
  }
  const answered = new Set<Key>();
  await Promise.all(
    [...hasCode]
      .filter((k) => k !== 'uniswapPool')
      .map(async (key) => (await check(label(key, t.addresses[key] as Address), () => views.of(key, poolFactory))) && answered.add(key)),
  );
  if (answered.has('perpExchange')) {
    await check(`PERP_MARKET_ID=${config.perpMarketId}`, () => views.perpMarket());
  }
  if (problems.length > 0) throw new ConfigError(problems.sort((x, y) => x.seq - y.seq).map((p) => p.line));
}

/** The views each address must answer: the ones the keeper reads, plus what its numbers assume. */
function viewChecks(client: Client, t: PreflightTarget) {
  const a = t.addresses;
  const read = <T>(address: Address, abi: Abi | readonly unknown[], functionName: string, args: readonly unknown[] = []) =>
    client.readContract({ address, abi: abi as Abi, functionName, args }) as Promise<T>;
  const eq = (x: string, y: string) => x.toLowerCase() === y.toLowerCase();

  const feed = async (address: Address) => {
    const decimals = await read<number>(address, priceFeedAbi, 'decimals');
    await read(address, priceFeedAbi, 'latestRoundData');
    return decimals === EXPECTED_DECIMALS.feed ? null : `decimals() is ${decimals}; the keeper reads USD prices with ${EXPECTED_DECIMALS.feed} decimals`;
  };
  const token = async (address: Address, expected: number, name: string) => {
    const decimals = await read<number>(address, erc20Abi, 'decimals');
    await read(address, erc20Abi, 'balanceOf', [t.account]);
    return decimals === expected ? null : `decimals() is ${decimals}; the keeper counts ${name} in ${expected} decimals`;
  };
  const sameFactory = async (address: Address, abi: Abi | readonly unknown[], poolFactory: Address | null) => {
    const factory = await read<Address>(address, abi, 'factory');
    return poolFactory && !eq(factory, poolFactory) ? `its Uniswap factory ${factory} is not the pool's (${poolFactory})` : null;
  };

  return {
    async pool(): Promise<{ problem: string | null; factory: Address }> {
      const [token0, token1, factory] = await Promise.all([
        read<Address>(a.uniswapPool, uniswapV3PoolAbi, 'token0'),
        read<Address>(a.uniswapPool, uniswapV3PoolAbi, 'token1'),
        read<Address>(a.uniswapPool, uniswapV3PoolAbi, 'factory'),
        read(a.uniswapPool, uniswapV3PoolAbi, 'slot0'),
        read(a.uniswapPool, uniswapV3PoolAbi, 'liquidity'),
      ]);
      const pair = (eq(token0, a.weth) && eq(token1, a.usdc)) || (eq(token0, a.usdc) && eq(token1, a.weth));
      return { factory, problem: pair ? null : `a pool of ${token0} / ${token1}, not of WETH (${a.weth}) and USDC (${a.usdc})` };
    },
    async of(key: Key, poolFactory: Address | null): Promise<string | null> {
      const address = a[key] as Address;
      switch (key) {
        case 'oracleFeed':
        case 'usdcFeed':
          return feed(address);
        case 'weth':
          return token(address, EXPECTED_DECIMALS.weth, 'WETH');
        case 'usdc':
          return token(address, EXPECTED_DECIMALS.usdc, 'USDC');
        case 'uniswapPositionManager':
          await read(address, nonfungiblePositionManagerAbi, 'balanceOf', [t.account]);
          return sameFactory(address, nonfungiblePositionManagerAbi, poolFactory);
        // A pool also answers factory(): WETH9() is what tells a periphery contract apart.
        case 'uniswapSwapRouter':
          await read(address, swapRouterAbi, 'WETH9');
          return sameFactory(address, swapRouterAbi, poolFactory);
        case 'uniswapQuoter':
          await read(address, quoterV2Abi, 'WETH9');
          return sameFactory(address, quoterV2Abi, poolFactory);
        case 'perpExchange': {
          const usdc = await read<Address>(address, perpExchangeAbi, 'usdc');
          return eq(usdc, a.usdc) ? null : `its margin token is ${usdc}, not USDC (${a.usdc})`;
        }
        case 'aavePoolAddressesProvider': {
          await read<Address>(address, poolAddressesProviderAbi, 'getPool');
          try {
            await resolveAaveMarket(client, address, a.weth, a.usdc);
            return null;
          } catch (err) {
            // Its own checks (reserves listed, USD oracle) are plain errors with a readable message.
            if (err instanceof BaseError) throw err;
            return (err as Error).message.split('\n')[0] ?? 'not a usable Aave market';
          }
        }
        case 'uniswapPool':
          return null;
        default: {
          const never: never = key;
          return never;
        }
      }
    },
    async perpMarket(): Promise<string | null> {
      const exchange = a.perpExchange as Address;
      try {
        await read(exchange, perpExchangeAbi, 'getAccount', [t.account, t.config.perpMarketId]);
        return null;
      } catch (err) {
        if (contractFailure(err) === null) throw err;
        const count = await read<bigint>(exchange, perpExchangeAbi, 'marketCount');
        return `the perp exchange ${exchange} has no such market (its markets are 1 to ${count})`;
      }
    },
  };
}

/** Errors that mean "the contract did not answer that view", as opposed to the RPC failing. */
const CONTRACT_ERROR = /^(ContractFunctionRevertedError|ContractFunctionZeroDataError|ExecutionRevertedError|AbiDecoding\w*Error|PositionOutOfBoundsError|InvalidAbiDecodingTypeError)$/;

/** Why the contract failed the view, in a few words; null when the failure is the RPC's. */
export function contractFailure(err: unknown): string | null {
  if (!(err instanceof BaseError)) return null;
  const found = err.walk((e) => CONTRACT_ERROR.test((e as Error).name ?? ''));
  if (!found) return null;
  const fn = (err as { functionName?: string }).functionName ?? walkField(err, 'functionName');
  const call = fn ? `${fn}()` : 'the view';
  if (found instanceof ContractFunctionRevertedError) {
    const why = found.data?.errorName ?? (found.reason === 'execution reverted' ? undefined : found.reason);
    return `${call} reverted${why ? ` (${why})` : ''}: not the contract the keeper expects here`;
  }
  if (/ZeroData/.test(found.name)) return `${call} returned no data: not the contract the keeper expects here`;
  return `${call} answered something that does not decode: not the contract the keeper expects here`;
}

function walkField(err: BaseError, field: string): string | undefined {
  const hit = err.walk((e) => typeof (e as Record<string, unknown>)[field] === 'string');
  return hit ? ((hit as unknown as Record<string, unknown>)[field] as string) : undefined;
}

/** The first line of viem's short message, RPC URLs reduced to their origin (keys live in paths). */
function shortMessage(err: unknown, rpcUrls: readonly string[]): string {
  const text = (err as { shortMessage?: string }).shortMessage ?? (err instanceof Error ? err.message : String(err));
  let line = text.split('\n')[0] ?? '';
  for (const url of rpcUrls) line = line.split(url).join(rpcOrigin(url));
  return line;
}

/**
 * Settings the embedded devnet would ignore (it signs with its demo key, on its own addresses):
 * refused, so a lost RPC_URLS never quietly turns a real configuration into the demo.
 */
export function refuseIgnoredSettings(config: KeeperConfig): void {
  if (config.chain.rpcUrls.length > 0) return;
  const set = [
    ...(config.signer.kind === 'privateKey' ? ['PRIVATE_KEY'] : config.signer.kind === 'keystore' ? ['KEYSTORE_PATH'] : []),
    ...(config.addressesFile ? ['ADDRESSES_FILE'] : []),
    ...(Object.keys(ADDRESS_VARS) as Key[]).filter((k) => config.addresses[k] !== null).map((k) => ADDRESS_VARS[k]),
    ...(config.chain.chainId !== null ? ['CHAIN_ID'] : []),
  ];
  if (set.length === 0) return;
  const names = set.join(', ');
  throw new ConfigError([
    `RPC_URLS=(unset): ${names} ${set.length > 1 ? 'are' : 'is'} set, but with no RPC_URLS the keeper runs the embedded devnet and ignores ${set.length > 1 ? 'them' : 'it'}; set RPC_URLS, or unset ${names} for the demo`,
  ]);
}

/**
 * Create DATA_DIR (price record) and the journal's directory up front, 0700: a path that cannot be
 * created is named here instead of surfacing as a bare EACCES from deep in the keeper.
 */
export function prepareDirectories(config: KeeperConfig, opts: { journal: boolean }): void {
  const dataDir = config.loop.dataDir;
  const journal = config.safety.journalPath;
  const journalFromDataDir = journal === `${dataDir.replace(/\/+$/, '')}/journal.sqlite`;
  const targets: [string, string][] = [[`DATA_DIR=${dataDir}`, dataDir]];
  if (opts.journal && !journalFromDataDir && journal !== ':memory:') targets.push([`JOURNAL_PATH=${journal}`, dirname(journal)]);
  const problems: string[] = [];
  for (const [what, dir] of targets) {
    let step = 'cannot create directory';
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      step = 'cannot write in directory';
      accessSync(dir, constants.W_OK);
    } catch (err) {
      problems.push(`${what}: ${step} ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** The metrics server's listen error, named by its variable; other errors pass through. */
export function monitoringError(config: KeeperConfig, err: unknown): unknown {
  const { metricsPort: port, metricsHost: host } = config.loop;
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'EADDRINUSE':
      return new ConfigError([`METRICS_PORT=${port}: port in use on ${host}`]);
    case 'EACCES':
      return new ConfigError([`METRICS_PORT=${port}: permission denied on ${host} (ports below 1024 need privileges)`]);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError([`METRICS_HOST=${host}: not an address of this machine`]);
    default:
      return err;
  }
}
