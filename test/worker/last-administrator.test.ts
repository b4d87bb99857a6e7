/**
 * The last enabled administrator (an agent holding every permission) can be neither
 * disabled nor stripped, whatever path the change takes. Its own file: the rule depends on
 * how many administrators the database holds.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PERMISSION_IDS } from "../../src/security/permissions.ts";
import { apiRequest, login, seedAgent } from "./helpers.ts";

describe("the last administrator", () => {
  it("cannot be disabled, stripped or lose the group, until another administrator exists", async () => {
    const only = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(only.email);
    const attempts = [
      apiRequest("POST", `/api/agents/${only.id}/disable`, cookie),
      apiRequest("PUT", `/api/agents/${only.id}/groups`, cookie, { groups: ["supervisors"] }),
      apiRequest("PUT", "/api/groups/administrators/grants", cookie, {
        permissions: ["audit.view"],
      }),
      apiRequest("DELETE", "/api/groups/administrators", cookie),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ error: { code: "last_administrator" } });
    }
    const still = await env.DB.prepare(
      "SELECT count(*) AS n FROM grants WHERE subject_type = 'group' AND subject_id = 'administrators'",
    ).first<{ n: number }>();
    expect(still?.n).toBe(PERMISSION_IDS.length);

    // With a second administrator, the first may step down.
    const second = await seedAgent({ groups: [], grants: [] });
    const promote = await apiRequest("PUT", `/api/agents/${second.id}/groups`, cookie, {
      groups: ["administrators"],
    });
    expect(promote.status).toBe(200);
    const stepDown = await apiRequest("PUT", `/api/agents/${only.id}/groups`, cookie, {
      groups: ["supervisors"],
    });
    expect(stepDown.status).toBe(200);
    // Now the second is the last one.
    const secondCookie = await login(second.email);
    const disable = await apiRequest("POST", `/api/agents/${second.id}/disable`, secondCookie);
    expect(disable.status).toBe(409);
  });
});
