// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * The reference deployment's well-known addresses (Hyperdrive, kit and the register UI hard-code them). Our contracts
 * are installed there with anvil_setCode, so they are constants here rather than immutables: setCode runs no
 * constructor.
 */
library Addresses {
    /** Hypermap's ERC-1967 proxy: the address everyone calls, on Base and on the dev chain. */
    address internal constant HYPERMAP = 0x000000000044C6B8Cb4d8f0F889a3E47664EAeda;
    /** The canonical ERC-6551 registry (the same address on every chain). */
    address internal constant ERC6551_REGISTRY = 0x000000006551c19487814612e58FE06813775758;
    /** HyperAccount: the account implementation names are minted with. */
    address internal constant HYPER_ACCOUNT = 0x0000000000EDAd72076CBe7b9Cfa3751D5a85C97;

    /**
     * keccak256 of the reference's per-name account proxy init code (its creation code followed by the ABI-encoded
     * Hypermap address). With it, CREATE2(Hypermap, namehash, this) is where the reference keeps a name's account
     * proxy, and so the ERC-6551 address of the name's account. Only a hash: the code itself is not ours to copy.
     */
    bytes32 internal constant REFERENCE_ACCOUNT_PROXY_INIT_HASH =
        0x3174615535ef55059e87328c45a3c061225f8a1399bf2abcab8fd61a877de7b6;
}
