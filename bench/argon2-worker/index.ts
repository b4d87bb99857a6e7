/**
 * A bench-only Worker (never deployed): hashes and verifies with the production argon2id
 * code path in workerd. Timed from outside over HTTP, since a Worker's clock does not
 * advance during synchronous work; `/noop` is the baseline round trip to subtract.
 */
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { hashPassword, verifyPassword } from "../../src/security/password-hash.ts";

const PASSWORD = "a benchmark passphrase 123";

export default {
  async fetch(request: Request): Promise<Response> {
    const argon2 = await getArgon2();
    const path = new URL(request.url).pathname;
    if (path === "/hash") return new Response(hashPassword(argon2, PASSWORD));
    if (path === "/verify") {
      const encoded = new URL(request.url).searchParams.get("hash") ?? "";
      return new Response(String(verifyPassword(argon2, encoded, PASSWORD)));
    }
    return new Response("ok");
  },
};
