// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {PerpExchangeBase} from "./PerpExchangeBase.sol";
import {PerpMath} from "./PerpMath.sol";

/// @title PerpExchange
/// @notice Reference isolated-margin perpetual exchange for the devnet: USDC margin, fills at the
///         oracle price with no spread, the exchange itself ("the house") is the counterparty of
///         every trade. Units: sizes in 1e18 base units (short negative), prices with the feed's 8
///         decimals, USDC with 6 decimals; the USD value of size s at price p is s * p / 1e20.
///         Rounding is always against the trader (fees, funding, notional rounded up; PnL and
///         margin ratio rounded down; average entry rounded away from the trader's favour).
/// @dev Funding: each market keeps a cumulative index, the sum over time of
///      ratePerSecondE18 * elapsedSec * priceE8 with the oracle price at accrual. A position of size
///      s owes s * (indexNow - indexLast) / 1e38 USDC units (positive = paid, so with a positive
///      rate longs pay and shorts receive), settled into its margin on every interaction.
contract PerpExchange is PerpExchangeBase {
    using PerpMath for int256;

    /// @param usdc_ The margin token; must have 6 decimals.
    /// @param initialOwner Account allowed to add markets and set parameters.
    constructor(address usdc_, address initialOwner) PerpExchangeBase(usdc_, initialOwner) {}

    // ---------------------------------------------------------------- owner

    /// @notice List a market priced by `feed` (8 decimals); its id is marketCount + 1.
    /// @param feed Chainlink-compatible feed of the base asset in USD.
    /// @param maxPriceAgeSec Trades and liquidations revert when the answer is older than this.
    /// @return marketId The new market's id.
    function addMarket(address feed, uint256 maxPriceAgeSec) external onlyOwner returns (uint256 marketId) {
        if (feed == address(0)) revert ZeroAddress();
        if (maxPriceAgeSec == 0 || maxPriceAgeSec > type(uint48).max) revert InvalidMaxPriceAge(maxPriceAgeSec);
        uint8 feedDecimals = AggregatorV3Interface(feed).decimals();
        if (feedDecimals != PRICE_DECIMALS) revert UnsupportedDecimals(feed, feedDecimals);
        marketId = ++marketCount;
        markets[marketId] = Market({
            feed: AggregatorV3Interface(feed),
            maxPriceAgeSec: uint48(maxPriceAgeSec),
            lastFundingTime: uint48(block.timestamp),
            fundingRatePerSecE18: 0,
            fundingIndex: 0
        });
        emit MarketAdded(marketId, feed, maxPriceAgeSec);
    }

    /// @notice Set the taker fee, at most 100 bps.
    function setTakerFeeBps(uint256 newTakerFeeBps) external onlyOwner {
        if (newTakerFeeBps > MAX_TAKER_FEE_BPS) revert FeeTooHigh(newTakerFeeBps, MAX_TAKER_FEE_BPS);
        takerFeeBps = newTakerFeeBps;
        emit TakerFeeSet(newTakerFeeBps);
    }

    /// @notice Set the funding rate of a market; funding up to now accrues at the old rate first.
    /// @param ratePerSecondE18 Fraction of notional per second, 1e18 = 100%; positive = longs pay.
    function setFundingRate(uint256 marketId, int256 ratePerSecondE18) external onlyOwner {
        if (PerpMath.abs(ratePerSecondE18) > uint256(MAX_FUNDING_RATE_E18)) {
            revert FundingRateTooHigh(ratePerSecondE18, MAX_FUNDING_RATE_E18);
        }
        Market storage m = _market(marketId);
        _accrue(marketId, m, _accrualPrice(m));
        m.lastFundingTime = uint48(block.timestamp);
        m.fundingRatePerSecE18 = int128(ratePerSecondE18);
        emit FundingRateSet(marketId, ratePerSecondE18);
    }

    /// @notice Add the caller's USDC to the house (the counterparty that pays traders' profits).
    /// @param amountUnits USDC units, pulled with transferFrom.
    function fundHouse(uint256 amountUnits) external onlyOwner nonReentrant {
        if (amountUnits == 0) revert ZeroAmount();
        int256 newHouse = houseBalance + PerpMath.toInt256(amountUnits);
        houseBalance = newHouse;
        emit HouseFunded(msg.sender, amountUnits, newHouse);
        _pull(msg.sender, amountUnits);
    }

    // ---------------------------------------------------------------- traders

    /// @notice Add margin to the caller's account in a market.
    /// @param amountUnits USDC units, pulled with transferFrom.
    function deposit(uint256 marketId, uint256 amountUnits) external nonReentrant {
        if (amountUnits == 0) revert ZeroAmount();
        Market storage m = _market(marketId);
        Position storage pos = positions[msg.sender][marketId];
        _settleFunding(msg.sender, marketId, m, pos, _accrualPrice(m));
        int128 newMargin = PerpMath.toInt128(int256(pos.marginUnits) + PerpMath.toInt256(amountUnits));
        pos.marginUnits = newMargin;
        emit Deposited(msg.sender, marketId, amountUnits, newMargin);
        _pull(msg.sender, amountUnits);
    }

    /// @notice Take margin out. Refused beyond the margin, or when an open position would then be
    ///         under the initial margin ratio.
    /// @param amountUnits USDC units sent to the caller.
    function withdraw(uint256 marketId, uint256 amountUnits) external nonReentrant {
        if (amountUnits == 0) revert ZeroAmount();
        Market storage m = _market(marketId);
        Position storage pos = positions[msg.sender][marketId];
        int256 size = pos.sizeWei;
        uint256 priceE8 = size != 0 ? _freshPrice(m) : _accrualPrice(m);
        _settleFunding(msg.sender, marketId, m, pos, priceE8);
        int256 marginUnits = pos.marginUnits;
        if (marginUnits < 0 || amountUnits > uint256(marginUnits)) revert InsufficientMargin(amountUnits, marginUnits);
        int256 newMargin = marginUnits - int256(amountUnits);
        if (size != 0) {
            int256 value = newMargin + size.pnl(pos.entryPriceE8, priceE8);
            uint256 ratio = PerpMath.marginRatio(value, size, priceE8);
            if (ratio < INITIAL_MARGIN_RATIO_E18) revert InitialMarginNotMet(ratio, INITIAL_MARGIN_RATIO_E18);
        }
        pos.marginUnits = int128(newMargin);
        emit Withdrawn(msg.sender, marketId, amountUnits, newMargin);
        _push(msg.sender, amountUnits);
    }

    /// @notice Buy (sizeDelta > 0) or sell at the oracle price: open, increase, reduce, close or
    ///         flip. The taker fee comes out of margin; PnL of the reduced part is realized.
    /// @param sizeDeltaWei Signed size change, 1e18 base units.
    /// @param acceptablePriceE8 Worst price accepted: a maximum for a buy, a minimum for a sell.
    /// @return fillPriceE8 The price of the fill.
    function trade(uint256 marketId, int256 sizeDeltaWei, uint256 acceptablePriceE8)
        external
        nonReentrant
        returns (uint256 fillPriceE8)
    {
        if (sizeDeltaWei == 0) revert ZeroSize();
        Market storage m = _market(marketId);
        fillPriceE8 = _freshPrice(m);
        if (sizeDeltaWei > 0 ? fillPriceE8 > acceptablePriceE8 : fillPriceE8 < acceptablePriceE8) {
            revert PriceWorseThanAcceptable(fillPriceE8, acceptablePriceE8);
        }
        Position storage pos = positions[msg.sender][marketId];
        _settleFunding(msg.sender, marketId, m, pos, fillPriceE8);

        int256 oldSize = pos.sizeWei;
        (int256 newSize, uint256 newEntryE8, int256 realized) =
            _fill(oldSize, pos.entryPriceE8, sizeDeltaWei, fillPriceE8);
        uint256 feeUnits = PerpMath.ceilDiv(PerpMath.abs(sizeDeltaWei) * fillPriceE8 * takerFeeBps, 1e20 * BPS);
        int256 newMargin = int256(pos.marginUnits) + realized - int256(feeUnits);
        _checkTradeMargin(oldSize, newSize, newMargin, newEntryE8, fillPriceE8);

        pos.sizeWei = PerpMath.toInt128(newSize);
        pos.entryPriceE8 = PerpMath.toUint128(newEntryE8);
        pos.marginUnits = PerpMath.toInt128(newMargin);
        houseBalance += int256(feeUnits) - realized;
        emit Traded(
            msg.sender, marketId, sizeDeltaWei, fillPriceE8, feeUnits, realized, newSize, newEntryE8, newMargin
        );
    }

    /// @notice Close an account whose margin ratio is under maintenance, at the oracle price. The
    ///         caller earns 1% of the closed notional, taken from the account's value as far as it
    ///         goes; what is left stays as the account's margin. What the account cannot cover (its
    ///         negative value plus any unpaid penalty) is bad debt paid by the house, as an insurance
    ///         fund would: a bankrupt account is still worth liquidating.
    /// @return penaltyUnits USDC sent to the caller.
    function liquidate(address account, uint256 marketId) external nonReentrant returns (uint256 penaltyUnits) {
        Market storage m = _market(marketId);
        uint256 priceE8 = _freshPrice(m);
        Position storage pos = positions[account][marketId];
        _settleFunding(account, marketId, m, pos, priceE8);

        Liquidation memory l = _liquidation(pos, priceE8);

        pos.sizeWei = 0;
        pos.entryPriceE8 = 0;
        pos.marginUnits = int128(l.remainingMarginUnits);
        houseBalance -= l.realizedPnlUnits + int256(l.badDebtUnits);
        emit Liquidated(
            account, marketId, msg.sender, l.sizeWei, priceE8, l.realizedPnlUnits, l.penaltyUnits, l.badDebtUnits
        );
        penaltyUnits = l.penaltyUnits;
        if (penaltyUnits > 0) _push(msg.sender, penaltyUnits);
    }

    // ---------------------------------------------------------------- views

    /// @notice Initial margin ratio required after a risk-increasing trade or a withdrawal, 1e18.
    function initialMarginRatio() external pure returns (uint256) {
        return INITIAL_MARGIN_RATIO_E18;
    }

    /// @notice Under this margin ratio (1e18) an account can be liquidated.
    function maintenanceMarginRatio() external pure returns (uint256) {
        return MAINTENANCE_MARGIN_RATIO_E18;
    }

    /// @notice Liquidator reward, bps of the closed notional.
    function liquidationPenaltyBps() external pure returns (uint256) {
        return LIQUIDATION_PENALTY_BPS;
    }

    /// @notice Cap of setTakerFeeBps.
    function maxTakerFeeBps() external pure returns (uint256) {
        return MAX_TAKER_FEE_BPS;
    }

    /// @notice Cap of |setFundingRate|, fraction of notional per second (1e18).
    function maxFundingRatePerSecond() external pure returns (int256) {
        return MAX_FUNDING_RATE_E18;
    }

    /// @notice A market's parameters and funding state (index as of its last accrual).
    function getMarket(uint256 marketId)
        external
        view
        returns (
            address feed,
            uint256 maxPriceAgeSec,
            int256 fundingRatePerSecondE18,
            int256 fundingIndex,
            uint256 lastFundingTime
        )
    {
        Market storage m = _market(marketId);
        return (address(m.feed), m.maxPriceAgeSec, m.fundingRatePerSecE18, m.fundingIndex, m.lastFundingTime);
    }

    /// @notice Signed position size, 1e18 base units (short negative).
    function positionSize(address account, uint256 marketId) external view returns (int256) {
        return positions[account][marketId].sizeWei;
    }

    /// @notice Average entry price, 8 decimals; 0 without a position.
    function entryPrice(address account, uint256 marketId) external view returns (uint256) {
        return positions[account][marketId].entryPriceE8;
    }

    /// @notice Margin after realized PnL, fees and settled funding, USDC units.
    function margin(address account, uint256 marketId) external view returns (int256) {
        return positions[account][marketId].marginUnits;
    }

    /// @notice PnL of the open position at the latest oracle answer, USDC units.
    function unrealizedPnl(address account, uint256 marketId) external view returns (int256) {
        return getAccount(account, marketId).unrealizedPnlUnits;
    }

    /// @notice Funding owed since the last settlement (positive = to pay), USDC units.
    function pendingFunding(address account, uint256 marketId) external view returns (int256) {
        return getAccount(account, marketId).pendingFundingUnits;
    }

    /// @notice margin + unrealized PnL - pending funding, USDC units.
    function accountValue(address account, uint256 marketId) external view returns (int256) {
        return getAccount(account, marketId).accountValueUnits;
    }

    /// @notice Account value / notional, 1e18; type(uint256).max without a position.
    function marginRatio(address account, uint256 marketId) external view returns (uint256) {
        return getAccount(account, marketId).marginRatioE18;
    }

    /// @notice True when liquidate() would accept this account at the latest answer.
    function isLiquidatable(address account, uint256 marketId) external view returns (bool) {
        return getAccount(account, marketId).liquidatable;
    }

    /// @notice Largest amount withdraw() accepts now (ignoring feed staleness), USDC units.
    function freeMargin(address account, uint256 marketId) external view returns (uint256) {
        AccountView memory a = getAccount(account, marketId);
        int256 free = a.marginUnits - a.pendingFundingUnits;
        if (a.sizeWei != 0) {
            // The smallest value that keeps the ratio at the initial one, rounded up.
            uint256 required = PerpMath.ceilDiv(a.notionalUnits * INITIAL_MARGIN_RATIO_E18, 1e18);
            int256 excess = a.accountValueUnits - int256(required);
            if (excess < free) free = excess;
        }
        return free > 0 ? uint256(free) : 0;
    }

    /// @notice The whole account in one call, valued at the latest answer (stale or not: compare
    ///         priceUpdatedAt with the market's maxPriceAgeSec).
    function getAccount(address account, uint256 marketId) public view returns (AccountView memory a) {
        Market storage m = _market(marketId);
        Position storage pos = positions[account][marketId];
        (a.priceE8, a.priceUpdatedAt) = _latestPrice(m);
        a.sizeWei = pos.sizeWei;
        a.entryPriceE8 = pos.entryPriceE8;
        a.marginUnits = pos.marginUnits;
        a.unrealizedPnlUnits = a.sizeWei.pnl(a.entryPriceE8, a.priceE8);
        a.pendingFundingUnits = a.sizeWei.funding(_indexAt(m, a.priceE8) - pos.lastFundingIndex);
        a.accountValueUnits = a.marginUnits + a.unrealizedPnlUnits - a.pendingFundingUnits;
        a.notionalUnits = a.sizeWei == 0 ? 0 : PerpMath.notional(a.sizeWei, a.priceE8);
        a.marginRatioE18 = PerpMath.marginRatio(a.accountValueUnits, a.sizeWei, a.priceE8);
        a.liquidatable = a.marginRatioE18 < MAINTENANCE_MARGIN_RATIO_E18;
        a.initialRatioE18 = INITIAL_MARGIN_RATIO_E18;
        a.maintenanceRatioE18 = MAINTENANCE_MARGIN_RATIO_E18;
        a.takerFeeBps = takerFeeBps;
    }
}
