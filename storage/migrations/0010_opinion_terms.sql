-- Similar opinions (bot/services/similar_opinions.py): each opinion's words, segmented once,
-- and a log of the changes that move an opinion into or out of the pool of open opinions, so
-- the in-process index of a 街镇 follows every writer without reading 100,000 rows again.

-- The content words of an opinion's text (jieba, stop words dropped), space-separated. They
-- derive from the text alone: a text changed or erased takes its words with it (trigger below).
CREATE TABLE opinion_terms (
    opinion_id  INTEGER PRIMARY KEY REFERENCES opinions(id),
    terms       TEXT NOT NULL
);

-- Which opinion changed, in order. New opinions are not logged (the index reads ids above the
-- highest it has seen); the log holds what can happen to an existing one. The service deletes
-- what every index in memory has read.
CREATE TABLE opinion_pool_changes (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    opinion_id  INTEGER NOT NULL
);

-- declined, answered, closed, or back to accepted after 'not solved'
CREATE TRIGGER opinion_pool_status AFTER UPDATE OF status ON opinions
WHEN (OLD.status IN ('submitted', 'accepted')) <> (NEW.status IN ('submitted', 'accepted'))
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.id);
END;

-- a project's supervision opinion is no voter's; a station moved to another 街镇's list
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

-- taken into a suggestion, or let go again
CREATE TRIGGER opinion_pool_linked AFTER INSERT ON suggestion_opinions
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.opinion_id);
END;

CREATE TRIGGER opinion_pool_unlinked AFTER DELETE ON suggestion_opinions
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (OLD.opinion_id);
END;

CREATE TRIGGER opinion_pool_relinked AFTER UPDATE OF opinion_id ON suggestion_opinions
BEGIN
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (OLD.opinion_id);
    INSERT INTO opinion_pool_changes (opinion_id) VALUES (NEW.opinion_id);
END;
