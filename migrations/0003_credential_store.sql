-- Migration 0003: one credential store with several views (issue 10).
--
-- `tokens` stays the one encrypted store: every credential, however it was created, keeps a
-- tok_ id that tasks can reference. New columns say which view made it (kind), its type, its
-- owner, the labels and expiry of named secrets, the policy and metadata of credentials, the
-- hosts it may be sent to, and which version the row's ciphertext is. Older versions live in
-- credential_versions; leases in leases; app-level secret grants in secret_assignments.

ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'token' CHECK (kind IN ('token', 'secret', 'credential', 'vault_key'));
ALTER TABLE tokens ADD COLUMN type TEXT NOT NULL DEFAULT 'static';
ALTER TABLE tokens ADD COLUMN owner_type TEXT NOT NULL DEFAULT 'team' CHECK (owner_type IN ('team', 'app', 'user'));
ALTER TABLE tokens ADD COLUMN owner_user_id TEXT;
ALTER TABLE tokens ADD COLUMN created_by_key_id TEXT;
ALTER TABLE tokens ADD COLUMN scope_labels TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN expires_at TEXT;
ALTER TABLE tokens ADD COLUMN expiry_noted_at TEXT;
ALTER TABLE tokens ADD COLUMN allowed_hosts TEXT;
ALTER TABLE tokens ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tokens ADD COLUMN policy TEXT NOT NULL DEFAULT '{}';
ALTER TABLE tokens ADD COLUMN current_version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN updated_at TEXT;
CREATE UNIQUE INDEX tokens_named ON tokens (team_id, kind, COALESCE(owner_user_id, ''), name) WHERE kind <> 'token' AND revoked_at IS NULL;

ALTER TABLE api_keys ADD COLUMN labels TEXT NOT NULL DEFAULT '[]';

ALTER TABLE tasks ADD COLUMN token_versions TEXT;

CREATE TABLE credential_versions (
  token_id     TEXT NOT NULL REFERENCES tokens (id),
  version      INTEGER NOT NULL,
  team_id      TEXT NOT NULL,
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
CREATE INDEX credential_versions_state ON credential_versions (state, token_id);

CREATE TABLE leases (
  id              TEXT PRIMARY KEY,
  team_id         TEXT NOT NULL,
  token_id        TEXT NOT NULL REFERENCES tokens (id),
  version         INTEGER NOT NULL,
  identity_type   TEXT NOT NULL,
  identity_name   TEXT NOT NULL,
  actor_type      TEXT NOT NULL,
  actor_id        TEXT NOT NULL,
  created_at      TEXT NOT NULL,
  expires_at      TEXT NOT NULL,
  max_expires_at  TEXT NOT NULL,
  revoked_at      TEXT,
  ended_noted_at  TEXT
);
CREATE INDEX leases_token_active ON leases (token_id, revoked_at, expires_at);
CREATE INDEX leases_team ON leases (team_id, id);

CREATE TABLE secret_assignments (
  token_id    TEXT NOT NULL REFERENCES tokens (id),
  api_key_id  TEXT NOT NULL REFERENCES api_keys (id),
  team_id     TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  PRIMARY KEY (token_id, api_key_id)
);
CREATE INDEX secret_assignments_key ON secret_assignments (api_key_id, token_id);
