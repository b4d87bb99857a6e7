/** Validation of incoming WebSocket frames, shared by every Durable Object. */
import type { z } from "zod";
import { MAX_FRAME_CHARS } from "./limits.ts";

export type ParsedFrame<T> =
  | { ok: true; frame: T }
  | { ok: false; code: "bad_frame" | "frame_too_large"; message: string };

/** JSON.parse that answers undefined instead of throwing. */
export function safeJson(text: string | null | undefined): unknown {
  if (text == null) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Checks size, type and shape of a frame. The message names the first failing field, so
 * a client developer can see what was wrong, and never echoes the frame back.
 */
export function parseFrame<Schema extends z.ZodType>(
  schema: Schema,
  data: string | ArrayBuffer,
): ParsedFrame<z.infer<Schema>> {
  if (typeof data !== "string") {
    return { ok: false, code: "bad_frame", message: "Frames are JSON text." };
  }
  if (data.length > MAX_FRAME_CHARS) {
    return {
      ok: false,
      code: "frame_too_large",
      message: `Frames are limited to ${MAX_FRAME_CHARS} characters.`,
    };
  }
  const json = safeJson(data);
  if (json === undefined)
    return { ok: false, code: "bad_frame", message: "The frame is not JSON." };
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, frame: result.data };
  const issue = result.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return { ok: false, code: "bad_frame", message: `${where}${issue?.message ?? "invalid frame"}` };
}
