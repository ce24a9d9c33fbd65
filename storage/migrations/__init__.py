"""Numbered schema migrations, `NNNN_name.sql`, applied in order by `storage.db.migrate`.

Each file runs once, in one transaction together with its record in `schema_migrations` and
the new `PRAGMA user_version`: it holds no BEGIN or COMMIT of its own. A file that changes a
table SQLite cannot ALTER in place rebuilds it the documented way
(https://www.sqlite.org/lang_altertable.html#otheralter) and starts with the line

    -- jiazhan: foreign-keys-off

The runner then switches foreign keys off before the transaction (the pragma does nothing
inside one), runs `PRAGMA foreign_key_check` before COMMIT and refuses the whole migration if
a reference is broken, and switches them back on. No file sets `PRAGMA foreign_keys` itself.
"""
