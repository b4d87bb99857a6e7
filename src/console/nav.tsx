/**
 * The navigation shell: a bar under the header listing the workspace and every screen the
 * signed-in agent may use (`anyOf` against their effective permissions), and hash routing
 * (`#/<id>`, the workspace by default). The workspace is never torn down when another screen
 * shows — it is only hidden — so chats, offers and sockets carry on meanwhile.
 *
 * A screen the agent may not use is not listed, and opening its address directly shows a
 * refusal instead of the screen; the server refuses the calls anyway (authoritative).
 */
import { render } from "hono/jsx/dom";
import type { AgentProfile } from "../protocol/http.ts";
import type { Permission } from "../security/permissions.ts";
import { ui } from "./elements.ts";
import { SCREENS } from "./screens/index.ts";
import type { Screen, ScreenContext } from "./screens/screen.ts";

/** The workspace's id: the default route. */
const WORKSPACE = "workspace";

let context: ScreenContext | null = null;
let leaveScreen: (() => void) | undefined;

/** The screens `ctx`'s agent may use, in navigation order. */
function allowed(ctx: ScreenContext): Screen[] {
  return SCREENS.filter((s) => s.anyOf.length === 0 || s.anyOf.some((p) => ctx.can(p)));
}

/** The route's screen id: `#/agents` → `agents`; anything else is the workspace. */
function currentId(): string {
  return location.hash.startsWith("#/") ? decodeURIComponent(location.hash.slice(2)) : WORKSPACE;
}

/**
 * The bar. `offers` counts the chats offered in the workspace: while another screen shows,
 * its link says so, so that no offer goes unnoticed.
 */
function NavBar(props: { screens: Screen[]; current: string; offers: number }) {
  const links = [{ id: WORKSPACE, title: "Workspace" }, ...props.screens];
  return (
    <ul>
      {links.map((s) => (
        <li key={s.id}>
          <a
            href={`#/${s.id}`}
            data-testid={`nav-${s.id}`}
            aria-current={s.id === props.current ? "page" : undefined}
          >
            {s.title}
            {s.id === WORKSPACE && props.offers > 0 ? (
              <span class="nav-badge" data-testid="nav-offers">
                {props.offers} offered
              </span>
            ) : null}
          </a>
        </li>
      ))}
    </ul>
  );
}

/** Draws the bar for the current address. */
function renderBar(ctx: ScreenContext, current: string): void {
  const offers = ui.offers.childElementCount;
  render(<NavBar screens={allowed(ctx)} current={current} offers={offers} />, ui.screenNav);
}

/** Shows the screen the address names (or the refusal), and marks it in the bar. */
function route(): void {
  if (!context) return;
  const id = currentId();
  leaveScreen?.();
  leaveScreen = undefined;
  // Rendering replaces the links: a keyboard user's focus must not fall back to the page top.
  const navFocused = ui.screenNav.contains(document.activeElement);
  renderBar(context, id);
  const onWorkspace = id === WORKSPACE;
  ui.workspace.hidden = !onWorkspace;
  ui.screenRoot.hidden = onWorkspace;
  if (onWorkspace) {
    ui.screenRoot.replaceChildren();
    if (navFocused) ui.screenNav.querySelector<HTMLElement>("[aria-current=page]")?.focus();
    return;
  }
  const screen = allowed(context).find((s) => s.id === id);
  const heading = document.createElement("h2");
  // Focused on arrival, so keyboard and screen-reader users start at the new screen.
  heading.tabIndex = -1;
  heading.className = "screen-title";
  heading.textContent = screen?.title ?? "Not available";
  // A fresh host per visit: hono's renderer keeps its state on the container.
  const host = document.createElement("div");
  ui.screenRoot.replaceChildren(heading, host);
  if (screen) {
    leaveScreen = screen.render(host, context);
  } else {
    const refusal = document.createElement("p");
    refusal.className = "notice";
    refusal.dataset.testid = "screen-denied";
    refusal.textContent = SCREENS.some((s) => s.id === id)
      ? "You do not have permission to use this screen."
      : "There is no such screen.";
    host.append(refusal);
  }
  heading.focus();
}

/** Shows the bar for `me` and the screen of the current address. */
export function startNav(me: AgentProfile): void {
  const held = new Set<Permission>(me.permissions);
  context = { me, can: (permission) => held.has(permission) };
  ui.screenNav.hidden = false;
  route();
}

/** Hides the bar and the screen (signed out); the workspace's own view handling takes over. */
export function stopNav(): void {
  leaveScreen?.();
  leaveScreen = undefined;
  context = null;
  ui.screenNav.hidden = true;
  ui.screenRoot.hidden = true;
  ui.screenRoot.replaceChildren();
}

addEventListener("hashchange", route);
// Offers come and go in the workspace (offers.ts): keep the count on its link current.
new MutationObserver(() => {
  if (context) renderBar(context, currentId());
}).observe(ui.offers, { childList: true });
