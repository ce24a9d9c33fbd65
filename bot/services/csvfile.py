"""Reading an import CSV: UTF-8 (with or without BOM), an exact header, numbered lines."""

from __future__ import annotations

import csv
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
    lines = []
    for number, line in enumerate(raw.removeprefix(b"\xef\xbb\xbf").splitlines(), start=1):
        try:
            lines.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            return [], [f"line {number}: not UTF-8 text; save the file as UTF-8 CSV"]
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != columns:
        return [], [f"line 1: the header must be {','.join(columns)}"]
    return [
        (line, cells) for line, cells in enumerate(reader, start=2) if any(c.strip() for c in cells)
    ], []


def check_width(line: int, cells: list[str], columns: tuple[str, ...]) -> None:
    if len(cells) != len(columns):
        raise ValueError(f"line {line}: expected {len(columns)} columns, found {len(cells)}")
