// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Create2} from "@openzeppelin/contracts/utils/Create2.sol";
import {Addresses} from "./Addresses.sol";
import {HyperAccountProxy} from "./HyperAccountProxy.sol";

interface IERC6551Registry {
    function createAccount(address implementation, bytes32 salt, uint256 chainId, address tokenContract, uint256 tokenId)
        external
        returns (address);
}

/**
 * Hypermap as the reference deploys it, written here from its public ABI, events and observed behaviour: a tree of
 * entries, each an ERC-721 token (token id = the entry's namehash) with an ERC-6551 token-bound account (TBA) that
 * its owner acts through. Only an entry's TBA mints under it or writes its notes, facts and gene; a mint creates the
 * child's account with the ERC-6551 registry (implementation: the child's account proxy, salt and token id: its
 * namehash), sets the account's implementation, runs the initialization as the new account while Hypermap still
 * holds the token, then hands the token to its owner. The read path (get, tbaOf, leaf, the Mint/Note/Fact/Gene/Zero
 * events and their topics) is the reference's, so its indexers read this one unchanged.
 *
 * A name's account proxy: where the reference keeps it when this chain has code there (the dev chain's setup puts
 * our proxy at the root's and `os`'s, so their accounts land at the reference's addresses, `.os` at
 * 0x9b3853358ede717fc7D4806cF75d7A4d4517A9C9), else our own, made here with CREATE2 (salt = the namehash).
 *
 * Left out: upgrades, roles, token URIs. Installed behind an ERC-1967 proxy with anvil_setCode, so no constructor
 * runs: initialize(admin) creates the root, once.
 */
contract Hypermap is ERC721 {
    struct Entry {
        address tba;
        address gene;
        bytes data;
    }

    event Mint(bytes32 indexed parenthash, bytes32 indexed childhash, bytes indexed labelhash, bytes label);
    event Note(bytes32 indexed parenthash, bytes32 indexed notehash, bytes indexed labelhash, bytes label, bytes data);
    event Fact(bytes32 indexed parenthash, bytes32 indexed facthash, bytes indexed labelhash, bytes label, bytes data);
    event Gene(bytes32 indexed entry, address indexed gene);
    event Zero(address indexed zeroTba);

    error NotParent();
    error NameAlreadyExists();
    error InvalidLabel();
    error LabelTooLong();
    error EmptyFact();
    error FactAlreadyExists();
    error GeneAlreadySet();
    error AlreadyInitialized();

    mapping(bytes32 => Entry) private entries;
    mapping(address => bytes32) private entryOfTba;
    bool private initialized;

    constructor() ERC721("", "") {}

    function name() public pure override returns (string memory) {
        return "Hypermap";
    }

    function symbol() public pure override returns (string memory) {
        return "HYPERMAP";
    }

    function ERC6551_REGISTRY() external pure returns (address) {
        return Addresses.ERC6551_REGISTRY;
    }

    /** Creates the root entry (hash 0) owned by `admin`, with a HyperAccount; as the reference, no Mint for it. */
    function initialize(address admin) external {
        if (initialized) revert AlreadyInitialized();
        initialized = true;
        address tba = createAccount(bytes32(0));
        _mint(admin, 0);
        HyperAccountProxy(payable(tba)).initialize(Addresses.HYPER_ACCOUNT, "");
        emit Zero(tba);
    }

    function mint(address to, bytes calldata label, bytes calldata initialization, address implementation)
        external
        returns (address tba)
    {
        bytes32 parent = callerEntry();
        validName(label);
        bytes32 child = leaf(parent, label);
        if (entries[child].tba != address(0)) revert NameAlreadyExists();
        // Mint first, before anything the initialization writes: indexers rely on the order.
        emit Mint(parent, child, label, label);
        address gene = entries[parent].gene;
        if (gene != address(0)) {
            implementation = gene;
            entries[child].gene = gene;
        }
        tba = createAccount(child);
        _mint(address(this), uint256(child));
        HyperAccountProxy(payable(tba)).initialize(implementation, initialization);
        _transfer(address(this), to, uint256(child));
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

    /** The caller's entry gives its descendants `_gene` as their account implementation, once. */
    function gene(address _gene) external {
        bytes32 entry = callerEntry();
        if (entries[entry].gene != address(0)) revert GeneAlreadySet();
        entries[entry].gene = _gene;
        emit Gene(entry, _gene);
    }

    /** A name: (its TBA, its owner, empty); a note or fact: (0, 0, its bytes); nothing: (0, 0, empty). */
    function get(bytes32 namehash) external view returns (address tba, address owner, bytes memory data) {
        Entry storage e = entries[namehash];
        tba = e.tba;
        data = e.data;
        if (tba != address(0)) owner = _ownerOf(uint256(namehash));
    }

    function map(bytes32 namehash) external view returns (address tba, address _gene, bytes memory data) {
        Entry storage e = entries[namehash];
        return (e.tba, e.gene, e.data);
    }

    function tbaOf(bytes32 entry) external view returns (address) {
        return entries[entry].tba;
    }

    function leaf(bytes32 parenthash, bytes calldata label) public pure returns (bytes32) {
        return keccak256(abi.encodePacked(parenthash, keccak256(label)));
    }

    /** The entry's ERC-6551 account, created and recorded (its implementation is set by the caller). */
    function createAccount(bytes32 entry) private returns (address tba) {
        address proxy = Create2.computeAddress(entry, Addresses.REFERENCE_ACCOUNT_PROXY_INIT_HASH);
        if (proxy.code.length == 0) proxy = address(new HyperAccountProxy{salt: entry}());
        tba = IERC6551Registry(Addresses.ERC6551_REGISTRY).createAccount(
            proxy, entry, block.chainid, address(this), uint256(entry)
        );
        entries[entry].tba = tba;
        entryOfTba[tba] = entry;
    }

    /** The entry whose TBA is calling: the parent of what it mints or writes. */
    function callerEntry() private view returns (bytes32 entry) {
        entry = entryOfTba[msg.sender];
        if (entries[entry].tba != msg.sender) revert NotParent();
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
