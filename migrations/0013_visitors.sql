-- Issue 8, item 2: live visitors. Who is on the site now lives in the Visitors Durable
-- Object; what must outlive it (a visitor's visit count, for "returning" and for segment
-- rules) lives here, keyed by the pseudonymous visitor id of the presence token. No name,
-- email, IP address or page is stored.
CREATE TABLE visitor_profiles (
  visitor_id     TEXT PRIMARY KEY,          -- UUID, the presence token's sub
  first_seen_at  INTEGER NOT NULL,          -- ms since the epoch (UTC)
  last_seen_at   INTEGER NOT NULL,          -- when the visitor was last on the site
  visits         INTEGER NOT NULL DEFAULT 1 CHECK (visits >= 1)
) WITHOUT ROWID;
