-- A person's rights over their data (PIPL, issue 11): the nightly retention erasure and
-- /forget, /mydata read these indexes instead of whole tables.

-- Closed or declined opinions that still hold their author's personal data, by the time they
-- were closed: the nightly retention job walks the ones past the cutoff, and an opinion
-- leaves the index once erased, so the job's work shrinks to what is left to do. The WHERE
-- is the one the job's query repeats (SQLite uses a partial index only then).
CREATE INDEX opinions_retention ON opinions(updated_at)
    WHERE status IN ('closed', 'declined')
    AND (author_id IS NOT NULL OR latitude IS NOT NULL OR longitude IS NOT NULL
         OR photos <> '[]' OR show_name <> 0);

-- The messages still waiting to be sent to one person: listed by /mydata, dropped by /forget.
CREATE INDEX outbox_queued_chat ON outbox(chat_id) WHERE state = 'queued';
