-- New opinions are told to the station's deputies (at once, or in one digest a day), and
-- releasing an opinion restarts its unclaimed clock.

-- How a deputy hears of their station's new opinions: each at once, or a daily digest.
ALTER TABLE deputies ADD COLUMN notice_mode TEXT NOT NULL DEFAULT 'each'
    CHECK (notice_mode IN ('each', 'digest'));

-- Since when an opinion has waited for a deputy: its submission, or its latest release.
ALTER TABLE opinions ADD COLUMN unclaimed_since TEXT;
UPDATE opinions SET unclaimed_since = coalesce(
    (SELECT max(e.at) FROM opinion_events e
     WHERE e.opinion_id = opinions.id AND e.kind = 'released'),
    created_at);
-- A writer that does not name it (an older version, a script) starts it at the submission.
CREATE TRIGGER opinions_unclaimed_since AFTER INSERT ON opinions
    WHEN NEW.unclaimed_since IS NULL
BEGIN
    UPDATE opinions SET unclaimed_since = NEW.created_at WHERE id = NEW.id;
END;

-- The 3- and 7-day unclaimed notices now name the unclaimed period they were for, as the
-- unanswered and rating reminders name theirs ('unclaimed@' || unclaimed_since). One
-- recorded before the latest release was for an earlier period: it keeps the submission's
-- stamp and no longer blocks the current period.
UPDATE reminders_sent SET kind = kind || '@' || (
    SELECT CASE WHEN reminders_sent.at >= o.unclaimed_since THEN o.unclaimed_since
                ELSE o.created_at END
    FROM opinions o WHERE o.id = reminders_sent.subject_id)
WHERE subject = 'opinion' AND kind IN ('unclaimed', 'unclaimed_alert')
    AND EXISTS (SELECT 1 FROM opinions o WHERE o.id = reminders_sent.subject_id);

-- A notice about one opinion (a new or released one waiting for a deputy) names it, so the
-- ones still queued (held through the quiet hours) are withdrawn once someone takes it.
ALTER TABLE outbox ADD COLUMN about_opinion INTEGER;
CREATE INDEX outbox_about_opinion ON outbox (about_opinion) WHERE about_opinion IS NOT NULL;
