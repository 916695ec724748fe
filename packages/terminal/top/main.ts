/** top:terminal:sys — `top [PROCESS_ID]`: what runs on this node. */
import { KERNEL, moduleAddress, NET, type ProcessStatus, Request, script, splitArgs } from "@hyperdeno/process_lib";

interface Entry {
  runtime_module?: boolean;
  script?: boolean;
  on_exit?: unknown;
  public?: boolean;
  capabilities?: { issuer: string; params: string }[];
  status?: ProcessStatus;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function state(e: Entry): string {
  const st = e.status;
  if (e.runtime_module) return "runtime";
  if (!st) return "?";
  if (st.running) return `up ${duration(st.uptime_ms ?? 0)}`;
  if (st.next_restart_ms !== null) return `restart in ${duration(st.next_restart_ms)}`;
  return "stopped";
}

function onExit(v: unknown): string {
  return typeof v === "string" ? v : v ? "Requests" : "-";
}

export default script(async (our, line) => {
  const [only] = splitArgs(line);
  if (only === "-h" || only === "--help") {
    return "Usage: top [PROCESS_ID]\n  top alone lists processes; with an id, one in detail";
  }
  const kernel = moduleAddress(our.node, KERNEL);
  const body = only ? { Debug: { Process: only } } : { Debug: "ProcessMap" };
  const resp = (await Request.to(kernel).json(body).sendAndAwaitResponse(5)).json<
    { Debug: { ProcessMap?: Record<string, Entry>; Process?: Entry | null } }
  >();
  if (only) {
    const e = resp.Debug.Process;
    if (!e) return `top: no process ${only}`;
    const caps = (e.capabilities ?? []).map((c) => `    ${c.issuer} ${c.params}`).join("\n");
    const st = e.status!;
    return [
      `${only}`,
      `  state:      ${state(e)}`,
      `  on_exit:    ${onExit(e.on_exit)}`,
      `  public:     ${e.public}`,
      `  restarts:   ${st.restarts}`,
      `  messages:   ${st.messages_in} in, ${st.messages_out} out`,
      st.last_error ? `  last error: ${st.last_error.split("\n")[0]}` : "",
      `  capabilities (${e.capabilities?.length ?? 0}):`,
      caps,
    ].filter(Boolean).join("\n");
  }
  const map = resp.Debug.ProcessMap ?? {};
  const all = Object.keys(map).sort();
  const modules = all.filter((id) => map[id].runtime_module);
  // Scripts are short-lived (this very top is one): counted, not listed.
  const scripts = all.filter((id) => map[id].script);
  const ids = all.filter((id) => !map[id].runtime_module && !map[id].script);
  const running = ids.filter((id) => map[id].status?.running).length;
  const w = Math.max(10, ...ids.map((id) => id.length));
  const rows = [
    `${ids.length} processes (${running} running)${
      scripts.length > 1 ? `, ${scripts.length - 1} other script${scripts.length === 2 ? "" : "s"} running` : ""
    }; runtime modules: ${modules.map((m) => m.replace(/:distro:sys$/, "")).join(", ")}`,
    `${"PROCESS".padEnd(w)}  ${"STATE".padEnd(16)} ${"ON_EXIT".padEnd(8)} ${
      "PUBLIC".padEnd(6)
    } CAPS  RESTARTS  MSGS IN/OUT`,
  ];
  for (const id of ids) {
    const e = map[id];
    const st = e.status!;
    rows.push(
      `${id.padEnd(w)}  ${state(e).padEnd(16)} ${onExit(e.on_exit).padEnd(8)} ${String(e.public).padEnd(6)} ${
        String(e.capabilities?.length ?? 0).padStart(4)
      }  ${String(st.restarts).padStart(8)}  ${st.messages_in}/${st.messages_out}` +
        (st.last_error && !st.running ? `\n${" ".repeat(w + 2)}last error: ${st.last_error.split("\n")[0]}` : ""),
    );
  }
  // Networking: who we are linked to (absent on a node without networking).
  try {
    const net = await Request.to(moduleAddress(our.node, NET)).json("GetDiagnostics").sendAndAwaitResponse(2);
    rows.push(net.json<{ Diagnostics: string }>().Diagnostics);
  } catch { /* no networking */ }
  return rows.join("\n");
});
