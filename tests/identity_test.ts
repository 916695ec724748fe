/** Node keys: made at first boot, kept encrypted. (Names on the chain: tests/chain_*_test.ts.) */
import { assertEquals, assertRejects } from "./assert.ts";
import { loadOrCreateKeys } from "../runtime/keys.ts";
import { toHex } from "../runtime/bytes.ts";
import { WrongPassword } from "../runtime/errors.ts";

Deno.test("keys: made at first boot, encrypted, and a wrong password is a clear error", async () => {
  const home = await Deno.makeTempDir();
  try {
    const k1 = await loadOrCreateKeys(home, "secret");
    const stored = await Deno.readTextFile(`${home}/keys.json`);
    assertEquals(stored.includes(toHex(k1.secretKey)), false, "the secret key is not stored in the clear");
    const k2 = await loadOrCreateKeys(home, "secret");
    assertEquals(k2.publicKey, k1.publicKey);
    await assertRejects(() => loadOrCreateKeys(home, "wrong"), WrongPassword, "wrong password");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
