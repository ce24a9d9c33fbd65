"""`python -m bot projects import FILE.csv|xlsx [--year Y]`: a year's candidate projects in
bulk, with the stations import's rules: every bad line reported by number, and then nothing
is written. Headers may be English (title, description, department, budget) or the usual
Chinese ones (项目名称, 项目内容/简介, 承办单位/责任单位, 预算/预算（万元）)."""

from __future__ import annotations

import csv
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from bot.errors import DomainError
from bot.services.csvfile import check_width, read_table
from bot.services.projects import (
    BUDGET_MAX,
    DEPARTMENT_MAX,
    DESCRIPTION_MAX,
    TITLE_MAX,
    NewCandidate,
    ProjectService,
    parse_budget,
)
from bot.services.text import clean

FIELDS = ("title", "description", "department", "budget")
# A header cell (NFKC, trimmed, lower case: "预算（万元）" is read as "预算(万元)") → its field.
HEADERS = {
    "title": "title",
    "项目名称": "title",
    "名称": "title",
    "description": "description",
    "项目内容": "description",
    "简介": "description",
    "项目简介": "description",
    "department": "department",
    "承办单位": "department",
    "责任单位": "department",
    "budget": "budget",
    "预算": "budget",
    "预算(万元)": "budget",
}
LIMITS = {"title": TITLE_MAX, "description": DESCRIPTION_MAX, "department": DEPARTMENT_MAX}
Row = tuple[int, dict[str, str]]  # a line number and its cells by field
LINE = re.compile(r"^line (\d+):")


@dataclass
class ProjectImport:
    year: int
    imported: int = 0
    errors: list[str] = field(default_factory=list)


def _header(cells: list[str]) -> tuple[list[str], list[str]]:
    """The field of each column, or what is wrong with the header line."""
    fields: list[str] = []
    errors: list[str] = []
    for cell in cells:
        name = unicodedata.normalize("NFKC", cell).strip().lower()
        known = HEADERS.get(name)
        if known is None:
            errors.append(
                f"line 1: unknown column {cell.strip()!r}; the columns are {', '.join(FIELDS)}"
                " (or 项目名称, 项目内容, 承办单位, 预算)"
            )
        elif known in fields:
            errors.append(f"line 1: column {cell.strip()!r} repeats the {known} column")
        else:
            fields.append(known)
    if not errors and "title" not in fields:
        errors.append("line 1: a title (项目名称) column is needed")
    return fields, errors


def read_csv(path: Path) -> tuple[list[Row], list[str]]:
    """The CSV's lines by field, read by the shared CSV reader once the header is known."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            first = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError):
        first = None  # the shared reader says what is wrong with the file
    if first is None:  # unreadable, not UTF-8, or empty: as the shared reader says
        _, errors = read_table(path, FIELDS)
        return [], errors or [f"line 1: the header must name the columns {','.join(FIELDS)}"]
    fields, errors = _header(first)
    if errors:
        return [], errors
    lines, errors = read_table(path, tuple(c.strip().lower() for c in first))
    rows: list[Row] = []
    for line, cells in lines:
        try:
            check_width(line, cells, tuple(fields))
        except ValueError as exc:
            errors.append(str(exc))
            continue
        rows.append((line, dict(zip(fields, cells, strict=True))))
    return rows, errors


def _cell(value: object) -> str:
    """A worksheet cell as text: a whole number without ".0", nothing as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_xlsx(path: Path) -> tuple[list[Row], list[str]]:
    """The first worksheet's rows by field; the header is its first row."""
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except OSError as exc:
        return [], [f"cannot read {path}: {exc.strerror or exc}"]
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError):
        return [], [f"cannot read {path}: not an .xlsx workbook"]
    try:
        sheet = workbook.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        header = next(lines, None)
        if header is None:
            return [], ["line 1: the sheet is empty; its first row names the columns"]
        names = [_cell(c) for c in header]
        while names and not names[-1].strip():  # a sheet is as wide as its widest row
            names.pop()
        fields, errors = _header(names)
        if errors:
            return [], errors
        rows: list[Row] = []
        for line, values in enumerate(lines, start=2):
            cells = [_cell(v) for v in values]
            if not any(c.strip() for c in cells):
                continue
            if any(c.strip() for c in cells[len(fields) :]):
                errors.append(f"line {line}: expected {len(fields)} columns, found more")
                continue
            cells += [""] * (len(fields) - len(cells))
            rows.append((line, dict(zip(fields, cells[: len(fields)], strict=True))))
        return rows, errors
    finally:
        workbook.close()


def check_rows(rows: list[Row]) -> tuple[list[NewCandidate], list[str]]:
    """Every row checked: a title (unique in the file), lengths, the budget."""
    candidates: list[NewCandidate] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, cells in rows:
        values = {name: clean(cells.get(name, "")) for name in LIMITS}
        problems = [
            f"line {line}: the {name} is longer than {limit} characters"
            for name, limit in LIMITS.items()
            if len(values[name]) > limit
        ]
        title = values["title"]
        if not title:
            problems.append(f"line {line}: the title (项目名称) is missing")
        elif title in seen:
            problems.append(f"line {line}: the title {title!r} repeats line {seen[title]}")
        else:
            seen[title] = line
        raw_budget = cells.get("budget", "").strip()
        budget: float | None = None
        if raw_budget:
            try:
                budget = parse_budget(raw_budget)
            except DomainError:
                problems.append(
                    f"line {line}: the budget {raw_budget!r} is not an amount of 万元 from 0"
                    f" to {BUDGET_MAX}, like 120 or 85.5"
                )
        if problems:
            errors += problems
            continue
        candidates.append(
            NewCandidate(line, title, values["description"], values["department"], budget)
        )
    return candidates, errors


def _line_of(error: str) -> int:
    """The line an error is about, so the report reads in the file's order."""
    found = LINE.match(error)
    return int(found.group(1)) if found else 0


async def import_projects(service: ProjectService, path: Path, year: int | None) -> ProjectImport:
    """The file's candidates for `year` (this year by default): all, or none when any row is
    bad or has the title of a project the year already has."""
    report = ProjectImport(year if year is not None else service.this_year())
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        rows, errors = read_xlsx(path)
    elif suffix == ".csv":
        rows, errors = read_csv(path)
    else:
        report.errors.append(f"{path.name}: give a .csv or an .xlsx file")
        return report
    candidates, problems = check_rows(rows)
    report.errors += sorted(errors + problems, key=_line_of)
    if report.errors:
        return report
    report.imported = await service.add_candidates(report.year, candidates, report.errors)
    return report
