"""Streets (街镇) and their liaison stations (联络站)."""

from __future__ import annotations

from storage.db import Database, Tx
from storage.models import Station, Street

STATION_SELECT = (
    "SELECT s.id, s.street_id, z.name AS street_name, s.name, s.address, s.latitude, s.longitude"
    " FROM stations s JOIN streets z ON z.id = s.street_id"
)


LIKE_ESCAPE = "\\"


def containing(words: str) -> str:
    """A LIKE pattern for names holding `words` as they are: '%', '_' and the escape
    character itself match only themselves."""
    for char in (LIKE_ESCAPE, "%", "_"):
        words = words.replace(char, LIKE_ESCAPE + char)
    return f"%{words}%"


def _matching(columns: tuple[str, ...], forms: list[str]) -> tuple[str, dict[str, str]]:
    """A condition true when any of `columns` holds any of `forms` (LIKE: ASCII letters in
    either case), and its parameters; false for no forms at all."""
    if not forms:
        return "0", {}
    params = {f"form{i}": containing(form) for i, form in enumerate(forms)}
    tests = [f"{c} LIKE :{name} ESCAPE '\\'" for name in params for c in columns]
    return "(" + " OR ".join(tests) + ")", params


class StationRepo:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def count_streets(self) -> int:
        return int(await self.db.scalar("SELECT count(*) FROM streets") or 0)

    async def streets_page(self, offset: int, limit: int) -> list[Street]:
        rows = await self.db.fetchall(
            "SELECT z.id, z.name, count(s.id) AS station_count FROM streets z"
            " LEFT JOIN stations s ON s.street_id = z.id GROUP BY z.id ORDER BY z.id"
            " LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [Street.model_validate(dict(r)) for r in rows]

    async def get_street(self, street_id: int) -> Street | None:
        row = await self.db.fetchone("SELECT id, name FROM streets WHERE id = ?", (street_id,))
        return None if row is None else Street.model_validate(dict(row))

    async def count_stations(self, street_id: int) -> int:
        return int(
            await self.db.scalar("SELECT count(*) FROM stations WHERE street_id = ?", (street_id,))
            or 0
        )

    async def stations_page(self, street_id: int, offset: int, limit: int) -> list[Station]:
        rows = await self.db.fetchall(
            f"{STATION_SELECT} WHERE s.street_id = ? ORDER BY s.id LIMIT ? OFFSET ?",
            (street_id, limit, offset),
        )
        return [Station.model_validate(dict(r)) for r in rows]

    async def count_found_stations(self, forms: list[str]) -> int:
        """How many stations hold one of `forms` in their name or their street's."""
        where, params = _matching(("s.name", "z.name"), forms)
        sql = f"SELECT count(*) FROM stations s JOIN streets z ON z.id = s.street_id WHERE {where}"
        return int(await self.db.scalar(sql, params) or 0)

    async def found_stations(self, forms: list[str], offset: int, limit: int) -> list[Station]:
        where, params = _matching(("s.name", "z.name"), forms)
        rows = await self.db.fetchall(
            f"{STATION_SELECT} WHERE {where} ORDER BY z.id, s.id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [Station.model_validate(dict(r)) for r in rows]

    async def count_found_streets(self, forms: list[str]) -> int:
        """How many streets hold one of `forms` in their name."""
        where, params = _matching(("z.name",), forms)
        sql = f"SELECT count(*) FROM streets z WHERE {where}"
        return int(await self.db.scalar(sql, params) or 0)

    async def found_streets(self, forms: list[str], offset: int, limit: int) -> list[Street]:
        where, params = _matching(("z.name",), forms)
        rows = await self.db.fetchall(
            "SELECT z.id, z.name, count(s.id) AS station_count FROM streets z"
            f" LEFT JOIN stations s ON s.street_id = z.id WHERE {where}"
            " GROUP BY z.id ORDER BY z.id LIMIT :limit OFFSET :offset",
            {**params, "limit": limit, "offset": offset},
        )
        return [Street.model_validate(dict(r)) for r in rows]

    async def get(self, station_id: int) -> Station | None:
        row = await self.db.fetchone(f"{STATION_SELECT} WHERE s.id = ?", (station_id,))
        return None if row is None else Station.model_validate(dict(row))

    async def named(self, name: str) -> list[Station]:
        """Every station called exactly `name` (one per street at most), by id."""
        rows = await self.db.fetchall(f"{STATION_SELECT} WHERE s.name = ? ORDER BY s.id", (name,))
        return [Station.model_validate(dict(r)) for r in rows]

    async def with_coordinates(self) -> list[Station]:
        rows = await self.db.fetchall(
            f"{STATION_SELECT} WHERE s.latitude IS NOT NULL AND s.longitude IS NOT NULL"
        )
        return [Station.model_validate(dict(r)) for r in rows]

    async def upsert_street(self, tx: Tx, name: str) -> int:
        tx.defer("INSERT INTO streets (name) VALUES (?) ON CONFLICT DO NOTHING", (name,))
        row = await tx.fetchone("SELECT id FROM streets WHERE name = ?", (name,))
        if row is None:
            raise RuntimeError(f"street {name!r} vanished inside its own transaction")
        return int(row[0])

    async def upsert_station(
        self,
        tx: Tx,
        street_id: int,
        name: str,
        address: str,
        latitude: float | None,
        longitude: float | None,
    ) -> bool:
        """Create or update a station by (street, name); True when anything changed."""
        existing = await tx.fetchone(
            "SELECT address, latitude, longitude FROM stations WHERE street_id = ? AND name = ?",
            (street_id, name),
        )
        if existing is None:
            tx.defer(
                "INSERT INTO stations (street_id, name, address, latitude, longitude)"
                " VALUES (?, ?, ?, ?, ?)",
                (street_id, name, address, latitude, longitude),
            )
            return True
        if tuple(existing) == (address, latitude, longitude):
            return False
        tx.defer(
            "UPDATE stations SET address = ?, latitude = ?, longitude = ?"
            " WHERE street_id = ? AND name = ?",
            (address, latitude, longitude, street_id, name),
        )
        return True

    async def by_names(self, street: str, station: str) -> Station | None:
        row = await self.db.fetchone(
            f"{STATION_SELECT} WHERE z.name = ? AND s.name = ?", (street, station)
        )
        return None if row is None else Station.model_validate(dict(row))
