/**
 * The devnet's market: every step pushes the next price of a path to the ETH/USD feed (as the
 * deployer, its owner) and, with arbitrage on, swaps the Uniswap pool to the same price (as the
 * market maker), so the oracle and the pool agree the way arbitrageurs keep them together on
 * mainnet. Used by `npm run devnet`, by the keeper's embedded demo and by scenario tests, so it
 * keeps itself funded: thousands of steps can wander far from the start price.
 */
import { parseEther, type Address, type Hex } from 'viem';
import { mockUsdcAbi, priceFeedAbi, weth9Abi } from '../../contracts-abi/index.js';
import { createAnvilTestClient, createClients, type Clients } from '../chain/clients.js';
import type { Logger } from '../monitor/logger.js';
import { priceE8FromSqrtPriceX96 } from '../spot/uniswap-math.js';
import { devnetAccount } from './accounts.js';
import type { DevnetAddresses } from './deploy.js';
import { followerPriceE8, scriptedPath, type FollowerOptions, type PricePath } from './price-path.js';
import { createRng } from '../core/risk/random.js';
import { arbitragePoolToPrice, devnetTokenAbi, poolTokens, readPoolState, type ArbitrageResult } from './uniswap.js';
import { arbitragePairToPrice, pairPriceE8, type TokenPair } from './uniswap.js';
import { btcInEthE8, solUsdcPair, wbtcUsdcPair, wbtcWethPair } from './deploy-portfolio.js';
import { confirm } from './confirm.js';

export interface MarketStep {
  /** 1-based count of steps this driver has taken. */
  step: number;
  /** What the ETH/USD feed now answers. */
  priceE8: bigint;
  /** The pool's price after the step (unchanged when arbitrage is off). */
  poolPriceE8: bigint;
  /** `off` when arbitrage is disabled. */
  arbitrage: ArbitrageResult['status'] | 'off';
  /** The market maker's inventory had to be refilled during this step. */
  toppedUp: boolean;
  /** With a `btcPath`: what the BTC/USD feed now answers. */
  btcPriceE8?: bigint;
  /** With a `btcPath`: the WBTC/USDC pool's price after the step. */
  btcPoolPriceE8?: bigint;
  /** With a `btcPath`: the worse of the WBTC/USDC and WETH/WBTC arbitrages (`off` without arbitrage). */
  btcArbitrage?: ArbitrageResult['status'] | 'off';
  /** With a `btcPath` on a devnet with SOL: what the SOL/USD feed now answers (it follows ETH). */
  solPriceE8?: bigint;
  solArbitrage?: ArbitrageResult['status'] | 'off';
}

export interface MarketDriverOptions {
  rpcUrl: string;
  addresses: DevnetAddresses;
  path: PricePath;
  arbitrage: boolean;
  logger?: Logger;
  /** Level of the per-step `market.step` line (default debug: the keeper's demo steps often). */
  stepLogLevel?: 'debug' | 'info';
  /** Receipt polling of the viem clients (default 20 ms: anvil mines instantly). */
  pollingIntervalMs?: number;
  /**
   * BTC/USD prices, taken in lockstep with `path` (e.g. `createCorrelatedGbmPaths`): each step
   * also sets the BTC feed and, with arbitrage on, moves the WBTC/USDC pool to it and the
   * WETH/WBTC pool to BTC/ETH. Omitted: ETH only, exactly as before the devnet had BTC.
   */
  btcPath?: PricePath;
  /**
   * With a `btcPath` on a devnet with SOL (the proxy-hedged third asset): each step also moves SOL
   * by beta × ETH's log move plus its own seeded noise (followerPriceE8), its feed and its pool.
   * Default { beta: 0.9, noise: 0.3, seed: 7 }; false leaves SOL alone.
   */
  solFollowsEth?: (FollowerOptions & { seed: number }) | false;
}

export interface MarketDriver {
  /** Push the next price of the path; rejects when the path has ended (check `done`). */
  step(): Promise<MarketStep>;
  /** Step every `intervalMs` in the background until stopped or the path ends. */
  start(intervalMs: number): void;
  /** Stop the loop and wait for the step in flight. */
  stop(): Promise<void>;
  readonly running: boolean;
  /** The path has no more prices. */
  readonly done: boolean;
  readonly steps: number;
}

/**
 * What the market maker keeps on hand. A +30% jump on the devnet pool (20M USD a side, full
 * range) costs about 2.8M USDC and a -30% one about 2,000 WETH; below the floor it is refilled
 * to the target before the swap, and a swap that still runs dry is refilled and retried.
 */
const INVENTORY = {
  usdc: { floorUnits: 5_000_000n * 10n ** 6n, targetUnits: 20_000_000n * 10n ** 6n },
  weth: { floorWei: parseEther('2500'), targetWei: parseEther('10000') },
  gasFloorWei: parseEther('100'),
  gasTargetWei: parseEther('1000000'),
} as const;
const MAX_ARBITRAGE_ATTEMPTS = 3;
/** WBTC on hand for the BTC pools (20M USD a side WBTC/USDC: -30% costs about 65 WBTC). */
const WBTC_INVENTORY = { floorUnits: 100n * 10n ** 8n, targetUnits: 400n * 10n ** 8n } as const;
/** SOL on hand for the SOL/USDC pool (5M USD a side: -30% costs about 6,000 SOL). */
const SOL_INVENTORY = { floorUnits: 20_000n * 10n ** 9n, targetUnits: 100_000n * 10n ** 9n } as const;
const SOL_FOLLOWS_ETH = { beta: 0.9, noise: 0.3, seed: 7 } as const;


/**
 * Serialize the sends of one account: viem numbers a transaction from the pending count, so two
 * sends racing from the deployer (feed update and a refill) could take the same nonce. Holding
 * the lock only until the node has the transaction keeps confirmations concurrent.
 */
function createSerialQueue(): <T>(send: () => Promise<T>) => Promise<T> {
  let last: Promise<unknown> = Promise.resolve();
  return (send) => {
    const next = last.then(send, send);
    last = next.catch(() => undefined);
    return next;
  };
}

type SerialQueue = ReturnType<typeof createSerialQueue>;

function createInventory(rpcUrl: string, a: DevnetAddresses, owner: Clients, ownerSend: SerialQueue, maker: Clients, logger?: Logger) {
  const test = createAnvilTestClient(rpcUrl, a.chainId);
  const makerAddress = maker.walletClient.account.address;
  const balanceOf = (token: Address) =>
    maker.publicClient.readContract({ address: token, abi: devnetTokenAbi, functionName: 'balanceOf', args: [makerAddress] });

  /** anvil only: gas money for whoever signs the refills and swaps. */
  async function ensureGas(address: Address, needWei: bigint): Promise<void> {
    const balance = await owner.publicClient.getBalance({ address });
    if (balance < needWei + INVENTORY.gasFloorWei) await test.setBalance({ address, value: needWei + INVENTORY.gasTargetWei });
  }

  async function addUsdc(units: bigint): Promise<void> {
    const sent = ownerSend(() => owner.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [makerAddress, units] }));
    await confirm(owner, sent, 'USDC mint');
  }

  async function addWeth(wei: bigint): Promise<void> {
    await ensureGas(owner.walletClient.account.address, wei);
    await confirm(owner, ownerSend(() => owner.walletClient.writeContract({ address: a.weth, abi: weth9Abi, functionName: 'deposit', value: wei })), 'WETH deposit');
    const sent = ownerSend(() => owner.walletClient.writeContract({ address: a.weth, abi: weth9Abi, functionName: 'transfer', args: [makerAddress, wei] }));
    await confirm(owner, sent, 'WETH transfer');
  }

  return {
    /** Refill whatever is below its floor; true when anything was added. */
    async ensureFloors(): Promise<boolean> {
      const [usdc, weth] = await Promise.all([balanceOf(a.usdc), balanceOf(a.weth), ensureGas(makerAddress, 0n)]);
      const work: Promise<void>[] = [];
      if (usdc < INVENTORY.usdc.floorUnits) work.push(addUsdc(INVENTORY.usdc.targetUnits - usdc));
      if (weth < INVENTORY.weth.floorWei) work.push(addWeth(INVENTORY.weth.targetWei - weth));
      await Promise.all(work);
      if (work.length > 0) logger?.info({ event: 'market.inventory_topped_up', usdcUnits: usdc, wethWei: weth }, 'market.inventory_topped_up');
      return work.length > 0;
    },
    /** BTC steps only: refill WBTC below its floor (the maker mints it: anyone may mint the devnet WBTC). */
    async ensureWbtcFloor(): Promise<boolean> {
      if (!a.wbtc) return false;
      const wbtc = await balanceOf(a.wbtc);
      if (wbtc >= WBTC_INVENTORY.floorUnits) return false;
      await this.refillToken(a.wbtc);
      return true;
    },
    /** SOL steps only: refill SOL below its floor (anyone may mint the devnet SOL). */
    async ensureSolFloor(): Promise<boolean> {
      if (!a.sol || (await balanceOf(a.sol)) >= SOL_INVENTORY.floorUnits) return false;
      await this.refillToken(a.sol);
      return true;
    },
    /** A BTC pool's swap ran dry: add a full target of whichever token it was selling. */
    async refillToken(token: Address): Promise<void> {
      const is = (t: Address | undefined) => t !== undefined && t.toLowerCase() === token.toLowerCase();
      if (is(a.weth)) await addWeth(INVENTORY.weth.targetWei);
      else if (is(a.usdc)) await addUsdc(INVENTORY.usdc.targetUnits);
      else if (is(a.wbtc)) {
        const args = [makerAddress, WBTC_INVENTORY.targetUnits] as const;
        await confirm(maker, maker.walletClient.writeContract({ address: token, abi: devnetTokenAbi, functionName: 'mint', args }), 'WBTC mint');
      } else if (is(a.sol)) {
        const args = [makerAddress, SOL_INVENTORY.targetUnits] as const;
        await confirm(maker, maker.walletClient.writeContract({ address: token, abi: devnetTokenAbi, functionName: 'mint', args }), 'SOL mint');
      } else throw new Error(`market driver: no inventory for token ${token}`);
      logger?.info({ event: 'market.inventory_refilled', token }, 'market.inventory_refilled');
    },
    /** The swap ran dry: add a full target of the token it was selling. */
    async refill(sellingWeth: boolean): Promise<void> {
      if (sellingWeth) await addWeth(INVENTORY.weth.targetWei);
      else await addUsdc(INVENTORY.usdc.targetUnits);
      logger?.info({ event: 'market.inventory_refilled', token: sellingWeth ? 'WETH' : 'USDC' }, 'market.inventory_refilled');
    },
  };
}

export function createMarketDriver(opts: MarketDriverOptions): MarketDriver {
  const a = opts.addresses;
  const clientsFor = (role: 'deployer' | 'marketMaker') =>
    createClients({ rpcUrls: [opts.rpcUrl], chainId: a.chainId, privateKey: devnetAccount(role).privateKey, pollingIntervalMs: opts.pollingIntervalMs ?? 20 });
  const owner = clientsFor('deployer');
  const maker = clientsFor('marketMaker');
  const ownerSend = createSerialQueue();
  const inventory = createInventory(opts.rpcUrl, a, owner, ownerSend, maker, opts.logger);
  const { baseIsToken0 } = poolTokens(a.weth, a.usdc);
  const poolArgs = { pool: a.uniswap.pool, swapRouter: a.uniswap.swapRouter, weth: a.weth, usdc: a.usdc };

  // One price of lookahead, so `done` is known before a step is attempted.
  let upcoming = opts.path.next();
  const btc = opts.btcPath ? createBtcLeg(opts.btcPath) : undefined;
  const sol = btc && opts.solFollowsEth !== false ? createSolLeg(opts.solFollowsEth ?? SOL_FOLLOWS_ETH) : undefined;
  let steps = 0;
  const serialSteps = createSerialQueue();

  async function setFeed(priceE8: bigint): Promise<void> {
    const sent = ownerSend(() => owner.walletClient.writeContract({ address: a.ethUsdFeed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] }));
    await confirm(owner, sent, 'feed setPrice');
  }

  async function movePool(priceE8: bigint): Promise<{ status: ArbitrageResult['status']; toppedUp: boolean; poolPriceE8: bigint }> {
    let toppedUp = await inventory.ensureFloors();
    for (let attempt = 1; ; attempt++) {
      const r = await arbitragePoolToPrice(maker, { ...poolArgs, targetPriceE8: priceE8 });
      if (r.status === 'at-target' || attempt >= MAX_ARBITRAGE_ATTEMPTS) return { status: r.status, toppedUp, poolPriceE8: r.priceAfterE8 };
      // The maker sells WETH to push the price down.
      await inventory.refill(priceE8 < r.priceAfterE8);
      toppedUp = true;
    }
  }

  async function readPoolPriceE8(): Promise<bigint> {
    const state = await readPoolState(maker.publicClient, a.uniswap.pool);
    return priceE8FromSqrtPriceX96(state.sqrtPriceX96, baseIsToken0);
  }

  /** The BTC side of a step: its path, feed and the two BTC pools (ETH's inventory is shared). */
  function createBtcLeg(path: PricePath) {
    const { wbtc, btcUsdFeed, pools } = a;
    if (!wbtc || !btcUsdFeed || !pools) throw new Error('market driver: btcPath needs a devnet with WBTC (wbtc, btcUsdFeed, pools)');
    const legs: { pool: Address; pair: TokenPair; target: (btcE8: bigint, ethE8: bigint) => bigint }[] = [
      { pool: pools.wbtcUsdc.address, pair: wbtcUsdcPair({ wbtc, usdc: a.usdc }), target: (b) => b },
      { pool: pools.wethWbtc.address, pair: wbtcWethPair({ wbtc, weth: a.weth }), target: btcInEthE8 },
    ];
    let next = path.next();
    const readPoolPrice = async () => pairPriceE8(legs[0]!.pair, (await readPoolState(maker.publicClient, legs[0]!.pool)).sqrtPriceX96);
    return {
      done: () => next.done === true,
      take(): bigint {
        if (next.done) throw new Error('market driver: the BTC price path has ended');
        const priceE8 = next.value;
        next = path.next();
        if (priceE8 <= 0n) throw new RangeError(`market driver: BTC price path yielded ${priceE8}`);
        return priceE8;
      },
      async setFeed(priceE8: bigint): Promise<void> {
        const sent = ownerSend(() => owner.walletClient.writeContract({ address: btcUsdFeed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] }));
        await confirm(owner, sent, 'BTC feed setPrice');
      },
      /** After the ETH pool (same signer): WBTC/USDC to the BTC price, then WETH/WBTC to BTC/ETH. */
      async movePools(btcE8: bigint, ethE8: bigint): Promise<{ status: ArbitrageResult['status']; toppedUp: boolean; poolPriceE8: bigint }> {
        let toppedUp = await inventory.ensureWbtcFloor();
        let worst: ArbitrageResult['status'] = 'at-target';
        for (const leg of legs) {
          const targetPriceE8 = leg.target(btcE8, ethE8);
          for (let attempt = 1; ; attempt++) {
            const r = await arbitragePairToPrice(maker, { pool: leg.pool, swapRouter: a.uniswap.swapRouter, pair: leg.pair, targetPriceE8 });
            if (r.status === 'at-target' || attempt >= MAX_ARBITRAGE_ATTEMPTS) {
              if (r.status !== 'at-target') worst = r.status;
              break;
            }
            // Selling the base (WBTC) pushes the pair's price down.
            await inventory.refillToken(targetPriceE8 < r.priceAfterE8 ? leg.pair.base : leg.pair.quote);
            toppedUp = true;
          }
        }
        return { status: worst, toppedUp, poolPriceE8: await readPoolPrice() };
      },
      readPoolPrice,
    };
  }

  /** SOL follows ETH (the devnet's proxy-hedged asset): its feed and the SOL/USDC pool; undefined on a devnet without SOL. */
  function createSolLeg(o: FollowerOptions & { seed: number }) {
    const { sol: token, solUsdFeed: feed } = a;
    const poolRef = a.pools?.solUsdc;
    if (!token || !feed || !poolRef) return undefined;
    const rng = createRng(o.seed);
    const pair = solUsdcPair({ sol: token, usdc: a.usdc });
    const read = (address: Address) => owner.publicClient.readContract({ address, abi: priceFeedAbi, functionName: 'latestAnswer' });
    /** The last prices this driver set (read from the feeds at the first step). */
    let last: { eth: bigint; sol: bigint } | null = null;
    return {
      /** SOL's price for ETH moving to `ethE8`. */
      async next(ethE8: bigint): Promise<bigint> {
        last ??= { eth: await read(a.ethUsdFeed), sol: await read(feed) };
        const solE8 = followerPriceE8(last.sol, last.eth, ethE8, o, rng.normal());
        last = { eth: ethE8, sol: solE8 };
        return solE8;
      },
      async setFeed(priceE8: bigint): Promise<void> {
        await confirm(owner, ownerSend(() => owner.walletClient.writeContract({ address: feed, abi: priceFeedAbi, functionName: 'setPrice', args: [priceE8] })), 'SOL feed setPrice');
      },
      async movePool(priceE8: bigint): Promise<{ status: ArbitrageResult['status']; toppedUp: boolean }> {
        let toppedUp = await inventory.ensureSolFloor();
        for (let attempt = 1; ; attempt++) {
          const r = await arbitragePairToPrice(maker, { pool: poolRef.address, swapRouter: a.uniswap.swapRouter, pair, targetPriceE8: priceE8 });
          if (r.status === 'at-target' || attempt >= MAX_ARBITRAGE_ATTEMPTS) return { status: r.status, toppedUp };
          await inventory.refillToken(priceE8 < r.priceAfterE8 ? pair.base : pair.quote);
          toppedUp = true;
        }
      },
    };
  }

  async function stepNow(): Promise<MarketStep> {
    if (upcoming.done) throw new Error('market driver: the price path has ended');
    const priceE8 = upcoming.value;
    upcoming = opts.path.next(); // before the check: a bad price is skipped, not retried forever
    if (priceE8 <= 0n) throw new RangeError(`market driver: price path yielded ${priceE8}`);
    if (btc) return stepWithBtc(btc, priceE8);
    const t0 = performance.now();
    // Different signers, so the feed update and the swap can land in the same block. allSettled:
    // a failed half must not leave the other still sending while the next step starts.
    const [feed, pool] = await Promise.allSettled([
      setFeed(priceE8),
      opts.arbitrage ? movePool(priceE8) : readPoolPriceE8().then((p) => ({ status: 'off' as const, toppedUp: false, poolPriceE8: p })),
    ]);
    if (feed.status === 'rejected') throw feed.reason;
    if (pool.status === 'rejected') throw pool.reason;
    steps++;
    const { poolPriceE8, status, toppedUp } = pool.value;
    const result: MarketStep = { step: steps, priceE8, poolPriceE8, arbitrage: status, toppedUp };
    opts.logger?.[opts.stepLogLevel ?? 'debug']({ event: 'market.step', ...result, ms: Math.round(performance.now() - t0) }, 'market.step');
    return result;
  }

  /** `stepNow` with BTC: both feeds (deployer) alongside the three pools in turn (market maker). */
  async function stepWithBtc(leg: NonNullable<typeof btc>, priceE8: bigint): Promise<MarketStep> {
    const btcE8 = leg.take();
    const solE8 = sol ? await sol.next(priceE8) : undefined;
    const t0 = performance.now();
    const off = (poolPriceE8: bigint) => ({ status: 'off' as const, toppedUp: false, poolPriceE8 });
    const pools = async () => {
      const eth = opts.arbitrage ? await movePool(priceE8) : off(await readPoolPriceE8());
      const btcPool = opts.arbitrage ? await leg.movePools(btcE8, priceE8) : off(await leg.readPoolPrice());
      const solPool = sol && solE8 !== undefined ? (opts.arbitrage ? await sol.movePool(solE8) : { status: 'off' as const, toppedUp: false }) : undefined;
      return { eth, btcPool, solPool };
    };
    const feeds = [setFeed(priceE8), leg.setFeed(btcE8), ...(sol && solE8 !== undefined ? [sol.setFeed(solE8)] : [])];
    const settled = await Promise.allSettled([pools(), ...feeds]);
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const { eth, btcPool, solPool } = (settled[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof pools>>>).value;
    steps++;
    const result: MarketStep = {
      step: steps,
      priceE8,
      poolPriceE8: eth.poolPriceE8,
      arbitrage: eth.status,
      toppedUp: eth.toppedUp || btcPool.toppedUp || solPool?.toppedUp === true,
      btcPriceE8: btcE8,
      btcPoolPriceE8: btcPool.poolPriceE8,
      btcArbitrage: btcPool.status,
      ...(solE8 !== undefined && solPool ? { solPriceE8: solE8, solArbitrage: solPool.status } : {}),
    };
    opts.logger?.[opts.stepLogLevel ?? 'debug']({ event: 'market.step', ...result, ms: Math.round(performance.now() - t0) }, 'market.step');
    return result;
  }

  // Steps never overlap, whether they come from the loop or from direct calls.
  const step = (): Promise<MarketStep> => serialSteps(stepNow);

  const pathDone = () => upcoming.done === true || btc?.done() === true;
  const loop = createLoop(step, pathDone, opts.logger);
  return {
    step,
    start: loop.start,
    stop: loop.stop,
    get running() {
      return loop.running();
    },
    get done() {
      return pathDone();
    },
    get steps() {
      return steps;
    },
  };
}

/** A background loop: one step per interval, measured from the start of the step, never overlapping. */
function createLoop(step: () => Promise<MarketStep>, pathDone: () => boolean, logger?: Logger) {
  let running = false;
  let finished: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, ms);
    });

  async function run(intervalMs: number): Promise<void> {
    let failures = 0;
    while (running) {
      if (pathDone()) {
        logger?.info({ event: 'market.path_ended' }, 'market.path_ended');
        break;
      }
      const t0 = performance.now();
      try {
        await step();
        failures = 0;
      } catch (err) {
        failures++;
        logger?.warn({ event: 'market.step_failed', err, consecutiveFailures: failures }, 'market.step_failed');
      }
      if (running) await sleep(Math.max(0, intervalMs - (performance.now() - t0)));
    }
    running = false;
  }

  return {
    start(intervalMs: number): void {
      if (!(intervalMs >= 0)) throw new RangeError('market driver: intervalMs must be >= 0');
      if (running) return;
      running = true;
      logger?.info({ event: 'market.started', intervalMs }, 'market.started');
      finished = run(intervalMs);
    },
    async stop(): Promise<void> {
      const wasRunning = running;
      running = false;
      clearTimeout(timer);
      wake?.();
      await finished;
      if (wasRunning) logger?.info({ event: 'market.stopped' }, 'market.stopped');
    },
    running: () => running,
  };
}

/** One-shot: set the feed to `priceE8` and (by default) arbitrage the pool to it. */
export async function movePrice(
  rpcUrl: string,
  addresses: DevnetAddresses,
  priceE8: bigint,
  opts: { arbitrage?: boolean; logger?: Logger } = {},
): Promise<MarketStep> {
  const driver = createMarketDriver({ rpcUrl, addresses, path: scriptedPath([priceE8]), arbitrage: opts.arbitrage ?? true, logger: opts.logger });
  return driver.step();
}
