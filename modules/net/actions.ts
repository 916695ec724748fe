/**
 * The book's NetAction API, and the "hello" protocol. Actions arrive as
 * MessagePack (as the book says) or, typed at a terminal, as JSON; the
 * answer uses the same encoding. Only local processes may ask for peers,
 * diagnostics or signatures; only runtime modules may update the registry;
 * only our routers may send a ConnectionRequest, which is answered Accepted
 * or Rejected within 5 s.
 */
import { sign, verify } from "../../runtime/keys.ts";
import { concat } from "../../runtime/bytes.ts";
import { fromUtf8, jsonBytes, type KernelMessage, nodeOf, processOf, toBytes, utf8 } from "../../runtime/types.ts";
import { isRuntimeProcess } from "../../runtime/api/processes.ts";
import type { NetModule } from "./mod.ts";
import { decodeNetBody } from "./wire.ts";
import { parseVariant } from "../../runtime/api/variant.ts";
import {
  decodeNetAction,
  encodeNetResponse,
  type Identity,
  type NetAction,
  type NetResponse,
} from "../../runtime/api/net.ts";

const HELLO_MAX = 4096;
/** What the reference answers a hello with. */
const ACK = utf8("ack");

function parse(body: Uint8Array): { value: unknown; json: boolean } | null {
  try {
    const v = decodeNetBody(body);
    if (typeof v !== "number") return { value: v, json: false };
  } catch { /* maybe JSON */ }
  try {
    return { value: JSON.parse(fromUtf8(body)), json: true };
  } catch {
    return null;
  }
}

function identity(net: NetModule, name: string): Identity | null {
  const id = net.hns.get(name);
  if (!id) return null;
  return {
    name: id.name,
    networking_key: `0x${id.public_key}`,
    routing: id.routers.length ? { Routers: id.routers } : { Direct: { ip: id.ips[0] ?? "", ports: id.ports } },
  };
}

type Reply = (v: NetResponse) => void;

/**
 * A request from another node. As in the reference, only a MessagePack
 * NetAction counts as one: a ConnectionRequest from one of our routers is
 * served, registry updates and ConnectionRequests from anyone else are
 * refused (no answer), and anything else is a hello.
 */
function remoteRequest(
  net: NetModule,
  km: KernelMessage,
  req: { body: Uint8Array; expects_response: number | null },
  reply: Reply,
) {
  const node = nodeOf(km.source);
  let wire: unknown;
  try {
    wire = decodeNetBody(req.body);
  } catch { /* a hello */ }
  const [name, arg] = (!Array.isArray(wire) && parseVariant(wire)) || [null, undefined];
  const refuse = (why: string) =>
    net.k.print(1, `net: refused ${name} from ${node}: ${why}`, { source: node, kind: `remote ${name}` });
  if (name === "ConnectionRequest" && typeof arg === "string") {
    if (!net.indirect) return refuse("we are a direct node and need no router");
    if (!net.opts.routers.includes(node)) return refuse("it is not one of our routers");
    net.peers.acceptThroughRouter(node, arg).then(
      () => reply({ Accepted: arg }),
      (e) => {
        net.k.print(1, `net: could not take ${arg}'s connection through ${node}: ${e.message}`);
        reply({ Rejected: arg });
      },
    );
    return;
  }
  if (name === "HnsUpdate" || name === "HnsBatchUpdate") return refuse("the registry is updated from the chain only");
  // The hello protocol: anything else from another node is shown as text, escaped by the
  // console, under the sender's name on every line, and collapsed if the node floods.
  const text = fromUtf8(req.body.subarray(0, HELLO_MAX)) + (req.body.length > HELLO_MAX ? " …" : "");
  net.k.print(0, text, { source: node, kind: "hello", label: node, bold: true });
  if (req.expects_response !== null) net.k.respond(km, ACK);
}

export function handleNetAction(net: NetModule, km: KernelMessage) {
  const req = (km.message as { Request: { body: Uint8Array; expects_response: number | null } }).Request;
  const parsed = parse(req.body);
  const local = nodeOf(km.source) === net.k.our;
  const [name] = (!Array.isArray(parsed?.value) && parseVariant(parsed?.value)) || [null, undefined];
  const reply = (v: NetResponse, blob: Uint8Array | null = null) => {
    if (req.expects_response === null) return;
    net.k.respond(km, parsed?.json ? jsonBytes(v) : encodeNetResponse(v), blob ? { mime: null, bytes: blob } : null);
  };

  if (!local) return remoteRequest(net, km, req, reply);

  let action: NetAction;
  try {
    action = decodeNetAction(parsed?.value);
  } catch (e) {
    net.k.print(1, `net: ${km.source} sent something that is no NetAction: ${(e as Error).message}`);
    return;
  }
  try {
    if (typeof action === "string") {
      if (action === "GetPeers") {
        return reply({
          Peers: net.peers.all().map((l) => identity(net, l.peer)).filter((i): i is Identity => Boolean(i)),
        });
      }
      if (action === "GetDiagnostics") return reply({ Diagnostics: net.diagnostics() });
      const payload = km.lazy_load_blob?.bytes ?? new Uint8Array();
      return reply("Signed", sign(net.opts.keys, concat(utf8(km.source), payload)));
    }
    if ("GetPeer" in action) return reply({ Peer: identity(net, action.GetPeer) });
    if ("Verify" in action) {
      const { from, signature } = action.Verify;
      const key = net.keyOf(nodeOf(from));
      const payload = km.lazy_load_blob?.bytes ?? new Uint8Array();
      let ok = false;
      try {
        ok = !!key && verify(key, concat(utf8(from), payload), toBytes(signature, "signature"));
      } catch { /* malformed signature */ }
      return reply({ Verified: ok });
    }
    if ("HnsUpdate" in action || "HnsBatchUpdate" in action) {
      if (!isRuntimeProcess(processOf(km.source))) {
        net.k.print(
          0,
          `net: refused ${Object.keys(action)[0]} from ${km.source}: only runtime modules update the registry`,
        );
        return;
      }
      for (const u of "HnsUpdate" in action ? [action.HnsUpdate] : action.HnsBatchUpdate) net.hnsUpdate(u);
      return;
    }
    net.k.print(1, `net: ${km.source} sent ${Object.keys(action)[0]}, which only other nodes send`);
  } catch (e) {
    net.k.print(0, `net: bad ${name} from ${km.source}: ${(e as Error).message}`);
  }
}
