import { Decimal } from 'decimal.js';
import { formatUnits, isAddress } from 'viem';
import { isScalar, parseDocument, visit } from 'yaml';
import { z } from 'zod';
import type { Address } from '../core/types.js';
import { editDistance } from '../config-names.js';

/**
 * The shape of `keeper.yaml` (documented in keeper.example.yaml), one zod schema per entry.
 * src/portfolio/file.ts parses each entry on its own, so one bad asset does not hide the
 * problems of the others, and then cross-checks the entries that parsed.
 *
 * The YAML reader (readYaml) hands every number over as its source text: amounts are converted
 * from that text exactly, never through a float. Ratios and USD figures become E18 / E8 here;
 * token amounts stay text until file.ts knows the token's decimals.
 */

const MAX_DECIMALS = 36;

export interface YamlError {
  readonly line: number | null;
  readonly message: string;
}

/**
 * Parse YAML text. Numbers keep their source text: decimals stay exact, and an unquoted 0x
 * address (a hex integer to YAML, beyond float precision) stays the address it was written as.
 */
export function readYaml(text: string): { value: unknown; errors: YamlError[] } {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const errors = [...doc.errors, ...doc.warnings].map((e) => ({
    line: e.linePos?.[0]?.line ?? null,
    message: (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, ''),
  }));
  if (errors.length > 0) return { value: undefined, errors };
  visit(doc, {
    Scalar(_key, node) {
      if (isScalar(node) && (typeof node.value === 'number' || typeof node.value === 'bigint') && node.source !== undefined) {
        node.value = node.source;
      }
    },
  });
  return { value: doc.toJS({ maxAliasCount: 100 }) as unknown, errors };
}

/** A value schema: absent (undefined or YAML null) is `required`, or the `absent` value. */
function field<T>(expected: string, parse: (v: unknown) => T | undefined, absent?: { value: T }): z.ZodType<T> {
  return z.unknown().transform((v, ctx): T => {
    if (v === undefined || v === null) {
      if (absent) return absent.value;
      ctx.addIssue({ code: 'custom', message: 'required' });
      return z.NEVER;
    }
    const out = parse(v);
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: expected });
      return z.NEVER;
    }
    return out;
  });
}

/** The known key closest to `key` (case-insensitive), when it is a plausible typo of it. */
export function closestName(key: string, known: Iterable<string>): string | null {
  let best: { name: string; d: number } | null = null;
  for (const k of known) {
    const d = editDistance(key.toLowerCase(), k.toLowerCase());
    if (d > Math.min(2, Math.ceil(key.length / 3))) continue;
    if (best === null || d < best.d || (d === best.d && k < best.name)) best = { name: k, d };
  }
  return best?.name ?? null;
}

export function unknownKeyMessage(key: string, known: readonly string[]): string {
  const near = closestName(key, known);
  return near !== null ? `unknown key; did you mean ${near}?` : `unknown key (expected one of ${known.join(', ')})`;
}

export function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A mapping with exactly these keys: each unknown key is its own problem, with a suggestion. */
function strict<S extends z.ZodRawShape>(shape: S): z.ZodType<z.output<z.ZodObject<S>>> {
  const known = Object.keys(shape);
  const inner = z.object(shape);
  return z.unknown().transform((v, ctx): z.output<z.ZodObject<S>> => {
    if (!isMapping(v)) {
      ctx.addIssue({ code: 'custom', message: v === undefined || v === null ? 'required' : 'expected a mapping' });
      return z.NEVER;
    }
    for (const key of Object.keys(v)) {
      if (!known.includes(key)) ctx.addIssue({ code: 'custom', path: [key], message: unknownKeyMessage(key, known) });
    }
    // Every key present (absent = undefined): field() decides what absent means, not zod's optionality.
    const r = inner.safeParse({ ...Object.fromEntries(known.map((k) => [k, undefined])), ...v });
    if (!r.success) {
      for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
      return z.NEVER;
    }
    return r.data;
  });
}

/** Names of assets, pools, venues: they become key paths, so no dots; a letter keeps them from being array indices. */
const NAME = /^(?=.*[A-Za-z])[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const NAME_EXPECTED = 'expected a name (letters, digits, - and _)';
export function isName(s: string): boolean {
  return NAME.test(s);
}
const name = field(NAME_EXPECTED, (v) => (typeof v === 'string' && NAME.test(v) ? v : undefined));

function addressOf(v: unknown): Address | undefined {
  return typeof v === 'string' && isAddress(v) ? (v as Address) : undefined;
}
const address = field<Address>('not an address', addressOf);
const optionalAddress = field<Address | null>('not an address', addressOf, { value: null });
/** The top-level `positionManager` (optional). */
export const OPTIONAL_ADDRESS = optionalAddress;

const INT = /^\d+$/;
function int(min: number, max: number, def?: number): z.ZodType<number> {
  const parse = (v: unknown): number | undefined => {
    if (typeof v !== 'string' || !INT.test(v)) return undefined;
    const n = Number(v);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  };
  return field(`expected an integer from ${min} to ${max}`, parse, def === undefined ? undefined : { value: def });
}

const bool = (def: boolean): z.ZodType<boolean> =>
  field('expected true or false', (v) => (typeof v === 'boolean' ? v : undefined), { value: def });

const DECIMAL = /^(\d+(\.\d*)?|\.\d+)$/;
interface Range {
  min?: string;
  max?: string;
  /** Exclusive lower bound (value must be > min). */
  above?: boolean;
}

function rangeText(r: Range): string {
  const lo = r.min === undefined ? '' : `${r.above ? '>' : '>='} ${r.min}`;
  const hi = r.max === undefined ? '' : `<= ${r.max}`;
  const both = [lo, hi].filter(Boolean).join(' and ');
  return `expected a plain decimal number${both ? ` ${both}` : ''}`;
}

function inRange(text: string, r: Range): boolean {
  const d = new Decimal(text);
  if (r.min !== undefined && (r.above ? d.lte(r.min) : d.lt(r.min))) return false;
  return r.max === undefined || d.lte(r.max);
}

const decimalIn = (r: Range) => (v: unknown): string | undefined => (typeof v === 'string' && DECIMAL.test(v) && inRange(v, r) ? v : undefined);

/** A non-negative decimal in range, kept as its exact text. */
function decimalText(r: Range, def?: string): z.ZodType<string> {
  return field(rangeText(r), decimalIn(r), def === undefined ? undefined : { value: def });
}

/** An optional positive amount (text); absent = null. */
const optionalAmount = field<string | null>(rangeText({ min: '0', above: true }), decimalIn({ min: '0', above: true }), { value: null });

/**
 * `text` (a plain decimal) in base units with `decimals`, exactly (string arithmetic, no float);
 * null when it has more fraction digits than that (the caller names the key).
 */
export function toUnits(text: string, decimals: number): bigint | null {
  const [whole = '', frac = ''] = text.split('.');
  if (frac.length > decimals) return null;
  return BigInt(`${whole || '0'}${frac.padEnd(decimals, '0')}`);
}

/** A fixed-point figure (ratio E18, USD E8) converted in the schema: its scale does not depend on a token. */
function fixed(decimals: number, r: Range, def?: string): z.ZodType<bigint> {
  return decimalText(r, def).transform((text, ctx) => {
    const places = text.split('.')[1]?.length ?? 0;
    const out = toUnits(text, decimals);
    if (out !== null) return out;
    ctx.addIssue({ code: 'custom', message: `${text} has ${places} decimals; at most ${decimals}` });
    return z.NEVER;
  });
}
const ratio = (r: Range, def?: string) => fixed(18, r, def);

/** A mapping of names to `value` (perp markets, swap pools); the names are checked by file.ts. */
function mapping<T>(value: z.ZodType<T>): z.ZodType<Record<string, T>> {
  return z.unknown().transform((v, ctx): Record<string, T> => {
    if (!isMapping(v)) {
      ctx.addIssue({ code: 'custom', message: v === undefined || v === null ? 'required' : 'expected a mapping' });
      return z.NEVER;
    }
    const out: Record<string, T> = {};
    let ok = true;
    for (const [k, raw] of Object.entries(v)) {
      if (!NAME.test(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: NAME_EXPECTED });
        ok = false;
        continue;
      }
      const r = value.safeParse(raw);
      if (r.success) Object.defineProperty(out, k, { value: r.data, enumerable: true });
      else {
        ok = false;
        for (const issue of r.error.issues) ctx.addIssue({ code: 'custom', path: [k, ...issue.path], message: issue.message });
      }
    }
    return ok ? out : z.NEVER;
  });
}

/** Also read on their own by file.ts: a bad feed must not hide the checks that need the token's address or decimals. */
export const TOKEN_FIELDS = { token: address, decimals: int(0, MAX_DECIMALS) };

export function salvageToken(raw: unknown): { token?: Address; decimals?: number } {
  if (!isMapping(raw)) return {};
  const token = TOKEN_FIELDS.token.safeParse(raw['token']);
  const decimals = TOKEN_FIELDS.decimals.safeParse(raw['decimals']);
  return { ...(token.success ? { token: token.data } : {}), ...(decimals.success ? { decimals: decimals.data } : {}) };
}

export const quoteSchema = strict({ symbol: name, ...TOKEN_FIELDS, feed: optionalAddress });

/** Default heartbeat: the env config's ORACLE_MAX_AGE_SEC. */
export const assetSchema = strict({ ...TOKEN_FIELDS, feed: address, heartbeat: int(1, 7 * 86_400, 3600), wrapsNative: bool(false) });

/** fee: Uniswap V3's fee in hundredths of a bip (uint24, below 100%). */
export const poolSchema = strict({
  version: field('expected v3 or v4', (v) => (v === 'v3' ? v : undefined), { value: 'v3' as const }),
  address,
  token0: name,
  token1: name,
  fee: int(1, 999_999),
});

/** v4's LP fee: at most 100% (1,000,000), or 0x800000 (8388608): dynamic, set by the pool's hook. */
const v4Fee = field('expected an integer from 0 to 1000000, or 8388608 (dynamic fee)', (v) => {
  const n = typeof v === 'string' && INT.test(v) ? Number(v) : NaN;
  return n <= 1_000_000 || n === 0x800000 ? n : undefined;
});

/** A Uniswap v4 pool: its key (currencies as asset or quote ids, in address order); no address of its own. */
export const poolV4Schema = strict({
  version: z.literal('v4'),
  currency0: name,
  currency1: name,
  fee: v4Fee,
  tickSpacing: int(1, 32_767),
  hooks: optionalAddress,
});

/** Top-level `uniswapV4`: the contracts v4 positions are read through (src/chain/v4-reads.ts). */
export const uniswapV4Schema = strict({
  poolManager: address,
  positionManager: address,
  stateView: address,
  fromBlock: field('expected a block number', (v) => (typeof v === 'string' && INT.test(v) ? BigInt(v) : undefined), { value: 0n }),
});

/**
 * Collateral bounds of a venue. Quote amounts stay text (the quote's decimals apply); the
 * defaults are the env config's MAX_TOPUP_USDC and "five full top-ups a day" (file.ts).
 */
function collateralShape(trigger: string, target: string, r: Range) {
  return {
    trigger: ratio(r, trigger),
    target: ratio(r, target),
    maxTopUp: decimalText({ min: '0', above: true }, '100000'),
    maxTopUpPerDay: optionalAmount,
  };
}

const marketId = field('expected a market id (an integer)', (v) => (typeof v === 'string' && INT.test(v) ? BigInt(v) : undefined));

/** Perp margin ratio and Aave health factor: the env config's defaults and ranges. */
export const perpVenueSchema = strict({
  kind: z.literal('perp'),
  exchange: address,
  markets: mapping(marketId),
  ...collateralShape('0.15', '0.25', { min: '0', max: '10', above: true }),
});

export const aaveVenueSchema = strict({
  kind: z.literal('aave'),
  addressesProvider: address,
  swapRouter: address,
  quoter: address,
  swapPools: mapping(name),
  ...collateralShape('1.3', '1.6', { min: '1', max: '100', above: true }),
});

const bytes32 = field<`0x${string}`>('expected a bytes32 id (0x and 64 hex digits)', (v) =>
  typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v) ? (v.toLowerCase() as `0x${string}`) : undefined,
);

/** One Morpho Blue market; the health (maxBorrow / borrowed) liquidates below 1, as Aave's. */
export const morphoVenueSchema = strict({
  kind: z.literal('morpho'),
  morpho: address,
  marketId: bytes32,
  loanAsset: name,
  swapPool: name,
  swapRouter: address,
  quoter: address,
  ...collateralShape('1.3', '1.6', { min: '1', max: '100', above: true }),
});

/** The venue's coin names: letters and digits (ETH, BTC, kPEPE). */
const coinName = field<string>('expected a coin name (letters and digits, as the venue lists it)', (v) => (typeof v === 'string' && /^[A-Za-z0-9]{1,20}$/.test(v) ? v : undefined));
const apiUrl = field<string>('expected an http(s) URL', (v) => {
  if (typeof v !== 'string') return undefined;
  try {
    const u = new URL(v);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : undefined;
  } catch {
    return undefined;
  }
});

/** A Hyperliquid cross-margin account: ratio = account value / total notional, as a perp's. */
export const hyperliquidVenueSchema = strict({
  kind: z.literal('hyperliquid'),
  apiUrl,
  user: address,
  markets: mapping(coinName),
  testnet: z.boolean().optional(),
  bridge: address.optional(),
  ...collateralShape('0.15', '0.25', { min: '0', max: '10', above: true }),
});

export const VENUE_KINDS = ['perp', 'aave', 'morpho', 'hyperliquid'] as const;

const weight = decimalText({ min: '0', above: true }, '1').transform(Number);

export const instrumentSchema = strict({
  id: field<string | null>('expected a non-empty string', (v) => (typeof v === 'string' && v.trim() !== '' ? v : undefined), { value: null }),
  venue: name,
  asset: name,
  priority: int(0, 1_000_000, 1),
  weight,
  maxSize: optionalAmount,
});

/**
 * Per-asset policy. Ratio defaults mirror the env config (HEDGE_RATIO 1, DELTA_BAND_PCT 5%,
 * HYSTERESIS_PCT 50%, MAX_NOTIONAL_PER_DAY_USD 1M); band, minTrade and maxTrade are in the
 * asset's own units, where no one default fits every asset, so they are required.
 */
export const assetPolicySchema = strict({
  hedgeRatio: ratio({ min: '0', max: '2' }, '1'),
  band: decimalText({ min: '0' }),
  bandPct: ratio({ min: '0', max: '1' }, '0.05'),
  hysteresis: ratio({ min: '0', max: '1' }, '0.5'),
  minTrade: decimalText({ min: '0' }),
  maxTrade: decimalText({ min: '0', above: true }),
  maxNotionalPerDayUsd: fixed(8, { min: '0', above: true }, '1000000'),
  /** Within one priority, short on the venue whose funding / borrow rate is cheaper first (default false). */
  preferCheaperVenue: bool(false),
});

/**
 * The policy of an asset hedged by proxy (no instrument of its own): the assets whose
 * instruments carry its minimum-variance hedge, and how much of it to hedge.
 */
export const proxyPolicySchema = strict({
  proxy: field<string[]>('expected a non-empty list of asset names', (v) =>
    Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && NAME.test(x)) ? (v as string[]) : undefined),
  hedgeRatio: ratio({ min: '0', max: '2' }, '1'),
});

/** `assets` is parsed entry by entry in file.ts. Defaults mirror COOLDOWN_SEC, MAX_SLIPPAGE_BPS, INCLUDE_NATIVE_ETH. */
export const policySchema = strict({
  cooldown: int(0, 7 * 86_400, 60),
  maxSlippageBps: int(1, 5_000, 50),
  includeNative: bool(false),
  /** Portfolio 1-day 99% VaR limit, USD (default: none). */
  varLimitUsd: field<bigint | null>(rangeText({ min: '0', above: true }), (v) => {
    const text = decimalIn({ min: '0', above: true })(v);
    return text === undefined ? undefined : (toUnits(text, 8) ?? undefined);
  }, { value: null }),
  assets: z.unknown(),
});

export const TOP_LEVEL_KEYS = ['positionManager', 'uniswapV4', 'quote', 'assets', 'pools', 'venues', 'instruments', 'policy'] as const;

/** E18 / E8 back to the text a person wrote (for messages). */
export function fixedText(value: bigint, decimals: number): string {
  return formatUnits(value, decimals);
}
