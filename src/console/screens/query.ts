/**
 * Query strings and date ranges of the console's data screens (audit log, transcripts,
 * offline messages, reports): the APIs take ISO dates (UTC midnight) with an inclusive `from`
 * and an exclusive `to`, while a person picks the first and the last day they want to see.
 */

/** `path?k=v&…` without the empty values: an empty filter means "any", not "empty". */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value.trim() !== "") query.set(key, value.trim());
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** `YYYY-MM-DD` of `ms`, in UTC (the APIs read a bare date as UTC midnight). */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * The exclusive end of a range whose last day is `date` (`YYYY-MM-DD`): the day after, so
 * the whole of the picked day is included. Empty stays empty (no end).
 */
export function endOfDay(date: string): string {
  if (!date) return "";
  return isoDate(Date.parse(date) + 86_400_000);
}

/**
 * A search form's filters: its fields, with `to` (the last day wanted, as picked) turned
 * into the API's exclusive end.
 */
export function searchFilters(form: HTMLFormElement): Record<string, string> {
  const values = formValues(form);
  return { ...values, to: endOfDay(values.to ?? "") };
}

/** The string values of a submitted form, by field name (file inputs are not used here). */
export function formValues(form: HTMLFormElement): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of new FormData(form)) {
    if (typeof value === "string") values[key] = value;
  }
  return values;
}
