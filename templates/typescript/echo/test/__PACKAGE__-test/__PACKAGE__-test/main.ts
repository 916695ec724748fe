/** __PACKAGE__-test: what it sends to the echo process comes back unchanged, text and JSON alike. */
import { type Message, our, Request } from "@hyperdeno/process_lib";
import { ECHO_PROCESS } from "@api/__PACKAGE__:__PUBLISHER__";
import { fail, pass, testMain } from "./tester_lib.ts";

const TEST = "__PACKAGE__-test";

async function test(run: Message, nodes: string[]) {
  const me = our().node;
  if (me !== nodes[0]) return pass(run);
  for (const body of ["hello", '{"a": [1, 2, 3]}', ""]) {
    const back = await Request.to(`${me}@${ECHO_PROCESS}`).body(body).sendAndAwaitResponse(5);
    if (back.text() !== body) {
      return fail(run, TEST, `sent ${JSON.stringify(body)}, got ${JSON.stringify(back.text())}`);
    }
  }
  pass(run);
}

export default testMain(TEST, test);
