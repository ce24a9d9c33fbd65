-- jiazhan: foreign-keys-off
-- Deputies' suggestions (代表建议) from draft to answer and rating; handling departments and
-- their liaisons; the ledger (台账) of promised solutions; turns a deputy could not attend;
-- voters' rating of a deputy's annual account.

-- A department liaison (承办单位联络员) is a role of its own: users is rebuilt to allow it.
CREATE TABLE users_new (
    telegram_id INTEGER PRIMARY KEY,
    role        TEXT NOT NULL DEFAULT 'voter'
                CHECK (role IN ('voter', 'deputy', 'staff', 'admin', 'liaison')),
    locale      TEXT NOT NULL,
    full_name   TEXT NOT NULL DEFAULT '',
    username    TEXT,
    station_id  INTEGER REFERENCES stations(id),
    consent_at  TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL,
    notices     INTEGER NOT NULL DEFAULT 1,
    notice_shown_at TEXT,
    locale_chosen INTEGER NOT NULL DEFAULT 0
);
INSERT INTO users_new (telegram_id, role, locale, full_name, username, station_id, consent_at,
                       active, created_at, notices, notice_shown_at, locale_chosen)
    SELECT telegram_id, role, locale, full_name, username, station_id, consent_at,
           active, created_at, notices, notice_shown_at, locale_chosen FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
CREATE INDEX users_station ON users(station_id) WHERE station_id IS NOT NULL;
CREATE INDEX users_unconsented ON users(created_at) WHERE consent_at IS NULL;

-- Handling departments (承办单位): imported from CSV or kept in chat; never deleted once used.
CREATE TABLE departments (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE department_liaisons (
    user_id       INTEGER PRIMARY KEY REFERENCES users(telegram_id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    name          TEXT NOT NULL,
    joined_at     TEXT NOT NULL
);
CREATE INDEX department_liaisons_department ON department_liaisons(department_id);

-- One-time links that make an account a department's liaison (as invitations do deputies).
CREATE TABLE liaison_invitations (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    department_id INTEGER NOT NULL REFERENCES departments(id),
    created_by    INTEGER NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_by       INTEGER,
    used_at       TEXT
);

-- The outcome classes of answers, per year (districts word them differently). A year with
-- no rows uses the default A/B/C. `counts_as_progress`: the class counts in "solved or
-- progressed"; `ledger`: its commitments keep the suggestion on the ledger.
CREATE TABLE outcome_classes (
    year          INTEGER NOT NULL,
    code          TEXT NOT NULL,
    label         TEXT NOT NULL,
    position      INTEGER NOT NULL,
    counts_as_progress INTEGER NOT NULL DEFAULT 0,
    ledger        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (year, code)
);

-- One sequence a year for suggestion numbers (JY2026-0001), never given back.
CREATE TABLE suggestion_sequences (
    year          INTEGER PRIMARY KEY,
    last          INTEGER NOT NULL
);

CREATE TABLE suggestions (
    id            INTEGER PRIMARY KEY,
    number        TEXT NOT NULL UNIQUE,
    lead_deputy_id INTEGER NOT NULL REFERENCES deputies(user_id),
    title         TEXT NOT NULL,
    reason        TEXT NOT NULL,       -- 事由
    proposals     TEXT NOT NULL,       -- 具体建议
    category      TEXT NOT NULL,
    publish       INTEGER NOT NULL DEFAULT 0,   -- the lead deputy agreed to 建议公开
    state         TEXT NOT NULL CHECK (state IN ('submitted', 'withdrawn', 'declined',
                  'assigned', 'returned', 'answered', 'rehandling', 'closed')),
    priority      INTEGER NOT NULL DEFAULT 0,   -- 重点督办
    decline_reason TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL,       -- submitted
    updated_at    TEXT NOT NULL,
    withdrawn_at  TEXT,
    assigned_at   TEXT,                -- the latest 交办 (a reassignment after 退办 restarts it)
    first_assigned_at TEXT,
    due_at        TEXT,                -- the answer's deadline (3 months, 6 extended, 2 re-handling)
    extended      INTEGER NOT NULL DEFAULT 0,
    extension_requested_at TEXT,
    extension_reason TEXT NOT NULL DEFAULT '',
    answered_at   TEXT,                -- the latest answer
    outcome_class TEXT,                -- of the latest answer
    rating        TEXT CHECK (rating IN ('satisfied', 'basically', 'unsatisfied')),
    rated_at      TEXT,
    rating_due_at TEXT,                -- 15 working days after the answer
    rating_comment TEXT NOT NULL DEFAULT '',
    rehandled     INTEGER NOT NULL DEFAULT 0,   -- 重新办理 asked (once)
    ledger_done_at TEXT,               -- class B: every commitment done
    channel_outbox_id INTEGER,         -- the publication post (建议公开), its outbox row
    closed_at     TEXT
);
CREATE INDEX suggestions_lead ON suggestions(lead_deputy_id, id DESC);
CREATE INDEX suggestions_state ON suggestions(state, id DESC);
CREATE INDEX suggestions_created ON suggestions(created_at);
CREATE INDEX suggestions_due ON suggestions(due_at) WHERE state IN ('assigned', 'rehandling');

-- 联名: invited, then confirmed or declined by the co-signer; only confirmed ones count.
CREATE TABLE suggestion_cosigners (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    state         TEXT NOT NULL CHECK (state IN ('invited', 'confirmed', 'declined')),
    invited_at    TEXT NOT NULL,
    answered_at   TEXT,
    PRIMARY KEY (suggestion_id, deputy_id)
);
CREATE INDEX suggestion_cosigners_deputy ON suggestion_cosigners(deputy_id, state);

-- The voters' opinions a suggestion grew from: an opinion feeds at most one suggestion.
CREATE TABLE suggestion_opinions (
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    opinion_id    INTEGER NOT NULL UNIQUE REFERENCES opinions(id),
    PRIMARY KEY (suggestion_id, opinion_id)
);

-- 交办: one lead (主办) and any co-handling (协办) departments per round. 退办 ends a row.
CREATE TABLE suggestion_assignments (
    id            INTEGER PRIMARY KEY,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    lead          INTEGER NOT NULL,    -- 1 主办, 0 协办
    state         TEXT NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'returned', 'ended')),
    assigned_at   TEXT NOT NULL,
    assigned_by   INTEGER,
    return_reason TEXT NOT NULL DEFAULT '',
    proposed_department TEXT NOT NULL DEFAULT '',
    returned_at   TEXT
);
CREATE INDEX suggestion_assignments_suggestion ON suggestion_assignments(suggestion_id, state);
CREATE INDEX suggestion_assignments_department ON suggestion_assignments(department_id, state);
CREATE UNIQUE INDEX suggestion_assignments_one_lead ON suggestion_assignments(suggestion_id)
    WHERE lead = 1 AND state = 'active';

-- Every answer (办复): the first, and the one after re-handling (round 2).
CREATE TABLE suggestion_answers (
    id            INTEGER PRIMARY KEY,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    round         INTEGER NOT NULL CHECK (round IN (1, 2)),
    department_id INTEGER NOT NULL REFERENCES departments(id),
    outcome_class TEXT NOT NULL,
    met_deputy    INTEGER NOT NULL,    -- 见面/沟通 before answering
    met_on        TEXT,                -- local date
    summary       TEXT NOT NULL,
    recorded_by   INTEGER NOT NULL,    -- the liaison, or staff for a department without the bot
    answered_at   TEXT NOT NULL,
    on_time       INTEGER NOT NULL,
    UNIQUE (suggestion_id, round)
);
CREATE INDEX suggestion_answers_at ON suggestion_answers(answered_at);

-- Class B: what the department promised, by when; progress updates until done (台账).
CREATE TABLE suggestion_commitments (
    id            INTEGER PRIMARY KEY,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    answer_id     INTEGER NOT NULL REFERENCES suggestion_answers(id),
    text          TEXT NOT NULL,
    due_on        TEXT NOT NULL,       -- local date
    done_at       TEXT,
    reminded_at   TEXT,                -- the department asked for a progress update
    alerted_at    TEXT                 -- staff told that none came
);
CREATE INDEX suggestion_commitments_open ON suggestion_commitments(due_on)
    WHERE done_at IS NULL;
CREATE INDEX suggestion_commitments_suggestion ON suggestion_commitments(suggestion_id);

CREATE TABLE commitment_updates (
    id            INTEGER PRIMARY KEY,
    commitment_id INTEGER NOT NULL REFERENCES suggestion_commitments(id),
    text          TEXT NOT NULL,
    done          INTEGER NOT NULL DEFAULT 0,
    author_id     INTEGER,
    at            TEXT NOT NULL
);
CREATE INDEX commitment_updates_commitment ON commitment_updates(commitment_id, id);

-- What happened to a suggestion, in order: the trail staff and the deputy see.
CREATE TABLE suggestion_events (
    id            INTEGER PRIMARY KEY,
    suggestion_id INTEGER NOT NULL REFERENCES suggestions(id),
    at            TEXT NOT NULL,
    actor_id      INTEGER,
    kind          TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX suggestion_events_suggestion ON suggestion_events(suggestion_id, id);

-- A duty turn a deputy could not attend, with the reason (the annual account lists them).
CREATE TABLE turn_absences (
    turn_id       INTEGER NOT NULL REFERENCES duty_turns(id),
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    reason        TEXT NOT NULL,
    at            TEXT NOT NULL,
    PRIMARY KEY (turn_id, deputy_id)
);

-- Voters' satisfaction with a deputy's annual account (年述职测评), by secret ballot: who
-- voted is kept apart from the counts, as with the project ratings.
CREATE TABLE account_ratings (
    id            INTEGER PRIMARY KEY,
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    year          INTEGER NOT NULL,
    station_id    INTEGER NOT NULL REFERENCES stations(id),
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    opened_by     INTEGER,
    opened_at     TEXT NOT NULL,
    closes_at     TEXT NOT NULL,
    closed_at     TEXT,
    UNIQUE (deputy_id, year)
);

CREATE TABLE account_rating_voters (
    rating_id     INTEGER NOT NULL REFERENCES account_ratings(id),
    voter_id      INTEGER NOT NULL,
    voted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rating_id, voter_id)
) WITHOUT ROWID;

CREATE TABLE account_rating_tallies (
    rating_id     INTEGER NOT NULL REFERENCES account_ratings(id),
    choice        TEXT NOT NULL CHECK (choice IN ('satisfied', 'basically', 'unsatisfied')),
    count         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (rating_id, choice)
) WITHOUT ROWID;

-- The figures count by period: answered and rated opinions, visits by date.
CREATE INDEX opinions_created ON opinions(created_at);
CREATE INDEX visits_date ON visits(visit_date) WHERE deleted_at IS NULL;
