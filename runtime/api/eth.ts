/**
 * eth:distro:sys: the book's ETH Provider API (JSON, externally tagged as serde does). A process sends an
 * EthAction and hears an EthResponse; a log subscription's logs arrive as Requests from eth:distro:sys whose body
 * is an EthSubResult.
 */

export type SubscriptionKind = "newHeads" | "logs" | "newPendingTransactions" | "syncing";

export type EthAction =
  | { SubscribeLogs: { sub_id: number; chain_id: number; kind: SubscriptionKind; params: unknown } }
  | { UnsubscribeLogs: number }
  | { Request: { chain_id: number; method: string; params: unknown } };

export type EthError =
  | { RpcError: unknown }
  | "MalformedRequest"
  | "NoRpcForChain"
  | { SubscriptionClosed: number }
  | { InvalidMethod: string }
  | "InvalidParams"
  | "PermissionDenied"
  | "RpcTimeout"
  | "RpcMalformedResponse";

/** "Ok" (a subscription made or closed), a JSON-RPC result, or the error. */
export type EthResponse = "Ok" | { Response: unknown } | { Err: EthError };

/** What a subscriber receives for each log (`result` is the raw log object), or the subscription's error. */
export type EthSubResult = { Ok: { id: number; result: unknown } } | { Err: { id: number; error: string } };

/** The JSON-RPC methods a process may call (Hyperdrive's list, less eth_subscribe: use SubscribeLogs). */
export const ETH_METHODS = new Set([
  "eth_getBalance",
  "eth_sendRawTransaction",
  "eth_call",
  "eth_chainId",
  "eth_getTransactionReceipt",
  "eth_getTransactionCount",
  "eth_estimateGas",
  "eth_blockNumber",
  "eth_getBlockByHash",
  "eth_getBlockByNumber",
  "eth_getTransactionByHash",
  "eth_getCode",
  "eth_getStorageAt",
  "eth_gasPrice",
  "eth_accounts",
  "eth_hashrate",
  "eth_getLogs",
]);
