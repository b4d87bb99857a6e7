/**
 * Agent administration over D1, shared by `npm run admin` and `npm start` (the demo seed), so
 * both create agents through one validated, audited code path.
 */
import initArgon2 from "@phi-ag/argon2/node";
import { z } from "zod";
import { hashPassword } from "../../src/security/password-hash.ts";
import {
  checkPassword,
  describePasswordProblems,
  type PasswordPolicy,
} from "../../src/security/password-policy.ts";
import { CHAIN_HEAD_COLUMNS, chainHeadOf, d1ExecuteAudited } from "./audit.ts";
import { CliError } from "./cli.ts";
import { D1Error, type D1Target, d1Query, type Row, sqlValue } from "./d1.ts";

/** Presets: `--role X` puts the new agent into the preset group `Xs` (editable grant sets). */
export const ROLES = ["administrator", "supervisor", "agent"] as const;
export type AgentRole = (typeof ROLES)[number];

/** The department of agents created without one (seeded by the first migration). */
export const DEFAULT_DEPARTMENT = "general";

const newAgentSchema = z.object({
  email: z.string().trim().max(254).pipe(z.email("must be an email address")),
  name: z
    .string()
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters")
    .regex(/^[^\p{Cc}]*$/u, "must not contain control characters"),
  role: z.enum(ROLES, `must be one of ${ROLES.join(", ")}`),
  departments: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "must be a lowercase slug"))
    .transform((ids) => (ids.length > 0 ? [...new Set(ids)] : [DEFAULT_DEPARTMENT])),
});

/** What `createAgent` needs; the password is checked against the policy and only its hash kept. */
export interface NewAgent {
  email: string;
  name: string;
  role: string;
  departments: string[];
  password: string;
}

/** The created agent (never the password or its hash). */
export interface CreatedAgent {
  id: string;
  email: string;
  name: string;
  role: AgentRole;
  departments: string[];
}

/** Validates the fields (not the password); throws a CliError naming each bad field. */
export function validateNewAgent(input: Omit<NewAgent, "password">): Omit<CreatedAgent, "id"> {
  const result = newAgentSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `--${String(issue.path[0])}: ${issue.message}`,
    );
    throw new CliError(`invalid agent — ${problems.join("; ")}`);
  }
  return result.data;
}

/**
 * Creates an agent with its departments and an audit row, all in one batch. Refuses a password
 * that breaks the policy, an email already in use and an unknown department.
 */
export async function createAgent(
  target: D1Target,
  input: NewAgent,
  policy: Partial<PasswordPolicy>,
): Promise<CreatedAgent> {
  const agent = validateNewAgent(input);
  const problems = checkPassword(
    input.password,
    { username: agent.name, email: agent.email },
    policy,
  );
  if (problems.length > 0) {
    const reasons = describePasswordProblems(problems, policy).map((line) => `  - ${line}`);
    throw new CliError(`the password does not meet the policy:\n${reasons.join("\n")}`);
  }

  // Both checks and the audit chain's head in one query: every wrangler run costs seconds.
  const [found] = await d1Query(
    target,
    `SELECT EXISTS (SELECT 1 FROM agents WHERE email = ${sqlValue(agent.email)}) AS taken,
       (SELECT json_group_array(id) FROM departments
        WHERE id IN (${agent.departments.map(sqlValue).join(", ")})) AS known,
       ${CHAIN_HEAD_COLUMNS}`,
  );
  if (found?.taken === 1) throw new CliError(`an agent with email ${agent.email} already exists`);
  const knownIds = new Set<unknown>(JSON.parse(String(found?.known ?? "[]")));
  const unknown = agent.departments.filter((id) => !knownIds.has(id));
  if (unknown.length > 0) throw new CliError(`unknown department: ${unknown.join(", ")}`);

  const argon2 = await initArgon2();
  const passwordHash = hashPassword(argon2, input.password);
  const id = crypto.randomUUID();
  const now = Date.now();
  const statements = [
    `INSERT INTO agents (id, email, name, password_hash, password_changed_at,
       must_change_password, created_at)
     VALUES (${sqlValue(id)}, ${sqlValue(agent.email)}, ${sqlValue(agent.name)},
       ${sqlValue(passwordHash)}, ${now}, 0, ${now})`,
    `INSERT INTO agent_groups (agent_id, group_id)
     VALUES (${sqlValue(id)}, ${sqlValue(`${agent.role}s`)})`,
    ...agent.departments.map(
      (department) =>
        `INSERT INTO agent_departments (agent_id, department_id)
         VALUES (${sqlValue(id)}, ${sqlValue(department)})`,
    ),
  ];
  try {
    await d1ExecuteAudited(
      target,
      statements,
      {
        at: now,
        action: "agent.create",
        target: id,
        details: {
          email: agent.email,
          name: agent.name,
          role: agent.role,
          departments: agent.departments,
        },
      },
      chainHeadOf(found),
    );
  } catch (error) {
    // Another writer may have taken the email between the check and the insert.
    if (error instanceof D1Error && /UNIQUE constraint failed: agents\.email/.test(error.text)) {
      throw new CliError(`an agent with email ${agent.email} already exists`);
    }
    throw error;
  }
  return { id, ...agent };
}

/** One line of `list-agents`. */
export interface AgentSummary {
  email: string;
  name: string;
  groups: string[];
  departments: string[];
  disabledAt: number | null;
}

/** Every agent, by email. */
export async function listAgents(target: D1Target): Promise<AgentSummary[]> {
  const rows = await d1Query(
    target,
    `SELECT a.email, a.name, a.disabled_at,
       (SELECT group_concat(department_id, ',') FROM agent_departments
        WHERE agent_id = a.id) AS departments,
       (SELECT group_concat(group_id, ',') FROM agent_groups WHERE agent_id = a.id) AS groups
     FROM agents a ORDER BY a.email COLLATE NOCASE`,
  );
  return rows.map((row: Row) => ({
    email: String(row.email),
    name: String(row.name),
    groups: typeof row.groups === "string" ? row.groups.split(",").sort() : [],
    departments: typeof row.departments === "string" ? row.departments.split(",").sort() : [],
    disabledAt: typeof row.disabled_at === "number" ? row.disabled_at : null,
  }));
}

/** True when no agent exists yet (the demo seed runs only then). */
export async function hasNoAgents(target: D1Target): Promise<boolean> {
  const rows = await d1Query(target, "SELECT count(*) AS n FROM agents");
  return rows[0]?.n === 0;
}

/** What `disableAgent` did. */
export interface DisableResult {
  id: string;
  alreadyDisabled: boolean;
  sessionsRevoked: number;
}

/**
 * Disables an agent and revokes its open sessions at once (the Worker checks the session row on
 * every request). Disabling twice is harmless: it only revokes sessions that are still open.
 */
export async function disableAgent(target: D1Target, email: string): Promise<DisableResult> {
  const found = await d1Query(
    target,
    `SELECT a.id, a.disabled_at,
       (SELECT count(*) FROM sessions WHERE agent_id = a.id AND revoked_at IS NULL) AS open,
       ${CHAIN_HEAD_COLUMNS}
     FROM agents a WHERE a.email = ${sqlValue(email.trim())}`,
  );
  const row = found[0];
  if (!row) throw new CliError(`no agent with email ${email.trim()}`);
  const id = String(row.id);
  const now = Date.now();
  const result = {
    id,
    alreadyDisabled: row.disabled_at !== null,
    sessionsRevoked: Number(row.open),
  };
  await d1ExecuteAudited(
    target,
    [
      `UPDATE agents SET disabled_at = ${now} WHERE id = ${sqlValue(id)} AND disabled_at IS NULL`,
      `UPDATE sessions SET revoked_at = ${now}
       WHERE agent_id = ${sqlValue(id)} AND revoked_at IS NULL`,
    ],
    { at: now, action: "agent.disable", target: id, details: { email: email.trim(), ...result } },
    chainHeadOf(row),
  );
  return result;
}
