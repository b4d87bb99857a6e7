/**
 * Page-URL rules in the console's forms: the words for each test, and an editor of a list of
 * rules (a campaign's pages, its automatic invitation's pages). A segment's URL condition uses
 * the same words (`segment-form.tsx`).
 */
// Types only from the protocol's schemas: the console must not bundle zod.
import type { UrlRule, UrlRuleOp } from "../../protocol/campaigns.ts";
import { MAX_URL_RULES } from "../../protocol/limits.ts";

/** Every URL test the API knows (the record's type makes a new one a compile error here). */
export const URL_RULE_LABELS: Record<UrlRuleOp, string> = {
  equals: "is",
  starts_with: "starts with",
  contains: "contains",
  glob: "matches the pattern (* = anything)",
};

/** The value of the control that fired `e`. */
export const inputValue = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

/** `<option>`s of `[value, label]` pairs, `selected` marked. */
export function Options(props: { choices: [string, string][]; selected: string }) {
  return (
    <>
      {props.choices.map(([value, label]) => (
        <option key={value} value={value} selected={value === props.selected}>
          {label}
        </option>
      ))}
    </>
  );
}

export interface UrlRulesEditorProps {
  /** The fieldset's legend. */
  legend: string;
  /** What an empty list means here ("every page"). */
  emptyMeans: string;
  rules: UrlRule[];
  onChange(rules: UrlRule[]): void;
  /** Prefix of the controls' `data-testid`: `<prefix>-op-<i>`, `-value-<i>`, `-remove-<i>`, `-add`. */
  testId: string;
}

/** A list of URL rules: any one matching is enough. */
export function UrlRulesEditor(props: UrlRulesEditorProps) {
  const { rules, onChange, testId } = props;
  const set = (index: number, rule: UrlRule | null) =>
    onChange(rules.flatMap((r, i) => (i !== index ? [r] : rule ? [rule] : [])));
  return (
    <fieldset class="url-rules">
      <legend>{props.legend}</legend>
      <p class="hint">
        {rules.length === 0 ? `No rule: ${props.emptyMeans}.` : "Any rule that matches is enough."}
      </p>
      {rules.map((rule, index) => (
        // The position is the row's identity: a removal re-renders the rows after it.
        <div class="url-rule" key={String(index)}>
          <label>
            URL
            <select
              data-testid={`${testId}-op-${index}`}
              onChange={(e: Event) => set(index, { ...rule, op: inputValue(e) as UrlRuleOp })}
            >
              <Options choices={Object.entries(URL_RULE_LABELS)} selected={rule.op} />
            </select>
          </label>
          <label class="condition-text">
            Address or pattern
            <input
              data-testid={`${testId}-value-${index}`}
              value={rule.value}
              placeholder="https://example.com/pricing*"
              onInput={(e: Event) => set(index, { ...rule, value: inputValue(e) })}
            />
          </label>
          <button
            type="button"
            class="secondary"
            data-testid={`${testId}-remove-${index}`}
            aria-label={`Remove rule ${index + 1} of ${props.legend}`}
            onClick={() => set(index, null)}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="secondary add-row"
        data-testid={`${testId}-add`}
        disabled={rules.length >= MAX_URL_RULES}
        onClick={() => onChange([...rules, { op: "starts_with", value: "" }])}
      >
        Add a rule
      </button>
    </fieldset>
  );
}
