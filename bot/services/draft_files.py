"""A draft document's bytes → the draft's text, or a refusal that says what to send instead.

A .docx gives its paragraphs and table rows in document order (python-docx); anything else
must be plain text: UTF-8 with or without a BOM, UTF-16 with a BOM (Windows Notepad's
"Unicode"), else GB18030, which Chinese government files often are. The text then goes
through the one cleaner (`bot.services.text.clean`): line endings unified, invisible format
characters dropped, NFC. NFKC is not applied: full-width spaces (　) stay as they were.

A .docx is a zip: a few kilobytes can unpack to gigabytes (a zip bomb), and python-docx
reads every part into memory. Before it does, the sizes the archive's directory gives are
added up; more than `UNPACKED_TIMES` × the file limit is refused as draft.unpacks_too_large,
which names the file limit people know (not the unpacked size: a 36 KB file said to be "too
large (2048 MB)" makes no sense to anyone). Word's XML packs tightly (python-docx's empty
document: 36 KB that unpacks to 0.8 MB), yet no draft's text and styles come near ten times
the limit; pictures or a bomb do, and the way out is the refusal's own: save the draft
without pictures, or paste the text.
zipfile never unpacks a part past the size its directory gives (a part that claims less
fails its checksum: draft.not_text), so the sum is a true bound."""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from collections.abc import Iterator

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.text.paragraph import Paragraph

from bot.errors import DomainError
from bot.services.text import clean

MEGABYTE = 1024 * 1024
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc, .wps, .xls: Office's old binary container
RTF = b"{\\rtf"
ZIP = b"PK\x03\x04"
BINARY = (  # files that are surely not text, by their first bytes
    b"%PDF",
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"GIF8",
    b"RIFF",  # WebP, WAV, AVI
    b"II*\x00",  # TIFF
    b"MM\x00*",
    b"7z\xbc\xaf",
    b"Rar!",
    b"\x1f\x8b",  # gzip
    b"PK\x05\x06",  # an empty zip
)
WORD_BODY = "word/document.xml"
UNPACKED_TIMES = 10  # a .docx may unpack to this many times the file size limit
# Controls but those a plain-text file may hold (tab, line ends, form feed, DOS's end of
# file), and private-use code points
ODD = re.compile(r"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f-\x9f\ue000-\uf8ff]")
NOT_TEXT_SHARE = 0.01  # more characters than this that no text has: binary after all


# What a damaged or odd .docx raises: a broken zip, a missing part, a document.xml that is
# not XML (lxml's XMLSyntaxError is a SyntaxError), an encrypted part (RuntimeError) or one
# packed with a method zipfile does not know (NotImplementedError).
UNREADABLE = (
    zipfile.BadZipFile,
    PackageNotFoundError,
    KeyError,
    ValueError,
    SyntaxError,
    RuntimeError,
    NotImplementedError,
)


def check_size(size: int | None, max_bytes: int) -> None:
    """Refuse a file larger than `max_bytes` before it is downloaded; an unknown size
    (Telegram may not say) is checked again on the bytes."""
    if size is not None and size > max_bytes:
        raise DomainError("draft.too_large", size=megabytes(size), maximum=megabytes(max_bytes))


def draft_text(data: bytes, file_name: str | None, max_bytes: int) -> str:
    """The draft's text from a file's bytes. Refusals: draft.too_large (the file),
    draft.unpacks_too_large (a .docx that unpacks to too much), draft.old_word (.doc, .wps,
    RTF: save as .docx),
    draft.not_text (images, PDF, archives, other binaries), draft.empty (nothing readable)."""
    check_size(len(data), max_bytes)
    if data.startswith(OLE) or data.startswith(RTF):
        raise DomainError("draft.old_word")
    if data.startswith(ZIP):
        try:  # read in full here: a part that cannot be unpacked fails while reading it
            text = "\n".join(_docx_lines(data, max_bytes))
        except UNREADABLE:
            raise DomainError("draft.not_text") from None
    elif data.startswith(BINARY):
        raise DomainError("draft.not_text")
    else:
        text = _decode(data)
    cleaned = clean(text)
    if not cleaned:
        raise DomainError("draft.empty")
    return cleaned


def megabytes(size: int) -> str:
    """ "20", "50", "0.5": a size in MB as people write it."""
    return f"{size / MEGABYTE:.2f}".rstrip("0").rstrip(".") or "0"


def _docx_lines(data: bytes, max_bytes: int) -> Iterator[str]:
    """Paragraphs and table rows (cells joined by a tab) in the order the document has them."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if WORD_BODY not in archive.namelist():
                raise DomainError("draft.not_text")  # a zip, .xlsx, .odt …: not a Word file
            _check_unpacked(archive, max_bytes)
        document = Document(io.BytesIO(data))
    except UNREADABLE:
        raise DomainError("draft.not_text") from None
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            yield block.text
            continue
        for row in block.rows:
            cells: list[str] = []
            for cell in row.cells:  # a merged cell is listed once per column it spans
                if not cells or cell.text != cells[-1]:
                    cells.append(cell.text)
            yield "\t".join(cells)


def _check_unpacked(archive: zipfile.ZipFile, max_bytes: int) -> None:
    """Refuse an archive whose parts, the body among them, unpack to more than
    `UNPACKED_TIMES` × `max_bytes` together, before any of it is unpacked."""
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > UNPACKED_TIMES * max_bytes:
        raise DomainError("draft.unpacks_too_large", maximum=megabytes(max_bytes))


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        text = _strict(data[len(codecs.BOM_UTF8) :], "utf-8")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = _strict(data, "utf-16")
    elif b"\x00" in data:
        raise DomainError("draft.not_text")
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = _strict(data, "gb18030")
    if text is None or _binary(text):
        raise DomainError("draft.not_text")
    return text


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _binary(text: str) -> bool:
    """Whether a decoded text holds what no text has, control characters and private-use
    code points, in more than a trace: random bytes that happen to decode as GB18030."""
    return len(ODD.findall(text)) > len(text) * NOT_TEXT_SHARE
