/**
 * Routing rules per department: strategy, offer timeout, overflow to another department,
 * business hours (JSON: time zone, weekly windows, closed dates) and priority segments; or
 * back to the defaults. And each agent's capacity (also on the agents screen).
 */
import { render, useState } from "hono/jsx/dom";
import type { ManagedAgent } from "../../protocol/management.ts";
import type {
  RoutingRuleRequest,
  RoutingRuleView,
  RoutingStrategy,
} from "../../protocol/routing.ts";
import { AdminTable } from "./admin-table.tsx";
import { CapacityForm } from "./agent-forms.tsx";
import { ErrorLine } from "./controls.tsx";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import { useResource } from "./use-resource.ts";

const STRATEGY_LABELS: Record<RoutingStrategy, string> = {
  least_busy: "Least busy agent first",
  round_robin: "Round robin",
  manual: "Manual (agents pick from the queue)",
};

/** An example for an empty business-hours field. */
const HOURS_EXAMPLE =
  '{"timezone": "Europe/Berlin", "week": {"mon": [{"from": "09:00", "to": "17:00"}]}}';

const optionalNumber = (value: string | undefined) => (value ? Number(value) : null);

function RoutingScreen({ ctx }: { ctx: ScreenContext }) {
  const list = useResource<{ rules: RoutingRuleView[] }>("/api/routing/rules");
  const [editing, setEditing] = useState<RoutingRuleView | null>(null);
  const [error, setError] = useState("");
  const rules = list.data?.rules ?? [];
  // Read again on opening: another administrator may have changed it since the list loaded.
  const open = async (departmentId: string) => {
    try {
      const path = `/api/routing/rules/${encodeURIComponent(departmentId)}`;
      setEditing((await callApi<{ rule: RoutingRuleView }>("GET", path)).rule);
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <div class="admin-screen">
      <ErrorLine text={list.error} testId="routing-load-error" />
      <AdminTable
        testId="routing-table"
        caption="Routing by department"
        columns={["Department", "Strategy", "Offer timeout", "Overflow", "Hours"]}
      >
        {rules.map((r) => (
          <tr key={r.departmentId}>
            <td>
              {r.departmentName}
              {r.default ? <span class="details"> (defaults)</span> : null}
            </td>
            <td>{STRATEGY_LABELS[r.strategy]}</td>
            <td>{r.offerTimeoutSeconds === null ? "default" : `${r.offerTimeoutSeconds} s`}</td>
            <td>{r.overflowTo ? `${r.overflowTo} after ${r.overflowAfterSeconds} s` : "—"}</td>
            <td>{r.businessHours ? r.businessHours.timezone : "always open"}</td>
            <td>
              <button
                type="button"
                class="secondary"
                aria-label={`Edit routing of ${r.departmentName}`}
                data-testid={`routing-edit-${r.departmentId}`}
                onClick={() => void open(r.departmentId)}
              >
                Edit
              </button>
            </td>
          </tr>
        ))}
      </AdminTable>
      <ErrorLine text={error} />
      {editing ? (
        <RuleEditor
          key={`${editing.departmentId}-${editing.updatedAt}`}
          rule={editing}
          departments={rules}
          onChanged={list.reload}
          onClose={() => setEditing(null)}
        />
      ) : null}
      {ctx.can("agents.manage") ? <CapacityByName /> : <CapacityById />}
    </div>
  );
}

/** Capacity, picking the agent from the agents list (for holders of `agents.manage`). */
function CapacityByName() {
  const agents = useResource<{ agents: ManagedAgent[] }>("/api/agents");
  const [agentId, setAgentId] = useState("");
  return (
    <section class="admin-editor" aria-labelledby="capacity-title">
      <h3 id="capacity-title">Agent capacity</h3>
      <ErrorLine text={agents.error} />
      <label>
        Agent
        <select
          data-testid="capacity-agent"
          onChange={(e: Event) => setAgentId((e.target as HTMLSelectElement).value)}
        >
          <option value="">Choose an agent…</option>
          {(agents.data?.agents ?? []).map((a) => (
            <option key={a.id} value={a.id} selected={a.id === agentId}>
              {a.name} ({a.email})
            </option>
          ))}
        </select>
      </label>
      {agentId ? <CapacityForm key={agentId} agentId={agentId} /> : null}
    </section>
  );
}

/**
 * Capacity for an agent named by id: without `agents.manage` the agents list is not
 * readable, but reports and the audit log show agents' ids.
 */
function CapacityById() {
  const [agentId, setAgentId] = useState("");
  return (
    <section class="admin-editor" aria-labelledby="capacity-title">
      <h3 id="capacity-title">Agent capacity</h3>
      <label>
        Agent id (as reports and the audit log show it)
        <input
          data-testid="capacity-agent-id"
          maxlength={64}
          onChange={(e: Event) => setAgentId((e.target as HTMLInputElement).value.trim())}
        />
      </label>
      {agentId ? <CapacityForm key={agentId} agentId={agentId} /> : null}
    </section>
  );
}

interface EditorProps {
  rule: RoutingRuleView;
  departments: RoutingRuleView[];
  onChanged(): void;
  onClose(): void;
}

function RuleEditor({ rule, departments, onChanged, onClose }: EditorProps) {
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const path = `/api/routing/rules/${encodeURIComponent(rule.departmentId)}`;
  const run = async (done: string, action: () => Promise<unknown>) => {
    setError("");
    setStatus("");
    try {
      await action();
      setStatus(done);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const save = (e: Event) => {
    e.preventDefault();
    const v = formValues(e.target as HTMLFormElement);
    let businessHours: RoutingRuleRequest["businessHours"] = null;
    try {
      businessHours = v.hours?.trim() ? JSON.parse(v.hours) : null;
    } catch {
      return setError("Business hours: not valid JSON.");
    }
    const body = {
      strategy: v.strategy as RoutingStrategy,
      offerTimeoutSeconds: optionalNumber(v.timeout),
      overflowTo: v.overflowTo || null,
      overflowAfterSeconds: v.overflowTo ? optionalNumber(v.overflowAfter) : null,
      businessHours,
      prioritySegments: (v.segments ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    };
    void run("Saved.", () => callApi("PUT", path, body));
  };
  return (
    <form class="admin-editor" onSubmit={save} aria-label={`Routing of ${rule.departmentName}`}>
      <h3>Routing of {rule.departmentName}</h3>
      <label>
        Strategy
        <select name="strategy" data-testid="routing-strategy">
          {Object.entries(STRATEGY_LABELS).map(([id, label]) => (
            <option key={id} value={id} selected={id === rule.strategy}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Seconds to answer an offer (5–600; empty: the deployment's default)
        <input
          name="timeout"
          type="number"
          min={5}
          max={600}
          value={rule.offerTimeoutSeconds ?? ""}
        />
      </label>
      <label>
        Overflow waiting chats to
        <select name="overflowTo">
          <option value="">No overflow</option>
          {departments
            .filter((d) => d.departmentId !== rule.departmentId)
            .map((d) => (
              <option
                key={d.departmentId}
                value={d.departmentId}
                selected={d.departmentId === rule.overflowTo}
              >
                {d.departmentName}
              </option>
            ))}
        </select>
      </label>
      <label>
        …after (seconds, 10–3600)
        <input
          name="overflowAfter"
          type="number"
          min={10}
          max={3600}
          value={rule.overflowAfterSeconds ?? ""}
        />
      </label>
      <label>
        Priority segments (ids, comma-separated)
        <input name="segments" value={rule.prioritySegments.join(", ")} />
      </label>
      <label>
        Business hours (JSON; empty: always open), e.g. {HOURS_EXAMPLE}
        <textarea
          name="hours"
          class="json"
          rows={6}
          spellcheck={false}
          value={rule.businessHours ? JSON.stringify(rule.businessHours, null, 2) : ""}
        />
      </label>
      <div class="actions">
        <button type="submit" data-testid="routing-save">
          Save
        </button>
        <button
          type="button"
          class="secondary"
          disabled={rule.default}
          onClick={() => void run("Back to the defaults.", () => callApi("DELETE", path))}
        >
          Use the defaults
        </button>
        <button type="button" class="secondary" onClick={onClose}>
          Close
        </button>
      </div>
      <p role="status" class="details" data-testid="routing-status">
        {status}
      </p>
      <ErrorLine text={error} />
    </form>
  );
}

/** `#/routing`. */
export const routingScreen: Screen = {
  id: "routing",
  title: "Routing rules",
  anyOf: ["routing.manage"],
  reaches: [
    "GET /api/routing/rules",
    "GET /api/routing/rules/:department",
    "PUT /api/routing/rules/:department",
    "DELETE /api/routing/rules/:department",
    "PUT /api/routing/capacity/:agentId",
    // The agent picker of the capacity form, for holders of agents.manage as well.
    "GET /api/agents",
  ],
  render(root, ctx) {
    render(<RoutingScreen ctx={ctx} />, root);
    return undefined;
  },
};
