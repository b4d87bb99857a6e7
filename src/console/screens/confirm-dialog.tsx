/**
 * A modal "are you sure?" for destructive actions (deleting a transcript or an offline
 * message): a native <dialog>, so focus is trapped and Escape cancels without extra code.
 */
import { useEffect, useRef } from "hono/jsx/dom";

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  text: string;
  confirmLabel: string;
  /** `data-testid` of the dialog; its confirm button is `<testId>-confirm`. */
  testId: string;
  /** Set while the action runs: the buttons are disabled meanwhile. */
  busy?: boolean;
  /** A failure of the last attempt, shown in the dialog. */
  error?: string;
  onConfirm(): void;
  onCancel(): void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (props.open && !el.open) el.showModal();
    if (!props.open && el.open) el.close();
  }, [props.open]);
  return (
    <dialog
      ref={dialog}
      class="dialog"
      data-testid={props.testId}
      aria-label={props.title}
      onCancel={(e: Event) => {
        // Escape: leave the closing to the `open` prop, like the Cancel button.
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2>{props.title}</h2>
      <p>{props.text}</p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <div class="actions">
        <button
          type="button"
          class="danger"
          disabled={props.busy}
          data-testid={`${props.testId}-confirm`}
          onClick={props.onConfirm}
        >
          {props.confirmLabel}
        </button>
        <button type="button" class="secondary" disabled={props.busy} onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </dialog>
  );
}
