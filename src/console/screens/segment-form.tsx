/**
 * The form editor of a visitor segment (`segments.tsx`): its id, name, whether all or any
 * condition must hold, and each condition as a row of controls, so an administrator never
 * has to write the rules' JSON. It only shapes the body; the server validates it and its 400
 * names the field that is wrong (`json-documents.tsx` shows it). Every condition the API
 * knows can be built here; the JSON view stays one click away.
 */
// Types only from the protocol's schemas: the console must not bundle zod.

import type { UrlRuleOp } from "../../protocol/campaigns.ts";
import { MAX_SEGMENT_CONDITIONS } from "../../protocol/limits.ts";
import type { SegmentCondition, SegmentRules } from "../../protocol/segments.ts";
import type { VariableDeclaration, VariableType } from "../../protocol/variables.ts";
import { useDeclaredVariables } from "./declared-variables.ts";
import type { DocumentFormProps } from "./json-documents.tsx";
import { inputValue, Options, URL_RULE_LABELS } from "./url-rules-editor.tsx";

/** A segment as the editor holds it: `id` only while it is new. */
interface SegmentBody {
  id?: string;
  name: string;
  rules: SegmentRules;
}

type Field = SegmentCondition["field"];
type VariableCondition = Extract<SegmentCondition, { field: "variable" }>;
type VariableOp = VariableCondition["op"];

const FIELDS: [Field, string][] = [
  ["url", "Page URL"],
  ["country", "Country"],
  ["visits", "Number of visits"],
  ["variable", "Custom variable"],
];
const VISIT_OPS: [string, string][] = [
  ["gte", "at least"],
  ["lte", "at most"],
  ["eq", "exactly"],
];
const VARIABLE_OPS: [VariableOp, string][] = [
  ["exists", "is set"],
  ["equals", "equals"],
  ["contains", "contains the text"],
  ["gte", "is at least"],
  ["lte", "is at most"],
];

/** A new condition on `field`, with the most common operator. */
function blank(field: Field): SegmentCondition {
  if (field === "url") return { field, op: "starts_with", value: "" };
  if (field === "country") return { field, op: "in", values: [] };
  if (field === "visits") return { field, op: "gte", value: 2 };
  return { field, name: "", op: "exists" };
}

/** The variable condition with operator `op`, keeping the name (and a value that still fits). */
function withVariableOp(c: VariableCondition, op: VariableOp): VariableCondition {
  const { name } = c;
  const value = "value" in c ? c.value : undefined;
  if (op === "exists") return { field: "variable", name, op };
  if (op === "gte" || op === "lte") {
    return { field: "variable", name, op, value: typeof value === "number" ? value : 0 };
  }
  if (op === "contains") return { field: "variable", name, op, value: String(value ?? "") };
  return { field: "variable", name, op, value: value ?? "" };
}

/** A typed number; an empty or non-numeric entry is sent as is and refused by the server. */
const numberOf = (text: string) => (text.trim() === "" ? Number.NaN : Number(text));

interface RowProps {
  index: number;
  condition: SegmentCondition;
  /** The declared custom variables, or null when this admin may not read them. */
  declared: VariableDeclaration[] | null;
  onChange(condition: SegmentCondition): void;
  onRemove(): void;
}

/** The controls of one condition after its field: operator and value(s). */
function ConditionControls({ index, condition: c, declared, onChange }: RowProps) {
  const id = (part: string) => `condition-${part}-${index}`;
  if (c.field === "url") {
    return (
      <>
        <label>
          Test
          <select
            data-testid={id("op")}
            onChange={(e: Event) => onChange({ ...c, op: inputValue(e) as UrlRuleOp })}
          >
            <Options choices={Object.entries(URL_RULE_LABELS)} selected={c.op} />
          </select>
        </label>
        <label class="condition-text">
          URL or pattern
          <input
            data-testid={id("value")}
            value={c.value}
            placeholder="https://example.com/pricing*"
            onInput={(e: Event) => onChange({ ...c, value: inputValue(e) })}
          />
        </label>
      </>
    );
  }
  if (c.field === "country") {
    // Committed on change (not per key), so the separators the admin types stay in the box.
    return (
      <label class="condition-text">
        Any of these countries (ISO codes, e.g. DE, AT, CH)
        <input
          data-testid={id("value")}
          value={c.values.join(", ")}
          onChange={(e: Event) =>
            onChange({
              ...c,
              values: inputValue(e)
                .toUpperCase()
                .split(/[\s,;]+/)
                .filter(Boolean),
            })
          }
        />
      </label>
    );
  }
  if (c.field === "visits") {
    return (
      <>
        <label>
          Test
          <select
            data-testid={id("op")}
            onChange={(e: Event) => onChange({ ...c, op: inputValue(e) as typeof c.op })}
          >
            <Options choices={VISIT_OPS} selected={c.op} />
          </select>
        </label>
        <label>
          Visits
          <input
            type="number"
            min={0}
            data-testid={id("value")}
            value={String(c.value)}
            onChange={(e: Event) => onChange({ ...c, value: numberOf(inputValue(e)) })}
          />
        </label>
      </>
    );
  }
  return <VariableControls index={index} condition={c} declared={declared} onChange={onChange} />;
}

type ValueKind = "text" | "number" | "boolean";

const kindOfValue = (value: unknown): ValueKind =>
  typeof value === "number" ? "number" : typeof value === "boolean" ? "boolean" : "text";
/** The value a declared variable of `type` is compared with. */
const kindOfType = (type: VariableType): ValueKind =>
  type === "number" ? "number" : type === "boolean" ? "boolean" : "text";
/** `value` as a value of `kind` (a number that is not one stays NaN: the server names it). */
function valueAs(value: unknown, kind: ValueKind): string | number | boolean {
  if (kind === "number") return typeof value === "number" ? value : numberOf(String(value ?? ""));
  if (kind === "boolean") return value === true;
  return typeof value === "string" ? value : "";
}

/**
 * A custom variable's name, operator and value. With the declarations at hand (the admin may
 * read them) the name is offered from them and `equals` compares with a value of the declared
 * type; otherwise a Type control says which.
 */
function VariableControls(props: {
  index: number;
  condition: VariableCondition;
  declared: VariableDeclaration[] | null;
  onChange(condition: SegmentCondition): void;
}) {
  const { index, condition: c, declared } = props;
  const id = (part: string) => `condition-${part}-${index}`;
  const typeOf = (name: string) => declared?.find((v) => v.name === name)?.type;
  const value = "value" in c ? c.value : undefined;
  const declaredType = typeOf(c.name);
  const kind = c.op === "equals" && declaredType ? kindOfType(declaredType) : kindOfValue(value);
  /** Every change goes through here: an `equals` takes the declared type's kind of value. */
  const onChange = (next: VariableCondition) => {
    const type = typeOf(next.name);
    if (next.op !== "equals" || !type) return props.onChange(next);
    props.onChange({ ...next, value: valueAs(next.value, kindOfType(type)) });
  };
  const setValue = (next: string | number | boolean) =>
    onChange({ ...c, value: next } as VariableCondition);
  return (
    <>
      <label class="condition-text">
        Variable
        <input
          data-testid={id("name")}
          value={c.name}
          list={declared ? "segment-variables" : undefined}
          placeholder="plan"
          onInput={(e: Event) => onChange({ ...c, name: inputValue(e) })}
        />
      </label>
      <label>
        Test
        <select
          data-testid={id("op")}
          onChange={(e: Event) => onChange(withVariableOp(c, inputValue(e) as VariableOp))}
        >
          <Options choices={VARIABLE_OPS} selected={c.op} />
        </select>
      </label>
      {c.op === "equals" && !declaredType ? (
        <label>
          Type
          <select
            data-testid={id("type")}
            onChange={(e: Event) => setValue(valueAs(value, inputValue(e) as ValueKind))}
          >
            <Options
              choices={[
                ["text", "text"],
                ["number", "number"],
                ["boolean", "yes or no"],
              ]}
              selected={kind}
            />
          </select>
        </label>
      ) : null}
      {c.op === "exists" ? null : kind === "boolean" ? (
        <label>
          Value
          <select
            data-testid={id("value")}
            onChange={(e: Event) => setValue(inputValue(e) === "true")}
          >
            <Options
              choices={[
                ["true", "yes"],
                ["false", "no"],
              ]}
              selected={String(value)}
            />
          </select>
        </label>
      ) : (
        <label class="condition-text">
          Value
          <input
            type={kind === "number" ? "number" : "text"}
            data-testid={id("value")}
            value={String(value ?? "")}
            onInput={kind === "number" ? undefined : (e: Event) => setValue(inputValue(e))}
            onChange={
              kind === "number" ? (e: Event) => setValue(numberOf(inputValue(e))) : undefined
            }
          />
        </label>
      )}
    </>
  );
}

/** One condition: its field, its controls, and a button that removes it. */
function ConditionRow(props: RowProps) {
  const { index, condition, onChange, onRemove } = props;
  return (
    <fieldset class="condition" data-testid={`condition-${index}`}>
      <legend>Condition {index + 1}</legend>
      <label>
        On
        <select
          data-testid={`condition-field-${index}`}
          onChange={(e: Event) => onChange(blank(inputValue(e) as Field))}
        >
          <Options choices={FIELDS} selected={condition.field} />
        </select>
      </label>
      <ConditionControls {...props} />
      <button
        type="button"
        class="secondary"
        data-testid={`condition-remove-${index}`}
        aria-label={`Remove condition ${index + 1}`}
        onClick={onRemove}
      >
        Remove
      </button>
    </fieldset>
  );
}

export interface SegmentFormProps extends DocumentFormProps {
  /** The admin holds `variables.manage`, so the declared variables can be offered. */
  canReadVariables: boolean;
}

/** The segment editor's form (see the module comment). */
export function SegmentForm({ value, isNew, onChange, canReadVariables }: SegmentFormProps) {
  const declared = useDeclaredVariables(canReadVariables);
  const segment = value as SegmentBody;
  const { rules } = segment;
  const setRules = (next: Partial<SegmentRules>) =>
    onChange({ ...segment, rules: { ...rules, ...next } });
  const setCondition = (index: number, condition: SegmentCondition | null) =>
    setRules({
      conditions: rules.conditions.flatMap((c, i) =>
        i !== index ? [c] : condition ? [condition] : [],
      ),
    });
  return (
    <div class="document-form" data-testid="segment-form">
      {isNew ? (
        <label>
          Id (lowercase letters, digits, - and _; cannot change later)
          <input
            data-testid="segment-id"
            value={segment.id ?? ""}
            onInput={(e: Event) => onChange({ ...segment, id: inputValue(e) })}
          />
        </label>
      ) : null}
      <label>
        Name
        <input
          data-testid="segment-name"
          value={segment.name}
          onInput={(e: Event) => onChange({ ...segment, name: inputValue(e) })}
        />
      </label>
      <label>
        A visitor is in the segment when
        <select
          data-testid="segment-match"
          onChange={(e: Event) => setRules({ match: inputValue(e) as SegmentRules["match"] })}
        >
          <Options
            choices={[
              ["all", "every condition holds (no condition: every visitor)"],
              ["any", "any condition holds (no condition: nobody)"],
            ]}
            selected={rules.match}
          />
        </select>
      </label>
      {rules.conditions.map((condition, index) => (
        <ConditionRow
          // The row's position is its identity: a removal re-renders the rows after it.
          key={`${index}-${condition.field}`}
          index={index}
          condition={condition}
          declared={declared}
          onChange={(next) => setCondition(index, next)}
          onRemove={() => setCondition(index, null)}
        />
      ))}
      {declared ? (
        <datalist id="segment-variables">
          {declared.map((v) => (
            <option key={v.name} value={v.name}>
              {`${v.label} (${v.type})`}
            </option>
          ))}
        </datalist>
      ) : null}
      <div class="actions">
        <button
          type="button"
          class="secondary"
          data-testid="condition-add"
          disabled={rules.conditions.length >= MAX_SEGMENT_CONDITIONS}
          onClick={() => setRules({ conditions: [...rules.conditions, blank("url")] })}
        >
          Add a condition
        </button>
      </div>
    </div>
  );
}
