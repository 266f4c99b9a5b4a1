import { isAddress, type Hex } from 'viem';
import { z } from 'zod';
import type { Address, BandParams, GuardPolicy, HedgePolicy, HedgeVenueKind } from './core/types.js';
import { ConfigError, REDACTED, Reader, Secrets, rpcOrigin, units, type Env } from './config-reader.js';
import { unknownVariables } from './config-names.js';

export { ConfigError, Secrets, rpcOrigin } from './config-reader.js';

/**
 * The keeper's configuration, read once from the environment (the CLI passes process.env after
 * dotenv; nothing else reads it). Amounts become bigint base units (wei, USDC units, USD E8);
 * ratios and percentages become E18 fixed point (1e18 = 1.0 = 100%), the same convention as the
 * pure core. Secrets live in a `Secrets` object that never serializes or prints its content.
 */

export interface ChainAddresses {
  oracleFeed: Address;
  usdcFeed: Address | null;
  weth: Address;
  usdc: Address;
  uniswapPositionManager: Address;
  uniswapPool: Address;
  uniswapSwapRouter: Address | null;
  uniswapQuoter: Address | null;
  perpExchange: Address | null;
  aavePoolAddressesProvider: Address | null;
}

export type PartialAddresses = { [K in keyof ChainAddresses]: Address | null };

export type SignerConfig = { kind: 'privateKey' } | { kind: 'keystore'; keystorePath: string } | { kind: 'none' };

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface KeeperConfig {
  readonly chain: {
    /** Empty = run against an embedded devnet. */
    readonly rpcUrls: readonly string[];
    readonly devnet: boolean;
    /** Expected chain id, checked against the RPC; null = accept what the RPC says. */
    readonly chainId: number | null;
    /** Multicall3 for the one-call snapshot; without code there, viem's deployless multicall. */
    readonly multicall3: Address;
  };
  readonly signer: SignerConfig;
  readonly secrets: Secrets;
  /** Path of the devnet's addresses JSON; individual address variables override its entries. */
  readonly addressesFile: string | null;
  readonly addresses: Readonly<PartialAddresses>;
  /** Path of the portfolio file (keeper.yaml); null = the single-asset portfolio of this environment. */
  readonly portfolioFile: string | null;
  /** HEDGE_VENUE was set: without it (and without PORTFOLIO_FILE) the embedded demo runs the multi-asset portfolio. */
  readonly hedgeVenueSet: boolean;
  readonly perpMarketId: bigint;
  readonly venue: HedgeVenueKind;
  readonly policy: Readonly<HedgePolicy>;
  readonly guard: Readonly<GuardPolicy & { maxGasPriceWei: bigint }>;
  readonly loop: {
    readonly tickMode: 'block' | 'interval';
    readonly tickIntervalMs: number;
    readonly logLevel: LogLevel;
    readonly logFormat: 'auto' | 'json' | 'pretty';
    readonly dataDir: string;
    readonly metricsPort: number | null;
    /** Interface the metrics server binds (a container scraped from outside needs 0.0.0.0). */
    readonly metricsHost: string;
    /** /healthz answers 503 once the last successful tick is older than this. */
    readonly healthMaxTickAgeSec: number;
  };
  /** Restart safety, transaction replacement, oracle sanity and alerts (see .env.example). */
  readonly safety: {
    /** SQLite journal of intents and transactions; default <DATA_DIR>/journal.sqlite. */
    readonly journalPath: string;
    /** A transaction not mined after this many blocks is replaced with higher fees. */
    readonly replaceAfterBlocks: number;
    /** The feed's heartbeat: an older answer puts the keeper in safe mode. */
    readonly oracleMaxAgeSec: number;
    /** Pool price further than this from the feed puts the keeper in safe mode. */
    readonly maxPoolDeviationBps: number;
    readonly alertWebhookUrl: string | null;
    /** Actions above this notional are announced on the webhook. */
    readonly alertLargeActionUsdE8: bigint;
  };
}

/** Where Multicall3 lives on mainnet and most EVM chains (and on our devnet). */
export const MULTICALL3_CANONICAL: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';

/** The variable of each address (preflight and resolveAddresses name the culprit by it). */
export const ADDRESS_VARS: Record<keyof ChainAddresses, string> = {
  oracleFeed: 'ORACLE_FEED',
  usdcFeed: 'USDC_FEED',
  weth: 'WETH',
  usdc: 'USDC',
  uniswapPositionManager: 'UNISWAP_POSITION_MANAGER',
  uniswapPool: 'UNISWAP_POOL',
  uniswapSwapRouter: 'UNISWAP_SWAP_ROUTER',
  uniswapQuoter: 'UNISWAP_QUOTER',
  perpExchange: 'PERP_EXCHANGE',
  aavePoolAddressesProvider: 'AAVE_POOL_ADDRESSES_PROVIDER',
};

/** Addresses a live (non-devnet) keeper cannot run without, per hedge venue. */
export function requiredAddressKeys(venue: HedgeVenueKind): (keyof ChainAddresses)[] {
  const common: (keyof ChainAddresses)[] = ['oracleFeed', 'weth', 'usdc', 'uniswapPositionManager', 'uniswapPool'];
  return venue === 'perp'
    ? [...common, 'perpExchange']
    : [...common, 'aavePoolAddressesProvider', 'uniswapSwapRouter', 'uniswapQuoter'];
}

function readRpcUrls(r: Reader): string[] {
  const value = r.raw('RPC_URLS');
  if (value === undefined) return [];
  const urls = value.split(',').map((s) => s.trim()).filter(Boolean);
  const url = z.url({ protocol: /^(https?|wss?)$/ });
  if (urls.length === 0 || !urls.every((u) => url.safeParse(u).success)) {
    r.fail('RPC_URLS', 'expected a comma-separated list of http(s):// or ws(s):// URLs, or nothing for the embedded devnet');
  }
  return urls;
}

function readSigner(r: Reader, live: boolean): { signer: SignerConfig; secrets: Secrets } {
  const keyExpected = 'expected 0x followed by 64 hex characters';
  const privateKey = r.parse<Hex | null>('PRIVATE_KEY', undefined,
    z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s as Hex), keyExpected, null);
  const path = r.string('KEYSTORE_PATH');
  const password = r.raw('KEYSTORE_PASSWORD') ?? null;
  const hasKey = r.raw('PRIVATE_KEY') !== undefined;
  if (hasKey && (path || password)) {
    r.fail('PRIVATE_KEY', 'set either PRIVATE_KEY or KEYSTORE_PATH + KEYSTORE_PASSWORD, not both');
  } else if (path && !password) {
    r.fail('KEYSTORE_PASSWORD', 'required with KEYSTORE_PATH');
  } else if (password && !path) {
    r.fail('KEYSTORE_PATH', 'required with KEYSTORE_PASSWORD');
  } else if (live && !hasKey && !path) {
    r.fail('PRIVATE_KEY', `required when RPC_URLS is set (${keyExpected}), or set KEYSTORE_PATH + KEYSTORE_PASSWORD`);
  }
  const signer: SignerConfig = privateKey ? { kind: 'privateKey' } : path ? { kind: 'keystore', keystorePath: path } : { kind: 'none' };
  const agentKey = r.parse<Hex | null>('HYPERLIQUID_AGENT_KEY', undefined,
    z.string().regex(/^0x[0-9a-fA-F]{64}$/).transform((s) => s as Hex), `${keyExpected} (the API wallet approved by the Hyperliquid account)`, null);
  return { signer, secrets: new Secrets(privateKey, password, agentKey) };
}

function readAddresses(r: Reader, live: boolean, venue: HedgeVenueKind, file: string | null): PartialAddresses {
  const out = {} as PartialAddresses;
  for (const [key, name] of Object.entries(ADDRESS_VARS) as [keyof ChainAddresses, string][]) {
    out[key] = r.address(name);
  }
  if (live && file === null) {
    for (const key of requiredAddressKeys(venue)) {
      const name = ADDRESS_VARS[key];
      if (out[key] === null && r.ok(name)) r.fail(name, `required with HEDGE_VENUE=${venue} when RPC_URLS is set and ADDRESSES_FILE is not`);
    }
  }
  return out;
}

function readPolicy(r: Reader): HedgePolicy {
  const hedgeRatio = r.decimal('HEDGE_RATIO', '1.0', { min: 0, max: 2 });
  const bandEth = r.decimal('DELTA_BAND_ETH', '0.5', { min: 0 });
  const bandPct = r.decimal('DELTA_BAND_PCT', '5', { min: 0, max: 100 });
  const hysteresisPct = r.decimal('HYSTERESIS_PCT', '50', { min: 0, max: 100 });
  const minTrade = r.decimal('MIN_TRADE_ETH', '0.01', { min: 0 });
  const maxTrade = r.decimal('MAX_TRADE_ETH', '50', { min: 0, above: true });
  const marginTrigger = r.decimal('MARGIN_TRIGGER_RATIO', '0.15', { min: 0, max: 10, above: true });
  const marginTarget = r.decimal('MARGIN_TARGET_RATIO', '0.25', { min: 0, max: 10, above: true });
  const hfTrigger = r.decimal('HF_TRIGGER', '1.3', { min: 1, max: 100, above: true });
  const hfTarget = r.decimal('HF_TARGET', '1.6', { min: 1, max: 100, above: true });
  if (r.ok('DELTA_BAND_ETH', 'DELTA_BAND_PCT') && bandEth.isZero() && bandPct.isZero()) {
    r.fail('DELTA_BAND_ETH', 'the band must be > 0: DELTA_BAND_ETH and DELTA_BAND_PCT cannot both be 0');
  }
  if (r.ok('MIN_TRADE_ETH', 'MAX_TRADE_ETH') && minTrade.gt(maxTrade)) {
    r.fail('MIN_TRADE_ETH', `must be <= MAX_TRADE_ETH (${maxTrade.toFixed()})`);
  }
  if (r.ok('MARGIN_TRIGGER_RATIO', 'MARGIN_TARGET_RATIO') && marginTrigger.gte(marginTarget)) {
    r.fail('MARGIN_TRIGGER_RATIO', `must be below MARGIN_TARGET_RATIO (${marginTarget.toFixed()})`);
  }
  if (r.ok('HF_TRIGGER', 'HF_TARGET') && hfTrigger.gte(hfTarget)) {
    r.fail('HF_TRIGGER', `must be below HF_TARGET (${hfTarget.toFixed()})`);
  }
  return {
    hedgeRatioE18: units(hedgeRatio, 18),
    deltaBandWei: units(bandEth, 18),
    deltaBandPctE18: units(bandPct, 16),
    hysteresisE18: units(hysteresisPct, 16),
    cooldownSec: r.int('COOLDOWN_SEC', '60', 0, 86_400 * 7) ?? 60,
    minTradeWei: units(minTrade, 18),
    maxTradeWei: units(maxTrade, 18),
    marginTriggerE18: units(marginTrigger, 18),
    marginTargetE18: units(marginTarget, 18),
    hfTriggerE18: units(hfTrigger, 18),
    hfTargetE18: units(hfTarget, 18),
    maxSlippageBps: r.int('MAX_SLIPPAGE_BPS', '50', 1, 5_000) ?? 50,
    includeNativeEth: r.bool('INCLUDE_NATIVE_ETH', false),
    bandMode: r.choice('BAND_MODE', 'adaptive', ['fixed', 'vol', 'ww', 'time', 'adaptive']),
    band: readBandParams(r),
  };
}

/** Parameters of BAND_MODE vol / ww / time (core/band-policy.ts); read whatever the mode, so a typo fails early. */
function readBandParams(r: Reader): BandParams {
  const volRef = r.decimal('BAND_VOL_REF_ANNUAL', '1.0', { min: 0, max: 10, above: true });
  const minEth = r.decimal('BAND_MIN_ETH', '0.1', { min: 0 });
  const maxEth = r.decimal('BAND_MAX_ETH', '100', { min: 0, above: true });
  if (r.ok('BAND_MIN_ETH', 'BAND_MAX_ETH') && minEth.gt(maxEth)) {
    r.fail('BAND_MIN_ETH', `must be <= BAND_MAX_ETH (${maxEth.toFixed()})`);
  }
  return {
    volRefAnnual: volRef.toNumber(),
    minWei: units(minEth, 18),
    maxWei: units(maxEth, 18),
    wwCostBps: r.decimal('WW_COST_BPS', '10', { min: 0, max: 1000 }).toNumber(),
    wwRiskAversionPerUsd: r.decimal('WW_RISK_AVERSION', '0.0005', { min: 0, above: true }).toNumber(),
    rebalancePeriodSec: r.int('REBALANCE_PERIOD_SEC', '3600', 1, 86_400 * 30) ?? 3600,
    adaptiveCostBps: r.decimal('BAND_COST_BPS', '5', { min: 0, max: 1000 }).toNumber(),
    adaptiveRiskAversionPerUsd: r.decimal('BAND_RISK_AVERSION', '0.000093', { min: 0, above: true }).toNumber(),
    volFastHalfLifeSec: r.int('BAND_VOL_FAST_HALF_LIFE_SEC', '14400', 60, 86_400 * 30) ?? 14_400,
  };
}

/**
 * What a portfolio file declares per asset and per venue (addresses, the venue, bands, trade
 * sizes, ratios, caps): set beside PORTFOLIO_FILE it would be silently ignored, so it is refused.
 * RPCs, keys, the journal, logging, metrics, the gas ceiling and oracle/pool safety stay here.
 */
export const PORTFOLIO_DECLARED_VARS: readonly string[] = [
  'HEDGE_VENUE', 'ADDRESSES_FILE', 'PERP_MARKET_ID', ...Object.values(ADDRESS_VARS),
  'HEDGE_RATIO', 'DELTA_BAND_ETH', 'DELTA_BAND_PCT', 'HYSTERESIS_PCT', 'MIN_TRADE_ETH', 'MAX_TRADE_ETH', 'COOLDOWN_SEC',
  'MARGIN_TRIGGER_RATIO', 'MARGIN_TARGET_RATIO', 'HF_TRIGGER', 'HF_TARGET', 'MAX_SLIPPAGE_BPS', 'INCLUDE_NATIVE_ETH',
  'MAX_TOPUP_USDC', 'MAX_TOPUP_PER_DAY_USDC', 'MAX_NOTIONAL_PER_DAY_USD',
  'BAND_MODE', 'BAND_VOL_REF_ANNUAL', 'BAND_MIN_ETH', 'BAND_MAX_ETH', 'WW_COST_BPS', 'WW_RISK_AVERSION', 'REBALANCE_PERIOD_SEC',
  'BAND_COST_BPS', 'BAND_RISK_AVERSION', 'BAND_VOL_FAST_HALF_LIFE_SEC',
];

function refuseSingleAssetVars(r: Reader, env: Env, portfolioFile: string): void {
  for (const name of PORTFOLIO_DECLARED_VARS) {
    if (env[name] !== undefined && env[name] !== '') {
      r.fail(name, `the portfolio file (PORTFOLIO_FILE=${portfolioFile}) declares this per asset and venue: remove ${name} and set it in the file (see keeper.example.yaml)`);
    }
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !(value instanceof Secrets) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function readSafety(r: Reader): KeeperConfig['safety'] {
  const dataDir = r.string('DATA_DIR', './data') ?? './data';
  const webhook = r.parse<string | null>('ALERT_WEBHOOK_URL', undefined, z.url({ protocol: /^https?$/ }), 'expected an http(s):// URL', null);
  return {
    journalPath: r.string('JOURNAL_PATH') ?? `${dataDir.replace(/\/+$/, '')}/journal.sqlite`,
    replaceAfterBlocks: r.int('REPLACE_AFTER_BLOCKS', '3', 1, 1_000) ?? 3,
    oracleMaxAgeSec: r.int('ORACLE_MAX_AGE_SEC', '3600', 1, 7 * 86_400) ?? 3600,
    maxPoolDeviationBps: r.int('MAX_POOL_DEVIATION_BPS', '150', 1, 10_000) ?? 150,
    alertWebhookUrl: webhook,
    alertLargeActionUsdE8: units(r.decimal('ALERT_LARGE_ACTION_USD', '50000', { min: 0 }), 8),
  };
}

export function loadConfig(env: Env): KeeperConfig {
  const r = new Reader(env);
  const rpcUrls = readRpcUrls(r);
  const live = rpcUrls.length > 0;
  const venue = r.choice<HedgeVenueKind>('HEDGE_VENUE', 'perp', ['perp', 'aave']);
  const { signer, secrets } = readSigner(r, live);
  const addressesFile = r.string('ADDRESSES_FILE');
  const portfolioFile = r.string('PORTFOLIO_FILE');
  // With a portfolio file the addresses come from it, not from the single-asset variables.
  const addresses = readAddresses(r, live && portfolioFile === null, venue, addressesFile);
  const policy = readPolicy(r);
  const maxTopUpUsdc = r.decimal('MAX_TOPUP_USDC', '100000', { min: 0, above: true });
  const guard = {
    maxTradeWei: policy.maxTradeWei,
    maxNotionalPerDayUsdE8: units(r.decimal('MAX_NOTIONAL_PER_DAY_USD', '1000000', { min: 0, above: true }), 8),
    maxTopUpUnits: units(maxTopUpUsdc, 6),
    // Default: five full top-ups a day.
    maxTopUpPerDayUnits: units(r.decimal('MAX_TOPUP_PER_DAY_USDC', maxTopUpUsdc.mul(5).toFixed(), { min: 0, above: true }), 6),
    maxGasPriceWei: units(r.decimal('MAX_GAS_PRICE_GWEI', '200', { min: 0, above: true }), 9),
  };
  const config: KeeperConfig = {
    chain: { rpcUrls, devnet: !live, chainId: r.int('CHAIN_ID', undefined, 1, 2 ** 32), multicall3: r.address('MULTICALL3') ?? MULTICALL3_CANONICAL },
    signer,
    secrets,
    addressesFile,
    addresses,
    portfolioFile,
    hedgeVenueSet: r.raw('HEDGE_VENUE') !== undefined,
    perpMarketId: BigInt(r.int('PERP_MARKET_ID', '1', 0, 2 ** 32) ?? 1),
    venue,
    policy,
    guard,
    loop: {
      tickMode: r.choice('TICK_MODE', 'block', ['block', 'interval']),
      tickIntervalMs: r.int('TICK_INTERVAL_MS', '2000', 100, 3_600_000) ?? 2000,
      logLevel: r.choice<LogLevel>('LOG_LEVEL', 'info', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
      logFormat: r.choice('LOG_FORMAT', 'auto', ['auto', 'json', 'pretty']),
      dataDir: r.string('DATA_DIR', './data') ?? './data',
      metricsPort: r.int('METRICS_PORT', undefined, 1, 65_535),
      metricsHost: r.string('METRICS_HOST', '127.0.0.1') ?? '127.0.0.1',
      healthMaxTickAgeSec: r.int('HEALTH_MAX_TICK_AGE_SEC', '120', 1, 86_400) ?? 120,
    },
    safety: readSafety(r),
  };
  if (portfolioFile !== null) refuseSingleAssetVars(r, env, portfolioFile);
  const ignored = new Set((r.string('IGNORE_VARS') ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  r.problems.push(...unknownVariables(env, r.asked, ignored));
  if (r.problems.length > 0) throw new ConfigError(r.problems);
  return deepFreeze(config);
}

/**
 * Fill the addresses the environment left empty from the devnet's addresses file (environment
 * wins), and insist on the ones the venue needs. `fromFile` is whatever the file reader parsed.
 */
export function resolveAddresses(config: KeeperConfig, fromFile: Partial<Record<keyof ChainAddresses, string>>): ChainAddresses {
  const problems: string[] = [];
  const out = { ...config.addresses };
  for (const key of Object.keys(ADDRESS_VARS) as (keyof ChainAddresses)[]) {
    const v = fromFile[key];
    if (out[key] !== null || v === undefined) continue;
    if (isAddress(v)) out[key] = v as Address;
    else problems.push(`${ADDRESS_VARS[key]}=(unset): the addresses file has an invalid ${key} (${v})`);
  }
  for (const key of requiredAddressKeys(config.venue)) {
    if (out[key] === null) problems.push(`${ADDRESS_VARS[key]}=(unset): required with HEDGE_VENUE=${config.venue}, in the environment or the addresses file`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ChainAddresses;
}

/** A JSON-safe view of the config for the `keeper.started` log line: bigints as strings, no secrets, RPC hosts only. */
export function configSummary(config: KeeperConfig): Record<string, unknown> {
  const plain = (v: unknown): unknown =>
    typeof v === 'bigint' ? v.toString()
      : v instanceof Secrets ? REDACTED
      : Array.isArray(v) ? v.map(plain)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
      : v;
  const summary = plain(config) as Record<string, unknown>;
  summary['chain'] = { ...config.chain, rpcUrls: config.chain.rpcUrls.map((u) => rpcOrigin(u)) };
  return summary;
}
