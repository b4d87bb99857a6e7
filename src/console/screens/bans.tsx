/**
 * The visitor ban list: ban an IP address, a CIDR range or a visitor id (with a reason and
 * an optional expiry), and lift a ban after a confirmation.
 */
import { render, useState } from "hono/jsx/dom";
import type { Ban, BanListResponse, CreateBanRequest } from "../../protocol/http.ts";
import { AdminTable } from "./admin-table.tsx";
import { ConfirmDialog } from "./confirm-dialog.tsx";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";
import { useResource } from "./use-resource.ts";

function BansScreen() {
  const list = useResource<BanListResponse>("/api/bans");
  const [error, setError] = useState("");
  const [lifting, setLifting] = useState<Ban | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const values = formValues(form);
    const body: CreateBanRequest = {
      kind: values.kind === "visitor" ? "visitor" : "ip",
      value: values.value ?? "",
      reason: values.reason ?? "",
    };
    if (values.minutes) body.expiresInMinutes = Number(values.minutes);
    try {
      await callApi("POST", "/api/bans", body);
      form.reset();
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const lift = async () => {
    if (!lifting) return;
    setBusy(true);
    try {
      await callApi("DELETE", `/api/bans/${encodeURIComponent(lifting.id)}`);
      setLifting(null);
      setError("");
      list.reload();
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  };

  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId="bans-load-error" />
      <form class="admin-form" onSubmit={create} data-testid="ban-create">
        <h3>New ban</h3>
        <label>
          What to ban
          <select name="kind" data-testid="ban-kind">
            <option value="ip">IP address or CIDR range</option>
            <option value="visitor">Visitor id</option>
          </select>
        </label>
        <label>
          Address, range or visitor id
          <input name="value" required maxlength={100} data-testid="ban-value" />
        </label>
        <label>
          Reason
          <input name="reason" required maxlength={500} data-testid="ban-reason" />
        </label>
        <label>
          Lapses after (minutes; empty: until lifted)
          <input name="minutes" type="number" min={1} data-testid="ban-minutes" />
        </label>
        <button type="submit" data-testid="ban-submit">
          Ban
        </button>
        <ErrorLine text={error} testId="ban-error" />
      </form>
      <AdminTable
        testId="bans-table"
        caption="Bans (active first)"
        columns={["Kind", "Value", "Reason", "Created", "Lapses"]}
      >
        {(list.data?.bans ?? []).map((ban) => (
          <tr key={ban.id} data-testid="ban-row">
            <td>{ban.kind === "ip" ? "IP" : "visitor"}</td>
            <td>{ban.value}</td>
            <td>{ban.reason}</td>
            <td>{formatTime(ban.createdAt)}</td>
            <td>{ban.active ? (ban.expiresAt ? formatTime(ban.expiresAt) : "never") : "lapsed"}</td>
            <td>
              <button
                type="button"
                class="secondary"
                aria-label={`Lift the ban on ${ban.value}`}
                onClick={() => setLifting(ban)}
              >
                Lift
              </button>
            </td>
          </tr>
        ))}
      </AdminTable>
      <ConfirmDialog
        open={lifting !== null}
        title="Lift ban"
        text={`Lift the ban on ${lifting?.value ?? ""}? The visitor can start chats again.`}
        confirmLabel="Lift ban"
        testId="ban-lift"
        busy={busy}
        onConfirm={() => void lift()}
        onCancel={() => setLifting(null)}
      />
    </div>
  );
}

/** `#/bans`. */
export const bansScreen: Screen = {
  id: "bans",
  title: "Ban list",
  anyOf: ["bans.manage"],
  reaches: ["GET /api/bans", "POST /api/bans", "DELETE /api/bans/:id"],
  render(root) {
    render(<BansScreen />, root);
    return undefined;
  },
};
