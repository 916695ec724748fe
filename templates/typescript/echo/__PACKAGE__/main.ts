/** __PACKAGE__: answers every request with its own body (and blob), and prints what it got. */
import { println, requests, Response } from "@hyperdeno/process_lib";

export default async function init(_our: string) {
  for await (const msg of requests()) {
    println(`got ${msg.text()} from ${msg.source}`);
    Response.to(msg).body(msg.body()).inherit(true).send();
  }
}
