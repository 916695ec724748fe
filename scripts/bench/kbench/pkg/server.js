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
  isLocal(our) {
    const node = typeof our === "string" ? our.includes("@") ? our.split("@")[0] : our : our.node;
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
async function awaitMessage() {
  const item = await nextIncoming();
  if (item.kind === "err") throw new SendError(item.error, item.context);
  current.prompt = item.km;
  current.blob = item.km.lazy_load_blob;
  current.blobFrom = item.km.id;
  return new Message(item.km, item.context);
}

// scripts/bench/kbench/server/main.ts
async function init(_our) {
  while (true) {
    const msg = await awaitMessage().catch(() => null);
    if (msg?.isRequest()) Response.new().body(msg.body()).inherit(true).send();
  }
}
export { init as default };
