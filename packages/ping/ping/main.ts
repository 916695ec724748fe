/**
 * ping:ping:template.os — answers "ping" with "pong" and counts the pings it
 * has answered in its process state, so the count survives restarts.
 *
 *   m -a 5 our@ping:ping:template.os '"ping"'    → "pong"
 *   m -a 5 our@ping:ping:template.os '"count"'   → {"count":1}   (the pings answered so far: one, above)
 */
import { getState, println, requests, Response, setState } from "@hyperdeno/process_lib";

const te = new TextEncoder();
const td = new TextDecoder();

export default async function init(_our: string) {
  const saved = getState();
  let count = saved ? Number(td.decode(saved)) || 0 : 0;
  println(`ready, ${count} pings answered so far`);

  for await (const msg of requests()) {
    let body: unknown;
    try {
      body = msg.json();
    } catch {
      Response.new().json({ Err: `expected JSON "ping" or "count", got ${msg.text().slice(0, 40)}` }).send();
      continue;
    }
    if (body === "ping") {
      count++;
      setState(te.encode(String(count)));
      Response.new().json("pong").send();
    } else if (body === "count") {
      Response.new().json({ count }).send();
    } else {
      Response.new().json({ Err: `expected "ping" or "count"` }).send();
    }
  }
}
