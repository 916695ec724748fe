// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {HyperAccount} from "./HyperAccount.sol";

/**
 * A Hypermap-compatible name map for development chains, written for hyperdeno.
 *
 * The read path is Hypermap's: the same function and event signatures, topic layout and hashing (an entry's hash is
 * leaf(parent, label) = keccak256(parent ++ keccak256(label)), the root is 32 zero bytes), so an indexer written
 * against the real ABI reads this one unchanged. Writes follow Hypermap's model too: only an entry's token-bound
 * account (TBA) may mint under it or write its notes, and an owner acts through its TBA's execute().
 *
 * Of ERC-721, only transferFrom (token id = the namehash, as the real one): on a dev chain a fake name moves to the
 * account of the node that boots it next. Left out (HNS does not need them): the rest of ERC-721 (balances,
 * approvals, safe transfers, metadata), ERC-6551's registry and counterfactual addresses (a TBA here is a CREATE2
 * child of this contract, salt = its namehash), upgrades, roles, and genes beyond recording one and emitting Gene (a
 * gene does not choose the TBA code of descendants).
 *
 * Installed with anvil_setCode, so no constructor runs: the one piece of setup is initialize(admin), once.
 */
contract Hypermap {
    struct Entry {
        address tba;
        address owner;
        address gene;
        bytes data;
    }

    event Mint(bytes32 indexed parenthash, bytes32 indexed childhash, bytes indexed labelhash, bytes label);
    event Note(bytes32 indexed parenthash, bytes32 indexed notehash, bytes indexed labelhash, bytes label, bytes data);
    event Fact(bytes32 indexed parenthash, bytes32 indexed facthash, bytes indexed labelhash, bytes label, bytes data);
    event Gene(bytes32 indexed entry, address indexed gene);
    event Zero(address indexed zeroTba);
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);

    error NotParent();
    error NameAlreadyExists();
    error InvalidLabel();
    error LabelTooLong();
    error EmptyFact();
    error FactAlreadyExists();
    error GeneAlreadySet();
    error AlreadyInitialized();
    error NotOwner();

    mapping(bytes32 => Entry) private entries;
    mapping(address => bytes32) private entryOfTba;
    bool private initialized;

    /** Creates the root entry (hash 0) owned by `admin`, with a TBA; as the real one, no Mint for the root. */
    function initialize(address admin) external {
        if (initialized) revert AlreadyInitialized();
        initialized = true;
        address tba = address(new HyperAccount{salt: bytes32(0)}(bytes32(0)));
        entries[bytes32(0)] = Entry(tba, admin, address(0), "");
        entryOfTba[tba] = bytes32(0);
        emit Zero(tba);
    }

    function mint(address to, bytes calldata label, bytes calldata initialization, address /* implementation */ )
        external
        returns (address tba)
    {
        bytes32 parent = callerEntry();
        validName(label);
        bytes32 child = leaf(parent, label);
        if (entries[child].tba != address(0)) revert NameAlreadyExists();
        // Mint first, before anything the initialization writes (indexers rely on the order).
        emit Mint(parent, child, label, label);
        tba = address(new HyperAccount{salt: child}(child));
        // Hypermap owns the entry while the initialization runs in its TBA, then hands it to `to`, as the real one.
        entries[child] = Entry(tba, address(this), address(0), "");
        entryOfTba[tba] = child;
        if (initialization.length > 0) HyperAccount(payable(tba)).initialize(initialization);
        entries[child].owner = to;
    }

    function note(bytes calldata noteLabel, bytes calldata data) external returns (bytes32 notehash) {
        bytes32 parent = callerEntry();
        validKey(noteLabel, 0x7e); // '~'
        notehash = leaf(parent, noteLabel);
        entries[notehash].data = data;
        emit Note(parent, notehash, noteLabel, noteLabel, data);
    }

    function fact(bytes calldata factLabel, bytes calldata data) external returns (bytes32 facthash) {
        bytes32 parent = callerEntry();
        validKey(factLabel, 0x21); // '!'
        if (data.length == 0) revert EmptyFact();
        facthash = leaf(parent, factLabel);
        if (entries[facthash].data.length != 0) revert FactAlreadyExists();
        entries[facthash].data = data;
        emit Fact(parent, facthash, factLabel, factLabel, data);
    }

    function gene(address _gene) external {
        bytes32 entry = callerEntry();
        if (entries[entry].gene != address(0)) revert GeneAlreadySet();
        entries[entry].gene = _gene;
        emit Gene(entry, _gene);
    }

    /** ERC-721's transferFrom, by the name's owner itself (there are no approvals): `to` owns it and its TBA from now. */
    function transferFrom(address from, address to, uint256 tokenId) external {
        Entry storage e = entries[bytes32(tokenId)];
        if (e.tba == address(0) || e.owner != from || msg.sender != from || to == address(0)) revert NotOwner();
        e.owner = to;
        emit Transfer(from, to, tokenId);
    }

    /** A name: (its TBA, its owner, empty); a note or fact: (0, 0, its bytes); nothing: (0, 0, empty). */
    function get(bytes32 namehash) external view returns (address tba, address owner, bytes memory data) {
        Entry storage e = entries[namehash];
        return (e.tba, e.owner, e.data);
    }

    function tbaOf(bytes32 entry) external view returns (address) {
        return entries[entry].tba;
    }

    function leaf(bytes32 parenthash, bytes calldata label) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(parenthash, keccak256(label)));
    }

    /** The entry whose TBA is calling: the parent of what it mints or writes. */
    function callerEntry() private view returns (bytes32 entry) {
        entry = entryOfTba[msg.sender];
        if (msg.sender == address(0) || entries[entry].tba != msg.sender) revert NotParent();
    }

    /** 1-63 bytes of a-z, 0-9 and -. */
    function validName(bytes calldata label) private pure {
        if (label.length == 0) revert InvalidLabel();
        if (label.length > 63) revert LabelTooLong();
        for (uint256 i = 0; i < label.length; i++) {
            if (!validChar(label[i])) revert InvalidLabel();
        }
    }

    /** `prefix` then 1-62 valid characters. */
    function validKey(bytes calldata label, bytes1 prefix) private pure {
        if (label.length < 2 || label[0] != prefix) revert InvalidLabel();
        if (label.length > 63) revert LabelTooLong();
        for (uint256 i = 1; i < label.length; i++) {
            if (!validChar(label[i])) revert InvalidLabel();
        }
    }

    function validChar(bytes1 c) private pure returns (bool) {
        return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2d;
    }
}
