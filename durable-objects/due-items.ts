/**
 * One alarm per Durable Object, many things to do: due items live in a small storage table
 * and the alarm is always set to the earliest. Alarms run at least once, so every handler
 * must be idempotent; an item stays until its handler succeeds.
 */

/**
 * `ms` give or take 10%, for periodic work started in many objects at once (chats whose
 * sockets connected together, say): exact delays keep them in step, and in step they all hit
 * storage and D1 at the same moment, every period, stalling every chat on the machine.
 */
export function jittered(ms: number): number {
  // Whole milliseconds, as alarms keep them: a fraction would never equal `getAlarm()`, and
  // every re-arm would write the alarm again.
  return Math.round(ms * (0.9 + 0.2 * Math.random()));
}

export class DueItems {
  readonly #storage: DurableObjectStorage;

  constructor(storage: DurableObjectStorage) {
    this.#storage = storage;
    storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS due_items (item TEXT PRIMARY KEY, at INTEGER NOT NULL)",
    );
  }

  /** Schedules `item` at `at` (ms), or earlier if it is already due sooner. */
  async schedule(item: string, at: number): Promise<void> {
    this.#storage.sql.exec(
      `INSERT INTO due_items (item, at) VALUES (?, ?)
       ON CONFLICT (item) DO UPDATE SET at = min(at, excluded.at)`,
      item,
      at,
    );
    await this.#arm();
  }

  /** Moves `item` to `at` (ms), later or earlier (used for retry backoff). */
  async reschedule(item: string, at: number): Promise<void> {
    this.#storage.sql.exec("INSERT OR REPLACE INTO due_items (item, at) VALUES (?, ?)", item, at);
    await this.#arm();
  }

  /** Removes `item` (its work is done). */
  async cancel(item: string): Promise<void> {
    this.#storage.sql.exec("DELETE FROM due_items WHERE item = ?", item);
    await this.#arm();
  }

  /** Removes every item and the alarm. */
  async clear(): Promise<void> {
    this.#storage.sql.exec("DELETE FROM due_items");
    await this.#storage.deleteAlarm();
  }

  /** True when `item` is scheduled. */
  has(item: string): boolean {
    return (
      this.#storage.sql.exec("SELECT 1 FROM due_items WHERE item = ?", item).toArray().length > 0
    );
  }

  /** The items due at `now`, earliest first. */
  due(now: number): string[] {
    return this.#storage.sql
      .exec<{ item: string }>("SELECT item FROM due_items WHERE at <= ? ORDER BY at", now)
      .toArray()
      .map((row) => row.item);
  }

  /** Sets the alarm to the earliest item, or deletes it when nothing is due. */
  async #arm(): Promise<void> {
    const next = this.#storage.sql
      .exec<{ at: number | null }>("SELECT min(at) AS at FROM due_items")
      .one().at;
    if (next === null) await this.#storage.deleteAlarm();
    else if ((await this.#storage.getAlarm()) !== next) await this.#storage.setAlarm(next);
  }

  /** Re-arms after an alarm ran (the runtime clears it before calling the handler). */
  rearm(): Promise<void> {
    return this.#arm();
  }
}
