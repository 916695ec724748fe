// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

interface IHypermapOwner {
    function get(bytes32 namehash) external view returns (address tba, address owner, bytes memory data);
}

/**
 * The token-bound account of one Hypermap entry: whoever owns the entry acts through execute(), with the same
 * signature as Hypermap's HyperAccount (operation 0 = call, 1 = delegatecall, so a Multicall3 aggregate can write
 * several notes as this account in one transaction). token() answers as an ERC-6551 account does.
 */
contract HyperAccount {
    bytes32 public immutable entry;
    address public immutable hypermap;
    bool private initialized;

    error NotOwner();
    error BadOperation();

    constructor(bytes32 _entry) {
        entry = _entry;
        hypermap = msg.sender;
    }

    receive() external payable {}

    /** Runs the mint's initialization as this account, once, while Hypermap still owns the entry. */
    function initialize(bytes calldata initialization) external {
        if (msg.sender != hypermap || initialized) revert NotOwner();
        initialized = true;
        (bool ok, bytes memory ret) = address(this).delegatecall(initialization);
        if (!ok) bubble(ret);
    }

    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory)
    {
        if (msg.sender != owner()) revert NotOwner();
        bool ok;
        bytes memory ret;
        if (operation == 0) (ok, ret) = to.call{value: value}(data);
        else if (operation == 1) (ok, ret) = to.delegatecall(data);
        else revert BadOperation();
        if (!ok) bubble(ret);
        return ret;
    }

    function owner() public view returns (address o) {
        (, o,) = IHypermapOwner(hypermap).get(entry);
    }

    function token() external view returns (uint256 chainId, address tokenContract, uint256 tokenId) {
        return (block.chainid, hypermap, uint256(entry));
    }

    function bubble(bytes memory ret) private pure {
        assembly {
            revert(add(ret, 32), mload(ret))
        }
    }
}
