/**
 * The permission catalogue: every capability an agent can be granted, with a stable id
 * (stored in D1 `grants` and written into audit rows — never rename one), a label and a
 * description for the console. Pure and runtime-neutral: the Worker, the Durable Objects
 * and the console share it.
 */

/** One entry of the catalogue. */
export interface PermissionInfo {
  readonly id: string;
  readonly label: string;
  readonly description: string;
}

/** Every permission, in the order the console lists them. */
export const PERMISSIONS = [
  {
    id: "chats.accept",
    label: "Accept chats",
    description: "Receive chat offers and accept chats from the queue of own departments.",
  },
  {
    id: "chats.refuse",
    label: "Refuse chats",
    description: "Refuse an offered chat so that it goes to another agent.",
  },
  {
    id: "chats.join",
    label: "Join chats",
    description: "Join another agent's chat of an own department as a second agent.",
  },
  {
    id: "chats.transfer",
    label: "Transfer chats",
    description: "Hand an own chat to another agent or department.",
  },
  {
    id: "chats.invite",
    label: "Invite agents into chats",
    description: "Invite another agent into an own chat as a second agent.",
  },
  {
    id: "chats.monitor",
    label: "Monitor chats",
    description:
      "Watch a chat of an own department silently (read-only, invisible to the visitor).",
  },
  {
    id: "agent_chat.use",
    label: "Chat with other agents",
    description: "Direct conversations with other agents.",
  },
  {
    id: "visitors.invite",
    label: "Invite visitors",
    description: "See live visitors and send them proactive chat invitations.",
  },
  {
    id: "transcripts.view_department",
    label: "View department transcripts and offline messages",
    description: "Search and read transcripts and offline messages of own departments.",
  },
  {
    id: "transcripts.view_all",
    label: "View all transcripts and offline messages",
    description: "Search and read transcripts and offline messages of every department.",
  },
  {
    id: "transcripts.delete",
    label: "Delete transcripts",
    description:
      "Delete transcripts and offline messages the agent can view. Each deletion is audited.",
  },
  { id: "reports.view", label: "View reports", description: "Open the desk's reports." },
  {
    id: "campaigns.manage",
    label: "Manage campaigns",
    description: "Widget look, texts, pre-chat forms and invitation rules.",
  },
  {
    id: "canned_messages.manage",
    label: "Manage canned messages",
    description: "Create, edit and delete department and global canned messages.",
  },
  {
    id: "bans.manage",
    label: "Manage ban list",
    description: "Ban and unban visitors by IP range or visitor id.",
  },
  {
    id: "routing.manage",
    label: "Manage routing and allocation rules",
    description: "Routing policy, capacity, offer timeouts, overflow and business hours.",
  },
  {
    id: "security.manage",
    label: "Manage security settings",
    description:
      "Narrow IP allowlists and change security settings within the deployment's limits.",
  },
  {
    id: "agents.manage",
    label: "Manage agents",
    description:
      "Create, disable and enable agents, issue password links, set their departments, groups and grants.",
  },
  {
    id: "departments.manage",
    label: "Manage departments",
    description: "Create and rename departments and set their grants.",
  },
  {
    id: "groups.manage",
    label: "Manage groups",
    description: "Create, rename and delete groups and set their grants.",
  },
  {
    id: "segments.manage",
    label: "Manage visitor segments",
    description: "Define the rules that put visitors into segments.",
  },
  {
    id: "variables.manage",
    label: "Manage custom variables",
    description: "Declare the custom variables sites may set through the widget.",
  },
  {
    id: "audit.view",
    label: "View audit logs",
    description: "Search, export and verify the audit log. Every search and export is audited.",
  },
  {
    id: "secure_form.request",
    label: "Request secure forms",
    description: "Ask the visitor of an own chat to fill in the PCI secure form.",
  },
  {
    id: "secure_form.view",
    label: "View secure-form data",
    description: "See secure-form values while the chat is live (never stored).",
  },
] as const satisfies readonly PermissionInfo[];

/** A permission's stable id. */
export type Permission = (typeof PERMISSIONS)[number]["id"];

/** Every permission id. */
export const PERMISSION_IDS: readonly Permission[] = PERMISSIONS.map((p) => p.id);

const KNOWN = new Set<string>(PERMISSION_IDS);

/** True when `id` names a permission of the catalogue. */
export function isPermission(id: string): id is Permission {
  return KNOWN.has(id);
}

/**
 * An administrator holds every permission of the catalogue. At least one enabled agent must
 * always be one, so that nobody can lock the deployment out of its own management.
 */
export function isAdministrator(held: ReadonlySet<Permission>): boolean {
  return PERMISSION_IDS.every((id) => held.has(id));
}

/** The permissions of `next` that are missing from `actor` — what the actor may not grant. */
export function beyondActor(
  actor: ReadonlySet<Permission>,
  permissions: Iterable<Permission>,
): Permission[] {
  return [...new Set(permissions)].filter((id) => !actor.has(id)).sort();
}
