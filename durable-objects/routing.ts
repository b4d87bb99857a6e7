/**
 * Routing policy as a pure function: which online agent gets the next offer for a chat,
 * under the department's strategy:
 * - `least_busy` (default): fewest active chats plus pending offers, ties broken by the
 *   longest idle (earliest last assignment), then by id for determinism;
 * - `round_robin`: in turn, whoever was assigned longest ago, whatever their load (within
 *   capacity);
 * - `manual`: nobody is offered anything; agents pick from the shared queue.
 */
import type { RoutingStrategy } from "../src/protocol/routing.ts";

export interface Candidate {
  id: string;
  departments: string[];
  capacity: number;
  /** Active chats plus offers awaiting an answer. */
  load: number;
  lastAssignedAt: number;
  online: boolean;
}

export interface RoutingRequest {
  department: string;
  /** Agents who refused this chat: never offered it again. */
  refusedBy: readonly string[];
  /** Agents who let the offer expire: offered again only when nobody else can take it. */
  expiredFor: readonly string[];
  strategy: RoutingStrategy;
  /**
   * An agent to offer the chat to first, whatever the strategy and department (the agent who
   * invited the visitor), as long as they are online with room and have not declined it.
   */
  preferredAgent?: string | null;
}

/** The agent to offer the chat to, or null when nobody eligible has spare capacity. */
export function pickAgent(
  candidates: readonly Candidate[],
  request: RoutingRequest,
): string | null {
  const available = (agent: Candidate) =>
    agent.online && agent.load < agent.capacity && !request.refusedBy.includes(agent.id);
  const preferred = request.preferredAgent;
  if (
    preferred &&
    !request.expiredFor.includes(preferred) &&
    candidates.some((agent) => agent.id === preferred && available(agent))
  ) {
    return preferred;
  }
  if (request.strategy === "manual") return null;
  const eligible = candidates.filter(
    (agent) => available(agent) && agent.departments.includes(request.department),
  );
  const fresh = eligible.filter((agent) => !request.expiredFor.includes(agent.id));
  const pool = fresh.length > 0 ? fresh : eligible;
  const byLoad = request.strategy === "least_busy";
  const best = [...pool].sort(
    (a, b) =>
      (byLoad ? a.load - b.load : 0) ||
      a.lastAssignedAt - b.lastAssignedAt ||
      a.id.localeCompare(b.id),
  )[0];
  return best?.id ?? null;
}
