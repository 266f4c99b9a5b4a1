// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";

/// @title MorphoFeedOracle
/// @notice Morpho Blue's IOracle over two Chainlink-compatible USD feeds: the price of one unit of
///         the collateral token in units of the loan token, scaled by 1e36 (Morpho's
///         ORACLE_PRICE_SCALE) and adjusted by both tokens' and both feeds' decimals, the way
///         Morpho's own Chainlink oracle scales it. A zero collateral feed values the collateral
///         at exactly 1 USD. No staleness check: Morpho's oracles have none either.
contract MorphoFeedOracle {
    /// @notice USD feed of the collateral token; address(0) = 1 USD.
    AggregatorV3Interface public immutable collateralFeed;
    /// @notice USD feed of the loan token.
    AggregatorV3Interface public immutable loanFeed;
    /// @notice 10 ** (36 + loan decimals + loan feed decimals - collateral decimals - collateral feed decimals).
    uint256 public immutable scaleFactor;

    /// @notice A feed answered zero or less.
    error InvalidAnswer(address feed, int256 answer);
    /// @notice The decimals make the scale factor negative.
    error InvalidDecimals();

    /// @param collateralFeed_ USD feed of the collateral token, or address(0) for 1 USD.
    /// @param loanFeed_ USD feed of the loan token.
    /// @param collateralDecimals Decimals of the collateral token.
    /// @param loanDecimals Decimals of the loan token.
    constructor(address collateralFeed_, address loanFeed_, uint8 collateralDecimals, uint8 loanDecimals) {
        collateralFeed = AggregatorV3Interface(collateralFeed_);
        loanFeed = AggregatorV3Interface(loanFeed_);
        uint256 up = 36 + uint256(loanDecimals) + AggregatorV3Interface(loanFeed_).decimals();
        uint256 down = uint256(collateralDecimals) + (collateralFeed_ == address(0) ? 0 : AggregatorV3Interface(collateralFeed_).decimals());
        if (down > up) revert InvalidDecimals();
        scaleFactor = 10 ** (up - down);
    }

    /// @notice One collateral unit in loan units, scaled by 1e36 (IOracle.price).
    function price() external view returns (uint256) {
        uint256 collateralUsd = address(collateralFeed) == address(0) ? 1 : _answer(collateralFeed);
        return (scaleFactor * collateralUsd) / _answer(loanFeed);
    }

    function _answer(AggregatorV3Interface feed) private view returns (uint256) {
        (, int256 answer,,,) = feed.latestRoundData();
        if (answer <= 0) revert InvalidAnswer(address(feed), answer);
        return uint256(answer);
    }
}
