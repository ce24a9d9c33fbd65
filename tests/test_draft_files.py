"""A draft file's bytes → its text: .txt in the encodings Chinese offices use, a real .docx,
and every file that must be refused, with the refusal readable in both languages."""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from openpyxl import Workbook

from bot.demo.telegram_html import parse_html
from bot.errors import DomainError
from bot.i18n import I18n
from bot.services.draft_files import (
    MEGABYTE,
    UNPACKED_TIMES,
    check_size,
    draft_text,
    megabytes,
)
from bot.services.draft_split import split_draft

STATUTES = Path(__file__).resolve().parent / "statutes"
LIMIT = 20 * MEGABYTE  # the setting's default and Telegram's download limit for bots
ANTHEM_LAW = (STATUTES / "guoge_fa.txt").read_text(encoding="utf-8")
REGULATION = (STATUTES / "jianyiyongwei_tiaoli.txt").read_text(encoding="utf-8")


def refusal(data: bytes, name: str | None = "draft.txt") -> DomainError:
    with pytest.raises(DomainError) as refused:
        draft_text(data, name, LIMIT)
    return refused.value


def docx_bytes(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    """A real Word document made with python-docx: the paragraphs, then the table if any."""
    document = Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# --- plain text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        pytest.param(ANTHEM_LAW.encode("utf-8"), id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + ANTHEM_LAW.encode("utf-8"), id="utf-8 with BOM"),
        pytest.param(ANTHEM_LAW.encode("gb18030"), id="gb18030"),
        pytest.param(ANTHEM_LAW.encode("gbk"), id="gbk (a subset of gb18030)"),
        pytest.param(ANTHEM_LAW.encode("utf-16"), id="utf-16 with BOM (Notepad's Unicode)"),
        pytest.param(ANTHEM_LAW.replace("\n", "\r\n").encode("gb18030"), id="gb18030 CRLF"),
    ],
)
def test_a_text_file_in_any_usual_encoding_gives_the_same_draft(encoded: bytes) -> None:
    text = draft_text(encoded, "国歌法.txt", LIMIT)

    assert "\ufeff" not in text
    assert "\r" not in text
    assert text.startswith("中华人民共和国国歌法\n")
    assert "第二条 中华人民共和国国歌是《义勇军进行曲》。" in text
    assert len(split_draft(text).articles) == 16


def test_full_width_spaces_are_kept_and_invisible_characters_dropped() -> None:
    raw = "某某条例\n\u3000\u3000第一条\u3000为了\u200b规范。\n\n\n\n\u3000\u3000第二条\u3000施行。"

    text = draft_text(raw.encode("gb18030"), "x.txt", LIMIT)

    assert text == "某某条例\n\u3000\u3000第一条\u3000为了规范。\n\n\u3000\u3000第二条\u3000施行。"


def test_the_file_name_does_not_decide_what_the_bytes_are() -> None:
    assert draft_text(REGULATION.encode("gb18030"), "条例.docx", LIMIT).startswith("北京市")
    assert draft_text(REGULATION.encode("utf-8"), None, LIMIT).startswith("北京市")


# --- .docx ----------------------------------------------------------------------------------


def test_a_word_document_gives_its_paragraphs_in_order() -> None:
    law = (STATUTES / "lifa_fa_2023.txt").read_text(encoding="utf-8")
    data = docx_bytes([line for line in law.split("\n") if line.strip()])

    text = draft_text(data, "立法法.docx", LIMIT)
    draft = split_draft(text)

    assert (draft.chapters, draft.sections, len(draft.articles), draft.items) == (6, 7, 120, 39)
    assert text.startswith("中华人民共和国立法法\n")


def test_a_word_document_gives_its_tables_where_they_stand() -> None:
    data = docx_bytes(
        ["第一条　本条例自公布之日起施行。", "附表：各区适用税额"],
        table=[["区", "每平方米税额"], ["朝阳区", "四十五元"]],
    )

    text = draft_text(data, "决定.docx", LIMIT)
    draft = split_draft(text)

    assert text.split("\n") == [
        "第一条　本条例自公布之日起施行。",
        "附表：各区适用税额",
        "区\t每平方米税额",
        "朝阳区\t四十五元",
    ]
    assert draft.appendix == "附表：各区适用税额\n区\t每平方米税额\n朝阳区\t四十五元"


# --- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="an empty file"),
        pytest.param(b" \n\t\r\n", id="whitespace"),
        pytest.param("\u3000\u3000\n\u3000".encode(), id="full-width spaces"),
        pytest.param(codecs.BOM_UTF8, id="a BOM and nothing else"),
        pytest.param("\u200b\u200b".encode(), id="zero-width spaces"),
    ],
)
def test_an_empty_file_is_refused(data: bytes) -> None:
    assert refusal(data).key == "draft.empty"


def test_an_empty_word_document_is_refused() -> None:
    assert refusal(docx_bytes(["", "   "]), "空.docx").key == "draft.empty"


def test_a_50_megabyte_file_is_refused_before_it_is_downloaded() -> None:
    with pytest.raises(DomainError) as refused:
        check_size(50 * MEGABYTE, LIMIT)

    assert refused.value.key == "draft.too_large"
    assert refused.value.params == {"size": "50", "maximum": "20"}
    check_size(LIMIT, LIMIT)  # exactly the limit is fine
    check_size(None, LIMIT)  # Telegram did not say: the bytes are checked later


def test_bytes_over_the_limit_are_refused_too() -> None:
    refused = refusal(b"a" * (LIMIT + 1))

    assert refused.key == "draft.too_large"
    assert refused.params == {"size": "20", "maximum": "20"}
    assert draft_text("第一条　一。".encode(), "small.txt", 1024) == "第一条　一。"


# --- a .docx that unpacks to too much (a zip bomb) -------------------------------------------


def rezipped(data: bytes, body: bytes) -> bytes:
    """The same .docx with `body` as its word/document.xml, every part deflated."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, body if name == "word/document.xml" else source.read(name))
    return buffer.getvalue()


def claiming(data: bytes, size: int) -> bytes:
    """The same zip, its directory saying word/document.xml unpacks to `size` bytes."""
    out = bytearray(data)
    entry = out.find(b"PK\x01\x02")  # the central directory's first entry
    while entry != -1:
        name_length = int.from_bytes(out[entry + 28 : entry + 30], "little")
        if out[entry + 46 : entry + 46 + name_length] == b"word/document.xml":
            out[entry + 24 : entry + 28] = size.to_bytes(4, "little")
            return bytes(out)
        entry = out.find(b"PK\x01\x02", entry + 46)
    raise LookupError("no word/document.xml in the directory")


def unpacked_size(data: bytes) -> int:
    """What a .docx's parts add up to, unpacked, as its zip directory says."""
    return sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())


def test_a_docx_whose_body_unpacks_to_too_much_is_refused_before_it_is_parsed() -> None:
    plain = docx_bytes(["第一条　一。"])
    # a limit the document (python-docx's template, not pinned) just fits in, unpacked, and
    # that its file is well under: measured, so a bigger or smaller template moves it too
    limit = max(-(-unpacked_size(plain) // UNPACKED_TIMES), 2 * len(plain))
    xml = zipfile.ZipFile(io.BytesIO(plain)).read("word/document.xml")
    padding = UNPACKED_TIMES * limit  # spaces after the root (valid XML), deflated to little
    bomb = rezipped(plain, xml + b" " * padding)

    assert unpacked_size(plain) <= UNPACKED_TIMES * limit < unpacked_size(bomb)
    assert len(bomb) < limit  # the file itself is small
    assert draft_text(plain, "草案.docx", limit) == "第一条　一。"
    with pytest.raises(DomainError) as refused:
        draft_text(bomb, "草案.docx", limit)

    assert refused.value.key == "draft.unpacks_too_large"
    assert refused.value.params == {"maximum": megabytes(limit)}  # the file limit, no more


def test_a_docx_whose_body_claims_a_huge_size_is_refused() -> None:
    bomb = claiming(docx_bytes(["第一条　一。"]), 2**31 - 1)  # 2 GB, in a 36 KB file

    refused = refusal(bomb, "草案.docx")

    assert len(bomb) < 64 * 1024
    assert refused.key == "draft.unpacks_too_large"
    assert refused.params == {"maximum": "20"}  # the file limit staff can act on


@pytest.mark.parametrize(
    ("locale", "said", "way_out"),
    [
        ("zh_CN", "解压后的内容远远超出", ("最大 20 MB", "不含图片", "粘贴草案全文")),
        ("en", "unpacks to far more", ("at most 20 MB", "without pictures", "paste the draft")),
    ],
)
def test_the_zip_bomb_refusal_names_the_file_limit_and_the_way_out(
    i18n: I18n, locale: str, said: str, way_out: tuple[str, ...]
) -> None:
    refused = refusal(claiming(docx_bytes(["第一条　一。"]), 2**31 - 1), "草案.docx")

    shown = i18n.texts(locale)(refused.key, **refused.params)

    assert said in shown
    assert all(words in shown for words in way_out)
    # not "too large (2048 MB): at most 200 MB" for a 36 KB file
    assert "2048" not in shown and "200" not in shown
    assert "{" not in shown and "\n" not in shown
    parse_html(shown)


def test_a_docx_whose_body_claims_less_than_it_holds_is_not_read_past_its_claim() -> None:
    short = claiming(docx_bytes(["第一条　一。"]), 100)  # zipfile stops there: bad checksum

    assert refusal(short, "草案.docx").key == "draft.not_text"


def png_bytes() -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure = pyplot.figure(figsize=(1, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    pyplot.close(figure)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("草案.txt", "第一条　一。")
    return buffer.getvalue()


def docx_with_broken_body() -> bytes:
    """A real .docx whose word/document.xml is not XML."""
    source = zipfile.ZipFile(io.BytesIO(docx_bytes(["第一条　一。"])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in source.namelist():
            body = b"<w:document" if name == "word/document.xml" else source.read(name)
            archive.writestr(name, body)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    workbook = Workbook()
    workbook.active.append(["第一条", "一"])  # type: ignore[union-attr]
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(png_bytes(), "照片.png", id="a PNG image"),
        pytest.param(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100), "scan.jpg", id="a JPEG"),
        pytest.param(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "草案.pdf", id="a PDF"),
        pytest.param(random.Random(9).randbytes(4096), "noise.bin", id="random bytes"),
        pytest.param("第一条\x00　一。".encode(), "nul.txt", id="NUL bytes"),
        pytest.param(zip_bytes(), "草案.zip", id="a zip that is not a .docx"),
        pytest.param(xlsx_bytes(), "表.xlsx", id="a spreadsheet"),
        pytest.param(b"PK\x03\x04 broken archive", "草案.docx", id="a broken zip"),
        pytest.param(docx_with_broken_body(), "草案.docx", id="a .docx whose body is not XML"),
        pytest.param(b"\x01\x02\x03" * 300 + "第一条".encode(), "x.txt", id="control chars"),
    ],
)
def test_a_file_that_is_not_text_is_refused(data: bytes, name: str) -> None:
    assert refusal(data, name).key == "draft.not_text"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), id="OLE (.doc, .wps)"),
        pytest.param(b"{\\rtf1\\ansi\\ansicpg936 \\'b5\\'da\\'d2\\'bb\\'cc\\'f5}", id="RTF"),
    ],
)
def test_an_old_word_document_is_refused_with_a_way_out(data: bytes) -> None:
    assert refusal(data, "草案.doc").key == "draft.old_word"


# --- the refusals as people read them --------------------------------------------------------


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Asia/Shanghai"))


REFUSALS = {
    "draft.empty": (b"", ("空的", "is empty")),
    "draft.too_large": (b"x" * (LIMIT + 1), ("20 MB", "20 MB")),
    "draft.unpacks_too_large": (
        claiming(docx_bytes(["第一条　一。"]), 2**31 - 1),
        ("20 MB", "20 MB"),
    ),
    "draft.not_text": (b"%PDF-1.4", (".docx", ".docx")),
    "draft.old_word": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ("另存为", "Save as")),
}


@pytest.mark.parametrize("key", sorted(REFUSALS))
@pytest.mark.parametrize(("locale", "which"), [("zh_CN", 0), ("en", 1)])
def test_each_refusal_reads_well_in_both_languages(
    i18n: I18n, key: str, locale: str, which: int
) -> None:
    data, expected = REFUSALS[key]
    refused = refusal(data)
    assert refused.key == key

    shown = i18n.texts(locale)(refused.key, **refused.params)

    assert shown != key
    assert "{" not in shown
    assert expected[which] in shown
    assert "\n" not in shown  # the command line prints it as one line
    parse_html(shown)


def test_the_size_refusal_names_both_sizes(i18n: I18n) -> None:
    with pytest.raises(DomainError) as refused:
        check_size(50 * MEGABYTE, LIMIT)

    zh = i18n.texts("zh_CN")(refused.value.key, **refused.value.params)
    en = i18n.texts("en")(refused.value.key, **refused.value.params)

    assert "50 MB" in zh and "最大 20 MB" in zh
    assert "(50 MB)" in en and "at most 20 MB" in en


def packed_with(data: bytes, method: int, *, encrypted: bool = False) -> bytes:
    """The same zip, word/document.xml marked as packed with `method` (or encrypted) in both
    its local header and the central directory, as an odd archiver would leave it."""
    out = bytearray(data)
    name = b"word/document.xml"
    for signature, flags_at, method_at, name_at, length_at in (
        (b"PK\x03\x04", 6, 8, 30, 26),  # local file header
        (b"PK\x01\x02", 8, 10, 46, 28),  # central directory entry
    ):
        entry = out.find(signature)
        while entry != -1:
            length = int.from_bytes(out[entry + length_at : entry + length_at + 2], "little")
            if out[entry + name_at : entry + name_at + length] == name:
                out[entry + method_at : entry + method_at + 2] = method.to_bytes(2, "little")
                if encrypted:
                    out[entry + flags_at] |= 0x01
            entry = out.find(signature, entry + 4)
    return bytes(out)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda data: packed_with(data, 99), id="unknown-method"),
        pytest.param(lambda data: packed_with(data, 8, encrypted=True), id="encrypted"),
    ],
)
def test_a_docx_whose_body_cannot_be_unpacked_is_not_text(
    damage: Callable[[bytes], bytes],
) -> None:
    data = damage(docx_bytes(["第一条　为了规范管理，制定本条例。"]))
    assert refusal(data, "draft.docx").key == "draft.not_text"
