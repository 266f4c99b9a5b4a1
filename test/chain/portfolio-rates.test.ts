import { describe, expect, it } from 'vitest';
import { erc20Abi } from 'viem';
import { irmMockAbi, mockUsdcAbi, morphoAbi, perpExchangeAbi, poolAbi } from '../../contracts-abi/index.js';
import { createClients } from '../../src/chain/clients.js';
import { createPortfolioSnapshotReader } from '../../src/chain/portfolio-snapshot.js';
import { MULTICALL3_CANONICAL } from '../../src/config.js';
import { SECONDS_PER_YEAR } from '../../src/core/risk/returns.js';
import { aavePoolAbi } from '../../src/devnet/aave-artifacts.js';
import { LENDING_CALL_GAS, confirm } from '../../src/devnet/confirm.js';
import { morphoParamsArg } from '../../src/devnet/deploy-morpho.js';
import type { AaveVenueAccount, MorphoVenueAccount, PerpVenueAccount } from '../../src/portfolio/model.js';
import { formatPortfolioStatus } from '../../src/runner/portfolio-status.js';
import { fmtAprPct } from '../../src/venues/venue-rates.js';
import { useDevnet, type Devnet } from '../helpers/devnet.js';
import { portfolioKeeperOn, setPortfolioPrices } from '../helpers/portfolio-keeper.js';

/**
 * Each venue's short cost on the devnet (issue 13, item 5): read in the tick's one multicall,
 * equal to the contracts' own views at the snapshot's block, shown by `status`, and used by a
 * keeper whose ETH policy prefers the cheaper venue: Aave and Morpho share ETH's first priority.
 */

const E8 = 10n ** 8n;
const WAD = 10n ** 18n;
const U = 10n ** 6n;
const YEAR = BigInt(SECONDS_PER_YEAR);
/** A funding rate the devnet's owner sets on the ETH perp market: longs pay shorts 3.1536%/yr. */
const PERP_FUNDING_PER_SEC = 10n ** 9n;

/**
 * The demo portfolio plus a Morpho venue on which the account holds 20,000 USDC of collateral and
 * 1 WETH borrowed and kept (delta unchanged, utilization 1 of 1,000 WETH). ETH: Morpho and Aave at
 * priority 1, weight 1 each; the perp at 2. BTC's band is wide: only ETH trades.
 */
async function setup(d: Devnet) {
  const me = d.as('portfolioDemo');
  const account = me.walletClient.account.address;
  const a = d.addresses;
  const m = { address: a.morpho.address, abi: morphoAbi } as const;
  const params = morphoParamsArg(a.morpho.marketParams);
  const deployer = d.as('deployer');
  await confirm(deployer, deployer.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [account, 20_000n * U] }), 'mint');
  await confirm(me, me.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [m.address, 20_000n * U] }), 'approve');
  await confirm(me, me.walletClient.writeContract({ ...m, functionName: 'supplyCollateral', args: [params, 20_000n * U, account, '0x'] }), 'supplyCollateral');
  await confirm(me, me.walletClient.writeContract({ ...m, functionName: 'borrow', args: [params, WAD, 0n, account, account], gas: LENDING_CALL_GAS }), 'borrow');
  await confirm(deployer, deployer.walletClient.writeContract({ address: a.perp, abi: perpExchangeAbi, functionName: 'setFundingRate', args: [BigInt(a.perpMarketId), PERP_FUNDING_PER_SEC] }), 'funding');
  const venue =
    `  morpho: { kind: morpho, morpho: ${a.morpho.address}, marketId: '${a.morpho.marketId}', loanAsset: ETH, swapPool: weth-usdc, ` +
    `swapRouter: ${a.uniswap.swapRouter}, quoter: ${a.uniswap.quoterV2}, trigger: 1.3, target: 1.6, maxTopUp: 50000, maxTopUpPerDay: 200000 }\n`;
  const yaml = (prefer: boolean) => (y: string) =>
    y
      .replace('instruments:\n', `${venue}instruments:\n`)
      .replace('  - { venue: perp, asset: ETH, priority: 1, weight: 1 }', '  - { venue: aave, asset: ETH, priority: 1, weight: 1 }\n  - { venue: morpho, asset: ETH, priority: 1, weight: 1 }')
      .replace('  - { venue: aave, asset: ETH, priority: 2, weight: 1 }', '  - { venue: perp, asset: ETH, priority: 2, weight: 1 }')
      .replace(/^( {4}ETH: \{ hedgeRatio.*) \}$/m, `$1, preferCheaperVenue: ${prefer} }`)
      .replace(/^ {4}BTC: \{ hedgeRatio.*$/m, '    BTC: { hedgeRatio: 1, band: 100, bandPct: 0, hysteresis: 0.5, minTrade: 0.0005, maxTrade: 2, maxNotionalPerDayUsd: 10000000 }');
  return { me, account, m, params, yaml };
}

describe('venue rates on the devnet', () => {
  const devnet = useDevnet();

  it('Aave, Morpho and perp rates equal the contracts\' own views at the snapshot\'s block; status shows them', async () => {
    const d = devnet();
    const s = await setup(d);
    const { keeper, portfolio } = await portfolioKeeperOn(d, { yaml: s.yaml(true) });
    const r = await keeper.tickOnce();
    const at = { blockNumber: r.snapshot.blockNumber } as const;
    const c = s.me.publicClient;
    const a = d.addresses;

    const reserve = (asset: `0x${string}`) => c.readContract({ ...at, address: a.aave.pool, abi: poolAbi, functionName: 'getReserveData', args: [asset] });
    const [weth, wbtc] = await Promise.all([reserve(a.weth), reserve(a.wbtc)]);
    const aave = r.snapshot.venues['aave'] as AaveVenueAccount;
    expect(weth.currentVariableBorrowRate).toBeGreaterThan(0n);
    expect(aave.shortCostAprE18).toEqual({ ETH: weth.currentVariableBorrowRate / 10n ** 9n, BTC: wbtc.currentVariableBorrowRate / 10n ** 9n });

    const market = await c.readContract({ ...at, ...s.m, functionName: 'market', args: [a.morpho.marketId] });
    const [totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee] = market;
    const perSec = await c.readContract({
      ...at, address: a.morpho.irm, abi: irmMockAbi, functionName: 'borrowRateView',
      args: [s.params, { totalSupplyAssets, totalSupplyShares, totalBorrowAssets, totalBorrowShares, lastUpdate, fee }],
    });
    const morpho = r.snapshot.venues['morpho'] as MorphoVenueAccount;
    expect(perSec).toBeGreaterThan(0n);
    expect(morpho.borrowRatePerSecE18).toBe(perSec);
    expect(morpho.shortCostAprE18).toEqual({ ETH: perSec * YEAR });

    const [, , ethFunding] = await c.readContract({ ...at, address: a.perp, abi: perpExchangeAbi, functionName: 'getMarket', args: [BigInt(a.perpMarketId)] });
    const [, , btcFunding] = await c.readContract({ ...at, address: a.perp, abi: perpExchangeAbi, functionName: 'getMarket', args: [BigInt(a.perpBtcMarketId)] });
    expect(ethFunding).toBe(PERP_FUNDING_PER_SEC);
    expect((r.snapshot.venues['perp'] as PerpVenueAccount).shortCostAprE18).toEqual({ ETH: -PERP_FUNDING_PER_SEC * YEAR, BTC: -btcFunding * YEAR });

    // The rate reads ride in the tick's one multicall: a steady read of perp + Aave + Morpho is ONE eth_call.
    const methods: string[] = [];
    const counting = createClients({ rpcUrls: [d.rpcUrl], chainId: 31337, privateKey: d.key('deployer'), pollingIntervalMs: 20, transport: { onRequest: ({ method }) => methods.push(method) } });
    const reader = createPortfolioSnapshotReader({ publicClient: counting.publicClient, account: s.account, portfolio, multicall3: MULTICALL3_CANONICAL, positionManager: a.uniswap.positionManager });
    await reader.read(r.snapshot.blockNumber); // start: resolves Multicall3, Aave, Morpho, the pools
    methods.length = 0;
    const again = await reader.read(r.snapshot.blockNumber);
    expect(methods).toEqual(['eth_call']);
    for (const v of ['perp', 'aave', 'morpho']) {
      expect((again.venues[v] as { shortCostAprE18?: unknown }).shortCostAprE18).toEqual((r.snapshot.venues[v] as { shortCostAprE18?: unknown }).shortCostAprE18);
    }

    const status = formatPortfolioStatus(portfolio, r.snapshot, r.assessment, r.doubts);
    expect(status).toContain('venue rates (negative = the short earns)');
    expect(status).toMatch(/perp\s+ETH\s+-3\.15%/);
    expect(status).toMatch(new RegExp(`aave\\s+ETH\\s+${fmtAprPct(aave.shortCostAprE18!['ETH']!)}`));
    expect(status).toMatch(new RegExp(`morpho\\s+ETH\\s+${fmtAprPct(perSec * YEAR)}`));
  });

  it('a keeper with preferCheaperVenue grows the ETH short on the cheaper venue only; without it, both share', async () => {
    const d = devnet();
    const s = await setup(d);
    const a = d.addresses;
    // The same move seen by a dry-run keeper without the preference: split by weight between Aave and Morpho.
    await setPortfolioPrices(d, { eth: (2_000n * E8 * 98n) / 100n, btc: 60_000n * E8 });
    const plain = await (await portfolioKeeperOn(d, { yaml: s.yaml(false), dryRun: true })).keeper.tickOnce();
    const plainHedges = plain.plan.actions.filter((x) => x.kind === 'adjustHedge');
    expect(plainHedges.map((x) => x.instrument).sort()).toEqual(['aave:ETH', 'morpho:ETH']);

    const { keeper } = await portfolioKeeperOn(d, { yaml: s.yaml(true) });
    const debt = () => s.me.publicClient.readContract({ address: a.aave.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [s.account] });
    const position = () => s.me.publicClient.readContract({ ...s.m, functionName: 'position', args: [a.morpho.marketId, s.account] });
    const [debtBefore, posBefore] = await Promise.all([debt(), position()]);
    const r = await keeper.tickOnce();
    const aaveApr = (r.snapshot.venues['aave'] as AaveVenueAccount).shortCostAprE18!['ETH']!;
    const morphoApr = (r.snapshot.venues['morpho'] as MorphoVenueAccount).shortCostAprE18!['ETH']!;
    expect(morphoApr).toBeLessThan(aaveApr);
    const hedges = r.plan.actions.filter((x) => x.kind === 'adjustHedge');
    expect(hedges.map((x) => x.instrument)).toEqual(['morpho:ETH']);
    const wanted = plainHedges.reduce((sum, x) => sum + (x.kind === 'adjustHedge' ? x.sizeDeltaUnits : 0n), 0n);
    expect(hedges[0]!.kind === 'adjustHedge' && hedges[0]!.sizeDeltaUnits).toBe(wanted);
    expect(hedges[0]!.reason).toContain(`cheaper venue first: morpho ${fmtAprPct(morphoApr)} < aave ${fmtAprPct(aaveApr)}`);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    // On chain: Morpho's borrow grew, Aave's WETH debt only accrued interest.
    const [debtAfter, posAfter] = await Promise.all([debt(), position()]);
    expect(posAfter[1]).toBeGreaterThan(posBefore[1]);
    expect(debtAfter - debtBefore).toBeLessThan(10n ** 12n);
    expect(debtAfter - debtBefore).toBeGreaterThanOrEqual(0n);
  });

  it('when Morpho is the dearer (another borrower takes half its WETH), the same keeper grows the short on Aave', async () => {
    const d = devnet();
    const s = await setup(d);
    const a = d.addresses;
    const other = d.as('liquidator');
    const who = other.walletClient.account.address;
    const deployer = d.as('deployer');
    await confirm(deployer, deployer.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [who, 2_000_000n * U] }), 'mint');
    await confirm(other, other.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [s.m.address, 2_000_000n * U] }), 'approve');
    await confirm(other, other.walletClient.writeContract({ ...s.m, functionName: 'supplyCollateral', args: [s.params, 2_000_000n * U, who, '0x'] }), 'supplyCollateral');
    await confirm(other, other.walletClient.writeContract({ ...s.m, functionName: 'borrow', args: [s.params, 500n * WAD, 0n, who, who], gas: LENDING_CALL_GAS }), 'borrow');
    // Room on Aave (the demo sits at its target health factor): 20,000 more USDC of collateral.
    await confirm(deployer, deployer.walletClient.writeContract({ address: a.usdc, abi: mockUsdcAbi, functionName: 'mint', args: [s.account, 20_000n * U] }), 'mint');
    await confirm(s.me, s.me.walletClient.writeContract({ address: a.usdc, abi: erc20Abi, functionName: 'approve', args: [a.aave.pool, 20_000n * U] }), 'approve');
    await confirm(s.me, s.me.walletClient.writeContract({ address: a.aave.pool, abi: aavePoolAbi, functionName: 'supply', args: [a.usdc, 20_000n * U, s.account, 0], gas: LENDING_CALL_GAS }), 'aave supply');
    const { keeper } = await portfolioKeeperOn(d, { yaml: s.yaml(true) });
    expect((await keeper.tickOnce()).plan.actions).toEqual([]);
    const debt = () => s.me.publicClient.readContract({ address: a.aave.variableDebtWeth, abi: erc20Abi, functionName: 'balanceOf', args: [s.account] });
    const position = () => s.me.publicClient.readContract({ ...s.m, functionName: 'position', args: [a.morpho.marketId, s.account] });
    const [debtBefore, posBefore] = await Promise.all([debt(), position()]);
    await setPortfolioPrices(d, { eth: (2_000n * E8 * 98n) / 100n, btc: 60_000n * E8 });
    const r = await keeper.tickOnce();
    const aaveApr = (r.snapshot.venues['aave'] as AaveVenueAccount).shortCostAprE18!['ETH']!;
    const morphoApr = (r.snapshot.venues['morpho'] as MorphoVenueAccount).shortCostAprE18!['ETH']!;
    // IrmMock: APR = utilization, 501 of 1,000 WETH.
    expect(fmtAprPct(morphoApr)).toBe('50.10%');
    const hedges = r.plan.actions.filter((x) => x.kind === 'adjustHedge');
    expect(hedges.map((x) => x.instrument)).toEqual(['aave:ETH']);
    expect(hedges[0]!.reason).toContain(`cheaper venue first: aave ${fmtAprPct(aaveApr)} < morpho 50.10%`);
    expect(r.results.map((x) => x.outcome)).toEqual(['done']);
    const [debtAfter, posAfter] = await Promise.all([debt(), position()]);
    const borrowed = hedges[0]!.kind === 'adjustHedge' ? -hedges[0]!.sizeDeltaUnits : 0n;
    // Aave's WETH debt grew by the hedge (plus interest, less at most a wei of the scaled balance's
    // rounding: balanceOf is scaledBalance rayMul index, both rounded); Morpho's borrow did not move.
    expect(debtAfter - debtBefore - borrowed).toBeGreaterThanOrEqual(-1n);
    expect(debtAfter - debtBefore - borrowed).toBeLessThan(10n ** 12n);
    expect(posAfter[1]).toBe(posBefore[1]);
  });
});
