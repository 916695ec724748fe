/**
 * Which IP addresses are local: this machine, private and link-local
 * networks, and the ranges that are no single host on the internet. An
 * IPv6 address that carries an IPv4 one (IPv4-mapped, NAT64, 6to4, Teredo)
 * is judged by the IPv4 address it leads to. Text that is no IP address is
 * judged local too: what cannot be checked is not called.
 *
 * Documentation ranges (TEST-NET-1/2/3, 2001:db8::/32) are not on this list:
 * they are routed nowhere, so no request to one reaches a host.
 */

/** A range: its first bytes, its prefix length, and what it is, for the refusal's reason. */
interface Range {
  bytes: number[];
  bits: number;
  name: string;
}

const range = (cidr: string, name: string): Range => {
  const [text, bits] = cidr.split("/");
  return { bytes: [...parseIp(text)!], bits: Number(bits), name: `${name} (${cidr})` };
};

const V4_LOCAL: Range[] = [
  range("0.0.0.0/8", "an unspecified ('this network') address"),
  range("10.0.0.0/8", "a private address"),
  range("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
  range("127.0.0.0/8", "a loopback address"),
  range("169.254.0.0/16", "a link-local address (where cloud metadata services answer)"),
  range("172.16.0.0/12", "a private address"),
  range("192.0.0.0/24", "an IETF protocol assignment"),
  range("192.168.0.0/16", "a private address"),
  range("198.18.0.0/15", "a benchmarking address"),
  range("224.0.0.0/4", "a multicast address"),
  range("255.255.255.255/32", "the broadcast address"),
  range("240.0.0.0/4", "a reserved address"),
];

const V6_LOCAL: Range[] = [
  range("::/128", "the unspecified address"),
  range("::1/128", "the loopback address"),
  range("::/96", "an IPv4-compatible address (deprecated)"),
  range("64:ff9b:1::/48", "a local-use NAT64 address"),
  range("100::/64", "a discard-only address"),
  range("fc00::/7", "a unique local (private) address"),
  range("fe80::/10", "a link-local address"),
  range("fec0::/10", "a site-local address (deprecated)"),
  range("ff00::/8", "a multicast address"),
];

/** IPv6 ranges that carry an IPv4 address: where it sits (byte offset), and whether its bits are inverted. */
const V6_CARRIERS: { range: Range; at: number; inverted?: boolean }[] = [
  { range: range("::ffff:0:0/96", "an IPv4-mapped address"), at: 12 },
  { range: range("::ffff:0:0:0/96", "an IPv4-translated address"), at: 12 },
  { range: range("64:ff9b::/96", "a NAT64 address"), at: 12 },
  { range: range("2002::/16", "a 6to4 address"), at: 2 },
  // Teredo: the server's IPv4 address, then the client's, inverted.
  { range: range("2001::/32", "a Teredo address"), at: 4 },
  { range: range("2001::/32", "a Teredo address"), at: 12, inverted: true },
];

/**
 * What kind of local address `text` is (a line for the refusal), or null for
 * an address on the internet. `text` is an address as a resolver or a URL
 * gives it: dotted IPv4, or IPv6 with or without brackets.
 */
export function localRange(text: string): string | null {
  const ip = parseIp(text);
  if (!ip) return `${text} is no IP address`;
  if (ip.length === 4) return matching(ip, V4_LOCAL);
  for (const { range, at, inverted } of V6_CARRIERS) {
    if (!within(ip, range)) continue;
    const v4 = ip.slice(at, at + 4).map((b) => inverted ? b ^ 0xff : b);
    const inner = matching(v4, V4_LOCAL);
    if (inner) return `${range.name} of ${formatV4(v4)}, ${inner}`;
  }
  return matching(ip, V6_LOCAL);
}

/**
 * Whether `text` is a loopback or unspecified address, IPv4-mapped, translated
 * or compatible forms included: where a connection to this machine's own
 * listeners comes from.
 */
export function isLoopbackOrUnspecified(text: string): boolean {
  const ip = parseIp(text);
  if (!ip) return false;
  if (ip.length === 4) return ip[0] === 127 || ip[0] === 0;
  const zeros = (n: number) => ip.slice(0, n).every((b) => b === 0);
  if (zeros(15) && ip[15] <= 1) return true; // :: and ::1
  const mapped = zeros(10) && ip[10] === 0xff && ip[11] === 0xff;
  const translated = zeros(8) && ip[8] === 0xff && ip[9] === 0xff && ip[10] === 0 && ip[11] === 0;
  return (mapped || translated || zeros(12)) && isLoopbackOrUnspecified(formatV4(ip.slice(12)));
}

function matching(ip: Uint8Array, ranges: Range[]): string | null {
  return ranges.find((r) => within(ip, r))?.name ?? null;
}

function within(ip: Uint8Array, r: Range): boolean {
  if (ip.length !== (r.bytes.length)) return false;
  for (let bit = 0; bit < r.bits; bit += 8) {
    const mask = r.bits - bit >= 8 ? 0xff : (0xff << (8 - (r.bits - bit))) & 0xff;
    if ((ip[bit / 8] & mask) !== (r.bytes[bit / 8] & mask)) return false;
  }
  return true;
}

const formatV4 = (b: Uint8Array) => [...b].join(".");

/**
 * The bytes of an IP address (4 or 16), or null. IPv4 is the dotted quad a
 * resolver answers (URL spellings such as 127.1 or 0x7f.0.0.1 reach here
 * already normalised by the URL parser); IPv6 may be bracketed, compressed
 * (::) and end in a dotted quad. Zone ids are refused.
 */
export function parseIp(text: string): Uint8Array | null {
  const t = text.replace(/^\[(.*)\]$/, "$1");
  return t.includes(":") ? parseV6(t) : parseV4(t);
}

function parseV4(t: string): Uint8Array | null {
  const parts = t.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255)) return null;
  return Uint8Array.from(parts.map(Number));
}

function parseV6(t: string): Uint8Array | null {
  const halves = t.split("::");
  if (halves.length > 2) return null;
  const groups = (s: string): number[] | null => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseV4(p);
        if (!v4) return null;
        out.push(v4[0] << 8 | v4[1], v4[2] << 8 | v4[3]);
      } else if (/^[0-9a-f]{1,4}$/i.test(p)) out.push(parseInt(p, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => (out[2 * i] = g >> 8, out[2 * i + 1] = g & 0xff));
  return out;
}
