"""Opening a draft-law consultation with /consult, in both languages: the draft as a .txt or
.docx document or pasted in several messages, its preview (accept, fix, cancel), title,
summary, source, key questions, audience with the exact count, deadline, confirm; every bad
input of each step; a restart in the middle; who may do it."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

import docx
import pytest

import bot.services.consultations as consultations_module
from bot.runtime.buttons.consult import (
    ConsultCloseConfirmed,
    ConsultNew,
    ConsultOpen,
    ConsultPasteDone,
)
from bot.services.draft_files import draft_text
from bot.services.draft_split import split_draft
from tests.support.people import Person
from tests.support.scenarios import ADMIN, LANGUAGES, invite_deputy, onboard, say, shown_day
from tests.support.world import SHANGHAI, MakeWorld, World

# A draft with two chapters and five articles, the way a standing committee publishes one.
DRAFT = """北京市社区议事协商条例（草案）

第一章　总则

第一条　为了推进社区议事协商，保障居民依法参与社区治理，根据有关法律法规，结合本市实际，制定本条例。

第二条　本条例适用于本市行政区域内的社区议事协商活动。

第二章　议事程序

第三条　议事协商应当公开进行，涉及居民切身利益的事项应当充分听取居民意见。

第四条　下列人员可以提出议题：
（一）居民；
（二）居民委员会；
（三）驻区人大代表。

第五条　本条例自　年　月　日起施行。
"""
# The same draft with its numbering broken: the third article missing, the fifth twice.
BROKEN = DRAFT.replace("第三条", "第五条")
NO_ARTICLES = (
    "关于进一步加强社区议事协商工作的决定（草案）\n\n"
    "为了推进社区议事协商，现作如下决定：社区议事协商应当公开进行。"
)
TITLE = "北京市社区议事协商条例（草案）"
MEGABYTE = 1024 * 1024
LAST_DAY = datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
PDF = b"%PDF-1.7\n" + bytes(200)
OLD_WORD = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(200)


# --- people and steps ------------------------------------------------------------------------


async def staff_member(person: Callable[..., Person], code: str = "zh-hans") -> Person:
    """The admin (staff rights), onboarded, speaking `code`."""
    staff = person(ADMIN, "管理员", code)
    await onboard(staff)
    return staff


async def start_new(staff: Person) -> None:
    await staff.send("/consult")
    await staff.tap(say(staff, "consult.new"))


async def up_to_title(staff: Person, draft: str = DRAFT) -> None:
    await start_new(staff)
    await staff.send_document(draft.encode(), "草案.txt")
    await staff.tap(say(staff, "consult.accept"))


async def up_to_audience(
    staff: Person, draft: str = DRAFT, questions: Sequence[tuple[str, str | None]] = ()
) -> None:
    """Draft, title, no summary or source, these key questions (text, options or None)."""
    await up_to_title(staff, draft)
    await staff.send(TITLE)
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    for text, options in questions:
        await staff.send(text)
        if options is None:
            await staff.tap(say(staff, "consult.free_text"))
        else:
            await staff.send(options)
    await staff.tap(say(staff, "consult.questions_done" if questions else "consult.no_questions"))


async def open_consultation(
    staff: Person,
    audience: str = "consult.audience_everyone",
    *picks: str,
    draft: str = DRAFT,
    deadline: str = "2026-12-31",
) -> None:
    """Every step to the confirm screen, then Open."""
    await up_to_audience(staff, draft)
    await staff.tap(say(staff, audience))
    for label in picks:
        await staff.tap(label)
    await staff.send(deadline)
    await staff.tap(say(staff, "consult.open"))


async def consultations(world: World) -> list[dict[str, object]]:
    return await world.rows("SELECT * FROM consultations ORDER BY id")


async def articles(world: World, consultation_id: int = 1) -> list[dict[str, object]]:
    return await world.rows(
        "SELECT position, number, heading_path, text FROM consultation_articles"
        " WHERE consultation_id = ? ORDER BY position",
        (consultation_id,),
    )


def a_docx(paragraphs: list[str]) -> bytes:
    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PREVIEW = {
    "zh-hans": "共 2 章、5 条，第一条 … 第五条",
    "en": "2 chapters, 5 articles: Article 1 … Article 5",
}


# --- the whole way -----------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_consultation_opened_step_by_step(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    deputy = await invite_deputy(world, staff, person, 500, "王代表", language_code=code)
    voter = person(600, "李四", code)
    await onboard(voter)

    await staff.send("/consult")
    assert say(staff, "consult.list_empty") in staff.last
    await staff.tap(say(staff, "consult.new"))
    assert staff.last == say(staff, "consult.ask_draft", maximum="20")
    await staff.send_document(DRAFT.encode(), "草案.txt")
    assert PREVIEW[code] in staff.last
    assert say(staff, "consult.preview_check") in staff.last
    assert await consultations(world) == []  # nothing is saved before Open
    await staff.tap(say(staff, "consult.accept"))
    assert staff.last == say(staff, "consult.ask_title", maximum=200)
    await staff.send(TITLE)
    assert staff.last == say(staff, "consult.ask_summary", maximum=1000)
    await staff.send("规范社区议事协商的程序。")
    assert staff.last == say(staff, "consult.ask_source", maximum=100)
    await staff.send("市人大常委会法制办")
    assert staff.last == say(staff, "consult.ask_questions", maximum=10)
    await staff.send("议题应当由谁提出？")
    await staff.send("居民\n居民委员会\n人大代表")
    assert "1. 议题应当由谁提出？" in staff.last
    await staff.send("您对议事程序还有什么建议？")
    await staff.tap(say(staff, "consult.free_text"))
    assert say(staff, "consult.free_text_answer") in staff.last
    await staff.tap(say(staff, "consult.questions_done"))
    assert staff.last == say(staff, "consult.ask_audience")
    await staff.tap(say(staff, "consult.audience_everyone"))
    assert say(staff, "consult.reach", count="2", deputies="1", voters="1") in staff.last
    await staff.send("2026-12-31")
    confirm = staff.last
    assert f"<b>{TITLE}</b>" in confirm and "市人大常委会法制办" in confirm
    assert PREVIEW[code] in confirm
    assert say(staff, "consult.short_deadline", days=35, minimum=30) not in confirm
    await staff.tap(say(staff, "consult.open"))
    assert staff.last == say(
        staff,
        "consult.opened",
        number=1,
        title=TITLE,
        count="2",
        deadline=world.services.i18n.texts(locale).datetime(LAST_DAY),
    )

    (row,) = await consultations(world)
    assert (row["title"], row["summary"], row["source"]) == (
        TITLE,
        "规范社区议事协商的程序。",
        "市人大常委会法制办",
    )
    assert (row["audience"], row["audience_ref"], row["state"]) == ("everyone", None, "open")
    assert row["deadline"] == "2026-12-31T15:59:59+00:00"  # 23:59:59 in Beijing
    assert (row["invited"], row["created_by"]) == (2, ADMIN)
    saved = await articles(world)
    assert [a["position"] for a in saved] == [0, 1, 2, 3, 4]
    assert [a["number"] for a in saved] == [1, 2, 3, 4, 5]
    assert json.loads(str(saved[3]["heading_path"])) == ["第二章 议事程序"]
    assert "（三）驻区人大代表。" in str(saved[3]["text"])  # items stay inside the article
    questions = await world.rows(
        "SELECT position, text, choices FROM consultation_questions ORDER BY position"
    )
    assert [(q["text"], q["choices"]) for q in questions] == [
        ("议题应当由谁提出？", '["居民", "居民委员会", "人大代表"]'),
        ("您对议事程序还有什么建议？", None),
    ]
    invitees = await world.rows("SELECT user_id, kind FROM consultation_invitees ORDER BY 1")
    assert [(i["user_id"], i["kind"]) for i in invitees] == [(500, "deputy"), (600, "voter")]
    assert await world.conversation_state("consult", ADMIN) is None
    assert deputy.id == 500


async def test_a_docx_draft_is_read(world: World, person: Callable[..., Person]) -> None:
    staff = await staff_member(person)
    await start_new(staff)
    await staff.send_document(
        a_docx([line for line in DRAFT.splitlines() if line]),
        "草案.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    assert PREVIEW["zh-hans"] in staff.last
    await staff.tap(say(staff, "consult.accept"))
    assert staff.last == say(staff, "consult.ask_title", maximum=200)


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_draft_pasted_in_several_messages(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    first, second = DRAFT.split("第二章")
    await staff.send(first)
    assert staff.last == say(staff, "consult.pasted", parts="1", count=str(len(first.strip())))
    await staff.send("第二章" + second)
    length = len(first.strip()) + 1 + len(("第二章" + second).strip())
    assert staff.last == say(staff, "consult.pasted", parts="2", count=str(length))
    await staff.tap(say(staff, "consult.paste_done"))
    assert PREVIEW[code] in staff.last
    await staff.tap(say(staff, "consult.accept"))
    await staff.send(TITLE)
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.no_questions"))
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("2027-01-31")
    await staff.tap(say(staff, "consult.open"))
    assert [a["number"] for a in await articles(world)] == [1, 2, 3, 4, 5]


# --- bad drafts ------------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
@pytest.mark.parametrize(
    "content, name, refusal",
    [
        pytest.param(PNG, "扫描件.png", "draft.not_text", id="image"),
        pytest.param(PDF, "草案.pdf", "draft.not_text", id="pdf"),
        pytest.param(OLD_WORD, "草案.doc", "draft.old_word", id="old-word"),
        pytest.param(b"", "empty.txt", "draft.empty", id="empty"),
        pytest.param("\n \u3000\n".encode(), "blank.txt", "draft.empty", id="blank"),
    ],
)
async def test_a_file_that_is_no_draft_is_refused_and_the_step_stays(
    world: World,
    person: Callable[..., Person],
    code: str,
    locale: str,
    content: bytes,
    name: str,
    refusal: str,
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    await staff.send_document(content, name, "application/octet-stream")
    assert staff.last == say(staff, refusal)
    assert await world.conversation_state("consult", ADMIN) == "draft"
    await staff.send_document(DRAFT.encode(), "草案.txt")  # the right file is taken
    assert PREVIEW[code] in staff.last


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_50_mb_file_is_refused_before_it_is_downloaded(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    await staff.send_document(DRAFT.encode() * (50 * MEGABYTE // len(DRAFT.encode()) + 1))
    assert staff.last == say(staff, "draft.too_large", size="50", maximum="20")
    assert world.api.calls_to("getFile") == [] and world.api.calls_to("download") == []
    assert await world.conversation_state("consult", ADMIN) == "draft"


async def test_the_largest_draft_is_a_setting(make_world: MakeWorld) -> None:
    world = await make_world(draft_max_bytes=MEGABYTE)
    staff = Person(world, ADMIN, "管理员")
    await onboard(staff)
    await start_new(staff)
    assert staff.last == say(staff, "consult.ask_draft", maximum="1")
    await staff.send_document(bytes(3 * MEGABYTE // 2))
    assert staff.last == say(staff, "draft.too_large", size="1.5", maximum="1")
    assert world.api.calls_to("download") == []
    # pasted, in messages as long as Telegram allows: the same limit
    chunk = ("第一条　" + "条" * 4000)[:4000]
    refusal = say(staff, "consult.paste_too_large", maximum="1")
    sent = 0
    while staff.last != refusal and sent < 100:
        await staff.send(chunk)
        sent += 1
    assert sent == MEGABYTE // len(chunk.encode()) + 1  # each one in, till the one too many
    (kept,) = await world.rows("SELECT data FROM drafts WHERE kind = 'consult'")
    assert json.loads(kept["data"])["pasted"] == sent - 1  # what came before is kept


async def test_telegram_refusing_a_big_file_reads_as_too_large(
    world: World, person: Callable[..., Person]
) -> None:
    """A document Telegram announced without its size, then would not hand over."""
    staff = await staff_member(person)
    await start_new(staff)
    file_id = world.api.add_file(bytes(21 * MEGABYTE))
    await staff._message(document={"file_id": file_id, "file_unique_id": "big"})
    assert staff.last == say(staff, "draft.too_large", size="20", maximum="20")
    assert len(world.api.calls_to("getFile")) == 1 and world.api.calls_to("download") == []


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_photo_or_a_sticker_is_no_draft(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    await staff.send_photo()
    assert staff.last == say(staff, "consult.bad_draft")
    await staff.send_sticker()
    assert staff.last == say(staff, "consult.bad_draft")
    await staff.tap_data(ConsultPasteDone().pack())  # nothing pasted yet
    assert staff.last == say(staff, "consult.nothing_yet")
    assert await world.conversation_state("consult", ADMIN) == "draft"


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_draft_with_no_articles_is_one_text(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await open_consultation(staff, "consult.audience_deputies", draft=NO_ARTICLES)
    texts = world.services.i18n.texts(locale)
    opened = say(
        staff, "consult.opened", number=1, title=TITLE, count="0", deadline=texts.datetime(LAST_DAY)
    )
    assert staff.last == opened
    (article,) = await articles(world)
    assert (article["number"], article["heading_path"]) == (None, "[]")
    assert "社区议事协商应当公开进行" in str(article["text"])


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_draft_with_no_articles_says_so_and_may_be_cancelled(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    await staff.send_document(NO_ARTICLES.encode(), "决定.txt")
    length = len(NO_ARTICLES.replace("\n\n", "\n"))
    assert say(staff, "draft.preview_one_text", count=str(length)) in staff.last
    before = await world.snapshot()
    await staff.tap(say(staff, "consult.cancel"))
    assert staff.last == say(staff, "consult.cancelled")
    assert await consultations(world) == []
    after = await world.snapshot()
    assert after["consultations"] == before["consultations"] == []
    assert await world.conversation_state("consult", ADMIN) is None


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_gaps_and_duplicates_are_flagged_and_a_fix_replaces_the_draft(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await start_new(staff)
    await staff.send_document(BROKEN.encode(), "草案.txt")
    texts = world.services.i18n.texts(locale)
    three = texts("draft.article", number="三" if code == "zh-hans" else "3")
    five = texts("draft.article", number="五" if code == "zh-hans" else "5")
    assert say(staff, "draft.gaps", articles=three) in staff.last
    assert say(staff, "draft.duplicates", articles=five) in staff.last
    await staff.tap(say(staff, "consult.fix"))
    assert staff.last == say(staff, "consult.ask_fixed_draft", maximum="20")
    await staff.send_document(DRAFT.encode(), "草案（修改稿）.txt")
    assert (
        PREVIEW[code] in staff.last and say(staff, "draft.gaps", articles=three) not in staff.last
    )


async def test_text_sent_at_the_preview_replaces_the_draft(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await start_new(staff)
    await staff.send_document(BROKEN.encode(), "草案.txt")
    await staff.send(DRAFT)
    assert staff.last == say(staff, "consult.pasted", parts="1", count=str(len(DRAFT.strip())))
    await staff.tap(say(staff, "consult.paste_done"))
    assert PREVIEW["zh-hans"] in staff.last


async def test_after_fix_pasting_replaces_what_was_pasted(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await start_new(staff)
    await staff.send(BROKEN)
    await staff.tap(say(staff, "consult.paste_done"))
    await staff.tap(say(staff, "consult.fix"))
    await staff.tap_data(ConsultPasteDone().pack())  # nothing sent since the fix
    assert staff.last == say(staff, "consult.nothing_yet")
    await staff.send(DRAFT)
    await staff.tap(say(staff, "consult.paste_done"))
    assert PREVIEW["zh-hans"] in staff.last


# --- title, summary, source ---------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_title_is_required_and_at_most_200_characters(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await invite_deputy(world, staff, person, 530, "王代表")
    await up_to_title(staff)
    await staff.send("\u200b\u200b")  # nothing readable once cleaned
    assert staff.last == say(staff, "consult.title_empty")
    await staff.send("条" * 201)
    assert staff.last == say(staff, "consult.title_too_long", maximum=200, count=201)
    await staff.send_photo()
    assert staff.last == say(staff, "consult.type_text")
    await staff.send(" \u200b<北京市>社区议事协商条例（草案） ")
    assert staff.last == say(staff, "consult.ask_summary", maximum=1000)
    draft = await world.rows("SELECT data FROM drafts WHERE kind = 'consult'")
    assert json.loads(draft[0]["data"])["title"] == "<北京市>社区议事协商条例（草案）"
    # what was typed is shown as typed: escaped wherever it is echoed
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.no_questions"))
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("2027-01-31")
    assert "<b>&lt;北京市&gt;社区议事协商条例（草案）</b>" in staff.last
    await staff.tap(say(staff, "consult.open"))
    assert "“&lt;北京市&gt;社区议事协商条例（草案）”" in staff.last
    await staff.send("/consult")
    assert "<b>&lt;北京市&gt;社区议事协商条例（草案）</b>" in staff.last
    await world.outbox.drain()
    prompt = [o.text for o in world.api.outputs if o.chat_id == 530][-1]
    assert "&lt;北京市&gt;社区议事协商条例（草案）" in prompt and world.api.refusals == []


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_summary_and_source_are_bounded_and_skippable(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await up_to_title(staff)
    await staff.send(TITLE)
    await staff.send("说" * 1001)
    assert staff.last == say(staff, "consult.summary_too_long", maximum=1000, count=1001)
    await staff.tap(say(staff, "consult.skip"))
    assert staff.last == say(staff, "consult.ask_source", maximum=100)
    await staff.send("源" * 101)
    assert staff.last == say(staff, "consult.source_too_long", maximum=100, count=101)
    await staff.send("市人大常委会法制办")
    assert staff.last == say(staff, "consult.ask_questions", maximum=10)


# --- key questions ---------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_options_of_a_key_question_are_checked(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await up_to_title(staff)
    await staff.send(TITLE)
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    await staff.send("议题应当由谁提出？")
    assert staff.last == say(staff, "consult.ask_question_kind", minimum=2, maximum=8, length=30)
    await staff.send("只有一个选项")
    assert staff.last == say(staff, "consult.choices_count", minimum=2, maximum=8, count=1)
    await staff.send("\n".join(f"选项{n}" for n in range(9)))
    assert staff.last == say(staff, "consult.choices_count", minimum=2, maximum=8, count=9)
    long = "很" * 31
    await staff.send(f"居民\n{long}")
    assert staff.last == say(staff, "consult.choice_too_long", maximum=30, choice=long)
    await staff.send("居民\n居民")
    assert staff.last == say(staff, "consult.choices_repeated")
    await staff.send("居民\n\n居民委员会\n")  # blank lines do not count
    assert "1. 议题应当由谁提出？" in staff.last
    draft = json.loads((await world.rows("SELECT data FROM drafts"))[0]["data"])
    assert draft["questions"] == [{"text": "议题应当由谁提出？", "choices": ["居民", "居民委员会"]}]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_at_most_ten_key_questions(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await up_to_title(staff)
    await staff.send(TITLE)
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    for n in range(10):
        await staff.send(f"第{n + 1}个问题是什么？")
        await staff.tap(say(staff, "consult.free_text"))
    await staff.send("第十一个问题？")
    assert staff.last == say(staff, "consult.too_many_questions", maximum=10)
    await staff.send("问" * 301)
    assert staff.last == say(staff, "consult.too_many_questions", maximum=10)
    await staff.tap(say(staff, "consult.questions_done"))
    assert staff.last == say(staff, "consult.ask_audience")


async def test_the_longest_of_everything_still_fits_the_confirm_screen(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_title(staff)
    await staff.send("题" * 200)
    await staff.send("说" * 1000)
    await staff.send("源" * 100)
    options = "\n".join(f"{n}" + "选" * 29 for n in range(8))
    for n in range(10):
        await staff.send(f"{n}" + "问" * 299)
        await staff.send(options)
    await staff.tap(say(staff, "consult.questions_done"))
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("2027-01-31")
    assert world.api.refusals == []
    assert say(staff, "consult.open") in staff.buttons()
    await staff.tap(say(staff, "consult.open"))
    (row,) = await consultations(world)
    assert (len(str(row["title"])), len(str(row["summary"])), len(str(row["source"]))) == (
        200,
        1000,
        100,
    )
    stored = await world.rows("SELECT text, choices FROM consultation_questions")
    assert len(stored) == 10 and all(len(q["text"]) == 300 for q in stored)
    assert all(len(json.loads(q["choices"])) == 8 for q in stored)


async def test_a_key_question_too_long_is_refused(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_title(staff)
    await staff.send(TITLE)
    await staff.tap(say(staff, "consult.skip"))
    await staff.tap(say(staff, "consult.skip"))
    await staff.send("问" * 301)
    assert staff.last == say(staff, "consult.question_too_long", maximum=300, count=301)


# --- audience --------------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_audiences_are_picked_with_the_station_picker_and_counted_exactly(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await invite_deputy(world, staff, person, 501, "王代表")
    await invite_deputy(world, staff, person, 502, "赵代表", "海淀街道", "海淀街道联络站")
    for n, (street, station) in enumerate(
        [
            ("学院路街道", "学院路第一联络站"),
            ("学院路街道", "学院路第一联络站"),
            ("学院路街道", "学院路第二联络站"),
            ("海淀街道", "海淀街道联络站"),
        ]
    ):
        await onboard(person(610 + n), street, station)
    await up_to_audience(staff)

    await staff.tap(say(staff, "consult.audience_voters_station"))
    assert say(staff, "consult.pick_station") in staff.last
    await staff.tap("学院路街道")
    await staff.tap("学院路第一联络站")
    reach = say(staff, "consult.reach", count="4", deputies="2", voters="2")
    assert reach in staff.last and "学院路第一联络站" in staff.last

    await staff.tap(say(staff, "consult.change_audience"))
    await staff.tap(say(staff, "consult.audience_voters_street"))
    await staff.send("学院路")  # a name typed searches
    await staff.tap("学院路街道")
    assert say(staff, "consult.reach", count="5", deputies="2", voters="3") in staff.last

    await staff.tap(say(staff, "consult.change_audience"))
    await staff.tap(say(staff, "consult.audience_deputies_street"))
    await staff.tap("海淀街道")
    assert say(staff, "consult.reach", count="1", deputies="1", voters="0") in staff.last

    await staff.tap(say(staff, "consult.change_audience"))
    await staff.tap(say(staff, "consult.audience_everyone"))
    assert say(staff, "consult.reach", count="6", deputies="2", voters="4") in staff.last
    await staff.send("2027-01-31")
    await staff.tap(say(staff, "consult.open"))
    assert (await consultations(world))[0]["invited"] == 6


async def test_at_the_audience_step_the_buttons_are_the_answer(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_audience(staff)
    await staff.send("全体代表")
    assert staff.last == say(staff, "consult.use_buttons")
    assert await world.conversation_state("consult", ADMIN) == "audience"


# --- deadline ------------------------------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_the_deadline_is_a_day_after_today(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await up_to_audience(staff)
    await staff.tap(say(staff, "consult.audience_deputies"))
    assert say(staff, "consult.ask_deadline", example="2026-12-26") in staff.last
    await staff.send("下个月")
    assert staff.last == say(staff, "consult.deadline_unparsable", example="2026-12-26")
    await staff.send("2026-02-30")
    assert staff.last == say(staff, "consult.deadline_unparsable", example="2026-12-26")
    await staff.send("今天")
    assert staff.last == say(
        staff, "consult.deadline_not_after_today", date=shown_day(staff, date(2026, 11, 26))
    )
    await staff.send("2026-11-01")
    assert staff.last == say(
        staff, "consult.deadline_not_after_today", date=shown_day(staff, date(2026, 11, 1))
    )
    assert await world.conversation_state("consult", ADMIN) == "deadline"
    await staff.send("12月6日")  # no year: the next such day; sooner than 30 days: a warning
    assert say(staff, "consult.short_deadline", days=10, minimum=30) in staff.last
    await staff.tap(say(staff, "consult.open"))
    (row,) = await consultations(world)
    assert row["deadline"] == "2026-12-06T15:59:59+00:00"


async def test_a_deadline_that_passed_before_open_is_refused(make_world: MakeWorld) -> None:
    world = await make_world(conversation_timeout_hours=72)
    staff = Person(world, ADMIN, "管理员")
    await onboard(staff)
    await up_to_audience(staff)
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("明天")
    world.clock.advance(days=2)
    await staff.tap(say(staff, "consult.open"))
    assert staff.last == say(staff, "consult.deadline_passed")
    assert await consultations(world) == []


# --- restart, confirm, cancel, who -------------------------------------------------------------


async def test_a_restart_in_the_middle_resumes_every_step(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await start_new(staff)
    first, second = DRAFT.split("第二章")
    await staff.send(first)
    await world.crash_and_restart()
    await staff.send("第二章" + second)
    await staff.tap(say(staff, "consult.paste_done"))
    await world.crash_and_restart()
    await staff.tap(say(staff, "consult.accept"))
    await staff.send(TITLE)
    await world.crash_and_restart()
    await staff.send("规范社区议事协商。")
    await staff.tap(say(staff, "consult.skip"))
    await staff.send("议题应当由谁提出？")
    await world.crash_and_restart()
    await staff.send("居民\n居民委员会")
    await staff.tap(say(staff, "consult.questions_done"))
    await staff.tap(say(staff, "consult.audience_voters_station"))
    await world.crash_and_restart()
    await staff.tap("学院路街道")
    await staff.tap("学院路第一联络站")
    await world.crash_and_restart()
    await staff.send("2027-01-31")
    await world.crash_and_restart()
    await staff.tap(say(staff, "consult.open"))
    (row,) = await consultations(world)
    assert (row["summary"], row["audience"]) == ("规范社区议事协商。", "voters_station")
    assert row["audience_ref"] == await world.station_id("学院路第一联络站")
    assert [a["number"] for a in await articles(world)] == [1, 2, 3, 4, 5]
    questions = await world.rows("SELECT choices FROM consultation_questions")
    assert [q["choices"] for q in questions] == ['["居民", "居民委员会"]']


async def test_open_tapped_again_says_which_consultation_it_became(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_audience(staff)
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("2027-01-31")
    confirm, data = staff._find(say(staff, "consult.open"))
    await staff.tap_data(data, confirm)
    await staff.tap_data(data, confirm)
    assert staff.last == say(staff, "consult.already_opened", number=1)
    assert len(await consultations(world)) == 1


async def test_an_older_confirm_screen_does_not_open(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_audience(staff)
    await staff.tap(say(staff, "consult.audience_deputies"))
    await staff.send("2027-01-31")
    await staff.tap(say(staff, "consult.change_audience"))
    await staff.tap(say(staff, "consult.audience_everyone"))
    await staff.send("2027-02-28")
    await staff.tap_data(ConsultOpen(token="older-token-0001").pack())
    assert staff.last == say(staff, "consult.old_confirm")
    assert await consultations(world) == []


async def test_cancel_drops_the_draft_and_nothing_is_saved(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_audience(staff)
    await staff.send("/cancel")
    assert staff.last == say(staff, "consult.cancelled")
    assert await consultations(world) == []
    assert await world.rows("SELECT * FROM drafts WHERE kind = 'consult'") == []
    await staff.tap_data(ConsultOpen(token="older-token-0001").pack())
    assert staff.last == say(staff, "error.stale_button")


async def test_a_command_in_the_middle_and_new_on_an_older_menu(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await up_to_title(staff)
    await staff.send("/consult")
    assert staff.last == say(staff, "consult.in_progress")
    await staff.tap_data(ConsultNew().pack())
    assert staff.last == say(staff, "consult.in_progress")
    assert await world.conversation_state("consult", ADMIN) == "title"


async def test_new_while_in_another_conversation_is_refused(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await staff.send("/consult")
    await staff.send("/broadcast")
    await staff.tap(say(staff, "consult.new"))
    assert staff.last == say(staff, "conversation.busy")
    assert await world.conversation_state("consult", ADMIN) is None


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_staff_consult_and_forged_buttons_are_refused(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person)
    deputy = await invite_deputy(world, staff, person, 520, "王代表", language_code=code)
    voter = person(620, "李四", code)
    await onboard(voter)
    for someone in (voter, deputy):
        await someone.send("/consult")
        assert someone.last == say(someone, "error.forbidden")
        await someone.tap_data(ConsultNew().pack())
        assert someone.last == say(someone, "error.forbidden")
        await someone.tap_data(ConsultCloseConfirmed(consultation=1, page=0).pack())
        assert someone.last == say(someone, "error.forbidden")
    assert await world.conversation_state("consult", voter.id) is None
    assert await consultations(world) == []


# --- the event loop ------------------------------------------------------------------------------


async def test_a_draft_is_read_and_split_off_the_event_loop_and_outside_the_write_lock(
    world: World, person: Callable[..., Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .docx of 20 MB or a whole code takes a while to read and split: the bot goes on
    answering others meanwhile, and no write waits for it. The real functions run, watched
    for where they run."""
    calls: list[tuple[str, bool, bool]] = []

    def watched(name: str, work: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any) -> Any:
            on_loop = threading.current_thread() is threading.main_thread()
            calls.append((name, on_loop, world.db._write_lock.locked()))
            return work(*args)

        return run

    monkeypatch.setattr(consultations_module, "draft_text", watched("read", draft_text))
    monkeypatch.setattr(consultations_module, "split_draft", watched("split", split_draft))
    staff = await staff_member(person)
    await world.outbox.abort()  # no sending meanwhile: any write under way would be opening's
    await open_consultation(staff)  # a document, its preview, the confirm screen, Open
    await world.services.consultations.open_from_file(
        DRAFT.encode(), "草案.txt", title=TITLE, deadline="2027-01-31"
    )
    assert len(await consultations(world)) == 2
    names = [name for name, _, _ in calls]
    assert names.count("read") == 2 and names.count("split") >= 4, calls
    assert [c for c in calls if c[1] or c[2]] == [], calls  # none on the loop or in a write
