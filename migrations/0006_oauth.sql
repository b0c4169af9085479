-- OAuth credentials (issue 12, section 1). An OAuth credential is a vault KEY (tokens row of
-- kind 'vault_key', type 'oauth') whose sealed value is the current access token, so every
-- injection path (tok_ references, the proxy) reads it like any other value. What the token
-- endpoint needs and what the status route shows lives here, beside the row: the client
-- configuration and the lifecycle (expiry, refreshes, errors) are not secret; the refresh
-- token and client secret are sealed by the store's cipher, bound to the credential's id.
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
