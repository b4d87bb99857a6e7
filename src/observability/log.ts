/**
 * Structured logs: one JSON object per line (`{"level":"info","msg":"request",…}`), so
 * `wrangler tail --format json` and Workers Logs can filter on fields instead of parsing text.
 *
 * Callers pass fields, never secrets: no cookies, tokens, passwords, query strings, bodies or
 * webhook URLs. An `Error` anywhere in the fields is written as `{name, message}` only: its
 * stack (and `cause`) stays out, since a cause can carry a driver's bound values and a stack
 * says nothing an operator needs that the message does not.
 */

/** Extra fields of a log line (JSON-serializable; errors allowed). */
export type LogFields = Record<string, unknown>;

type Level = "info" | "warn" | "error";

function errorsAsText(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}

function write(level: Level, msg: string, fields: LogFields): void {
  const line = JSON.stringify({ level, msg, ...fields }, errorsAsText);
  // The console method sets the level Workers Logs and `wrangler tail` show and filter on.
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** The logger: `log.info("request", {requestId, status})` prints one JSON line. */
export const log = {
  info: (msg: string, fields: LogFields = {}) => write("info", msg, fields),
  warn: (msg: string, fields: LogFields = {}) => write("warn", msg, fields),
  error: (msg: string, fields: LogFields = {}) => write("error", msg, fields),
};
