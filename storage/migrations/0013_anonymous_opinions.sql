-- jiazhan: foreign-keys-off
-- An opinion may have no author: one entered at the reception desk for a visitor who has not
-- yet claimed it, or one whose author asked to be forgotten (PIPL). Its rows stay counted in
-- the figures. `opinions` is rebuilt so that author_id may be NULL; every index and trigger
-- on it is made again. 'withdrawn': an unanswered opinion whose author was forgotten (its
-- text erased) leaves the deputies' queues. The consent now records the notice version agreed
-- to.

CREATE TABLE opinions_new (
    id          INTEGER PRIMARY KEY,
    tracking_no TEXT NOT NULL UNIQUE,
    author_id   INTEGER REFERENCES users(telegram_id),
    station_id  INTEGER NOT NULL REFERENCES stations(id),
    category    TEXT NOT NULL,
    text        TEXT NOT NULL,
    photos      TEXT NOT NULL DEFAULT '[]',
    latitude    REAL,
    longitude   REAL,
    show_name   INTEGER NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('submitted', 'accepted', 'declined', 'answered', 'closed',
                                  'withdrawn')),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    holder_id   INTEGER REFERENCES users(telegram_id),
    claimed_at  TEXT,
    answered_at TEXT,
    solved      TEXT CHECK (solved IN ('yes', 'partly', 'no')),
    satisfaction TEXT
                CHECK (satisfaction IN ('satisfied', 'basically', 'unsatisfied', 'not_rated')),
    rating_comment TEXT NOT NULL DEFAULT '',
    rated_at    TEXT,
    looked_again INTEGER NOT NULL DEFAULT 0,
    draft_token TEXT,
    unclaimed_since TEXT,
    project_id  INTEGER REFERENCES projects(id)
);
INSERT INTO opinions_new (id, tracking_no, author_id, station_id, category, text, photos,
                          latitude, longitude, show_name, status, created_at, updated_at,
                          holder_id, claimed_at, answered_at, solved, satisfaction,
                          rating_comment, rated_at, looked_again, draft_token, unclaimed_since,
                          project_id)
    SELECT id, tracking_no, author_id, station_id, category, text, photos,
           latitude, longitude, show_name, status, created_at, updated_at,
           holder_id, claimed_at, answered_at, solved, satisfaction,
           rating_comment, rated_at, looked_again, draft_token, unclaimed_since, project_id
    FROM opinions;
DROP TABLE opinions;
ALTER TABLE opinions_new RENAME TO opinions;

CREATE INDEX opinions_author ON opinions(author_id, id DESC) WHERE author_id IS NOT NULL;
CREATE INDEX opinions_station ON opinions(station_id, status, id DESC);
CREATE INDEX opinions_holder ON opinions(holder_id, status, id DESC) WHERE holder_id IS NOT NULL;
CREATE INDEX opinions_status_created ON opinions(status, created_at);
CREATE UNIQUE INDEX opinions_draft_token ON opinions(draft_token) WHERE draft_token IS NOT NULL;
CREATE INDEX opinions_created ON opinions(created_at);
CREATE INDEX opinions_figures ON opinions(station_id, category, created_at, status,
    satisfaction, solved, holder_id, answered_at) WHERE project_id IS NULL;
CREATE INDEX opinions_answer_times ON opinions(station_id, created_at, answered_at)
    WHERE project_id IS NULL AND answered_at IS NOT NULL;
CREATE INDEX opinions_answer_order ON opinions(unixepoch(answered_at) - unixepoch(created_at),
    created_at) WHERE project_id IS NULL AND answered_at IS NOT NULL;

CREATE TRIGGER opinions_unclaimed_since AFTER INSERT ON opinions
    WHEN NEW.unclaimed_since IS NULL
BEGIN
    UPDATE opinions SET unclaimed_since = NEW.created_at WHERE id = NEW.id;
END;
CREATE TRIGGER opinion_pool_status AFTER UPDATE OF status ON opinions
WHEN (OLD.status IN ('submitted', 'accepted')) <> (NEW.status IN ('submitted', 'accepted'))
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.id);
END;
CREATE TRIGGER opinion_pool_place AFTER UPDATE OF project_id, station_id ON opinions
WHEN OLD.project_id IS NOT NEW.project_id OR OLD.station_id IS NOT NEW.station_id
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.id);
END;
CREATE TRIGGER opinion_terms_text AFTER UPDATE OF text ON opinions
WHEN OLD.text IS NOT NEW.text
BEGIN
    DELETE FROM opinion_terms WHERE opinion_id = NEW.id;
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.id);
END;
CREATE TRIGGER opinion_terms_gone BEFORE DELETE ON opinions
BEGIN
    DELETE FROM opinion_terms WHERE opinion_id = OLD.id;
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (OLD.id);
END;

-- The privacy notice's version each person agreed to, stored with the consent: a newer
-- notice asks them again. Consents given before versions were kept were to version 1.
ALTER TABLE users ADD COLUMN consent_version INTEGER;
UPDATE users SET consent_version = 1 WHERE consent_at IS NOT NULL;
