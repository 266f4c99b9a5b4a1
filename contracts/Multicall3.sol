// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Multicall3 (the subset the keeper uses)
/// @notice Batches read calls into one eth_call, with the ABI of the canonical Multicall3 that
///         lives at 0xcA11bde05977b3631167028862bE2a173976CA11 on mainnet and most chains, so
///         viem's multicall and the keeper's snapshot reader work the same on the devnet.
///         Read-only use: no value forwarding, no state.
contract Multicall3 {
    struct Call3 {
        address target;
        bool allowFailure;
        bytes callData;
    }

    struct Result {
        bool success;
        bytes returnData;
    }

    error CallFailed(uint256 index);

    /// @notice Call every target; a failing call reverts the batch unless it allows failure.
    function aggregate3(Call3[] calldata calls) external payable returns (Result[] memory returnData) {
        uint256 length = calls.length;
        returnData = new Result[](length);
        for (uint256 i = 0; i < length; ++i) {
            Call3 calldata c = calls[i];
            (bool success, bytes memory ret) = c.target.call(c.callData);
            if (!success && !c.allowFailure) revert CallFailed(i);
            returnData[i] = Result(success, ret);
        }
    }

    /// @notice Native balance of an account (so a snapshot needs no separate eth_getBalance).
    function getEthBalance(address addr) external view returns (uint256 balance) {
        balance = addr.balance;
    }

    /// @notice The block's timestamp (so a snapshot needs no separate eth_getBlockByNumber).
    function getCurrentBlockTimestamp() external view returns (uint256 timestamp) {
        timestamp = block.timestamp;
    }

    function getBlockNumber() external view returns (uint256 blockNumber) {
        blockNumber = block.number;
    }
}
