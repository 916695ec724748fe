// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Proxy} from "@openzeppelin/contracts/proxy/Proxy.sol";
import {ERC1967Utils} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Utils.sol";
import {Addresses} from "./Addresses.sol";

/**
 * What an entry's ERC-6551 account delegates to: it keeps the entry's implementation (HyperAccount, a minter, a
 * gene) in the account's own ERC-1967 slot and delegates every call there. Hypermap sets the implementation once,
 * at mint, and runs the mint's initialization through it; nobody else can. The ERC-6551 address depends on this
 * contract's address, not on the implementation, so a name's account address is fixed before its implementation
 * is chosen.
 */
contract HyperAccountProxy is Proxy {
    error NotHypermap(address caller);
    error AlreadyInitialized();

    /** Hypermap's call at mint; from anyone else the call goes to the implementation like any other. */
    function initialize(address implementation, bytes calldata initialization) external payable {
        if (msg.sender != Addresses.HYPERMAP) _fallback(); // does not come back
        if (_implementation() != address(0)) revert AlreadyInitialized();
        // reverts unless `implementation` has code; runs `initialization` in this account when it is not empty
        ERC1967Utils.upgradeToAndCall(implementation, initialization);
    }

    function _implementation() internal view override returns (address) {
        return ERC1967Utils.getImplementation();
    }

    receive() external payable {
        _fallback();
    }
}
