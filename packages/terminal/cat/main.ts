/** cat:terminal:sys — `cat <FILE_PATH>` prints a file from the VFS. */
import { moduleAddress, Request, script, splitArgs, VFS } from "@hyperdeno/process_lib";

export default script(async (our, line) => {
  const [path] = splitArgs(line);
  if (!path) return "Usage: cat <FILE_PATH>\n  e.g. cat terminal:sys/pkg/scripts.json";
  const resp = await Request.to(moduleAddress(our.node, VFS))
    .json({ path: path.startsWith("/") ? path : `/${path}`, action: "ReadToString" })
    .sendAndAwaitResponse(10);
  const r = resp.json<{ ReadToString?: string; Err?: Record<string, unknown> }>();
  if (r.ReadToString !== undefined) return r.ReadToString;
  return `cat: ${path}: ${JSON.stringify(r.Err)}`;
});
