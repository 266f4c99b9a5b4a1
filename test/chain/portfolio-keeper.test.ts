import { erc20Abi, type Address } from 'viem';
import { LENDING_CALL_GAS } from '../../src/devnet/confirm.js';
import { describe, expect, it } from 'vitest';
import { perpExchangeAbi } from '../../contracts-abi/index.js';
import { injectRound, latestRound } from '../chaos/mock-feed.js';
import { aavePoolAbi } from '../../src/devnet/aave-artifacts.js';
import { confirm } from '../../src/devnet/confirm.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * The acceptance tests of the portfolio keeper (issue 11), on the devnet's multi-asset demo
 * account: LPs in WETH/USDC and WBTC/WETH, ETH hedged on the perp (priority 1) and on Aave
 * (priority 2), BTC on Aave. Each asserts on chain state, read directly from the contracts.
 */

const E8 = 10n ** 8n;
const ETH_USD = 2_000n * E8;
const BTC_USD = 60_000n * E8;
const abs = (x: bigint) => (x < 0n ? -x : x);

/** Replace the policy line of one asset in the demo keeper.yaml. */
function withPolicy(asset: 'ETH' | 'BTC', line: string): (yaml: string) => string {
  return (y) => y.replace(new RegExp(`^    ${asset}: \\{ hedgeRatio.*$`, 'm'), `    ${asset}: { ${line} }`);
}
const wideBand = (asset: 'ETH' | 'BTC') =>
  withPolicy(asset, `hedgeRatio: 1, band: ${asset === 'ETH' ? 1000 : 100}, bandPct: 0, hysteresis: 0.5, minTrade: 0.0001, maxTrade: 1000, maxNotionalPerDayUsd: 100000000`);

async function chainState(d: Devnet) {
  const c = d.as('portfolioDemo').publicClient;
  const me = d.addresses.demo.portfolio.account;
  const a = d.addresses;
  const perp = (m: string) => c.readContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [me, BigInt(m)] });
  const bal = (token: Address) => c.readContract({ address: token, abi: erc20Abi, functionName: 'balanceOf', args: [me] });
  const [ethPerp, hf] = await Promise.all([perp(a.perpMarketId), c.readContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [me] })]);
  return {
    perpEthSize: ethPerp.sizeWei,
    perpEthRatioE18: ethPerp.marginRatioE18,
    aaveWethDebt: await bal(a.aave.variableDebtWeth),
    aaveWbtcDebt: await bal(a.aave.variableDebtWbtc as Address),
    aaveCollateralUsdc: await bal(a.aave.aUsdc),
    walletUsdc: await bal(a.usdc),
    aaveHfE18: hf[5],
  };
}

describe('portfolio keeper on the devnet demo portfolio (ETH + BTC, perp + Aave)', () => {
  const devnet = useDevnet();

  it('starts delta-neutral in both assets: nothing to do, and its Aave health factor is getUserAccountData\'s with two borrowed assets', async () => {
    const d = devnet();
    const { keeper } = await portfolioKeeperOn(d);
    const r = await keeper.tickOnce();
    expect(r.plan.actions).toEqual([]);
    expect(r.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['SOL', true]]);
    const aave = r.assessment.venues.find((v) => v.venue === 'aave')!;
    const onChain = await chainState(d);
    expect(onChain.aaveWethDebt).toBeGreaterThan(0n);
    expect(onChain.aaveWbtcDebt).toBeGreaterThan(0n);
    const [, , , , , hfAtBlock] = await d.as('portfolioDemo').publicClient.readContract({
      address: d.addresses.aave.pool, abi: aavePoolAbi, functionName: 'getUserAccountData', args: [d.addresses.demo.portfolio.account], blockNumber: r.snapshot.blockNumber,
    });
    expect(aave.buckets[0]?.ratioE18).toBe(hfAtBlock);
    expect(r.doubts.venues).toEqual({});
  });

  it('a BTC move is hedged on Aave while ETH stays in band', async () => {
    const d = devnet();
    const { keeper } = await portfolioKeeperOn(d, { yaml: wideBand('ETH') });
    const before = await chainState(d);
    await setPortfolioPrices(d, { eth: ETH_USD, btc: (BTC_USD * 105n) / 100n });
    const r = await keeper.tickOnce();
    expect(r.plan.actions.map((a) => [a.kind, a.kind === 'adjustHedge' ? a.instrument : ''])).toEqual([['adjustHedge', 'aave:BTC']]);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const after = await chainState(d);
    // The LP sold BTC for ETH on the way up: less BTC to hedge, so BTC debt was repaid...
    expect(after.aaveWbtcDebt).toBeLessThan(before.aaveWbtcDebt);
    // ...and nothing else moved: the ETH hedge on both venues is untouched.
    expect(after.perpEthSize).toBe(before.perpEthSize);
    expect(after.aaveWethDebt - before.aaveWethDebt).toBeLessThan(10n ** 12n); // interest only
    const next = await keeper.tickOnce();
    const btc = next.assessment.assets.find((x) => x.asset === 'BTC')!;
    expect(btc.inBand).toBe(true);
    expect(next.plan.actions).toEqual([]);
  });

  it('an ETH move is hedged on the perp, its first instrument', async () => {
    const d = devnet();
    const { keeper } = await portfolioKeeperOn(d, { yaml: wideBand('BTC') });
    const before = await chainState(d);
    await setPortfolioPrices(d, { eth: (ETH_USD * 98n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    expect(r.plan.actions.map((a) => (a.kind === 'adjustHedge' ? a.instrument : a.kind))).toEqual(['perp:ETH']);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const after = await chainState(d);
    const hedge = r.plan.actions[0]?.kind === 'adjustHedge' ? r.plan.actions[0].sizeDeltaUnits : 0n;
    expect(hedge).toBeLessThan(0n); // ETH fell: the LPs hold more ETH, the short grows
    expect(after.perpEthSize - before.perpEthSize).toBe(hedge); // 18 decimals: size units = asset units
    expect(after.aaveWethDebt - before.aaveWethDebt).toBeLessThan(10n ** 12n);
    expect((await keeper.tickOnce()).assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
  });

  it('a WBTC/WETH LP\'s delta is in both assets and is hedged in both', async () => {
    const d = devnet();
    // Room on the perp (target 0.2): the ETH the LP gains is shorted there.
    const { keeper } = await portfolioKeeperOn(d, { yaml: (y) => y.replace('trigger: 0.15, target: 0.25', 'trigger: 0.1, target: 0.2') });
    const before = await chainState(d);
    // BTC up 4% against ETH: the WBTC/WETH LP sells WBTC for WETH.
    await setPortfolioPrices(d, { eth: ETH_USD, btc: (BTC_USD * 104n) / 100n });
    const r = await keeper.tickOnce();
    const lp = r.snapshot.lps.find((x) => x.pool === 'weth-wbtc')!;
    expect(lp.amount0 > 0n && lp.amount1 > 0n).toBe(true);
    expect(r.results.every((x) => x.outcome === 'done')).toBe(true);
    const after = await chainState(d);
    expect(after.aaveWbtcDebt).toBeLessThan(before.aaveWbtcDebt);
    expect(after.perpEthSize).toBeLessThan(before.perpEthSize);
    const next = await keeper.tickOnce();
    expect(next.assessment.assets.map((x) => [x.asset, x.inBand])).toEqual([['ETH', true], ['BTC', true], ['SOL', true]]);
  });

  it('a venue at its collateral limit spills the rest of the hedge to the next instrument of that asset', async () => {
    const d = devnet();
    // Aave has room (target 1.3); the perp has about 3.5 ETH of room at its target 0.25.
    const { keeper } = await portfolioKeeperOn(d, { yaml: (y) => wideBand('BTC')(y).replace('trigger: 1.3, target: 1.6', 'trigger: 1.2, target: 1.3') });
    const before = await chainState(d);
    await setPortfolioPrices(d, { eth: (ETH_USD * 94n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    const hedges = r.plan.actions.filter((a) => a.kind === 'adjustHedge');
    expect(hedges.map((a) => a.instrument)).toEqual(['perp:ETH', 'aave:ETH']);
    expect(r.results.map((x) => x.outcome)).toEqual(['done', 'done']);
    const after = await chainState(d);
    // The perp took what it could at its target ratio, no more...
    expect(after.perpEthRatioE18).toBeGreaterThanOrEqual(25n * 10n ** 16n);
    expect(after.perpEthRatioE18).toBeLessThan(2501n * 10n ** 14n);
    // ...and the rest is borrowed on Aave.
    const spilled = hedges[1]?.kind === 'adjustHedge' ? -hedges[1].sizeDeltaUnits : 0n;
    expect(spilled).toBeGreaterThan(0n);
    expect(abs(after.aaveWethDebt - before.aaveWethDebt - spilled)).toBeLessThan(10n ** 12n);
    expect((await keeper.tickOnce()).assessment.assets.find((x) => x.asset === 'ETH')?.inBand).toBe(true);
  });

  it('a market with no margin yet: the keeper tops it up from the wallet to make room, then opens the short there', async () => {
    const d = devnet();
    // BTC's first instrument becomes the perp BTC market, where the account has never deposited.
    const { keeper } = await portfolioKeeperOn(d, {
      yaml: (y) => wideBand('ETH')(y).replace('  - { venue: aave, asset: BTC, priority: 1, weight: 1 }', '  - { venue: perp, asset: BTC, priority: 1, weight: 1 }\n  - { venue: aave, asset: BTC, priority: 2, weight: 1 }'),
    });
    const c = d.as('portfolioDemo').publicClient;
    const btcMarket = () => c.readContract({ address: d.addresses.perp, abi: perpExchangeAbi, functionName: 'getAccount', args: [d.addresses.demo.portfolio.account, BigInt(d.addresses.perpBtcMarketId)] });
    expect((await btcMarket()).marginUnits).toBe(0n);
    // BTC -4% against ETH: the WBTC/WETH LP buys BTC, the short must grow.
    await setPortfolioPrices(d, { eth: ETH_USD, btc: (BTC_USD * 96n) / 100n });
    const r = await keeper.tickOnce();
    // Aave (the second instrument) takes what it can at its target; the rest opens the perp market,
    // funded first.
    expect(r.plan.actions.map((a) => (a.kind === 'adjustHedge' ? a.instrument : `${a.kind}:${a.kind === 'topUp' ? `${a.venue}/${a.asset}` : ''}`))).toEqual(['topUp:perp/BTC', 'aave:BTC', 'perp:BTC']);
    expect(r.results.map((x) => x.outcome)).toEqual(['done', 'done', 'done']);
    const topUp = r.plan.actions[0]!.kind === 'topUp' ? r.plan.actions[0]!.amountUnits : 0n;
    const hedge = r.plan.actions[2]!.kind === 'adjustHedge' ? r.plan.actions[2]!.sizeDeltaUnits : 0n;
    expect(hedge).toBeLessThan(0n);
    const after = await btcMarket();
    expect(after.sizeWei).toBe(hedge * 10n ** 10n); // 8-decimal BTC units -> the exchange's 1e18 size
    expect(after.marginUnits).toBeLessThanOrEqual(topUp); // less the taker fee
    expect(after.marginRatioE18).toBeGreaterThanOrEqual(25n * 10n ** 16n - 10n ** 15n); // at its target, the fee aside
    expect((await keeper.tickOnce()).assessment.assets.find((x) => x.asset === 'BTC')?.inBand).toBe(true);
  });

  it('a venue under its trigger receives collateral moved from another venue when the wallet has none', async () => {
    const d = devnet();
    const me = d.as('portfolioDemo');
    // The user parks every wallet USDC on Aave: the wallet has none, Aave has plenty to spare.
    const walletUsdc = (await chainState(d)).walletUsdc;
    await confirm(me, me.walletClient.writeContract({ address: d.addresses.usdc, abi: erc20Abi, functionName: 'approve', args: [d.addresses.aave.pool, walletUsdc] }), 'approve');
    await confirm(me, me.walletClient.writeContract({ address: d.addresses.aave.pool, abi: aavePoolAbi, functionName: 'supply', args: [d.addresses.usdc, walletUsdc, me.walletClient.account.address, 0], gas: LENDING_CALL_GAS }), 'supply');
    const { keeper, lines } = await portfolioKeeperOn(d, { yaml: (y) => wideBand('BTC')(wideBand('ETH')(y)) });
    const before = await chainState(d);
    expect(before.walletUsdc).toBe(0n);
    // ETH +15%: the perp short loses, its margin ratio falls under 0.15.
    await setPortfolioPrices(d, { eth: (ETH_USD * 115n) / 100n, btc: BTC_USD });
    const r = await keeper.tickOnce();
    const perp = r.assessment.venues.find((v) => v.venue === 'perp')!.buckets.find((b) => b.asset === 'ETH')!;
    expect(perp.breached).toBe(true);
    const moves = r.plan.actions.filter((a) => a.kind === 'moveCollateral');
    expect(moves.map((a) => [a.from, a.to, a.toAsset])).toEqual([['aave', 'perp', 'ETH']]);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const moved = moves[0]!.amountUnits;
    const after = await chainState(d);
    expect(after.walletUsdc).toBe(0n);
    expect(abs(before.aaveCollateralUsdc - after.aaveCollateralUsdc - moved)).toBeLessThanOrEqual(1n); // aToken rounding
    expect(after.perpEthRatioE18).toBeGreaterThanOrEqual(25n * 10n ** 16n); // back at its target
    expect(after.aaveHfE18).toBeGreaterThan(16n * 10n ** 17n); // the donor kept its own target
    expect(lines().some((l) => l['event'] === 'tx.mined' && String(l['label']).startsWith('perp.deposit'))).toBe(true);
  });

  it('a feed answering 0: the venues that refuse to value the account are left unread and named, nothing is sized on ETH, the tick goes on', async () => {
    const d = devnet();
    const { keeper, lines } = await portfolioKeeperOn(d);
    await keeper.tickOnce();
    // Our PriceFeed refuses 0; the chaos suite's MockFeed, put in its place, answers what it is told.
    await injectRound(d, d.addresses.ethUsdFeed, { ...(await latestRound(d, d.addresses.ethUsdFeed)), roundId: 1n << 70n, answeredInRound: 1n << 70n, answer: 0n });
    const r = await keeper.tickOnce(); // no throw: a revert in one venue's reads is that venue's doubt
    expect(r.doubts.assets['ETH']).toMatch(/no usable ETH\/USD price/);
    expect(Object.keys(r.snapshot.unreadVenues ?? {})).toContain('perp');
    expect(r.doubts.venues['perp']).toMatch(/^account not read: getAccount\(/);
    expect(r.plan.actions).toEqual([]);
    expect(lines().some((l) => l['event'] === 'safe_mode.entered' && l['scope'] === 'venue perp')).toBe(true);
    expect(keeper.failedTicks).toBe(0);
  });

  it('a position the portfolio does not model, opened on the Aave account by hand, leaves that venue alone and alerts', async () => {
    const d = devnet();
    // The ETH-only account of the Aave demo, with an ETH-only portfolio (no BTC declared).
    const ethOnly = (y: string) =>
      y
        .replace(/^  BTC: \{ token.*\n/m, '')
        .replace(/^  (wbtc-usdc|weth-wbtc): .*\n/gm, '')
        .replace(', BTC: ' + d.addresses.perpBtcMarketId, '')
        .replace(', BTC: wbtc-usdc', '')
        .replace(/^  - \{ venue: aave, asset: BTC.*\n/m, '')
        .replace(/^    BTC: \{ hedgeRatio.*\n/m, '');
    const { keeper, lines } = await portfolioKeeperOn(d, { role: 'aaveDemo', yaml: ethOnly });
    const first = await keeper.tickOnce();
    expect(first.doubts.venues).toEqual({});
    const me = d.as('aaveDemo');
    await confirm(me, me.walletClient.writeContract({ address: d.addresses.aave.pool, abi: aavePoolAbi, functionName: 'borrow', args: [d.addresses.wbtc, 1_000_000n, 2n, 0, me.walletClient.account.address], gas: LENDING_CALL_GAS }), 'WBTC borrowed by hand');
    const r = await keeper.tickOnce();
    expect(r.doubts.venues['aave']?.toLowerCase()).toContain(`not modelled: ${d.addresses.wbtc.toLowerCase()} (supplied 0, debt 1000000`);
    expect(lines().some((l) => l['event'] === 'safe_mode.entered' && l['scope'] === 'venue aave')).toBe(true);
    // Nothing is planned on it, whatever the ETH delta does.
    await setPortfolioPrices(d, { eth: (ETH_USD * 90n) / 100n, btc: BTC_USD });
    const moved = await keeper.tickOnce();
    expect(moved.plan.actions.filter((a) => (a.kind === 'moveCollateral' ? a.from === 'aave' || a.to === 'aave' : a.venue === 'aave'))).toEqual([]);
    expect(moved.plan.skipped.join('\n')).toContain('venue aave excluded: venue safe mode (aave venue aave: not modelled');
  });
});
