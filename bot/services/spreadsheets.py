"""What goes into a spreadsheet cell, the same in every report staff download (openpyxl, in
normal or write-only sheets): characters XML cannot hold dropped, text people typed never
taken as a formula, and instants as real local date-times Excel sorts and filters by."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

# characters neither XML (so neither .xlsx nor .docx) can hold: control characters, the two
# non-characters, and lone surrogates (half of a character, from text cut or sent broken)
NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TIME_FORMAT = "yyyy-mm-dd hh:mm"  # how a time cell shows; the cell itself is a date-time

Sheet = Worksheet | WriteOnlyWorksheet


def xml_safe(text: str) -> str:
    """`text` without the characters no XML can hold (a control character pasted in)."""
    return NOT_IN_XML.sub("", text)


def text_cell(sheet: Sheet, text: str) -> str | Cell:
    """Text as it may go into a row of `sheet`: XML-safe, and a text openpyxl would store as
    a formula ("=1+1", '=HYPERLINK(…)') made a string cell, so it stays its words."""
    text = xml_safe(text)
    if not text.startswith("="):
        return text
    cell = WriteOnlyCell(sheet, text)
    cell.data_type = "s"
    return cell


def local_time(moment: datetime, zone: tzinfo) -> datetime:
    """An instant as a naive local time in `zone`: Excel keeps no time zone."""
    return moment.astimezone(zone).replace(tzinfo=None)


def time_cell(sheet: Sheet, moment: datetime, zone: tzinfo) -> Cell:
    """An instant as a date-time cell of `sheet`, local to `zone`, shown to the minute."""
    cell = WriteOnlyCell(sheet, local_time(moment, zone))
    cell.number_format = TIME_FORMAT
    return cell
