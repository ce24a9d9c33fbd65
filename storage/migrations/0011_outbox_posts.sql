-- Posts to a channel (建议公开) kept and corrected in place, in columns of their own rather
-- than in a message's parameters: the message a sent row became, the post an edit corrects,
-- and how often a post that failed was queued again.

-- The Telegram message a row became once sent (a post's edits edit it).
ALTER TABLE outbox ADD COLUMN message_id INTEGER;
-- An edit of a post: the post's outbox row (its message_id is the message edited).
ALTER TABLE outbox ADD COLUMN post_of INTEGER REFERENCES outbox(id);
-- A post that failed (the bot not yet in the channel …), queued again: how many times.
ALTER TABLE outbox ADD COLUMN reposts INTEGER NOT NULL DEFAULT 0;
CREATE INDEX outbox_post_edits ON outbox(post_of) WHERE post_of IS NOT NULL;

-- The answer a suggestion's post shows: a later answer (round 2) edits the post.
ALTER TABLE suggestions ADD COLUMN posted_answer_id INTEGER REFERENCES suggestion_answers(id);

-- Rows queued by the previous version kept these in their parameters ("post": 0 on a post,
-- the post's id on an edit; "message_id" once sent; "answer_id" on a post): moved here.
UPDATE suggestions SET posted_answer_id = (
    SELECT json_extract(o.params, '$.answer_id') FROM outbox o
    WHERE o.id = suggestions.channel_outbox_id)
WHERE channel_outbox_id IS NOT NULL;
UPDATE outbox SET message_id = json_extract(params, '$.message_id')
WHERE json_extract(params, '$.post') = 0;
UPDATE outbox SET post_of = json_extract(params, '$.post')
WHERE json_extract(params, '$.post') > 0;
UPDATE outbox SET params = json_remove(params, '$.post', '$.message_id', '$.answer_id')
WHERE json_extract(params, '$.post') IS NOT NULL;
