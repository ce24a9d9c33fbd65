-- On the phone: voice opinions, a deputy's own code (代表码), an opinion addressed to a
-- deputy by name, and each person's own command menu.

-- A voice opinion: Telegram's file_id of the voice and its length. Its `text` is the typed
-- transcript staff add later ('' until then); a typed opinion has neither.
ALTER TABLE opinions ADD COLUMN voice_file_id TEXT;
ALTER TABLE opinions ADD COLUMN voice_seconds INTEGER;
-- The deputy the voter addressed by name (from the deputy's code); NULL: the station.
ALTER TABLE opinions ADD COLUMN addressed_to INTEGER REFERENCES deputies(user_id);

-- A deputy's code, the payload of their link (dep_<code>); made the first time it is asked.
ALTER TABLE deputies ADD COLUMN code TEXT;
CREATE UNIQUE INDEX deputies_code ON deputies(code) WHERE code IS NOT NULL;

-- The deputy whose code the voter opened last: their next opinion offers to address them.
ALTER TABLE users ADD COLUMN met_deputy_id INTEGER REFERENCES deputies(user_id);
-- What the person's own command menu was last set to (bot.runtime.menus); NULL: none
-- (they see the menus every chat sees).
ALTER TABLE users ADD COLUMN menu TEXT;

-- An outbox row that sets its chat's command menu to what the person may use now, under
-- the same rate limits as a message; at most one waits per chat.
ALTER TABLE outbox ADD COLUMN sets_menu INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX outbox_menu_queued ON outbox(chat_id) WHERE sets_menu = 1 AND state = 'queued';
