import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAbiParameters, erc20Abi, getAddress, keccak256, maxUint256, pad, parseEther, parseGwei, toHex, type Hex } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { aaveOracleAbi, poolAbi, poolAddressesProviderAbi } from '../../contracts-abi/index.js';
import type { ChainAddresses } from '../../src/config.js';
import type { Action, Address, Snapshot } from '../../src/core/types.js';
import { assess } from '../../src/core/assess.js';
import { loadConfig } from '../../src/config.js';
import { startAnvil, type AnvilInstance } from '../../src/devnet/anvil.js';
import { createAnvilTestClient, createClients, fetchChainId, type Clients } from '../../src/chain/clients.js';
import { createExecutor, type Executor } from '../../src/chain/executor.js';
import { createTxSender } from '../../src/chain/sender.js';
import { createSnapshotReader, type SnapshotReader } from '../../src/chain/snapshot.js';
import { createRecordingLogger } from '../../src/monitor/logger.js';
import { createAaveVenue, type AaveVenueAccount } from '../../src/venues/aave.js';
import { minAmountOutUnits } from '../../src/venues/aave-swap.js';
import { aaveHealthFactorE18 } from '../../src/venues/aave-math.js';
import type { HedgeVenue } from '../../src/venues/types.js';

/**
 * The Aave adapter against real Aave V3 on an Ethereum mainnet fork. Runs only with FORK_URL (an
 * Ethereum mainnet RPC that serves state at FORK_BLOCK: an archive node for the default block).
 *
 *   FORK_URL=https://... [FORK_BLOCK=19000000] npx vitest run test/chain/aave-fork.test.ts
 *
 * A fresh random account is funded on the fork (ETH with anvil_setBalance, USDC by writing its
 * balance slot, found by probing), then: read, top-up (supply), borrow + sell, buy + repay.
 */
const FORK_URL = process.env['FORK_URL'];
/** 2024-01-13: Aave V3 Ethereum lists USDC as collateral and WETH as borrowable (variable). */
const DEFAULT_FORK_BLOCK = 19_000_000n;

/** Ethereum mainnet; each address checked against several public sources (checksums by getAddress). */
const MAINNET = {
  aavePoolAddressesProvider: getAddress('0x2f39d218133AFaB8F2B819B1066c7E434Ad94E9e'),
  aavePool: getAddress('0x87870Bca3F3fD6335C3F4ce8392D69350B4fA4E2'),
  weth: getAddress('0xC02aaA39b223FE8D0A0e5C4F27eAD9083C756Cc2'),
  usdc: getAddress('0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48'),
  ethUsdFeed: getAddress('0x5f4eC3Df9cbd43714FE2740f5E3616155c5b8419'),
  usdcUsdFeed: getAddress('0x8fFfFfd4AfB6115b954Bd326cbe7B4BA576818f6'),
  positionManager: getAddress('0xC36442b4a4522E871399CD717aBDD847Ab11FE88'),
  /** WETH/USDC 0.05%. */
  pool: getAddress('0x88e6A0c2dDD26FEEb64F039a2c41296FcB3f5640'),
  /** Uniswap V3 SwapRouter (the original, with `deadline` in its params). */
  swapRouter: getAddress('0xE592427A0AEce92De3Edee1F18E0157C05861564'),
  quoterV2: getAddress('0x61fFE014bA17989E743c5F6cB21bF9697530B21e'),
} as const;

const USDC = 10n ** 6n;

describe.skipIf(!FORK_URL)('Aave venue on an Ethereum mainnet fork (FORK_URL)', () => {
  let anvil: AnvilInstance;
  let clients: Clients;
  let venue: HedgeVenue;
  let reader: SnapshotReader;
  let executor: Executor;
  let lines: () => Array<Record<string, unknown>>;
  let account: Address;
  const addresses: ChainAddresses = {
    oracleFeed: MAINNET.ethUsdFeed,
    usdcFeed: MAINNET.usdcUsdFeed,
    weth: MAINNET.weth,
    usdc: MAINNET.usdc,
    uniswapPositionManager: MAINNET.positionManager,
    uniswapPool: MAINNET.pool,
    uniswapSwapRouter: MAINNET.swapRouter,
    uniswapQuoter: MAINNET.quoterV2,
    perpExchange: null,
    aavePoolAddressesProvider: MAINNET.aavePoolAddressesProvider,
  };
  const policy = loadConfig({ HEDGE_VENUE: 'aave' }).policy;

  const balanceOf = (token: Address, who: Address = account) =>
    clients.publicClient.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [who] });

  /** Write `amount` into the token's balance mapping for `who`: probe the mapping's slot (USDC: 9). */
  async function setTokenBalance(token: Address, who: Address, amount: bigint): Promise<void> {
    const test = createAnvilTestClient(anvil.rpcUrl, clients.publicClient.chain.id);
    for (let slot = 0n; slot < 64n; slot++) {
      const key = keccak256(encodeAbiParameters([{ type: 'address' }, { type: 'uint256' }], [who, slot]));
      const old = (await clients.publicClient.getStorageAt({ address: token, slot: key })) ?? pad('0x0');
      await test.setStorageAt({ address: token, index: key, value: pad(toHex(amount)) });
      if ((await balanceOf(token, who)) === amount) return;
      await test.setStorageAt({ address: token, index: key, value: old as Hex });
    }
    throw new Error(`no balance slot found for ${token} in slots 0..63`);
  }

  async function run(action: Action, snapshot: Snapshot, maxSlippageBps = policy.maxSlippageBps) {
    const built = await venue.buildTxs(action, {
      account,
      publicClient: clients.publicClient,
      oracle: snapshot.oracle,
      maxSlippageBps,
      blockNumber: snapshot.blockNumber,
    });
    if (built.status === 'refused') throw new Error(`${built.label} refused: ${built.reason}`);
    const outcomes = await executor.run(built.txs, {
      bounds: { ...snapshot.oracle, maxSlippageBps, weth: MAINNET.weth, usdc: MAINNET.usdc },
      log: { action: action.kind },
    });
    expect(outcomes.map((o) => `${o.label}:${o.status}`), JSON.stringify(lines().slice(-5), (_, v) => (typeof v === 'bigint' ? v.toString() : v))).toEqual(
      built.txs.map((t) => `${t.label}:sent`),
    );
    for (const o of outcomes) {
      if (o.status !== 'sent') continue;
      const receipt = await clients.publicClient.waitForTransactionReceipt({ hash: o.hash });
      expect(receipt.status, o.label).toBe('success');
    }
    return outcomes;
  }

  /** Aave's own figures at a block, and its HF recomputed from the adapter's read. */
  async function aaveAt(snapshot: Snapshot) {
    const h = snapshot.hedge as AaveVenueAccount;
    const data = await clients.publicClient.readContract({ address: MAINNET.aavePool, abi: poolAbi, functionName: 'getUserAccountData', args: [account], blockNumber: snapshot.blockNumber });
    const recomputed = aaveHealthFactorE18({ collateralUnits: h.collateralUnits, usdcPriceE8: h.aaveUsdcPriceE8, debtWei: h.debtWei, wethPriceE8: h.aaveWethPriceE8, liquidationThresholdBps: h.liquidationThresholdBps });
    return { h, healthFactorE18: data[5], recomputed };
  }

  beforeAll(async () => {
    const forkBlockNumber = process.env['FORK_BLOCK'] ? BigInt(process.env['FORK_BLOCK']) : DEFAULT_FORK_BLOCK;
    anvil = await startAnvil({ forkUrl: FORK_URL, forkBlockNumber, startTimeoutMs: 120_000 });
    const chainId = await fetchChainId(anvil.rpcUrl);
    expect(chainId).toBe(1);
    // A fresh key: no history, allowances or code on mainnet.
    clients = createClients({ rpcUrls: [anvil.rpcUrl], chainId, privateKey: generatePrivateKey(), pollingIntervalMs: 50 });
    account = clients.walletClient.account.address;
    await createAnvilTestClient(anvil.rpcUrl, chainId).setBalance({ address: account, value: parseEther('100') });
    await setTokenBalance(MAINNET.usdc, account, 100_000n * USDC);
    venue = await createAaveVenue({ addresses, publicClient: clients.publicClient });
    reader = createSnapshotReader({
      publicClient: clients.publicClient,
      account,
      venue,
      addresses: { oracleFeed: MAINNET.ethUsdFeed, usdcFeed: MAINNET.usdcUsdFeed, weth: MAINNET.weth, usdc: MAINNET.usdc, positionManager: MAINNET.positionManager, pool: MAINNET.pool },
    });
    const recording = createRecordingLogger('debug');
    lines = recording.lines;
    const sender = createTxSender({ clients, logger: recording.logger, journal: null, maxFeeCeilingWei: parseGwei('500') });
    executor = createExecutor({ clients, logger: recording.logger, allowList: venue.allowList(), dryRun: false, sender });
  }, 180_000);

  afterAll(async () => {
    await anvil?.stop();
  });

  it('resolves the market from the provider and reads an empty account', async () => {
    expect(venue.allowList().find((e) => e.functions.includes('borrow'))?.target).toBe(MAINNET.aavePool);
    const s = await reader.read();
    const h = s.hedge as AaveVenueAccount;
    expect(h).toMatchObject({ venue: 'aave', debtWei: 0n, collateralUnits: 0n, totalCollateralBaseE8: 0n, healthFactorE18: maxUint256 });
    // The USDC reserve's own figures (the account has none yet), in a sane range.
    expect(h.liquidationThresholdBps).toBeGreaterThan(h.ltvBps);
    expect(h.liquidationThresholdBps).toBeLessThanOrEqual(10_000n);
    expect(h.aaveWethPriceE8).toBeGreaterThan(100n * 10n ** 8n);
    expect(s.wallet.usdcUnits).toBe(100_000n * USDC);
  });

  it('tops up (supply), shorts (borrow + sell), then buys back and repays, with HF equal to Aave', async () => {
    const s0 = await reader.read();
    await run({ kind: 'topUp', amountUnits: 20_000n * USDC, reason: 'fork' }, s0);
    const s1 = await reader.read();
    // aTokens round by at most one unit (rayDiv on supply, rayMul on balanceOf).
    expect(20_000n * USDC - (s1.hedge as AaveVenueAccount).collateralUnits).toBeLessThanOrEqual(1n);

    const usdcBefore = s1.wallet.usdcUnits;
    await run({ kind: 'adjustHedge', sizeDeltaWei: -parseEther('1'), reason: 'fork' }, s1);
    const s2 = await reader.read();
    expect((s2.hedge as AaveVenueAccount).debtWei).toBeGreaterThanOrEqual(parseEther('1'));
    expect((s2.hedge as AaveVenueAccount).debtWei).toBeLessThan(parseEther('1') + 10n ** 12n);
    expect(s2.wallet.wethWei).toBe(0n); // the borrowed WETH was sold
    expect(s2.wallet.usdcUnits - usdcBefore).toBeGreaterThanOrEqual(minAmountOutUnits(parseEther('1'), s1.oracle, policy.maxSlippageBps));

    const a2 = await aaveAt(s2);
    expect(a2.recomputed).toBe(a2.healthFactorE18);
    expect(a2.h.healthFactorE18).toBe(a2.healthFactorE18);
    // The keeper's assess values the account with ITS feeds: equal to Aave only when Aave's
    // sources are those same feeds (true at the default block; a wrapped source may differ).
    const aaveOracle = await clients.publicClient.readContract({ address: MAINNET.aavePoolAddressesProvider, abi: poolAddressesProviderAbi, functionName: 'getPriceOracle' });
    const oracle = { address: aaveOracle, abi: aaveOracleAbi } as const;
    const [wethSource, usdcSource] = await Promise.all([
      clients.publicClient.readContract({ ...oracle, functionName: 'getSourceOfAsset', args: [MAINNET.weth] }),
      clients.publicClient.readContract({ ...oracle, functionName: 'getSourceOfAsset', args: [MAINNET.usdc] }),
    ]);
    const ours = assess(s2, policy).collateral.ratioE18;
    if (getAddress(wethSource) === MAINNET.ethUsdFeed && getAddress(usdcSource) === MAINNET.usdcUsdFeed) {
      expect(ours).toBe(a2.healthFactorE18);
    } else {
      const diff = ours > a2.healthFactorE18 ? ours - a2.healthFactorE18 : a2.healthFactorE18 - ours;
      expect(diff * 100n).toBeLessThan(a2.healthFactorE18); // within 1%, the sources' spread
    }

    await run({ kind: 'adjustHedge', sizeDeltaWei: parseEther('0.5'), reason: 'fork' }, s2);
    const s3 = await reader.read();
    const debtDrop = (s2.hedge as AaveVenueAccount).debtWei - (s3.hedge as AaveVenueAccount).debtWei;
    expect(debtDrop).toBeLessThanOrEqual(parseEther('0.5'));
    expect(debtDrop).toBeGreaterThan(parseEther('0.5') - 10n ** 12n); // minus a few blocks of interest
    expect(s3.wallet.wethWei).toBe(0n); // all bought WETH went to the repay
    const a3 = await aaveAt(s3);
    expect(a3.recomputed).toBe(a3.healthFactorE18);
    expect(a3.healthFactorE18).toBeGreaterThan(a2.healthFactorE18);
  });
});
