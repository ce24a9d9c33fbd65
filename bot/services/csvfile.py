"""Reading an import CSV: UTF-8 (with or without BOM), an exact header, each record numbered
by the line it starts on (a quoted cell may span lines)."""

from __future__ import annotations

import csv
import io
from pathlib import Path


def read_table(
    path: Path, columns: tuple[str, ...]
) -> tuple[list[tuple[int, list[str]]], list[str]]:
    """The non-blank data lines with their line numbers, or the error that stops the file
    (unreadable, or not the expected header)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return [], [f"cannot read {path}: {exc.strerror}"]
    data = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        number = data[: exc.start].count(b"\n") + 1
        return [], [f"line {number}: not UTF-8 text; save the file as UTF-8 CSV"]
    # newline="": a quoted cell may hold line breaks, and they stay in it
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != columns:
        return [], [f"line 1: the header must be {','.join(columns)}"]
    rows: list[tuple[int, list[str]]] = []
    starts = reader.line_num + 1  # a record is numbered by the line it starts on
    for cells in reader:
        if any(c.strip() for c in cells):
            rows.append((starts, cells))
        starts = reader.line_num + 1
    return rows, []


def check_width(line: int, cells: list[str], columns: tuple[str, ...]) -> None:
    if len(cells) != len(columns):
        raise ValueError(f"line {line}: expected {len(columns)} columns, found {len(cells)}")
