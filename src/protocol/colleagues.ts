/**
 * `GET /api/agent/colleagues`: the agents an agent may hand a chat to, invite into one or
 * write to — the enabled agents of their own departments (the console's pickers). Names only:
 * what agents already see of each other in chats.
 */

/** Another agent, as the pickers list them. */
export interface Colleague {
  id: string;
  name: string;
}

/** `GET /api/agent/colleagues` response body, sorted by name. */
export interface ColleagueListResponse {
  colleagues: Colleague[];
}
