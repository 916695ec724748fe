// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * Multicall3's aggregate, at Multicall3's address on the dev chain: Hyperdrive writes a name's notes by
 * delegatecalling it from the name's account, and reads several entries with one eth_call.
 */
contract Multicall3 {
    struct Call {
        address target;
        bytes callData;
    }

    function aggregate(Call[] calldata calls) public payable returns (uint256 blockNumber, bytes[] memory returnData) {
        blockNumber = block.number;
        returnData = new bytes[](calls.length);
        for (uint256 i = 0; i < calls.length; i++) {
            (bool ok, bytes memory ret) = calls[i].target.call(calls[i].callData);
            require(ok, "Multicall3: call failed");
            returnData[i] = ret;
        }
    }
}
