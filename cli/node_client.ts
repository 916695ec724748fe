/** Talking to a running node's local endpoints, with errors that say what to do. */
import { UsageError } from "./flags.ts";

/** Nothing listens on `port`: say how to start a node there or pick another. */
export function noNode(port: number): UsageError {
  return new UsageError(
    `no node answers on port ${port}: start one with \`hyperdeno boot-fake-node -p ${port}\`, or pass -p PORT`,
  );
}

export async function postToNode(
  port: number,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  let resp: Response;
  try {
    resp = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw noNode(port);
  }
  const text = await resp.text();
  try {
    return { status: resp.status, json: JSON.parse(text) };
  } catch {
    throw new UsageError(`port ${port} answered with something that is not a hyperdeno node (HTTP ${resp.status})`);
  }
}

/** Sends `request` (as JSON) to `process` on the node at `port` and returns its JSON answer and blob (base64). */
export async function askNode(
  port: number,
  process: string,
  request: unknown,
): Promise<{ body: Record<string, unknown>; blob: string | null }> {
  const { status, json } = await postToNode(port, "/rpc:distro:sys/message", {
    process,
    node: null,
    body: JSON.stringify(request),
    blob: null,
    expects_response: 15,
  });
  if (status !== 200) throw new UsageError(`the node on port ${port} did not answer ${process}: ${json.error}`);
  return { body: JSON.parse(String(json.body)), blob: (json.blob as string | null) ?? null };
}
