-- The reception desk (面对面 → 键对键): staff enter the opinion of a visitor who came to the
-- station in person (the opinion has no author until it is claimed). Beside it, for staff
-- and the deputy who handles it: the visitor's name and phone as given (optional, '' when
-- not given or erased), when the visitor's spoken consent was noted, and the claim code of
-- the link and QR code the visitor takes home (single use, until it expires). Opening the
-- link binds the opinion to the visitor's Telegram account: claimed_by, claimed_at.
-- erased_at: the visitor data was erased (the account's /forget, or retention); claimed_by
-- is then NULL again while claimed_at stays, so the code stays used.
CREATE TABLE desk_entries (
    opinion_id       INTEGER PRIMARY KEY REFERENCES opinions(id),
    staff_id         INTEGER NOT NULL REFERENCES users(telegram_id),
    visitor_name     TEXT NOT NULL DEFAULT '',
    visitor_phone    TEXT NOT NULL DEFAULT '',
    consent_noted_at TEXT NOT NULL,
    claim_code       TEXT NOT NULL UNIQUE,
    claim_expires_at TEXT NOT NULL,
    claimed_by       INTEGER REFERENCES users(telegram_id),
    claimed_at       TEXT,
    erased_at        TEXT
);
CREATE INDEX desk_entries_claimed_by ON desk_entries(claimed_by) WHERE claimed_by IS NOT NULL;

-- The bot's @username as the desk last made a link with it (one row): `python -m bot poster`
-- puts the station's link on a poster without a token or a call to Telegram.
CREATE TABLE desk_bot (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    username TEXT NOT NULL,
    seen_at  TEXT NOT NULL
);
