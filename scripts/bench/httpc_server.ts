/**
 * The server the http-client benchmark calls, in a process of its own so
 * the node and the baseline share neither its thread nor each other's:
 * /small answers "ok", /mib one MiB, /ws echoes each message. Prints its
 * port, then serves until killed.
 */
const MIB = new Uint8Array(2 ** 20).fill(7);
const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
  const path = new URL(req.url).pathname;
  if (path === "/ws") {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  }
  return new Response(path === "/mib" ? MIB : "ok");
});
console.log(server.addr.port);
