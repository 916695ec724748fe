// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HyperAccount} from "./HyperAccount.sol";
import {Addresses} from "./Addresses.sol";

interface IHypermapMint {
    function mint(address to, bytes calldata label, bytes calldata initialization, address implementation)
        external
        returns (address);
}

/**
 * An account implementation that lets anyone mint under its entry: mint() runs in the entry's account, so Hypermap
 * sees the entry's TBA as the caller. It is the `.os` account's implementation on the dev chain (as on kit's), so a
 * fake node mints `<label>.os` with one transaction and no permission. Everything else is HyperAccount's: the
 * owner still acts through execute().
 */
contract HyperAccountMinter is HyperAccount {
    /** kit's chain setup mints `os` with initialize() as its initialization; nothing to set up here. */
    function initialize() external {}

    function mint(address to, bytes calldata name, bytes calldata initialization, address implementation)
        public
        payable
        virtual
        returns (address)
    {
        return IHypermapMint(Addresses.HYPERMAP).mint(to, name, initialization, implementation);
    }
}
