-- Proposals (issue 12 section 2): an agent asks for credentials and services, a member approves
-- in a browser, and the change applies in one batch. Slots are JSON without values: a value the
-- agent provided is sealed by the store's cipher (bound to the proposal and KEY) and only its
-- length is ever shown. `status` is NOT NULL on purpose: the apply batch's guard sets it to NULL
-- when the proposal is no longer pending, which aborts the whole batch (nothing half-applied).
CREATE TABLE IF NOT EXISTS proposals (
  id          TEXT PRIMARY KEY,
  team_id     TEXT NOT NULL REFERENCES teams (id),
  -- The proposing API key (agent or member key).
  api_key_id  TEXT,
  status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  message     TEXT NOT NULL DEFAULT '',
  -- JSON array of services, as the services API takes them.
  services    TEXT NOT NULL DEFAULT '[]',
  -- JSON array of slots: {action, key, description?, obtain?, obtain_instructions?, type?, oauth?, valueLength?, sealed?}.
  slots       TEXT NOT NULL DEFAULT '[]',
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  decided_at  TEXT,
  -- The user who approved or rejected.
  decided_by  TEXT,
  reason      TEXT
);
CREATE INDEX IF NOT EXISTS proposals_team_status ON proposals (team_id, status, created_at);
CREATE INDEX IF NOT EXISTS proposals_pending_expiry ON proposals (status, expires_at);

-- Where proposal events (created, applied, rejected, expired) are sent, signed like task webhooks.
ALTER TABLE teams ADD COLUMN proposal_webhook_url TEXT;
