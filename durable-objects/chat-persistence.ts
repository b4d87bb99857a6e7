/**
 * Copying a chat from its ChatSession to D1: events in batches shortly after they are stored
 * (the alarm retries when D1 fails or the object was evicted first), and the end of the chat
 * (D1 status, then the Dispatcher frees the agent's capacity). Every step is idempotent.
 */
import { endChat } from "../src/store/chats.ts";
import { insertEvents } from "../src/store/messages.ts";
import type { Env } from "../worker/env.ts";
import type { ChatMeta } from "./chat-meta.ts";
import { getDispatcher } from "./dispatcher.ts";
import { type DueItems, jittered } from "./due-items.ts";
import type { EventLog } from "./event-log.ts";

/** Events written to D1 per flush. */
const FLUSH_BATCH = 200;
/** A quiet chat's events reach D1 this soon after they are stored (search sees them). */
const FLUSH_DELAY_MS = 50;
/**
 * A busy chat flushes at most once in this interval. Each flush is a D1 round trip (and, in
 * D1, a commit and the search index's triggers); one per message cost more CPU than the rest
 * of the message's path under load (2 s rather than 1 s saved another tenth of the CPU per
 * message in `npm run bench`). The events are already durable in this object before the ack,
 * so the wait costs only how soon search and transcripts see them.
 */
const BUSY_FLUSH_INTERVAL_MS = 2_000;
/**
 * …plus up to this much at random. Chats that began together (a bench's, or every chat after
 * a restart) would otherwise flush in step: at C = 150 in `npm run bench` all their D1
 * copies landed within half a second, every 2.5 seconds, and held every chat's messages
 * 100–200 ms (p99 187 ms; spread out, 19 ms).
 */
const BUSY_FLUSH_SPREAD_MS = 1_000;
/** If the in-memory flush never runs (eviction, D1 down), the alarm retries after this. */
const FLUSH_SAFETY_MS = 10_000;
const RETRY_BACKOFF_MS = 5_000;

export interface ChatPersistenceHost {
  env: Env;
  log: EventLog;
  meta: ChatMeta;
  due: DueItems;
  waitUntil: (promise: Promise<unknown>) => void;
  /**
   * How long an ended chat's own copy stays here once D1 holds it: as long as a visitor token
   * of the chat may still ask for a replay (VISITOR_TOKEN_HOURS).
   */
  endedCopyMs: number;
}

export class ChatPersistence {
  readonly #host: ChatPersistenceHost;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * When the safety alarm is due (ms), or null while it is not set. While the chat is busy
   * the timed flushes push it on before it fires, every half interval rather than every flush
   * (each move is two storage writes); `retry()` clears it once D1 has everything. Memory
   * only: after a restart the first event sets it again (idempotently).
   */
  #safetyAt: number | null = null;
  /** When the last flush began (ms): paces the next one while the chat is busy. */
  #lastFlushAt = 0;

  constructor(host: ChatPersistenceHost) {
    this.#host = host;
  }

  /**
   * A new event was stored: flush soon (at once when the chat was quiet, batched when it is
   * busy), and make sure the alarm does it if we are evicted.
   */
  scheduleFlush(): void {
    const { due, waitUntil } = this.#host;
    if (this.#safetyAt === null) {
      this.#safetyAt = Date.now() + jittered(FLUSH_SAFETY_MS);
      // Written before the flush runs, so an eviction in between still leads to a flush.
      waitUntil(due.schedule("flush", this.#safetyAt));
    }
    if (this.#flushTimer) return;
    // Counted from this event, not from the last flush: chats that flushed together (say,
    // after a restart) would otherwise stay in step and hit D1 all at once, every interval.
    const busy = Date.now() - this.#lastFlushAt < BUSY_FLUSH_INTERVAL_MS;
    this.#flushTimer = setTimeout(
      () => {
        this.#flushTimer = undefined;
        waitUntil(this.#timedFlush());
      },
      busy ? busyFlushDelay() : FLUSH_DELAY_MS,
    );
  }

  /**
   * The in-memory timer's flush. While it keeps D1 current the safety alarm has nothing to
   * do, so it is pushed on before it fires: left alone, every busy chat's alarm fired every
   * 10 seconds (an invocation and a D1 round trip that found nothing the timer had left), and
   * chats that began together fired together.
   */
  async #timedFlush(): Promise<void> {
    if (!(await this.flush()) || this.#safetyAt === null) return;
    const now = Date.now();
    if (this.#safetyAt - now >= FLUSH_SAFETY_MS / 2) return;
    this.#safetyAt = now + jittered(FLUSH_SAFETY_MS);
    await this.#host.due.reschedule("flush", this.#safetyAt);
  }

  /** Writes unflushed events to D1 (idempotent); on failure the alarm retries. */
  async flush(): Promise<boolean> {
    const { env, log, meta, due } = this.#host;
    const chatId = meta.chatId;
    if (!chatId) return true;
    this.#lastFlushAt = Date.now();
    try {
      for (let batch = log.unflushed(FLUSH_BATCH); batch.length > 0; ) {
        await insertEvents(env.DB, chatId, batch);
        log.markFlushed(batch[batch.length - 1]?.seq ?? 0);
        batch = batch.length < FLUSH_BATCH ? [] : log.unflushed(FLUSH_BATCH);
      }
    } catch (error) {
      console.error(`[parley] chat ${chatId}: D1 flush failed, retrying`, error);
      this.#safetyAt = Date.now() + RETRY_BACKOFF_MS;
      await due.reschedule("flush", this.#safetyAt);
      if (log.flushFailingSince === null) log.setFlushFailing(Date.now());
      await this.#reportBacklog(chatId, log.unflushedCount());
      return false;
    }
    if (log.flushFailingSince !== null && log.unflushedCount() === 0) {
      // Cleared only once reported: a failed report is repeated by the next flush.
      if (await this.#reportBacklog(chatId, 0)) log.setFlushFailing(null);
    }
    return true;
  }

  /**
   * Tells the Dispatcher how many events wait for D1 (`/healthz` sums them). Best effort:
   * the events are safe here either way, and the report is repeated on the next flush.
   */
  async #reportBacklog(chatId: string, events: number): Promise<boolean> {
    try {
      await getDispatcher(this.#host.env).reportChatBacklog(chatId, events);
      return true;
    } catch (error) {
      console.error(`[parley] chat ${chatId}: reporting the D1 backlog failed`, error);
      return false;
    }
  }

  /**
   * The alarm's flush: afterwards the safety alarm is cleared when D1 has every event, or
   * moved on when more arrived meanwhile (a failed flush has already set its backoff).
   */
  async retry(): Promise<void> {
    const { log, due } = this.#host;
    if (!(await this.flush())) return;
    if (log.unflushedCount() > 0) {
      this.#safetyAt = Date.now() + jittered(FLUSH_SAFETY_MS);
      await due.reschedule("flush", this.#safetyAt);
    } else {
      this.#safetyAt = null;
      await due.cancel("flush");
    }
  }

  /** True when D1 holds the whole chat: every event, and its end. */
  get copied(): boolean {
    const { log, meta, due } = this.#host;
    return meta.ended && log.unflushedCount() === 0 && !due.has("finalize");
  }

  /**
   * The chat was erased: nothing is left to flush. A D1 backlog reported for it is withdrawn
   * (best effort, as every report), so `/healthz` does not wait for it forever.
   */
  async forget(): Promise<void> {
    const { log, meta } = this.#host;
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    this.#safetyAt = null;
    const chatId = meta.chatId;
    if (chatId && log.flushFailingSince !== null) await this.#reportBacklog(chatId, 0);
  }

  /** After the end: mark the chat ended in D1 and free the agent's capacity. */
  async finalize(): Promise<void> {
    const { env, meta, due } = this.#host;
    const chatId = meta.chatId;
    const endedAt = meta.endedAt;
    if (!chatId || endedAt === null) return due.cancel("finalize");
    try {
      await endChat(env.DB, chatId, endedAt);
      await getDispatcher(env).chatEnded(chatId);
      await due.cancel("finalize");
      await due.schedule("erase", endedAt + this.#host.endedCopyMs);
    } catch (error) {
      console.error(`[parley] chat ${chatId}: finalize failed, retrying`, error);
      await due.reschedule("finalize", Date.now() + RETRY_BACKOFF_MS);
    }
  }
}

/**
 * How long a busy chat gathers events before its next D1 copy: at least BUSY_FLUSH_INTERVAL_MS,
 * at most BUSY_FLUSH_SPREAD_MS more, drawn anew each time so chats in step drift apart.
 */
export function busyFlushDelay(): number {
  return BUSY_FLUSH_INTERVAL_MS + Math.round(Math.random() * BUSY_FLUSH_SPREAD_MS);
}
