// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC721} from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import {IERC721Receiver} from "@openzeppelin/contracts/token/ERC721/IERC721Receiver.sol";
import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";

/** ERC-6551's account interface (id 0x6faff5f1). */
interface IERC6551Account {
    receive() external payable;
    function token() external view returns (uint256 chainId, address tokenContract, uint256 tokenId);
    function state() external view returns (uint256);
    function isValidSigner(address signer, bytes calldata context) external view returns (bytes4 magicValue);
}

/** ERC-6551's executable interface (id 0x51945447): operation 0 = CALL, 1 = DELEGATECALL. */
interface IERC6551Executable {
    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory);
}

/**
 * The token-bound account of a Hypermap entry, written from ERC-6551: it runs in the entry's account (an ERC-6551
 * minimal proxy, through the entry's account proxy), reads which token it belongs to from that proxy's code, and
 * whoever owns the token acts through execute(). While Hypermap mints an entry it owns the token itself, so the
 * mint's initialization can execute() as the new account (Hyperdrive writes the first notes that way: a
 * delegatecall of Multicall3's aggregate of note() calls).
 */
contract HyperAccount is IERC165, IERC1271, IERC6551Account, IERC6551Executable, IERC721Receiver {
    /** Counts executions, as ERC-6551 asks (it changes whenever the account acts). */
    uint256 public state;

    error NotOwner();
    error UnsupportedOperation();

    receive() external payable {}

    function execute(address to, uint256 value, bytes calldata data, uint8 operation)
        external
        payable
        returns (bytes memory ret)
    {
        if (msg.sender != owner()) revert NotOwner();
        ++state;
        bool ok;
        if (operation == 0) (ok, ret) = to.call{value: value}(data);
        else if (operation == 1) (ok, ret) = to.delegatecall(data);
        else revert UnsupportedOperation();
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    /** The token this account is bound to: the footer the ERC-6551 registry appended to the account's code. */
    function token() public view returns (uint256 chainId, address tokenContract, uint256 tokenId) {
        bytes memory footer = new bytes(0x60);
        assembly {
            // the footer is (salt, chainId, tokenContract, tokenId) after the 0x2d bytes of ERC-1167 code
            extcodecopy(address(), add(footer, 0x20), 0x4d, 0x60)
        }
        return abi.decode(footer, (uint256, address, uint256));
    }

    /** The token's owner, or 0 for a token on another chain or one that does not exist. */
    function owner() public view returns (address) {
        (uint256 chainId, address tokenContract, uint256 tokenId) = token();
        if (chainId != block.chainid || tokenContract.code.length == 0) return address(0);
        try IERC721(tokenContract).ownerOf(tokenId) returns (address o) {
            return o;
        } catch {
            return address(0);
        }
    }

    function isValidSigner(address signer, bytes calldata) external view returns (bytes4) {
        return signer != address(0) && signer == owner() ? IERC6551Account.isValidSigner.selector : bytes4(0);
    }

    /** ERC-1271: a signature by the owner (an EOA, or a contract that accepts it) is the account's. */
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        address o = owner();
        return o != address(0) && SignatureChecker.isValidSignatureNow(o, hash, signature)
            ? IERC1271.isValidSignature.selector
            : bytes4(0xffffffff);
    }

    function onERC721Received(address, address, uint256, bytes calldata) external pure returns (bytes4) {
        return IERC721Receiver.onERC721Received.selector;
    }

    function supportsInterface(bytes4 id) public pure virtual returns (bool) {
        return id == type(IERC165).interfaceId || id == type(IERC6551Account).interfaceId
            || id == type(IERC6551Executable).interfaceId || id == type(IERC1271).interfaceId
            || id == type(IERC721Receiver).interfaceId;
    }
}
