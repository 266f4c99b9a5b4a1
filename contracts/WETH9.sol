// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title WETH9
/// @notice Wrapped Ether with the canonical WETH9 behaviour (deposit, withdraw, receive, ERC-20
///         with 18 decimals, Deposit/Withdrawal events; an allowance of type(uint256).max and a
///         transferFrom by the owner itself never touch the allowance), in modern Solidity.
contract WETH9 {
    /// @notice "Wrapped Ether".
    string public constant name = "Wrapped Ether";
    /// @notice "WETH".
    string public constant symbol = "WETH";
    /// @notice 18, like ether.
    uint8 public constant decimals = 18;

    /// @notice Wrapped balance of each account, wei.
    mapping(address account => uint256) public balanceOf;
    /// @notice Remaining amount `spender` may move on behalf of `owner`.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    event Approval(address indexed src, address indexed guy, uint256 wad);
    event Transfer(address indexed src, address indexed dst, uint256 wad);
    event Deposit(address indexed dst, uint256 wad);
    event Withdrawal(address indexed src, uint256 wad);

    error InsufficientBalance(address account, uint256 balance, uint256 needed);
    error InsufficientAllowance(address spender, uint256 allowance, uint256 needed);
    error EtherTransferFailed(address to, uint256 wad);

    /// @dev A plain ether transfer wraps, like WETH9's fallback.
    receive() external payable {
        deposit();
    }

    /// @notice Wrap the ether sent with the call for the caller.
    function deposit() public payable {
        balanceOf[msg.sender] += msg.value;
        emit Deposit(msg.sender, msg.value);
    }

    /// @notice Unwrap `wad` wei and send the ether to the caller.
    /// @param wad Amount in wei.
    function withdraw(uint256 wad) external {
        uint256 balance = balanceOf[msg.sender];
        if (balance < wad) revert InsufficientBalance(msg.sender, balance, wad);
        unchecked {
            balanceOf[msg.sender] = balance - wad;
        }
        emit Withdrawal(msg.sender, wad);
        // Effects are done: a re-entering receiver sees the reduced balance.
        (bool ok,) = msg.sender.call{value: wad}("");
        if (!ok) revert EtherTransferFailed(msg.sender, wad);
    }

    /// @notice Total wrapped ether: the contract's ether balance, as in WETH9.
    function totalSupply() external view returns (uint256) {
        return address(this).balance;
    }

    /// @notice Allow `guy` to move up to `wad` of the caller's WETH.
    /// @return Always true.
    function approve(address guy, uint256 wad) external returns (bool) {
        allowance[msg.sender][guy] = wad;
        emit Approval(msg.sender, guy, wad);
        return true;
    }

    /// @notice Move `wad` from the caller to `dst`.
    /// @return Always true (reverts on failure).
    function transfer(address dst, uint256 wad) external returns (bool) {
        return transferFrom(msg.sender, dst, wad);
    }

    /// @notice Move `wad` from `src` to `dst`, spending the caller's allowance unless it is `src`.
    /// @return Always true (reverts on failure).
    function transferFrom(address src, address dst, uint256 wad) public returns (bool) {
        uint256 balance = balanceOf[src];
        if (balance < wad) revert InsufficientBalance(src, balance, wad);
        if (src != msg.sender) {
            uint256 allowed = allowance[src][msg.sender];
            if (allowed != type(uint256).max) {
                if (allowed < wad) revert InsufficientAllowance(msg.sender, allowed, wad);
                unchecked {
                    allowance[src][msg.sender] = allowed - wad;
                }
            }
        }
        unchecked {
            balanceOf[src] = balance - wad;
            // Cannot overflow: all balances together are bounded by the ether supply.
            balanceOf[dst] += wad;
        }
        emit Transfer(src, dst, wad);
        return true;
    }
}
