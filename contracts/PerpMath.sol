// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title PerpMath
/// @notice Fixed-point helpers of the perp exchange. Units: sizes in 1e18 base units, prices with
///         8 decimals, USDC with 6 decimals, so size * price / 1e20 is a USDC amount. Every helper
///         names its rounding direction; the exchange always picks the one against the trader.
library PerpMath {
    /// @dev size (1e18) * price (1e8) / SIZE_PRICE_TO_USDC = USDC units (1e6).
    uint256 internal constant SIZE_PRICE_TO_USDC = 1e20;
    /// @dev rate (1e18) * size (1e18) * price (1e8) / FUNDING_TO_USDC = USDC units (1e6).
    int256 internal constant FUNDING_TO_USDC = 1e38;

    error CastOverflow();

    function abs(int256 x) internal pure returns (uint256) {
        return x >= 0 ? uint256(x) : uint256(-x);
    }

    function ceilDiv(uint256 x, uint256 d) internal pure returns (uint256) {
        return x == 0 ? 0 : (x - 1) / d + 1;
    }

    /// @dev Signed division rounded toward negative infinity (d > 0).
    function floorDiv(int256 x, int256 d) internal pure returns (int256 q) {
        q = x / d;
        if (x % d != 0 && x < 0) q -= 1;
    }

    /// @dev Signed division rounded toward positive infinity (d > 0).
    function ceilDivSigned(int256 x, int256 d) internal pure returns (int256 q) {
        q = x / d;
        if (x % d != 0 && x > 0) q += 1;
    }

    /// @notice USD value of `size` at `priceE8`, USDC units, rounded up.
    function notional(int256 size, uint256 priceE8) internal pure returns (uint256) {
        return ceilDiv(abs(size) * priceE8, SIZE_PRICE_TO_USDC);
    }

    /// @notice PnL of `size` bought at `entryPriceE8` and valued at `priceE8`, rounded down.
    function pnl(int256 size, uint256 entryPriceE8, uint256 priceE8) internal pure returns (int256) {
        if (size == 0) return 0;
        return floorDiv(size * (int256(priceE8) - int256(entryPriceE8)), int256(SIZE_PRICE_TO_USDC));
    }

    /// @notice Funding owed (positive = paid) by `size` over an index move, rounded up.
    function funding(int256 size, int256 indexDelta) internal pure returns (int256) {
        if (size == 0 || indexDelta == 0) return 0;
        return ceilDivSigned(size * indexDelta, FUNDING_TO_USDC);
    }

    /// @notice Account value / notional, 1e18 = 100%; 0 when the value is not positive,
    ///         type(uint256).max without a position. Rounded down.
    function marginRatio(int256 accountValue, int256 size, uint256 priceE8) internal pure returns (uint256) {
        if (size == 0) return type(uint256).max;
        if (accountValue <= 0) return 0;
        return uint256(accountValue) * 1e18 / notional(size, priceE8);
    }

    function toInt256(uint256 x) internal pure returns (int256) {
        if (x > uint256(type(int256).max)) revert CastOverflow();
        return int256(x);
    }

    function toInt128(int256 x) internal pure returns (int128) {
        if (x < type(int128).min || x > type(int128).max) revert CastOverflow();
        return int128(x);
    }

    function toUint128(uint256 x) internal pure returns (uint128) {
        if (x > type(uint128).max) revert CastOverflow();
        return uint128(x);
    }
}
