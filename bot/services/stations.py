"""Streets and liaison stations: browsing, nearest by location, and the CSV import."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import DomainError
from bot.services.csvfile import check_width, read_table
from bot.services.paging import Page, clamp_page
from bot.services.text import clean
from storage import Database
from storage.models import Station, Street
from storage.repos.stations import StationRepo

CSV_COLUMNS = ("street", "station", "address", "latitude", "longitude")
MAX_NAME = 100
MAX_ADDRESS = 300
EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class StationRow:
    line: int
    street: str
    station: str
    address: str
    latitude: float | None
    longitude: float | None


@dataclass
class ImportReport:
    created_or_updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def search_words(typed: str | None) -> str:
    """What a search looks for: the typed text cleaned (bot.services.text), spaces single,
    no longer than a name; empty when nothing readable was typed."""
    return " ".join(clean(typed).split())[:MAX_NAME]


def _forms(words: str) -> list[str]:
    """The words as typed and in compatibility form (NFKC), so full-width letters and digits
    typed find the plain ones of a name; letters match in either case (ASCII: SQLite's LIKE)."""
    words = search_words(words)
    folded = unicodedata.normalize("NFKC", words)
    return [w for w in dict.fromkeys((words, folded)) if w]


def _coordinate(raw: str, low: float, high: float, name: str, line: int) -> float | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"line {line}: {name} {raw!r} is not a number") from None
    if not low <= value <= high or math.isnan(value):
        raise ValueError(f"line {line}: {name} {value} is outside {low}..{high}")
    return value


def parse_stations_csv(path: Path) -> tuple[list[StationRow], list[str]]:
    """Read and check every row; returns the rows and a list of errors (one per bad line)."""
    rows: list[StationRow] = []
    lines, errors = read_table(path, CSV_COLUMNS)
    seen: dict[tuple[str, str], int] = {}
    for line, cells in lines:
        try:
            check_width(line, cells, CSV_COLUMNS)
            street, station, address = (c.strip() for c in cells[:3])
            if not street or not station:
                raise ValueError(f"line {line}: street and station must not be empty")
            if len(street) > MAX_NAME or len(station) > MAX_NAME or len(address) > MAX_ADDRESS:
                raise ValueError(f"line {line}: a name or address is too long")
            lat = _coordinate(cells[3], -90, 90, "latitude", line)
            lon = _coordinate(cells[4], -180, 180, "longitude", line)
            if (lat is None) != (lon is None):
                raise ValueError(f"line {line}: give both latitude and longitude, or neither")
            if (street, station) in seen:
                raise ValueError(
                    f"line {line}: station {station!r} of {street!r} repeats line "
                    f"{seen[(street, station)]}"
                )
            seen[(street, station)] = line
            rows.append(StationRow(line, street, station, address, lat, lon))
        except ValueError as exc:
            errors.append(str(exc))
    return rows, errors


class StationService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.repo = StationRepo(db)

    async def any(self) -> bool:
        return await self.repo.count_streets() > 0

    async def streets(self, page: int, per_page: int) -> Page[Street]:
        page, pages = clamp_page(page, await self.repo.count_streets(), per_page)
        return Page(await self.repo.streets_page(page * per_page, per_page), page, pages)

    async def street(self, street_id: int) -> Street:
        street = await self.repo.get_street(street_id)
        if street is None:
            raise DomainError("station.unknown")
        return street

    async def stations(self, street_id: int, page: int, per_page: int) -> Page[Station]:
        page, pages = clamp_page(page, await self.repo.count_stations(street_id), per_page)
        return Page(
            await self.repo.stations_page(street_id, page * per_page, per_page), page, pages
        )

    async def search_stations(self, words: str, page: int, per_page: int) -> Page[Station]:
        """The stations whose name or street's name holds `words`, by street; '%' and '_'
        match only themselves."""
        forms = _forms(words)
        total = await self.repo.count_found_stations(forms) if forms else 0
        page, pages = clamp_page(page, total, per_page)
        found = await self.repo.found_stations(forms, page * per_page, per_page) if total else []
        return Page(found, page, pages)

    async def search_streets(self, words: str, page: int, per_page: int) -> Page[Street]:
        """The streets whose name holds `words`, as `search_stations` finds stations."""
        forms = _forms(words)
        total = await self.repo.count_found_streets(forms) if forms else 0
        page, pages = clamp_page(page, total, per_page)
        found = await self.repo.found_streets(forms, page * per_page, per_page) if total else []
        return Page(found, page, pages)

    async def get(self, station_id: int) -> Station:
        station = await self.repo.get(station_id)
        if station is None:
            raise DomainError("station.unknown")
        return station

    async def find(self, station_id: int) -> Station | None:
        return await self.repo.get(station_id)

    async def nearest(
        self, latitude: float, longitude: float, limit: int = 5
    ) -> list[tuple[Station, float]]:
        """The stations closest to a point, with their distance in km."""
        ranked = sorted(
            (
                (s, distance_km(latitude, longitude, s.latitude, s.longitude))
                for s in await self.repo.with_coordinates()
                if s.latitude is not None and s.longitude is not None
            ),
            key=lambda pair: pair[1],
        )
        return ranked[:limit]

    async def import_csv(self, path: Path) -> ImportReport:
        """Create or update streets and stations from a CSV; all rows or none."""
        rows, errors = parse_stations_csv(path)
        report = ImportReport(errors=errors)
        if errors:
            return report
        async with self.db.transaction() as tx:
            street_ids: dict[str, int] = {}
            for row in rows:
                if row.street not in street_ids:
                    street_ids[row.street] = await self.repo.upsert_street(tx, row.street)
                changed = await self.repo.upsert_station(
                    tx,
                    street_ids[row.street],
                    row.station,
                    row.address,
                    row.latitude,
                    row.longitude,
                )
                if changed:
                    report.created_or_updated += 1
                else:
                    report.unchanged += 1
        return report
