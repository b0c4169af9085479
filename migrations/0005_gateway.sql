-- The agent gateway (issue 11): a team is a vault with a slug, services say which credential
-- goes to which host, agent keys use the proxy but never read a value, and the proxy keeps a
-- metadata-only request log.

-- A team's slug names its vault in /v1/vaults/:vault (3-64 chars: lowercase letters, digits,
-- single hyphens). Existing teams get one from their id ("team_01J..." -> "team-01j...").
ALTER TABLE teams ADD COLUMN slug TEXT;
UPDATE teams SET slug = lower(replace(id, '_', '-')) WHERE slug IS NULL;
CREATE UNIQUE INDEX IF NOT EXISTS teams_slug ON teams (slug);
-- What the proxy does with a request no service matches: refuse (default) or forward untouched.
ALTER TABLE teams ADD COLUMN unmatched_policy TEXT NOT NULL DEFAULT 'deny' CHECK (unmatched_policy IN ('deny', 'passthrough'));

-- An agent key (role 'agent') uses the proxy, lists KEYs and services and proposes; it never
-- reads a value. Agent tokens minted for a vault expire by themselves.
ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'standard' CHECK (role IN ('standard', 'agent'));
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;

-- A service: requests to `host` (exact or *.one-level, optional port and path glob) get the
-- credentials its auth names injected. `auth` is JSON naming credential KEYs, never values.
CREATE TABLE IF NOT EXISTS services (
  team_id     TEXT NOT NULL REFERENCES teams (id),
  name        TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
  host        TEXT NOT NULL,
  enabled     INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
  auth        TEXT NOT NULL,
  -- Declaration order: the last tie-breaker of matching.
  position    INTEGER NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (team_id, name)
);

-- The proxy's request log: metadata only (no query string, no header, no body).
CREATE TABLE IF NOT EXISTS proxy_log (
  id              TEXT PRIMARY KEY,
  team_id         TEXT NOT NULL REFERENCES teams (id),
  api_key_id      TEXT,
  method          TEXT NOT NULL,
  host            TEXT NOT NULL,
  path            TEXT NOT NULL,
  service         TEXT,
  -- JSON array of the credential KEYs injected.
  credential_keys TEXT NOT NULL DEFAULT '[]',
  status          INTEGER NOT NULL,
  -- The vault's refusal code when the vault answered (no_matching_service, ...), else NULL.
  error_code      TEXT,
  duration_ms     INTEGER NOT NULL,
  created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS proxy_log_team ON proxy_log (team_id, created_at, id);
CREATE INDEX IF NOT EXISTS proxy_log_created ON proxy_log (created_at);
