/**
 * Which campaign applies to a page: page-URL rules and the choice among campaigns. Pure and
 * runtime-neutral, so the console can preview a campaign's pages in the browser with the
 * Worker's exact logic.
 *
 * No regular expressions are built from rule values (an admin-typed pattern must not be able
 * to stall the public widget endpoint), and glob matching is iterative: linear scans, no
 * backtracking, whatever the pattern.
 */
import type { UrlRule } from "../protocol/campaigns.ts";

/**
 * True when `text` matches `pattern`, where `*` matches any run of characters (none
 * included) and every other character only itself. Both are compared as given.
 *
 * With `*` as the only wildcard, the pieces between stars can be placed greedily: the first
 * piece anchors at the start, the last at the end, and each middle piece at its leftmost
 * occurrence after the previous one — an earlier placement never rules out a later piece.
 */
export function globMatches(pattern: string, text: string): boolean {
  const pieces = pattern.split("*");
  const first = pieces[0] ?? "";
  if (pieces.length === 1) return text === first;
  const last = pieces[pieces.length - 1] ?? "";
  const end = text.length - last.length;
  if (end < first.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  for (const piece of pieces.slice(1, -1)) {
    if (piece === "") continue;
    const found = text.indexOf(piece, at);
    if (found === -1 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}

/** True when `url` matches `rule`, case-insensitively. */
export function matchesUrlRule(rule: UrlRule, url: string): boolean {
  const value = rule.value.toLowerCase();
  const page = url.toLowerCase();
  switch (rule.op) {
    case "equals":
      return page === value;
    case "starts_with":
      return page.startsWith(value);
    case "contains":
      return page.includes(value);
    case "glob":
      return globMatches(value, page);
  }
}

/** True when `url` matches any of `rules`; an empty list matches every page. */
export function matchesUrlRules(rules: readonly UrlRule[], url: string): boolean {
  return rules.length === 0 || rules.some((rule) => matchesUrlRule(rule, url));
}

/** What choosing a campaign needs to know about one. */
export interface CampaignCandidate {
  id: string;
  enabled: boolean;
  priority: number;
  urlRules: readonly UrlRule[];
}

/**
 * The campaign for the page at `url`: among the enabled ones whose URL rules match, the one
 * of lowest priority, then lowest id; null when none does (the widget's defaults apply).
 */
export function chooseCampaign<T extends CampaignCandidate>(
  campaigns: readonly T[],
  url: string,
): T | null {
  let chosen: T | null = null;
  for (const campaign of campaigns) {
    if (!campaign.enabled || !matchesUrlRules(campaign.urlRules, url)) continue;
    if (chosen === null || before(campaign, chosen)) chosen = campaign;
  }
  return chosen;
}

function before(a: CampaignCandidate, b: CampaignCandidate): boolean {
  return a.priority !== b.priority ? a.priority < b.priority : a.id < b.id;
}
