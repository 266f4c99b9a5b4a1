import { describe, expect, it } from 'vitest';
import { zeroAddress } from 'viem';
import { assessPortfolio } from '../../src/core/portfolio/assess.js';
import { allocateHedge } from '../../src/core/portfolio/allocate.js';
import { initialPortfolioPolicyState, planPortfolio } from '../../src/core/portfolio/plan.js';
import { parsePortfolioYaml } from '../../src/portfolio/file.js';
import type { AssetPolicy, InstrumentSpec, MorphoVenueSpec, PerpVenueSpec, Portfolio, VenueAccount, VenueSpec } from '../../src/portfolio/model.js';
import { aaveRateAssets, parseAaveAccount, type AaveMarket } from '../../src/venues/aave-read.js';
import { parseMorphoAccount } from '../../src/venues/morpho-read.js';
import { parsePerpAccount, perpReadCalls } from '../../src/venues/perp-read.js';
import {
  aaveBorrowAprE18, fmtAprPct, hyperliquidShortCostAprE18, morphoBorrowAprE18, perpShortCostAprE18, shortCostAprE18, shortCostPcts, venueRateAssets,
} from '../../src/venues/venue-rates.js';
import { ETH, NOW, USD, collateralPolicy, ethPolicy, ethSpec, inst, modelOf, portfolio, snapshot } from '../helpers/portfolio-stubs.js';

/**
 * Each venue's short cost (issue 13, item 5) and the allocation that prefers the cheaper venue.
 * The venues below have real kinds (the rate is read per kind) but carry the stub model's
 * `hedge` / `collateral` too, so capacities are the linear stub's round numbers.
 */

const E15 = 10n ** 15n;
const E16 = 10n ** 16n;
const BIG = 1_000_000n * USD;
const addr = (n: number) => `0x${n.toString(16).padStart(40, '0')}` as const;

// The rates used throughout, and what they are per year.
const PERP_FUNDING_PER_SEC = 10n ** 10n; // longs pay shorts: -31.536%/yr for the short
const AAVE_RAY = 42n * 10n ** 24n; // 4.2%/yr
const MORPHO_PER_SEC = 10n ** 9n; // 3.1536%/yr
const HL_HOURLY = 125n * 10n ** 11n; // 0.00125%/h, longs pay: -10.95%/yr for the short

const perpSpec = { kind: 'perp', id: 'perp', exchange: addr(31), markets: { ETH: 1n }, collateral: collateralPolicy, cross: false } as PerpVenueSpec;
const aaveSpec = {
  kind: 'aave', id: 'aave', addressesProvider: addr(32), swapPools: { ETH: 'weth-usdc' }, swapRouter: addr(33), quoter: addr(34), collateral: collateralPolicy, cross: false,
} as VenueSpec;
const morphoSpec = {
  kind: 'morpho', id: 'morpho', morpho: addr(35), marketId: `0x${'ab'.repeat(32)}`, loanAsset: 'ETH', swapPool: 'weth-usdc', swapRouter: addr(33), quoter: addr(34),
  collateral: collateralPolicy, cross: false,
} as MorphoVenueSpec;
const hlSpec = { kind: 'hyperliquid', id: 'hl', apiUrl: 'http://127.0.0.1:1', user: addr(36), markets: { ETH: 'ETH' }, collateral: collateralPolicy, cross: false } as VenueSpec;

/** An account of the venue's kind carrying the stub model's hedge and collateral (isolated ETH bucket). */
function account(kind: VenueSpec['kind'], venue: string, rate: Record<string, bigint> | null, hedgeEth = 0n, collateral = BIG): VenueAccount {
  const stub = { venue, hedge: hedgeEth === 0n ? {} : { ETH: hedgeEth }, collateral: { ETH: collateral } };
  switch (kind) {
    case 'hyperliquid': {
      const markets = rate?.['ETH'] === undefined ? {} : { ETH: { coin: 'ETH', fundingRateHourlyE18: rate['ETH'] } };
      return { kind, ...stub, markets } as unknown as VenueAccount;
    }
    case 'morpho':
      return { kind, ...stub, borrowRatePerSecE18: 0n, ...(rate ? { shortCostAprE18: rate } : {}) } as unknown as VenueAccount;
    default:
      return { kind, ...stub, ...(rate ? { shortCostAprE18: rate } : {}) } as unknown as VenueAccount;
  }
}

const PERP_APR = -315_360_000_000_000_000n;
const AAVE_APR = 42n * E15;
const MORPHO_APR = 31_536_000_000_000_000n;

describe('venue rates: each kind\'s short cost per year, E18', () => {
  it('converts each venue\'s own unit exactly', () => {
    expect(perpShortCostAprE18(PERP_FUNDING_PER_SEC)).toBe(PERP_APR);
    expect(perpShortCostAprE18(-PERP_FUNDING_PER_SEC)).toBe(-PERP_APR);
    expect(aaveBorrowAprE18(AAVE_RAY)).toBe(AAVE_APR);
    expect(aaveBorrowAprE18(AAVE_RAY + 999_999_999n)).toBe(AAVE_APR); // floored ray -> E18
    expect(morphoBorrowAprE18(MORPHO_PER_SEC)).toBe(MORPHO_APR);
    expect(hyperliquidShortCostAprE18(HL_HOURLY)).toBe(-109_500_000_000_000_000n);
  });

  it('shortCostAprE18 per kind; null when unknown', () => {
    expect(shortCostAprE18(perpSpec, account('perp', 'perp', { ETH: PERP_APR }), 'ETH')).toBe(PERP_APR);
    expect(shortCostAprE18(perpSpec, account('perp', 'perp', { ETH: PERP_APR }), 'BTC')).toBeNull();
    expect(shortCostAprE18(perpSpec, account('perp', 'perp', null), 'ETH')).toBeNull();
    expect(shortCostAprE18(aaveSpec, account('aave', 'aave', { ETH: AAVE_APR }), 'ETH')).toBe(AAVE_APR);
    expect(shortCostAprE18(morphoSpec, account('morpho', 'morpho', { ETH: MORPHO_APR }), 'ETH')).toBe(MORPHO_APR);
    expect(shortCostAprE18(morphoSpec, account('morpho', 'morpho', { ETH: MORPHO_APR }), 'BTC')).toBeNull();
    // Without the field, Morpho's rate comes from the IRM's per-second rate on the account.
    const bare = { ...(account('morpho', 'morpho', null) as object), borrowRatePerSecE18: MORPHO_PER_SEC } as unknown as VenueAccount;
    expect(shortCostAprE18(morphoSpec, bare, 'ETH')).toBe(MORPHO_APR);
    expect(shortCostAprE18(hlSpec, account('hyperliquid', 'hl', { ETH: HL_HOURLY }), 'ETH')).toBe(-109_500_000_000_000_000n);
    expect(shortCostAprE18(hlSpec, account('hyperliquid', 'hl', null), 'ETH')).toBeNull();
    expect(shortCostAprE18(aaveSpec, null, 'ETH')).toBeNull();
    expect(shortCostAprE18(aaveSpec, account('perp', 'aave', { ETH: 1n }), 'ETH')).toBeNull();
  });

  it('formats as APR percent with 2 decimals', () => {
    expect([MORPHO_APR, AAVE_APR, PERP_APR, 0n, null].map(fmtAprPct)).toEqual(['3.15%', '4.20%', '-31.54%', '0.00%', 'unknown']);
    expect(shortCostPcts(account('aave', 'aave', { ETH: AAVE_APR, BTC: 5n * E16 }))).toEqual({ ETH: '4.20', BTC: '5.00' });
    expect(shortCostPcts(account('hyperliquid', 'hl', { ETH: HL_HOURLY }))).toEqual({ ETH: '-10.95' });
    expect(venueRateAssets(perpSpec)).toEqual(['ETH']);
    expect(venueRateAssets(morphoSpec)).toEqual(['ETH']);
  });
});

describe('venue reads put the rate on the account', () => {
  it('perp: getAccount then getMarket per market; the funding rate is the third output', () => {
    expect(perpReadCalls(perpSpec, addr(99)).map((c) => c.functionName)).toEqual(['getAccount', 'getMarket']);
    const view = { sizeWei: -ETH, entryPriceE8: 1n, marginUnits: 2n, accountValueUnits: 3n, marginRatioE18: 4n, initialRatioE18: 5n, maintenanceRatioE18: 6n, takerFeeBps: 7n };
    const acct = parsePerpAccount(perpSpec, [view, [addr(40), 3600n, PERP_FUNDING_PER_SEC, 0n, 0n]]);
    expect(acct.shortCostAprE18).toEqual({ ETH: PERP_APR });
    expect(() => parsePerpAccount(perpSpec, [view])).toThrow(/1 results for 1 markets/);
  });

  it('aave: getReserveData of each shorted asset that is a reserve; currentVariableBorrowRate in E18', () => {
    const weth = ethSpec.token;
    const m: AaveMarket = {
      venue: 'aave', pool: addr(50), dataProvider: addr(51), oracle: addr(52),
      reserves: [{ asset: weth, id: 0, aToken: addr(53), stableDebt: zeroAddress, variableDebt: addr(54) }],
    };
    const spec = { ...aaveSpec, swapPools: { ETH: 'weth-usdc', BTC: 'wbtc-usdc' } } as Extract<VenueSpec, { kind: 'aave' }>;
    // BTC's token is no reserve of this pool: left out (getReserveData would answer zeros, a false 0%).
    const rateAssets = aaveRateAssets(spec, m, portfolio().assets);
    expect(rateAssets).toEqual([{ id: 'ETH', token: weth }]);
    const config = [18n, 8_000n, 8_250n, 10_500n, 1_000n, true, true, false, true, false];
    const results = [[0n, 0n, 0n, 0n, 0n, 2n ** 256n - 1n], { data: 0n }, [weth], [2_000n * 10n ** 8n], 0n, 0n, config, { currentVariableBorrowRate: AAVE_RAY }];
    expect(parseAaveAccount(spec, m, results, rateAssets).shortCostAprE18).toEqual({ ETH: AAVE_APR });
    expect(parseAaveAccount(spec, m, results.slice(0, -1)).shortCostAprE18).toBeUndefined();
  });

  it('morpho: the IRM rate per second, per year, on the loan asset', () => {
    const params = [addr(1), addr(3), addr(60), addr(61), 86n * E16] as const;
    const ref = { spec: morphoSpec, params: { loanToken: addr(1), collateralToken: addr(3), oracle: addr(60), irm: addr(61), lltv: 86n * E16 }, market: { totalSupplyAssets: 0n, totalSupplyShares: 0n, totalBorrowAssets: 0n, totalBorrowShares: 0n, lastUpdate: 0n, fee: 0n } };
    const results = [params, [0n, 0n, 0n], [0n, 0n, 0n, 0n, 0n, 0n], 10n ** 24n, MORPHO_PER_SEC];
    expect(parseMorphoAccount(ref, results, 0n).shortCostAprE18).toEqual({ ETH: MORPHO_APR });
    expect(parseMorphoAccount(ref, results, 0n, 2n * MORPHO_PER_SEC).shortCostAprE18).toEqual({ ETH: 2n * MORPHO_APR });
  });
});

const WANT = -9_750_000_000_000_000_000n; // 10 ETH spot, no hedge, band 0.5, hysteresis 50%

function ratePortfolio(instruments: InstrumentSpec[], prefer: boolean, policy: Partial<AssetPolicy> = {}): Portfolio {
  const base = portfolio({ venues: [perpSpec, aaveSpec, morphoSpec, hlSpec], instruments });
  const eth: AssetPolicy = { ...ethPolicy, ...policy, ...(prefer ? { preferCheaperVenue: true } : {}) };
  return { ...base, policy: { ...base.policy, assets: { ...base.policy.assets, ETH: eth } } };
}

function allocate(o: { instruments: InstrumentSpec[]; venues: Record<string, VenueAccount>; prefer?: boolean; spotEth?: bigint }) {
  const p = ratePortfolio(o.instruments, o.prefer ?? true);
  const s = snapshot({ wallet: { nativeWei: 0n, balances: { ETH: o.spotEth ?? 10n * ETH, BTC: 0n } }, venues: o.venues });
  const a = assessPortfolio(p, s, modelOf);
  const r = allocateHedge({ portfolio: p, assessment: a, asset: 'ETH', modelOf });
  return { ...r, split: r.allocations.map((x) => [x.instrument, x.sizeDeltaUnits]) };
}

const three = [inst('aave-eth', 'aave', 'ETH', 0), inst('morpho-eth', 'morpho', 'ETH', 0), inst('perp-eth', 'perp', 'ETH', 0)];
const rated = (perpCollateral = BIG) => ({
  perp: account('perp', 'perp', { ETH: PERP_APR }, 0n, perpCollateral),
  aave: account('aave', 'aave', { ETH: AAVE_APR }),
  morpho: account('morpho', 'morpho', { ETH: MORPHO_APR }),
});

describe('allocation with preferCheaperVenue', () => {
  it('off (the default): one priority is split by weight, rates unread', () => {
    const r = allocate({ instruments: three, venues: rated(), prefer: false });
    expect(r.split).toEqual([['aave-eth', WANT / 3n], ['morpho-eth', WANT / 3n], ['perp-eth', WANT / 3n]]);
    expect(r.rateNote).toBeUndefined();
  });

  it('on: growth goes to the cheapest (the perp, whose short earns funding), and the reason names the rates', () => {
    const r = allocate({ instruments: three, venues: rated() });
    expect(r.split).toEqual([['perp-eth', WANT]]);
    expect(r.unallocatedUnits).toBe(0n);
    expect(r.rateNote).toBe('cheaper venue first: perp -31.54% < morpho 3.15% < aave 4.20%');
  });

  it('what the cheapest cannot take spills to the next cheapest, not by weight', () => {
    // 3,000 quote on the perp at target 0.25 carries $12,000 = 6 ETH.
    const r = allocate({ instruments: three, venues: rated(3_000n * USD) });
    expect(r.split).toEqual([['perp-eth', -6n * ETH], ['morpho-eth', -3_750_000_000_000_000_000n]]);
  });

  it('equal rates still share by weight (3:1); the dearer venue gets nothing', () => {
    const venues = { ...rated(), perp: account('perp', 'perp', { ETH: 10n * E16 }), morpho: account('morpho', 'morpho', { ETH: AAVE_APR }) };
    const r = allocate({ instruments: [inst('aave-eth', 'aave', 'ETH', 0, 1), inst('morpho-eth', 'morpho', 'ETH', 0, 3), inst('perp-eth', 'perp', 'ETH', 0)], venues });
    expect(r.split).toEqual([['aave-eth', -2_437_500_000_000_000_000n], ['morpho-eth', -7_312_500_000_000_000_000n]]);
    expect(r.rateNote).toBe('cheaper venue first: aave 4.20% = morpho 4.20% < perp 10.00%');
  });

  it('an unknown rate ranks as the dearest, even against a 50% borrow', () => {
    const venues = { hl: account('hyperliquid', 'hl', null), aave: account('aave', 'aave', { ETH: 50n * E16 }) };
    const r = allocate({ instruments: [inst('hl-eth', 'hl', 'ETH', 0), inst('aave-eth', 'aave', 'ETH', 0)], venues });
    expect(r.split).toEqual([['aave-eth', WANT]]);
    expect(r.rateNote).toBe('cheaper venue first: aave 50.00% < hl unknown');
  });

  it('Hyperliquid funding paid to shorts beats a borrow', () => {
    const venues = { hl: account('hyperliquid', 'hl', { ETH: HL_HOURLY }), morpho: account('morpho', 'morpho', { ETH: MORPHO_APR }) };
    const r = allocate({ instruments: [inst('morpho-eth', 'morpho', 'ETH', 0), inst('hl-eth', 'hl', 'ETH', 0)], venues });
    expect(r.split).toEqual([['hl-eth', WANT]]);
    expect(r.rateNote).toBe('cheaper venue first: hl -10.95% < morpho 3.15%');
  });

  it('shrinking takes off the dearest first, then the next', () => {
    // perp -4 and morpho -4 against 3 ETH of spot: deviation -5, wanted +4.75; morpho's whole short first.
    const venues = { perp: account('perp', 'perp', { ETH: PERP_APR }, -4n * ETH), morpho: account('morpho', 'morpho', { ETH: MORPHO_APR }, -4n * ETH) };
    const r = allocate({ instruments: [inst('perp-eth', 'perp', 'ETH', 0), inst('morpho-eth', 'morpho', 'ETH', 0)], venues, spotEth: 3n * ETH });
    expect(r.split).toEqual([['morpho-eth', 4n * ETH], ['perp-eth', 750_000_000_000_000_000n]]);
    expect(r.rateNote).toBe('dearer venue first: morpho 3.15% > perp -31.54%');
    // Without the preference the same reduction is split by weight.
    const plain = allocate({ instruments: [inst('perp-eth', 'perp', 'ETH', 0), inst('morpho-eth', 'morpho', 'ETH', 0)], venues, spotEth: 3n * ETH, prefer: false });
    expect(plain.split).toEqual([['perp-eth', 2_375_000_000_000_000_000n], ['morpho-eth', 2_375_000_000_000_000_000n]]);
  });

  it('priority still comes first: a cheaper venue at a later priority waits', () => {
    const r = allocate({ instruments: [inst('aave-eth', 'aave', 'ETH', 0), inst('perp-eth', 'perp', 'ETH', 1)], venues: rated() });
    expect(r.split).toEqual([['aave-eth', WANT]]);
    expect(r.rateNote).toBeUndefined();
  });

  it('the plan\'s hedge reason names the rates', () => {
    const p = ratePortfolio(three, true);
    const s = snapshot({ wallet: { nativeWei: 0n, balances: { ETH: 10n * ETH, BTC: 0n } }, venues: rated() });
    const plan = planPortfolio(assessPortfolio(p, s, modelOf), initialPortfolioPolicyState(), p, NOW, { modelOf });
    const hedges = plan.actions.filter((x) => x.kind === 'adjustHedge');
    expect(hedges.map((x) => [x.instrument, x.kind === 'adjustHedge' ? x.sizeDeltaUnits : 0n])).toEqual([['perp-eth', WANT]]);
    expect(hedges[0]?.reason).toMatch(/; cheaper venue first: perp -31\.54% < morpho 3\.15% < aave 4\.20%$/);
  });
});

describe('keeper.yaml: policy.assets.<asset>.preferCheaperVenue', () => {
  const yaml = (line: string) => [
    'quote: { symbol: USDC, token: 0x0000000000000000000000000000000000000003, decimals: 6 }',
    'assets:',
    '  ETH: { token: 0x0000000000000000000000000000000000000001, decimals: 18, feed: 0x000000000000000000000000000000000000000b }',
    'venues:',
    '  perp: { kind: perp, exchange: 0x000000000000000000000000000000000000001f, markets: { ETH: 1 }, trigger: 0.15, target: 0.25, maxTopUp: 1, maxTopUpPerDay: 1 }',
    'instruments:',
    '  - { venue: perp, asset: ETH }',
    'policy:',
    '  assets:',
    `    ETH: { band: 0.5, minTrade: 0.01, maxTrade: 50${line} }`,
    '',
  ].join('\n');

  it('defaults to absent (false), parses true, and rejects anything but a boolean', () => {
    expect(parsePortfolioYaml(yaml(''), 'k.yaml').policy.assets['ETH']?.preferCheaperVenue).toBeUndefined();
    expect(parsePortfolioYaml(yaml(', preferCheaperVenue: false'), 'k.yaml').policy.assets['ETH']?.preferCheaperVenue).toBeUndefined();
    expect(parsePortfolioYaml(yaml(', preferCheaperVenue: true'), 'k.yaml').policy.assets['ETH']?.preferCheaperVenue).toBe(true);
    expect(() => parsePortfolioYaml(yaml(', preferCheaperVenue: yes please'), 'k.yaml')).toThrow(/preferCheaperVenue.*expected true or false/s);
  });
});


