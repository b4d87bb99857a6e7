/**
 * The contract of a console screen (issue 11): each screen is one module under
 * `src/console/screens/` that says which permissions it needs and renders itself (with
 * hono/jsx/dom) into the element the navigation gives it. The navigation lists only the
 * screens the signed-in agent may use; the server stays authoritative (every call it makes
 * is checked again, and a 403 is shown, never hidden).
 */
import type { AgentProfile } from "../../protocol/http.ts";
import type { Permission } from "../../security/permissions.ts";

/** What a screen knows about the agent using it. */
export interface ScreenContext {
  /** The signed-in agent, with effective permissions. */
  me: AgentProfile;
  /** True when the agent holds `permission` (effective: agent, department or group grant). */
  can(permission: Permission): boolean;
}

export interface Screen {
  /** Stable id: the URL hash (`#/audit`) and the `data-testid` of its nav link (`nav-audit`). */
  id: string;
  /** The navigation label and the screen's heading. */
  title: string;
  /**
   * The screen is listed when the agent holds at least one of these; an empty list means
   * every signed-in agent (e.g. their own sessions).
   */
  anyOf: Permission[];
  /**
   * Routes and socket actions this screen reaches (method and path pattern as the Worker
   * declares them, e.g. `GET /api/audit`, or `socket chat:whisper`): the generated
   * reachability check compares them with every guarded route and action.
   */
  reaches: string[];
  /** Draws the screen into `root` (emptied first); returns a clean-up for when it is left. */
  render(root: HTMLElement, ctx: ScreenContext): undefined | (() => void);
}
