// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AggregatorV3Interface} from "./AggregatorV3Interface.sol";
import {Owned} from "./Owned.sol";

/// @title PriceFeed
/// @notice An owner-driven Chainlink-compatible feed: AggregatorV3Interface plus the legacy
///         (AggregatorInterface) reads Aave's oracle uses. Every update opens a new round, so
///         round history is kept exactly like a real aggregator.
contract PriceFeed is AggregatorV3Interface, Owned {
    struct Round {
        int256 answer;
        uint64 startedAt;
        uint64 updatedAt;
    }

    /// @notice Fixed-point decimals of every answer (8 for USD feeds).
    uint8 public immutable override decimals;
    /// @notice Human-readable pair, e.g. "ETH / USD".
    string public override description;
    /// @notice Id of the latest round; rounds are numbered from 1.
    uint80 public latestRoundId;

    mapping(uint80 roundId => Round) private rounds;

    /// @notice Chainlink's event for a new answer.
    event AnswerUpdated(int256 indexed current, uint256 indexed roundId, uint256 updatedAt);
    /// @notice Chainlink's event for a new round.
    event NewRound(uint256 indexed roundId, address indexed startedBy, uint256 startedAt);

    /// @notice Answers must be strictly positive.
    error InvalidAnswer(int256 answer);
    /// @notice `updatedAt` is in the future or zero.
    error InvalidTimestamp(uint256 updatedAt, uint256 nowSec);
    /// @notice No such round.
    error RoundNotFound(uint256 roundId);

    /// @param decimals_ Decimals of answers (8 for our USD feeds).
    /// @param description_ Pair description, e.g. "ETH / USD".
    /// @param initialAnswer First answer (> 0), recorded as round 1 at the deployment block time.
    /// @param initialOwner Account allowed to push prices.
    constructor(uint8 decimals_, string memory description_, int256 initialAnswer, address initialOwner)
        Owned(initialOwner)
    {
        decimals = decimals_;
        description = description_;
        _record(initialAnswer, block.timestamp);
    }

    /// @notice Interface version; 4 like Chainlink's current aggregator proxies.
    function version() external pure override returns (uint256) {
        return 4;
    }

    /// @notice Publish `answer` as a new round updated now.
    /// @param answer The price, with `decimals()` decimals, > 0.
    function setPrice(int256 answer) external onlyOwner {
        _record(answer, block.timestamp);
    }

    /// @notice Publish `answer` as a new round updated at `updatedAt` (to test staleness).
    /// @param answer The price, > 0.
    /// @param updatedAt Seconds since epoch, not after the current block's timestamp.
    function setPriceAt(int256 answer, uint256 updatedAt) external onlyOwner {
        if (updatedAt == 0 || updatedAt > block.timestamp) revert InvalidTimestamp(updatedAt, block.timestamp);
        _record(answer, updatedAt);
    }

    /// @notice The latest round, Chainlink-style.
    function latestRoundData()
        external
        view
        override
        returns (uint80 roundId, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(latestRoundId);
    }

    /// @notice A past round; reverts with RoundNotFound for an id never published.
    function getRoundData(uint80 roundId)
        external
        view
        override
        returns (uint80 roundId_, int256 answer, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return _round(roundId);
    }

    /// @notice Legacy read of the latest answer.
    function latestAnswer() external view returns (int256) {
        return rounds[latestRoundId].answer;
    }

    /// @notice Legacy read of the latest round's update time.
    function latestTimestamp() external view returns (uint256) {
        return rounds[latestRoundId].updatedAt;
    }

    /// @notice Legacy read of the latest round id.
    function latestRound() external view returns (uint256) {
        return latestRoundId;
    }

    /// @notice Legacy read of a round's answer (0 for an unknown round, like Chainlink).
    function getAnswer(uint256 roundId) external view returns (int256) {
        return roundId > type(uint80).max ? int256(0) : rounds[uint80(roundId)].answer;
    }

    /// @notice Legacy read of a round's update time (0 for an unknown round, like Chainlink).
    function getTimestamp(uint256 roundId) external view returns (uint256) {
        return roundId > type(uint80).max ? 0 : rounds[uint80(roundId)].updatedAt;
    }

    function _record(int256 answer, uint256 updatedAt) private {
        if (answer <= 0) revert InvalidAnswer(answer);
        uint80 roundId = latestRoundId + 1;
        latestRoundId = roundId;
        // updatedAt <= block.timestamp, which fits in 64 bits for billions of years.
        rounds[roundId] = Round({answer: answer, startedAt: uint64(updatedAt), updatedAt: uint64(updatedAt)});
        emit NewRound(roundId, msg.sender, updatedAt);
        emit AnswerUpdated(answer, roundId, updatedAt);
    }

    function _round(uint80 roundId) private view returns (uint80, int256, uint256, uint256, uint80) {
        Round memory r = rounds[roundId];
        if (r.updatedAt == 0) revert RoundNotFound(roundId);
        return (roundId, r.answer, r.startedAt, r.updatedAt, roundId);
    }
}
