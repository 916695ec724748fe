/**
 * Kino Files in a real browser (headless Chromium through playwright-core),
 * on two real nodes: log in on fake.dev, open the app from its home-page
 * tile, upload a file through the page; log in on fake2.dev, look up
 * fake.dev, download the file and a folder, watch the progress arrive over
 * the WebSocket, cancel and retry a large download, see a failed one; the
 * bytes on disk in fake2.dev's drive are the original's.
 */
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "./browser.ts";
import { assert, assertEquals, assertMatch } from "./assert.ts";
import { waitFor } from "../runtime/testing.ts";
import { appLabel } from "../modules/http_server/origins.ts";
import { bootFt, filePath, FT, putFile, randomBytes, sha256 } from "./ft_helpers.ts";

const PASSWORD = "secret"; // bootNet's nodes keep the default

/** A phone-sized page logged in to the node at `base`, on its home page. */
async function logIn(browser: Browser, base: string): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
  await page.goto(`${base}/`);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL(`${base}/`), page.click("button[type=submit]")]);
  return page;
}

async function fitsPhone(page: Page, what: string) {
  assertEquals(await page.evaluate("document.documentElement.scrollWidth > innerWidth"), false, `${what} fits a phone`);
}

Deno.test({
  name: "ftui browser: upload on fake.dev, download on fake2.dev through the page, progress live, cancel and retry",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const net = await bootFt();
    const browser = await launchChromium();
    const tmp = await Deno.makeTempDir({ prefix: "ftui-" });
    try {
      const [a, b] = [net.nodes["fake.dev"], net.nodes["fake2.dev"]];
      for (const n of [a, b]) await waitFor("the web bindings", () => n.http.wsBindings.has(`/${FT}/ws`), 120_000);

      // fake.dev: the home page says what node this is, and its tile opens Kino Files.
      const baseA = `http://localhost:${a.port}`;
      const pa = await logIn(browser, baseA);
      const info = pa.locator("#node-info");
      assertMatch(await info.textContent() ?? "", /Namefake\.devVersionhyperdeno \d+\.\d+\.\d+Peers/);
      await fitsPhone(pa, "the home page");
      const tile = pa.locator(".app", { hasText: "Kino Files" });
      assertEquals(await tile.count(), 1);
      // It opens on Kino Files' own origin, never the node's.
      await Promise.all([pa.waitForURL(`http://${appLabel(FT)}.localhost:${a.port}/${FT}/`), tile.click()]);
      await pa.waitForFunction(`document.getElementById("node").textContent === "fake.dev"`);
      await pa.waitForFunction(`document.getElementById("live").textContent === "live"`);
      assertMatch(await pa.evaluate<string>("getComputedStyle(document.body).fontFamily"), /system-ui/);

      // Upload a few MiB through the file picker; it shows as uploaded and in the list, with a readable size.
      const original = randomBytes(5 * 2 ** 20 + 123) as Uint8Array<ArrayBuffer>;
      await Deno.writeFile(`${tmp}/holiday.mov`, original);
      await pa.setInputFiles("#upload", `${tmp}/holiday.mov`);
      await pa.locator("#toast", { hasText: "Uploaded holiday.mov (5.00 MiB)" }).waitFor({ timeout: 30_000 });
      const row = pa.locator(`#mine .file[data-name="holiday.mov"]`);
      await row.waitFor();
      // Once uploaded it shows once: in the list, not also as an upload row.
      await waitFor("the upload row to go", () => pa.locator(`#uploads .transfer`).count().then((n) => n === 0));
      assertEquals(await pa.locator(`[data-name="holiday.mov"]`).count(), 1);
      assertEquals(await row.locator(".size").textContent(), "5.00 MiB");
      assertEquals(await sha256(await Deno.readFile(filePath(a, "holiday.mov"))), await sha256(original));
      await fitsPhone(pa, "My files");

      // Files fake.dev shares besides: a folder, and a large file to cancel.
      const song1 = randomBytes(300_000) as Uint8Array<ArrayBuffer>;
      const song2 = randomBytes(700_001) as Uint8Array<ArrayBuffer>;
      await putFile(a, "album/one.mp3", song1);
      await putFile(a, "album/two.mp3", song2);
      const huge = filePath(a, "huge.iso");
      await Deno.writeFile(huge, new Uint8Array());
      await Deno.truncate(huge, 1024 * 2 ** 20);

      // fake2.dev: look up fake.dev, download the file through the page.
      const baseB = `http://localhost:${b.port}`;
      const pb = await logIn(browser, baseB);
      await pb.goto(`${baseB}/${FT}/`);
      assertEquals(pb.url(), `http://${appLabel(FT)}.localhost:${b.port}/${FT}/`);
      await pb.waitForFunction(`document.getElementById("live").textContent === "live"`);
      await pb.click(`.tabs button[data-tab="browse"]`);
      // Looking up this node itself: it says so, and offers nothing to download.
      await pb.fill("#peer", "fake2.dev");
      await pb.click(`#lookup button[type=submit]`);
      await pb.locator("#remote-msg", { hasText: "That's this node" }).waitFor();
      assertEquals(await pb.locator("#theirs button.get").count(), 0);
      assert(await pb.locator("#remote-all").isHidden());
      await pb.fill("#peer", "fake.dev");
      await pb.click(`#lookup button[type=submit]`);
      const theirs = pb.locator(`#theirs .file[data-name="holiday.mov"]`);
      await theirs.waitFor();
      assertEquals(await theirs.locator(".size").textContent(), "5.00 MiB");
      await fitsPhone(pb, "Browse a node");
      await theirs.locator("button.get").click();
      await pb.click(`.tabs button[data-tab="transfers"]`);
      const done = pb.locator(`#finished .transfer[data-name="holiday.mov"][data-status="done"]`);
      await done.waitFor({ timeout: 60_000 });
      assertMatch(await done.locator(".meta").textContent() ?? "", /from fake\.dev · 5\.00 MiB/);
      assertEquals(await sha256(await Deno.readFile(filePath(b, "holiday.mov"))), await sha256(original));

      // The same file again: refused at once (it exists here), and the page offers to replace it, which works.
      await Deno.writeTextFile(filePath(b, "holiday.mov"), "my own edit");
      await pb.click(`.tabs button[data-tab="browse"]`);
      await theirs.locator("button.get").click();
      const refused = pb.locator("#toast.bad");
      await refused.waitFor({ timeout: 30_000 });
      // Words for a page, not the terminal's advice; a way to dismiss it.
      assertEquals(await refused.locator(".text").textContent(), "You already have holiday.mov.");
      assert(!/overwrite/.test(await refused.textContent() ?? ""), await refused.textContent() ?? "");
      assertEquals(await refused.locator("button.close").count(), 1);
      assertEquals(await Deno.readTextFile(filePath(b, "holiday.mov")), "my own edit");
      await refused.locator("button.replace").click();
      await pb.click(`.tabs button[data-tab="transfers"]`);
      await waitFor(
        "the replacing download",
        () =>
          pb.locator(`#finished .transfer[data-name="holiday.mov"][data-status="done"]`).count().then((n) => n === 2),
        60_000,
      );
      assertEquals(await sha256(await Deno.readFile(filePath(b, "holiday.mov"))), await sha256(original));

      // A folder: open it, download all of it.
      await pb.click(`.tabs button[data-tab="browse"]`);
      await pb.locator(`#theirs .file[data-name="album"] button.name`).click();
      await pb.locator(`#theirs .file[data-name="album/two.mp3"]`).waitFor();
      assertEquals(await pb.locator("#theirs .file").count(), 2);
      await pb.click("#remote-all");
      await pb.click(`.tabs button[data-tab="transfers"]`);
      for (const n of ["album/one.mp3", "album/two.mp3"]) {
        await pb.locator(`#finished .transfer[data-name="${n}"][data-status="done"]`).waitFor({ timeout: 60_000 });
      }
      assertEquals(await sha256(await Deno.readFile(filePath(b, "album/one.mp3"))), await sha256(song1));
      assertEquals(await sha256(await Deno.readFile(filePath(b, "album/two.mp3"))), await sha256(song2));

      // A large download: progress arrives live (percent, speed, ETA); cancel it, then retry it to the end.
      await pb.click(`.tabs button[data-tab="browse"]`);
      await pb.locator(`#remote-crumbs button`).first().click();
      await pb.locator(`#theirs .file[data-name="huge.iso"] button.get`).click();
      await pb.click(`.tabs button[data-tab="transfers"]`);
      const moving = pb.locator(`#active .transfer[data-name="huge.iso"]`);
      await moving.locator("button.cancel").waitFor();
      await moving.locator("button.cancel").click();
      const cancelled = pb.locator(`#finished .transfer[data-name="huge.iso"][data-status="cancelled"]`);
      await cancelled.waitFor({ timeout: 10_000 });
      assertEquals(await pb.locator(`#active .transfer[data-name="huge.iso"]`).count(), 0);
      // The count on the tab follows what moves.
      assert(await pb.locator("#moving").isHidden());
      // A stale cancelled row (a file of that name came meanwhile): its Retry gets the page's question, not a 400.
      await Deno.writeTextFile(filePath(b, "huge.iso"), "came meanwhile");
      await cancelled.locator("button.retry").click();
      const asked = pb.locator("#toast.bad");
      await asked.locator("button.replace").waitFor({ timeout: 30_000 });
      assertEquals(await asked.locator(".text").textContent(), "You already have huge.iso.");
      await asked.locator("button.replace").click();
      await pb.waitForFunction(
        `[...document.querySelectorAll('#active .transfer[data-name="huge.iso"] .meta')]
          .some((e) => /\\d+% · .* of 1\\.00 GiB · .*\\/s · ETA /.test(e.textContent))`,
        undefined,
        { timeout: 60_000 },
      );
      await pb.locator(`#finished .transfer[data-name="huge.iso"][data-status="done"]`).waitFor({ timeout: 180_000 });
      assertEquals((await Deno.stat(filePath(b, "huge.iso"))).size, 1024 * 2 ** 20);
      // A message left alone goes by itself.
      await pb.locator(`.transfer[data-name="huge.iso"][data-status="cancelled"] button.retry`).click();
      await asked.locator("button.replace").waitFor({ timeout: 30_000 });
      await pb.mouse.move(0, 0); // a pointer resting on it keeps it
      await asked.waitFor({ state: "hidden", timeout: 30_000 });

      // A file fake.dev does not have: said at once, and no transfer row is made for it.
      const status = await pb.evaluate(() =>
        fetch("api/download", { method: "POST", body: JSON.stringify({ node: "fake.dev", name: "gone.bin" }) })
          .then((r) => r.status)
      );
      assertEquals(status, 404);
      assertEquals(await pb.locator(`.transfer[data-name="gone.bin"]`).count(), 0);
      await fitsPhone(pb, "Transfers");

      // The allow-list: fake.dev allows fake2.dev to push, in the page.
      await pa.click(`.tabs button[data-tab="sharing"]`);
      await pa.fill("#allow-node", "fake2.dev");
      await pa.selectOption("#allow-action", "push");
      await pa.click(`#allow-form button[type=submit]`);
      await pa.locator(`#allow .group[data-action="push"] .chip[data-node="fake2.dev"]`).waitFor();
      await fitsPhone(pa, "Sharing");
      await pa.locator(`#allow .group[data-action="push"] .chip[data-node="fake2.dev"] button`).click();
      await pa.locator(`#allow .group[data-action="push"] .nobody`).waitFor();

      // fake.dev's home page now lists fake2.dev among its peers.
      await pa.goto(`${baseA}/`);
      await pa.locator("#peers summary", { hasText: /^\d+ linked now$/ }).waitFor();
      await pa.locator("#peers summary").click();
      await pa.locator("#peers li", { hasText: "fake2.dev" }).waitFor();
      await fitsPhone(pa, "the home page with its peers");
    } finally {
      await browser.close();
      await net.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
