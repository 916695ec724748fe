/**
 * What one process may hold of the node's memory through the kernel. Each
 * limit turns a flood into a clear refusal to the offender, with a line in
 * the log, instead of a node that grows until the OS kills it. The numbers
 * leave honest work (file transfer moves 1 MiB chunks; the pipelined
 * benchmark keeps 20k requests in flight) far below them.
 */
export const LIMITS = {
  /** A message body (the request or response itself; bulk data goes in the blob). */
  bodyBytes: 16 * 2 ** 20,
  /** A blob: also the largest VFS read the kernel hands a process in one piece. */
  blobBytes: 256 * 2 ** 20,
  /**
   * Blob bytes the kernel keeps for one process instead of delivering them
   * (a process that only passes bulk data on, asking for that): past this,
   * blobs are delivered as usual.
   */
  withheldBlobBytes: 128 * 2 ** 20,
  /** Messages delivered to a process and not yet taken by it. */
  unreadMessages: 65_536,
  /** Bytes (bodies and blobs) delivered to a process and not yet taken by it. */
  unreadBytes: 512 * 2 ** 20,
  /** Bytes of requests a process awaits answers to (the kernel keeps them for SendError). */
  pendingBytes: 256 * 2 ** 20,
  /** Requests a process awaits answers to. */
  pendingRequests: 200_000,
  /** Processes one package may run at once (spawned children included). */
  processesPerPackage: 64,
  /** An HTTP response body http-client:distro:sys reads for a process (it answers with it as the blob). */
  httpResponseBytes: 64 * 2 ** 20,
  /** Response bytes http-client holds at once for all of one process's requests in flight. */
  httpBufferedBytes: 256 * 2 ** 20,
  /** HTTP requests one process has in flight through http-client at once. */
  httpRequestsInFlight: 64,
  /** WebSocket client channels one process holds open through http-client. */
  wsClientChannels: 64,
} as const;

/** A limit reached: the offender is told in one line what to do. */
export class LimitReached extends Error {
  override name = "LimitReached";
}
