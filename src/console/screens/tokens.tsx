/**
 * The agent's own API tokens (mobile app, integrations): create one (after a recent
 * re-authentication; the token is shown once), list them and revoke one. Every agent may use
 * this screen: a token carries only its owner's permissions.
 */
import { render, useState } from "hono/jsx/dom";
import { AdminTable } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";
import { useResource } from "./use-resource.ts";

/** `GET /api/auth/tokens` lists these (never the token itself). */
interface TokenListing {
  id: string;
  name: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
}

/** `POST /api/auth/tokens` (201): the only answer that holds the token. */
interface CreatedToken extends Omit<TokenListing, "lastUsedAt"> {
  token: string;
}

function TokensScreen() {
  const list = useResource<{ tokens: TokenListing[] }>("/api/auth/tokens");
  const [created, setCreated] = useState<CreatedToken | null>(null);
  const [revoking, setRevoking] = useState<TokenListing | null>(null);
  const [error, setError] = useState("");

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    try {
      const answer = await callApi<CreatedToken>("POST", "/api/auth/tokens", {
        name: values.name,
        expiresInDays: Number(values.days || 90),
      });
      form.reset();
      setError("");
      setCreated(answer);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async () => {
    if (!revoking) return;
    try {
      await callApi("DELETE", `/api/auth/tokens/${encodeURIComponent(revoking.id)}`);
      setRevoking(null);
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId="tokens-load-error" />
      <form class="admin-form" onSubmit={create} data-testid="token-create">
        <h3>New API token</h3>
        <label>
          Name (what it is for)
          <input name="name" required maxlength={100} data-testid="token-name" />
        </label>
        <label>
          Valid for (days, 1–365)
          <input name="days" type="number" min={1} max={365} value="90" data-testid="token-days" />
        </label>
        <button type="submit" data-testid="token-submit">
          Create token
        </button>
        <ErrorLine text={error} testId="token-error" />
      </form>
      {created ? (
        <section class="link-box" role="status" aria-label="New API token" data-testid="token-box">
          <p>
            Copy the token "{created.name}" now: it is not shown again. It expires{" "}
            {formatTime(created.expiresAt)}.
          </p>
          <input readonly aria-label="API token" value={created.token} data-testid="token-value" />
          <button type="button" class="secondary" onClick={() => setCreated(null)}>
            Done
          </button>
        </section>
      ) : null}
      <AdminTable
        testId="tokens-table"
        caption="Your API tokens"
        columns={["Name", "Created", "Expires", "Last used"]}
      >
        {(list.data?.tokens ?? []).map((t) => (
          <tr key={t.id}>
            <td>{t.name}</td>
            <td>{formatTime(t.createdAt)}</td>
            <td>{formatTime(t.expiresAt)}</td>
            <td>{formatTime(t.lastUsedAt)}</td>
            <td>
              <button
                type="button"
                class="secondary"
                aria-label={`Revoke token ${t.name}`}
                onClick={() => setRevoking(t)}
              >
                Revoke
              </button>
            </td>
          </tr>
        ))}
      </AdminTable>
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke token"
        text={`Revoke the token "${revoking?.name ?? ""}"? Apps using it stop working at once.`}
        confirmLabel="Revoke"
        testId="token-revoke"
        onConfirm={() => void revoke()}
        onCancel={() => setRevoking(null)}
      />
    </div>
  );
}

/** `#/tokens`. */
export const tokensScreen: Screen = {
  id: "tokens",
  title: "API tokens",
  anyOf: [],
  reaches: ["GET /api/auth/tokens", "POST /api/auth/tokens", "DELETE /api/auth/tokens/:id"],
  render(root) {
    render(<TokensScreen />, root);
    return undefined;
  },
};
