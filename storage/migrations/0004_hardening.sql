-- Hardening: idempotent opinion submission, conversation expiry, nothing personal before
-- consent.

-- The draft an opinion was submitted from: a repeated Send finds the same opinion.
ALTER TABLE opinions ADD COLUMN draft_token TEXT;
CREATE UNIQUE INDEX opinions_draft_token ON opinions(draft_token) WHERE draft_token IS NOT NULL;

-- When a conversation last moved, so an abandoned one expires. Conversations and drafts
-- there before this count from now, together, so the first sweep keeps the pairs whole.
ALTER TABLE conversation_states ADD COLUMN updated_at TEXT;
UPDATE conversation_states SET updated_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now');
UPDATE drafts SET updated_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now');
UPDATE opinion_drafts SET updated_at = strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now');
CREATE INDEX conversation_states_updated ON conversation_states(updated_at);
CREATE INDEX drafts_updated ON drafts(updated_at);
CREATE INDEX opinion_drafts_updated ON opinion_drafts(updated_at);

-- The privacy notice was shown (the only thing kept about a stranger besides their id).
ALTER TABLE users ADD COLUMN notice_shown_at TEXT;
CREATE INDEX users_unconsented ON users(created_at) WHERE consent_at IS NULL;

-- A language picked with /language before consent is kept; otherwise a stranger is spoken
-- to in their Telegram language, which is not stored. Names taken before this rule go.
ALTER TABLE users ADD COLUMN locale_chosen INTEGER NOT NULL DEFAULT 0;
UPDATE users SET full_name = '', username = NULL WHERE consent_at IS NULL;

-- Who is in which conversation is asked on every update.
CREATE INDEX conversation_states_key ON conversation_states(key);

-- A conversation the nightly sweep ended: told once, on the person's next message.
CREATE TABLE conversation_expiries (
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    expired_at  TEXT NOT NULL,
    PRIMARY KEY (key, name)
);
CREATE INDEX conversation_expiries_at ON conversation_expiries(expired_at);
