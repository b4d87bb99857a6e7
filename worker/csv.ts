/** CSV (RFC 4180) for the console's exports: the audit log and the reports. */

/**
 * One cell. A spreadsheet runs a cell that starts with = + - @ (or a tab or CR before one)
 * as a formula, and exported rows carry attacker-chosen text (user agents, emails, targets,
 * names): such cells get a leading `'` (OWASP "CSV injection"). Then RFC 4180 quoting.
 */
function csvCell(value: string | number | null): string {
  if (value === null) return "";
  let cell = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(cell)) cell = `'${cell}`;
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

/** One record: the cells escaped as above, CRLF-terminated. */
export function csvLine(cells: readonly (string | number | null)[]): string {
  return `${cells.map(csvCell).join(",")}\r\n`;
}
