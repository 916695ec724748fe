/**
 * tester:tester:sys — runs test packages (the book's tester). run-tests loads
 * each test's code into /tester:sys/tests/<name>.js and what its manifest
 * asks for into capabilities.json, then sends Run. On the first node of the
 * test, each test process is started with what it asked for, sent the Run,
 * and awaited; the first failure (or timeout) is the answer, else Ok. Other
 * nodes answer Ok at once: the first node's tests reach them over the network.
 */
import {
  awaitMessage,
  type Capability,
  KERNEL,
  type Message,
  moduleAddress,
  our,
  println,
  Request,
  Response,
  SendError,
  VFS,
} from "@hyperdeno/process_lib";
import type { FailResponse, RunRequest, TesterRequest, TesterResponse } from "../api/tester:sys-v0.ts";

const TESTS = "/tester:sys/tests";

interface Asked {
  request_networking?: boolean;
  request_capabilities?: (string | { process: string; params: unknown })[];
  grant_capabilities?: (string | { process: string; params: unknown })[];
}

async function kernel(command: unknown): Promise<unknown> {
  return (await Request.to(moduleAddress(our().node, KERNEL)).json(command).sendAndAwaitResponse(10)).json();
}

async function vfs(path: string, action: unknown): Promise<Message> {
  return await Request.to(moduleAddress(our().node, VFS)).json({ path, action }).sendAndAwaitResponse(10);
}

/** What each test package's manifest asked for, by test name. */
async function askedFor(): Promise<Record<string, Asked>> {
  const r = (await vfs(`${TESTS}/capabilities.json`, "ReadToString")).json<{ ReadToString?: string }>();
  return r.ReadToString ? JSON.parse(r.ReadToString) : {};
}

function capsFor(node: string, asked: Asked): Capability[] {
  const caps: Capability[] = (asked.request_capabilities ?? []).map((c) =>
    typeof c === "string"
      ? { issuer: `${node}@${c}`, params: '"messaging"' }
      : { issuer: `${node}@${c.process}`, params: JSON.stringify(c.params) }
  );
  if (asked.request_networking) caps.push({ issuer: moduleAddress(node, KERNEL), params: '"network"' });
  return caps;
}

/** Runs one test process; null when it passed, else why not. */
async function runOne(name: string, asked: Asked, run: RunRequest): Promise<FailResponse | null> {
  const node = our().node;
  // A test is named by its folder (kit's tests have names like chat_test); a process name is a-z, 0-9 and -.
  const id = `${name.toLowerCase().replace(/[^a-z0-9-]/g, "-")}-${
    Math.floor(Math.random() * 1e9).toString(36)
  }:tester:sys`;
  const failed = (file: string): FailResponse => ({ test: name, file, line: 0, column: 0 });
  const init = await kernel({
    InitializeProcess: {
      id,
      wasm_bytes_handle: `tester:sys/tests/${name}.js`,
      wit_version: 1,
      on_exit: "None",
      initial_capabilities: capsFor(node, asked),
      public: false,
    },
  });
  if (init !== "InitializedProcess") return failed(`could not start ${name}: ${JSON.stringify(init)}`);
  for (const g of asked.grant_capabilities ?? []) {
    const [target, params] = typeof g === "string" ? [g, '"messaging"'] : [g.process, JSON.stringify(g.params)];
    Request.to(moduleAddress(node, KERNEL)).json({
      GrantCapabilities: { target, capabilities: [{ issuer: `${node}@${id}`, params }] },
    }).send();
  }
  if (await kernel({ RunProcess: id }) !== "StartedProcess") return failed(`could not run ${name}`);
  try {
    const answer = (await Request.to(`${node}@${id}`).json({ Run: run } satisfies TesterRequest)
      .sendAndAwaitResponse(run.test_timeout)).json<TesterResponse>();
    if (answer === "Pass" || (typeof answer === "object" && "Run" in answer && "Ok" in answer.Run)) return null;
    if (typeof answer === "object" && "Run" in answer && "Err" in answer.Run) return answer.Run.Err;
    if (typeof answer === "object" && "Fail" in answer) return answer.Fail;
    return failed(`answered ${JSON.stringify(answer)}, not Ok or Err`);
  } catch (e) {
    if (e instanceof SendError) {
      return failed(e.kind === "Timeout" ? `no answer within ${run.test_timeout} s` : "exited without answering");
    }
    return failed((e as Error).message);
  } finally {
    kernel({ KillProcess: id }).catch(() => {});
  }
}

async function handle(msg: Message) {
  const { Run: run } = msg.json<TesterRequest>();
  if (!run || !Array.isArray(run.input_node_names) || !Array.isArray(run.test_names)) {
    throw new Error(`expected {"Run": {"input_node_names", "test_names", "test_timeout"}}, got ${msg.text()}`);
  }
  const reply = (r: TesterResponse) => Response.to(msg).json(r).send();
  if (our().node !== run.input_node_names[0]) return reply({ Run: { Ok: null } });
  const asked = await askedFor();
  for (const name of run.test_names) {
    println(`tester: running ${name}`);
    const failure = await runOne(name, asked[name] ?? {}, run);
    if (failure) {
      println(`tester: ${name} FAILED: ${failure.file}:${failure.line}:${failure.column}`);
      return reply({ Run: { Err: failure } });
    }
    println(`tester: ${name} passed`);
  }
  reply({ Run: { Ok: null } });
}

export default async function init(_our: string) {
  await vfs(TESTS, "CreateDrive");
  while (true) {
    let msg: Message;
    try {
      msg = await awaitMessage();
    } catch (e) {
      println(`tester: ${(e as Error).message}`);
      continue;
    }
    // Only our own node (run-tests, through the local endpoint) starts tests.
    if (!msg.isRequest() || msg.source.node !== our().node) continue;
    try {
      await handle(msg);
    } catch (e) {
      println(`tester: ${(e as Error).message}`);
      Response.to(msg).json({ Run: { Err: { test: "tester", file: (e as Error).message, line: 0, column: 0 } } })
        .send();
    }
  }
}
