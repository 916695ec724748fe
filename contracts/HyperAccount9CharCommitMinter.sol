// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HyperAccountMinter} from "./HyperAccountMinter.sol";

/**
 * Base's `.os` flow: a name of at least 9 bytes, minted only by whoever committed to it first, in an earlier
 * transaction at least MIN_COMMIT_AGE before (commit(getCommitHash(name, sender)), wait, mint), so a mint seen in the
 * mempool cannot be front-run. A commit is used once and expires after MAX_COMMIT_AGE.
 */
contract HyperAccount9CharCommitMinter is HyperAccountMinter {
    uint256 public constant MIN_NAME_LENGTH = 9;
    uint256 public constant MIN_COMMIT_AGE = 10 seconds;
    uint256 public constant MAX_COMMIT_AGE = 1 days;

    /** commit hash => when it was made (stored in the entry's account, after HyperAccount's state). */
    mapping(bytes32 => uint256) public commits;

    error NameTooShort();
    error CommitNotFound();
    error CommitTooNew();
    error CommitTooOld();

    function commit(bytes32 _commit) external {
        commits[_commit] = block.timestamp;
    }

    function getCommitHash(bytes calldata name, address sender) public pure returns (bytes32) {
        return keccak256(abi.encode(name, sender));
    }

    function mint(address to, bytes calldata name, bytes calldata initialization, address implementation)
        public
        payable
        override
        returns (address)
    {
        if (name.length < MIN_NAME_LENGTH) revert NameTooShort();
        bytes32 c = getCommitHash(name, msg.sender);
        uint256 at = commits[c];
        if (at == 0) revert CommitNotFound();
        if (block.timestamp < at + MIN_COMMIT_AGE) revert CommitTooNew();
        if (block.timestamp > at + MAX_COMMIT_AGE) revert CommitTooOld();
        delete commits[c];
        return super.mint(to, name, initialization, implementation);
    }
}
