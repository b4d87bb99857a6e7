/**
 * The admin CLI: `npm run admin -- <command> [options]`. See `--help`. Passwords are read from
 * standard input only (never argv), checked against the deployment's policy and stored as
 * argon2id hashes; every change writes an audit row.
 */
import { parseArgs } from "node:util";
import { enableAgent, issuePasswordReset, unlockAgent } from "./lib/account-recovery.ts";
import {
  type AgentSummary,
  createAgent,
  DEFAULT_DEPARTMENT,
  disableAgent,
  listAgents,
  ROLES,
  validateNewAgent,
} from "./lib/agents.ts";
import { CliError, runMain } from "./lib/cli.ts";
import { d1TargetFromOptions } from "./lib/d1.ts";
import { loadDeploymentVars, loadPasswordPolicy } from "./lib/deployment-policy.ts";
import { readPassword } from "./lib/read-password.ts";

const HELP = `Parley admin CLI

Usage: npm run admin -- <command> [options]

Commands:
  create-agent   --email E --name N --role ${ROLES.join("|")}  (joins that preset group)
                 [--department D]...  (repeatable; default: ${DEFAULT_DEPARTMENT})
                 Reads the password from standard input: exactly one line (a trailing
                 newline is removed), or a hidden prompt on a terminal. Never pass it as
                 an argument.
  disable-agent  --email E
                 Disables the agent and revokes its open sessions.
  enable-agent   --email E
                 Enables a disabled agent again (the inactivity clock restarts).
  unlock-agent   --email E
                 Clears the account's lockout (failed-login counter).
  reset-password --email E [--url https://chat.example.com]
                 Prints a one-time link (30 minutes, single use) with which the agent
                 chooses a new password; ends all their sessions when used. At most
                 PASSWORD_RESETS_PER_DAY per agent per 24 hours.
  list-agents    [--json]
                 Lists agents: email, name, groups, departments, disabled.

Database options (every command):
  --local            the local database used by \`wrangler dev\` (default)
  --remote           the deployed D1 database
  --persist-to DIR   local persistence folder (default: .wrangler/state)

Examples:
  printf '%s\\n' "$PASSWORD" | npm run admin -- create-agent --email ana@example.com \\
      --name "Ana Lima" --role supervisor --department sales
  npm run admin -- disable-agent --email ana@example.com --remote

Exit status: 0 on success, 1 on any error (the message says why).`;

const OPTIONS = {
  email: { type: "string" },
  name: { type: "string" },
  role: { type: "string" },
  department: { type: "string", multiple: true },
  local: { type: "boolean" },
  remote: { type: "boolean" },
  "persist-to": { type: "string" },
  json: { type: "boolean" },
  url: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** Which options each command accepts, besides the database options and --help. */
const COMMAND_OPTIONS: Record<string, readonly string[]> = {
  "create-agent": ["email", "name", "role", "department"],
  "disable-agent": ["email"],
  "unlock-agent": ["email"],
  "enable-agent": ["email"],
  "reset-password": ["email", "url"],
  "list-agents": ["json"],
};
const COMMON_OPTIONS = ["local", "remote", "persist-to", "help"];

function parseCommandLine() {
  try {
    return parseArgs({ options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    if (message.includes("'--password'")) {
      throw new CliError("passwords are read from standard input, never from arguments");
    }
    throw new CliError(`${message}\nRun with --help for usage.`);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine();
  const [command, ...extra] = positionals;
  if (values.help || command === "help" || command === undefined) {
    console.log(HELP);
    return command === undefined && !values.help ? 1 : 0;
  }
  const allowed = COMMAND_OPTIONS[command];
  if (!allowed) throw new CliError(`unknown command "${command}"\nRun with --help for usage.`);
  if (extra.length > 0) throw new CliError(`unexpected argument "${extra[0]}"`);
  for (const key of Object.keys(values)) {
    if (!allowed.includes(key) && !COMMON_OPTIONS.includes(key)) {
      throw new CliError(`${command} does not take --${key}`);
    }
  }
  const target = d1TargetFromOptions(values);

  switch (command) {
    case "create-agent": {
      const fields = {
        email: required(values.email, "--email"),
        name: required(values.name, "--name"),
        role: required(values.role, "--role"),
        departments: values.department ?? [],
      };
      validateNewAgent(fields); // before asking for a password that would be wasted
      // The prompt comes first: loading the policy takes seconds, and keys typed before the
      // terminal leaves echo mode would show on screen.
      const password = await readPassword();
      const policy = await loadPasswordPolicy(target);
      const agent = await createAgent(target, { ...fields, password }, policy);
      console.log(
        `Created ${agent.role} ${agent.email} (${agent.name}), id ${agent.id}, ` +
          `departments: ${agent.departments.join(", ")}.`,
      );
      return 0;
    }
    case "enable-agent": {
      const email = required(values.email, "--email");
      await enableAgent(target, email);
      console.log(`Enabled ${email.trim()}.`);
      return 0;
    }
    case "unlock-agent": {
      const email = required(values.email, "--email");
      await unlockAgent(target, email);
      console.log(`Unlocked ${email.trim()}: failed-login counter cleared.`);
      return 0;
    }
    case "reset-password": {
      const email = required(values.email, "--email");
      const vars = await loadDeploymentVars(target);
      const perDay = Number(vars.PASSWORD_RESETS_PER_DAY ?? 3);
      if (!Number.isInteger(perDay) || perDay < 1) {
        throw new CliError("invalid PASSWORD_RESETS_PER_DAY in the deployment's vars");
      }
      const { token, expiresAt } = await issuePasswordReset(target, email, perDay);
      if (target.remote && !values.url) {
        throw new CliError(
          "with --remote, give the console's address: --url https://chat.example.com",
        );
      }
      const base = (values.url ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
      // Shown once, on this screen only: give it to the agent over a trusted channel.
      console.log(
        `One-time reset link for ${email.trim()} (valid until ${new Date(expiresAt).toISOString()}):\n` +
          `${base}/console/#reset=${token}`,
      );
      return 0;
    }
    case "disable-agent": {
      const email = required(values.email, "--email");
      const result = await disableAgent(target, email);
      console.log(
        `${result.alreadyDisabled ? "Already disabled" : "Disabled"}: ${email.trim()}; ` +
          `sessions revoked: ${result.sessionsRevoked}.`,
      );
      return 0;
    }
    default: {
      const agents = await listAgents(target);
      console.log(values.json ? JSON.stringify(agents, null, 2) : formatTable(agents));
      return 0;
    }
  }
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === "") throw new CliError(`${flag} is required`);
  return value;
}

function formatTable(agents: AgentSummary[]): string {
  if (agents.length === 0) return "No agents yet.";
  const header = ["EMAIL", "NAME", "GROUPS", "DEPARTMENTS", "DISABLED"];
  const rows = agents.map((agent) => [
    agent.email,
    agent.name,
    agent.groups.join(","),
    agent.departments.join(","),
    agent.disabledAt === null ? "no" : new Date(agent.disabledAt).toISOString(),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  return [header, ...rows]
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

runMain(main);
