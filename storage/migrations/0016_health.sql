-- What the health report (`python -m bot health`, GET /healthz) reads about the running bot,
-- which another process may be asking about: one row per key. 'heartbeat': the bot is alive,
-- written every minute, its value the scheduler's job names as a JSON array (deleted when the
-- bot stops cleanly); 'last_error': when an update or a job last failed.
CREATE TABLE runtime_status (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
) WITHOUT ROWID;

-- The outbox's backlog (messages waiting that are due) and the oldest of them, read at every
-- health check: the waiting messages by due time, so the check reads only those.
CREATE INDEX outbox_waiting ON outbox(not_before) WHERE state = 'queued';
