// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";

/**
 * The ERC-6551 registry, written from the standard: an account for (implementation, salt, chainId, tokenContract,
 * tokenId) is an ERC-1167 minimal proxy to `implementation` with those four values appended, created with CREATE2
 * (salt = `salt`) by the registry, so its address is known before it exists. Installed at the canonical address.
 */
contract ERC6551Registry {
    event ERC6551AccountCreated(
        address account,
        address indexed implementation,
        bytes32 salt,
        uint256 chainId,
        address indexed tokenContract,
        uint256 indexed tokenId
    );

    error AccountCreationFailed();

    /** Creates the account (or returns it when it exists already, as the standard says). */
    function createAccount(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        returns (address created)
    {
        bytes memory code = creationCode(implementation, salt, chainId, tokenContract, tokenId);
        created = Create2.computeAddress(salt, keccak256(code));
        if (created.code.length != 0) return created;
        emit ERC6551AccountCreated(created, implementation, salt, chainId, tokenContract, tokenId);
        address made;
        assembly {
            made := create2(0, add(code, 0x20), mload(code), salt)
        }
        if (made != created) revert AccountCreationFailed();
    }

    function account(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        view
        returns (address)
    {
        return Create2.computeAddress(salt, keccak256(creationCode(implementation, salt, chainId, tokenContract, tokenId)));
    }

    /**
     * The standard's init code: copy the 0xad-byte runtime that follows and return it. The runtime is ERC-1167
     * (delegate everything to `implementation`) followed by the footer abi.encode(salt, chainId, tokenContract,
     * tokenId), which the account reads back from its own code for token().
     */
    function creationCode(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        private
        pure
        returns (bytes memory)
    {
        return abi.encodePacked(
            hex"3d60ad80600a3d3981f3363d3d373d3d3d363d73",
            implementation,
            hex"5af43d82803e903d91602b57fd5bf3",
            abi.encode(salt, chainId, tokenContract, tokenId)
        );
    }
}
