/**
 * The many-downloads benchmark's baseline server (transfer_many.ts): serves
 * the files under DIR over plain HTTP on 127.0.0.1:PORT, streamed from disk,
 * as a bare file server does. It prints "listening" once it accepts.
 *
 *   deno run --allow-read=DIR --allow-net=127.0.0.1 scripts/bench/file_server.ts DIR PORT
 */
const [dir, port] = Deno.args;
Deno.serve({ hostname: "127.0.0.1", port: Number(port), onListen: () => console.log("listening") }, async (req) => {
  const name = decodeURIComponent(new URL(req.url).pathname.slice(1));
  if (name.includes("..")) return new Response("no", { status: 400 });
  try {
    const f = await Deno.open(`${dir}/${name}`);
    return new Response(f.readable);
  } catch {
    return new Response("not found", { status: 404 });
  }
});
