-- Retention per plan and the cron's scans, each through an index (issue 15; checked by
-- test/query-plans.integration.test.ts).

-- The retention purge walks a plan's teams into each team's own index range (src/retention/).
CREATE INDEX IF NOT EXISTS teams_plan ON teams (plan, id);

-- The request log is listed newest first by id and purged by id range (ids sort by creation
-- time), per team: one (team_id, id) index serves both without a sort. The global created_at
-- index served only the old global purge; dropping it saves an index write per logged request.
DROP INDEX IF EXISTS proxy_log_created;
DROP INDEX IF EXISTS proxy_log_team;
CREATE INDEX IF NOT EXISTS proxy_log_team ON proxy_log (team_id, id);

-- The vault sweeper's scans (src/vault/sweeper.ts): only what it looks for, through partial
-- indexes that a row leaves once its expiry is recorded (or the lease revoked).
CREATE INDEX IF NOT EXISTS tokens_expiry_unnoted ON tokens (expires_at) WHERE kind = 'secret' AND revoked_at IS NULL AND expiry_noted_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS leases_end_unnoted ON leases (expires_at) WHERE revoked_at IS NULL AND ended_noted_at IS NULL;

-- A vault's inventory reads the team's secret assignments (src/vault/inventory.ts).
CREATE INDEX IF NOT EXISTS secret_assignments_team ON secret_assignments (team_id, token_id);
