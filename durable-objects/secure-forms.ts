/**
 * The PCI secure form inside a ChatSession (DESIGN invariant 2). The request and the fact of
 * a submission (with a masked summary) are chat events; the VALUES live in this object's
 * memory only — never in storage, D1, logs, audit rows, error messages or replays. They are
 * wiped when the chat ends or the TTL passes, and gone with the object on eviction or deploy;
 * after that every view answers `gone`.
 */
import {
  checkSecureValues,
  type SecureFormField,
  secureFormSummary,
} from "../src/security/secure-form.ts";
import type { AuditEntry } from "../src/store/audit.ts";
import { authenticatedRecently } from "../src/store/sessions.ts";
import { send, sendError, sender } from "./chat-frames-out.ts";
import type { DueItems } from "./due-items.ts";
import type { EventLog, NewEvent } from "./event-log.ts";
import type { ParticipantIdentity } from "./participant.ts";

/** What the secure form needs from its ChatSession. */
export interface SecureFormHost {
  db: D1Database;
  log: EventLog;
  due: DueItems;
  /** How long submitted values stay viewable (SECURE_FORM_TTL_MINUTES). */
  ttlMs: number;
  /** Stores an event and sends it to every participant. */
  append: (event: NewEvent) => void;
  audit: (
    who: ParticipantIdentity,
    action: string,
    outcome: AuditEntry["outcome"],
    details?: Record<string, unknown>,
  ) => Promise<void>;
}

/** Values of one submitted form, held until `expiresAt`. */
interface HeldValues {
  values: Record<string, string>;
  expiresAt: number;
}

/** The due item that wipes values whose TTL passed (only the time is stored). */
const DUE_ITEM = "secure_form";

export class SecureForms {
  readonly #held = new Map<string, HeldValues>();
  readonly #host: SecureFormHost;

  constructor(host: SecureFormHost) {
    this.#host = host;
  }

  /** An agent asks for the form: a chat event with the fields (labels, never values). */
  async request(agent: ParticipantIdentity, fields: SecureFormField[]): Promise<void> {
    const requestId = crypto.randomUUID();
    this.#host.append({
      kind: "secure_form.requested",
      from: sender(agent),
      text: `Secure form requested: ${fields.map((f) => f.label).join(", ")}`,
      form: { requestId, fields },
    });
    await this.#host.audit(agent, "secure_form.request", "success", {
      requestId,
      fields: fields.map((f) => f.kind),
    });
  }

  /**
   * The visitor submits, once. Values are validated (problems name fields, never values),
   * kept in memory, and only a masked summary becomes a chat event.
   */
  async submit(
    ws: WebSocket,
    visitor: ParticipantIdentity,
    requestId: string,
    values: Record<string, string>,
  ): Promise<void> {
    const form = this.#host.log.findForm(requestId);
    if (!form) return sendError(ws, "not_found", "No such secure form.");
    if (form.submitted) return sendError(ws, "already_submitted", "This form was submitted.");
    const now = Date.now();
    const problems: Record<string, string> = checkSecureValues(form.fields, values, now);
    for (const name of Object.keys(values)) {
      if (!form.fields.some((f) => f.name === name)) problems[name] = "unknown_field";
    }
    if (Object.keys(problems).length > 0) {
      return send(ws, {
        type: "error",
        code: "invalid_secure_form",
        message: `Check these fields: ${Object.keys(problems).join(", ")}.`,
        fields: problems,
      });
    }
    const expiresAt = now + this.#host.ttlMs;
    // Only the requested fields, copied: nothing else of the frame is kept.
    const kept = Object.fromEntries(form.fields.map((f) => [f.name, values[f.name] ?? ""]));
    this.#held.set(requestId, { values: kept, expiresAt });
    this.#host.append({
      kind: "secure_form.submitted",
      from: sender(visitor),
      text: `Secure form submitted: ${secureFormSummary(form.fields, kept)}`,
      form: { requestId },
    });
    await this.#host.due.schedule(DUE_ITEM, expiresAt);
    await this.#host.audit(visitor, "secure_form.submit", "success", { requestId });
  }

  /**
   * An agent (permission already checked) views the values: only after a login or
   * re-authentication within 5 minutes, only to that socket, each view audited.
   */
  async view(ws: WebSocket, agent: ParticipantIdentity, requestId: string): Promise<void> {
    const now = Date.now();
    const { db, log, audit } = this.#host;
    if (!agent.sessionId || !(await authenticatedRecently(db, agent.sessionId, now))) {
      await audit(agent, "secure_form.view", "denied", { requestId, reason: "reauth" });
      return sendError(ws, "reauth_required", "Confirm your password, then view again.");
    }
    if (!log.findForm(requestId)) return sendError(ws, "not_found", "No such secure form.");
    const held = this.#held.get(requestId);
    if (!held || held.expiresAt <= now) {
      this.#held.delete(requestId);
      await audit(agent, "secure_form.view", "failure", { requestId, reason: "gone" });
      return sendError(ws, "gone", "These values are gone: ask the visitor again if needed.");
    }
    // Audited before delivery: no view goes unrecorded. The row says who saw which form,
    // never what it held.
    await audit(agent, "secure_form.view", "success", { requestId });
    send(ws, {
      type: "secure_form.values",
      requestId,
      values: { ...held.values },
      expiresAt: held.expiresAt,
    });
  }

  /**
   * A view after the chat ended: the end wiped every value. Said plainly (a view can race the
   * end), and audited like every other view.
   */
  async viewAfterEnd(ws: WebSocket, agent: ParticipantIdentity, requestId: string): Promise<void> {
    sendError(ws, "gone", "The chat ended: its secure-form values are gone.");
    await this.#host.audit(agent, "secure_form.view", "failure", { requestId, reason: "ended" });
  }

  /** Wipes values past their TTL (the alarm's due item). */
  async wipeExpired(): Promise<void> {
    const now = Date.now();
    let next: number | null = null;
    for (const [id, held] of this.#held) {
      if (held.expiresAt <= now) this.#held.delete(id);
      else next = next === null ? held.expiresAt : Math.min(next, held.expiresAt);
    }
    if (next === null) await this.#host.due.cancel(DUE_ITEM);
    else await this.#host.due.reschedule(DUE_ITEM, next);
  }

  /** Wipes every value at once (the chat ended). */
  async wipeAll(): Promise<void> {
    this.#held.clear();
    await this.#host.due.cancel(DUE_ITEM);
  }
}
