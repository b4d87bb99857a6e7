/**
 * What the widget shows where no campaign sets a field (`campaigns.ts`): used by the widget
 * configuration endpoint, and shown by the console's campaign form as each field's default;
 * and the pre-chat keys the chat start takes itself. Kept apart from the schemas so that the
 * console can import them without bundling zod.
 */
import type { PreChatForm, WidgetAutoInvite, WidgetLook } from "./campaigns.ts";

/** The widget when no campaign sets a field: the look the widget had before campaigns. */
export const DEFAULT_WIDGET: WidgetLook = {
  color: "#2f5bea",
  position: "right",
  title: "Chat with us",
  launcherLabel: "Chat with us",
  greeting: "Questions? We're here to help.",
  offlineTitle: "Leave a message",
  offlineMessage: "Nobody is available right now. Leave a message and we'll email you.",
};

/** The pre-chat form without a campaign: name and email, both optional. */
export const DEFAULT_PRE_CHAT_FORM: PreChatForm = {
  enabled: true,
  fields: [
    { key: "name", label: "Name", required: false },
    { key: "email", label: "Email", required: false },
  ],
};

/** The post-chat survey is offered unless a campaign turns it off. */
export const DEFAULT_SURVEY = true;

/** No auto-invitation without a campaign that enables one. */
export const DEFAULT_AUTO_INVITE: WidgetAutoInvite = {
  enabled: false,
  afterSeconds: 30,
  message: "Hi! Can we help you with anything?",
};

/**
 * Pre-chat form keys that fill the chat start's own fields; any other key fills the custom
 * variable of that name with the text the visitor types.
 */
export const CHAT_START_KEYS: readonly string[] = ["name", "email", "department"];
