/**
 * Blobs kept in the kernel (Request.keepBlobInKernel, blobOf, fetchBlob,
 * releaseBlob) and the VFS's positional reads and writes (ReadAt, WriteAt,
 * the running SHA-256), through real processes in process hosts, as an app
 * uses them and as a hostile one misuses them.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "./assert.ts";
import { injectJson, type TestNode, waitFor, withNode as withPackages } from "../runtime/testing.ts";
import { FIXTURES } from "./helpers.ts";

const KEEPER = "keeper:kept:test.os";
const withNode = (f: (n: TestNode) => Promise<void>) => withPackages([`${FIXTURES}kept`], f);

Deno.test("kept blobs: a file copied read by read through the kernel, its bytes never in the process", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, KEEPER, "roundtrip", 60);
    const infos = r.infos as { size: number; inKernel: boolean }[];
    assertEquals(infos.length, 5);
    assert(infos.slice(0, 4).every((i) => i.size === 256 * 1024 && i.inKernel), JSON.stringify(infos));
    // The last read is 123 bytes: small blobs always come along.
    assertEquals(infos[4], { mime: null, size: 123, inKernel: false } as unknown);
    assert(String(r.blobError).startsWith("BlobInKernel"), String(r.blobError));
    assertEquals(r.isBlobInKernel, true);
    assertEquals(r.fetchedOk, true);
    assert(String(r.twice).includes("passed on or released already"), String(r.twice));
    assertEquals(r.src, r.want);
    assertEquals(r.dst, r.want);
    assertEquals(r.dstLen, 1024 * 1024 + 123);
    assertEquals(r.readPast, 0);
    assertEquals(r.tail, r.wantTail);
  }));

Deno.test("vfs: the SHA-256 of a file written out of order, or changed after WriteAt, is the file's", () =>
  withNode(async (n) => {
    assertEquals(await injectJson(n, KEEPER, "outOfOrder", 60), { first: true, second: true });
  }));

Deno.test("vfs: the SHA-256 of a file read in order by ReadAt is the file's, even once changed on disk by someone else", () =>
  withNode(async (n) => {
    assertEquals(await injectJson(n, KEEPER, "readInOrder", 60), { inOrder: true, changed: true });
    assertEquals(await injectJson(n, KEEPER, "readSent", 60), { read: true });
    // Changed outside the node, same length: only its modification time tells.
    const host = `${n.opts.home}/vfs/kept:test.os/data/sent.bin`;
    await new Promise((r) => setTimeout(r, 20));
    const bytes = await Deno.readFile(host);
    bytes[500] ^= 0xff;
    await Deno.writeFile(host, bytes);
    const want = createHash("sha256").update(bytes).digest("hex");
    assertEquals(await injectJson(n, KEEPER, "hashSent", 60), want);
  }));

Deno.test("vfs: WriteAt far past the end, at negative or fractional offsets, with no bytes, or in another's drive is refused", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, KEEPER, "positionalAbuse", 60);
    const bad = (v: unknown) => JSON.stringify(v);
    assert(bad(r.farPast).includes("past the end") && bad(r.farPast).includes("write in order"), bad(r.farPast));
    assert(bad(r.huge).includes("BadRequest"), bad(r.huge));
    assert(bad(r.negative).includes("WriteAt needs {offset}"), bad(r.negative));
    assert(bad(r.fraction).includes("ReadAt needs {offset, length}"), bad(r.fraction));
    assertEquals(r.noBlob, { Err: { BadBytes: { action: "WriteAt", path: "/kept:test.os/data/abuse.bin" } } });
    assert(bad(r.tooLong).includes("read it in chunks"), bad(r.tooLong));
    assert(bad(r.otherDrive).includes("NoCap"), bad(r.otherDrive));
    assertEquals(r.len, 1000);
    assertEquals(r.intact, true);
  }));

Deno.test("kept blobs: a process asking the kernel to keep 200 MiB gets 128 MiB kept and the rest handed over", () =>
  withNode(async (n) => {
    const r = await injectJson<Record<string, unknown>>(n, KEEPER, "hoard", 120);
    assertEquals(r, { kept: 128, delivered: 72, keptAfterRelease: true, smallInKernel: false });
    await waitFor("the kernel to log the limit", () => n.lines.some((l) => l.includes("the most one process may")));
  }));

Deno.test("kept blobs: another process naming a kept blob's id is refused, nothing is written, the owner still has it", () =>
  withNode(async (n) => {
    const r = await injectJson<{ stolen: Record<string, unknown>; ours: boolean }>(n, KEEPER, "theft", 60);
    assertEquals(r.stolen, { outcome: "SendError Offline", written: null });
    assertEquals(r.ours, true);
    assert(n.lines.some((l) => l.includes("the kernel keeps no blob of message")), n.lines.join("\n"));
  }));
