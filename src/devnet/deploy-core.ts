/**
 * Deploy the devnet's own contracts (compiled from contracts/*.sol into contracts-abi/): the
 * USDC and WETH tokens, the ETH/USD and USDC/USD feeds, and the reference perp exchange with
 * its ETH-USD market and a seeded house. The wallet client's account becomes the owner of
 * everything (USDC minter, feed updater, exchange admin).
 */
import { getAddress } from 'viem';
import type { Abi, Account, Chain, Hex, PublicClient, Transport, WalletClient } from 'viem';
import type { Address } from '../core/types.js';
import {
  mockUsdcAbi,
  mockUsdcBytecode,
  perpExchangeAbi,
  perpExchangeBytecode,
  priceFeedAbi,
  priceFeedBytecode,
  weth9Abi,
  weth9Bytecode,
} from '../../contracts-abi/index.js';

export interface CoreDeployClients {
  publicClient: PublicClient;
  walletClient: WalletClient<Transport, Chain, Account>;
}

export interface CoreDeployOptions {
  /** Initial ETH/USD answer, 8 decimals. */
  ethPriceE8: bigint;
  /** USDC minted to the deployer and given to the exchange's house; default 10M USDC. */
  houseUsdc?: bigint;
  /** Staleness limit of the ETH-USD perp market; default 3600 s. */
  maxPriceAgeSec?: bigint;
}

export interface CoreDeployment {
  usdc: Address;
  weth: Address;
  ethUsdFeed: Address;
  usdcUsdFeed: Address;
  perp: Address;
  /** Id of the ETH-USD market on the perp exchange (1 on a fresh deployment). */
  perpMarketId: bigint;
}

export const FEED_DECIMALS = 8;
export const DEFAULT_HOUSE_USDC = 10_000_000n * 10n ** 6n;
export const DEFAULT_MAX_PRICE_AGE_SEC = 3_600n;
export const USDC_PRICE_E8 = 10n ** 8n;

async function waitOk(clients: CoreDeployClients, hash: Hex, what: string): Promise<Address | undefined> {
  const receipt = await clients.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== 'success') throw new Error(`devnet deploy: ${what} reverted (tx ${hash})`);
  return receipt.contractAddress ?? undefined;
}

async function deploy(
  clients: CoreDeployClients,
  what: string,
  abi: Abi,
  bytecode: Hex,
  args: readonly unknown[],
): Promise<Address> {
  const { walletClient } = clients;
  const hash = await walletClient.deployContract({
    abi,
    bytecode,
    args,
    account: walletClient.account,
    chain: walletClient.chain,
  });
  const address = await waitOk(clients, hash, `deploying ${what}`);
  if (!address) throw new Error(`devnet deploy: ${what} has no contract address (tx ${hash})`);
  return getAddress(address);
}

async function send(
  clients: CoreDeployClients,
  what: string,
  call: { address: Address; abi: Abi; functionName: string; args: readonly unknown[] },
): Promise<void> {
  const { walletClient } = clients;
  const hash = await walletClient.writeContract({ ...call, account: walletClient.account, chain: walletClient.chain });
  await waitOk(clients, hash, what);
}

/**
 * Deploy MockUSDC, WETH9, the ETH/USD and USDC/USD feeds and PerpExchange (market 1 = ETH-USD),
 * then seed the exchange's house with USDC. One transaction at a time, each awaited (automine).
 */
export async function deployCoreContracts(
  clients: CoreDeployClients,
  opts: CoreDeployOptions,
): Promise<CoreDeployment> {
  if (opts.ethPriceE8 <= 0n) throw new Error(`deployCoreContracts: ethPriceE8 must be > 0, got ${opts.ethPriceE8}`);
  const owner = clients.walletClient.account.address;
  const houseUsdc = opts.houseUsdc ?? DEFAULT_HOUSE_USDC;

  const usdc = await deploy(clients, 'MockUSDC', mockUsdcAbi, mockUsdcBytecode, []);
  const weth = await deploy(clients, 'WETH9', weth9Abi, weth9Bytecode, []);
  const ethUsdFeed = await deploy(clients, 'ETH/USD feed', priceFeedAbi, priceFeedBytecode, [
    FEED_DECIMALS,
    'ETH / USD',
    opts.ethPriceE8,
    owner,
  ]);
  const usdcUsdFeed = await deploy(clients, 'USDC/USD feed', priceFeedAbi, priceFeedBytecode, [
    FEED_DECIMALS,
    'USDC / USD',
    USDC_PRICE_E8,
    owner,
  ]);
  const perp = await deploy(clients, 'PerpExchange', perpExchangeAbi, perpExchangeBytecode, [usdc, owner]);

  const marketCountBefore = await clients.publicClient.readContract({
    address: perp,
    abi: perpExchangeAbi,
    functionName: 'marketCount',
  });
  await send(clients, 'adding the ETH-USD market', {
    address: perp,
    abi: perpExchangeAbi,
    functionName: 'addMarket',
    args: [ethUsdFeed, opts.maxPriceAgeSec ?? DEFAULT_MAX_PRICE_AGE_SEC],
  });
  const perpMarketId = marketCountBefore + 1n;

  if (houseUsdc > 0n) {
    await send(clients, 'minting the house USDC', {
      address: usdc,
      abi: mockUsdcAbi,
      functionName: 'mint',
      args: [owner, houseUsdc],
    });
    await send(clients, 'approving the house USDC', {
      address: usdc,
      abi: mockUsdcAbi,
      functionName: 'approve',
      args: [perp, houseUsdc],
    });
    await send(clients, 'funding the house', {
      address: perp,
      abi: perpExchangeAbi,
      functionName: 'fundHouse',
      args: [houseUsdc],
    });
  }
  return { usdc, weth, ethUsdFeed, usdcUsdFeed, perp, perpMarketId };
}
