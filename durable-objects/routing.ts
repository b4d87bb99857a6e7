/**
 * Routing policy as a pure function: which online agent gets the next offer for a chat.
 * Least busy first (active chats plus pending offers), ties broken by the longest idle
 * (earliest last assignment), then by id for determinism.
 */

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
}

/** The agent to offer the chat to, or null when nobody eligible has spare capacity. */
export function pickAgent(
  candidates: readonly Candidate[],
  request: RoutingRequest,
): string | null {
  const eligible = candidates.filter(
    (agent) =>
      agent.online &&
      agent.load < agent.capacity &&
      agent.departments.includes(request.department) &&
      !request.refusedBy.includes(agent.id),
  );
  const fresh = eligible.filter((agent) => !request.expiredFor.includes(agent.id));
  const pool = fresh.length > 0 ? fresh : eligible;
  const best = [...pool].sort(
    (a, b) => a.load - b.load || a.lastAssignedAt - b.lastAssignedAt || a.id.localeCompare(b.id),
  )[0];
  return best?.id ?? null;
}
