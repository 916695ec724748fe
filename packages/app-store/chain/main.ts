/**
 * chain:app-store:sys — the App Store's view of Hypermap, as the reference's chain process: it follows the
 * ~metadata-uri and ~metadata-hash notes under `<package>.<publisher>` entries (follow.ts), fetches and verifies
 * each app's metadata, keeps the list in SQLite across restarts, and answers the wit's ChainRequest (api/chain.ts)
 * from processes of this node. Requests from other nodes, and bodies that are no ChainRequest, get a typed error;
 * the process keeps running.
 */
import { type Message, our, printToTerminal, requests, Response } from "@hyperdeno/process_lib";
import type { ChainRequest, ChainResponse, PackageId } from "../api/chain.ts";
import { Follower } from "./follow.ts";
import { Store } from "./store.ts";

/** Milliseconds between looks at the chain's head once caught up. */
const POLL_MS = 1000;

function packageIdOf(v: unknown): PackageId | null {
  const p = v as PackageId;
  if (!p || typeof p !== "object" || typeof p.package_name !== "string" || typeof p.publisher_node !== "string") {
    return null;
  }
  return { package_name: p.package_name, publisher_node: p.publisher_node };
}

function parseRequest(msg: Message): ChainRequest | null {
  let v: unknown;
  try {
    v = msg.json();
  } catch {
    return null;
  }
  if (v === "GetApps" || v === "GetOurApps" || v === "Reset" || v === "GetUnlisted" || v === "GetStatus") return v;
  if (!v || typeof v !== "object" || Array.isArray(v) || Object.keys(v).length !== 1) return null;
  const [name, arg] = Object.entries(v)[0];
  const p = packageIdOf(arg);
  if (!p) return null;
  if (name === "GetApp") return { GetApp: p };
  if (name === "StartAutoUpdate") return { StartAutoUpdate: p };
  if (name === "StopAutoUpdate") return { StopAutoUpdate: p };
  return null;
}

async function answer(store: Store, follower: Follower, req: ChainRequest): Promise<ChainResponse> {
  if (req === "GetApps") return { GetApps: await store.list() };
  if (req === "GetOurApps") {
    const node = our().node;
    return { GetOurApps: (await store.list()).filter((a) => a.package_id.publisher_node === node) };
  }
  if (req === "GetUnlisted") return { GetUnlisted: await store.unlisted() };
  if (req === "GetStatus") {
    return {
      GetStatus: {
        chain_id: follower.eth.chainId || null,
        last_block: follower.lastBlock,
        listed: await store.count("listings"),
        unlisted: await store.count("unlisted"),
      },
    };
  }
  if (req === "Reset") {
    follower.reset();
    return "ResetOk";
  }
  if ("GetApp" in req) return { GetApp: (await store.list(req.GetApp))[0] ?? null };
  const [p, on] = "StartAutoUpdate" in req ? [req.StartAutoUpdate, true] : [req.StopAutoUpdate, false];
  if (!(await store.list(p)).length) return { Err: "NoPackage" };
  await store.setAutoUpdate(p, on);
  return on ? "AutoUpdateStarted" : "AutoUpdateStopped";
}

export default async function init(_our: string) {
  const store = await Store.open();
  const follower = new Follower(store, POLL_MS);
  follower.run();
  const me = our().node;
  for await (const msg of requests((e) => printToTerminal(1, `app-store chain: ${e.message}`))) {
    const reply = (r: ChainResponse) => {
      if (msg.expectsResponse() !== null) Response.to(msg).json(r).send();
    };
    // The index is this node's own business: other nodes ask their own chain process.
    if (msg.source.node !== me) continue;
    const req = parseRequest(msg);
    if (!req) {
      reply({ Err: "MalformedRequest" });
      continue;
    }
    try {
      reply(await answer(store, follower, req));
    } catch (e) {
      printToTerminal(0, `app-store chain: ${JSON.stringify(req)} failed: ${(e as Error).message}`);
      reply({ Err: "MalformedRequest" });
    }
  }
}
