-- Issue 8: custom variables the embedding site may set at chat start, and visitor segments.

-- A declared custom variable. Chat start refuses a variable without a row here, or one whose
-- value does not fit (src/desk/custom-variables.ts). Values stay in chats.variables (JSON);
-- agents see a stored value only while its variable is declared with visible_to_agents = 1.
CREATE TABLE custom_variables (
  name               TEXT PRIMARY KEY,        -- ^[A-Za-z][A-Za-z0-9_.-]{0,63}$, case-sensitive
  label              TEXT NOT NULL,           -- card-masked
  type               TEXT NOT NULL CHECK (type IN ('string', 'number', 'boolean', 'email', 'url')),
  max_length         INTEGER CHECK (max_length BETWEEN 1 AND 500),  -- text types only
  visible_to_agents  INTEGER NOT NULL DEFAULT 1 CHECK (visible_to_agents IN (0, 1)),
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  updated_by         TEXT,                    -- agent id
  CHECK ((type IN ('string', 'email', 'url')) = (max_length IS NOT NULL))
) WITHOUT ROWID;

-- A visitor segment: rules on URL, country, visit count and custom variables, as JSON
-- (src/protocol/segments.ts), evaluated at chat start by src/desk/segments.ts.
CREATE TABLE segments (
  id          TEXT PRIMARY KEY,               -- lowercase slug
  name        TEXT NOT NULL,                  -- card-masked
  rules       TEXT NOT NULL,                  -- JSON {match, conditions}
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  updated_by  TEXT                            -- agent id
) WITHOUT ROWID;

-- A visitor's earlier chats: the visit count of segment rules (src/store/segments.ts).
CREATE INDEX chats_visitor ON chats(visitor_id, created_at);

-- Segments usable in routing: a department serves the visitors of these segments first
-- (JSON array of segment ids; NULL: none).
ALTER TABLE routing_rules ADD COLUMN priority_segments TEXT;
