-- The sweeper's scans (src/tasks/sweeper.ts) read only the tasks they look for, through partial
-- indexes that hold unfinished tasks and owed webhooks only: a finished task leaves the first,
-- a delivered webhook the second, so both stay small however many tasks are kept.
CREATE INDEX IF NOT EXISTS tasks_active ON tasks (status, updated_at) WHERE status IN ('pending', 'delayed', 'processing', 'polling');
CREATE INDEX IF NOT EXISTS tasks_webhook_pending ON tasks (updated_at) WHERE webhook_status = 'pending';
