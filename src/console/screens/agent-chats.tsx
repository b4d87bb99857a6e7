/**
 * Agent-to-agent chat: the agent's conversations, one conversation's messages (newest last,
 * refreshed every few seconds while open), a composer, and — for transcript readers — a
 * search across the agents of their departments.
 */
import { render, useEffect, useState } from "hono/jsx/dom";
import type {
  AgentConversationListResponse,
  AgentMessage,
  AgentMessagePage,
} from "../../protocol/agent-chats.ts";
import type { ColleagueListResponse } from "../../protocol/colleagues.ts";
import { MAX_AGENT_MESSAGE_CHARS } from "../../protocol/limits.ts";
import { ErrorLine } from "./controls.tsx";
import { formatTime } from "./format.ts";
import { formValues, withQuery } from "./query.ts";
import { callApi, errorText } from "./request.ts";
import type { Screen, ScreenContext } from "./screen.ts";
import { useResource } from "./use-resource.ts";

/** How often an open conversation and the list look for new messages. */
const REFRESH_MS = 4000;

function MessageList(props: { messages: AgentMessage[]; me: string; testId: string }) {
  return (
    <ol class="agent-messages" data-testid={props.testId}>
      {props.messages.map((m) => (
        <li key={m.id} class={m.from.id === props.me ? "own" : ""} data-testid="agent-message">
          <span class="meta">
            {m.from.id === props.me ? "You" : m.from.name} · {formatTime(m.at)}
          </span>
          <span class="text">{m.text}</span>
        </li>
      ))}
    </ol>
  );
}

function Conversation(props: { agentId: string; me: string }) {
  const [messages, setMessages] = useState<AgentMessage[]>([]);
  const [error, setError] = useState("");
  const path = `/api/agent-chats/${encodeURIComponent(props.agentId)}/messages`;
  useEffect(() => {
    let current = true;
    const load = () =>
      callApi<AgentMessagePage>("GET", path).then(
        // The page is newest first; the conversation reads oldest first.
        (page) => current && setMessages([...page.messages].reverse()),
        (err: unknown) => current && setError(errorText(err)),
      );
    void load();
    const timer = setInterval(load, REFRESH_MS);
    return () => {
      current = false;
      clearInterval(timer);
    };
  }, [path]);

  const send = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const text = formValues(form).text ?? "";
    try {
      const { message } = await callApi<{ message: AgentMessage }>("POST", path, {
        clientId: crypto.randomUUID(),
        text,
      });
      setMessages((list) => [...list, message]);
      form.reset();
      setError("");
    } catch (err) {
      setError(errorText(err));
    }
  };

  return (
    <section class="agent-conversation" aria-label="Conversation">
      <MessageList messages={messages} me={props.me} testId="agent-conversation" />
      <form class="admin-form" onSubmit={send} data-testid="agent-message-form">
        <label>
          Message
          <textarea
            name="text"
            required
            rows={2}
            maxlength={MAX_AGENT_MESSAGE_CHARS}
            data-testid="agent-message-input"
          />
        </label>
        <button type="submit" data-testid="agent-message-send">
          Send
        </button>
      </form>
      <ErrorLine text={error} testId="agent-message-error" />
    </section>
  );
}

function Search() {
  const [path, setPath] = useState<string | null>(null);
  const [page, setPage] = useState<AgentMessagePage | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    if (!path) return;
    callApi<AgentMessagePage>("GET", path).then(setPage, (err: unknown) =>
      setError(errorText(err)),
    );
  }, [path]);
  const submit = (e: Event) => {
    e.preventDefault();
    const { q } = formValues(e.target as HTMLFormElement);
    setError("");
    setPath(withQuery("/api/agent-chats/search", { q: q || undefined }));
  };
  return (
    <section aria-label="Search agent chats">
      <form class="admin-form" onSubmit={submit} data-testid="agent-chat-search">
        <label>
          Keywords
          <input name="q" maxlength={200} data-testid="agent-chat-search-q" />
        </label>
        <button type="submit">Search</button>
      </form>
      <ErrorLine text={error} testId="agent-chat-search-error" />
      {page && <MessageList messages={page.messages} me="" testId="agent-chat-results" />}
    </section>
  );
}

function AgentChats(props: { ctx: ScreenContext }) {
  const list = useResource<AgentConversationListResponse>("/api/agent-chats");
  const colleagues = useResource<ColleagueListResponse>("/api/agent/colleagues");
  const [withAgent, setWithAgent] = useState<string | null>(null);
  useEffect(() => {
    const timer = setInterval(list.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [list.reload]);
  const start = (e: Event) => {
    e.preventDefault();
    const id = formValues(e.target as HTMLFormElement).agentId?.trim();
    if (id) setWithAgent(id);
  };
  const canSearch =
    props.ctx.can("transcripts.view_department") || props.ctx.can("transcripts.view_all");
  return (
    <div class="admin-screen agent-chats">
      <ErrorLine text={list.error} testId="agent-chats-load-error" />
      <ul class="conversations" data-testid="agent-conversations">
        {(list.data?.conversations ?? []).map((c) => (
          <li key={c.conversationId}>
            <button
              type="button"
              class={c.agent.id === withAgent ? "" : "secondary"}
              onClick={() => setWithAgent(c.agent.id)}
            >
              {c.agent.name} ({c.messageCount})
            </button>
          </li>
        ))}
      </ul>
      <form class="admin-form" onSubmit={start} data-testid="agent-chat-start">
        <label>
          Write to a colleague
          <select name="agentId" required data-testid="agent-chat-agent-id">
            <option value="">—</option>
            {(colleagues.data?.colleagues ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Open</button>
      </form>
      <ErrorLine text={colleagues.error} testId="agent-chat-colleagues-error" />
      {withAgent && <Conversation agentId={withAgent} me={props.ctx.me.id} />}
      {canSearch && <Search />}
    </div>
  );
}

/** `#/agent-chats`. */
export const agentChatsScreen: Screen = {
  id: "agent-chats",
  title: "Agent chat",
  anyOf: ["agent_chat.use", "transcripts.view_department", "transcripts.view_all"],
  reaches: [
    "GET /api/agent/colleagues",
    "GET /api/agent-chats",
    "GET /api/agent-chats/:agentId/messages",
    "POST /api/agent-chats/:agentId/messages",
    "GET /api/agent-chats/search",
  ],
  render(root, ctx) {
    render(<AgentChats ctx={ctx} />, root);
    return undefined;
  },
};
