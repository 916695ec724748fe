/**
 * __PACKAGE__: kit's blank template. One process that starts, says so, and does nothing else: the place to begin
 * your own (the book's chess tutorial starts here). It takes no requests: make it `public` (and give it
 * `request_networking`) in pkg/manifest.json when other processes or nodes should reach it.
 */
import { println, requests } from "@hyperdeno/process_lib";

export default async function init(our: string) {
  println(`${our}: started`);
  // Waiting here keeps the process running; answer what arrives once it has something to do.
  for await (const _msg of requests()) {
    // nothing yet
  }
}
