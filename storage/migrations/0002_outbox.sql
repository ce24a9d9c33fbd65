-- The outbox: every message that is not a direct reply, sent by one dispatcher at a
-- bounded rate; and the staff broadcasts that fill it.

ALTER TABLE users ADD COLUMN notices INTEGER NOT NULL DEFAULT 1;

CREATE TABLE broadcasts (
    id            INTEGER PRIMARY KEY,
    created_by    INTEGER NOT NULL REFERENCES users(telegram_id),
    audience      TEXT NOT NULL,
    audience_ref  INTEGER,
    text          TEXT NOT NULL,
    photo         TEXT,
    document      TEXT,
    state         TEXT NOT NULL DEFAULT 'running'
                  CHECK (state IN ('running', 'paused', 'cancelled', 'done')),
    total         INTEGER NOT NULL,
    progress_chat_id    INTEGER,
    progress_message_id INTEGER,
    created_at    TEXT NOT NULL,
    finished_at   TEXT
);

CREATE TABLE outbox (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL,
    -- 0: about the recipient's own affairs; 1: broadcasts. Lower goes first.
    priority      INTEGER NOT NULL DEFAULT 0,
    broadcast_id  INTEGER REFERENCES broadcasts(id),
    -- For personal notices: a catalog message id and its parameters, rendered at send time
    -- in the recipient's language.
    message_key   TEXT,
    params        TEXT NOT NULL DEFAULT '{}',
    respects_opt_out INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    not_before    TEXT NOT NULL,
    reason        TEXT,
    created_at    TEXT NOT NULL,
    sent_at       TEXT,
    CHECK (broadcast_id IS NOT NULL OR message_key IS NOT NULL)
);
CREATE INDEX outbox_due ON outbox(priority, id) WHERE state = 'queued';
CREATE INDEX outbox_in_flight ON outbox(id) WHERE state = 'sending';
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, state) WHERE broadcast_id IS NOT NULL;

-- Short multi-step inputs other than the opinion draft (broadcast composition, a reason
-- or an answer being typed), kept in the database so a restart does not lose them.
CREATE TABLE drafts (
    user_id       INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    data          TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
