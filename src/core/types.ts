/**
 * The data the pure core works on. Everything here is a value read from the chain (or made up
 * by a backtest): no clients, no clock. Units are in the names: `Wei` = 1e18 base-asset units
 * (ETH/WETH), `Units` = USDC base units (1e6), `E8` = 8-decimal fixed point (Chainlink prices,
 * Aave base currency), `E18` = 18-decimal fixed point ratios.
 */
export type Address = `0x${string}`;

export interface OracleReading {
  /** Base asset (ETH) price in USD from the Chainlink-compatible feed, 8 decimals. */
  priceE8: bigint;
  /** `updatedAt` of the feed's latest round, seconds. */
  updatedAtSec: bigint;
  /** USDC price in USD, 8 decimals (Aave values collateral with it); 1e8 when no feed is read. */
  quotePriceE8: bigint;
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
  /** Uncollected fees (tokensOwed as last checkpointed). */
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
}
