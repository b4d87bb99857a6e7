/**
 * Placeholders of canned messages (`{visitor.name}`, …) and their rendering. Pure and
 * runtime-neutral: the console renders a canned message in the browser, with the values of
 * the chat it is inserted into, before the agent sends it as an ordinary chat message.
 */

/** Every supported placeholder, in the order the console offers them. */
export const CANNED_PLACEHOLDERS = [
  { key: "visitor.name", label: "Visitor's name" },
  { key: "visitor.email", label: "Visitor's email" },
  { key: "agent.name", label: "Your name" },
  { key: "department.name", label: "Department's name" },
] as const satisfies readonly { key: string; label: string }[];

/** A supported placeholder's key: written `{key}` in a canned message. */
export type CannedPlaceholder = (typeof CANNED_PLACEHOLDERS)[number]["key"];

/** The values of one chat; a missing, null or empty value renders as an empty string. */
export type PlaceholderValues = Partial<Record<CannedPlaceholder, string | null>>;

const KNOWN = new Set<string>(CANNED_PLACEHOLDERS.map((p) => p.key));

function isPlaceholder(key: string): key is CannedPlaceholder {
  return KNOWN.has(key);
}

/** `{word.word}`: anything else in braces is ordinary text. */
const PLACEHOLDER = /\{([a-z]+\.[a-z]+)\}/g;

/**
 * `text` with every supported placeholder replaced by its value. Unknown placeholders stay as
 * typed (a typo shows up in the composer instead of vanishing), missing values become "" (a
 * guessed fallback such as "there" reads wrong in most languages). One pass, and a replacer
 * function: a value is inserted literally — `{agent.name}` or `$&` inside a visitor's name is
 * never expanded.
 */
export function renderCannedMessage(text: string, values: PlaceholderValues): string {
  return text.replace(PLACEHOLDER, (match, key: string) =>
    isPlaceholder(key) ? (values[key] ?? "") : match,
  );
}
