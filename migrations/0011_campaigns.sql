-- Issue 8: campaigns. A campaign customises the widget (look, texts, pre-chat form, survey,
-- auto-invitation) on the pages its URL rules match; GET /api/widget/config picks one per page
-- (src/desk/campaign-match.ts). Nested parts are JSON in the shapes of src/protocol/campaigns.ts,
-- validated and card-masked before they are stored.

CREATE TABLE campaigns (
  id             TEXT PRIMARY KEY,          -- UUID
  name           TEXT NOT NULL,
  enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  priority       INTEGER NOT NULL,          -- lower first; ties by id
  url_rules      TEXT NOT NULL,             -- JSON [{op, value}]; [] matches every page
  widget         TEXT NOT NULL,             -- JSON, the fields it sets ({}: all defaults)
  pre_chat_form  TEXT,                      -- JSON {enabled, fields}; NULL: the default
  survey         INTEGER CHECK (survey IN (0, 1)),  -- NULL: the default
  auto_invite    TEXT,                      -- JSON {enabled, afterSeconds, urlRules, message}
  created_at     INTEGER NOT NULL,
  created_by     TEXT NOT NULL,             -- agent id
  updated_at     INTEGER NOT NULL,
  updated_by     TEXT NOT NULL
);

-- The widget configuration reads the enabled campaigns in the order it chooses them.
CREATE INDEX campaigns_choice ON campaigns(enabled, priority, id);
