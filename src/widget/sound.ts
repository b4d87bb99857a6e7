/**
 * The new-message sound (`beep`, shared with the console) and the visitor's on/off choice,
 * kept in `localStorage` so it holds on every page of the site.
 */
import { readStore, writeStore } from "./session.ts";

export { beep } from "../client/beep.ts";

const KEY = "parley.sound";

/** Whether the sound is on (the default, until the visitor turns it off). */
export const soundOn = (): boolean => readStore(true, KEY) !== "off";

/** Remembers the visitor's choice. */
export const setSound = (on: boolean): void => writeStore(true, KEY, on ? "on" : "off");
