/**
 * The admin CLI's side of the audit chain against a real local D1 (wrangler, miniflare):
 * CLI rows join the chain (starting it with a checkpoint on a log whose rows predate it),
 * a lost id race fails on the primary key instead of forking (and an audited write retries
 * once on the fresh head), and `npm run audit:verify` exits 0 on an intact chain and 1
 * naming the first bad row.
 */
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chainedAuditInserts,
  d1ExecuteAudited,
  readChainHead,
  verifyAuditChainVia,
} from "../../scripts/lib/audit.ts";
import { D1Error, type D1Target, d1Execute } from "../../scripts/lib/d1.ts";
import { GENESIS_HASH } from "../../src/security/audit-chain.ts";
import { migratedState } from "../helpers/dev-server.ts";
import { runScript, type ScriptRun } from "../helpers/run-script.ts";

let persistTo: string;
let target: D1Target;

function verifyCli(): Promise<ScriptRun> {
  return runScript("scripts/audit-verify.ts", ["--persist-to", persistTo]);
}

const NO_UPDATE_TRIGGER = `CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`;

beforeAll(async () => {
  persistTo = await migratedState("parley-audit-cli-");
  target = { remote: false, persistTo };
});

afterAll(async () => {
  if (persistTo) await rm(persistTo, { recursive: true, force: true });
});

describe("CLI audit rows and audit:verify", () => {
  it("starts the chain after rows that predate it and appends CLI rows to it", async () => {
    // Two rows as written before the chain existed (no hashes).
    await d1Execute(target, [
      `INSERT INTO audit_log (at, actor_type, action, outcome) VALUES (1, 'system', 'old.one', 'success')`,
      `INSERT INTO audit_log (at, actor_type, action, outcome) VALUES (2, 'system', 'old.two', 'success')`,
    ]);
    await d1ExecuteAudited(target, [], {
      at: 1000,
      action: "agent.enable",
      target: "agent-1",
      details: { email: "a@example.com" },
    });
    await d1ExecuteAudited(
      target,
      ["SELECT 1"],
      [
        { at: 2000, action: "agent.unlock", target: "agent-1", details: {} },
        { at: 3000, action: "agent.disable", target: "agent-2", details: { quote: "it's" } },
      ],
    );
    const [rows = []] = await d1Execute(target, [
      "SELECT id, action, actor_type, user_agent, details, prev_hash FROM audit_log ORDER BY id",
    ]);
    expect(rows.map((row) => row.action)).toEqual([
      "old.one",
      "old.two",
      "audit.checkpoint",
      "agent.enable",
      "agent.unlock",
      "agent.disable",
    ]);
    expect(rows[2]).toMatchObject({ id: 3, actor_type: "system", prev_hash: GENESIS_HASH });
    expect(JSON.parse(String(rows[2]?.details))).toEqual({
      reason: "chain_start",
      after: 2,
      anchor: GENESIS_HASH,
    });
    expect(rows[3]).toMatchObject({ actor_type: "cli", user_agent: "parley-admin" });
    expect(JSON.parse(String(rows[5]?.details))).toMatchObject({ quote: "it's", via: "admin-cli" });

    const result = await verifyAuditChainVia(target, 2);
    expect(result).toMatchObject({ ok: true, checked: 4, checkpoint: { id: 3 }, head: { id: 6 } });
  });

  it("refuses a second row for the same head on the primary key (no fork)", async () => {
    const action = { at: 4000, action: "agent.create", target: "agent-3", details: {} };
    const stale = await readChainHead(target);
    const first = await chainedAuditInserts(target, [action], stale);
    const second = await chainedAuditInserts(target, [{ ...action, target: "agent-4" }], stale);
    await d1Execute(target, first);
    await expect(d1Execute(target, second)).rejects.toSatisfy(
      (error) => error instanceof D1Error && /audit_log\.id/.test(error.text),
    );
    // Given the stale head (as a command that read it with its checks), the write loses the
    // race once and is chained again on the fresh head.
    await d1ExecuteAudited(target, [], { ...action, target: "agent-4" }, stale);
    const head = await readChainHead(target);
    expect(head.head?.id).toBe(8);
  });

  it("exits 0 on an intact chain and 1 naming the first altered row", async () => {
    const intact = await verifyCli();
    expect(intact.stderr).toBe("");
    expect(intact.code).toBe(0);
    expect(intact.stdout).toMatch(/Audit chain intact: 6 rows verified from checkpoint row 3/);

    await d1Execute(target, [
      "DROP TRIGGER audit_log_no_update",
      "UPDATE audit_log SET target = 'agent-9' WHERE id = 5",
      NO_UPDATE_TRIGGER,
    ]);
    const broken = await verifyCli();
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/BROKEN at row 5 \(altered\)/);

    await d1Execute(target, [
      "DROP TRIGGER audit_log_no_update",
      "UPDATE audit_log SET target = 'agent-1' WHERE id = 5",
      NO_UPDATE_TRIGGER,
      "DELETE FROM audit_log WHERE id = 6",
    ]);
    const gap = await verifyCli();
    expect(gap.code).toBe(1);
    expect(gap.stdout).toMatch(/BROKEN at row 7 \(gap\): row 7 does not link .* row 6 missing/);
  });
});
