import type { Address, OracleRound } from '../core/types.js';

/**
 * The portfolio: the unit the keeper reads, measures and hedges (DESIGN.md, "The portfolio
 * model"). Declared in `keeper.yaml` (src/portfolio/file.ts) or mapped from today's single-asset
 * environment (src/portfolio/from-env.ts); everything below it (assess, allocate, venue models,
 * the snapshot reader) takes this shape and names no asset or venue of its own.
 *
 * Units: an asset amount is bigint in the asset token's own decimals (`Units`); USD values and
 * prices are 8-decimal fixed point (`UsdE8`, `PriceE8` = USD per one whole token); ratios are E18.
 * Nothing here assumes 18 or 6 decimals.
 */

/** An asset symbol as declared in the portfolio file ("ETH", "BTC", ...). */
export type AssetId = string;
/** A venue id as declared in the portfolio file ("perp", "aave", ...). */
export type VenueId = string;

export interface AssetSpec {
  readonly id: AssetId;
  /** The ERC-20 that carries the asset on chain (WETH for ETH, WBTC for BTC). */
  readonly token: Address;
  readonly decimals: number;
  /** Chainlink-compatible USD feed of the asset. */
  readonly feed: Address;
  /** The feed's heartbeat: a round older than this (plus grace) is stale. */
  readonly heartbeatSec: number;
  /** This asset is the chain's native coin wrapped (WETH): native balance counts when policy says so. */
  readonly wrapsNative: boolean;
}

/** The quote and collateral asset (USDC): never hedged, values everything else. */
export interface QuoteSpec {
  readonly id: string;
  readonly token: Address;
  readonly decimals: number;
  /** USD feed of the quote; null = valued at exactly 1 USD. */
  readonly feed: Address | null;
}

/** A Uniswap V3 pool the account may hold positions in; either or both tokens may be risky. */
export interface PoolSpec {
  readonly id: string;
  readonly address: Address;
  /** Asset id or the quote id of token0 / token1 (token0 < token1 by address, as Uniswap orders them). */
  readonly token0: string;
  readonly token1: string;
  readonly fee: number;
  /**
   * Absent = 'v3'. A v4 pool has no contract of its own: `address` is then the PoolManager that
   * holds it, token0/token1 are its currency0/currency1 and the pool is the key (tokens, fee,
   * tickSpacing, hooks), read through `Portfolio.uniswapV4`.
   */
  readonly version?: 'v3' | 'v4';
  /** v4 only: the pool key's tick spacing and hooks contract (the zero address: no hooks). */
  readonly tickSpacing?: number;
  readonly hooks?: Address;
}

/** Uniswap v4 contracts whose positions (in the declared v4 pools) count as spot. */
export interface UniswapV4Spec {
  readonly poolManager: Address;
  readonly positionManager: Address;
  readonly stateView: Address;
  /**
   * First block to search for the account's position NFTs (Transfer logs: v4's PositionManager
   * does not enumerate an owner's tokens). 0 = from genesis.
   */
  readonly fromBlock: bigint;
}

/** Trigger/target of a venue's collateral ratio (perp margin ratio, Aave health factor), E18. */
export interface CollateralPolicy {
  readonly triggerE18: bigint;
  readonly targetE18: bigint;
  /** Largest single top-up, quote units. */
  readonly maxTopUpUnits: bigint;
  /** Top-ups allowed per UTC day on this venue, quote units. */
  readonly maxTopUpPerDayUnits: bigint;
}

export interface PerpVenueSpec {
  readonly kind: 'perp';
  readonly id: VenueId;
  readonly exchange: Address;
  /** One isolated-margin market per hedged asset: asset id -> market id on the exchange. */
  readonly markets: Readonly<Record<AssetId, bigint>>;
  readonly collateral: CollateralPolicy;
}

export interface AaveVenueSpec {
  readonly kind: 'aave';
  readonly id: VenueId;
  readonly addressesProvider: Address;
  /** Where a borrowed asset is sold for (and bought back with) the quote: pool id per asset. */
  readonly swapPools: Readonly<Record<AssetId, string>>;
  readonly swapRouter: Address;
  readonly quoter: Address;
  readonly collateral: CollateralPolicy;
}

/**
 * One Morpho Blue market (loan = the hedged asset, collateral = the quote): its short is a
 * borrow of `loanAsset`, sold for the quote on `swapPool` (and bought back to repay).
 */
export interface MorphoVenueSpec {
  readonly kind: 'morpho';
  readonly id: VenueId;
  /** The Morpho Blue singleton. */
  readonly morpho: Address;
  /** The market's id: keccak256 of its MarketParams, bytes32 hex. */
  readonly marketId: `0x${string}`;
  /** Asset id of the market's loan token (the asset this venue shorts). */
  readonly loanAsset: AssetId;
  /** Pool id where the loan asset is sold for (and bought back with) the quote. */
  readonly swapPool: string;
  readonly swapRouter: Address;
  readonly quoter: Address;
  readonly collateral: CollateralPolicy;
}

/**
 * A Hyperliquid perp account (cross margin): read over the venue's HTTP API, not the chain; its
 * orders are signed API actions, not transactions (src/venues/hyperliquid-*.ts).
 */
export interface HyperliquidVenueSpec {
  readonly kind: 'hyperliquid';
  readonly id: VenueId;
  /** The API origin: mainnet, testnet, or the local exchange (src/devnet/hyperliquid/). */
  readonly apiUrl: string;
  /** The account that holds the positions (an agent key, if configured, only signs for it). */
  readonly user: Address;
  /** Asset id -> the venue's coin name ("ETH", "BTC"); the asset index is read from `meta`, never hard-coded. */
  readonly markets: Readonly<Record<AssetId, string>>;
  /** Testnet signing (the L1 action's source "b", approvals naming "Testnet"); default mainnet. */
  readonly testnet?: boolean;
  /**
   * The venue's USDC bridge on the keeper's chain: a top-up is a quote `transfer` to it, which the
   * venue credits to the sender (so the keeper's account must be `user`). Absent: no top-ups here.
   */
  readonly bridge?: Address;
  readonly collateral: CollateralPolicy;
}

/** Every venue kind the keeper knows. A `switch` over `kind` ends in `assertNever`. */
export type VenueSpec = PerpVenueSpec | AaveVenueSpec | MorphoVenueSpec | HyperliquidVenueSpec;
export type VenueKind = VenueSpec['kind'];

/** A (venue, market, asset) that carries part of an asset's hedge. */
export interface InstrumentSpec {
  readonly id: string;
  readonly venue: VenueId;
  readonly asset: AssetId;
  /**
   * Allocation: instruments of one asset are filled in ascending priority; within one priority
   * the target is split by weight. What one cannot take (capacity, caps, safe mode) spills over.
   */
  readonly priority: number;
  readonly weight: number;
  /** Largest absolute hedge on this instrument, asset units; null = the venue's own bound only. */
  readonly maxSizeUnits: bigint | null;
}

/** Per-asset hedging policy. */
export interface AssetPolicy {
  /** target hedge = -hedgeRatio × spot delta. 1e18 = fully hedged. */
  readonly hedgeRatioE18: bigint;
  /** Absolute band around the target, asset units; effective band = max(abs, pct × gross spot). */
  readonly bandUnits: bigint;
  readonly bandPctE18: bigint;
  readonly hysteresisE18: bigint;
  readonly minTradeUnits: bigint;
  readonly maxTradeUnits: bigint;
  /** Hedge notional allowed per UTC day for this asset, USD E8. */
  readonly maxNotionalPerDayUsdE8: bigint;
  /**
   * Hedged by proxy (no instrument of its own): the minimum-variance combination of these
   * assets' instruments on the risk engine's covariance (core/portfolio/proxy.ts). Absent or
   * empty = hedged by its own instruments.
   */
  readonly proxy?: readonly AssetId[];
  /**
   * Among instruments of equal priority, grow the short on the venue whose short costs least
   * (funding / borrow rate) first and shrink it on the dearest first; absent = false (by weight only).
   */
  readonly preferCheaperVenue?: boolean;
}

export interface Portfolio {
  /**
   * Uniswap V3 NonfungiblePositionManager whose positions (in the declared pools) count as spot;
   * absent = LP positions are not read.
   */
  readonly positionManager?: Address;
  /** Uniswap v4 position manager and state view; absent = v4 positions are not read. */
  readonly uniswapV4?: UniswapV4Spec;
  readonly quote: QuoteSpec;
  /** In declaration order (the order of every per-asset list the keeper prints). */
  readonly assets: readonly AssetSpec[];
  readonly pools: readonly PoolSpec[];
  readonly venues: readonly VenueSpec[];
  readonly instruments: readonly InstrumentSpec[];
  readonly policy: {
    readonly assets: Readonly<Record<AssetId, AssetPolicy>>;
    readonly cooldownSec: number;
    readonly maxSlippageBps: number;
    /** Count the native coin as exposure of the asset that wraps it (default false: the gas tank). */
    readonly includeNative: boolean;
    /** Portfolio-level threshold: rebalance when the residual 1-day 99% VaR exceeds it, USD E8; absent = none. */
    readonly varLimitUsdE8?: bigint;
  };
}

export function assertNever(x: never, what: string): never {
  throw new Error(`unknown ${what}: ${JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

// ---------------------------------------------------------------------------------------------
// One read of the whole portfolio, pinned to one block (src/chain/portfolio-snapshot.ts builds it).
// ---------------------------------------------------------------------------------------------

export interface AssetPrice {
  /** USD per whole token, 8 decimals (the feed's answer rescaled to 8); 0 = no usable price. */
  readonly priceE8: bigint;
  readonly updatedAtSec: bigint;
  readonly round?: OracleRound;
}

export interface PoolState {
  readonly sqrtPriceX96: bigint;
  readonly tick: number;
  readonly liquidity: bigint;
}

/** A Uniswap V3 position of the account in a configured pool, valued at the block's pool price. */
export interface LpHolding {
  readonly pool: string;
  readonly tokenId: bigint;
  readonly liquidity: bigint;
  readonly tickLower: number;
  readonly tickUpper: number;
  readonly inRange: boolean;
  /** Principal at the pool price, token0 / token1 units. */
  readonly amount0: bigint;
  readonly amount1: bigint;
  /** What `collect` would pay now: tokensOwed + fee growth since the position's checkpoint. */
  readonly fees0: bigint;
  readonly fees1: bigint;
}

export interface PerpMarketAccount {
  readonly marketId: bigint;
  /** Signed position in the exchange's size units (1e18 per whole asset); a short is negative. */
  readonly sizeE18: bigint;
  readonly entryPriceE8: bigint;
  /** Isolated margin of this market, quote units. */
  readonly marginUnits: bigint;
  /** margin + unrealized PnL - pending funding, quote units, signed. */
  readonly accountValueUnits: bigint;
  /** The exchange's own ratio; maxUint256 with no position. */
  readonly marginRatioE18: bigint;
  readonly maintenanceRatioE18: bigint;
  readonly initialRatioE18: bigint;
  readonly takerFeeBps: bigint;
}

export interface PerpVenueAccount {
  readonly kind: 'perp';
  readonly venue: VenueId;
  readonly markets: Readonly<Record<AssetId, PerpMarketAccount>>;
  /**
   * Cost of holding a short, per asset: annualized rate, E18 (0.05e18 = 5%/yr), signed: negative
   * = the short earns (funding paid to it). Absent for an asset = unknown (src/venues/venue-rates.ts).
   */
  readonly shortCostAprE18?: Readonly<Record<AssetId, bigint>>;
}

/** One reserve of the Aave account (the quote as collateral, or a borrowed asset). */
export interface AaveReserveHolding {
  readonly token: Address;
  readonly decimals: number;
  /** Aave's own oracle price, USD E8 (the health factor is computed with these). */
  readonly priceE8: bigint;
  /** aToken balance (supplied), token units. */
  readonly suppliedUnits: bigint;
  /** Variable + stable debt, token units. */
  readonly debtUnits: bigint;
  /** Used as collateral (the user's flag and a non-zero liquidation threshold). */
  readonly usedAsCollateral: boolean;
  readonly liquidationThresholdBps: bigint;
  readonly ltvBps: bigint;
}

export interface AaveVenueAccount {
  readonly kind: 'aave';
  readonly venue: VenueId;
  /** Every reserve of the pool (untouched ones with zero balances: their LT, LTV and price still matter), keyed by token address (lowercase). */
  readonly reserves: Readonly<Record<string, AaveReserveHolding>>;
  /** `getUserAccountData` at the same block: the model's health factor is checked against it. */
  readonly accountData: {
    readonly totalCollateralBaseE8: bigint;
    readonly totalDebtBaseE8: bigint;
    readonly liquidationThresholdBps: bigint;
    readonly ltvBps: bigint;
    readonly healthFactorE18: bigint;
  };
  /**
   * Cost of holding a short, per asset: annualized rate, E18 (0.05e18 = 5%/yr), signed: negative
   * = the short earns (funding paid to it). Absent for an asset = unknown (src/venues/venue-rates.ts).
   */
  readonly shortCostAprE18?: Readonly<Record<AssetId, bigint>>;
}

/** Morpho Blue's `MarketParams` of the venue's market (`idToMarketParams`). */
export interface MorphoMarketParams {
  readonly loanToken: Address;
  readonly collateralToken: Address;
  readonly oracle: Address;
  readonly irm: Address;
  /** Liquidation LTV, WAD (0.86e18 = 86%). */
  readonly lltv: bigint;
}

/** Morpho Blue's `market(id)` as stored: interest is accrued up to `lastUpdate` only. */
export interface MorphoMarketState {
  readonly totalSupplyAssets: bigint;
  readonly totalSupplyShares: bigint;
  readonly totalBorrowAssets: bigint;
  readonly totalBorrowShares: bigint;
  readonly lastUpdate: bigint;
  /** Protocol fee on interest, WAD. */
  readonly fee: bigint;
}

export interface MorphoVenueAccount {
  readonly kind: 'morpho';
  readonly venue: VenueId;
  readonly marketParams: MorphoMarketParams;
  /** `position(id, user)`: shares of the loan token supplied / borrowed, collateral in quote units. */
  readonly supplyShares: bigint;
  readonly borrowShares: bigint;
  readonly collateralUnits: bigint;
  readonly market: MorphoMarketState;
  /** `IIrm.borrowRateView(marketParams, market)` at the block, per second, WAD; 0 without an IRM. */
  readonly borrowRatePerSecE18: bigint;
  /** The block's time: the model accrues the market's interest up to it, as the next transaction would. */
  readonly blockTimestampSec: bigint;
  /** `IOracle.price()`: one collateral unit in loan units, scaled by 1e36. */
  readonly oraclePriceE36: bigint;
  /**
   * Cost of holding a short, per asset: annualized rate, E18 (0.05e18 = 5%/yr), signed: negative
   * = the short earns (funding paid to it). Absent for an asset = unknown (src/venues/venue-rates.ts).
   */
  readonly shortCostAprE18?: Readonly<Record<AssetId, bigint>>;
}

/** One Hyperliquid market of the account, from `metaAndAssetCtxs` and `clearinghouseState`. */
export interface HyperliquidMarketAccount {
  readonly coin: string;
  /** The coin's index in `meta.universe` (the order's `a`). */
  readonly assetIndex: number;
  readonly szDecimals: number;
  readonly maxLeverage: number;
  /** Signed position, asset units (the asset token's decimals); a short is negative. */
  readonly sizeUnits: bigint;
  readonly entryPriceE8: bigint;
  readonly markPriceE8: bigint;
  readonly oraclePriceE8: bigint;
  /** Hourly funding rate, E18 (positive: longs pay shorts). */
  readonly fundingRateHourlyE18: bigint;
  /** The venue's own liquidation price, E8; null = none. */
  readonly liquidationPriceE8: bigint | null;
  /**
   * Orders resting on the book for this coin (`openOrders`): not the keeper's (it places IOC
   * orders only), and any of them can change the position when it fills. Absent = not read.
   */
  readonly restingOrders?: number;
}

export interface HyperliquidVenueAccount {
  readonly kind: 'hyperliquid';
  readonly venue: VenueId;
  readonly markets: Readonly<Record<AssetId, HyperliquidMarketAccount>>;
  /** Cross account value (collateral + unrealized PnL), quote units. */
  readonly accountValueUnits: bigint;
  /** Total notional at the venue's marks, quote units. */
  readonly totalNotionalUnits: bigint;
  /** The venue's `crossMaintenanceMarginUsed`, quote units. */
  readonly maintenanceMarginUnits: bigint;
  readonly withdrawableUnits: bigint;
  /** The venue's clock at the read (ms). */
  readonly timeMs: number;
}

export type VenueAccount = PerpVenueAccount | AaveVenueAccount | MorphoVenueAccount | HyperliquidVenueAccount;

export interface PortfolioSnapshot {
  readonly chainId: number;
  readonly blockNumber: bigint;
  readonly blockTimestampSec: bigint;
  readonly account: Address;
  readonly prices: Readonly<Record<AssetId, AssetPrice>>;
  /** Quote price, USD E8 (1e8 without a quote feed). */
  readonly quotePriceE8: bigint;
  readonly wallet: {
    readonly nativeWei: bigint;
    /** Token balances by asset id, and the quote by its id. */
    readonly balances: Readonly<Record<string, bigint>>;
  };
  readonly pools: Readonly<Record<string, PoolState>>;
  readonly lps: readonly LpHolding[];
  readonly venues: Readonly<Record<VenueId, VenueAccount>>;
  /** Venues whose account could not be read at this block (a read reverted), with the reason: absent from `venues`. */
  readonly unreadVenues?: Readonly<Record<VenueId, string>>;
}

// ---------------------------------------------------------------------------------------------
// Actions name their venue, instrument and asset.
// ---------------------------------------------------------------------------------------------

export type PortfolioAction =
  /** sizeDeltaUnits < 0 shorts more (perp: sell; Aave: borrow and sell). Asset units. */
  | { readonly kind: 'adjustHedge'; readonly venue: VenueId; readonly instrument: string; readonly asset: AssetId; readonly sizeDeltaUnits: bigint; readonly reason: string }
  /** Quote from the wallet into the venue (perp: into the market of `asset`). */
  | { readonly kind: 'topUp'; readonly venue: VenueId; readonly asset: AssetId | null; readonly amountUnits: bigint; readonly reason: string }
  /** Quote withdrawn from one venue (well above its target) and deposited on another (under its trigger). */
  | {
      readonly kind: 'moveCollateral';
      readonly from: VenueId;
      readonly fromAsset: AssetId | null;
      readonly to: VenueId;
      readonly toAsset: AssetId | null;
      readonly amountUnits: bigint;
      readonly reason: string;
    };
