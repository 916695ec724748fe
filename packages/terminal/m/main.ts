/**
 * m:terminal:sys — message a process.
 * `m [-a SECONDS] <ADDRESS> <BODY>`; with -a it awaits the response and prints it.
 */
import { Request, script, SendError, splitArgs } from "@hyperdeno/process_lib";

const USAGE = `Usage: m [-a SECONDS] <ADDRESS> <BODY>
  <ADDRESS> e.g. some-node.os@process:pkg:publisher.os (our@... for this node)
  <BODY>    payload, usually JSON in single quotes, e.g. '{"foo": "bar"}'
  -a, --await <SECONDS>  await the response, timing out after SECONDS`;

export default script(async (our, line) => {
  let args: string[];
  try {
    args = splitArgs(line);
  } catch (e) {
    return `m: ${(e as Error).message}\n${USAGE}`;
  }
  let awaitSeconds: number | null = null;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "-a" || args[i] === "--await") {
      awaitSeconds = Number(args[++i]);
      if (!Number.isFinite(awaitSeconds) || awaitSeconds <= 0) return `m: -a needs a number of seconds\n${USAGE}`;
    } else if (args[i] === "-h" || args[i] === "--help") return USAGE;
    else rest.push(args[i]);
  }
  if (rest.length < 2) return `m: need an address and a body\n${USAGE}`;
  const [rawAddress, ...bodyParts] = rest;
  const address = rawAddress.startsWith("our@") ? `${our.node}${rawAddress.slice(3)}` : rawAddress;
  const at = address.indexOf("@");
  if (at < 1 || address.slice(at + 1).split(":").length !== 3) {
    return `m: "${rawAddress}" is not an address like node@process:package:publisher`;
  }
  const body = bodyParts.join(" ");
  const req = Request.to(address).body(body);
  if (awaitSeconds === null) {
    req.send();
    return "";
  }
  try {
    const resp = await req.sendAndAwaitResponse(awaitSeconds);
    const blob = resp.blob();
    const text = resp.text() || `(empty response from ${address})`;
    return text + (blob ? `\n(blob: ${blob.bytes.length} bytes${blob.mime ? `, ${blob.mime}` : ""})` : "");
  } catch (e) {
    if (e instanceof SendError) {
      return e.kind === "Timeout"
        ? `m: no response from ${address} within ${awaitSeconds} s`
        : `m: ${address} is offline or not running (check the name with top, or the node with hi)`;
    }
    throw e;
  }
});
