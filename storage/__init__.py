"""The only place with SQL: the database, its migrations, repositories and row models."""

from storage.db import Database, Tx

__all__ = ["Database", "Tx"]
