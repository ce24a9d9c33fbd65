"""`python -m bot consultations split FILE` in a real subprocess: the JSON of the structure on
stdout and exit 0; a file it cannot take is one line on stderr and a non-zero exit; no database
is needed or created either way."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document

from tests.support.cli import clean_env, run_bot

STATUTES = Path(__file__).resolve().parent / "statutes"
MEGABYTE = 1024 * 1024


@pytest.fixture
def place(tmp_path: Path) -> Path:
    return tmp_path


def split(place: Path, file: Path | str) -> subprocess.CompletedProcess[str]:
    """Run the command with only the settings it reads from the environment, none of them the
    bot token: splitting needs no Telegram."""
    env = clean_env(JIAZHAN_DATABASE_PATH=str(place / "jiazhan.sqlite3"))
    return run_bot(place, env, "consultations", "split", str(file))


def nothing_saved(place: Path) -> bool:
    return not any(p.name.startswith("jiazhan.sqlite3") for p in place.iterdir())


def test_a_statute_prints_its_structure_as_json(place: Path) -> None:
    law = shutil.copy(STATUTES / "lifa_fa_2023.txt", place / "立法法.txt")

    done = split(place, law)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    printed = json.loads(done.stdout)
    assert set(printed) == {
        "parts",
        "chapters",
        "sections",
        "articles",
        "first",
        "last",
        "items",
        "articles_list",
    }
    assert (printed["parts"], printed["chapters"], printed["sections"]) == (0, 6, 7)
    assert (printed["articles"], printed["first"], printed["last"], printed["items"]) == (
        120,
        1,
        120,
        39,
    )
    assert len(printed["articles_list"]) == 120
    tenth = printed["articles_list"][9]
    assert set(tenth) == {"number", "heading_path", "text"}
    assert tenth["number"] == 10
    assert tenth["heading_path"] == ["第二章 法律", "第一节 立法权限"]
    assert tenth["text"].startswith("第十条　全国人民代表大会和全国人民代表大会常务委员会")
    assert "第十条" in done.stdout  # Chinese as it is, not \\u escapes
    assert nothing_saved(place)


def test_a_word_document_and_an_excerpt(place: Path) -> None:
    document = Document()
    for line in (STATUTES / "minfadian_1040_1125.txt").read_text(encoding="utf-8").split("\n"):
        if line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    (place / "婚姻家庭编.docx").write_bytes(buffer.getvalue())

    done = split(place, place / "婚姻家庭编.docx")

    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert (printed["parts"], printed["chapters"], printed["sections"]) == (2, 6, 5)
    assert (printed["first"], printed["last"], printed["articles"]) == (1040, 1125, 86)
    assert nothing_saved(place)


def test_a_notice_without_articles_is_one_text(place: Path) -> None:
    notice = shutil.copy(STATUTES / "gengdi_zhanyong_jueding.txt", place / "决定.txt")

    printed = json.loads(split(place, notice).stdout)

    assert (printed["articles"], printed["first"], printed["last"]) == (1, None, None)
    assert printed["articles_list"][0]["number"] is None


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> str:
    lines = done.stderr.strip().split("\n")
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0]
    return lines[0]


def test_a_picture_is_refused_in_one_line(place: Path) -> None:
    (place / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))

    one_line_error(split(place, place / "photo.txt"), "photo.txt", "not a text document")
    assert nothing_saved(place)


def test_an_old_word_document_is_refused_in_one_line(place: Path) -> None:
    (place / "草案.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))

    one_line_error(split(place, place / "草案.doc"), "old Word document", ".docx")


def test_an_empty_file_is_refused_in_one_line(place: Path) -> None:
    (place / "empty.txt").write_bytes(b"")

    one_line_error(split(place, place / "empty.txt"), "empty")


def test_a_50_megabyte_file_is_refused_without_reading_it(place: Path) -> None:
    with (place / "huge.txt").open("wb") as huge:
        huge.truncate(50 * MEGABYTE)  # sparse: no 50 MB written

    one_line_error(split(place, place / "huge.txt"), "too large", "50 MB", "20 MB")
    assert nothing_saved(place)


def test_a_missing_file_is_refused_in_one_line(place: Path) -> None:
    one_line_error(split(place, place / "nowhere.txt"), "cannot read", "nowhere.txt")
    assert nothing_saved(place)
