/**
 * The audit log's hash chain (DESIGN invariant 6): every row carries the hash of the row
 * before it, `hash = SHA-256(canonical row ‖ prev_hash)`, so editing, removing or
 * reordering rows breaks the chain at that row. Pure and runtime-neutral (WebCrypto): the
 * audit Durable Object, the Worker's verify route and the admin CLI (Node) share it.
 *
 * Checkpoints: an `audit.checkpoint` row says where verification starts. Its details are
 * `{ reason, after, anchor }`: rows with id ≤ `after` predate the chain or were purged by the
 * retention job, and the first row after them must carry `anchor` as its `prev_hash`. The
 * audit writer starts the chain on a database whose rows predate it with a checkpoint
 * `{ reason: "chain_start", after: <last old id>, anchor: GENESIS_HASH }` whose own
 * `prev_hash` is GENESIS_HASH. A purge appends `{ reason: "retention", after: K,
 * anchor: <hash of row K> }` through the writer, then deletes rows ≤ K. A checkpoint without
 * `after` is trusted as it stands: verification starts at it, with its own `prev_hash`.
 */

/** The `prev_hash` of the first row of a chain. */
export const GENESIS_HASH = "0".repeat(64);

/** The action of a checkpoint row. */
export const CHECKPOINT_ACTION = "audit.checkpoint";
/**
 * Written by the audit writer when rows it appended are gone from the end of the log. The
 * chain goes on after it, but verification reports it for good: a cut tail cannot be
 * hidden by the next append.
 */
export const TRUNCATION_ACTION = "audit.truncation_detected";

/** An `audit_log` row as D1 stores and returns it (snake_case columns). */
export interface AuditRow {
  id: number;
  /** Milliseconds since the epoch (UTC). */
  at: number;
  actor_type: string;
  actor_id: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  /** JSON text exactly as stored; hashed as text, never re-serialized. */
  details: string | null;
  department: string | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The hashed fields of a row, in chain order. */
export type AuditRowContent = Omit<AuditRow, "prev_hash" | "hash">;

/**
 * The canonical text of a row: a JSON array of the hashed columns in a fixed order. JSON
 * keeps field boundaries unambiguous (`"a,b", "c"` never equals `"a", "b,c"`), and `details`
 * goes in as the stored text, so a verifier never depends on how JSON is re-serialized.
 */
export function canonicalAuditRow(row: AuditRowContent): string {
  return JSON.stringify([
    row.id,
    row.at,
    row.actor_type,
    row.actor_id ?? null,
    row.action,
    row.target ?? null,
    row.outcome,
    row.ip ?? null,
    row.user_agent ?? null,
    row.details ?? null,
    row.department ?? null,
  ]);
}

const encoder = new TextEncoder();

/** Lowercase hex SHA-256 of `canonicalAuditRow(row) ‖ prevHash`. */
export async function auditRowHash(row: AuditRowContent, prevHash: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(canonicalAuditRow(row) + prevHash),
  );
  let hex = "";
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * Chains `rows` (contents in id order, ids already assigned) after `prevHash`: returns them
 * with `prev_hash` and `hash` filled.
 */
export async function chainAuditRows(
  rows: readonly AuditRowContent[],
  prevHash: string,
): Promise<AuditRow[]> {
  const chained: AuditRow[] = [];
  let prev = prevHash;
  for (const row of rows) {
    const hash = await auditRowHash(row, prev);
    chained.push({ ...row, prev_hash: prev, hash });
    prev = hash;
  }
  return chained;
}

/** What a checkpoint row says (see the module comment). */
export interface CheckpointDetails {
  reason: "chain_start" | "retention";
  after: number;
  anchor: string;
}

/** The content of a checkpoint row, written at `at` by the system (id assigned when chained). */
export function checkpointRow(details: CheckpointDetails, at: number): AuditRowContent {
  return {
    id: 0,
    at,
    actor_type: "system",
    actor_id: null,
    action: CHECKPOINT_ACTION,
    target: null,
    outcome: "success",
    ip: null,
    user_agent: null,
    details: JSON.stringify(details),
    department: null,
  };
}

/** The chain's end as a writer reads it before appending. */
export interface ChainHead {
  /** The newest row (hash null for rows written before the chain existed); null: empty log. */
  head: { id: number; hash: string | null } | null;
  /** The newest row that has a hash; null when the chain has not started. */
  lastChained: { id: number; hash: string } | null;
}

/**
 * Gives `contents` ids head + 1, head + 2, … and chains them after the head. Shared by the
 * audit Durable Object and the admin CLI, so both append exactly alike:
 * - a log whose rows all predate the chain first gets a `chain_start` checkpoint (prev_hash
 *   GENESIS_HASH), from which verification starts;
 * - a head without a hash although the chain has started (a row written outside the
 *   writers) is linked past: verification names that row.
 */
export async function chainAfterHead(
  state: ChainHead,
  contents: readonly AuditRowContent[],
  now: number,
): Promise<AuditRow[]> {
  let id = state.head?.id ?? 0;
  let prev = state.head?.hash ?? GENESIS_HASH;
  const rows: AuditRowContent[] = [];
  if (state.head && state.head.hash === null) {
    if (state.lastChained) {
      prev = state.lastChained.hash;
    } else {
      id += 1;
      const details = {
        reason: "chain_start",
        after: state.head.id,
        anchor: GENESIS_HASH,
      } as const;
      rows.push({ ...checkpointRow(details, now), id });
      prev = GENESIS_HASH;
    }
  }
  for (const content of contents) {
    id += 1;
    rows.push({ ...content, id });
  }
  return chainAuditRows(rows, prev);
}

/** What is wrong with the first bad row. */
export type AuditChainProblemKind =
  /** The row's content does not match its own hash (or it has no hash): it was edited. */
  | "altered"
  /** Rows before this one are missing: its `prev_hash` does not match and ids skip. */
  | "gap"
  /** Its `prev_hash` is not the previous row's hash, though no id is missing. */
  | "broken_link"
  /** Rows at the end are missing: the writer appended a row that is no longer there. */
  | "truncated";

/** The first row that does not match. */
export interface AuditChainProblem {
  id: number;
  problem: AuditChainProblemKind;
  message: string;
}

/** The outcome of a verification. */
export interface AuditChainResult {
  ok: boolean;
  /** Rows verified intact (before the problem, if any). */
  checked: number;
  /** The last row verified intact; null when none was. */
  head: { id: number; hash: string } | null;
  /** The checkpoint verification started from; null when it started at the genesis. */
  checkpoint: { id: number; at: number } | null;
  problem: AuditChainProblem | null;
}

/** A stored checkpoint's details, unchecked. */
type StoredCheckpointDetails = { [Key in "after" | "anchor"]?: unknown };

function readCheckpointDetails(row: AuditRow): StoredCheckpointDetails {
  try {
    const parsed: unknown = JSON.parse(row.details ?? "null");
    return typeof parsed === "object" && parsed !== null ? (parsed as StoredCheckpointDetails) : {};
  } catch {
    return {};
  }
}

/**
 * Verifies a chain incrementally: construct it with the latest checkpoint row (or null),
 * then push every row with id > `startAfterId`, in id order, page by page. It stops at the
 * first problem; `result()` reports it.
 */
export class AuditChainVerifier {
  /** Feed rows whose id is greater than this. */
  readonly startAfterId: number;
  readonly #checkpoint: AuditChainResult["checkpoint"];
  /** The `prev_hash` the next row must carry; null: trust the next row's own. */
  #expectedPrev: string | null;
  #previousId: number | null = null;
  #checked = 0;
  #head: AuditChainResult["head"] = null;
  #problem: AuditChainProblem | null = null;

  constructor(checkpoint: AuditRow | null) {
    if (!checkpoint) {
      this.startAfterId = 0;
      this.#checkpoint = null;
      this.#expectedPrev = GENESIS_HASH;
      return;
    }
    this.#checkpoint = { id: checkpoint.id, at: checkpoint.at };
    const { after, anchor } = readCheckpointDetails(checkpoint);
    if (typeof after === "number" && Number.isSafeInteger(after) && after < checkpoint.id) {
      this.startAfterId = after;
      this.#expectedPrev = typeof anchor === "string" ? anchor : null;
    } else {
      // No usable `after`: start at the checkpoint itself and trust its own prev_hash.
      this.startAfterId = checkpoint.id - 1;
      this.#expectedPrev = checkpoint.prev_hash;
    }
  }

  /** True once a problem was found (further rows are ignored). */
  get failed(): boolean {
    return this.#problem !== null;
  }

  /** Checks the next rows (ascending ids, all > startAfterId); returns false on a problem. */
  async push(rows: readonly AuditRow[]): Promise<boolean> {
    for (const row of rows) {
      if (this.#problem) return false;
      this.#problem = await this.#check(row);
      if (this.#problem) return false;
      this.#checked += 1;
      this.#previousId = row.id;
      this.#head = { id: row.id, hash: row.hash as string };
      this.#expectedPrev = row.hash;
    }
    return this.#problem === null;
  }

  async #check(row: AuditRow): Promise<AuditChainProblem | null> {
    const id = row.id;
    if (row.hash === null || row.prev_hash === null) {
      return {
        id,
        problem: "altered",
        message: `row ${id} has no hash: it was written outside the audit chain`,
      };
    }
    if ((await auditRowHash(row, row.prev_hash)) !== row.hash) {
      return {
        id,
        problem: "altered",
        message: `row ${id} does not match its hash: its content was changed`,
      };
    }
    if (row.action === TRUNCATION_ACTION) {
      return {
        id,
        problem: "truncated",
        message: `row ${id} records that rows at the end of the log were removed: ${row.details ?? ""}`,
      };
    }
    const expected = this.#expectedPrev;
    if (expected === null || row.prev_hash === expected) return null;
    const previous = this.#previousId ?? this.startAfterId;
    if (id > previous + 1) {
      const missing = id - previous - 1 === 1 ? `row ${id - 1}` : `rows ${previous + 1}–${id - 1}`;
      return {
        id,
        problem: "gap",
        message: `row ${id} does not link to the row before it: ${missing} missing`,
      };
    }
    return {
      id,
      problem: "broken_link",
      message: `row ${id} does not link to row ${previous}: the previous row's hash differs`,
    };
  }

  /** The result so far (after the last page: the verification's result). */
  result(): AuditChainResult {
    return {
      ok: this.#problem === null,
      checked: this.#checked,
      head: this.#head,
      checkpoint: this.#checkpoint,
      problem: this.#problem,
    };
  }
}

/** Where a verifier reads rows from (D1 in the Worker, `wrangler d1 execute` in the CLI). */
export interface AuditRowSource {
  /** The `audit.checkpoint` row with the highest id, or null. */
  latestCheckpoint(): Promise<AuditRow | null>;
  /** Up to `limit` rows with id > `afterId`, ascending. */
  page(afterId: number, limit: number): Promise<AuditRow[]>;
}

/** Walks the whole chain page by page; stops at the first problem. */
export async function verifyAuditChain(
  source: AuditRowSource,
  pageSize = 5000,
): Promise<AuditChainResult> {
  const verifier = new AuditChainVerifier(await source.latestCheckpoint());
  let afterId = verifier.startAfterId;
  for (;;) {
    const rows = await source.page(afterId, pageSize);
    if (!(await verifier.push(rows))) break;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize) break;
    afterId = last.id;
  }
  return verifier.result();
}

/**
 * Adds the tail check to an intact result: the audit writer remembers the last row it
 * appended; if that row is gone or differs, rows were cut from the end (which no link can
 * show, since nothing follows them).
 */
export function checkWriterTail(
  result: AuditChainResult,
  lastAppended: { id: number; hash: string } | null,
  rowHash: string | null | undefined,
): AuditChainResult {
  if (!result.ok || !lastAppended) return result;
  if (rowHash === lastAppended.hash) return result;
  const head = result.head?.id ?? 0;
  return {
    ...result,
    ok: false,
    problem:
      rowHash === undefined || rowHash === null
        ? {
            id: lastAppended.id,
            problem: "truncated",
            message: `row ${lastAppended.id}, appended by the audit writer, is missing (the chain ends at ${head})`,
          }
        : {
            id: lastAppended.id,
            problem: "altered",
            message: `row ${lastAppended.id} differs from the row the audit writer appended`,
          },
  };
}
