import { afterEach, describe, expect, it } from "vitest";
import { LANGUAGES, t, useLanguage } from "../../src/widget/strings.ts";

const en = LANGUAGES.en as Record<string, unknown>;

describe("the widget's string table", () => {
  afterEach(() => useLanguage("en"));

  it("has every English key in every language, of the same kind, and nothing else", () => {
    expect(Object.keys(LANGUAGES).sort()).toEqual(["en", "fr"]);
    for (const [lang, table] of Object.entries(LANGUAGES)) {
      const strings = table as Record<string, unknown>;
      expect(Object.keys(strings).sort(), lang).toEqual(Object.keys(en).sort());
      for (const [key, value] of Object.entries(strings)) {
        expect(typeof value, `${lang}.${key}`).toBe(typeof en[key]);
        if (typeof value === "string") expect(value.trim(), `${lang}.${key}`).not.toBe("");
      }
    }
  });

  it("translates every text (only proper names and shared words may stay the same)", () => {
    const same = Object.keys(en).filter(
      (key) => (LANGUAGES.fr as Record<string, unknown>)[key] === en[key],
    );
    expect(same.sort()).toEqual(["agent", "message", "messages", "system"]);
  });

  it("fills in the templates in each language", () => {
    for (const table of Object.values(LANGUAGES)) {
      expect(table.queue(3)).toContain("3");
      expect(table.joined("Bea")).toContain("Bea");
      expect(table.opensAt("Monday 09:00")).toContain("Monday 09:00");
      expect(table.rating(4)).toContain("4");
      expect(table.unread(1)).not.toBe(table.unread(2).replace("2", "1"));
    }
    expect(LANGUAGES.en?.unread(1)).toBe("1 new message");
    expect(LANGUAGES.en?.unread(2)).toBe("2 new messages");
    expect(LANGUAGES.fr?.unread(2)).toBe("2 nouveaux messages");
  });

  it("picks the language by its primary subtag, and English for anything unknown", () => {
    useLanguage("fr-CA");
    expect(t.start).toBe(LANGUAGES.fr?.start);
    useLanguage("de");
    expect(t.start).toBe("Start chat");
    useLanguage("FR");
    expect(t.send).toBe("Envoyer");
    useLanguage("__proto__");
    expect(t.send).toBe("Send");
    useLanguage(undefined);
    expect(t.title).toBe("Chat with us");
  });
});
