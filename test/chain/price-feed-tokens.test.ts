import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Abi,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { mockUsdcAbi, priceFeedAbi, weth9Abi } from '../../contracts-abi/index.js';
import type { Address } from '../../src/core/types.js';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import { deployCoreContracts, type CoreDeployment } from '../../src/devnet/deploy-core.js';

const KEYS = {
  owner: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  alice: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  bob: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;
type Who = keyof typeof KEYS;

const E8 = 10n ** 8n;
const ETH = 10n ** 18n;

let anvil: AnvilInstance;
let publicClient: PublicClient<Transport, Chain>;
let testClient: ReturnType<typeof createTestClient>;
let wallets: Record<Who, WalletClient<Transport, Chain, Account>>;
let core: CoreDeployment;
let snapshot: Hex;

const addr = (who: Who): Address => wallets[who].account.address;

async function send(who: Who, address: Address, abi: Abi, functionName: string, args: readonly unknown[], value?: bigint) {
  const hash = await wallets[who].writeContract({ address, abi, functionName, args, value } as never);
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  return receipt;
}

async function revertName(who: Who, address: Address, abi: Abi, functionName: string, args: readonly unknown[]) {
  try {
    await publicClient.simulateContract({ address, abi, functionName, args, account: wallets[who].account } as never);
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName;
    throw err;
  }
  return undefined;
}

const read = <T>(address: Address, abi: Abi, functionName: string, args: readonly unknown[] = []) =>
  publicClient.readContract({ address, abi, functionName, args } as never) as Promise<T>;
const feed = <T>(functionName: string, args: readonly unknown[] = []) => read<T>(core.ethUsdFeed, priceFeedAbi, functionName, args);
type Round = readonly [bigint, bigint, bigint, bigint, bigint];

beforeAll(async () => {
  anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  publicClient = createPublicClient({ chain: foundry, transport });
  testClient = createTestClient({ mode: 'anvil', chain: foundry, transport });
  const w = (k: Who) => createWalletClient({ account: privateKeyToAccount(KEYS[k]), chain: foundry, transport });
  wallets = { owner: w('owner'), alice: w('alice'), bob: w('bob') };
  core = await deployCoreContracts({ publicClient, walletClient: wallets.owner }, { ethPriceE8: 2_500n * E8, houseUsdc: 0n });
});
afterAll(async () => {
  await anvil?.stop();
});
beforeEach(async () => {
  snapshot = await testClient.snapshot();
});
afterEach(async () => {
  await testClient.revert({ id: snapshot });
});

describe('PriceFeed', () => {
  it('describes itself like a Chainlink aggregator', async () => {
    expect(await feed('decimals')).toBe(8);
    expect(await feed('description')).toBe('ETH / USD');
    expect(await feed('version')).toBe(4n);
    expect(await feed('owner')).toBe(addr('owner'));
    expect(await read(core.usdcUsdFeed, priceFeedAbi, 'latestAnswer')).toBe(E8);
  });

  it('opens a round per update and keeps the history', async () => {
    const [round1, answer1, , updated1, answeredIn1] = await feed<Round>('latestRoundData');
    expect([round1, answer1, answeredIn1]).toEqual([1n, 2_500n * E8, 1n]);

    const receipt = await send('owner', core.ethUsdFeed, priceFeedAbi, 'setPrice', [2_600n * E8]);
    const { timestamp } = await publicClient.getBlock({ blockNumber: receipt.blockNumber });
    const [event] = parseEventLogs({ abi: priceFeedAbi, eventName: 'AnswerUpdated', logs: receipt.logs });
    expect(event?.args).toEqual({ current: 2_600n * E8, roundId: 2n, updatedAt: timestamp });

    expect(await feed<Round>('latestRoundData')).toEqual([2n, 2_600n * E8, timestamp, timestamp, 2n]);
    expect(await feed('latestAnswer')).toBe(2_600n * E8);
    expect(await feed('latestTimestamp')).toBe(timestamp);
    expect(await feed('latestRound')).toBe(2n);
    expect(await feed<Round>('getRoundData', [1n])).toEqual([1n, 2_500n * E8, updated1, updated1, 1n]);
    expect(await feed('getAnswer', [1n])).toBe(2_500n * E8);
    expect(await feed('getTimestamp', [3n])).toBe(0n);
    expect(await revertName('owner', core.ethUsdFeed, priceFeedAbi, 'getRoundData', [3n])).toBe('RoundNotFound');
  });

  it('backdates an answer for staleness tests, never into the future', async () => {
    const now = (await publicClient.getBlock()).timestamp;
    await send('owner', core.ethUsdFeed, priceFeedAbi, 'setPriceAt', [2_400n * E8, now - 7_200n]);
    const [, answer, startedAt, updatedAt] = await feed<Round>('latestRoundData');
    expect([answer, startedAt, updatedAt]).toEqual([2_400n * E8, now - 7_200n, now - 7_200n]);
    expect(await revertName('owner', core.ethUsdFeed, priceFeedAbi, 'setPriceAt', [2_400n * E8, now + 3_600n])).toBe(
      'InvalidTimestamp',
    );
  });

  it('takes prices only from its owner, and only positive ones', async () => {
    expect(await revertName('alice', core.ethUsdFeed, priceFeedAbi, 'setPrice', [E8])).toBe('NotOwner');
    expect(await revertName('owner', core.ethUsdFeed, priceFeedAbi, 'setPrice', [0n])).toBe('InvalidAnswer');
    expect(await revertName('owner', core.ethUsdFeed, priceFeedAbi, 'setPrice', [-1n])).toBe('InvalidAnswer');
    await send('owner', core.ethUsdFeed, priceFeedAbi, 'transferOwnership', [addr('alice')]);
    await send('alice', core.ethUsdFeed, priceFeedAbi, 'setPrice', [3_000n * E8]);
    expect(await feed('latestAnswer')).toBe(3_000n * E8);
    expect(await revertName('owner', core.ethUsdFeed, priceFeedAbi, 'setPrice', [E8])).toBe('NotOwner');
  });
});

describe('MockUSDC', () => {
  const usdc = <T>(functionName: string, args: readonly unknown[] = []) => read<T>(core.usdc, mockUsdcAbi, functionName, args);

  it('is a 6-decimal "USD Coin" minted only by its owner', async () => {
    expect([await usdc('name'), await usdc('symbol'), await usdc('decimals')]).toEqual(['USD Coin', 'USDC', 6]);
    await send('owner', core.usdc, mockUsdcAbi, 'mint', [addr('alice'), 1_000_000n]);
    expect(await usdc('balanceOf', [addr('alice')])).toBe(1_000_000n);
    expect(await usdc('totalSupply')).toBe(1_000_000n);
    expect(await revertName('alice', core.usdc, mockUsdcAbi, 'mint', [addr('alice'), 1n])).toBe('NotOwner');
    await send('owner', core.usdc, mockUsdcAbi, 'transferOwnership', [addr('bob')]);
    expect(await revertName('owner', core.usdc, mockUsdcAbi, 'mint', [addr('owner'), 1n])).toBe('NotOwner');
    await send('bob', core.usdc, mockUsdcAbi, 'mint', [addr('bob'), 5n]);
    expect(await usdc('balanceOf', [addr('bob')])).toBe(5n);
  });

  it('transfers, and spends allowances except an infinite one', async () => {
    await send('owner', core.usdc, mockUsdcAbi, 'mint', [addr('alice'), 100n]);
    await send('alice', core.usdc, mockUsdcAbi, 'transfer', [addr('bob'), 30n]);
    expect(await revertName('alice', core.usdc, mockUsdcAbi, 'transfer', [addr('bob'), 71n])).toBe('ERC20InsufficientBalance');
    await send('alice', core.usdc, mockUsdcAbi, 'approve', [addr('bob'), 50n]);
    await send('bob', core.usdc, mockUsdcAbi, 'transferFrom', [addr('alice'), addr('bob'), 20n]);
    expect(await usdc('allowance', [addr('alice'), addr('bob')])).toBe(30n);
    expect(await revertName('bob', core.usdc, mockUsdcAbi, 'transferFrom', [addr('alice'), addr('bob'), 31n])).toBe(
      'ERC20InsufficientAllowance',
    );
    await send('alice', core.usdc, mockUsdcAbi, 'approve', [addr('bob'), 2n ** 256n - 1n]);
    await send('bob', core.usdc, mockUsdcAbi, 'transferFrom', [addr('alice'), addr('bob'), 50n]);
    expect(await usdc('allowance', [addr('alice'), addr('bob')])).toBe(2n ** 256n - 1n);
    expect([await usdc('balanceOf', [addr('alice')]), await usdc('balanceOf', [addr('bob')])]).toEqual([0n, 100n]);
  });
});

describe('WETH9', () => {
  const weth = <T>(functionName: string, args: readonly unknown[] = []) => read<T>(core.weth, weth9Abi, functionName, args);

  it('wraps by deposit() and by a plain transfer, and unwraps to ether', async () => {
    expect([await weth('name'), await weth('symbol'), await weth('decimals')]).toEqual(['Wrapped Ether', 'WETH', 18]);
    const deposit = await send('alice', core.weth, weth9Abi, 'deposit', [], 2n * ETH);
    const [event] = parseEventLogs({ abi: weth9Abi, eventName: 'Deposit', logs: deposit.logs });
    expect(event?.args).toEqual({ dst: addr('alice'), wad: 2n * ETH });
    const hash = await wallets.alice.sendTransaction({ to: core.weth, value: ETH });
    await publicClient.waitForTransactionReceipt({ hash });
    expect(await weth('balanceOf', [addr('alice')])).toBe(3n * ETH);
    expect(await weth('totalSupply')).toBe(3n * ETH);

    const etherBefore = await publicClient.getBalance({ address: addr('alice') });
    const withdraw = await send('alice', core.weth, weth9Abi, 'withdraw', [ETH]);
    const gasCost = withdraw.gasUsed * withdraw.effectiveGasPrice;
    expect(await publicClient.getBalance({ address: addr('alice') })).toBe(etherBefore + ETH - gasCost);
    expect(await weth('balanceOf', [addr('alice')])).toBe(2n * ETH);
    const [withdrawal] = parseEventLogs({ abi: weth9Abi, eventName: 'Withdrawal', logs: withdraw.logs });
    expect(withdrawal?.args).toEqual({ src: addr('alice'), wad: ETH });
    expect(await revertName('alice', core.weth, weth9Abi, 'withdraw', [2n * ETH + 1n])).toBe('InsufficientBalance');
  });

  it('moves WETH with transfer and transferFrom', async () => {
    await send('alice', core.weth, weth9Abi, 'deposit', [], ETH);
    await send('alice', core.weth, weth9Abi, 'transfer', [addr('bob'), ETH / 4n]);
    await send('alice', core.weth, weth9Abi, 'approve', [addr('bob'), ETH / 4n]);
    await send('bob', core.weth, weth9Abi, 'transferFrom', [addr('alice'), addr('bob'), ETH / 4n]);
    expect(await weth('allowance', [addr('alice'), addr('bob')])).toBe(0n);
    expect(await revertName('bob', core.weth, weth9Abi, 'transferFrom', [addr('alice'), addr('bob'), 1n])).toBe('InsufficientAllowance');
    expect([await weth('balanceOf', [addr('alice')]), await weth('balanceOf', [addr('bob')])]).toEqual([ETH / 2n, ETH / 2n]);
  });
});
