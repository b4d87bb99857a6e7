/** Size limits shared by the server and the browser apps (DESIGN invariant 7). */
export const MAX_MESSAGE_CHARS = 4000;
/** Longest agent-to-agent message, in characters (before masking). */
export const MAX_AGENT_MESSAGE_CHARS = 2000;
/** Largest WebSocket frame a client may send, in UTF-16 code units of the JSON text. */
export const MAX_FRAME_CHARS = 16 * 1024;
/** Largest JSON request body, in bytes. */
export const MAX_BODY_BYTES = 64 * 1024;
/** WebSocket subprotocol every Parley socket speaks; the server selects it in the handshake. */
export const SUBPROTOCOL = "parley.v1";
/** Prefix of the subprotocol entry that carries a visitor's bearer token. */
export const BEARER_PREFIX = "bearer.";
/** Most conditions of one visitor segment (the console's form stops adding at this many). */
export const MAX_SEGMENT_CONDITIONS = 20;
/** Most URL rules per list (a campaign's, an auto-invitation's). */
export const MAX_URL_RULES = 20;
/** Most fields of a campaign's pre-chat form. */
export const MAX_PRE_CHAT_FIELDS = 10;
