// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "./ERC20.sol";
import {Owned} from "./Owned.sol";

/// @title MockUSDC
/// @notice Devnet stand-in for USDC: 6 decimals, minted only by its owner (the deployer).
contract MockUSDC is ERC20, Owned {
    constructor() ERC20("USD Coin", "USDC", 6) Owned(msg.sender) {}

    /// @notice Create `amount` base units (1e6 = 1 USDC) for `to`.
    /// @param to Receiver of the new tokens.
    /// @param amount Amount in base units.
    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
