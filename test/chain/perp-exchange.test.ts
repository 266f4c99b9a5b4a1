import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  http,
  parseEventLogs,
  type Account,
  type Chain,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { mockUsdcAbi, perpExchangeAbi, priceFeedAbi } from '../../contracts-abi/index.js';
import type { Address } from '../../src/core/types.js';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import { deployCoreContracts, type CoreDeployment } from '../../src/devnet/deploy-core.js';

const KEYS = {
  owner: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  trader: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  other: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
} as const;
type Who = keyof typeof KEYS;

const USDC = 10n ** 6n;
const ETH = 10n ** 18n;
const E8 = 10n ** 8n;
const PRICE0 = 3_000n * E8;
const HOUSE = 1_000_000n * USDC;
const gas: Record<string, bigint> = {};

let anvil: AnvilInstance;
let publicClient: PublicClient<Transport, Chain>;
let wallets: Record<Who, WalletClient<Transport, Chain, Account>>;
let testClient: ReturnType<typeof createTestClient>;
let core: CoreDeployment;
let market: bigint;
let snapshot: Hex;

const addr = (who: Who): Address => wallets[who].account.address;

async function mined(hash: Hex, label?: string) {
  const receipt = await publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe('success');
  if (label && gas[label] === undefined) gas[label] = receipt.gasUsed;
  return receipt;
}

/**
 * Send with 20% gas headroom: anvil estimates at the pending block's timestamp, and with a
 * funding rate running, accrual writes storage only when the mined block is in a later second.
 */
async function perp(who: Who, functionName: string, args: readonly unknown[], label?: string) {
  const call = { address: core.perp, abi: perpExchangeAbi, functionName, args, account: wallets[who].account } as never;
  const estimate = await publicClient.estimateContractGas(call);
  const hash = await wallets[who].writeContract({ ...(call as object), gas: (estimate * 6n) / 5n } as never);
  return mined(hash, label);
}

/** The custom error name a call reverts with (simulated, so nothing is mined). */
async function revertName(who: Who, functionName: string, args: readonly unknown[]): Promise<string | undefined> {
  try {
    await publicClient.simulateContract({
      address: core.perp,
      abi: perpExchangeAbi,
      functionName,
      args,
      account: wallets[who].account,
    } as never);
  } catch (err) {
    const reverted = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null;
    if (reverted instanceof ContractFunctionRevertedError) return reverted.data?.errorName;
    throw err;
  }
  return undefined;
}

async function setPrice(priceE8: bigint): Promise<void> {
  const hash = await wallets.owner.writeContract({
    address: core.ethUsdFeed,
    abi: priceFeedAbi,
    functionName: 'setPrice',
    args: [priceE8],
  });
  await mined(hash);
}

async function fund(who: Who, amount: bigint): Promise<void> {
  await mined(await wallets.owner.writeContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [addr(who), amount] }));
  await mined(await wallets[who].writeContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'approve', args: [core.perp, amount] }));
  await perp(who, 'deposit', [market, amount], 'deposit');
}

const view = (who: Who) =>
  publicClient.readContract({ address: core.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [addr(who), market] });
const house = () => publicClient.readContract({ address: core.perp, abi: perpExchangeAbi, functionName: 'houseBalance' });
const usdcOf = (a: Address) => publicClient.readContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'balanceOf', args: [a] });
/** Taker fee at 5 bps, rounded up like the contract. */
const fee = (sizeWei: bigint, priceE8: bigint) => (sizeWei * priceE8 * 5n + 10n ** 24n - 1n) / 10n ** 24n;

beforeAll(async () => {
  anvil = await startAnvil();
  const transport = http(anvil.rpcUrl);
  publicClient = createPublicClient({ chain: foundry, transport });
  testClient = createTestClient({ mode: 'anvil', chain: foundry, transport });
  const w = (k: Who) => createWalletClient({ account: privateKeyToAccount(KEYS[k]), chain: foundry, transport });
  wallets = { owner: w('owner'), trader: w('trader'), other: w('other') };
  core = await deployCoreContracts({ publicClient, walletClient: wallets.owner }, { ethPriceE8: PRICE0, houseUsdc: HOUSE });
  market = core.perpMarketId;
});

afterAll(async () => {
  console.log('PerpExchange gas used:', Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, v.toString()])));
  await anvil?.stop();
});

beforeEach(async () => {
  snapshot = await testClient.snapshot();
});
afterEach(async () => {
  await testClient.revert({ id: snapshot });
});

describe('PerpExchange deployment', () => {
  it('lists ETH-USD as market 1 with the documented parameters and a seeded house', async () => {
    expect(market).toBe(1n);
    const read = (functionName: string) =>
      publicClient.readContract({ address: core.perp, abi: perpExchangeAbi, functionName } as never) as Promise<bigint>;
    expect(await read('initialMarginRatio')).toBe(10n ** 17n);
    expect(await read('maintenanceMarginRatio')).toBe(5n * 10n ** 16n);
    expect(await read('takerFeeBps')).toBe(5n);
    expect(await read('marketCount')).toBe(1n);
    const [feed, maxAge, rate] = await publicClient.readContract({
      address: core.perp,
      abi: perpExchangeAbi,
      functionName: 'getMarket',
      args: [market],
    });
    expect([feed, maxAge, rate]).toEqual([core.ethUsdFeed, 3_600n, 0n]);
    expect(await house()).toBe(HOUSE);
    expect(await usdcOf(core.perp)).toBe(HOUSE);
  });
});

describe('margin', () => {
  it('deposits and withdraws USDC', async () => {
    await fund('trader', 5_000n * USDC);
    expect((await view('trader')).marginUnits).toBe(5_000n * USDC);
    expect(await usdcOf(core.perp)).toBe(HOUSE + 5_000n * USDC);
    await perp('trader', 'withdraw', [market, 2_000n * USDC]);
    expect((await view('trader')).marginUnits).toBe(3_000n * USDC);
    expect(await usdcOf(addr('trader'))).toBe(2_000n * USDC);
    expect(await revertName('trader', 'withdraw', [market, 3_000n * USDC + 1n])).toBe('InsufficientMargin');
    expect(await revertName('trader', 'withdraw', [2n, 1n])).toBe('UnknownMarket');
  });

  it('refuses a withdrawal that leaves an open position under the 10% initial ratio', async () => {
    await fund('trader', 1_000n * USDC);
    await perp('trader', 'trade', [market, 3n * ETH, PRICE0]);
    const marginAfterFee = 1_000n * USDC - fee(3n * ETH, PRICE0); // 995.5 USDC on 9,000 notional
    expect((await view('trader')).marginUnits).toBe(marginAfterFee);
    const free = await publicClient.readContract({ address: core.perp, abi: perpExchangeAbi, functionName: 'freeMargin', args: [addr('trader'), market] });
    expect(free).toBe(marginAfterFee - 900n * USDC);
    expect(await revertName('trader', 'withdraw', [market, free + 1n])).toBe('InitialMarginNotMet');
    await perp('trader', 'withdraw', [market, free]);
    expect((await view('trader')).marginRatioE18).toBe(10n ** 17n);
  });
});

describe('trading', () => {
  it('opens, increases, decreases and flips with the 5 bps fee and realized PnL exact', async () => {
    const deposit = 10_000n * USDC;
    await fund('trader', deposit);
    let margin = deposit;

    await perp('trader', 'trade', [market, ETH, PRICE0], 'trade (open)');
    margin -= fee(ETH, PRICE0); // 1.5 USDC
    let a = await view('trader');
    expect([a.sizeWei, a.entryPriceE8, a.marginUnits, a.accountValueUnits]).toEqual([ETH, PRICE0, margin, margin]);
    expect(margin).toBe(deposit - 1_500_000n);

    await setPrice(3_300n * E8);
    await perp('trader', 'trade', [market, ETH, 3_300n * E8], 'trade (adjust)');
    margin -= fee(ETH, 3_300n * E8);
    a = await view('trader');
    expect([a.sizeWei, a.entryPriceE8, a.marginUnits]).toEqual([2n * ETH, 3_150n * E8, margin]);

    await setPrice(3_500n * E8);
    await perp('trader', 'trade', [market, -ETH / 2n, 3_500n * E8]);
    margin += 175n * USDC - fee(ETH / 2n, 3_500n * E8); // 0.5 ETH * (3500 - 3150)
    a = await view('trader');
    expect([a.sizeWei, a.entryPriceE8, a.marginUnits]).toEqual([(3n * ETH) / 2n, 3_150n * E8, margin]);
    expect(a.unrealizedPnlUnits).toBe(525n * USDC); // 1.5 ETH * 350

    await setPrice(3_400n * E8);
    const receipt = await perp('trader', 'trade', [market, (-5n * ETH) / 2n, 3_400n * E8]);
    margin += 375n * USDC - fee((5n * ETH) / 2n, 3_400n * E8); // closes 1.5 ETH at +250, opens 1 ETH short
    a = await view('trader');
    expect([a.sizeWei, a.entryPriceE8, a.marginUnits]).toEqual([-ETH, 3_400n * E8, margin]);
    const [traded] = parseEventLogs({ abi: perpExchangeAbi, eventName: 'Traded', logs: receipt.logs });
    expect(traded?.args).toMatchObject({ fillPriceE8: 3_400n * E8, feeUnits: 4_250_000n, realizedPnlUnits: 375n * USDC, newSizeWei: -ETH });

    await setPrice(3_300n * E8);
    expect((await view('trader')).unrealizedPnlUnits).toBe(100n * USDC);
    // The exchange is the counterparty: every unit it holds is either the house's or a margin.
    expect(await usdcOf(core.perp)).toBe((await house()) + margin);
    expect(await house()).toBe(HOUSE + deposit - margin);
  });

  it('refuses a risk-increasing trade under the initial ratio and a zero size', async () => {
    await fund('trader', 1_000n * USDC);
    expect(await revertName('trader', 'trade', [market, 4n * ETH, PRICE0])).toBe('InitialMarginNotMet');
    expect(await revertName('trader', 'trade', [market, 0n, PRICE0])).toBe('ZeroSize');
  });

  it('reverts with PriceWorseThanAcceptable past the acceptable price', async () => {
    await fund('trader', 1_000n * USDC);
    expect(await revertName('trader', 'trade', [market, ETH, PRICE0 - 1n])).toBe('PriceWorseThanAcceptable');
    expect(await revertName('trader', 'trade', [market, -ETH, PRICE0 + 1n])).toBe('PriceWorseThanAcceptable');
    expect(await revertName('trader', 'trade', [market, ETH, PRICE0])).toBeUndefined();
    expect(await revertName('trader', 'trade', [market, -ETH, PRICE0])).toBeUndefined();
  });

  it('rejects trades on a stale feed but still takes deposits', async () => {
    await fund('trader', 1_000n * USDC);
    const now = (await publicClient.getBlock()).timestamp;
    await mined(
      await wallets.owner.writeContract({ address: core.ethUsdFeed, abi: priceFeedAbi, functionName: 'setPriceAt', args: [PRICE0, now - 3_601n] }),
    );
    expect(await revertName('trader', 'trade', [market, ETH, PRICE0])).toBe('StalePrice');
    await fund('trader', 1n * USDC);
    await setPrice(PRICE0);
    expect(await revertName('trader', 'trade', [market, ETH, PRICE0])).toBeUndefined();
  });
});

describe('funding', () => {
  it('accrues per second on open interest: longs pay and shorts receive at a positive rate', async () => {
    const rate = 10n ** 10n; // 1e-8 of notional per second: 30 units/s on 1 ETH at 3,000
    await perp('owner', 'setFundingRate', [market, rate]);
    await fund('trader', 1_000n * USDC);
    await fund('other', 1_000n * USDC);
    const openLong = await perp('trader', 'trade', [market, ETH, PRICE0]);
    const openShort = await perp('other', 'trade', [market, -ETH, PRICE0]);
    const blockTime = async (blockNumber?: bigint) => (await publicClient.getBlock(blockNumber === undefined ? {} : { blockNumber })).timestamp;
    const tLong = await blockTime(openLong.blockNumber);
    const tShort = await blockTime(openShort.blockNumber);
    const perSec = (ETH * rate * PRICE0) / 10n ** 38n;
    expect(perSec).toBe(30n);

    await testClient.increaseTime({ seconds: 1_800 });
    await testClient.mine({ blocks: 1 });
    let now = await blockTime();
    expect((await view('trader')).pendingFundingUnits).toBe(perSec * (now - tLong));
    expect((await view('other')).pendingFundingUnits).toBe(-perSec * (now - tShort));

    await testClient.increaseTime({ seconds: 1_800 });
    await setPrice(PRICE0); // refresh the feed (same price) so it is not stale
    now = await blockTime();
    expect((await view('trader')).pendingFundingUnits).toBe(perSec * (now - tLong));

    const marginBefore = (await view('trader')).marginUnits;
    const houseBefore = await house();
    await mined(await wallets.owner.writeContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [addr('trader'), USDC] }));
    await mined(await wallets.trader.writeContract({ address: core.usdc, abi: mockUsdcAbi, functionName: 'approve', args: [core.perp, USDC] }));
    const settle = await perp('trader', 'deposit', [market, USDC]);
    const paid = perSec * ((await blockTime(settle.blockNumber)) - tLong);
    expect(paid).toBeGreaterThan(30n * 3_600n - 1n);
    const a = await view('trader');
    expect(a.marginUnits).toBe(marginBefore + USDC - paid);
    expect(a.pendingFundingUnits).toBe(0n);
    expect(await house()).toBe(houseBefore + paid);
    const [settled] = parseEventLogs({ abi: perpExchangeAbi, eventName: 'FundingSettled', logs: settle.logs });
    expect(settled?.args.fundingPaidUnits).toBe(paid);
  });

  it('charges shorts at a negative rate', async () => {
    await perp('owner', 'setFundingRate', [market, -(10n ** 10n)]);
    await fund('trader', 1_000n * USDC);
    await perp('trader', 'trade', [market, -ETH, PRICE0]);
    await testClient.increaseTime({ seconds: 100 });
    await testClient.mine({ blocks: 1 });
    expect((await view('trader')).pendingFundingUnits).toBe(30n * 100n);
    expect(await revertName('owner', 'setFundingRate', [market, 10n ** 12n + 1n])).toBe('FundingRateTooHigh');
    expect(await revertName('trader', 'setFundingRate', [market, 0n])).toBe('NotOwner');
  });
});

describe('liquidation', () => {
  it('liquidates a 5x short after a 30% move: the caller is paid, the position closed, the house pays the bad debt', async () => {
    await fund('trader', 600n * USDC);
    await perp('trader', 'trade', [market, -ETH, PRICE0]); // 3,000 notional on 600 margin: 5x
    await fund('owner', 1_000n * USDC);
    await perp('owner', 'trade', [market, ETH / 10n, PRICE0]); // healthy, 0.3x
    expect(await revertName('other', 'liquidate', [addr('trader'), market])).toBe('NotLiquidatable');

    const moved = (PRICE0 * 130n) / 100n;
    await setPrice(moved);
    expect((await view('trader')).liquidatable).toBe(true);
    expect(await revertName('other', 'liquidate', [addr('owner'), market])).toBe('NotLiquidatable');

    const houseBefore = await house();
    const marginBefore = (await view('trader')).marginUnits;
    const liquidatorBefore = await usdcOf(addr('other'));
    const receipt = await perp('other', 'liquidate', [addr('trader'), market], 'liquidate');

    const penalty = (3_900n * USDC) / 100n; // 1% of the closed notional
    expect((await usdcOf(addr('other'))) - liquidatorBefore).toBe(penalty);
    const a = await view('trader');
    expect([a.sizeWei, a.entryPriceE8, a.marginUnits, a.liquidatable]).toEqual([0n, 0n, 0n, false]);
    const [event] = parseEventLogs({ abi: perpExchangeAbi, eventName: 'Liquidated', logs: receipt.logs });
    const value = marginBefore - 900n * USDC; // the short lost 900 USDC
    expect(event?.args).toMatchObject({ liquidator: addr('other'), closedSizeWei: -ETH, penaltyUnits: penalty, badDebtUnits: penalty - value });
    expect(await house()).toBe(houseBefore + 900n * USDC - (penalty - value));
    expect(await usdcOf(core.perp)).toBe((await house()) + (await view('owner')).marginUnits);
  });

  it('leaves what is left after the penalty as the account margin', async () => {
    await fund('trader', 600n * USDC);
    await perp('trader', 'trade', [market, -ETH, PRICE0]);
    await setPrice(3_480n * E8); // loss 480: value 118.5 on 3,480 notional = 3.4%
    await perp('other', 'liquidate', [addr('trader'), market]);
    const a = await view('trader');
    expect(a.sizeWei).toBe(0n);
    expect(a.marginUnits).toBe(600n * USDC - fee(ETH, PRICE0) - 480n * USDC - (3_480n * USDC) / 100n);
    await perp('trader', 'withdraw', [market, a.marginUnits]);
  });
});
