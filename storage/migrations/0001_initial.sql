-- Places, people, opinions and the state a conversation needs to survive a restart.

CREATE TABLE streets (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE
);

CREATE TABLE stations (
    id          INTEGER PRIMARY KEY,
    street_id   INTEGER NOT NULL REFERENCES streets(id),
    name        TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    latitude    REAL,
    longitude   REAL,
    UNIQUE (street_id, name)
);

CREATE TABLE users (
    telegram_id INTEGER PRIMARY KEY,
    role        TEXT NOT NULL DEFAULT 'voter'
                CHECK (role IN ('voter', 'deputy', 'staff', 'admin')),
    locale      TEXT NOT NULL,
    full_name   TEXT NOT NULL DEFAULT '',
    username    TEXT,
    station_id  INTEGER REFERENCES stations(id),
    consent_at  TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  TEXT NOT NULL
);
CREATE INDEX users_station ON users(station_id) WHERE station_id IS NOT NULL;

CREATE TABLE deputies (
    user_id     INTEGER PRIMARY KEY REFERENCES users(telegram_id),
    name        TEXT NOT NULL,
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    joined_at   TEXT NOT NULL
);
CREATE INDEX deputies_station ON deputies(station_id);

CREATE TABLE invitations (
    code        TEXT PRIMARY KEY,
    deputy_name TEXT NOT NULL,
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    used_by     INTEGER,
    used_at     TEXT
);

-- One row a year; a tracking number's sequence is taken here and never given back.
CREATE TABLE tracking_sequences (
    year        INTEGER PRIMARY KEY,
    last        INTEGER NOT NULL
);

CREATE TABLE opinions (
    id          INTEGER PRIMARY KEY,
    tracking_no TEXT NOT NULL UNIQUE,
    author_id   INTEGER NOT NULL REFERENCES users(telegram_id),
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    category    TEXT NOT NULL,
    text        TEXT NOT NULL,
    photos      TEXT NOT NULL DEFAULT '[]',
    latitude    REAL,
    longitude   REAL,
    show_name   INTEGER NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('submitted', 'accepted', 'declined', 'answered', 'closed')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX opinions_author ON opinions(author_id, id DESC);
CREATE INDEX opinions_station ON opinions(station_id, status, id DESC);

CREATE TABLE opinion_events (
    id          INTEGER PRIMARY KEY,
    opinion_id  INTEGER NOT NULL REFERENCES opinions(id),
    at          TEXT NOT NULL,
    actor_id    INTEGER,
    kind        TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX opinion_events_opinion ON opinion_events(opinion_id, id);

-- The opinion being written, saved after every step.
CREATE TABLE opinion_drafts (
    user_id     INTEGER PRIMARY KEY REFERENCES users(telegram_id),
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

-- ConversationHandler states (telegram.ext persistence), keyed by handler name and JSON key.
CREATE TABLE conversation_states (
    name        TEXT NOT NULL,
    key         TEXT NOT NULL,
    state       TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
