export * from "./chat-frames.ts";
export * from "./dispatcher-frames.ts";
export * from "./http.ts";
export * from "./limits.ts";
export * from "./masked-text.ts";
