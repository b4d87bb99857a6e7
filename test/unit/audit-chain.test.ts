import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  AuditChainVerifier,
  type AuditRow,
  type AuditRowContent,
  auditRowHash,
  CHECKPOINT_ACTION,
  canonicalAuditRow,
  chainAfterHead,
  chainAuditRows,
  checkWriterTail,
  GENESIS_HASH,
  verifyAuditChain,
} from "../../src/security/audit-chain.ts";

function content(id: number, overrides: Partial<AuditRowContent> = {}): AuditRowContent {
  return {
    id,
    at: 1_767_225_600_000 + id * 1000,
    actor_type: "agent",
    actor_id: `agent-${id % 3}`,
    action: id % 2 ? "auth.login" : "transcript.view",
    target: `target-${id}`,
    outcome: "success",
    ip: "203.0.113.7",
    user_agent: "Mozilla/5.0",
    details: JSON.stringify({ n: id, note: 'quote " and, comma' }),
    department: id % 2 ? null : "sales",
    ...overrides,
  };
}

async function chain(count: number, first = 1, prev = GENESIS_HASH): Promise<AuditRow[]> {
  return chainAuditRows(
    Array.from({ length: count }, (_, i) => content(first + i)),
    prev,
  );
}

async function verify(rows: AuditRow[], pageSize = 7) {
  const checkpoint = rows.filter((row) => row.action === CHECKPOINT_ACTION).at(-1) ?? null;
  return verifyAuditChain(
    {
      latestCheckpoint: async () => checkpoint,
      page: async (afterId, limit) => rows.filter((row) => row.id > afterId).slice(0, limit),
    },
    pageSize,
  );
}

describe("audit row hash", () => {
  it("hashes the canonical JSON array followed by the previous hash", async () => {
    const row = content(1);
    expect(canonicalAuditRow(row)).toBe(
      JSON.stringify([
        1,
        1_767_225_601_000,
        "agent",
        "agent-1",
        "auth.login",
        "target-1",
        "success",
        "203.0.113.7",
        "Mozilla/5.0",
        '{"n":1,"note":"quote \\" and, comma"}',
        null,
      ]),
    );
    const expected = createHash("sha256")
      .update(canonicalAuditRow(row) + GENESIS_HASH)
      .digest("hex");
    expect(await auditRowHash(row, GENESIS_HASH)).toBe(expected);
  });

  it("matches a fixed vector (a change of the canonical form breaks every stored chain)", async () => {
    const row: AuditRowContent = {
      id: 1,
      at: 0,
      actor_type: "system",
      actor_id: null,
      action: "audit.checkpoint",
      target: null,
      outcome: "success",
      ip: null,
      user_agent: null,
      details: null,
      department: null,
    };
    expect(canonicalAuditRow(row)).toBe(
      '[1,0,"system",null,"audit.checkpoint",null,"success",null,null,null,null]',
    );
    expect(await auditRowHash(row, GENESIS_HASH)).toBe(
      "03f08c93a833d5efd00656516a01c74695b8070cee515105df87207bf7097d60",
    );
    expect(GENESIS_HASH).toMatch(/^0{64}$/);
  });

  it("keeps field boundaries: moving a comma between fields changes the hash", async () => {
    const a = content(1, { target: "a,b", ip: "c" });
    const b = content(1, { target: "a", ip: "b,c" });
    expect(await auditRowHash(a, GENESIS_HASH)).not.toBe(await auditRowHash(b, GENESIS_HASH));
  });

  it("hashes details as stored text, not as re-serialized JSON", async () => {
    const a = content(1, { details: '{"a":1,"b":2}' });
    const b = content(1, { details: '{"b":2,"a":1}' });
    expect(await auditRowHash(a, GENESIS_HASH)).not.toBe(await auditRowHash(b, GENESIS_HASH));
  });

  it("links each row to the previous one", async () => {
    const rows = await chain(3);
    expect(rows[0]?.prev_hash).toBe(GENESIS_HASH);
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash);
    expect(rows[2]?.prev_hash).toBe(rows[1]?.hash);
  });
});

describe("chain verification", () => {
  it("accepts an intact chain across pages and reports the head", async () => {
    const rows = await chain(25);
    const result = await verify(rows);
    expect(result).toEqual({
      ok: true,
      checked: 25,
      head: { id: 25, hash: rows[24]?.hash },
      checkpoint: null,
      problem: null,
    });
  });

  it("accepts an empty log", async () => {
    expect(await verify([])).toMatchObject({ ok: true, checked: 0, head: null });
  });

  for (const field of ["at", "actor_id", "action", "target", "outcome", "ip", "details"] as const) {
    it(`names the row whose ${field} was changed`, async () => {
      const rows = await chain(20);
      const row = rows[11] as AuditRow;
      rows[11] = { ...row, [field]: field === "at" ? row.at + 1 : `${row[field]}x` };
      const result = await verify(rows);
      expect(result.ok).toBe(false);
      expect(result.problem).toMatchObject({ id: 12, problem: "altered" });
      expect(result.checked).toBe(11);
      expect(result.head?.id).toBe(11);
    });
  }

  it("names a row whose hash was recomputed as the next row's broken link", async () => {
    const rows = await chain(10);
    const edited = { ...(rows[4] as AuditRow), outcome: "failure" };
    rows[4] = { ...edited, hash: await auditRowHash(edited, edited.prev_hash as string) };
    const result = await verify(rows);
    expect(result.problem).toMatchObject({ id: 6, problem: "broken_link" });
  });

  it("reports a deleted row as a gap before the next row", async () => {
    const rows = await chain(10);
    rows.splice(6, 1); // row 7
    const result = await verify(rows);
    expect(result.problem).toMatchObject({ id: 8, problem: "gap" });
    expect(result.problem?.message).toContain("row 7 missing");
  });

  it("reports deleted first rows as a gap", async () => {
    const rows = (await chain(5)).slice(2);
    expect((await verify(rows)).problem).toMatchObject({ id: 3, problem: "gap" });
  });

  it("reports swapped rows", async () => {
    const rows = await chain(6);
    const [third, fourth] = [rows[2] as AuditRow, rows[3] as AuditRow];
    rows[2] = { ...fourth, id: 3 };
    rows[3] = { ...third, id: 4 };
    expect((await verify(rows)).problem).toMatchObject({ id: 3, problem: "altered" });
  });

  it("reports a row without a hash", async () => {
    const rows = await chain(4);
    rows.push({ ...content(5), prev_hash: null, hash: null });
    expect((await verify(rows)).problem).toMatchObject({ id: 5, problem: "altered" });
  });

  it("starts at a chain_start checkpoint, ignoring the unchained rows before it", async () => {
    const old: AuditRow[] = [1, 2, 3].map((id) => ({
      ...content(id),
      prev_hash: null,
      hash: null,
    }));
    const checkpoint = content(4, {
      actor_type: "system",
      action: CHECKPOINT_ACTION,
      details: JSON.stringify({ reason: "chain_start", after: 3, anchor: GENESIS_HASH }),
    });
    const chained = await chainAuditRows([checkpoint, content(5), content(6)], GENESIS_HASH);
    const result = await verify([...old, ...chained]);
    expect(result).toMatchObject({
      ok: true,
      checked: 3,
      checkpoint: { id: 4, at: checkpoint.at },
      head: { id: 6 },
    });
  });

  it("starts after a retention checkpoint's `after`, checking the anchor and the checkpoint", async () => {
    const rows = await chain(10);
    const anchor = rows[5]?.hash as string; // rows 1–6 are purged
    const [checkpoint] = await chainAuditRows(
      [
        content(11, {
          action: CHECKPOINT_ACTION,
          details: JSON.stringify({ reason: "retention", after: 6, anchor }),
        }),
      ],
      rows[9]?.hash as string,
    );
    const kept = [...rows.slice(6), checkpoint as AuditRow];
    expect(await verify(kept)).toMatchObject({ ok: true, checked: 5, head: { id: 11 } });

    // Deleting the first kept row breaks the anchor: a gap at the next one.
    expect((await verify(kept.slice(1))).problem).toMatchObject({ id: 8, problem: "gap" });
    // Rows left before the cut are not verified (a purge that stopped half-way).
    const leftover = { ...(rows[2] as AuditRow), outcome: "edited" };
    expect((await verify([leftover, ...kept])).ok).toBe(true);
  });

  it("trusts a checkpoint without `after` as it stands", async () => {
    const start = await chainAuditRows(
      [content(40, { action: CHECKPOINT_ACTION, details: "{}" }), content(41)],
      "f".repeat(64),
    );
    expect(await verify(start)).toMatchObject({ ok: true, checked: 2, checkpoint: { id: 40 } });
  });

  it("verifies incrementally and stops at the first problem", async () => {
    const rows = await chain(6);
    rows[1] = { ...(rows[1] as AuditRow), target: "x" };
    rows[4] = { ...(rows[4] as AuditRow), target: "y" };
    const verifier = new AuditChainVerifier(null);
    expect(await verifier.push(rows.slice(0, 3))).toBe(false);
    expect(await verifier.push(rows.slice(3))).toBe(false);
    expect(verifier.result().problem?.id).toBe(2);
  });
});

describe("writer tail", () => {
  it("reports rows cut from the end", async () => {
    const rows = await chain(5);
    const result = await verify(rows.slice(0, 3));
    const last = { id: 5, hash: rows[4]?.hash as string };
    expect(checkWriterTail(result, last, undefined).problem).toMatchObject({
      id: 5,
      problem: "truncated",
    });
    expect(checkWriterTail(result, last, last.hash).ok).toBe(true);
    expect(checkWriterTail(result, null, undefined).ok).toBe(true);
  });
});

describe("appending after the head", () => {
  const fresh = [content(0), content(0)];

  it("starts an empty log at id 1 from the genesis hash", async () => {
    const rows = await chainAfterHead({ head: null, lastChained: null }, fresh, 5);
    expect(rows.map((row) => [row.id, row.prev_hash === GENESIS_HASH])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect((await verify(rows)).ok).toBe(true);
  });

  it("continues after the head with the next ids", async () => {
    const existing = await chain(3);
    const head = existing[2] as AuditRow;
    const state = {
      head: { id: 3, hash: head.hash },
      lastChained: { id: 3, hash: head.hash as string },
    };
    const rows = await chainAfterHead(state, fresh, 5);
    expect(rows.map((row) => row.id)).toEqual([4, 5]);
    expect((await verify([...existing, ...rows])).ok).toBe(true);
  });

  it("starts the chain with a checkpoint after rows that predate it", async () => {
    const old: AuditRow[] = [1, 2].map((id) => ({ ...content(id), prev_hash: null, hash: null }));
    const rows = await chainAfterHead(
      { head: { id: 2, hash: null }, lastChained: null },
      fresh,
      99,
    );
    expect(rows[0]).toMatchObject({
      id: 3,
      at: 99,
      actor_type: "system",
      action: CHECKPOINT_ACTION,
      prev_hash: GENESIS_HASH,
    });
    expect(JSON.parse(rows[0]?.details ?? "")).toEqual({
      reason: "chain_start",
      after: 2,
      anchor: GENESIS_HASH,
    });
    expect(await verify([...old, ...rows])).toMatchObject({ ok: true, checked: 3 });
  });

  it("links past a row written outside the chain, which verification then names", async () => {
    const existing = await chain(3);
    const outsider: AuditRow = { ...content(4), prev_hash: null, hash: null };
    const state = {
      head: { id: 4, hash: null },
      lastChained: { id: 3, hash: existing[2]?.hash as string },
    };
    const rows = await chainAfterHead(state, fresh, 5);
    expect(rows.map((row) => row.id)).toEqual([5, 6]);
    expect(rows[0]?.prev_hash).toBe(existing[2]?.hash);
    expect((await verify([...existing, outsider, ...rows])).problem).toMatchObject({
      id: 4,
      problem: "altered",
    });
  });
});
