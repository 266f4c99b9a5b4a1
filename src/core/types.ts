import type { Decimal } from 'decimal.js';

/**
 * The data the pure core works on. Everything here is a value read from the chain (or made up
 * by a backtest): no clients, no clock. Units are in the names: `Wei` = 1e18 base-asset units
 * (ETH/WETH), `Units` = USDC base units (1e6), `E8` = 8-decimal fixed point (Chainlink prices,
 * Aave base currency), `E18` = 18-decimal fixed point ratios.
 */
export type Address = `0x${string}`;

export interface OracleReading {
  /**
   * Base asset (ETH) price in USD from the Chainlink-compatible feed, 8 decimals; 0 when the feed
   * answered 0 or less (no usable price: nothing is valued or sized on it).
   */
  priceE8: bigint;
  /** `updatedAt` of the feed's latest round, seconds. */
  updatedAtSec: bigint;
  /** USDC price in USD, 8 decimals (Aave values collateral with it); 1e8 when no feed is read, 0 when it answered <= 0. */
  quotePriceE8: bigint;
  /** The ETH/USD feed's latest round as read (absent when no chain was read: backtests, stubs). */
  round?: OracleRound;
  /** The USDC/USD feed's latest round; null when no USDC feed is configured. */
  quoteRound?: OracleRound | null;
}

/** One round of a Chainlink-compatible feed, raw as `latestRoundData()` and `decimals()` return it. */
export interface OracleRound {
  feed: Address;
  roundId: bigint;
  /** Signed, in the feed's own decimals. */
  answer: bigint;
  startedAt: bigint;
  updatedAt: bigint;
  answeredInRound: bigint;
  decimals: number;
}

export interface PoolReading {
  sqrtPriceX96: bigint;
  tick: number;
  liquidity: bigint;
  /** Pool mid-price of the base asset in quote, expressed like the oracle (8 decimals). */
  priceE8: bigint;
}

export interface WalletReading {
  ethWei: bigint;
  wethWei: bigint;
  usdcUnits: bigint;
}

/** A Uniswap V3 LP NFT of the account, with amounts computed at the snapshot's pool price. */
export interface LpPosition {
  tokenId: bigint;
  liquidity: bigint;
  tickLower: number;
  tickUpper: number;
  /** WETH held by the position at the current price (principal only). */
  amountBaseWei: bigint;
  /** USDC held by the position at the current price (principal only). */
  amountQuoteUnits: bigint;
  /** Uncollected fees: what collect would pay now (tokensOwed + fee growth since the checkpoint). */
  feesBaseWei: bigint;
  feesQuoteUnits: bigint;
  inRange: boolean;
  /** True when WETH is token0 of the pool (address order), needed for gamma/price math. */
  baseIsToken0: boolean;
}

/** The hedge on the reference perp exchange (isolated margin, USDC). */
export interface PerpAccount {
  venue: 'perp';
  /** Signed position size in base wei; a short is negative. */
  sizeWei: bigint;
  entryPriceE8: bigint;
  /** Deposited margin (after realized PnL and fees), USDC units. */
  marginUnits: bigint;
  /** margin + unrealized PnL - pending funding, USDC units, signed. */
  accountValueUnits: bigint;
  /** The contract's own margin ratio (account value / notional), 1e18 = 100%. maxUint256 with no position. */
  marginRatioE18: bigint;
  maintenanceRatioE18: bigint;
  initialRatioE18: bigint;
  takerFeeBps: bigint;
}

/** The hedge on Aave V3: USDC collateral, variable WETH debt (the debt is the short). */
export interface AaveAccount {
  venue: 'aave';
  /** Variable WETH debt, wei. */
  debtWei: bigint;
  /** aUSDC balance (collateral), USDC units. */
  collateralUnits: bigint;
  /** From getUserAccountData (base currency USD, 8 decimals). */
  totalCollateralBaseE8: bigint;
  totalDebtBaseE8: bigint;
  /** Weighted liquidation threshold of the collateral, bps. */
  liquidationThresholdBps: bigint;
  ltvBps: bigint;
  /** Aave's own health factor, 1e18 = 1.0; maxUint256 without debt. */
  healthFactorE18: bigint;
  /**
   * Aave's own oracle prices (USD, 8 decimals) in the same block. Aave values the account with
   * these, so the keeper's health factor uses them too; they can differ from the feed on a real
   * chain (another round, a wrapped USDC source).
   */
  aaveWethPriceE8?: bigint;
  aaveUsdcPriceE8?: bigint;
}

export type HedgeAccount = PerpAccount | AaveAccount;

/** One consistent read of everything, pinned to one block. */
export interface Snapshot {
  chainId: number;
  blockNumber: bigint;
  blockTimestampSec: bigint;
  account: Address;
  oracle: OracleReading;
  pool: PoolReading;
  wallet: WalletReading;
  lps: LpPosition[];
  hedge: HedgeAccount;
  /**
   * Set when the hedge account could not be read at this block because the venue reverts
   * without a usable price (a feed answering <= 0): the hedge is the last reading of that block.
   */
  hedgeFromBlock?: bigint;
}

// ---------------------------------------------------------------------------------------------
// Policy, assessment and plan (pure core). Ratios that drive decisions are bigint E18
// (1e18 = 1.0 = 100%); Decimal appears only in figures meant for humans (USD, ratios in logs).
// ---------------------------------------------------------------------------------------------

export type HedgeVenueKind = HedgeAccount['venue'];
/**
 * fixed: max(abs, pct * gross spot). vol: the fixed band scaled by volatility / reference vol.
 * ww: Whalley-Wilmott half-width from cost, LP gamma and risk aversion. time: no band; trade back
 * to target once per period (the comparison baseline). See core/band-policy.ts.
 */
export type BandMode = 'fixed' | 'vol' | 'ww' | 'time' | 'adaptive';

/** Parameters of the adaptive band modes; statistics are numbers, clamps are wei. */
export interface BandParams {
  /** vol: annualised volatility at which the vol band equals the fixed band (1.0 = 100%). */
  volRefAnnual: number;
  /** vol / ww: the computed band is clamped to [minWei, maxWei]. */
  minWei: bigint;
  maxWei: bigint;
  /** ww: proportional cost of a hedge trade (taker fee + slippage), basis points. */
  wwCostBps: number;
  /** ww: absolute risk aversion of the hedger, 1/USD (higher = narrower band). */
  wwRiskAversionPerUsd: number;
  /** time: seconds between two rebalances to target (aligned to multiples of the period). */
  rebalancePeriodSec: number;
  /** adaptive: proportional cost of a hedge trade (taker fee + slippage), bps. Absent = DEFAULT_BAND_PARAMS. */
  adaptiveCostBps?: number;
  /** adaptive: absolute risk aversion, 1/USD (higher = narrower band). Absent = DEFAULT_BAND_PARAMS. */
  adaptiveRiskAversionPerUsd?: number;
  /** adaptive: half-life of the short-term volatility estimate, seconds. Absent = DEFAULT_BAND_PARAMS. */
  volFastHalfLifeSec?: number;
}

/** What assess/plan need from the configuration (built by loadConfig, or by a backtest). */
export interface HedgePolicy {
  /** Fraction of spot delta to hedge: target hedge = -hedgeRatio * spot delta. 1e18 = fully. */
  hedgeRatioE18: bigint;
  /** Absolute band around the target, wei. The effective band is max(abs, pct * gross spot). */
  deltaBandWei: bigint;
  /** Band as a fraction of gross spot exposure (5% = 0.05e18). */
  deltaBandPctE18: bigint;
  /** After a breach trade back until |deviation| <= band * (1 - hysteresis); 1e18 = to target. */
  hysteresisE18: bigint;
  cooldownSec: number;
  minTradeWei: bigint;
  maxTradeWei: bigint;
  /** Perp: top up when margin ratio < trigger, up to target. */
  marginTriggerE18: bigint;
  marginTargetE18: bigint;
  /** Aave: top up when health factor < trigger, up to target. */
  hfTriggerE18: bigint;
  hfTargetE18: bigint;
  maxSlippageBps: number;
  /** Count native ETH as exposure (default false: it is the gas tank). */
  includeNativeEth: boolean;
  bandMode: BandMode;
  /** Parameters of bandMode vol / ww / time; absent = DEFAULT_BAND_PARAMS (core/band-policy.ts). */
  band?: BandParams;
}

export interface CollateralAssessment {
  venue: HedgeVenueKind;
  /** Perp: account value / notional at the oracle price. Aave: health factor. Infinity without a position. */
  ratio: Decimal;
  /** Same as `ratio`, E18; maxUint256 without a position. */
  ratioE18: bigint;
  /** The venue's own figure from the snapshot (perp marginRatioE18, Aave healthFactorE18). */
  venueRatioE18: bigint;
  /** Ratio at which the venue liquidates (perp maintenance, Aave 1.0). */
  liquidationRatioE18: bigint;
  triggerRatioE18: bigint;
  targetRatioE18: bigint;
  /** Oracle price at which the ratio hits the liquidation ratio; null with no position / none exists. */
  liquidationPriceE8: bigint | null;
  /** (liquidation price - oracle price) / oracle price, signed, in percent; null with no liquidation price. */
  distancePct: Decimal | null;
  /** ratio < trigger. */
  breached: boolean;
}

export interface Assessment {
  blockNumber: bigint;
  blockTimestampSec: bigint;
  priceE8: bigint;
  poolPriceE8: bigint;
  quotePriceE8: bigint;
  /** block timestamp - oracle updatedAt, seconds (for staleness checks by the runner). */
  oracleAgeSec: bigint;
  /** |pool - oracle| / oracle, basis points, rounded down. */
  poolOracleDivergenceBps: bigint;
  walletDeltaWei: bigint;
  lpDeltaWei: bigint;
  spotDeltaWei: bigint;
  hedgeDeltaWei: bigint;
  netDeltaWei: bigint;
  netDeltaUsd: Decimal;
  /** |wallet| + |lp|, the base of the percentage band. */
  grossSpotWei: bigint;
  bandWei: bigint;
  /** -hedgeRatio * spot delta. */
  targetHedgeWei: bigint;
  /** hedge - target hedge (= net delta when the hedge ratio is 1). */
  deviationWei: bigint;
  inBand: boolean;
  walletUsdcUnits: bigint;
  lpCount: number;
  lpInRangeCount: number;
  hedge: HedgeAccount;
  collateral: CollateralAssessment;
}

/** Persisted between ticks by the runner. */
export interface PolicyState {
  /** Time of the last hedge trade (seconds, same clock as plan's nowSec); null = never. */
  lastHedgeAtSec: number | null;
  /**
   * When set (insane snapshot, stale oracle, ...), nothing is sized on the price: no hedge and no
   * top-up (a top-up sized on a wrong price can pour the wallet into a doomed account).
   */
  safeMode: { reason: string } | null;
  /** A hedge is still waiting for the chain (or for a read that includes it): no new hedge, top-ups go on. */
  hedgeHold?: string | null;
}

export type Action =
  | { kind: 'topUp'; amountUnits: bigint; reason: string }
  /** sizeDeltaWei < 0 sells / shorts more (perp: decrease size; Aave: borrow and sell WETH). */
  | { kind: 'adjustHedge'; sizeDeltaWei: bigint; reason: string };

export interface Plan {
  actions: Action[];
  /** Why nothing was done, or what was left out (clipped, blocked, dust). */
  skipped: string[];
  /**
   * Skips an operator must hear about (logged at warn with their event, mapped to alerts):
   * e.g. `topup.insufficient`, a top-up that cannot lift the ratio above the trigger.
   */
  warnings?: PlanWarning[];
}

export interface PlanWarning {
  event: 'topup.insufficient';
  message: string;
  /** USDC the top-up would need to reach the target, and the most that may be added now. */
  neededUnits: bigint;
  availableUnits: bigint;
}

export interface GuardPolicy {
  maxTradeWei: bigint;
  /** Hedge notional allowed per UTC day, USD 8 decimals, valued at the oracle price. */
  maxNotionalPerDayUsdE8: bigint;
  maxTopUpUnits: bigint;
  /** Top-ups allowed per UTC day, USDC units (MAX_TOPUP_PER_DAY_USDC). */
  maxTopUpPerDayUnits: bigint;
}

export interface GuardState {
  /** UTC day number (floor(unix seconds / 86400)) the counters belong to. */
  day: number;
  notionalTodayUsdE8: bigint;
  /**
   * USDC topped up on that day, units: every mined or pending top-up, whatever its intent's label.
   * Optional only so states built before this field still type-check; absent counts as 0.
   */
  topUpTodayUnits?: bigint;
}

export type GuardVerdict = { ok: true } | { ok: false; reason: string };
