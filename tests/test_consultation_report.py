"""A consultation's report for staff, in both languages: the chat summary's figures against
the comments the test inserted, the .xlsx read back with openpyxl (one row per comment, its
columns, the summary sheet), the .docx read back with python-docx (each article's text, then
its comments; the East Asian fonts set), an open consultation's summary so far, and who may
see it (forged and stale buttons included)."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

import cn2an
import docx
import openpyxl
import pytest
from docx.oxml.ns import qn

from bot.runtime.buttons.consultation_report import FeedbackWrite, ReportOpen
from bot.services.consultation_documents import file_name
from bot.services.spreadsheets import TIME_FORMAT
from tests.support.consultation_seed import (
    Draft,
    add_comment,
    add_user,
    seed_consultation,
)
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, onboard, say, texts_of
from tests.support.world import SHANGHAI, World

# who commented what (see `scene`)
Q1 = "您是否赞成设立乡村振兴专项资金？"
Q2 = "您对乡村人才培养有什么建议？"
CHOICES = ["赞成", "反对", "需要修改"]
ON_2_FIRST = "建议第二条增加农村养老服务的内容，明确责任主体。"
ON_2_SECOND = "第二条的表述不够清楚，建议具体说明适用范围。"
ON_2_DEPUTY = "建议细化第二条，把生态宜居的要求写得更具体一些。"
ON_1 = "第一条目的明确，赞成这样规定。"
ON_3_WITHDRAWN = "第三条我撤回了这条意见，请不要统计。"
WHOLE_VOTER = "总体赞成，希望尽快出台。"
WHOLE_DEPUTY = "草案整体结构合理，建议增加法律责任一章。"
Q1_TEXT = "建议修改为“设立并逐年增加专项资金”。"
Q2_VOTER = "希望增加对返乡青年的培训补贴。"
Q2_DEPUTY = "建议与职业院校合作培养乡村人才。"


async def scene(world: World) -> Draft:
    """Three articles, two key questions, seven invited (two deputies, five voters); five
    people commented 11 times that count, and one comment was withdrawn."""
    await add_user(world, 201, role="deputy", name="王五", deputy_name="王代表")
    await add_user(world, 202, role="deputy", name="李四", deputy_name="李代表", station_id=2)
    await add_user(world, 301, name="赵六")
    await add_user(world, 302, name="钱七")
    await add_user(world, 303, name="孙八", station_id=3)
    await add_user(world, 304, name="周九")
    await add_user(world, 305, name="吴十", locale="en")
    kinds = {201: "deputy", 202: "deputy", 301: "voter", 302: "voter", 303: "voter"}
    draft = await seed_consultation(
        world,
        questions=[(Q1, CHOICES), (Q2, [])],
        invitees={**kinds, 304: "voter", 305: "voter"},
    )
    cid = draft.id
    q1, q2 = draft.questions
    at = datetime(2026, 11, 23, 18, 5, tzinfo=SHANGHAI)
    await add_comment(world, cid, 303, article=0, text=ON_1, station_id=3, at=at)
    await add_comment(world, cid, 301, article=1, text=ON_2_FIRST, show_name=True, at=at)
    await add_comment(world, cid, 302, article=1, text=ON_2_SECOND)
    await add_comment(world, cid, 201, "deputy", article=1, text=ON_2_DEPUTY)
    await add_comment(world, cid, 305, article=2, text=ON_3_WITHDRAWN, withdrawn=True)
    await add_comment(world, cid, 302, text=WHOLE_VOTER)
    await add_comment(world, cid, 202, "deputy", text=WHOLE_DEPUTY)
    await add_comment(world, cid, 301, question=q1, choice="赞成", show_name=True)
    await add_comment(world, cid, 302, question=q1, choice="赞成")
    await add_comment(world, cid, 201, "deputy", question=q1, choice="需要修改", text=Q1_TEXT)
    await add_comment(world, cid, 303, question=q2, text=Q2_VOTER, station_id=3)
    await add_comment(world, cid, 202, "deputy", question=q2, text=Q2_DEPUTY)
    return draft


async def open_report(staff: Person, consultation: int) -> None:
    await staff.tap_data(ReportOpen(consultation=consultation).pack())


def documents(world: World, chat_id: int) -> dict[str, bytes]:
    """The files sent to `chat_id`, by their kind ("xlsx", "docx")."""
    sent: dict[str, bytes] = {}
    for call in world.api.calls_to("sendDocument"):
        if int(call.params["chat_id"]) != chat_id:
            continue
        data = next(iter(call.files.values()))
        sent["xlsx" if data[:2] == b"PK" and b"xl/" in data else "docx"] = data
    return sent


# What staff read, written out so a wrong language or a missing catalog entry fails.
SUMMARY = {
    "zh-hans": [
        "📊 <b>《北京市乡村振兴促进条例（草案）》</b>\n意见汇总",
        "已于2026年11月25日 18:00截止。",
        "邀请：7 人（代表 2，选民 5）",
        "提出意见：5 人（代表 2，选民 3）",
        "意见：11 条，其中对草案的总体意见 2 条；已采纳 0 条",
        "<b>各条意见（按数量）</b>\n第二条 3 条\n第一条 1 条",
        f"1. {Q1}（回答 3 条）\n　· 赞成：2（67%）\n　· 反对：0（0%）\n　· 需要修改：1（33%）"
        "\n　文字回答 1 条",
        f"2. {Q2}（回答 2 条）\n　文字回答 2 条",
    ],
    "en": [
        "📊 <b>《北京市乡村振兴促进条例（草案）》</b>\nSummary of comments",
        "Closed on Nov 25, 2026 18:00.",
        "Invited: 7 (Deputy: 2, Voter: 5)",
        "Commented: 5 (Deputy: 2, Voter: 3)",
        "Comments: 11, of which 2 on the whole draft; 0 adopted",
        "<b>Comments by article, most first</b>\nArticle 2: 3\nArticle 1: 1",
        f"1. {Q1} (3 answers)\n  · 赞成: 2 (67%)\n  · 反对: 0 (0%)\n  · 需要修改: 1 (33%)"
        "\n  Written answers: 1",
        f"2. {Q2} (2 answers)\n  Written answers: 2",
    ],
}


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_summary_figures_then_the_two_files(world: World, code: str, locale: str) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)

    await open_report(staff, draft.id)

    summary = [o for o in staff.seen if o.kind == "message"][-1]
    for fragment in SUMMARY[code]:
        assert fragment in summary.text, (fragment, summary.text)
    assert "第三条" not in summary.text and "Article 3" not in summary.text  # withdrawn
    assert summary.buttons() == [
        say(staff, "report.button_adopt"),
        say(staff, "report.button_feedback"),
        say(staff, "report.button_again"),
    ]
    files = documents(world, staff.id)
    assert set(files) == {"xlsx", "docx"}
    captions = [o.text for o in staff.seen if o.kind == "document"]
    assert captions == [say(staff, "report.caption_xlsx"), say(staff, "report.caption_docx")]


XLSX = {
    "zh-hans": {
        "sheets": ["意见", "汇总"],
        "header": ["条文", "序号", "身份", "联络站", "姓名", "意见内容", "时间", "已采纳"],
        "first": ["第一条", 1, "选民", "海淀街道联络站", "匿名", ON_1],
        "named": ["第二条", 1, "选民", "学院路第一联络站", "赵六", ON_2_FIRST],
        "anonymous": ["第二条", 2, "选民", "学院路第一联络站", "匿名", ON_2_SECOND],
        "deputy": ["第二条", 3, "代表", "学院路第一联络站", "王代表", ON_2_DEPUTY],
        "whole": ["总体", 2, "代表", "学院路第二联络站", "李代表", WHOLE_DEPUTY],
        "question": [f"问题1：{Q1}", 3, "代表", "学院路第一联络站", "王代表"],
        "no": "否",
        "figures": [("邀请人数", 7), ("提出意见人数", 5), ("意见条数", 11)],
        "per_article": [("第一条", 1, 0), ("第二条", 3, 0), ("第三条", 0, 0), ("总体", 2)],
        "choice": [f"问题1：{Q1}", "赞成", 2, 67],
    },
    "en": {
        "sheets": ["Comments", "Summary"],
        "header": ["Article", "No.", "Kind", "Station", "Name", "Comment", "Time", "Adopted"],
        "first": ["Article 1", 1, "Voter", "海淀街道联络站", "Anonymous", ON_1],
        "named": ["Article 2", 1, "Voter", "学院路第一联络站", "赵六", ON_2_FIRST],
        "anonymous": ["Article 2", 2, "Voter", "学院路第一联络站", "Anonymous", ON_2_SECOND],
        "deputy": ["Article 2", 3, "Deputy", "学院路第一联络站", "王代表", ON_2_DEPUTY],
        "whole": ["Whole draft", 2, "Deputy", "学院路第二联络站", "李代表", WHOLE_DEPUTY],
        "question": [f"Question 1: {Q1}", 3, "Deputy", "学院路第一联络站", "王代表"],
        "no": "No",
        "figures": [("Invited", 7), ("People who commented", 5), ("Comments", 11)],
        "per_article": [
            ("Article 1", 1, 0),
            ("Article 2", 3, 0),
            ("Article 3", 0, 0),
            ("Whole draft", 2),
        ],
        "choice": [f"Question 1: {Q1}", "赞成", 2, 67],
    },
}


def _values(sheet: Any) -> list[list[Any]]:
    return [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_xlsx_has_a_row_per_comment_and_a_summary_sheet(
    world: World, code: str, locale: str
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await open_report(staff, draft.id)
    expected = XLSX[code]

    book = openpyxl.load_workbook(io.BytesIO(documents(world, staff.id)["xlsx"]))

    assert book.sheetnames == expected["sheets"]
    comments = book[expected["sheets"][0]]
    rows = _values(comments)
    assert rows[0] == expected["header"]
    assert all(cell.font.bold for cell in comments[1])
    assert comments.freeze_panes == "A2"
    assert comments.column_dimensions["F"].width == 80  # the comments' own column is wide
    body = rows[1:]
    live = await world.rows(
        "SELECT text, choice FROM consultation_comments WHERE withdrawn_at IS NULL"
    )
    assert len(body) == len(live) == 11  # withdrawn: no row
    assert ON_3_WITHDRAWN not in {row[5] for row in body}
    # report order: articles, the whole draft, then the key questions
    assert body[0][:6] == expected["first"]
    assert body[1][:6] == expected["named"]  # a voter who chose to be named
    assert body[2][:6] == expected["anonymous"]  # one who did not
    assert body[3][:6] == expected["deputy"]  # a deputy always is
    assert body[5][:6] == expected["whole"]
    assert body[8][:5] == expected["question"]
    assert body[8][5] == f"[需要修改] {Q1_TEXT}"
    assert body[0][6] == datetime(2026, 11, 23, 18, 5)  # local time, as Excel keeps it
    assert {row[7] for row in body} == {expected["no"]}

    summary = _values(book[expected["sheets"][1]])
    assert (
        summary[0] == [say(staff, "report.col_item"), say(staff, "report.col_value")] + [None] * 2
    )
    assert summary[1][:2] == [
        say(staff, "report.figure_title"),
        "《北京市乡村振兴促进条例（草案）》",
    ]
    flat = {row[0]: row[1] for row in summary if row and row[0] is not None}
    for label, count in expected["figures"]:
        assert flat[label] == count, (label, flat)
    article_rows = [tuple(v for v in row if v is not None) for row in summary]
    for row in expected["per_article"]:
        assert row in article_rows, (row, article_rows)
    assert tuple(expected["choice"]) in article_rows


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_docx_puts_each_articles_comments_under_its_text(
    world: World, code: str, locale: str
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world, code)
    await open_report(staff, draft.id)

    document = docx.Document(io.BytesIO(documents(world, staff.id)["docx"]))

    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    texts = [text for _, text in paragraphs]
    voter = "选民" if code == "zh-hans" else "Voter"
    deputy = "代表" if code == "zh-hans" else "Deputy"
    if code == "zh-hans":
        comment = "{n}. 【{where}】{text}"
        where = "{kind} · {station}"
    else:
        comment = "{n}. [{where}] {text}"
        where = "{kind} · {station}"
    first = where.format(kind=voter, station="学院路第一联络站")
    expected = [
        ("Heading 2", "第一章 总则"),
        ("Heading 3", "第一条" if code == "zh-hans" else "Article 1"),
        ("Normal", "为了全面实施乡村振兴战略，制定本条例。"),
        (
            "Normal",
            comment.format(
                n=1, where=where.format(kind=voter, station="海淀街道联络站"), text=ON_1
            ),
        ),
        ("Heading 3", "第二条" if code == "zh-hans" else "Article 2"),
        ("Normal", "本市行政区域内的乡村振兴工作，适用本条例。"),
        ("Normal", "（一）产业兴旺；"),
        ("Normal", "（二）生态宜居。"),
        ("Normal", comment.format(n=1, where=first, text=ON_2_FIRST)),
        ("Normal", comment.format(n=2, where=first, text=ON_2_SECOND)),
        (
            "Normal",
            comment.format(
                n=3, where=where.format(kind=deputy, station="学院路第一联络站"), text=ON_2_DEPUTY
            ),
        ),
        ("Heading 2", "第二章 产业发展"),
        ("Heading 3", "第三条" if code == "zh-hans" else "Article 3"),
        ("Normal", "区人民政府应当支持农村集体经济组织发展。"),
        ("Normal", say(staff, "report.doc_no_comments")),  # the withdrawn one is not there
        ("Heading 1", say(staff, "report.doc_whole")),
        ("Normal", comment.format(n=1, where=first, text=WHOLE_VOTER)),
    ]
    start = paragraphs.index(expected[0])
    assert paragraphs[start : start + len(expected)] == expected
    assert paragraphs[0] == ("Title", "《北京市乡村振兴促进条例（草案）》")
    assert ON_3_WITHDRAWN not in "\n".join(texts)
    assert say(staff, "report.doc_source", source="市人大常委会法制办") in texts
    questions = texts.index(say(staff, "report.doc_questions"))
    assert texts[questions + 1] == say(staff, "report.question", number=1, question=Q1)
    assert say(staff, "report.doc_choice", choice="赞成", count=2, percent=67) in texts
    assert any(t.endswith(f"[需要修改] {Q1_TEXT}") and t.startswith("3. ") for t in texts)
    assert texts[-1].endswith(Q2_DEPUTY)
    # Chinese renders in a Chinese face: the East Asian font of body and headings is set
    fonts = {
        name: document.styles[name].element.rPr.rFonts
        for name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3")
    }
    assert fonts["Normal"].get(qn("w:eastAsia")) == "宋体"
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        assert fonts[name].get(qn("w:eastAsia")) == "黑体", name
        assert fonts[name].get(qn("w:eastAsiaTheme")) is None, name  # a theme would win


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_an_open_consultation_shows_its_figures_so_far_and_no_files(
    world: World, code: str, locale: str
) -> None:
    await add_user(world, 301, name="赵六")
    draft = await seed_consultation(world, closed=False, invitees={301: "voter"})
    await add_comment(world, draft.id, 301, article=1, text=ON_2_FIRST)
    staff = await consented_admin(world, code)

    await open_report(staff, draft.id)

    deadline = datetime(2026, 12, 3, 18, 0, tzinfo=SHANGHAI)
    texts = world.services.i18n.texts(locale)
    assert say(staff, "report.summary_so_far", deadline=texts.datetime(deadline)) in staff.last
    assert (
        say(
            staff,
            "report.summary_article",
            article=texts("draft.article", number="二" if code == "zh-hans" else "2"),
            count="1",
        )
        in staff.last
    )
    assert staff.seen[-1].buttons() == []  # marks and feedback wait for the close
    assert documents(world, staff.id) == {}


async def test_a_formula_typed_as_a_comment_stays_text_in_the_xlsx(world: World) -> None:
    formula = '=HYPERLINK("http://example.com","点我")'
    named = "=cmd|' /C calc'!A0"  # a Telegram name may start with "=" too
    await add_user(world, 301, name=named)
    draft = await seed_consultation(world, invitees={301: "voter"})
    await add_comment(world, draft.id, 301, text=formula, show_name=True)
    await add_comment(world, draft.id, 301, text="第二条意见。", show_name=True)
    staff = await consented_admin(world)

    await open_report(staff, draft.id)

    sheet = openpyxl.load_workbook(io.BytesIO(documents(world, staff.id)["xlsx"]))["意见"]
    assert (sheet["F2"].value, sheet["F2"].data_type) == (formula, "s")
    for row in (2, 3):
        assert (sheet[f"E{row}"].value, sheet[f"E{row}"].data_type) == (named, "s")
        assert sheet[f"G{row}"].value == datetime(2026, 11, 23, 18, 0)
        assert sheet[f"H{row}"].value == "否"
    assert sheet["F3"].value == "第二条意见。"


async def test_times_in_the_xlsx_are_date_times_excel_sorts_shown_to_the_minute(
    world: World,
) -> None:
    draft = await scene(world)
    staff = await consented_admin(world)
    await open_report(staff, draft.id)

    book = openpyxl.load_workbook(io.BytesIO(documents(world, staff.id)["xlsx"]))

    times = [row[6] for row in book["意见"].iter_rows(min_row=2)]
    assert len(times) == 11
    assert all(isinstance(cell.value, datetime) for cell in times)
    assert {cell.number_format for cell in times} == {TIME_FORMAT}
    assert times[0].value == datetime(2026, 11, 23, 18, 5)  # Shanghai's wall clock, naive
    deadline = next(row[1] for row in book["汇总"].iter_rows() if row[0].value == "截止时间")
    assert (deadline.value, deadline.number_format) == (datetime(2026, 11, 25, 18, 0), TIME_FORMAT)


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_the_docx_names_an_article_once_whatever_digits_its_text_opens_with(
    world: World, code: str, locale: str
) -> None:
    bodies = {
        11: ("第十一条　", "中文数字的条文。"),
        12: ("第12条　", "阿拉伯数字的条文。"),
        13: ("第１３条 ", "全角数字的条文。"),
        14: ("第14条", "【条旨】带条旨的条文。"),
    }
    articles: list[tuple[int | None, list[str], str]] = [
        (number, [], opening + body) for number, (opening, body) in bodies.items()
    ]
    draft = await seed_consultation(world, articles=articles)
    staff = await consented_admin(world, code)
    await open_report(staff, draft.id)

    document = docx.Document(io.BytesIO(documents(world, staff.id)["docx"]))

    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    for number, (_, body) in bodies.items():
        numeral = cn2an.an2cn(number) if code == "zh-hans" else str(number)
        heading = paragraphs.index(("Heading 3", say(staff, "draft.article", number=numeral)))
        assert paragraphs[heading + 1] == ("Normal", body)


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_refusals_write_their_instants_in_the_staff_members_locale(
    world: World, code: str, locale: str
) -> None:
    still_open = await seed_consultation(world, closed=False)
    published_at = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
    published = await seed_consultation(world, feedback_at=published_at)
    staff = await consented_admin(world, code)
    texts = texts_of(staff)
    written = {
        "zh-hans": ("2026年12月3日 18:00", "2026年11月26日 09:30"),
        "en": ("Dec 3, 2026 18:00", "Nov 26, 2026 09:30"),
    }[code]

    await staff.tap_data(FeedbackWrite(consultation=still_open.id).pack())
    deadline = texts.datetime(datetime(2026, 12, 3, 18, 0, tzinfo=SHANGHAI))
    assert staff.seen[-1].text == say(staff, "report.not_closed", deadline=deadline)
    assert written[0] in staff.seen[-1].text

    await staff.tap_data(FeedbackWrite(consultation=published.id).pack())
    on = texts.datetime(published_at)
    assert staff.seen[-1].text == say(staff, "report.feedback_already", on=on)
    assert written[1] in staff.seen[-1].text


async def test_a_long_summary_stays_within_one_message(world: World) -> None:
    """Many long key questions: the summary stops before Telegram's limit and says the rest
    is in the files (the fake Bot API refuses a longer message)."""
    options = [f"选项{i}：" + "很长的选项说明" * 12 for i in range(8)]
    questions = [(f"第{i}个问题：" + "请就草案的有关规定提出意见" * 20, options) for i in range(30)]
    draft = await seed_consultation(world, questions=questions)
    staff = await consented_admin(world)

    await open_report(staff, draft.id)

    summary = [o for o in staff.seen if o.kind == "message"][-1].text
    assert summary.endswith(say(staff, "report.summary_cut"))
    assert len(summary) <= 4096
    assert not world.api.refusals


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_staff_see_a_report_and_forged_buttons_change_nothing(
    world: World, person: Any, code: str, locale: str
) -> None:
    draft = await scene(world)
    voter = person(401, "郑一", code)
    await onboard(voter)

    await open_report(voter, draft.id)
    assert voter.seen[-1].text == say(voter, "error.forbidden")
    assert documents(world, voter.id) == {}

    staff = await consented_admin(world, code)
    await open_report(staff, 999_999)
    assert staff.seen[-1].text == say(staff, "report.unknown")
    await staff.tap_data("kqo:abc")
    assert staff.seen[-1].text == say(staff, "error.stale_button")
    await staff.tap_data("kqo:0")
    assert staff.seen[-1].text == say(staff, "error.stale_button")
    assert documents(world, staff.id) == {}


def test_file_names_keep_only_safe_characters(world: World) -> None:
    texts = world.services.i18n.texts("zh_CN")
    day = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)
    name = file_name(texts, "《北京市乡村振兴促进条例（草案）》/../x:y", day, "xlsx")
    assert name == "征求意见_北京市乡村振兴促进条例_草案_x_y_20261125.xlsx"
    english = file_name(world.services.i18n.texts("en"), "Draft <law>", day, "docx")
    assert english == "consultation_Draft_law_20261125.docx"
