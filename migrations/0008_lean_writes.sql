-- Fewer rows written per task (issue 15; D1 bills every row written, index entries included).
--
-- 1. tasks_team_provider holds only tasks that name a provider: most tasks do not, and a list
--    filtered by provider (`provider = ?`) implies `provider IS NOT NULL`, so SQLite still uses it.
DROP INDEX IF EXISTS tasks_team_provider;
CREATE INDEX IF NOT EXISTS tasks_team_provider ON tasks (team_id, provider, id) WHERE provider IS NOT NULL;

-- 2. task_attempts and audit_log become WITHOUT ROWID tables: their primary key is the table
--    itself, not a second b-tree beside it, so each insert writes one row fewer. Both have small
--    rows keyed by what they are read by (a task's attempts in order; ids that sort by time).
CREATE TABLE task_attempts_new (
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
INSERT INTO task_attempts_new SELECT task_id, run, attempt, started_at, finished_at, duration_ms, status_code, error FROM task_attempts;
DROP TABLE task_attempts;
ALTER TABLE task_attempts_new RENAME TO task_attempts;

CREATE TABLE audit_log_new (
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
INSERT INTO audit_log_new SELECT id, team_id, actor_type, actor_id, actor_api_key_id, action, target_type, target_id, request_id, metadata, created_at FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX IF NOT EXISTS audit_team ON audit_log (team_id, id);
CREATE INDEX IF NOT EXISTS audit_team_action ON audit_log (team_id, action, id);
CREATE INDEX IF NOT EXISTS audit_team_target ON audit_log (team_id, target_id, id);
