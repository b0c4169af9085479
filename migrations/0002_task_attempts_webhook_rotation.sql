-- Issue 16: each attempt of a task (its history), re-running a failed task, task list filters,
-- and a webhook secret rotation in which the previous secret keeps signing for a grace period.

-- How many times the task has been run: 1, plus one per POST /v1/tasks/:id/retry.
ALTER TABLE tasks ADD COLUMN runs INTEGER NOT NULL DEFAULT 1;

-- One row per attempt of a task's main call: inserted in the claim's batch, finished in the
-- batch of the transition that ends the attempt. Errors are the task's own (redacted) text.
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
);

-- GET /v1/tasks?provider=...: the team's tasks of one provider, newest first.
CREATE INDEX IF NOT EXISTS tasks_team_provider ON tasks (team_id, provider, id);

-- The secret replaced by the last rotation, sealed like the current one, and when it stops signing.
ALTER TABLE webhook_secrets ADD COLUMN previous_ciphertext TEXT;
ALTER TABLE webhook_secrets ADD COLUMN previous_iv TEXT;
ALTER TABLE webhook_secrets ADD COLUMN previous_key_version INTEGER;
ALTER TABLE webhook_secrets ADD COLUMN previous_expires_at TEXT;
