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
}

/** The agent to offer the chat to, or null when nobody eligible has spare capacity. */
export function pickAgent(
  candidates: readonly Candidate[],
  request: RoutingRequest,
): string | null {
  if (request.strategy === "manual") return null;
  const eligible = candidates.filter(
    (agent) =>
      agent.online &&
      agent.load < agent.capacity &&
      agent.departments.includes(request.department) &&
      !request.refusedBy.includes(agent.id),
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
