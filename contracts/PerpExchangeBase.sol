// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {IERC20} from "./IERC20.sol";
import {Owned} from "./Owned.sol";
import {PerpMath} from "./PerpMath.sol";

/// @title PerpExchangeBase
/// @notice Types, parameters, storage, events, errors and internal accounting of PerpExchange
///         (see PerpExchange.sol for the model, units and rounding rules).
abstract contract PerpExchangeBase is Owned {
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

    uint256 internal constant INITIAL_MARGIN_RATIO_E18 = 1e17;
    uint256 internal constant MAINTENANCE_MARGIN_RATIO_E18 = 5e16;
    uint256 internal constant LIQUIDATION_PENALTY_BPS = 100;
    uint256 internal constant MAX_TAKER_FEE_BPS = 100;
    /// @dev 1e-6 of notional per second (8.64% a day) is far beyond any sane funding rate.
    int256 internal constant MAX_FUNDING_RATE_E18 = 1e12;
    uint256 internal constant BPS = 1e4;
    uint8 internal constant PRICE_DECIMALS = 8;
    uint8 internal constant USDC_DECIMALS = 6;

    /// @notice The margin token (6 decimals).
    IERC20 public immutable usdc;
    /// @notice Number of markets; ids run from 1 to marketCount.
    uint256 public marketCount;
    /// @notice Taker fee on the notional of every trade, basis points.
    uint256 public takerFeeBps = 5;
    /// @notice The house's own USDC (fees, traders' losses, seed funds minus profits paid and bad
    ///         debt). Signed: a negative house means traders' margins are not fully backed.
    int256 public houseBalance;

    mapping(uint256 marketId => Market) internal markets;
    mapping(address account => mapping(uint256 marketId => Position)) internal positions;
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

    // ---------------------------------------------------------------- internals

    function _market(uint256 marketId) internal view returns (Market storage m) {
        m = markets[marketId];
        if (address(m.feed) == address(0)) revert UnknownMarket(marketId);
    }

    function _latestPrice(Market storage m) internal view returns (uint256 priceE8, uint256 updatedAt) {
        int256 answer;
        (, answer,, updatedAt,) = m.feed.latestRoundData();
        if (answer <= 0) revert InvalidPrice(answer);
        priceE8 = uint256(answer);
    }

    /// @dev The price every position-changing action uses: positive and no older than the market allows.
    function _freshPrice(Market storage m) internal view returns (uint256 priceE8) {
        uint256 updatedAt;
        (priceE8, updatedAt) = _latestPrice(m);
        if (block.timestamp > updatedAt + m.maxPriceAgeSec) revert StalePrice(updatedAt, m.maxPriceAgeSec);
    }

    /// @dev Funding accrual only needs a price while a rate runs; it takes the latest answer even
    ///      when stale so that adding margin never fails on an old feed. 0 = not needed.
    function _accrualPrice(Market storage m) internal view returns (uint256 priceE8) {
        if (m.fundingRatePerSecE18 == 0 || m.lastFundingTime == block.timestamp) return 0;
        (priceE8,) = _latestPrice(m);
    }

    function _indexAt(Market storage m, uint256 priceE8) internal view returns (int256) {
        int256 rate = m.fundingRatePerSecE18;
        uint256 elapsed = block.timestamp - m.lastFundingTime;
        if (rate == 0 || elapsed == 0) return m.fundingIndex;
        return m.fundingIndex + rate * int256(elapsed) * int256(priceE8);
    }

    /// @dev Without a rate the index cannot move, so nothing is written: the gas of deposits and
    ///      trades then does not depend on the block timestamp (an estimate made in one second
    ///      stays valid in the next). setFundingRate restarts the clock.
    function _accrue(uint256 marketId, Market storage m, uint256 priceE8) internal {
        if (m.fundingRatePerSecE18 == 0 || m.lastFundingTime == block.timestamp) return;
        int256 index = _indexAt(m, priceE8);
        if (index != m.fundingIndex) {
            m.fundingIndex = PerpMath.toInt128(index);
            emit FundingAccrued(marketId, index, block.timestamp);
        }
        m.lastFundingTime = uint48(block.timestamp);
    }

    function _settleFunding(address account, uint256 marketId, Market storage m, Position storage pos, uint256 priceE8)
        internal
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
    function _liquidation(Position storage pos, uint256 priceE8) internal view returns (Liquidation memory l) {
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
        internal
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
        internal
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

    function _pull(address from, uint256 amountUnits) internal {
        (bool ok, bytes memory data) =
            address(usdc).call(abi.encodeCall(IERC20.transferFrom, (from, address(this), amountUnits)));
        if (!ok || (data.length != 0 && !abi.decode(data, (bool)))) revert TransferFailed(address(this), amountUnits);
    }

    function _push(address to, uint256 amountUnits) internal {
        (bool ok, bytes memory data) = address(usdc).call(abi.encodeCall(IERC20.transfer, (to, amountUnits)));
        if (!ok || (data.length != 0 && !abi.decode(data, (bool)))) revert TransferFailed(to, amountUnits);
    }
}
