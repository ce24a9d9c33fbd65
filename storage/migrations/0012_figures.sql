-- The district's figures (bot.services.figures: /stats, `python -m bot report`): opinions
-- counted per station and category over a period, and how long they took to be answered,
-- read from these indexes alone (bench/bench_report.py: a year of a million opinions).

-- Each (station, category) pair's opinions of a period are one range of it, read in the
-- order they are grouped in, with every column the counts need.
CREATE INDEX opinions_figures ON opinions(station_id, category, created_at, status,
    satisfaction, solved, holder_id, answered_at) WHERE project_id IS NULL;

-- A street's or station's answers of a period, sorted for the median time to answer.
CREATE INDEX opinions_answer_times ON opinions(station_id, created_at, answered_at)
    WHERE project_id IS NULL AND answered_at IS NOT NULL;

-- Every answer in the order of the time it took: the district's median is walked to, not
-- sorted (the expression is the one the query orders by, kept in the index).
CREATE INDEX opinions_answer_order ON opinions(unixepoch(answered_at) - unixepoch(created_at),
    created_at) WHERE project_id IS NULL AND answered_at IS NOT NULL;
