// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Owned
/// @notice Minimal single-owner access control shared by the devnet contracts.
/// @dev One-step transfer on purpose: the devnet hands ownership to its market driver in one tx.
abstract contract Owned {
    /// @notice The account allowed to call owner-only functions.
    address public owner;

    /// @notice Emitted when ownership changes, including at construction (from the zero address).
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The zero address was given where an account is required.
    error ZeroAddress();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert ZeroAddress();
        owner = initialOwner;
        emit OwnershipTransferred(address(0), initialOwner);
    }

    /// @notice Hand ownership to `newOwner`.
    /// @param newOwner The new owner, not the zero address.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        address previous = owner;
        owner = newOwner;
        emit OwnershipTransferred(previous, newOwner);
    }
}
