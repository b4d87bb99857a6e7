/**
 * `npm run audit:verify [-- --remote] [--persist-to DIR] [--json]`: walks the audit hash chain
 * (DESIGN invariant 6) in the local D1 (default) or the remote one, and names the first row
 * that does not match. Exit status 0 when the chain is intact, 1 when it is not (or on error).
 */
import { verifyAuditChainVia } from "./lib/audit.ts";
import { runMain } from "./lib/cli.ts";
import { d1TargetFromOptions, parseD1ScriptArgs } from "./lib/d1.ts";

const HELP = `Usage: npm run audit:verify [-- [--local | --remote] [--persist-to DIR] [--json]]

Verifies the audit log's hash chain from its latest checkpoint (or its first row) to its
newest row, 5,000 rows per query, and names the first row that was altered, removed or
relinked.

  --local            the local database used by \`wrangler dev\` (default)
  --remote           the deployed database
  --persist-to DIR   the local database under DIR (as given to wrangler dev --persist-to)
  --json             print the result as JSON

Exit status: 0 when the chain is intact, 1 when it is not or on any error.`;

async function main(): Promise<number> {
  const values = parseD1ScriptArgs({ json: { type: "boolean" } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const target = d1TargetFromOptions(values);

  const started = performance.now();
  const result = await verifyAuditChainVia(target);
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return result.ok ? 0 : 1;
  }
  const from = result.checkpoint
    ? `checkpoint row ${result.checkpoint.id} (${new Date(result.checkpoint.at).toISOString()})`
    : "the first row";
  const head = result.head ? `row ${result.head.id}, hash ${result.head.hash}` : "none";
  if (result.ok) {
    console.log(
      `Audit chain intact: ${result.checked} rows verified from ${from} in ${seconds} s.`,
    );
    console.log(`Head: ${head}.`);
    return 0;
  }
  const problem = result.problem;
  console.log(
    `Audit chain BROKEN at row ${problem?.id} (${problem?.problem}): ${problem?.message}.`,
  );
  console.log(`${result.checked} rows verified intact from ${from}; last good: ${head}.`);
  return 1;
}

runMain(main);
