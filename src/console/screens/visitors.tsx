/**
 * Live visitors (`visitors.invite`): who is on the site now, polled every few seconds while
 * the screen is open (the clean-up stops it), and a proactive invitation to chat. A visitor
 * who accepts starts a chat that is offered to the inviting agent first.
 */
import { render, useEffect, useState } from "hono/jsx/dom";
import type {
  InvitationResponse,
  LiveVisitor,
  LiveVisitorsResponse,
} from "../../protocol/visitors.ts";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen } from "./screen.ts";

/** How often the list is fetched again while the screen is open. */
const VISITORS_POLL_MS = 5000;
/** Longest invitation message (MAX_INVITATION_CHARS of src/protocol/visitors.ts). */
const MAX_INVITATION_CHARS = 200;

function InviteForm(props: { visitor: LiveVisitor; onClose(): void }) {
  const [sent, setSent] = useState("");
  const [error, setError] = useState("");
  const path = `/api/visitors/${encodeURIComponent(props.visitor.visitorId)}/invitations`;
  return (
    <form
      class="inline-form"
      aria-label={`Invitation to the visitor on ${props.visitor.pageTitle ?? props.visitor.pageUrl ?? "the site"}`}
      data-testid="invite-form"
      onSubmit={(e: Event) => {
        e.preventDefault();
        const message = formValues(e.currentTarget as HTMLFormElement).message?.trim();
        setError("");
        callApi<InvitationResponse>("POST", path, message ? { message } : {}).then(
          (data) => setSent(`Invitation sent; it lapses at ${formatTime(data.expiresAt)}.`),
          (err: unknown) => setError(errorText(err)),
        );
      }}
    >
      <label>
        Message (optional){" "}
        <input name="message" maxLength={MAX_INVITATION_CHARS} placeholder="Hello! Can we help?" />
      </label>
      <button type="submit" disabled={sent !== ""}>
        Send invitation
      </button>
      <button type="button" class="secondary" onClick={props.onClose}>
        Close
      </button>
      {sent ? (
        <p class="details" role="status" data-testid="invite-sent">
          {sent}
        </p>
      ) : null}
      <ErrorLine text={error} />
    </form>
  );
}

function Visitors(props: { stop: AbortSignal }) {
  const [list, setList] = useState<LiveVisitorsResponse | null>(null);
  const [error, setError] = useState("");
  const [inviting, setInviting] = useState<string | null>(null);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One request at a time: the next poll is scheduled when the previous one answered.
    const poll = () => {
      callApi<LiveVisitorsResponse>("GET", "/api/visitors").then(
        (data) => {
          if (props.stop.aborted) return;
          setList(data);
          setError("");
        },
        (err: unknown) => !props.stop.aborted && setError(errorText(err)),
      );
      timer = setTimeout(poll, VISITORS_POLL_MS);
    };
    poll();
    props.stop.addEventListener("abort", () => clearTimeout(timer), { once: true });
  }, []);

  const shown = inviting ? list?.visitors.find((v) => v.visitorId === inviting) : undefined;
  return (
    <div class="data-screen">
      <p class="details" role="status" data-testid="visitors-total">
        {list ? `${list.total} visitor${list.total === 1 ? "" : "s"} on the site` : "Loading…"}
      </p>
      <ErrorLine text={error} />
      <div class="table-scroll">
        <table class="data-table" data-testid="visitors-rows">
          <thead>
            <tr>
              <th scope="col">Page</th>
              <th scope="col">Came from</th>
              <th scope="col">Country</th>
              <th scope="col">On site since</th>
              <th scope="col">Visits</th>
              <th scope="col">
                <span class="visually-hidden">Invite</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(list?.visitors ?? []).map((v) => (
              <tr key={v.visitorId} data-testid="visitor-row">
                <td>
                  {v.pageTitle ?? v.pageUrl ?? "—"}
                  {v.pageTitle && v.pageUrl ? <span class="details"> {v.pageUrl}</span> : null}
                </td>
                <td>{v.referrer ?? "—"}</td>
                <td>{v.country ?? "—"}</td>
                <td>{formatTime(v.onSiteSince)}</td>
                <td>
                  {v.visits}
                  {v.returning ? " (returning)" : ""}
                </td>
                <td>
                  {v.chatting ? (
                    "Chatting"
                  ) : (
                    <button
                      type="button"
                      class="secondary"
                      data-testid="visitor-invite"
                      onClick={() => setInviting(v.visitorId)}
                    >
                      Invite
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {shown ? (
        <InviteForm key={shown.visitorId} visitor={shown} onClose={() => setInviting(null)} />
      ) : null}
    </div>
  );
}

export const visitorsScreen: Screen = {
  id: "visitors",
  title: "Live visitors",
  anyOf: ["visitors.invite"],
  reaches: ["GET /api/visitors", "POST /api/visitors/:visitorId/invitations"],
  render(root) {
    const stop = new AbortController();
    render(<Visitors stop={stop.signal} />, root);
    return () => stop.abort();
  },
};
