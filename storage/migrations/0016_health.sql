-- What the health report (`python -m bot health`, GET /healthz) reads about the running bot,
-- which another process may be asking about: one row per key. 'heartbeat': the bot is alive,
-- written every minute, its value the scheduler's job names as a JSON array (deleted when the
-- bot stops cleanly); 'last_error': when an update, a job, a send or polling last failed.
CREATE TABLE runtime_status (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- When a message first became due: set from not_before by its first retry, since each retry
-- pushes not_before on (NULL: never retried, not_before is still its first due time). The
-- backlog's age is measured from it, so a message retried for an hour is an hour old.
ALTER TABLE outbox ADD COLUMN first_due TEXT;
-- When a message was given up on (state 'failed'): the health report counts recent ones.
ALTER TABLE outbox ADD COLUMN failed_at TEXT;

-- The outbox's backlog (messages waiting that have been due, retries between their attempts
-- included) and the oldest of them, read at every health check: the waiting messages by
-- first due time, so the check reads only those. The query repeats the expression exactly.
CREATE INDEX outbox_waiting ON outbox(coalesce(first_due, not_before)) WHERE state = 'queued';
-- The messages that failed lately, read at every health check.
CREATE INDEX outbox_failed ON outbox(failed_at) WHERE state = 'failed';
