import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { zeroAddress } from 'viem';
import type { z } from 'zod';
import { ConfigError } from '../config-reader.js';
import type { Address } from '../core/types.js';
import type {
  AssetPolicy, AssetSpec, CollateralPolicy, InstrumentSpec, PoolSpec, Portfolio, QuoteSpec, VenueSpec,
} from './model.js';
import {
  NAME_EXPECTED, OPTIONAL_ADDRESS, TOP_LEVEL_KEYS, VENUE_KINDS, aaveVenueSchema, morphoVenueSchema, hyperliquidVenueSchema, assetPolicySchema, assetSchema, closestName, fixedText, instrumentSchema,
  isMapping, isName, perpVenueSchema, policySchema, poolSchema, poolV4Schema, proxyPolicySchema, uniswapV4Schema, quoteSchema, readYaml, salvageToken, toUnits, unknownKeyMessage,
} from './schema.js';

/**
 * `keeper.yaml` -> Portfolio (the layout is documented in keeper.example.yaml). Every problem is
 * one line `<file>: <key.path>: <message>`; all of them are collected and thrown as one
 * ConfigError, so a user fixes the file in one pass. Entries are parsed one by one and the
 * cross-checks only look at entries that parsed, so one mistake is reported once, not again by
 * everything that refers to it.
 */

type Path = readonly (string | number)[];

function pathText(path: Path): string {
  if (path.length === 0) return '(root)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

class Problems {
  readonly lines: string[] = [];
  constructor(private readonly file: string) {}
  add(path: Path, message: string): void {
    this.at(pathText(path), message);
  }
  /** A problem located by something other than a key path (a YAML line). */
  at(location: string, message: string): void {
    this.lines.push(`${this.file}: ${location}: ${message}`);
  }
  /** Parse one entry; its problems are added under `path`, null when it did not parse. */
  entry<T>(schema: z.ZodType<T>, value: unknown, path: Path): T | null {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    for (const issue of r.error.issues) this.add([...path, ...(issue.path as (string | number)[])], issue.message);
    return null;
  }
  /** Token amount text -> base units; a fraction finer than the token is refused, naming the key. */
  units(text: string, decimals: number, owner: string, path: Path): bigint | null {
    const out = toUnits(text, decimals);
    if (out === null) this.add(path, `${text} has ${text.split('.')[1]?.length ?? 0} decimals; ${owner} has ${decimals}`);
    return out;
  }
  missing(path: Path, what: string, name: string, known: Iterable<string>): void {
    const list = [...known];
    const near = closestName(name, list);
    const hint = near !== null ? `; did you mean ${near}?` : list.length > 0 ? ` (declared: ${list.join(', ')})` : '';
    this.add(path, `no ${what} "${name}" is declared${hint}`);
  }
}

function section(root: Record<string, unknown>, key: string, problems: Problems, required: boolean): [string, unknown][] {
  const v = root[key];
  if (v === undefined || v === null) {
    if (required) problems.add([key], 'required');
    return [];
  }
  if (!isMapping(v)) {
    problems.add([key], 'expected a mapping');
    return [];
  }
  return Object.entries(v);
}

interface Parsed {
  quote: QuoteSpec | null;
  /** The quote's id as written, even when the rest of the quote is bad (for references). */
  quoteId: string | null;
  declaredAssets: Set<string>;
  assets: Map<string, AssetSpec>;
  declaredPools: Set<string>;
  pools: Map<string, PoolSpec>;
  /** Address and decimals of the quote and each asset by id, whenever those two keys are valid. */
  tokens: Map<string, { token?: Address; decimals?: number }>;
}

/** Token amount text of `owner` (an asset or the quote) -> base units; null when its decimals are unknown (already reported). */
function unitsOf(ctx: Parsed, p: Problems, owner: string, text: string, path: Path): bigint | null {
  const decimals = ctx.tokens.get(owner)?.decimals;
  return decimals === undefined ? null : p.units(text, decimals, owner, path);
}

function parseQuoteAndAssets(root: Record<string, unknown>, p: Problems): Parsed {
  const q = p.entry(quoteSchema, root['quote'], ['quote']);
  const rawSymbol = isMapping(root['quote']) ? root['quote']['symbol'] : undefined;
  const quote: QuoteSpec | null = q && { id: q.symbol, token: q.token, decimals: q.decimals, feed: q.feed };
  const quoteId = typeof rawSymbol === 'string' ? rawSymbol : null;
  const out: Parsed = { quote, quoteId, declaredAssets: new Set(), assets: new Map(), declaredPools: new Set(), pools: new Map(), tokens: new Map() };
  const quoteToken = salvageToken(root['quote']);
  if (quoteId !== null) out.tokens.set(quoteId, quoteToken);
  const addresses = new Map<string, string>();
  if (quoteToken.token) addresses.set(quoteToken.token.toLowerCase(), 'quote.token');
  let nativeWrapper: string | null = null;
  const entries = section(root, 'assets', p, true);
  if (isMapping(root['assets']) && entries.length === 0) p.add(['assets'], 'expected at least one asset');
  for (const [id, raw] of entries) {
    if (!isName(id)) {
      p.add(['assets', id], NAME_EXPECTED);
      continue;
    }
    out.declaredAssets.add(id);
    if (id === out.quoteId) p.add(['assets', id], `${id} is the quote; an asset cannot share its id`);
    const token = salvageToken(raw);
    if (id !== out.quoteId) out.tokens.set(id, token);
    const seen = token.token && addresses.get(token.token.toLowerCase());
    if (seen !== undefined) p.add(['assets', id, 'token'], `same token address as ${seen}`);
    else if (token.token) addresses.set(token.token.toLowerCase(), `assets.${id}.token`);
    const a = p.entry(assetSchema, raw, ['assets', id]);
    if (!a) continue;
    if (a.wrapsNative && nativeWrapper !== null) p.add(['assets', id, 'wrapsNative'], `only one asset can wrap the native coin (${nativeWrapper} does)`);
    if (a.wrapsNative) nativeWrapper ??= id;
    out.assets.set(id, { id, token: a.token, decimals: a.decimals, feed: a.feed, heartbeatSec: a.heartbeat, wrapsNative: a.wrapsNative });
  }
  parsePools(root, p, out);
  return out;
}

function parsePools(root: Record<string, unknown>, p: Problems, out: Parsed): void {
  const addresses = new Map<string, string>();
  const tokenOf = (name: string, path: Path): { address: string } | null => {
    if (name !== out.quoteId && !out.declaredAssets.has(name)) {
      p.missing(path, 'asset or quote', name, [...out.declaredAssets, ...(out.quoteId ? [out.quoteId] : [])]);
    }
    const address = out.tokens.get(name)?.token;
    return address ? { address } : null;
  };
  for (const [id, raw] of section(root, 'pools', p, false)) {
    if (!isName(id)) {
      p.add(['pools', id], NAME_EXPECTED);
      continue;
    }
    out.declaredPools.add(id);
    // A v4 pool is a key (currency0/currency1 in place of token0/token1); its address, the PoolManager, comes from uniswapV4.
    const v4 = isMapping(raw) && raw['version'] === 'v4' ? p.entry(poolV4Schema, raw, ['pools', id]) : undefined;
    const pool = v4 === undefined ? p.entry(poolSchema, raw, ['pools', id]) : v4 && { address: zeroAddress, token0: v4.currency0, token1: v4.currency1, fee: v4.fee };
    if (!pool) continue;
    const [k0, k1] = v4 ? ['currency0', 'currency1'] : ['token0', 'token1'];
    const t0 = tokenOf(pool.token0, ['pools', id, k0]);
    const t1 = tokenOf(pool.token1, ['pools', id, k1]);
    if (pool.token0 === pool.token1) p.add(['pools', id, k1], `same token as ${k0} (${pool.token0})`);
    else if (t0 && t1 && t0.address.toLowerCase() > t1.address.toLowerCase()) {
      p.add(['pools', id, k0], `Uniswap orders a pool's tokens by address: ${k0} should be ${pool.token1} (${t1.address}) and ${k1} ${pool.token0} (${t0.address})`);
    }
    const at = v4 ? `v4 ${[pool.token0, pool.token1, pool.fee, v4.tickSpacing, v4.hooks ?? zeroAddress].join('/').toLowerCase()}` : pool.address.toLowerCase();
    const seen = addresses.get(at);
    if (seen !== undefined) p.add(['pools', id, v4 ? 'fee' : 'address'], `same pool ${v4 ? 'key' : 'address'} as pools.${seen}`);
    else addresses.set(at, id);
    // A pool with an undeclared token is reported once, here, not again by the swap pools naming it.
    const known = (t: string) => t === out.quoteId || out.declaredAssets.has(t);
    const version = v4 ? { version: 'v4' as const, tickSpacing: v4.tickSpacing, hooks: v4.hooks ?? zeroAddress } : {};
    if (known(pool.token0) && known(pool.token1)) out.pools.set(id, { id, address: pool.address, token0: pool.token0, token1: pool.token1, fee: pool.fee, ...version });
  }
}

/**
 * A venue's collateral bounds. When the quote amounts cannot be converted (the quote is bad, or an
 * amount is too fine) a problem is already reported and the file is refused, so the zero bounds
 * returned then never leave this module; the venue is still registered for the checks that follow.
 */
function collateral(
  v: { trigger: bigint; target: bigint; maxTopUp: string; maxTopUpPerDay: string | null },
  path: Path,
  ctx: Parsed,
  p: Problems,
): CollateralPolicy {
  if (v.trigger >= v.target) p.add([...path, 'trigger'], `must be below target (${fixedText(v.target, 18)})`);
  const quote = ctx.quoteId ?? '';
  const maxTopUp = unitsOf(ctx, p, quote, v.maxTopUp, [...path, 'maxTopUp']);
  // Default: five full top-ups a day, as MAX_TOPUP_PER_DAY_USDC defaults in the env config.
  const perDay = v.maxTopUpPerDay === null ? (maxTopUp ?? 0n) * 5n : unitsOf(ctx, p, quote, v.maxTopUpPerDay, [...path, 'maxTopUpPerDay']);
  return { triggerE18: v.trigger, targetE18: v.target, maxTopUpUnits: maxTopUp ?? 0n, maxTopUpPerDayUnits: perDay ?? 0n };
}

/** The loan asset is declared, and its swap pool is a v3 pool trading it against the quote. */
function checkMorphoVenue(v: { loanAsset: string; swapPool: string }, path: Path, ctx: Parsed, p: Problems): void {
  if (v.loanAsset === ctx.quoteId) p.add([...path, 'loanAsset'], `${v.loanAsset} is the quote; the quote is the collateral, never the loan`);
  else if (!ctx.declaredAssets.has(v.loanAsset)) p.missing([...path, 'loanAsset'], 'asset', v.loanAsset, ctx.declaredAssets);
  const pool = ctx.pools.get(v.swapPool);
  const pair = pool ? [pool.token0, pool.token1] : [];
  const at = [...path, 'swapPool'];
  if (!ctx.declaredPools.has(v.swapPool)) p.missing(at, 'pool', v.swapPool, ctx.declaredPools);
  else if (pool?.version === 'v4') p.add(at, `pool ${v.swapPool} is a Uniswap v4 pool; swaps go through the V3 swapRouter: name a v3 pool`);
  else if (pool && ctx.quoteId !== null && !(pair.includes(v.loanAsset) && pair.includes(ctx.quoteId))) {
    p.add(at, `pool ${v.swapPool} trades ${pair.join('/')}, not ${v.loanAsset} against the quote ${ctx.quoteId}`);
  }
}

function parseVenues(root: Record<string, unknown>, p: Problems, ctx: Parsed): { declared: Set<string>; venues: Map<string, VenueSpec> } {
  const declared = new Set<string>();
  const venues = new Map<string, VenueSpec>();
  for (const [id, raw] of section(root, 'venues', p, false)) {
    if (!isName(id)) {
      p.add(['venues', id], NAME_EXPECTED);
      continue;
    }
    declared.add(id);
    const path = ['venues', id];
    const kind = isMapping(raw) ? raw['kind'] : undefined;
    if (kind === 'perp') {
      const v = p.entry(perpVenueSchema, raw, path);
      if (!v) continue;
      const byMarket = new Map<bigint, string>();
      for (const [asset, market] of Object.entries(v.markets)) {
        if (!ctx.declaredAssets.has(asset)) p.missing([...path, 'markets', asset], 'asset', asset, ctx.declaredAssets);
        const other = byMarket.get(market);
        if (other !== undefined) p.add([...path, 'markets', asset], `market ${market} is already ${other}'s`);
        else byMarket.set(market, asset);
      }
      venues.set(id, { kind: 'perp', id, exchange: v.exchange, markets: v.markets, collateral: collateral(v, path, ctx, p) });
    } else if (kind === 'aave') {
      const v = p.entry(aaveVenueSchema, raw, path);
      if (!v) continue;
      for (const [asset, poolId] of Object.entries(v.swapPools)) {
        const at = [...path, 'swapPools', asset];
        if (!ctx.declaredAssets.has(asset)) p.missing(at, 'asset', asset, ctx.declaredAssets);
        const pool = ctx.pools.get(poolId);
        const pair = pool ? [pool.token0, pool.token1] : [];
        if (!ctx.declaredPools.has(poolId)) p.missing(at, 'pool', poolId, ctx.declaredPools);
        else if (pool?.version === 'v4') p.add(at, `pool ${poolId} is a Uniswap v4 pool; swaps go through the V3 swapRouter: name a v3 pool`);
        else if (pool && ctx.quoteId !== null && !(pair.includes(asset) && pair.includes(ctx.quoteId))) {
          p.add(at, `pool ${poolId} trades ${pair.join('/')}, not ${asset} against the quote ${ctx.quoteId}`);
        }
      }
      const { addressesProvider, swapRouter, quoter, swapPools } = v;
      venues.set(id, { kind: 'aave', id, addressesProvider, swapRouter, quoter, swapPools, collateral: collateral(v, path, ctx, p) });
    } else if (kind === 'morpho') {
      const v = p.entry(morphoVenueSchema, raw, path);
      if (!v) continue;
      checkMorphoVenue(v, path, ctx, p);
      const { morpho, marketId, loanAsset, swapPool, swapRouter, quoter } = v;
      venues.set(id, { kind: 'morpho', id, morpho, marketId, loanAsset, swapPool, swapRouter, quoter, collateral: collateral(v, path, ctx, p) });
    } else if (kind === 'hyperliquid') {
      const v = p.entry(hyperliquidVenueSchema, raw, path);
      if (!v) continue;
      for (const asset of Object.keys(v.markets)) if (!ctx.declaredAssets.has(asset)) p.missing([...path, 'markets', asset], 'asset', asset, ctx.declaredAssets);
      venues.set(id, {
        kind: 'hyperliquid', id, apiUrl: v.apiUrl, user: v.user, markets: v.markets,
        ...(v.testnet !== undefined ? { testnet: v.testnet } : {}), ...(v.bridge !== undefined ? { bridge: v.bridge } : {}),
        collateral: collateral(v, path, ctx, p),
      });
    } else {
      p.add([...path, 'kind'], kind === undefined || kind === null ? `required (${VENUE_KINDS.join(' or ')})` : `expected ${VENUE_KINDS.join(' or ')}`);
    }
  }
  return { declared, venues };
}

function parseInstruments(root: Record<string, unknown>, p: Problems, ctx: Parsed, v: ReturnType<typeof parseVenues>): { instruments: InstrumentSpec[]; hedged: Map<string, string> } {
  const raw = root['instruments'] ?? [];
  const instruments: InstrumentSpec[] = [];
  /** Hedged asset -> the first instrument that hedges it (for the policy check's message). */
  const hedged = new Map<string, string>();
  if (!Array.isArray(raw)) {
    p.add(['instruments'], 'expected a list');
    return { instruments, hedged };
  }
  const ids = new Map<string, number>();
  raw.forEach((entry: unknown, i) => {
    const path = ['instruments', i];
    const it = p.entry(instrumentSchema, entry, path);
    if (!it) return;
    if (!v.declared.has(it.venue)) p.missing([...path, 'venue'], 'venue', it.venue, v.declared);
    if (it.asset === ctx.quoteId) p.add([...path, 'asset'], `${it.asset} is the quote; the quote is never hedged`);
    else if (!ctx.declaredAssets.has(it.asset)) p.missing([...path, 'asset'], 'asset', it.asset, ctx.declaredAssets);
    else if (!hedged.has(it.asset)) hedged.set(it.asset, pathText(path));
    const venue = v.venues.get(it.venue);
    if (venue?.kind === 'perp' && ctx.declaredAssets.has(it.asset) && venue.markets[it.asset] === undefined) {
      p.add([...path, 'asset'], `venue ${it.venue} has no market for ${it.asset} (add venues.${it.venue}.markets.${it.asset})`);
    }
    if (venue?.kind === 'morpho' && ctx.declaredAssets.has(it.asset) && venue.loanAsset !== it.asset) {
      p.add([...path, 'asset'], `venue ${it.venue} lends ${venue.loanAsset}; it cannot hedge ${it.asset}`);
    }
    if (venue?.kind === 'aave' && ctx.declaredAssets.has(it.asset) && venue.swapPools[it.asset] === undefined) {
      p.add([...path, 'asset'], `venue ${it.venue} has no swap pool for ${it.asset} (add venues.${it.venue}.swapPools.${it.asset})`);
    }
    const id = it.id ?? `${it.venue}:${it.asset}`;
    const other = ids.get(id);
    if (other !== undefined) p.add([...path, it.id === null ? 'venue' : 'id'], `instrument id ${id} is already instruments[${other}]'s${it.id === null ? ' (give one of them an id)' : ''}`);
    else ids.set(id, i);
    const maxSize = it.maxSize === null || it.asset === ctx.quoteId ? null : unitsOf(ctx, p, it.asset, it.maxSize, [...path, 'maxSize']);
    instruments.push({ id, venue: it.venue, asset: it.asset, priority: it.priority, weight: it.weight, maxSizeUnits: maxSize });
  });
  return { instruments, hedged };
}

function parseAssetPolicies(raw: unknown, p: Problems, ctx: Parsed, hedged: Map<string, string>): Record<string, AssetPolicy> {
  const out: Record<string, AssetPolicy> = {};
  const path = ['policy', 'assets'];
  const entries = raw === undefined || raw === null ? [] : isMapping(raw) ? Object.entries(raw) : null;
  if (entries === null) p.add(path, 'expected a mapping');
  for (const [id, entry] of entries ?? []) {
    if (!ctx.declaredAssets.has(id)) {
      p.missing([...path, id], 'asset', id, ctx.declaredAssets);
      continue;
    }
    if (isMapping(entry) && entry['proxy'] !== undefined) {
      const proxied = parseProxyPolicy(entry, [...path, id], p, ctx, hedged);
      if (proxied) out[id] = proxied;
      continue;
    }
    const a = p.entry(assetPolicySchema, entry, [...path, id]);
    if (!a) continue;
    const u = (key: 'band' | 'minTrade' | 'maxTrade') => unitsOf(ctx, p, id, a[key], [...path, id, key]);
    const [band, minTrade, maxTrade] = [u('band'), u('minTrade'), u('maxTrade')];
    if (minTrade !== null && maxTrade !== null && minTrade > maxTrade) p.add([...path, id, 'minTrade'], `must be <= maxTrade (${a.maxTrade})`);
    if (band === 0n && a.bandPct === 0n) p.add([...path, id, 'band'], 'the band must be > 0: band and bandPct cannot both be 0');
    if (band === null || minTrade === null || maxTrade === null) continue;
    out[id] = {
      hedgeRatioE18: a.hedgeRatio, bandUnits: band, bandPctE18: a.bandPct, hysteresisE18: a.hysteresis,
      minTradeUnits: minTrade, maxTradeUnits: maxTrade, maxNotionalPerDayUsdE8: a.maxNotionalPerDayUsd,
      // Only when set: the default leaves the policy exactly as before the key existed.
      ...(a.preferCheaperVenue ? { preferCheaperVenue: true } : {}),
    };
  }
  const declared = new Set((entries ?? []).map(([id]) => id));
  for (const [asset, by] of hedged) {
    if (!declared.has(asset) && entries !== null) p.add([...path, asset], `required: ${by} hedges ${asset} (band, minTrade and maxTrade in ${asset} units)`);
  }
  return out;
}

/**
 * `{ proxy: [ETH], hedgeRatio }`: an asset with no instrument, hedged on its proxies' instruments
 * (core/portfolio/proxy.ts). Each proxy is a declared asset with an instrument of its own.
 * Bands and trade sizes are the proxies' (the trades are theirs): zero here.
 */
function parseProxyPolicy(entry: unknown, path: Path, p: Problems, ctx: Parsed, hedged: Map<string, string>): AssetPolicy | null {
  const a = p.entry(proxyPolicySchema, entry, path);
  if (!a) return null;
  const id = String(path[path.length - 1]);
  let ok = true;
  if (hedged.has(id)) {
    p.add([...path, 'proxy'], `${id} has an instrument (${hedged.get(id)}); an asset is hedged by its instruments or by proxy, not both`);
    ok = false;
  }
  a.proxy.forEach((x, i) => {
    if (x === id) p.add([...path, 'proxy', i], `${id} cannot be its own proxy`);
    else if (!ctx.declaredAssets.has(x)) p.missing([...path, 'proxy', i], 'asset', x, ctx.declaredAssets);
    else if (!hedged.has(x)) p.add([...path, 'proxy', i], `${x} has no instrument to carry the hedge`);
    else return;
    ok = false;
  });
  if (new Set(a.proxy).size !== a.proxy.length) {
    p.add([...path, 'proxy'], 'a proxy is listed twice');
    ok = false;
  }
  if (!ok) return null;
  return {
    hedgeRatioE18: a.hedgeRatio, bandUnits: 0n, bandPctE18: 0n, hysteresisE18: 0n, minTradeUnits: 0n, maxTradeUnits: 0n, maxNotionalPerDayUsdE8: 0n, proxy: a.proxy,
  };
}

/** Portfolios are shared by every part of the keeper: frozen all the way down. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Parse the text of a portfolio file; `fileLabel` starts every problem line (the file's base name). */
export function parsePortfolioYaml(text: string, fileLabel: string): Portfolio {
  const p = new Problems(fileLabel);
  const { value: root, errors } = readYaml(text);
  for (const e of errors) p.at(e.line === null ? '(yaml)' : `line ${e.line}`, e.message);
  if (p.lines.length > 0) throw new ConfigError(p.lines);
  if (!isMapping(root)) {
    p.add([], root === undefined || root === null ? 'the file is empty (expected a mapping with quote and assets)' : 'expected a mapping');
    throw new ConfigError(p.lines);
  }
  for (const key of Object.keys(root)) {
    if (!(TOP_LEVEL_KEYS as readonly string[]).includes(key)) p.add([key], unknownKeyMessage(key, TOP_LEVEL_KEYS));
  }
  const positionManager = p.entry(OPTIONAL_ADDRESS, root['positionManager'], ['positionManager']);
  const uniswapV4 = root['uniswapV4'] === undefined ? undefined : p.entry(uniswapV4Schema, root['uniswapV4'], ['uniswapV4']);
  const ctx = parseQuoteAndAssets(root, p);
  for (const pool of ctx.pools.values()) {
    if (pool.version === 'v4' && uniswapV4 === undefined) p.add(['pools', pool.id, 'version'], 'a v4 pool needs the top-level uniswapV4 (poolManager, positionManager, stateView)');
  }
  const venues = parseVenues(root, p, ctx);
  const { instruments, hedged } = parseInstruments(root, p, ctx, venues);
  const policy = p.entry(policySchema, root['policy'] ?? {}, ['policy']);
  const policyAssets = parseAssetPolicies(isMapping(root['policy']) ? root['policy']['assets'] : undefined, p, ctx, hedged);
  if (p.lines.length > 0 || !ctx.quote || !policy) throw new ConfigError(p.lines);
  return deepFreeze({
    ...(positionManager ? { positionManager } : {}),
    ...(uniswapV4 ? { uniswapV4 } : {}),
    quote: ctx.quote,
    assets: [...ctx.assets.values()],
    pools: [...ctx.pools.values()].map((x) => (x.version === 'v4' && uniswapV4 ? { ...x, address: uniswapV4.poolManager } : x)),
    venues: [...venues.venues.values()],
    instruments,
    policy: {
      assets: policyAssets, cooldownSec: policy.cooldown, maxSlippageBps: policy.maxSlippageBps, includeNative: policy.includeNative,
      ...(policy.varLimitUsd !== null ? { varLimitUsdE8: policy.varLimitUsd } : {}),
    },
  });
}

/** Read and parse the portfolio file at `path` (PORTFOLIO_FILE). */
export function loadPortfolioFile(path: string): Portfolio {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError([`${basename(path)}: (file): cannot read ${path} (${code})`]);
  }
  return parsePortfolioYaml(text, basename(path));
}
