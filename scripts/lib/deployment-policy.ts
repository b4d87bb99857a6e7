/**
 * The password policy the Worker enforces, read the way wrangler reads it: `[vars]` of
 * wrangler.toml, overlaid for the local database by `.dev.vars` (as `wrangler dev` does).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv } from "node:util";
import {
  type PasswordPolicy,
  PasswordPolicyError,
  parsePasswordPolicy,
} from "../../src/security/password-policy.ts";
import { CliError } from "./cli.ts";
import type { D1Target } from "./d1.ts";
import { PROJECT_ROOT } from "./wrangler.ts";

/** The deployment's `[vars]` (plus `.dev.vars` for the local database), as wrangler reads them. */
export async function loadDeploymentVars(target: D1Target): Promise<Record<string, unknown>> {
  // Imported on demand: wrangler's API is large, and only some commands need it.
  const { unstable_readConfig } = await import("wrangler");
  const config = unstable_readConfig({ config: join(PROJECT_ROOT, "wrangler.toml") });
  const vars: Record<string, unknown> = { ...config.vars };
  if (!target.remote) Object.assign(vars, await readDevVars());
  return vars;
}

/** Reads and validates the deployment's password policy; an invalid one is a CliError. */
export async function loadPasswordPolicy(target: D1Target): Promise<PasswordPolicy> {
  const vars = await loadDeploymentVars(target);
  try {
    return parsePasswordPolicy(vars);
  } catch (error) {
    if (error instanceof PasswordPolicyError) {
      throw new CliError(`invalid password policy setting — ${error.message}`);
    }
    throw error;
  }
}

async function readDevVars(): Promise<Record<string, string>> {
  try {
    return parseEnv(await readFile(join(PROJECT_ROOT, ".dev.vars"), "utf8")) as Record<
      string,
      string
    >;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw error;
  }
}
