/**
 * The widget's page-facing events (`Parley.on`) and its unread count. Pure logic, no DOM, so
 * both are unit-tested in Node.
 */

/** The events a page can listen to, with what each listener receives. */
export interface WidgetEvents {
  open: undefined;
  close: undefined;
  /** An agent's message (live, not the replay of an earlier page). */
  message: { text: string; agent: string | null; at: number };
  chat_started: { chatId: string };
  chat_ended: { chatId: string };
  /** The unread count changed (0 when the visitor opened the panel). */
  unread: { count: number };
}

export type WidgetEventName = keyof WidgetEvents;

/** Listeners by event. */
export interface Emitter {
  on<K extends WidgetEventName>(event: K, fn: (data: WidgetEvents[K]) => void): void;
  emit<K extends WidgetEventName>(event: K, data: WidgetEvents[K]): void;
}

/** Creates an emitter; listeners run asynchronously, in the order they were added. */
export function createEmitter(): Emitter {
  const listeners = new Map<string, ((data: never) => void)[]>();
  return {
    on(event, fn) {
      listeners.set(event, [...(listeners.get(event) ?? []), fn]);
    },
    emit(event, data) {
      // Each in its own microtask: a listener that throws (the page's bug) is reported by
      // the browser and can neither break the widget nor skip the other listeners.
      for (const fn of listeners.get(event) ?? []) queueMicrotask(() => fn(data as never));
    },
  };
}

/** Counts agent messages that arrive while the panel is closed. */
export interface UnreadCounter {
  /** An agent message arrived; counted unless the panel is open. */
  message(): void;
  /** The panel opened (resets the count) or closed. */
  setOpen(open: boolean): void;
}

/** `onChange` hears every change of the count, never a repeat of the same value. */
export function createUnread(onChange: (count: number) => void): UnreadCounter {
  let open = false;
  let count = 0;
  const set = (next: number) => {
    if (next === count) return;
    count = next;
    onChange(count);
  };
  return {
    message: () => {
      if (!open) set(count + 1);
    },
    setOpen(next) {
      open = next;
      if (open) set(0);
    },
  };
}
