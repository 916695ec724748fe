// runtime/types.ts
function nodeOf(a) {
  return a.slice(0, a.indexOf("@"));
}
function processOf(a) {
  return a.slice(a.indexOf("@") + 1);
}
var encoder = new TextEncoder();
var decoder = new TextDecoder();
var utf8 = (s) => encoder.encode(s);
var fromUtf8 = (b) => decoder.decode(b);
function randomId() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return (a[0] & 2097151) * 4294967296 + a[1];
}

// runtime/process_lib/message.ts
var ProcessAddress = class _ProcessAddress {
  node;
  process;
  constructor(node, process) {
    this.node = node;
    this.process = process;
  }
  static parse(a) {
    return new _ProcessAddress(nodeOf(a), processOf(a));
  }
  /** `pkg:publisher` */
  packageId() {
    return this.process.split(":").slice(1).join(":");
  }
  processName() {
    return this.process.split(":")[0];
  }
  toString() {
    return `${this.node}@${this.process}`;
  }
  toJSON() {
    return this.toString();
  }
};
var Message = class {
  km;
  context;
  source;
  constructor(km, context) {
    this.km = km;
    this.context = context;
    this.source = ProcessAddress.parse(km.source);
  }
  isRequest() {
    return "Request" in this.km.message;
  }
  isResponse() {
    return "Response" in this.km.message;
  }
  /** Whether the message came from a process on this node. */
  isLocal(our2) {
    const node = typeof our2 === "string" ? our2.includes("@") ? our2.split("@")[0] : our2 : our2.node;
    return this.source.node === node;
  }
  /** The timeout the sender set, in seconds, or null when it expects no response. */
  expectsResponse() {
    const m = this.km.message;
    return "Request" in m ? m.Request.expects_response : null;
  }
  inner() {
    const m = this.km.message;
    return "Request" in m ? m.Request : m.Response[0];
  }
  body() {
    return this.inner().body;
  }
  text() {
    return fromUtf8(this.inner().body);
  }
  /** The body parsed as JSON; throws a SyntaxError naming the source when it is not. */
  json() {
    try {
      return JSON.parse(this.text());
    } catch (e) {
      throw new SyntaxError(`body from ${this.source} is not JSON: ${e.message}`);
    }
  }
  metadata() {
    return this.inner().metadata;
  }
  capabilities() {
    return this.inner().capabilities;
  }
  /** This message's own blob (getBlob() gives the one received last). */
  blob() {
    return this.km.lazy_load_blob;
  }
  id() {
    return this.km.id;
  }
};
var SendError = class extends Error {
  error;
  context;
  name;
  kind;
  target;
  constructor(error, context) {
    super(
      `${error.kind}: message to ${error.target} ${error.kind === "Offline" ? "could not be delivered" : "timed out"}`,
    ),
      this.error = error,
      this.context = context,
      this.name = "SendError";
    this.kind = error.kind;
    this.target = ProcessAddress.parse(error.target);
  }
  /** The body of the original message. */
  body() {
    const m = this.error.message;
    return "Request" in m ? m.Request.body : m.Response[0].body;
  }
};

// runtime/host/protocol.ts
var HOST_KEY = Symbol.for("hyperdeno.host");

// runtime/queue.ts
var Queue = class {
  items = [];
  head = 0;
  get length() {
    return this.items.length - this.head;
  }
  push(v) {
    this.items.push(v);
  }
  shift() {
    if (this.head >= this.items.length) return void 0;
    const v = this.items[this.head];
    this.items[this.head++] = void 0;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
};

// runtime/process_lib/port.ts
function hostPort() {
  const port = globalThis[HOST_KEY];
  if (!port) throw new Error("process_lib runs only inside a hyperdeno process");
  return port;
}
var inbox = new Queue();
var inboxWaiters = new Queue();
var awaiting = /* @__PURE__ */ new Map();
var calls = /* @__PURE__ */ new Map();
var nextCall = 1;
var connected = false;
var current = {
  prompt: null,
  /** The blob of the message received last, by awaitMessage or an awaited response. */
  blob: null,
  blobFrom: null,
};
function deliver(m) {
  if (m.t === "reply") {
    const w2 = calls.get(m.call);
    calls.delete(m.call);
    if (m.ok) w2?.resolve(m.value);
    else w2?.reject(new Error(String(m.value)));
    return;
  }
  if (m.t === "init") return;
  const item = m.t === "msg"
    ? {
      kind: "msg",
      km: m.km,
      context: m.context,
    }
    : {
      kind: "err",
      id: m.id,
      error: m.error,
      context: m.context,
    };
  const id = item.kind === "msg" ? item.km.id : item.id;
  const isResponse = item.kind === "err" || "Response" in item.km.message;
  const w = isResponse ? awaiting.get(id) : void 0;
  if (w) {
    awaiting.delete(id);
    w.resolve(item);
    return;
  }
  const next = inboxWaiters.shift();
  if (next) next.resolve(item);
  else inbox.push(item);
}
function connect() {
  const port = hostPort();
  if (!connected) {
    connected = true;
    port.deliver = deliver;
    port.backlog = () => inbox.length;
    for (const m of port.buffered.splice(0)) deliver(m);
  }
  return port;
}
function post(m) {
  connect().post(m);
}
function nextIncoming() {
  connect();
  const item = inbox.shift();
  if (item) return Promise.resolve(item);
  return new Promise((resolve, reject) =>
    inboxWaiters.push({
      resolve,
      reject,
    })
  );
}
function awaitResponse(id) {
  return new Promise((resolve, reject) =>
    awaiting.set(id, {
      resolve,
      reject,
    })
  );
}
function call(name, args) {
  const id = nextCall++;
  const p = new Promise((resolve, reject) =>
    calls.set(id, {
      resolve,
      reject,
    })
  );
  post({
    t: "call",
    call: id,
    name,
    args,
  });
  return p;
}

// runtime/process_lib/builders.ts
var toBody = (b) => typeof b === "string" ? utf8(b) : b;
var Builder = class {
  _body = null;
  _metadata = null;
  _blob = null;
  _inherit = false;
  _caps = [];
  /** Bytes, or a string sent as UTF-8 (a JSON text stays a JSON text). */
  body(b) {
    this._body = toBody(b);
    return this;
  }
  /** Sugar for `.body(JSON.stringify(v))`. */
  json(v) {
    return this.body(JSON.stringify(v));
  }
  metadata(m) {
    this._metadata = m;
    return this;
  }
  blob(b) {
    this._blob = b;
    return this;
  }
  blobBytes(bytes, mime = null) {
    return this.blob({
      mime,
      bytes,
    });
  }
  inherit(on) {
    this._inherit = on;
    return this;
  }
  capabilities(caps) {
    this._caps = caps;
    return this;
  }
  attachCapability(cap) {
    this._caps.push(cap);
    return this;
  }
  blobFrom() {
    return this._inherit && !this._blob ? current.blobFrom : null;
  }
};
var Request = class _Request extends Builder {
  _target = null;
  _expects = null;
  _context = null;
  static new() {
    return new _Request();
  }
  static to(target) {
    return new _Request().target(target);
  }
  target(t) {
    this._target = String(t);
    return this;
  }
  /** Expect a response within `seconds`; otherwise a Timeout SendError comes back. */
  expectsResponse(seconds) {
    this._expects = seconds;
    return this;
  }
  context(c) {
    this._context = toBody(c);
    return this;
  }
  build() {
    if (!this._target) throw new Error("Request has no target: use Request.to(address)");
    if (!this._body) throw new Error("Request has no body: use .body(...)");
    return {
      id: randomId(),
      target: this._target,
      request: {
        inherit: this._inherit,
        expects_response: this._expects,
        body: this._body,
        metadata: this._metadata,
        capabilities: this._caps,
      },
    };
  }
  post(id, target, request) {
    post({
      t: "send",
      id,
      target,
      message: {
        Request: request,
      },
      blob: this._blob,
      prompt: this._inherit ? current.prompt?.id ?? null : null,
      blobFrom: this.blobFrom(),
      context: this._context,
    });
  }
  send() {
    const { id, target, request } = this.build();
    this.post(id, target, request);
  }
  /**
   * Sends and waits for the matching response; other messages stay queued
   * for awaitMessage. Rejects with a SendError on Offline or Timeout.
   */
  async sendAndAwaitResponse(seconds) {
    this._expects = seconds;
    const { id, target, request } = this.build();
    const reply = awaitResponse(id);
    this.post(id, target, request);
    const item = await reply;
    if (item.kind === "err") throw new SendError(item.error, item.context);
    current.blob = item.km.lazy_load_blob;
    current.blobFrom = item.km.id;
    return new Message(item.km, item.context);
  }
};
var Response = class _Response extends Builder {
  _prompt = null;
  static new() {
    return new _Response();
  }
  /**
   * A response to `request` in particular. The book's Response answers the
   * message received last; an async process juggling several requests names
   * the one it answers.
   */
  static to(request) {
    const r = new _Response();
    r._prompt = request.km;
    return r;
  }
  /** Answers the message awaitMessage returned last, or the one given to Response.to. */
  send() {
    if (!this._body) throw new Error("Response has no body: use .body(...)");
    const prompt = this._prompt ?? current.prompt;
    if (!prompt) throw new Error("Response.send() has no request to answer: call awaitMessage() first");
    post({
      t: "send",
      id: prompt.id,
      target: prompt.rsvp ?? prompt.source,
      message: {
        Response: [
          {
            inherit: this._inherit,
            body: this._body,
            metadata: this._metadata,
            capabilities: this._caps,
          },
          null,
        ],
      },
      blob: this._blob,
      prompt: prompt.id,
      blobFrom: this.blobFrom(),
    });
  }
};

// runtime/process_lib/mod.ts
function our() {
  return ProcessAddress.parse(connect().init.our);
}
async function awaitMessage() {
  const item = await nextIncoming();
  if (item.kind === "err") throw new SendError(item.error, item.context);
  current.prompt = item.km;
  current.blob = item.km.lazy_load_blob;
  current.blobFrom = item.km.id;
  return new Message(item.km, item.context);
}
function spawn(name, wasmPath, onExit, requestCapabilities, grantCapabilities, isPublic) {
  const args = {
    name,
    wasm_path: wasmPath,
    on_exit: onExit,
    request_capabilities: requestCapabilities,
    grant_capabilities: grantCapabilities,
    public: isPublic,
  };
  return call("spawn", args);
}

// scripts/bench/kbench/client/main.ts
var body = new TextEncoder().encode("ping");
async function pipelined(target, n, blobBytes) {
  const blob = blobBytes ? new Uint8Array(blobBytes) : null;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = Request.to(target).body(body).expectsResponse(60);
    if (blob) r.blobBytes(blob);
    r.send();
  }
  for (let got = 0; got < n;) {
    const m = await awaitMessage();
    if (m.isResponse()) got++;
  }
  return performance.now() - t0;
}
async function pingPong(target, n) {
  const times = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await Request.to(target).body(body).sendAndAwaitResponse(60);
    times.push(performance.now() - t0);
  }
  return times;
}
async function spawnTimes(n, keep) {
  const times = [];
  const ids = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const id = await spawn(null, `${our().packageId()}/pkg/idle.js`, "None", [], [], false);
    let up;
    do up = await awaitMessage(); while (up.text() !== "up");
    times.push(performance.now() - t0);
    ids.push(id);
    if (!keep) {
      await Request.to(`${our().node}@kernel:distro:sys`).json({
        KillProcess: id,
      }).sendAndAwaitResponse(5).catch(() => {
      });
    }
  }
  return {
    times,
    ids,
  };
}
async function init(_our) {
  while (true) {
    const msg = await awaitMessage().catch(() => null);
    if (!msg?.isRequest()) continue;
    const cmd = msg.json();
    const [name, a] = Object.entries(cmd)[0];
    const target = a.target ?? `${our().node}@server:kbench:bench.os`;
    let result;
    if (name === "Pipelined") {
      result = {
        ms: await pipelined(target, a.n, a.blob ?? 0),
      };
    } else if (name === "PingPong") {
      result = {
        times: await pingPong(target, a.n),
      };
    } else if (name === "Spawn") result = await spawnTimes(a.n, Boolean(a.keep));
    Response.to(msg).json(result).send();
  }
}
export { init as default };
