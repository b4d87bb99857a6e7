/**
 * Small controls shared by the admin screens: an error line, a set of labelled checkboxes
 * (departments, groups, permissions), and the effective-permission preview.
 */
import { PERMISSIONS, type Permission } from "../../security/permissions.ts";

/** A failure, announced to screen readers; nothing when `text` is empty. */
export function ErrorLine(props: { text: string; testId?: string }) {
  if (!props.text) return null;
  return (
    <p class="error" role="alert" data-testid={props.testId}>
      {props.text}
    </p>
  );
}

/** One option of a {@link Checklist}. */
export interface Choice {
  id: string;
  label: string;
  /** Shown under the label (a permission's description). */
  hint?: string;
}

export interface ChecklistProps {
  legend: string;
  choices: Choice[];
  selected: readonly string[];
  onChange(selected: string[]): void;
  /** Prefix of each checkbox's `data-testid`: `<prefix>-<choice id>`. */
  testId: string;
  /** Choices that cannot be changed here (a permission the editor does not hold). */
  locked?: ReadonlySet<string>;
}

/** A fieldset of checkboxes, in the order of `choices`. */
export function Checklist(props: ChecklistProps) {
  const toggle = (id: string, on: boolean) => {
    const next = props.choices
      .map((c) => c.id)
      .filter((c) => (c === id ? on : props.selected.includes(c)));
    props.onChange(next);
  };
  return (
    <fieldset class="checklist">
      <legend>{props.legend}</legend>
      {props.choices.length === 0 ? <p class="empty">None defined yet.</p> : null}
      {props.choices.map((choice) => (
        <label key={choice.id} class="check" title={choice.hint}>
          <input
            type="checkbox"
            data-testid={`${props.testId}-${choice.id}`}
            checked={props.selected.includes(choice.id)}
            disabled={props.locked?.has(choice.id)}
            onChange={(e: Event) => toggle(choice.id, (e.target as HTMLInputElement).checked)}
          />
          <span>{choice.label}</span>
        </label>
      ))}
    </fieldset>
  );
}

/** The permission catalogue as checklist choices. */
export const PERMISSION_CHOICES: Choice[] = PERMISSIONS.map((p) => ({
  id: p.id,
  label: p.label,
  hint: p.description,
}));

/**
 * Permissions the editor may not grant or withdraw (the server refuses both, `beyondActor`):
 * shown, but disabled.
 */
export function lockedFor(held: readonly Permission[]): Set<string> {
  return new Set(PERMISSIONS.map((p) => p.id).filter((id) => !held.includes(id)));
}

/** The effective permissions, listed in catalogue order with where each comes from. */
export function EffectivePreview(props: { sources: Map<Permission, string[]>; testId: string }) {
  const held = PERMISSIONS.filter((p) => props.sources.has(p.id));
  return (
    <section class="preview" aria-label="Effective permissions" data-testid={props.testId}>
      <h4>Effective permissions ({held.length})</h4>
      {held.length === 0 ? <p class="empty">No permissions.</p> : null}
      <ul>
        {held.map((p) => (
          <li key={p.id} data-permission={p.id}>
            {p.label} <span class="details">— from {props.sources.get(p.id)?.join(", ")}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}
