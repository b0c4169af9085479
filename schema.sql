-- Token Vault D1 schema: the complete current schema, to read and review in one place.
-- It is what applying every file in migrations/ in order to an empty database gives;
-- test/schema.integration.test.ts fails when the two differ (tables, columns, indexes, checks).
--
-- Databases are created and upgraded by the migrations, not by this file:
--   local:  npm run db:migrate:local    (npm run dev does this)
--   remote: npm run db:migrate:remote
-- A database built from this file has no record of applied migrations, so the next migration
-- that adds a column would fail on it. To change the schema, add migrations/NNNN_name.sql and
-- make the same change here.

CREATE TABLE IF NOT EXISTS teams (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  plan        TEXT NOT NULL CHECK (plan IN ('free', 'pro')),
  -- Random per-team HKDF salt (base64): with the master key it derives the team's AES key.
  key_salt    TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  -- Names the team's vault in /v1/vaults/:vault (3-64 chars: lowercase letters, digits, single hyphens).
  slug        TEXT,
  -- What the proxy does with a request no service matches.
  unmatched_policy TEXT NOT NULL DEFAULT 'deny' CHECK (unmatched_policy IN ('deny', 'passthrough')),
  -- Where proposal events are sent (signed like task webhooks); NULL: none.
  proposal_webhook_url TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS teams_slug ON teams (slug);
-- The retention purge walks a plan's teams into each team's own index ranges.
CREATE INDEX IF NOT EXISTS teams_plan ON teams (plan, id);

CREATE TABLE IF NOT EXISTS api_keys (
  id           TEXT PRIMARY KEY,
  team_id      TEXT NOT NULL REFERENCES teams (id),
  name         TEXT NOT NULL,
  -- SHA-256 of the full key; the key itself is never stored.
  key_hash     TEXT NOT NULL UNIQUE,
  -- Non-secret display prefix, e.g. "tvk_3fa9c2".
  prefix       TEXT NOT NULL,
  -- Space-separated scopes (tokens:read tokens:write tasks:read tasks:write audit:read).
  scopes       TEXT NOT NULL DEFAULT 'tokens:read tokens:write tasks:read tasks:write audit:read',
  created_by   TEXT,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at   TEXT,
  -- JSON array of scope labels (e.g. ["payments"]): a named secret with labels is revealed only to keys carrying them all.
  labels       TEXT NOT NULL DEFAULT '[]',
  -- 'agent': uses the proxy, lists KEYs and services, proposes; never reads a value.
  role         TEXT NOT NULL DEFAULT 'standard' CHECK (role IN ('standard', 'agent')),
  -- Agent tokens minted for a vault expire by themselves; NULL = no expiry.
  expires_at   TEXT
);
CREATE INDEX IF NOT EXISTS api_keys_team ON api_keys (team_id, id);

CREATE TABLE IF NOT EXISTS tokens (
  id           TEXT PRIMARY KEY,
  team_id      TEXT NOT NULL REFERENCES teams (id),
  name         TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  -- AES-256-GCM ciphertext and IV (base64); the plaintext never reaches D1.
  ciphertext   TEXT NOT NULL,
  iv           TEXT NOT NULL,
  key_version  INTEGER NOT NULL,
  created_at   TEXT NOT NULL,
  revoked_at   TEXT,
  -- The view that made it: /v1/tokens, /vault/secrets, /v1/credentials, or a vault's key.
  kind         TEXT NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'secret', 'credential', 'vault_key')),
  type         TEXT NOT NULL DEFAULT 'static',
  -- team: any key of the team (tokens, credentials); app: API keys it is assigned to; user: owner_user_id only.
  owner_type   TEXT NOT NULL DEFAULT 'team' CHECK (owner_type IN ('team', 'app', 'user')),
  owner_user_id TEXT,
  created_by_key_id TEXT,
  -- JSON array of labels the revealing key must carry.
  scope_labels TEXT NOT NULL DEFAULT '[]',
  expires_at   TEXT,
  -- Set by the sweeper when it records the expiry (once).
  expiry_noted_at TEXT,
  -- JSON array of hosts the value may be sent to (exact or *.one-level); NULL = unrestricted.
  allowed_hosts TEXT,
  metadata     TEXT NOT NULL DEFAULT '{}',
  policy       TEXT NOT NULL DEFAULT '{}',
  -- The version the row's ciphertext is; older versions are in credential_versions.
  current_version INTEGER NOT NULL DEFAULT 1,
  updated_at   TEXT
);
CREATE INDEX IF NOT EXISTS tokens_team_active ON tokens (team_id, revoked_at, id);
CREATE INDEX IF NOT EXISTS tokens_key_version ON tokens (key_version, id);
-- Names are unique per view (and per user for user-level secrets); /v1/tokens names are free-form.
CREATE UNIQUE INDEX IF NOT EXISTS tokens_named ON tokens (team_id, kind, COALESCE(owner_user_id, ''), name) WHERE kind <> 'token' AND revoked_at IS NULL;
-- The vault sweeper's scan: named secrets whose expiry is not recorded yet (partial, so it stays small).
CREATE INDEX IF NOT EXISTS tokens_expiry_unnoted ON tokens (expires_at) WHERE kind = 'secret' AND revoked_at IS NULL AND expiry_noted_at IS NULL AND expires_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS audit_log (
  id               TEXT PRIMARY KEY,
  team_id          TEXT NOT NULL,
  actor_type       TEXT NOT NULL,
  actor_id         TEXT NOT NULL,
  actor_api_key_id TEXT,
  action           TEXT NOT NULL,
  target_type      TEXT NOT NULL,
  target_id        TEXT NOT NULL,
  request_id       TEXT NOT NULL,
  metadata         TEXT,
  created_at       TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_team ON audit_log (team_id, id);
CREATE INDEX IF NOT EXISTS audit_team_action ON audit_log (team_id, action, id);
CREATE INDEX IF NOT EXISTS audit_team_target ON audit_log (team_id, target_id, id);

CREATE TABLE IF NOT EXISTS tasks (
  id               TEXT PRIMARY KEY,
  team_id          TEXT NOT NULL REFERENCES teams (id),
  api_key_id       TEXT NOT NULL,
  status           TEXT NOT NULL CHECK (status IN ('pending', 'delayed', 'processing', 'polling', 'completed', 'failed', 'timeout', 'cancelled')),
  method           TEXT NOT NULL,
  target_url       TEXT NOT NULL,
  -- Header values as submitted: tok_ references, never resolved secrets.
  headers          TEXT NOT NULL,
  body             TEXT,
  provider         TEXT,
  poll_config      TEXT,
  timeout_s        INTEGER NOT NULL,
  max_retries      INTEGER NOT NULL,
  retry_backoff    TEXT NOT NULL,
  on_complete_url  TEXT,
  idempotency_key  TEXT,
  request_hash     TEXT,
  attempts         INTEGER NOT NULL DEFAULT 0,
  run_at           TEXT NOT NULL,
  lease_until      TEXT,
  error            TEXT,
  -- Stored results are redacted of every resolved secret.
  result           TEXT,
  poll_state       TEXT,
  webhook_status   TEXT,
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_error    TEXT,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  started_at       TEXT,
  completed_at     TEXT,
  -- How many times the task has been run: 1, plus one per POST /v1/tasks/:id/retry.
  runs             INTEGER NOT NULL DEFAULT 1,
  -- JSON {tok_id: version} fixed at creation: every step of the task uses the same version.
  token_versions   TEXT
);
CREATE INDEX IF NOT EXISTS tasks_team ON tasks (team_id, id);
CREATE INDEX IF NOT EXISTS tasks_team_status ON tasks (team_id, status, id);
CREATE INDEX IF NOT EXISTS tasks_team_provider ON tasks (team_id, provider, id) WHERE provider IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS tasks_idempotency ON tasks (team_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
-- The sweeper's scans: unfinished tasks and owed webhooks only (partial, so they stay small).
CREATE INDEX IF NOT EXISTS tasks_active ON tasks (status, updated_at) WHERE status IN ('pending', 'delayed', 'processing', 'polling');
CREATE INDEX IF NOT EXISTS tasks_webhook_pending ON tasks (updated_at) WHERE webhook_status = 'pending';

CREATE TABLE IF NOT EXISTS webhook_secrets (
  team_id      TEXT PRIMARY KEY REFERENCES teams (id),
  -- The team's webhook signing secret, sealed with the team's vault key.
  ciphertext   TEXT NOT NULL,
  iv           TEXT NOT NULL,
  key_version  INTEGER NOT NULL,
  created_at   TEXT NOT NULL,
  -- The secret replaced by the last rotation (sealed the same way); it keeps signing, beside
  -- the current one, until previous_expires_at.
  previous_ciphertext  TEXT,
  previous_iv          TEXT,
  previous_key_version INTEGER,
  previous_expires_at  TEXT
);

-- One row per attempt of a task's main call (run: 1, plus one per retry of the whole task).
-- Errors are the task's own redacted text; no secret is ever stored here.
CREATE TABLE IF NOT EXISTS task_attempts (
  task_id      TEXT NOT NULL REFERENCES tasks (id),
  run          INTEGER NOT NULL,
  attempt      INTEGER NOT NULL,
  started_at   TEXT NOT NULL,
  finished_at  TEXT,
  duration_ms  INTEGER,
  status_code  INTEGER,
  error        TEXT,
  PRIMARY KEY (task_id, run, attempt)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS users (
  id               TEXT PRIMARY KEY,
  email            TEXT NOT NULL UNIQUE,
  -- "pbkdf2-sha256$<iterations>$<salt b64>$<hash b64>": parameters kept so the cost can rise.
  password_hash    TEXT NOT NULL,
  -- Bumped by logout: every token issued before is refused.
  session_version  INTEGER NOT NULL DEFAULT 0,
  created_at       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS memberships (
  team_id     TEXT NOT NULL REFERENCES teams (id),
  user_id     TEXT NOT NULL REFERENCES users (id),
  role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  created_at  TEXT NOT NULL,
  PRIMARY KEY (team_id, user_id)
);
CREATE INDEX IF NOT EXISTS memberships_user ON memberships (user_id);

CREATE TABLE IF NOT EXISTS invitations (
  id           TEXT PRIMARY KEY,
  team_id      TEXT NOT NULL REFERENCES teams (id),
  email        TEXT NOT NULL,
  role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
  -- SHA-256 of the one-time accept token; the token itself is shown once, to the inviter.
  token_hash   TEXT NOT NULL UNIQUE,
  invited_by   TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  accepted_at  TEXT
);
CREATE INDEX IF NOT EXISTS invitations_team ON invitations (team_id, accepted_at);

-- Versions of a credential other than its current one (the current one is on the tokens row).
-- Version 1's ciphertext is bound to the token id alone (as before versions existed); version n > 1 to "tok_...#vn".
CREATE TABLE IF NOT EXISTS credential_versions (
  token_id     TEXT NOT NULL REFERENCES tokens (id),
  version      INTEGER NOT NULL,
  team_id      TEXT NOT NULL,
  -- Erased ('') when the version is retired.
  ciphertext   TEXT NOT NULL,
  iv           TEXT NOT NULL,
  key_version  INTEGER NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('rotated', 'retired')),
  grace_until  TEXT,
  created_at   TEXT NOT NULL,
  rotated_at   TEXT NOT NULL,
  retired_at   TEXT,
  PRIMARY KEY (token_id, version)
);
CREATE INDEX IF NOT EXISTS credential_versions_state ON credential_versions (state, token_id);

-- Leases (seed 004): active while revoked_at IS NULL and expires_at is in the future.
CREATE TABLE IF NOT EXISTS leases (
  id              TEXT PRIMARY KEY,
  team_id         TEXT NOT NULL,
  token_id        TEXT NOT NULL REFERENCES tokens (id),
  version         INTEGER NOT NULL,
  -- The identity the caller declared, and the caller that authenticated.
  identity_type   TEXT NOT NULL,
  identity_name   TEXT NOT NULL,
  actor_type      TEXT NOT NULL,
  actor_id        TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  max_expires_at  TEXT NOT NULL,
  revoked_at      TEXT,
  -- Set by the sweeper when it records the expiry (once).
  ended_noted_at  TEXT
);
CREATE INDEX IF NOT EXISTS leases_token_active ON leases (token_id, revoked_at, expires_at);
CREATE INDEX IF NOT EXISTS leases_team ON leases (team_id, id);
-- The vault sweeper's scan: leases not revoked whose end is not recorded yet.
CREATE INDEX IF NOT EXISTS leases_end_unnoted ON leases (expires_at) WHERE revoked_at IS NULL AND ended_noted_at IS NULL;

-- App-level named secrets are readable by the API keys they are assigned to.
CREATE TABLE IF NOT EXISTS secret_assignments (
  token_id    TEXT NOT NULL REFERENCES tokens (id),
  api_key_id  TEXT NOT NULL REFERENCES api_keys (id),
  team_id     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (token_id, api_key_id)
);
CREATE INDEX IF NOT EXISTS secret_assignments_key ON secret_assignments (api_key_id, token_id);
CREATE INDEX IF NOT EXISTS secret_assignments_team ON secret_assignments (team_id, token_id);

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
-- Listed newest first and purged by id range (ids sort by creation time), per team.
CREATE INDEX IF NOT EXISTS proxy_log_team ON proxy_log (team_id, id);

-- OAuth credentials: client configuration and lifecycle beside a vault KEY whose sealed value is the access token.
CREATE TABLE IF NOT EXISTS oauth_credentials (
  token_id          TEXT PRIMARY KEY REFERENCES tokens (id),
  team_id           TEXT NOT NULL REFERENCES teams (id),
  -- NULL for a pasted access token without refresh (nothing to call).
  token_url         TEXT,
  authorization_url TEXT,
  client_id         TEXT,
  -- Space-separated, as OAuth writes them.
  scopes            TEXT,
  auth_method       TEXT NOT NULL DEFAULT 'client_secret_post' CHECK (auth_method IN ('client_secret_post', 'client_secret_basic')),
  -- JSON {refreshToken?, clientSecret?}: each {ciphertext, iv, keyVersion} sealed with the team's key.
  sealed            TEXT NOT NULL DEFAULT '{}',
  -- When the access token expires (NULL: the provider gave no expiry).
  expires_at        TEXT,
  connected_at      TEXT NOT NULL,
  last_refreshed_at TEXT,
  -- The provider's error code and description of the last failed refresh (never a token).
  last_error        TEXT,
  -- Set on invalid_grant: the token endpoint is not called again until a reconnect.
  needs_reconnect   INTEGER NOT NULL DEFAULT 0 CHECK (needs_reconnect IN (0, 1)),
  -- Bumped by every write: a refresh writes only if nothing changed the credential meanwhile.
  generation        INTEGER NOT NULL DEFAULT 1,
  updated_at        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_credentials_team ON oauth_credentials (team_id);

-- A connect flow in progress: the state is random and stored hashed, used once, for 10
-- minutes, by the user who started it. The PKCE verifier and client secret are sealed.
CREATE TABLE IF NOT EXISTS oauth_states (
  state_hash   TEXT PRIMARY KEY,
  team_id      TEXT NOT NULL REFERENCES teams (id),
  key_name     TEXT NOT NULL,
  -- Who started: a user id (sessions) or an API key id; the callback checks the user.
  actor_type   TEXT NOT NULL,
  actor_id     TEXT NOT NULL,
  user_id      TEXT,
  redirect_uri TEXT NOT NULL,
  -- JSON: token_url, authorization_url, client_id, scopes, auth_method (nothing secret).
  config       TEXT NOT NULL,
  -- JSON {verifier, clientSecret?}, sealed like the credential's secrets.
  sealed       TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  used_at      TEXT
);
CREATE INDEX IF NOT EXISTS oauth_states_expires ON oauth_states (expires_at);

-- Proposals: an agent asks, a member approves (see migrations/0007_proposals.sql).
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
