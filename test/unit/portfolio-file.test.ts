import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ChainAddresses } from '../../src/config.js';
import { loadPortfolioFile, parsePortfolioYaml } from '../../src/portfolio/file.js';
import { portfolioFromEnv } from '../../src/portfolio/from-env.js';
import type { Portfolio } from '../../src/portfolio/model.js';

const EXAMPLE_URL = new URL('../../keeper.example.yaml', import.meta.url);
const EXAMPLE = readFileSync(EXAMPLE_URL, 'utf8');
const E18 = 10n ** 18n;
const E16 = 10n ** 16n;
const E8 = 10n ** 8n;

const A = {
  usdc: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  weth: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  wbtc: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
  ethFeed: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
  btcFeed: '0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9',
  usdcFeed: '0x5FC8d32690cc91D4c39d9d3abcBD16989F875707',
  perp: '0x0165878A594ca255338adfa4d48449f69242Eb8F',
  wethUsdc: '0xa513E6E4b8f2a923D98304ec87F64353C4D5C853',
  wbtcUsdc: '0x2279B7A0a67DB372996a5FaB50D91eAA73d2eBe6',
  wethWbtc: '0x8A791620dd6260079BF849Dc5567aDC3F2FdC318',
  provider: '0x610178dA211FEF7D417bC0e6FeD39F05609AD788',
  router: '0xB7f8BC63BbcaD18155201308C8f3540b07f84F5e',
  quoter: '0xA51c1fc2f0D1a1b8494Ed1FE312d7C3a78Ed91C0',
  positionManager: '0x0DCd1Bf9A1b36cE34237eEaFef220932846BCD82',
} as const;

const EXPECTED: Portfolio = {
  positionManager: A.positionManager,
  quote: { id: 'USDC', token: A.usdc, decimals: 6, feed: A.usdcFeed },
  assets: [
    { id: 'ETH', token: A.weth, decimals: 18, feed: A.ethFeed, heartbeatSec: 3600, wrapsNative: true },
    { id: 'BTC', token: A.wbtc, decimals: 8, feed: A.btcFeed, heartbeatSec: 3600, wrapsNative: false },
  ],
  pools: [
    { id: 'weth-usdc', address: A.wethUsdc, token0: 'USDC', token1: 'ETH', fee: 500 },
    { id: 'wbtc-usdc', address: A.wbtcUsdc, token0: 'USDC', token1: 'BTC', fee: 3000 },
    { id: 'weth-wbtc', address: A.wethWbtc, token0: 'BTC', token1: 'ETH', fee: 3000 },
  ],
  venues: [
    {
      kind: 'perp', id: 'perp', exchange: A.perp, markets: { ETH: 1n, BTC: 2n },
      collateral: { triggerE18: 15n * E16, targetE18: 25n * E16, maxTopUpUnits: 50_000_000_000n, maxTopUpPerDayUnits: 200_000_000_000n },
    },
    {
      kind: 'aave', id: 'aave', addressesProvider: A.provider, swapRouter: A.router, quoter: A.quoter,
      swapPools: { ETH: 'weth-usdc', BTC: 'wbtc-usdc' },
      // maxTopUpPerDay defaults to five full top-ups.
      collateral: { triggerE18: 13n * E18 / 10n, targetE18: 16n * E18 / 10n, maxTopUpUnits: 50_000_000_000n, maxTopUpPerDayUnits: 250_000_000_000n },
    },
  ],
  instruments: [
    { id: 'perp:ETH', venue: 'perp', asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: 100n * E18 },
    { id: 'aave:ETH', venue: 'aave', asset: 'ETH', priority: 2, weight: 1, maxSizeUnits: null },
    { id: 'aave:BTC', venue: 'aave', asset: 'BTC', priority: 1, weight: 1, maxSizeUnits: 500_000_000n },
  ],
  policy: {
    assets: {
      ETH: {
        hedgeRatioE18: E18, bandUnits: 500_000_000_000_000_000n, bandPctE18: 5n * E16, hysteresisE18: E18 / 2n,
        minTradeUnits: E16, maxTradeUnits: 50n * E18, maxNotionalPerDayUsdE8: 1_000_000n * E8,
      },
      BTC: {
        hedgeRatioE18: E18, bandUnits: 2_000_000n, bandPctE18: 5n * E16, hysteresisE18: E18 / 2n,
        minTradeUnits: 100_000n, maxTradeUnits: 200_000_000n, maxNotionalPerDayUsdE8: 500_000n * E8,
      },
    },
    cooldownSec: 60,
    maxSlippageBps: 50,
    includeNative: false,
  },
};

/** The example with `from` replaced by `to` (each must occur exactly once, or the case tests nothing). */
function edit(text: string, ...pairs: [string, string][]): string {
  let out = text;
  for (const [from, to] of pairs) {
    expect(out.split(from).length - 1, `"${from}" occurs once`).toBe(1);
    out = out.replace(from, to);
  }
  return out;
}

function problems(text: string): string[] {
  try {
    parsePortfolioYaml(text, 'keeper.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return [...(e as ConfigError).problems];
  }
  throw new Error('the portfolio file was accepted');
}

describe('keeper.example.yaml', () => {
  it('parses to exactly the expected portfolio (every amount to the unit)', () => {
    const p = parsePortfolioYaml(EXAMPLE, 'keeper.example.yaml');
    expect(p).toEqual(EXPECTED);
    expect(p.policy.assets['ETH']?.bandUnits).toBe(500000000000000000n);
    expect(p.policy.assets['BTC']?.minTradeUnits).toBe(100000n);
    expect(Object.isFrozen(p.venues[0])).toBe(true);
  });

  it('loadPortfolioFile reads the file and names problems by its base name', () => {
    expect(loadPortfolioFile(EXAMPLE_URL.pathname)).toEqual(EXPECTED);
    const dir = mkdtempSync(join(tmpdir(), 'portfolio-'));
    const path = join(dir, 'mine.yaml');
    writeFileSync(path, edit(EXAMPLE, ['feed: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9', 'feed: 0x123']));
    expect(() => loadPortfolioFile(path)).toThrow('mine.yaml: assets.BTC.feed: not an address');
    expect(() => loadPortfolioFile(join(dir, 'absent.yaml'))).toThrow(`absent.yaml: (file): cannot read ${join(dir, 'absent.yaml')} (ENOENT)`);
  });

  it('defaults fill a minimal file (the documented values)', () => {
    const minimal = [
      `quote: { symbol: USDC, token: ${A.usdc}, decimals: 6 }`,
      `assets: { ETH: { token: ${A.weth}, decimals: 18, feed: ${A.ethFeed} } }`,
      `venues: { perp: { kind: perp, exchange: ${A.perp}, markets: { ETH: 7 } } }`,
      'instruments: [{ venue: perp, asset: ETH }]',
      'policy: { assets: { ETH: { band: "0.5", minTrade: .01, maxTrade: 50. } } }',
    ].join('\n');
    const parsed = parsePortfolioYaml(minimal, 'k.yaml');
    expect('positionManager' in parsed).toBe(false);
    expect(parsed).toEqual({
      quote: { id: 'USDC', token: A.usdc, decimals: 6, feed: null },
      assets: [{ id: 'ETH', token: A.weth, decimals: 18, feed: A.ethFeed, heartbeatSec: 3600, wrapsNative: false }],
      pools: [],
      venues: [{
        kind: 'perp', id: 'perp', exchange: A.perp, markets: { ETH: 7n },
        collateral: { triggerE18: 15n * E16, targetE18: 25n * E16, maxTopUpUnits: 100_000_000_000n, maxTopUpPerDayUnits: 500_000_000_000n },
      }],
      instruments: [{ id: 'perp:ETH', venue: 'perp', asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: null }],
      policy: {
        assets: { ETH: { hedgeRatioE18: E18, bandUnits: E18 / 2n, bandPctE18: 5n * E16, hysteresisE18: E18 / 2n, minTradeUnits: E16, maxTradeUnits: 50n * E18, maxNotionalPerDayUsdE8: 1_000_000n * E8 } },
        cooldownSec: 60, maxSlippageBps: 50, includeNative: false,
      },
    });
  });

  it('amounts are converted from their text, never through a float', () => {
    // 0.1 + 0.2 style float noise, and a value beyond 2^53 base units.
    const text = edit(EXAMPLE, ['      maxTrade: 50         #', '      maxTrade: 12345678.123456789012345678 #'], ['band: 0.02', 'band: 0.30000001']);
    const p = parsePortfolioYaml(text, 'keeper.yaml');
    expect(p.policy.assets['ETH']?.maxTradeUnits).toBe(12345678123456789012345678n);
    expect(p.policy.assets['BTC']?.bandUnits).toBe(30_000_001n);
  });
});

describe('each problem is one exact line', () => {
  const cases: [string, [string, string][], string[]][] = [
    ['bad address', [['feed: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9', 'feed: 0x123']], ['keeper.yaml: assets.BTC.feed: not an address']],
    ['bad checksum is not an address', [['feed: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9', 'feed: 0xDC64a140Aa3E981100a9becA4E685f962f0cF6C9']], ['keeper.yaml: assets.BTC.feed: not an address']],
    ['unknown key, with a suggestion', [['    heartbeat: 3600\n\n', '    heartbet: 3600\n\n']], ['keeper.yaml: assets.BTC.heartbet: unknown key; did you mean heartbeat?']],
    ['unknown key, nothing near', [['    heartbeat: 3600\n\n', '    heartbeat: 3600\n    colour: red\n\n']], [
      'keeper.yaml: assets.BTC.colour: unknown key (expected one of token, decimals, feed, heartbeat, wrapsNative)',
    ]],
    ['bad position manager', [['positionManager: 0x0DCd1Bf9A1b36cE34237eEaFef220932846BCD82', 'positionManager: yes']], ['keeper.yaml: positionManager: not an address']],
    ['unknown top-level key', [['instruments:\n', 'instrument:\n']], [
      'keeper.yaml: instrument: unknown key; did you mean instruments?',
    ]],
    ['BTC amount with 9 decimals', [['minTrade: 0.001', 'minTrade: 0.000000001']], ['keeper.yaml: policy.assets.BTC.minTrade: 0.000000001 has 9 decimals; BTC has 8']],
    ['quote amount with 7 decimals', [['maxTopUp: 50000\n    maxTopUpPerDay', 'maxTopUp: 0.0000001\n    maxTopUpPerDay']], ['keeper.yaml: venues.perp.maxTopUp: 0.0000001 has 7 decimals; USDC has 6']],
    ['ratio with 19 decimals', [['hedgeRatio: 1 ', 'hedgeRatio: 0.1234567890123456789 ']], ['keeper.yaml: policy.assets.ETH.hedgeRatio: 0.1234567890123456789 has 19 decimals; at most 18']],
    ['exponent notation', [['maxTrade: 2\n', 'maxTrade: 2e0\n']], ['keeper.yaml: policy.assets.BTC.maxTrade: expected a plain decimal number > 0']],
    ['missing venue for an instrument, near a declared one', [['{ venue: perp, asset: ETH, priority: 1', '{ venue: perps, asset: ETH, priority: 1']], [
      'keeper.yaml: instruments[0].venue: no venue "perps" is declared; did you mean perp?',
    ]],
    ['missing venue for an instrument', [['{ venue: aave, asset: ETH, priority: 2 }', '{ venue: morpho, asset: ETH, priority: 2 }']], [
      'keeper.yaml: instruments[1].venue: no venue "morpho" is declared (declared: perp, aave)',
    ]],
    ['undeclared asset in an instrument', [['{ venue: aave, asset: BTC', '{ venue: aave, asset: SOL']], [
      'keeper.yaml: instruments[2].asset: no asset "SOL" is declared (declared: ETH, BTC)',
    ]],
    ['the quote is never hedged', [['{ venue: aave, asset: BTC, priority: 1, maxSize: 5 }', '{ venue: aave, asset: USDC }']], [
      'keeper.yaml: instruments[2].asset: USDC is the quote; the quote is never hedged',
    ]],
    ['wrong pool order', [['    token0: USDC           # 0x5FbD... < 0xe7f1...\n    token1: ETH', '    token0: ETH\n    token1: USDC']], [
      `keeper.yaml: pools.weth-usdc.token0: Uniswap orders a pool's tokens by address: token0 should be USDC (${A.usdc}) and token1 ETH (${A.weth})`,
    ]],
    ['pool token not declared', [['    token1: BTC\n', '    token1: WBTC\n']], ['keeper.yaml: pools.wbtc-usdc.token1: no asset or quote "WBTC" is declared; did you mean BTC?']],
    ['pool token far from any name', [['    token1: BTC\n', '    token1: SOL\n']], ['keeper.yaml: pools.wbtc-usdc.token1: no asset or quote "SOL" is declared (declared: ETH, BTC, USDC)']],
    ['trigger >= target', [['trigger: 0.15 ', 'trigger: 0.25 ']], ['keeper.yaml: venues.perp.trigger: must be below target (0.25)']],
    ['trigger above target (defaulted target)', [['    target: 1.6            # (default 1.6, as HF_TARGET)\n', ''], ['trigger: 1.3 ', 'trigger: 1.7 ']], [
      'keeper.yaml: venues.aave.trigger: must be below target (1.6)',
    ]],
    ['perp market names an undeclared asset', [['      BTC: 2\n', '      BTC: 2\n      DOGE: 3\n']], ['keeper.yaml: venues.perp.markets.DOGE: no asset "DOGE" is declared (declared: ETH, BTC)']],
    ['two assets on one perp market', [['      BTC: 2\n', '      BTC: 1\n']], ["keeper.yaml: venues.perp.markets.BTC: market 1 is already ETH's"]],
    ['perp instrument without a market', [['      BTC: 2\n', ''], ['{ venue: aave, asset: BTC', '{ venue: perp, asset: BTC']], [
      'keeper.yaml: instruments[2].asset: venue perp has no market for BTC (add venues.perp.markets.BTC)',
    ]],
    ['a bad quote hides no other check', [[`feed: ${A.usdcFeed}`, 'feed: nope'], ['      BTC: 2\n', ''], ['{ venue: aave, asset: BTC', '{ venue: perp, asset: BTC']], [
      'keeper.yaml: quote.feed: not an address',
      'keeper.yaml: instruments[2].asset: venue perp has no market for BTC (add venues.perp.markets.BTC)',
    ]],
    ['aave instrument without a swap pool', [['      BTC: wbtc-usdc\n', '']], ['keeper.yaml: instruments[2].asset: venue aave has no swap pool for BTC (add venues.aave.swapPools.BTC)']],
    ['aave swap pool without the asset', [['      BTC: wbtc-usdc\n', '      BTC: weth-usdc\n']], ['keeper.yaml: venues.aave.swapPools.BTC: pool weth-usdc trades USDC/ETH, not BTC against the quote USDC']],
    ['aave swap pool without the quote', [['      BTC: wbtc-usdc\n', '      BTC: weth-wbtc\n']], ['keeper.yaml: venues.aave.swapPools.BTC: pool weth-wbtc trades BTC/ETH, not BTC against the quote USDC']],
    ['aave swap pool not declared', [['      BTC: wbtc-usdc\n', '      BTC: wbtc-usd\n']], ['keeper.yaml: venues.aave.swapPools.BTC: no pool "wbtc-usd" is declared; did you mean wbtc-usdc?']],
    ['duplicated token address', [[`token: ${A.wbtc}`, `token: ${A.weth.toLowerCase()}`]], ['keeper.yaml: assets.BTC.token: same token address as assets.ETH.token']],
    ['asset token equal to the quote', [[`token: ${A.wbtc}`, `token: ${A.usdc}`]], ['keeper.yaml: assets.BTC.token: same token address as quote.token']],
    ['policy for an undeclared asset', [['    BTC:\n      band', '    SOL:\n      band: 1\n      minTrade: 0\n      maxTrade: 1\n    BTC:\n      band']], [
      'keeper.yaml: policy.assets.SOL: no asset "SOL" is declared (declared: ETH, BTC)',
    ]],
    ['hedged asset without policy', [['    BTC:\n      band: 0.02\n      minTrade: 0.001\n      maxTrade: 2\n      maxNotionalPerDayUsd: 500000\n', '']], [
      'keeper.yaml: policy.assets.BTC: required: instruments[2] hedges BTC (band, minTrade and maxTrade in BTC units)',
    ]],
    ['decimals out of range', [['decimals: 8', 'decimals: 37']], ['keeper.yaml: assets.BTC.decimals: expected an integer from 0 to 36']],
    ['decimals not an integer', [['decimals: 8', 'decimals: 8.5']], ['keeper.yaml: assets.BTC.decimals: expected an integer from 0 to 36']],
    ['missing required key', [[`    feed: ${A.btcFeed}\n`, '']], ['keeper.yaml: assets.BTC.feed: required']],
    ['unknown venue kind', [['kind: aave ', 'kind: compound ']], ['keeper.yaml: venues.aave.kind: expected perp or aave or morpho or hyperliquid']],
    ['two assets wrap the native coin', [['    heartbeat: 3600\n\n', '    heartbeat: 3600\n    wrapsNative: true\n\n']], [
      'keeper.yaml: assets.BTC.wrapsNative: only one asset can wrap the native coin (ETH does)',
    ]],
    ['a boolean is true or false', [['includeNative: false', 'includeNative: "no"']], ['keeper.yaml: policy.includeNative: expected true or false']],
    ['minTrade above maxTrade', [['minTrade: 0.001', 'minTrade: 3']], ['keeper.yaml: policy.assets.BTC.minTrade: must be <= maxTrade (2)']],
    ['band and bandPct both zero', [['band: 0.02', 'band: 0\n      bandPct: 0']], ['keeper.yaml: policy.assets.BTC.band: the band must be > 0: band and bandPct cannot both be 0']],
    ['duplicate instrument id', [['{ venue: aave, asset: ETH, priority: 2 }', '{ venue: perp, asset: ETH, priority: 2 }']], [
      "keeper.yaml: instruments[1].venue: instrument id perp:ETH is already instruments[0]'s (give one of them an id)",
    ]],
    ['instruments is a list', [['instruments:\n  - { venue: perp, asset: ETH, priority: 1, weight: 1, maxSize: 100 }\n  - { venue: aave, asset: ETH, priority: 2 }\n  - { venue: aave, asset: BTC, priority: 1, maxSize: 5 }', 'instruments: { venue: perp }']], [
      'keeper.yaml: instruments: expected a list',
    ]],
  ];
  it.each(cases)('%s', (_name, pairs, expected) => {
    const text = edit(EXAMPLE, ...pairs);
    expect(problems(text)).toEqual(expected);
  });

  /** 1-based line of the `nth` occurrence of `marker` in `text`. */
  const lineOf = (text: string, marker: string, nth = 1): number => {
    let at = -1;
    for (let i = 0; i < nth; i++) at = text.indexOf(marker, at + 1);
    expect(at).toBeGreaterThanOrEqual(0);
    return text.slice(0, at).split('\n').length;
  };

  it('a YAML syntax error names its line', () => {
    const text = edit(EXAMPLE, ['  ETH:\n    token', '  ETH:\n    token: [1, 2\n    tokenx']);
    // The unclosed flow sequence is detected on the line after it.
    expect(problems(text)).toEqual([`keeper.yaml: line ${lineOf(text, 'tokenx')}: Flow sequence in block collection must be sufficiently indented and end with a ]`]);
  });

  it('a duplicated key names its line', () => {
    const text = edit(EXAMPLE, ['  BTC:\n    token', '  ETH:\n    token']);
    expect(problems(text)).toEqual([`keeper.yaml: line ${lineOf(text, '  ETH:\n    token', 2)}: Map keys must be unique`]);
  });
});

describe('all problems of a file at once', () => {
  it('reports every problem in one ConfigError, one line each, in file order', () => {
    const text = edit(EXAMPLE,
      ['feed: 0xDc64a140Aa3E981100a9becA4E685f962f0cF6C9', 'feed: 0x123'],
      ['    heartbeat: 3600        # seconds', '    heartbet: 3600        # seconds'],
      ['    token0: USDC           # 0x5FbD... < 0xe7f1...\n    token1: ETH', '    token0: ETH\n    token1: USDC'],
      ['trigger: 0.15 ', 'trigger: 0.3 '],
      ['{ venue: aave, asset: ETH, priority: 2 }', '{ venue: morpho, asset: ETH, priority: 2 }'],
      // BTC's feed is bad, yet its amounts are still checked against its 8 decimals.
      ['minTrade: 0.001', 'minTrade: 0.000000001'],
    );
    let error: unknown;
    try {
      parsePortfolioYaml(text, 'keeper.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const lines = [
      'keeper.yaml: assets.ETH.heartbet: unknown key; did you mean heartbeat?',
      'keeper.yaml: assets.BTC.feed: not an address',
      `keeper.yaml: pools.weth-usdc.token0: Uniswap orders a pool's tokens by address: token0 should be USDC (${A.usdc}) and token1 ETH (${A.weth})`,
      'keeper.yaml: venues.perp.trigger: must be below target (0.25)',
      'keeper.yaml: instruments[1].venue: no venue "morpho" is declared (declared: perp, aave)',
      'keeper.yaml: policy.assets.BTC.minTrade: 0.000000001 has 9 decimals; BTC has 8',
    ];
    expect((error as ConfigError).problems).toEqual(lines);
    expect((error as ConfigError).message).toBe(`invalid configuration:\n${lines.join('\n')}`);
  });
});

describe('PORTFOLIO_FILE', () => {
  it('is read by loadConfig (null when unset) and its misspelling is caught', () => {
    expect(loadConfig({}).portfolioFile).toBeNull();
    expect(loadConfig({ PORTFOLIO_FILE: './keeper.yaml' }).portfolioFile).toBe('./keeper.yaml');
    expect(() => loadConfig({ PORTFOLIO_FIEL: './keeper.yaml' })).toThrow('PORTFOLIO_FIEL: unknown variable; did you mean PORTFOLIO_FILE?');
    expect(() => loadConfig({ PORTFOLIO_PATH: './keeper.yaml' })).toThrow('PORTFOLIO_PATH: unknown variable (no keeper variable has this name');
  });
});

describe('portfolioFromEnv', () => {
  const addresses: ChainAddresses = {
    oracleFeed: A.ethFeed, usdcFeed: A.usdcFeed, weth: A.weth, usdc: A.usdc, uniswapPositionManager: A.positionManager,
    uniswapPool: A.wethUsdc, uniswapSwapRouter: A.router, uniswapQuoter: A.quoter, perpExchange: A.perp, aavePoolAddressesProvider: A.provider,
  };
  // Every number off its default, so a field mapped from the wrong source shows.
  const env = {
    HEDGE_RATIO: '0.9', DELTA_BAND_ETH: '0.7', DELTA_BAND_PCT: '3', HYSTERESIS_PCT: '40', MIN_TRADE_ETH: '0.02', MAX_TRADE_ETH: '40',
    MARGIN_TRIGGER_RATIO: '0.12', MARGIN_TARGET_RATIO: '0.3', HF_TRIGGER: '1.25', HF_TARGET: '1.75', COOLDOWN_SEC: '90',
    MAX_SLIPPAGE_BPS: '30', INCLUDE_NATIVE_ETH: 'true', MAX_TOPUP_USDC: '1234.5', MAX_TOPUP_PER_DAY_USDC: '5000.25',
    MAX_NOTIONAL_PER_DAY_USD: '777777.5', PERP_MARKET_ID: '9', ORACLE_MAX_AGE_SEC: '1800',
  };
  const common = {
    positionManager: A.positionManager,
    // USDC (0x5FbD...) sorts before WETH (0xe7f1...): USDC is token0.
    quote: { id: 'USDC', token: A.usdc, decimals: 6, feed: A.usdcFeed },
    assets: [{ id: 'ETH', token: A.weth, decimals: 18, feed: A.ethFeed, heartbeatSec: 1800, wrapsNative: true }],
    pools: [{ id: 'weth-usdc', address: A.wethUsdc, token0: 'USDC', token1: 'ETH', fee: 3000 }],
    policy: {
      assets: {
        ETH: {
          hedgeRatioE18: 9n * E18 / 10n, bandUnits: 7n * E18 / 10n, bandPctE18: 3n * E16, hysteresisE18: 40n * E16,
          minTradeUnits: 2n * E16, maxTradeUnits: 40n * E18, maxNotionalPerDayUsdE8: 77_777_750_000_000n,
        },
      },
      cooldownSec: 90, maxSlippageBps: 30, includeNative: true,
    },
  };
  const topUps = { maxTopUpUnits: 1_234_500_000n, maxTopUpPerDayUnits: 5_000_250_000n };

  it.each(['perp', 'aave'])('HEDGE_VENUE=%s written as keeper.yaml (keeper portfolio from-env) reads back to the same portfolio', async (venue) => {
    const { portfolioToYaml } = await import('../../src/portfolio/to-yaml.js');
    const p = portfolioFromEnv(loadConfig({ ...env, HEDGE_VENUE: venue }), addresses, 3000);
    const text = portfolioToYaml(p, ['a header']);
    expect(text.startsWith('# a header\n')).toBe(true);
    expect(parsePortfolioYaml(text, 'keeper.yaml')).toEqual(p);
  });

  it('HEDGE_VENUE=perp: one perp venue with the configured market, every number carried exactly', () => {
    const p = portfolioFromEnv(loadConfig(env), addresses, 3000);
    expect(p).toEqual({
      ...common,
      venues: [{ kind: 'perp', id: 'perp', exchange: A.perp, markets: { ETH: 9n }, collateral: { triggerE18: 12n * E16, targetE18: 30n * E16, ...topUps } }],
      instruments: [{ id: 'perp:ETH', venue: 'perp', asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: null }],
    });
    expect(Object.isFrozen(p.policy.assets['ETH'])).toBe(true);
  });

  it('HEDGE_VENUE=aave: one aave venue swapping on the configured pool', () => {
    expect(portfolioFromEnv(loadConfig({ ...env, HEDGE_VENUE: 'aave' }), addresses, 3000)).toEqual({
      ...common,
      venues: [{
        kind: 'aave', id: 'aave', addressesProvider: A.provider, swapRouter: A.router, quoter: A.quoter, swapPools: { ETH: 'weth-usdc' },
        collateral: { triggerE18: 125n * E16, targetE18: 175n * E16, ...topUps },
      }],
      instruments: [{ id: 'aave:ETH', venue: 'aave', asset: 'ETH', priority: 1, weight: 1, maxSizeUnits: null }],
    });
  });

  it('token order follows the addresses; the pool fee defaults to the devnet 500', () => {
    const swapped = { ...addresses, weth: A.usdc, usdc: A.weth };
    expect(portfolioFromEnv(loadConfig({}), swapped).pools).toEqual([{ id: 'weth-usdc', address: A.wethUsdc, token0: 'ETH', token1: 'USDC', fee: 500 }]);
  });

  it('a missing venue address is a ConfigError naming the variable', () => {
    expect(() => portfolioFromEnv(loadConfig({ HEDGE_VENUE: 'aave' }), { ...addresses, uniswapQuoter: null }))
      .toThrow('UNISWAP_QUOTER=(unset): required with HEDGE_VENUE=aave, in the environment or the addresses file');
  });

  it('the env defaults map onto the same policy numbers the example file documents for ETH', () => {
    const fromEnv = portfolioFromEnv(loadConfig({}), addresses);
    expect(fromEnv.policy.assets['ETH']).toEqual(EXPECTED.policy.assets['ETH']);
    expect(fromEnv.venues[0]?.collateral).toEqual({ triggerE18: 15n * E16, targetE18: 25n * E16, maxTopUpUnits: 100_000_000_000n, maxTopUpPerDayUnits: 500_000_000_000n });
  });
});
