/** `inject-message`: sends a message into a running node and prints the response (as `kit inject-message`). */
import { decodeBase64, encodeBase64 } from "../runtime/bytes.ts";
import { type CommandSpec, parseFlags, portFlag, UsageError } from "./flags.ts";
import { postToNode } from "./node_client.ts";

export const spec: CommandSpec = {
  name: "inject-message",
  summary: "Inject a message to a running node",
  usage: "deno task inject-message [OPTIONS] <PROCESS> <BODY_JSON>",
  positionals: [
    { name: "<PROCESS>", help: "PROCESS to send message to", required: true },
    { name: "<BODY_JSON>", help: "Body in JSON format", required: true },
  ],
  flags: [
    { long: "port", short: "p", default: "8080", value: "NODE_PORT", help: "localhost node port" },
    { long: "node", short: "n", value: "NODE_NAME", help: "Node ID (default: our)" },
    { long: "blob", short: "b", value: "PATH", help: "Send file at Unix path as bytes blob" },
    { long: "non-block", short: "l", bool: true, help: "If set, don't block on the full node response" },
    { long: "timeout", short: "t", default: "15", value: "SECONDS", help: "Seconds to wait for the response" },
  ],
};

export async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags(spec, argv);
  const port = portFlag(flags.port);
  const [process, body] = positionals;
  try {
    JSON.parse(body);
  } catch (e) {
    throw new UsageError(
      `BODY_JSON is not JSON (${(e as Error).message}); quote it for the shell, e.g. '"ping"' or '{"a": 1}'`,
    );
  }
  let blob: string | null = null;
  if (flags.blob) {
    try {
      blob = encodeBase64(Deno.readFileSync(String(flags.blob)));
    } catch (e) {
      throw new UsageError(`cannot read --blob ${flags.blob}: ${(e as Error).message}`);
    }
  }
  const timeout = Number(flags.timeout);
  if (!(timeout > 0)) throw new UsageError("--timeout must be a number of seconds");
  const { status, json } = await postToNode(port, "/rpc:distro:sys/message", {
    process,
    node: flags.node ?? null,
    body,
    blob,
    expects_response: flags["non-block"] ? null : timeout,
  });
  if (status !== 200) {
    const e = json.error;
    console.error(
      e === "Offline"
        ? `inject-message: ${json.target} is offline or not running (is the package started? see \`top\` in the node's terminal)`
        : e === "Timeout"
        ? `inject-message: no response from ${json.target} within ${timeout} s`
        : `inject-message: ${e}`,
    );
    return 1;
  }
  if (flags["non-block"]) return 0;
  console.log(json.body);
  if (json.blob) console.log(`(blob: ${decodeBase64(String(json.blob)).length} bytes)`);
  return 0;
}
