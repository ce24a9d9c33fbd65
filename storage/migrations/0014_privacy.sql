-- A person's rights over their data (PIPL, issue 11).

-- Every message to one person, by state: /mydata lists the waiting ones, /forget deletes
-- the person's own notices (sent ones too: they hold tracking numbers and answers) and looks
-- only at the chats that were told about the person's opinions, never the whole outbox.
CREATE INDEX outbox_chat ON outbox(chat_id, state);

-- The one /forget question a person may answer: its Erase button carries this token, so an
-- older question's button (answered Keep since, or asked again) erases nothing.
ALTER TABLE users ADD COLUMN forget_token TEXT;
