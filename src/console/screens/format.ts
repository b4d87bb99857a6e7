/** How the console's data screens show times and durations. */

/** A time (ms since the epoch, or ISO-8601) in the agent's locale and time zone. */
export function formatTime(at: number | string | null): string {
  if (at === null) return "—";
  return new Date(at).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A duration in ms as `1 h 5 min`, `3 min 20 s` or `12 s`; null (no data) as a dash. */
export function formatDuration(ms: number | null): string {
  if (ms === null) return "—";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${seconds % 60} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
