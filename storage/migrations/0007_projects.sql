-- Livelihood projects (民生实事): the year's candidates, their selection ballot (票决), their
-- progress during the year, the deputies who follow them, and the year-end rating (测评).

CREATE TABLE projects (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL DEFAULT '',
    department    TEXT NOT NULL DEFAULT '',   -- the responsible department (承办单位)
    budget_wan    REAL,                       -- optional budget, in 万元
    state         TEXT NOT NULL DEFAULT 'candidate'
                  CHECK (state IN ('candidate', 'chosen', 'rejected', 'withdrawn')),
    percent_done  INTEGER NOT NULL DEFAULT 0 CHECK (percent_done BETWEEN 0 AND 100),
    created_by    INTEGER REFERENCES users(telegram_id),
    created_at    TEXT NOT NULL,
    UNIQUE (year, title)
);

CREATE TABLE project_updates (
    id            INTEGER PRIMARY KEY,
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    author_id     INTEGER REFERENCES users(telegram_id),
    percent_done  INTEGER NOT NULL CHECK (percent_done BETWEEN 0 AND 100),
    note          TEXT NOT NULL DEFAULT '',
    photos        TEXT NOT NULL DEFAULT '[]',  -- JSON list of Telegram file ids
    created_at    TEXT NOT NULL
);
CREATE INDEX project_updates_project ON project_updates(project_id, id DESC);

CREATE TABLE project_followers (
    project_id    INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES users(telegram_id),
    PRIMARY KEY (project_id, user_id)
) WITHOUT ROWID;

-- A deputy's supervision opinion about a project is an opinion like a voter's, so staff
-- handle it where they handle the rest; this says which project it is about.
ALTER TABLE opinions ADD COLUMN project_id INTEGER REFERENCES projects(id);

-- Secret ballots: the database knows who voted, never how. Voters are kept apart from the
-- tallies, without timestamps, in tables without rowids (ordered by their keys, not by the
-- order of voting); tallies are counters created at zero when the ballot opens and only
-- ever incremented.
CREATE TABLE ballots (
    id            INTEGER PRIMARY KEY,
    year          INTEGER NOT NULL,
    purpose       TEXT NOT NULL CHECK (purpose IN ('selection', 'rating')),
    -- selection: 'each' (for / against / abstain on each project) or 'k_of_n' (差额票决);
    -- rating: 'rating' (满意 / 基本满意 / 不满意 on each project)
    mode          TEXT NOT NULL CHECK (mode IN ('each', 'k_of_n', 'rating')),
    pick          INTEGER,                    -- K, for k_of_n
    state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'closed')),
    entitled      INTEGER NOT NULL,           -- deputies entitled to vote when it opened
    opened_by     INTEGER REFERENCES users(telegram_id),
    opened_at     TEXT NOT NULL,
    closes_at     TEXT,                       -- optional: closes by itself then
    closed_at     TEXT
);

CREATE TABLE ballot_projects (
    ballot_id     INTEGER NOT NULL REFERENCES ballots(id) ON DELETE CASCADE,
    project_id    INTEGER NOT NULL REFERENCES projects(id),
    position      INTEGER NOT NULL,
    PRIMARY KEY (ballot_id, project_id)
) WITHOUT ROWID;

-- Who may vote (every deputy when it opened) and whether they have: never how.
CREATE TABLE ballot_voters (
    ballot_id     INTEGER NOT NULL REFERENCES ballots(id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    voted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ballot_id, user_id)
) WITHOUT ROWID;

CREATE TABLE ballot_tallies (
    ballot_id     INTEGER NOT NULL REFERENCES ballots(id) ON DELETE CASCADE,
    project_id    INTEGER NOT NULL,
    choice        TEXT NOT NULL,  -- for / against / abstain; chosen; satisfied / basic / unsatisfied
    votes         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (ballot_id, project_id, choice)
) WITHOUT ROWID;
