/**
 * Security settings: the IP allowlists. The deployment's lists (wrangler.toml) are shown
 * read-only; an administrator may narrow each within them (the server checks that every
 * rule lies inside, and refuses a list that would lock out the network in use), or lift the
 * narrowing. Changes need a recent re-authentication.
 */
import { render, useState } from "hono/jsx/dom";
import { ErrorLine } from "./controls.tsx";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";
import { useResource } from "./use-resource.ts";

type ListKind = "agent" | "mobile";

interface Allowlist {
  /** From the deployment's configuration: read-only here. */
  configured: string[];
  /** The narrower rules in force, or null when not narrowed. */
  narrowed: string[] | null;
}

const KIND_LABELS: Record<ListKind, string> = {
  agent: "Agent console and API",
  mobile: "Mobile app",
};

function SecurityScreen() {
  const lists = useResource<Record<ListKind, Allowlist>>("/api/security/ip-allowlists");
  return (
    <div class="admin-screen">
      <ErrorLine text={lists.error} testId="security-load-error" />
      {lists.data
        ? (["agent", "mobile"] as const).map((kind) => (
            <AllowlistEditor
              key={kind}
              kind={kind}
              list={lists.data?.[kind] ?? { configured: [], narrowed: null }}
              onChanged={lists.reload}
            />
          ))
        : null}
    </div>
  );
}

function AllowlistEditor(props: { kind: ListKind; list: Allowlist; onChanged(): void }) {
  const [text, setText] = useState((props.list.narrowed ?? []).join("\n"));
  const [status, setStatus] = useState("");
  const [error, setError] = useState("");
  const save = async (rules: string[] | null) => {
    setError("");
    setStatus("");
    try {
      await callApi("PUT", `/api/security/ip-allowlists/${props.kind}`, { rules });
      setStatus(rules === null ? "Narrowing lifted." : "Saved.");
      if (rules === null) setText("");
      props.onChanged();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const rules = () =>
    text
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean);
  const id = `allowlist-${props.kind}`;
  return (
    <section class="admin-editor" aria-labelledby={`${id}-title`} data-testid={id}>
      <h3 id={`${id}-title`}>IP allowlist: {KIND_LABELS[props.kind]}</h3>
      <p class="details">Set by the deployment (wrangler.toml), read-only:</p>
      <ul data-testid={`${id}-configured`}>
        {props.list.configured.length === 0 ? <li>any address</li> : null}
        {props.list.configured.map((rule) => (
          <li key={rule}>
            <code>{rule}</code>
          </li>
        ))}
      </ul>
      <label>
        Narrower rules in force (one address or CIDR range per line; empty: not narrowed)
        <textarea
          rows={4}
          value={text}
          onInput={(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
          data-testid={`${id}-narrowed`}
        />
      </label>
      <div class="actions">
        <button type="button" data-testid={`${id}-save`} onClick={() => void save(rules())}>
          Save narrowing
        </button>
        <button
          type="button"
          class="secondary"
          data-testid={`${id}-lift`}
          disabled={props.list.narrowed === null}
          onClick={() => void save(null)}
        >
          Lift narrowing
        </button>
      </div>
      <p role="status" class="details" data-testid={`${id}-status`}>
        {status}
      </p>
      <ErrorLine text={error} />
    </section>
  );
}

/** `#/security`. */
export const securityScreen: Screen = {
  id: "security",
  title: "Security settings",
  anyOf: ["security.manage"],
  reaches: ["GET /api/security/ip-allowlists", "PUT /api/security/ip-allowlists/:kind"],
  render(root) {
    render(<SecurityScreen />, root);
    return undefined;
  },
};
