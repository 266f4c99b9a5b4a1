import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { KeeperConfig } from '../config.js';
import type { Runtime } from './commands.js';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { createClients, type Clients } from '../chain/clients.js';
import { devnetAccount } from '../devnet/accounts.js';
import { refreshFeeds, DEVNET_ETH_PRICE_E8, type DevnetAddresses } from '../devnet/deploy.js';
import { ensureDevnetState, startDevnetFromState } from '../devnet/state.js';
import { createMarketDriver } from '../devnet/market-driver.js';
import { concatPaths, createCorrelatedGbmPaths, rampPath, scriptThenGbm, type PricePath } from '../devnet/price-path.js';
import { DEVNET_BTC_PRICE_E8 } from '../devnet/deploy-portfolio.js';
import { devnetPortfolioYaml } from '../devnet/portfolio-file.js';
import { parsePortfolioYaml } from '../portfolio/file.js';
import { aavePoolAbi } from '../devnet/aave-artifacts.js';
import { LENDING_CALL_GAS, confirm } from '../devnet/confirm.js';
import { addressesFromDevnet } from './addresses.js';
import { startDemoVenues } from '../devnet/demo-venues.js';

/**
 * The demo market is deliberately wild (a 2-second step moves ~0.3%, with an occasional
 * jump), and the demo account starts just above its margin trigger, so a newcomer sees hedges
 * and top-ups within a minute. Real markets are calmer; the policy is the same.
 *
 * The first steps are scripted, so every run shows both actions on either venue. ETH jumps +5%:
 * adverse for the perp short, whose margin ratio falls under the trigger before the hedge trade
 * can help (top-up with the hedge). It then falls to -6%: the keeper grows the hedge, which on
 * Aave means borrowing more WETH against the same collateral, so the health factor after the
 * planned hedge is under the trigger (top-up with the hedge), whether or not the jump up was
 * topped up too. Each jump is held for a few steps, so the keeper's multi-transaction actions
 * land on a pool that holds still. After the script the seeded random walk takes over.
 */
export const DEMO_MARKET = {
  stepMs: 2_000,
  blockTimeSec: 1,
  volAnnual: 12,
  jumps: { intensityPerYear: 365 * 24 * 3600 / 40, meanPct: 0, stdPct: 2.5 },
  /** Perp margin ratio the demo opens at (trigger 0.15 by default). */
  perpStartRatioPct: 17n,
  /** Aave health factor the demo opens at (trigger 1.3 by default), in hundredths. */
  aaveStartHfE2: 135n,
  /** The multi-asset demo's Aave account opens just under the trigger (its first tick tops it up). */
  portfolioAaveStartHfE2: 128n,
  /** The opening moves, as levels from the start price (scriptThenGbm): a jump, then the same level held. */
  script: [
    { toPct: 5, steps: 1 },
    { toPct: 5, steps: 4 },
    { toPct: -6, steps: 1 },
    { toPct: -6, steps: 4 },
  ],
} as const;

/** A seed for the demo's random walk when none is given: printed, so the run can be replayed. */
function randomDemoSeed(): number {
  return randomInt(1, 2 ** 31);
}

/** The demo user takes margin out so that the first adverse move needs a top-up. */
async function thinPerpMargin(c: Clients, d: DevnetAddresses): Promise<void> {
  const marketId = BigInt(d.perpMarketId);
  const acct = await c.publicClient.readContract({ address: d.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [c.walletClient.account.address, marketId] });
  const keep = (acct.notionalUnits * DEMO_MARKET.perpStartRatioPct) / 100n;
  const excess = acct.accountValueUnits - BigInt(keep);
  if (excess > 0n) await confirm(c, c.walletClient.writeContract({ address: d.perp, abi: perpExchangeAbi, functionName: 'withdraw', args: [marketId, excess] }), 'demo margin withdrawal');
}

async function thinAaveCollateral(c: Clients, d: DevnetAddresses, startHfE2: bigint = DEMO_MARKET.aaveStartHfE2): Promise<void> {
  const me = c.walletClient.account.address;
  const [collateralE8, debtE8, , ltBps] = await c.publicClient.readContract({ address: d.aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [me] });
  // HF = collateral * LT / debt  =>  keep = HF * debt / LT
  const keepE8 = (startHfE2 * debtE8 * 100n) / ltBps;
  const excessUnits = (collateralE8 - keepE8) / 100n;
  if (excessUnits > 0n) await confirm(c, c.walletClient.writeContract({ address: d.aave.pool, abi: aavePoolAbi, functionName: 'withdraw', args: [d.usdc, excessUnits, me], gas: LENDING_CALL_GAS }), 'demo collateral withdrawal');
}

/** The demo user takes collateral out of both venues so that the first adverse move needs top-ups on each. */
async function thinPortfolioCollateral(c: Clients, d: DevnetAddresses): Promise<void> {
  await thinPerpMargin(c, d);
  // Under its trigger from the start: with Morpho and Hyperliquid sharing ETH's growth, the Aave
  // account is no longer the one the first moves strain, and the demo still shows its top-up.
  await thinAaveCollateral(c, d, DEMO_MARKET.portfolioAaveStartHfE2);
}

/**
 * ETH and BTC for the multi-asset demo: the same opening script, BTC's jumps 0.4 times ETH's (both
 * venues see an adverse jump, and the WBTC/WETH LP moves BTC out of its band), then a seeded walk
 * with ETH/BTC's correlation (about 0.8 on the shipped hourly data).
 */
export function portfolioDemoPaths(seed: number): { eth: PricePath; btc: PricePath } {
  const legs = (start: bigint, script: ReadonlyArray<{ toPct: number; steps: number }>): { paths: PricePath[]; end: bigint } => {
    const paths: PricePath[] = [];
    let from = start;
    for (const leg of script) {
      const to = (start * BigInt(Math.round((100 + leg.toPct) * 100))) / 10_000n;
      paths.push(rampPath(from, to, leg.steps, 'geometric'));
      from = to;
    }
    return { paths, end: from };
  };
  const eth = legs(DEVNET_ETH_PRICE_E8, DEMO_MARKET.script);
  // BTC jumps less than ETH: the WBTC/WETH LP trades one for the other, so BTC (hedged on Aave
  // only) leaves its band on the first jump and ETH leaves its own further, and every run shows an
  // Aave hedge as well as the perp's.
  const btc = legs(DEVNET_BTC_PRICE_E8, DEMO_MARKET.script.map((l) => ({ ...l, toPct: l.toPct * 0.4 })));
  const walk = createCorrelatedGbmPaths({
    seed, stepSec: DEMO_MARKET.stepMs / 1000, correlation: 0.8,
    eth: { startPriceE8: eth.end, volAnnual: DEMO_MARKET.volAnnual, driftAnnual: 0 },
    btc: { startPriceE8: btc.end, volAnnual: DEMO_MARKET.volAnnual * 0.8, driftAnnual: 0 },
  });
  return { eth: concatPaths(...eth.paths, walk.eth), btc: concatPaths(...btc.paths, walk.btc) };
}

/** Without HEDGE_VENUE (and without a portfolio file), the demo is the multi-asset portfolio. */
export function runsPortfolioDemo(config: KeeperConfig): boolean {
  return !config.hedgeVenueSet && config.portfolioFile === null;
}

/**
 * Start anvil from the deployed devnet dump, prepare the demo account of the configured venue
 * (or of the multi-asset portfolio), and (when asked) drive the market: the runtime `npm start`
 * uses when no RPC is configured.
 */
export async function startEmbeddedDevnet(config: KeeperConfig, logger: Logger, opts: { drive: boolean; seed?: number }): Promise<Runtime> {
  const t0 = performance.now();
  const seed = opts.seed ?? randomDemoSeed();
  const state = await ensureDevnetState();
  // One-second blocks, as on a real chain: the keeper ticks per block, not per transaction.
  const anvil = await startDevnetFromState(state, { blockTimeSec: DEMO_MARKET.blockTimeSec });
  try {
    await refreshFeeds(anvil.rpcUrl, state.addresses);
    const portfolioDemo = runsPortfolioDemo(config);
    const role = portfolioDemo ? 'portfolioDemo' : config.venue === 'aave' ? 'aaveDemo' : 'perpDemo';
    const paths = portfolioDemo ? portfolioDemoPaths(seed) : null;
    const privateKey = devnetAccount(role).privateKey;
    const demo = createClients({ rpcUrls: [anvil.rpcUrl], chainId: 31337, privateKey, pollingIntervalMs: 250 });
    const driver = opts.drive
      ? createMarketDriver({
          rpcUrl: anvil.rpcUrl,
          addresses: state.addresses,
          arbitrage: true,
          pollingIntervalMs: 250,
          logger: logger.child({ component: 'market' }),
          ...(paths ? { btcPath: paths.btc } : {}),
          path: paths?.eth ?? scriptThenGbm(DEMO_MARKET.script, {
            seed,
            startPriceE8: DEVNET_ETH_PRICE_E8,
            volAnnual: DEMO_MARKET.volAnnual,
            driftAnnual: 0,
            stepSec: DEMO_MARKET.stepMs / 1000,
            jumps: DEMO_MARKET.jumps,
          }),
        })
      : null;
    // The multi-asset demo also hedges on Morpho Blue and on the local Hyperliquid exchange.
    const venues = portfolioDemo ? await startDemoVenues(demo, privateKey, state.addresses) : null;
    if (driver) {
      if (portfolioDemo) await thinPortfolioCollateral(demo, state.addresses);
      else if (config.venue === 'aave') await thinAaveCollateral(demo, state.addresses);
      else await thinPerpMargin(demo, state.addresses);
      driver.start(DEMO_MARKET.stepMs);
    }
    logger.info(
      {
        event: 'devnet.started', rpcUrl: anvil.rpcUrl, ms: Math.round(performance.now() - t0), account: devnetAccount(role).address, drive: opts.drive,
        ...(driver ? { seed } : {}),
      },
      `embedded devnet on ${anvil.rpcUrl}: no RPC_URLS configured, so the keeper runs the ${portfolioDemo ? `multi-asset portfolio (ETH + BTC + SOL on perp, Aave, Morpho and Hyperliquid at ${venues?.hl.server.url})` : config.venue} demo account` +
        (driver ? ` while a market driver moves the price (seed ${seed}; replay with --seed ${seed})` : ''),
    );
    return {
      rpcUrls: [anvil.rpcUrl],
      chainId: 31337,
      privateKey,
      addresses: addressesFromDevnet(state.addresses),
      portfolio: portfolioDemo ? parsePortfolioYaml(venues ? venues.withVenues(devnetPortfolioYaml(state.addresses)) : devnetPortfolioYaml(state.addresses), 'the demo keeper.yaml') : null,
      ...(venues ? { hyperliquidSigningKey: venues.agentKey } : {}),
      embedded: true,
      async close() {
        await driver?.stop();
        await venues?.close();
        await anvil.stop();
      },
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
