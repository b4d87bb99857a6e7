/**
 * Every console screen besides the workspace, in navigation order: daily work first, then
 * administration, then the agent's own settings. A plain list: a new screen is one import
 * and one entry here.
 */
import { agentChatsScreen } from "./agent-chats.tsx";
import { agentsScreen } from "./agents.tsx";
import { auditScreen } from "./audit.tsx";
import { bansScreen } from "./bans.tsx";
import { campaignsScreen } from "./campaigns.tsx";
import { cannedMessagesScreen } from "./canned-messages.tsx";
import { offlineMessagesScreen } from "./offline-messages.tsx";
import { reportsScreen } from "./reports.tsx";
import { routingScreen } from "./routing.tsx";
import type { Screen } from "./screen.ts";
import { securityScreen } from "./security.tsx";
import { segmentsScreen } from "./segments.tsx";
import { departmentsScreen, groupsScreen } from "./teams.tsx";
import { tokensScreen } from "./tokens.tsx";
import { transcriptsScreen } from "./transcripts.tsx";
import { variablesScreen } from "./variables.tsx";
import { visitorsScreen } from "./visitors.tsx";

export const SCREENS: Screen[] = [
  visitorsScreen,
  transcriptsScreen,
  offlineMessagesScreen,
  agentChatsScreen,
  cannedMessagesScreen,
  reportsScreen,
  agentsScreen,
  departmentsScreen,
  groupsScreen,
  routingScreen,
  segmentsScreen,
  campaignsScreen,
  variablesScreen,
  bansScreen,
  securityScreen,
  auditScreen,
  tokensScreen,
];
