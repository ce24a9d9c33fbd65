-- Draft-law consultations (法律法规征求意见): a draft split into its articles, the audience
-- prompted, their comments per article, on the whole draft or on a key question, the
-- reminders sent, and the feedback on what was adopted.

CREATE TABLE consultations (
    id            INTEGER PRIMARY KEY,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',   -- e.g. 市人大常委会法制办
    -- who is prompted (deputies are always prompted): deputies, deputies_of_street,
    -- voters_of_station, voters_of_street, everyone
    audience      TEXT NOT NULL,
    audience_ref  INTEGER,                    -- the street or station of the audience
    deadline      TEXT NOT NULL,              -- the instant comments stop being taken
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    invited       INTEGER NOT NULL DEFAULT 0, -- how many were prompted when it opened
    created_by    INTEGER REFERENCES users(telegram_id),
    created_at    TEXT NOT NULL,
    closed_at     TEXT,
    feedback      TEXT,                       -- 意见采纳情况反馈, once published
    feedback_at   TEXT
);
CREATE INDEX consultations_open ON consultations(deadline) WHERE state = 'open';

-- The draft's text in reading order: one row per article (条), with the headings (编 / 章 /
-- 节) above it; a draft with no 第X条 at all is one row with number NULL.
CREATE TABLE consultation_articles (
    consultation_id INTEGER NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,         -- 0, 1, 2 … in the order of the text
    number          INTEGER,                  -- 第N条 as an integer; duplicates are possible
    heading_path    TEXT NOT NULL DEFAULT '[]',  -- JSON list, outermost first
    text            TEXT NOT NULL,
    PRIMARY KEY (consultation_id, position)
) WITHOUT ROWID;

-- 重点征求意见的问题: free text when choices is NULL, else a JSON list of the options.
CREATE TABLE consultation_questions (
    id              INTEGER PRIMARY KEY,
    consultation_id INTEGER NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    text            TEXT NOT NULL,
    choices         TEXT,
    UNIQUE (consultation_id, position)
);

-- Everyone prompted when it opened: the invited count, and whom the reminders go to.
CREATE TABLE consultation_invitees (
    consultation_id INTEGER NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    user_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('deputy', 'voter', 'staff')),
    PRIMARY KEY (consultation_id, user_id)
) WITHOUT ROWID;

CREATE TABLE consultation_comments (
    id               INTEGER PRIMARY KEY,
    consultation_id  INTEGER NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    author_id        INTEGER NOT NULL REFERENCES users(telegram_id),
    -- exactly one target: an article (its position), a key question, or the whole draft
    article_position INTEGER,
    question_id      INTEGER REFERENCES consultation_questions(id),
    choice           TEXT,                    -- the option picked, for a multiple-choice question
    text             TEXT NOT NULL DEFAULT '',
    author_kind      TEXT NOT NULL CHECK (author_kind IN ('deputy', 'voter', 'staff')),
    station_id       INTEGER REFERENCES stations(id),   -- a voter's station when commenting
    show_name        INTEGER NOT NULL DEFAULT 0,        -- a voter chose to be named
    adopted          INTEGER NOT NULL DEFAULT 0,        -- staff marked it adopted (采纳)
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    withdrawn_at     TEXT,
    CHECK (article_position IS NULL OR question_id IS NULL)
);
CREATE INDEX consultation_comments_article
    ON consultation_comments(consultation_id, article_position) WHERE withdrawn_at IS NULL;
CREATE INDEX consultation_comments_author
    ON consultation_comments(consultation_id, author_id);

-- Each reminder (days before the deadline) sent once, recorded in the transaction that
-- queues it, so a restart neither repeats nor loses one.
CREATE TABLE consultation_reminders (
    consultation_id INTEGER NOT NULL REFERENCES consultations(id) ON DELETE CASCADE,
    days_before     INTEGER NOT NULL,
    sent_at         TEXT NOT NULL,
    PRIMARY KEY (consultation_id, days_before)
) WITHOUT ROWID;
