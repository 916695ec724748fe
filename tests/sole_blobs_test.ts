/**
 * The kernel's early release of blob buffers (runtime/kernel/sole_blobs.ts): only a buffer its producer marked sole,
 * only once answered by another node or by vfs, never one a local process was given. (The transfers that use it are
 * checked end to end, SHA-256 and all, by the Kino Files and kept-blob tests.)
 */
import { assert, assertEquals } from "./assert.ts";
import { answered, isSole, markSole, sent, unansweredRequest } from "../runtime/kernel/sole_blobs.ts";
import type { KernelMessage } from "../runtime/types.ts";
import { soleBlob } from "../modules/net/mod.ts";

/** Ids of its own for each request: the module remembers ids its targets have not answered (sole_blobs.ts). */
let ids = 0n;
const request = (target: string, bytes: Uint8Array): KernelMessage => ({
  id: ++ids,
  source: "our.dev@worker:app:pub.os",
  target,
  rsvp: null,
  message: {
    Request: { inherit: false, expects_response: 5, body: new Uint8Array(), metadata: null, capabilities: [] },
  },
  lazy_load_blob: { mime: null, bytes },
});

/** A response to `request` from `source`. */
const answer = (request: KernelMessage, source: string): KernelMessage => ({
  ...request,
  source,
  target: request.source,
  message: { Response: [{ inherit: false, body: new Uint8Array(), metadata: null, capabilities: [] }, null] },
  lazy_load_blob: null,
});
/** Answers `r` as its target would. */
const byTarget = (r: KernelMessage) => answer(r, r.target);
/** `r` (its blob moved out of the kernel's keeping) answered by its own target. */
const answeredByTarget = (r: KernelMessage) => answered(r, byTarget(r), "our.dev", true);

Deno.test("sole blobs: a marked buffer goes back once another node or vfs has answered, and only then", () => {
  const toPeer = new Uint8Array(1 << 20).fill(1);
  markSole(toPeer);
  assert(isSole(toPeer));
  const r1 = request("peer.dev@worker:app:pub.os", toPeer);
  answered(r1, answer(r1, "other.dev@worker:app:pub.os"), "our.dev", true);
  assertEquals(toPeer.length, 1 << 20, "answered by a node it was not sent to: kept");
  answeredByTarget(r1);
  assertEquals(toPeer.length, 0, "answered by another node: released");
  assert(!isSole(toPeer));

  // A view into a larger buffer (a wire message's blob after its header): the whole buffer goes.
  const message = new Uint8Array((1 << 20) + 100);
  const blob = message.subarray(100);
  markSole(blob);
  const r2 = request("our.dev@vfs:distro:sys", blob);
  // The requester answering its own request (it can: ids match alone) is not vfs saying it is done.
  answered(r2, answer(r2, r2.source), "our.dev", true);
  assertEquals(blob.length, 1 << 20, "answered by the requester itself: kept");
  answeredByTarget(r2);
  assertEquals([blob.length, message.length], [0, 0], "answered by vfs: released");

  const toProcess = new Uint8Array(1 << 20).fill(2);
  markSole(toProcess);
  answeredByTarget(request("our.dev@other:app:pub.os", toProcess));
  assertEquals(toProcess.length, 1 << 20, "a local process may keep what it was given");
  assert(toProcess.every((b) => b === 2));

  const unmarked = new Uint8Array(1 << 20);
  answeredByTarget(request("peer.dev@worker:app:pub.os", unmarked));
  assertEquals(unmarked.length, 1 << 20, "not marked sole: left to V8");

  const small = new Uint8Array(1000);
  markSole(small);
  assert(!isSole(small), "small buffers are never marked");

  // Transferred away already (to a worker, say): nothing to release, and no error.
  const moved = new Uint8Array(1 << 20);
  markSole(moved);
  structuredClone(moved.buffer, { transfer: [moved.buffer] });
  answeredByTarget(request("peer.dev@worker:app:pub.os", moved));
  assertEquals(moved.length, 0);
});

Deno.test("sole blobs: only a kept blob moved into a request awaiting vfs or another node keeps its mark", () => {
  const marked = () => {
    const b = new Uint8Array(1 << 20);
    markSole(b);
    return b;
  };
  const toVfs = marked();
  assert(sent(request("our.dev@vfs:distro:sys", toVfs), true, "our.dev"));
  assert(isSole(toVfs));
  const toPeer = marked();
  assert(sent(request("peer.dev@worker:app:pub.os", toPeer), true, "our.dev"));
  assert(isSole(toPeer));

  // Inherited (the kernel still remembers it for its first holder): sole no more, even later.
  const inherited = marked();
  assert(!sent(request("our.dev@vfs:distro:sys", inherited), false, "our.dev"));
  assert(!isSole(inherited));
  assert(!sent(request("our.dev@vfs:distro:sys", inherited), true, "our.dev"));
  // Given to a local process, which may keep it while this request holds it for a SendError.
  const toProcess = marked();
  assert(!sent(request("our.dev@keeper:app:pub.os", toProcess), true, "our.dev"));
  assert(!isSole(toProcess));
  // Not awaited: nothing says when it is done with.
  const unawaited = marked();
  const fire = request("peer.dev@worker:app:pub.os", unawaited);
  (fire.message as { Request: { expects_response: number | null } }).Request.expects_response = null;
  assert(!sent(fire, true, "our.dev"));
  assert(!isSole(unawaited));
  // In a response.
  const inResponse = marked();
  const response: KernelMessage = {
    ...request("peer.dev@worker:app:pub.os", inResponse),
    message: { Response: [{ inherit: false, body: new Uint8Array(), metadata: null, capabilities: [] }, null] },
  };
  assert(!sent(response, true, "our.dev"));
  assert(!isSole(inResponse));
  // Under the id of a request of the same process that its target has not answered: that answer would match this one.
  const reused = marked();
  const again = { ...request("our.dev@vfs:distro:sys", reused), id: 77n };
  unansweredRequest({ ...request("our.dev@vfs:distro:sys", new Uint8Array(1)), id: 77n }, "our.dev");
  assert(!sent(again, true, "our.dev"));
  assert(!isSole(reused));
  // Another process's unanswered 77 is no matter; nor is an answer from its own target, which takes 78 off the list.
  const other = marked();
  assert(
    sent({ ...request("our.dev@vfs:distro:sys", other), id: 77n, source: "our.dev@other:app:pub.os" }, true, "our.dev"),
  );
  const first = { ...request("our.dev@vfs:distro:sys", new Uint8Array(1)), id: 78n };
  answered(first, answer(first, first.source), "our.dev", false); // the process answered its own request to vfs
  const after = marked();
  assert(!sent({ ...request("our.dev@vfs:distro:sys", after), id: 78n }, true, "our.dev"), "vfs may still answer 78");
});

Deno.test("sole blobs: a message off the wire gets its blob marked only once its body and context no longer share the buffer", () => {
  // As the wire decodes a large message: body, context and blob all views of the one buffer the link opened it into.
  const opened = new Uint8Array(3 << 20).fill(7);
  const body = opened.subarray(0, 1 << 20),
    context = opened.subarray(1 << 20, 2 << 20),
    blob = opened.subarray(2 << 20);
  const req = request("our.dev@worker:app:pub.os", blob);
  (req.message as { Request: { body: Uint8Array } }).Request.body = body;
  soleBlob(req);
  assert(isSole(blob), "the blob is marked");
  const kept = (req.message as { Request: { body: Uint8Array } }).Request.body;
  assert(
    kept.buffer !== opened.buffer && kept.length === body.length && kept[0] === 7,
    "the body has a copy of its own",
  );
  const res: KernelMessage = {
    ...request("our.dev@worker:app:pub.os", opened.subarray(2 << 20)),
    message: {
      Response: [{ inherit: false, body: opened.subarray(0, 10), metadata: null, capabilities: [] }, context],
    },
  };
  soleBlob(res);
  const [inner, ctx] = (res.message as { Response: [{ body: Uint8Array }, Uint8Array] }).Response;
  assert(inner.body.buffer !== opened.buffer && ctx.buffer !== opened.buffer, "the response's body and context too");
  // Releasing the blob's buffer now leaves the copies whole.
  (opened.buffer as ArrayBuffer).transfer(0);
  assertEquals([kept.length, ctx.length, ctx[0]], [1 << 20, 1 << 20, 7]);
});

// Last in this file: it fills the module's record, after which nothing is released early for an hour.
Deno.test("sole blobs: unanswered ids are kept within a bound for the whole node; past it nothing is released early", () => {
  // Processes that end one after another each leave up to 4096 ids: 40 of them would pass the node's 65,536.
  for (let p = 0; p < 40; p++) {
    for (let i = 0; i < 4096; i++) {
      unansweredRequest(
        { ...request("our.dev@vfs:distro:sys", new Uint8Array(1)), source: `our.dev@w${p}:app:pub.os` },
        "our.dev",
      );
    }
  }
  const b = new Uint8Array(1 << 20);
  markSole(b);
  assert(!sent(request("our.dev@vfs:distro:sys", b), true, "our.dev"), "a full record releases nothing early");
});
