/** Talking to a running node's local endpoints, with errors that say what to do. */
import { UsageError } from "./flags.ts";

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
    throw new UsageError(
      `no node answers on port ${port}: start one with \`deno task node -p ${port}\`, or pass -p PORT`,
    );
  }
  const text = await resp.text();
  try {
    return { status: resp.status, json: JSON.parse(text) };
  } catch {
    throw new UsageError(`port ${port} answered with something that is not a hyperdeno node (HTTP ${resp.status})`);
  }
}
