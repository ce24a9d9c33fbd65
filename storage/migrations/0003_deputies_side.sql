-- The deputies' side: duty calendar and reminders, visit log, opinion inbox, ratings.

-- Outbox messages may carry buttons: JSON [[{"key": <message id>, "data": <callback>}]].
ALTER TABLE outbox ADD COLUMN buttons TEXT;

-- A monthly reception rule, e.g. "second Saturday, 09:00-11:00" at a station.
CREATE TABLE duty_rules (
    id            INTEGER PRIMARY KEY,
    station_id    INTEGER NOT NULL REFERENCES stations(id),
    week_of_month INTEGER NOT NULL CHECK (week_of_month IN (1, 2, 3, 4, 5, -1)),
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- Monday = 0
    starts        TEXT NOT NULL,   -- local HH:MM
    ends          TEXT NOT NULL,   -- local HH:MM
    valid_from    TEXT NOT NULL,   -- local date
    valid_until   TEXT,            -- local date; NULL while the rule runs
    created_by    INTEGER,
    created_at    TEXT NOT NULL
);

CREATE TABLE duty_rule_deputies (
    rule_id       INTEGER NOT NULL REFERENCES duty_rules(id),
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    PRIMARY KEY (rule_id, deputy_id)
);

-- Every dated duty: one-off or produced by a rule. Past turns never change with the rule.
CREATE TABLE duty_turns (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('reception', 'home_visit', 'annual_account')),
    station_id    INTEGER REFERENCES stations(id),
    rule_id       INTEGER REFERENCES duty_rules(id),
    starts_at     TEXT NOT NULL,   -- UTC
    ends_at       TEXT NOT NULL,   -- UTC
    uid           TEXT NOT NULL UNIQUE,   -- stable iCalendar UID
    note          TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL
);
CREATE UNIQUE INDEX duty_turns_rule_start ON duty_turns(rule_id, starts_at)
    WHERE rule_id IS NOT NULL;
CREATE INDEX duty_turns_start ON duty_turns(starts_at);
CREATE INDEX duty_turns_station ON duty_turns(station_id, starts_at);

CREATE TABLE duty_turn_deputies (
    turn_id       INTEGER NOT NULL REFERENCES duty_turns(id) ON DELETE CASCADE,
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    PRIMARY KEY (turn_id, deputy_id)
);
CREATE INDEX duty_turn_deputies_deputy ON duty_turn_deputies(deputy_id, turn_id);

-- A reminder, prompt or alert that went out (or was dropped): never twice.
CREATE TABLE reminders_sent (
    subject       TEXT NOT NULL,   -- 'turn' | 'opinion'
    subject_id    INTEGER NOT NULL,
    recipient_id  INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    outcome       TEXT NOT NULL CHECK (outcome IN ('sent', 'dropped')),
    at            TEXT NOT NULL,
    PRIMARY KEY (subject, subject_id, recipient_id, kind)
);

-- The visit log (履职记录).
CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    deputy_id     INTEGER NOT NULL REFERENCES deputies(user_id),
    kind          TEXT NOT NULL CHECK (kind IN ('reception', 'home_visit', 'inspection',
                  'research', 'law_enforcement', 'training', 'meeting', 'other')),
    visit_date    TEXT NOT NULL,   -- local date
    station_id    INTEGER REFERENCES stations(id),
    turn_id       INTEGER REFERENCES duty_turns(id),
    voters_met    INTEGER NOT NULL CHECK (voters_met BETWEEN 0 AND 10000),
    opinions_received INTEGER NOT NULL CHECK (opinions_received BETWEEN 0 AND 10000),
    done_for_voters TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    photos        TEXT NOT NULL DEFAULT '[]',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    deleted_at    TEXT
);
CREATE INDEX visits_deputy ON visits(deputy_id, visit_date DESC, id DESC) WHERE deleted_at IS NULL;

-- The opinion inbox: who holds an opinion, and how the voter rated the answer.
ALTER TABLE opinions ADD COLUMN holder_id INTEGER REFERENCES users(telegram_id);
ALTER TABLE opinions ADD COLUMN claimed_at TEXT;
ALTER TABLE opinions ADD COLUMN answered_at TEXT;
ALTER TABLE opinions ADD COLUMN solved TEXT CHECK (solved IN ('yes', 'partly', 'no'));
ALTER TABLE opinions ADD COLUMN satisfaction TEXT
    CHECK (satisfaction IN ('satisfied', 'basically', 'unsatisfied', 'not_rated'));
ALTER TABLE opinions ADD COLUMN rating_comment TEXT NOT NULL DEFAULT '';
ALTER TABLE opinions ADD COLUMN rated_at TEXT;
ALTER TABLE opinions ADD COLUMN looked_again INTEGER NOT NULL DEFAULT 0;
CREATE INDEX opinions_holder ON opinions(holder_id, status, id DESC) WHERE holder_id IS NOT NULL;
CREATE INDEX opinions_status_created ON opinions(status, created_at);
