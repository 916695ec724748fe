// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/**
 * The ERC-1967 proxy at Hypermap's address, as the reference deploys it; the implementation lives at its own
 * address and the proxy's implementation slot names it (set with anvil_setStorageAt, since setCode runs no
 * constructor).
 */
contract HypermapProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) ERC1967Proxy(implementation, data) {}
}
