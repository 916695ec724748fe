/**
 * Issue 18, point 3, for addresses that are not this machine's: the cloud
 * metadata service (169.254.169.254, fd00:ec2::254), a redirect from a
 * server on the internet to loopback, a DNS name that rebinds to loopback,
 * and TLS through the pinned connection. Nothing may be sent off the
 * machine, so it all runs in a network namespace of its own (unshare, as
 * root) where those addresses are on lo: tests/httpc_netns_probe.ts sets it
 * up, boots a node with tests/fixtures/httpc_app and reports what each
 * request got and what each server saw.
 */
import { assert, assertEquals } from "./assert.ts";
import { buildPackage } from "../runtime/packages/build.ts";
import { FIXTURES } from "./helpers.ts";

const canUnshare = await new Deno.Command("unshare", { args: ["--net", "--mount", "true"], stderr: "null" }).output()
  .then((o) => o.success, () => false);

interface Got {
  status?: number;
  body?: string;
  location?: string;
  opened?: boolean;
  err?: string;
  why?: string;
}

/** Makes a CA and a certificate for public.test signed by it, in `dir`. */
async function makeCertificates(dir: string) {
  const openssl = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", { args, cwd: dir, stderr: "piped" }).output();
    if (!out.success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=test CA");
  await openssl("req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=public.test");
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:public.test\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
  );
  await openssl(
    "x509",
    ...["-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2"],
    ...["-out", "cert.pem", "-extfile", "ext.cnf"],
  );
}

Deno.test({
  name: "http-client: metadata, a redirect to loopback and a rebinding name are refused, in a namespace of their own",
  ignore: !canUnshare, // needs root (CAP_SYS_ADMIN) for unshare --net
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "hyperdeno-netns-" });
    try {
      await makeCertificates(dir);
      await buildPackage(`${FIXTURES}httpc_app`, { onlyIfStale: true }); // the namespace has no registry to fetch from
      const probe = new URL("./httpc_netns_probe.ts", import.meta.url).pathname;
      const out = await new Deno.Command("unshare", {
        args: [
          ...["--net", "--mount", Deno.execPath(), "run", "--unstable-worker-options"],
          ...["--v8-flags=--expose-gc,--max-semi-space-size=2", "-A", probe, dir],
        ],
        env: { DENO_CERT: `${dir}/ca.pem`, DENO_NO_UPDATE_CHECK: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      assert(out.success, `the probe failed: ${text}\n${new TextDecoder().decode(out.stderr)}`);
      const r = JSON.parse(text.trim().split("\n").at(-1)!) as Record<string, Got & Got[]> & {
        hits: Record<string, string[]>;
      };
      const refused = (key: string, why: RegExp) => {
        assertEquals(r[key]?.err, "AddressRefused", `${key}: ${JSON.stringify(r[key])}`);
        assert(why.test(r[key].why!), `${key}: ${r[key].why}`);
        assert(r[key].why!.includes('"params":"local-network"'), r[key].why);
      };

      // The metadata service, by address, IPv6, mapped, decimal, a DNS name and WebSocket: nothing reaches it.
      refused("boxed http://169.254.169.254/latest/meta-data/", /link-local/);
      refused("boxed http://[fd00:ec2::254]/latest/meta-data/", /unique local/);
      refused("boxed http://[::ffff:169.254.169.254]/", /IPv4-mapped.*169\.254\.169\.254/);
      refused("boxed http://2852039166/", /link-local/);
      refused("boxed http://metadata.test/latest/meta-data/", /metadata\.test resolves to it/);
      refused("boxed ws://169.254.169.254/ws", /link-local/);
      assertEquals(r.hits.metadata, [], "the metadata service heard nothing");

      // A public address is allowed, by address and by name.
      assertEquals([r["boxed public address"].body, r["boxed public name"].body], ["public", "public"]);

      // Redirects come back to the process, and the hop it takes next is checked again.
      assertEquals(r["boxed redirect hop 1"].status, 302);
      refused("boxed redirect hop 2", /loopback/);
      assertEquals(r["boxed to-metadata hop 1"].location, "http://169.254.169.254/latest/meta-data/");
      refused("boxed to-metadata hop 2", /link-local/);
      assertEquals(r["client redirect hop 2"].body, "secret", "local-network lets that hop through");
      assertEquals(r.hits.secret, ["/secret"], "only the process holding local-network reached loopback");

      // rebind.test answers public once, then loopback: the request went where the check looked, the next was refused.
      assertEquals(r["boxed rebind"][0].body, "public", JSON.stringify(r["boxed rebind"]));
      assertEquals(r["boxed rebind"][1].err, "AddressRefused", JSON.stringify(r["boxed rebind"]));
      assertEquals(r.hits.loopback, [], "no request reached the loopback server");

      // TLS through the pinned connection still verifies the certificate against the URL's host.
      assertEquals(r["boxed https name"].body, "public over tls");
      assert(
        /not valid for name "wrong\.test"/.test(r["boxed https wrong name"].why!),
        r["boxed https wrong name"].why,
      );
      assert(/not valid for name "203\.0\.113\.7"/.test(r["boxed https address"].why!), r["boxed https address"].why);
      assertEquals(r["boxed wss name"].opened, true);
      assertEquals(r["boxed wss wrong name"].err, "WsOpenFailed");
      assertEquals(r.hits.publicTls, ["/", "/ws"], "wrong.test's TLS handshakes failed before any request");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
