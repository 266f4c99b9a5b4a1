import { HttpRequestError, HttpTransport, InfoClient } from '@nktkas/hyperliquid';
import type { AssetSpec, HyperliquidMarketAccount, HyperliquidVenueAccount, HyperliquidVenueSpec, Portfolio } from '../portfolio/model.js';
import { decimalToScaled } from './hyperliquid-rules.js';

/**
 * Reads a Hyperliquid account over the venue's HTTP API with the SDK: `metaAndAssetCtxs` (asset
 * index, szDecimals, max leverage, mark, oracle price and funding: funding is in the asset
 * contexts, not in `meta`), `clearinghouseState` (positions, margin, liquidation prices) and
 * `openOrders` (orders resting on the keeper's coins), the three at once.
 *
 * A 429 or 5xx answer is retried with exponential back-off (baseDelayMs × 2^attempt, `attempts`
 * tries in all); a venue that keeps refusing is an infrastructure failure and throws, naming the
 * status, so the tick holds this venue rather than acting on nothing.
 */

export interface HyperliquidReaderOptions {
  readonly apiUrl: string;
  readonly isTestnet?: boolean;
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  /** Injected so tests back off without waiting. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called before each retry (the keeper logs `rpc.failed`-style events from here). */
  readonly onRetry?: (info: { status: number; attempt: number; delayMs: number }) => void;
}

export class HyperliquidUnavailableError extends Error {
  constructor(
    readonly status: number | null,
    readonly attempts: number,
    options: { cause: unknown },
  ) {
    super(`hyperliquid API ${status === 429 ? 'rate-limited (429)' : `failed (${status ?? 'no answer'})`} after ${attempts} attempt(s)`, options);
    this.name = 'HyperliquidUnavailableError';
  }
}

const retryable = (status: number | null): boolean => status === 429 || (status !== null && status >= 500);

function statusOf(e: unknown): number | null {
  return e instanceof HttpRequestError && e.response !== undefined ? e.response.status : null;
}

/** The retry schedule both the reads and the orders follow: `attempts` tries, baseDelayMs × 2^(attempt−1) between them. */
export function backoffSchedule(opts: Pick<HyperliquidReaderOptions, 'attempts' | 'baseDelayMs' | 'sleep'>): {
  attempts: number;
  delayMs: (attempt: number) => number;
  sleep: (ms: number) => Promise<void>;
} {
  const base = opts.baseDelayMs ?? 250;
  return {
    attempts: opts.attempts ?? 4,
    delayMs: (attempt) => base * 2 ** (attempt - 1),
    sleep: opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
  };
}

export async function withBackoff<T>(opts: HyperliquidReaderOptions, call: () => Promise<T>): Promise<T> {
  const { attempts, delayMs: delayOf, sleep } = backoffSchedule(opts);
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const status = statusOf(e);
      if (!retryable(status) && !(e instanceof HttpRequestError && e.response === undefined)) throw e;
      if (attempt + 1 >= attempts) throw new HyperliquidUnavailableError(status, attempt + 1, { cause: e });
      const delayMs = delayOf(attempt + 1);
      opts.onRetry?.({ status: status ?? 0, attempt: attempt + 1, delayMs });
      await sleep(delayMs);
    }
  }
}

export interface HyperliquidReader {
  readonly info: InfoClient;
  read(spec: HyperliquidVenueSpec, assets: Readonly<Record<string, AssetSpec>>, quoteDecimals: number): Promise<HyperliquidVenueAccount>;
}

export function createHyperliquidReader(opts: HyperliquidReaderOptions): HyperliquidReader {
  const info = new InfoClient({ transport: new HttpTransport({ apiUrl: opts.apiUrl, isTestnet: opts.isTestnet ?? false }) });
  return {
    info,
    async read(spec, assets, quoteDecimals) {
      const [[meta, ctxs], state, open] = await Promise.all([
        withBackoff(opts, () => info.metaAndAssetCtxs()),
        withBackoff(opts, () => info.clearinghouseState({ user: spec.user })),
        withBackoff(opts, () => info.openOrders({ user: spec.user })),
      ]);
      const usd = (x: string): bigint => decimalToScaled(x, quoteDecimals);
      const markets: Record<string, HyperliquidMarketAccount> = {};
      for (const [assetId, coin] of Object.entries(spec.markets)) {
        const index = meta.universe.findIndex((u) => u.name === coin);
        const u = meta.universe[index];
        const ctx = ctxs[index];
        const asset = assets[assetId];
        if (u === undefined || ctx === undefined) throw new Error(`hyperliquid venue ${spec.id}: coin ${coin} is not listed by the venue`);
        if (asset === undefined) throw new Error(`hyperliquid venue ${spec.id}: asset ${assetId} is not in the portfolio`);
        const pos = state.assetPositions.find((p) => p.position.coin === coin)?.position;
        markets[assetId] = {
          coin,
          assetIndex: index,
          szDecimals: u.szDecimals,
          maxLeverage: u.maxLeverage,
          sizeUnits: pos === undefined ? 0n : decimalToScaled(pos.szi, asset.decimals),
          entryPriceE8: pos === undefined ? 0n : decimalToScaled(pos.entryPx, 8),
          markPriceE8: decimalToScaled(ctx.markPx, 8),
          oraclePriceE8: decimalToScaled(ctx.oraclePx, 8),
          fundingRateHourlyE18: decimalToScaled(ctx.funding, 18),
          liquidationPriceE8: pos?.liquidationPx === null || pos === undefined ? null : decimalToScaled(pos.liquidationPx, 8),
          restingOrders: open.filter((o) => o.coin === coin).length,
        };
      }
      const summary = state.crossMarginSummary;
      return {
        kind: 'hyperliquid',
        venue: spec.id,
        markets,
        accountValueUnits: usd(summary.accountValue),
        totalNotionalUnits: usd(summary.totalNtlPos),
        maintenanceMarginUnits: usd(state.crossMaintenanceMarginUsed),
        withdrawableUnits: usd(state.withdrawable),
        timeMs: state.time,
      };
    },
  };
}

const readers = new Map<string, HyperliquidReader>();

/**
 * The snapshot's read of a Hyperliquid venue (src/chain/portfolio-snapshot.ts): one reader per
 * API origin, kept across ticks. The venue is off-chain, so this is not pinned to the block.
 */
export function readHyperliquidAccount(spec: HyperliquidVenueSpec, portfolio: Portfolio): Promise<HyperliquidVenueAccount> {
  let reader = readers.get(spec.apiUrl);
  if (reader === undefined) {
    reader = createHyperliquidReader({ apiUrl: spec.apiUrl });
    readers.set(spec.apiUrl, reader);
  }
  return reader.read(spec, Object.fromEntries(portfolio.assets.map((a) => [a.id, a])), portfolio.quote.decimals);
}
