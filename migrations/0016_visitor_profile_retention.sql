-- Issue 9, item 3 (retention): the hourly cron deletes the profiles of visitors unseen for
-- longer than a presence token lives (a year, renewed at every connection), the longest
-- unseen first (src/store/visitor-profiles.ts `purgeStaleProfiles`).
CREATE INDEX visitor_profiles_last_seen ON visitor_profiles (last_seen_at);
