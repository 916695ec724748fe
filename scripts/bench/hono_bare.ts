/**
 * The HTTP benchmark's baseline: a bare Hono app on Deno.serve, what an app
 * would be without a node around it. /hello answers at once; a WebSocket on
 * /ws that sends "N" gets N messages back. Prints "listening PORT".
 */
import { Hono } from "hono";

const app = new Hono();
app.get("/hello", (c) => c.text("hello"));
app.get("/ws", (c) => {
  const { socket, response } = Deno.upgradeWebSocket(c.req.raw);
  socket.onmessage = (e) => {
    for (let i = 0, n = Number(e.data); i < n; i++) socket.send("m");
  };
  return response;
});
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, app.fetch);
