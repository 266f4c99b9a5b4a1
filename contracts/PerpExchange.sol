// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IERC20} from "./IERC20.sol";
import {Owned} from "./Owned.sol";
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
contract PerpExchange is Owned {
    using PerpMath for int256;

    struct Market {
        AggregatorV3Interface feed;
        uint48 maxPriceAgeSec;
        uint48 lastFundingTime;
        int128 fundingRatePerSecE18;
        int128 fundingIndex;
    }

    struct Position {
        int128 sizeWei;
        int128 marginUnits;
        uint128 entryPriceE8;
        int128 lastFundingIndex;
    }

    struct Liquidation {
        int256 sizeWei;
        int256 realizedPnlUnits;
        uint256 penaltyUnits;
        uint256 badDebtUnits;
        int256 remainingMarginUnits;
    }

    /// @notice Everything the keeper needs about one account, valued at the latest oracle answer.
    struct AccountView {
        int256 sizeWei;
        uint256 entryPriceE8;
        int256 marginUnits;
        int256 unrealizedPnlUnits;
        int256 pendingFundingUnits;
        int256 accountValueUnits;
        uint256 notionalUnits;
        uint256 marginRatioE18;
        bool liquidatable;
        uint256 priceE8;
        uint256 priceUpdatedAt;
        uint256 initialRatioE18;
        uint256 maintenanceRatioE18;
        uint256 takerFeeBps;
    }

    uint256 private constant INITIAL_MARGIN_RATIO_E18 = 1e17;
    uint256 private constant MAINTENANCE_MARGIN_RATIO_E18 = 5e16;
    uint256 private constant LIQUIDATION_PENALTY_BPS = 100;
    uint256 private constant MAX_TAKER_FEE_BPS = 100;
    /// @dev 1e-6 of notional per second (8.64% a day) is far beyond any sane funding rate.
    int256 private constant MAX_FUNDING_RATE_E18 = 1e12;
    uint256 private constant BPS = 1e4;
    uint8 private constant PRICE_DECIMALS = 8;
    uint8 private constant USDC_DECIMALS = 6;

    /// @notice The margin token (6 decimals).
    IERC20 public immutable usdc;
    /// @notice Number of markets; ids run from 1 to marketCount.
    uint256 public marketCount;
    /// @notice Taker fee on the notional of every trade, basis points.
    uint256 public takerFeeBps = 5;
    /// @notice The house's own USDC (fees, traders' losses, seed funds minus profits paid and bad
    ///         debt). Signed: a negative house means traders' margins are not fully backed.
    int256 public houseBalance;

    mapping(uint256 marketId => Market) private markets;
    mapping(address account => mapping(uint256 marketId => Position)) private positions;
    bool private transient locked;

    event MarketAdded(uint256 indexed marketId, address indexed feed, uint256 maxPriceAgeSec);
    event TakerFeeSet(uint256 takerFeeBps);
    event FundingRateSet(uint256 indexed marketId, int256 ratePerSecondE18);
    event FundingAccrued(uint256 indexed marketId, int256 fundingIndex, uint256 timestamp);
    event FundingSettled(address indexed account, uint256 indexed marketId, int256 fundingPaidUnits, int256 fundingIndex);
    event HouseFunded(address indexed from, uint256 amountUnits, int256 houseBalance);
    event Deposited(address indexed account, uint256 indexed marketId, uint256 amountUnits, int256 marginUnits);
    event Withdrawn(address indexed account, uint256 indexed marketId, uint256 amountUnits, int256 marginUnits);
    event Traded(
        address indexed account,
        uint256 indexed marketId,
        int256 sizeDeltaWei,
        uint256 fillPriceE8,
        uint256 feeUnits,
        int256 realizedPnlUnits,
        int256 newSizeWei,
        uint256 newEntryPriceE8,
        int256 marginUnits
    );
    event Liquidated(
        address indexed account,
        uint256 indexed marketId,
        address indexed liquidator,
        int256 closedSizeWei,
        uint256 priceE8,
        int256 realizedPnlUnits,
        uint256 penaltyUnits,
        uint256 badDebtUnits
    );

    error Reentrancy();
    error UnknownMarket(uint256 marketId);
    error UnsupportedDecimals(address source, uint8 decimals);
    error InvalidMaxPriceAge(uint256 maxPriceAgeSec);
    error ZeroAmount();
    error ZeroSize();
    error InvalidPrice(int256 answer);
    error StalePrice(uint256 updatedAt, uint256 maxPriceAgeSec);
    error PriceWorseThanAcceptable(uint256 priceE8, uint256 acceptablePriceE8);
    error InitialMarginNotMet(uint256 marginRatioE18, uint256 initialRatioE18);
    error InsufficientMargin(uint256 amountUnits, int256 marginUnits);
    error NegativeMargin(int256 marginUnits);
    error NotLiquidatable(uint256 marginRatioE18, uint256 maintenanceRatioE18);
    error FeeTooHigh(uint256 takerFeeBps, uint256 maxTakerFeeBps);
    error FundingRateTooHigh(int256 ratePerSecondE18, int256 maxRatePerSecondE18);
    error TransferFailed(address to, uint256 amountUnits);

    /// @dev A transient-storage lock: every function that moves tokens or changes a position.
    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    /// @param usdc_ The margin token; must have 6 decimals.
    /// @param initialOwner Account allowed to add markets and set parameters.
    constructor(address usdc_, address initialOwner) Owned(initialOwner) {
        if (usdc_ == address(0)) revert ZeroAddress();
        uint8 tokenDecimals = IERC20(usdc_).decimals();
        if (tokenDecimals != USDC_DECIMALS) revert UnsupportedDecimals(usdc_, tokenDecimals);
        usdc = IERC20(usdc_);
    }

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
        int256 newHouse = houseBalance + int256(amountUnits);
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
        int128 newMargin = PerpMath.toInt128(int256(pos.marginUnits) + int256(amountUnits));
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

    // ---------------------------------------------------------------- internals

    function _market(uint256 marketId) private view returns (Market storage m) {
        m = markets[marketId];
        if (address(m.feed) == address(0)) revert UnknownMarket(marketId);
    }

    function _latestPrice(Market storage m) private view returns (uint256 priceE8, uint256 updatedAt) {
        int256 answer;
        (, answer,, updatedAt,) = m.feed.latestRoundData();
        if (answer <= 0) revert InvalidPrice(answer);
        priceE8 = uint256(answer);
    }

    /// @dev The price every position-changing action uses: positive and no older than the market allows.
    function _freshPrice(Market storage m) private view returns (uint256 priceE8) {
        uint256 updatedAt;
        (priceE8, updatedAt) = _latestPrice(m);
        if (block.timestamp > updatedAt + m.maxPriceAgeSec) revert StalePrice(updatedAt, m.maxPriceAgeSec);
    }

    /// @dev Funding accrual only needs a price while a rate runs; it takes the latest answer even
    ///      when stale so that adding margin never fails on an old feed. 0 = not needed.
    function _accrualPrice(Market storage m) private view returns (uint256 priceE8) {
        if (m.fundingRatePerSecE18 == 0 || m.lastFundingTime == block.timestamp) return 0;
        (priceE8,) = _latestPrice(m);
    }

    function _indexAt(Market storage m, uint256 priceE8) private view returns (int256) {
        int256 rate = m.fundingRatePerSecE18;
        uint256 elapsed = block.timestamp - m.lastFundingTime;
        if (rate == 0 || elapsed == 0) return m.fundingIndex;
        return m.fundingIndex + rate * int256(elapsed) * int256(priceE8);
    }

    /// @dev Without a rate the index cannot move, so nothing is written: the gas of deposits and
    ///      trades then does not depend on the block timestamp (an estimate made in one second
    ///      stays valid in the next). setFundingRate restarts the clock.
    function _accrue(uint256 marketId, Market storage m, uint256 priceE8) private {
        if (m.fundingRatePerSecE18 == 0 || m.lastFundingTime == block.timestamp) return;
        int256 index = _indexAt(m, priceE8);
        if (index != m.fundingIndex) {
            m.fundingIndex = PerpMath.toInt128(index);
            emit FundingAccrued(marketId, index, block.timestamp);
        }
        m.lastFundingTime = uint48(block.timestamp);
    }

    function _settleFunding(address account, uint256 marketId, Market storage m, Position storage pos, uint256 priceE8)
        private
    {
        _accrue(marketId, m, priceE8);
        int256 index = m.fundingIndex;
        int256 last = pos.lastFundingIndex;
        if (index == last) return;
        int256 paid = int256(pos.sizeWei).funding(index - last);
        pos.lastFundingIndex = int128(index);
        if (paid == 0) return;
        pos.marginUnits = PerpMath.toInt128(pos.marginUnits - paid);
        houseBalance += paid;
        emit FundingSettled(account, marketId, paid, index);
    }

    /// @dev The outcome of liquidating `pos` at `priceE8` (funding already settled); reverts with
    ///      NotLiquidatable at or above the maintenance ratio.
    function _liquidation(Position storage pos, uint256 priceE8) private view returns (Liquidation memory l) {
        l.sizeWei = pos.sizeWei;
        l.realizedPnlUnits = l.sizeWei.pnl(pos.entryPriceE8, priceE8);
        int256 value = int256(pos.marginUnits) + l.realizedPnlUnits;
        uint256 ratio = PerpMath.marginRatio(value, l.sizeWei, priceE8);
        if (ratio >= MAINTENANCE_MARGIN_RATIO_E18) revert NotLiquidatable(ratio, MAINTENANCE_MARGIN_RATIO_E18);
        l.penaltyUnits = PerpMath.ceilDiv(PerpMath.notional(l.sizeWei, priceE8) * LIQUIDATION_PENALTY_BPS, BPS);
        l.remainingMarginUnits = value - int256(l.penaltyUnits);
        if (l.remainingMarginUnits < 0) {
            l.badDebtUnits = uint256(-l.remainingMarginUnits);
            l.remainingMarginUnits = 0;
        }
    }

    /// @dev New size, entry and realized PnL of a fill. Average entry on increases is rounded up
    ///      for longs and down for shorts; a flip opens the remainder at the fill price.
    function _fill(int256 oldSize, uint256 oldEntryE8, int256 delta, uint256 priceE8)
        private
        pure
        returns (int256 newSize, uint256 newEntryE8, int256 realized)
    {
        newSize = oldSize + delta;
        uint256 absOld = PerpMath.abs(oldSize);
        uint256 absDelta = PerpMath.abs(delta);
        if (oldSize == 0 || (oldSize > 0) == (delta > 0)) {
            uint256 weighted = absOld * oldEntryE8 + absDelta * priceE8;
            uint256 absNew = absOld + absDelta;
            newEntryE8 = newSize > 0 ? PerpMath.ceilDiv(weighted, absNew) : weighted / absNew;
            return (newSize, newEntryE8, 0);
        }
        int256 closed = absDelta < absOld ? -delta : oldSize;
        realized = closed.pnl(oldEntryE8, priceE8);
        if (newSize == 0) newEntryE8 = 0;
        else if (absDelta > absOld) newEntryE8 = priceE8;
        else newEntryE8 = oldEntryE8;
    }

    /// @dev A trade that adds risk (bigger or flipped position) must leave the initial margin ratio;
    ///      any trade must leave non-negative margin.
    function _checkTradeMargin(int256 oldSize, int256 newSize, int256 newMargin, uint256 newEntryE8, uint256 priceE8)
        private
        pure
    {
        bool flipped = newSize != 0 && oldSize != 0 && (newSize > 0) != (oldSize > 0);
        if (PerpMath.abs(newSize) > PerpMath.abs(oldSize) || flipped) {
            int256 value = newMargin + newSize.pnl(newEntryE8, priceE8);
            uint256 ratio = PerpMath.marginRatio(value, newSize, priceE8);
            if (ratio < INITIAL_MARGIN_RATIO_E18) revert InitialMarginNotMet(ratio, INITIAL_MARGIN_RATIO_E18);
        }
        if (newMargin < 0) revert NegativeMargin(newMargin);
    }

    function _pull(address from, uint256 amountUnits) private {
        (bool ok, bytes memory data) =
            address(usdc).call(abi.encodeCall(IERC20.transferFrom, (from, address(this), amountUnits)));
        if (!ok || (data.length != 0 && !abi.decode(data, (bool)))) revert TransferFailed(address(this), amountUnits);
    }

    function _push(address to, uint256 amountUnits) private {
        (bool ok, bytes memory data) = address(usdc).call(abi.encodeCall(IERC20.transfer, (to, amountUnits)));
        if (!ok || (data.length != 0 && !abi.decode(data, (bool)))) revert TransferFailed(to, amountUnits);
    }
}
