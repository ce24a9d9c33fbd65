"""Reading a draft law on a phone: /consultations (open ones, soonest deadline first, with
what the person has commented on), a consultation's overview and table of contents (编 → 章,
or 章 alone, paged), one article per message with ◀ ▶ to both ends, a long article split in
parts, drafts with no chapters or no articles, who may read what, forged buttons, and
reading after the deadline. Consultations are written straight into the database here
(inserting is not mocking): opening one is another feature's."""

from __future__ import annotations

import itertools
import json
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import cn2an
import pytest

from bot.demo.botapi import MAX_TEXT, Output, shown_text
from bot.demo.telegram_html import utf16_length
from bot.runtime.buttons.consultations import ReadArticle, ReadContents, ReadOpen
from bot.services.consultation_comments import PAGE_BUDGET, contents, shown_size, split_article
from bot.services.consultations import ConsultationPlan
from bot.services.draft_split import split_draft
from storage.models import ConsultationAudience
from storage.repos.consultation_comments import ArticleHead
from tests.support.people import Person
from tests.support.scenarios import consented_admin, invite_deputy, onboard, say
from tests.support.world import World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
LOCALE = {"zh-hans": "zh_CN", "en": "en"}

# What a reader taps and reads, written out so a wrong language or a missing catalog fails.
L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "prev": "◀",
        "next": "▶",
        "comment_article": "💬 对本条提意见",
        "comment_whole": "📝 对草案整体提意见",
        "mine": "🗂 我的意见",
        "contents": "📑 目录",
        "back_contents": "« 目录",
        "read_start": "📖 从第一条开始阅读",
        "none_open": "目前没有正在征求意见的法律法规草案。有新的征求意见时会通知您。",
        "forbidden": "您没有权限进行此操作。",
        "no_such_article": "草案中没有这一条。",
        "stale": "这个按钮已失效，请重新操作。",
        "next_page": "下一页 ›",
    },
    "en": {
        "prev": "◀",
        "next": "▶",
        "comment_article": "💬 Comment on this article",
        "comment_whole": "📝 Comment on the whole draft",
        "mine": "🗂 My comments",
        "contents": "📑 Contents",
        "back_contents": "« Contents",
        "read_start": "📖 Read from the start",
        "none_open": (
            "No draft laws are open for comment right now. You will be told when one opens."
        ),
        "forbidden": "You are not allowed to do that.",
        "no_such_article": "The draft has no such article.",
        "stale": "This button is no longer valid. Please start again.",
        "next_page": "Next ›",
    },
}

# 《中华人民共和国民法典》 (2020), an excerpt of two 编: real text of different shapes (著作权法
# art. 5: laws are not subject to copyright). (number, heading path, text)
CIVIL_CODE: list[tuple[int | None, list[str], str]] = [
    (
        1,
        ["第一编 总则", "第一章 基本规定"],
        "第一条 为了保护民事主体的合法权益，调整民事关系，维护社会和经济秩序，适应中国特色"
        "社会主义发展要求，弘扬社会主义核心价值观，根据宪法，制定本法。",
    ),
    (
        2,
        ["第一编 总则", "第一章 基本规定"],
        "第二条 民法调整平等主体的自然人、法人和非法人组织之间的人身关系和财产关系。",
    ),
    (
        3,
        ["第一编 总则", "第一章 基本规定"],
        "第三条 民事主体的人身权利、财产权利以及其他合法权益受法律保护，任何组织或者个人不得侵犯。",
    ),
    (
        13,
        ["第一编 总则", "第二章 自然人", "第一节 民事权利能力和民事行为能力"],
        "第十三条 自然人从出生时起到死亡时止，具有民事权利能力，依法享有民事权利，承担民事义务。",
    ),
    (
        14,
        ["第一编 总则", "第二章 自然人", "第一节 民事权利能力和民事行为能力"],
        "第十四条 自然人的民事权利能力一律平等。",
    ),
    (
        1040,
        ["第五编 婚姻家庭", "第一章 一般规定"],
        "第一千零四十条 本编调整因婚姻家庭产生的民事关系。",
    ),
    (
        1041,
        ["第五编 婚姻家庭", "第一章 一般规定"],
        "第一千零四十一条 婚姻家庭受国家保护。\n"
        "实行婚姻自由、一夫一妻、男女平等的婚姻制度。\n"
        "保护妇女、未成年人、老年人、残疾人的合法权益。",
    ),
    (
        1079,
        ["第五编 婚姻家庭", "第四章 离婚"],
        "第一千零七十九条 夫妻一方要求离婚的，可以由有关组织进行调解或者直接向人民法院提起离婚"
        "诉讼。\n"
        "人民法院审理离婚案件，应当进行调解；如果感情确已破裂，调解无效的，应当准予离婚。\n"
        "有下列情形之一，调解无效的，应当准予离婚：\n"
        "（一）重婚或者与他人同居；\n"
        "（二）实施家庭暴力或者虐待、遗弃家庭成员；\n"
        "（三）有赌博、吸毒等恶习屡教不改；\n"
        "（四）因感情不和分居满二年；\n"
        "（五）其他导致夫妻感情破裂的情形。\n"
        "一方被宣告失踪，另一方提起离婚诉讼的，应当准予离婚。\n"
        "经人民法院判决不准离婚后，双方又分居满一年，一方再次提起离婚诉讼的，应当准予离婚。",
    ),
]

CHAPTERS = [
    "总则",
    "规划引领",
    "产业发展",
    "人才支撑",
    "文化繁荣",
    "生态宜居",
    "组织建设",
    "城乡融合",
    "扶持措施",
    "监督检查",
    "法律责任",
    "附则",
]


def regulation() -> list[tuple[int | None, list[str], str]]:
    """A draft regulation of twelve chapters (章, no 编), two articles each."""
    articles: list[tuple[int | None, list[str], str]] = []
    for c, name in enumerate(CHAPTERS, start=1):
        heading = f"第{cn2an.an2cn(c)}章 {name}"
        for k in range(2):
            n = 2 * (c - 1) + k + 1
            text = f"第{cn2an.an2cn(n)}条 本市{name}工作应当坚持农业农村优先发展，本条为第{n}条。"
            articles.append((n, [heading], text))
    return articles


def long_article(number: int, items: int) -> str:
    """An article of three 款, the second with `items` 项 (（一）（二）…): longer than a page."""
    lines = [f"第{cn2an.an2cn(number)}条 市、区人民政府应当推进农村人居环境整治，具体包括："]
    for i in range(1, items + 1):
        lines.append(
            f"（{cn2an.an2cn(i)}）组织开展第{i}项整治工作，推进厕所革命、生活垃圾和污水治理，"
            "加强村容村貌提升和公共空间治理，建立健全长效管护机制，保障农民群众的合法权益；"
        )
    lines.append("前款规定的工作，由市农业农村部门会同有关部门组织实施。")
    return "\n".join(lines)


@dataclass
class Draft:
    """A consultation as written into the database for a test."""

    articles: list[tuple[int | None, list[str], str]]
    title: str = "《北京市乡村振兴促进条例（草案）》"
    summary: str = "为全面推进乡村振兴，市人大常委会就本条例草案公开征求意见。"
    source: str = "市人大常委会法制办"
    questions: list[tuple[str, list[str]]] = field(default_factory=list)
    audience: str = "everyone"
    audience_ref: int | None = None
    deadline: datetime | None = None
    state: str = "open"
    closed_at: datetime | None = None


async def add_consultation(world: World, draft: Draft) -> int:
    """Write a consultation with its articles (positions 0, 1 …) and key questions."""
    now = world.clock.now()
    deadline = draft.deadline or now + timedelta(days=7)
    async with world.db.transaction() as tx:
        consultation = await tx.execute(
            "INSERT INTO consultations (title, summary, source, audience, audience_ref,"
            " deadline, state, created_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft.title,
                draft.summary,
                draft.source,
                draft.audience,
                draft.audience_ref,
                deadline.isoformat(),
                draft.state,
                now.isoformat(),
                draft.closed_at.isoformat() if draft.closed_at else None,
            ),
        )
        for position, (number, path, text) in enumerate(draft.articles):
            await tx.execute(
                "INSERT INTO consultation_articles"
                " (consultation_id, position, number, heading_path, text) VALUES (?, ?, ?, ?, ?)",
                (consultation, position, number, json.dumps(path, ensure_ascii=False), text),
            )
        for position, (text, choices) in enumerate(draft.questions):
            await tx.execute(
                "INSERT INTO consultation_questions (consultation_id, position, text, choices)"
                " VALUES (?, ?, ?, ?)",
                (
                    consultation,
                    position,
                    text,
                    json.dumps(choices, ensure_ascii=False) if choices else None,
                ),
            )
    return consultation


async def add_comment(
    world: World, consultation: int, author: int, position: int | None, **more: Any
) -> None:
    now = world.clock.now().isoformat()
    row = {"article_position": position, "text": "一条测试用的意见，十个字以上。", **more}
    async with world.db.transaction() as tx:
        tx.defer(  # someone who commented earlier, if not a person of the test
            "INSERT OR IGNORE INTO users (telegram_id, locale, created_at) VALUES (?, 'zh_CN', ?)",
            (author, now),
        )
        await tx.execute(
            "INSERT INTO consultation_comments (consultation_id, author_id, article_position,"
            " question_id, choice, text, author_kind, created_at, updated_at, withdrawn_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 'voter', ?, ?, ?)",
            (
                consultation,
                author,
                row["article_position"],
                row.get("question_id"),
                row.get("choice"),
                row["text"],
                now,
                now,
                row.get("withdrawn_at"),
            ),
        )


async def voter(
    world: World,
    user_id: int,
    lang: str = "zh-hans",
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
) -> Person:
    person = Person(world, user_id, "王芳", lang)
    await onboard(person, street, station)
    return person


def texts(person: Person) -> Any:
    return person.world.services.i18n.texts(LOCALE[person.language_code])


def alerts(outputs: list[Output]) -> list[str]:
    return [o.text for o in outputs if o.kind == "alert"]


def body(text: str) -> str:
    """The article's text on a page: between the heading lines and the markers below."""
    shown = shown_text(text, "HTML")
    return shown.split("\n\n", 1)[1].rsplit("\n\n", 1)[0]


async def open_by_button(person: Person, consultation: int) -> list[Output]:
    """What the prompt's "read and comment" button does (the notice carries ReadOpen)."""
    return await person.tap_data(ReadOpen(consultation=consultation).pack())


# --- /consultations -----------------------------------------------------------------------------


@LANGS
async def test_consultation_list_soonest_first_with_what_was_commented(
    world: World, lang: str
) -> None:
    reader = await voter(world, 5001, lang)
    now = world.clock.now()
    later = await add_consultation(
        world,
        Draft(
            regulation(),
            title="《北京市物业管理条例（修正草案）》",
            deadline=now + timedelta(days=20),
        ),
    )
    await add_consultation(
        world, Draft(CIVIL_CODE, title="《民法典（草案）》", deadline=now + timedelta(days=3))
    )
    await add_consultation(
        world, Draft(CIVIL_CODE, title="已关闭的草案", state="closed", closed_at=now)
    )
    await add_consultation(
        world, Draft(CIVIL_CODE, title="已过截止时间的草案", deadline=now - timedelta(minutes=1))
    )
    await add_consultation(world, Draft(CIVIL_CODE, title="只给代表的草案", audience="deputies"))
    other_station = await world.station_id("海淀街道联络站")
    await add_consultation(
        world,
        Draft(
            CIVIL_CODE,
            title="海淀街道联络站的草案",
            audience="voters_station",
            audience_ref=other_station,
        ),
    )
    for position in (4, 11):
        await add_comment(world, later, reader.id, position)
    await add_comment(world, later, reader.id, None)
    await add_comment(world, later, reader.id, 2, withdrawn_at=now.isoformat())  # not counted
    await add_comment(world, later, 9999, 0)  # someone else's

    await reader.send("/consultations")
    t = texts(reader)
    assert reader.buttons() == ["1. 《民法典（草案）》", "2. 《北京市物业管理条例（修正草案）》"]
    first = t(
        "consultations.list_item",
        n=1,
        title="《民法典（草案）》",
        deadline=t.datetime(now + timedelta(days=3)),
    )
    second = t(
        "consultations.list_item",
        n=2,
        title="《北京市物业管理条例（修正草案）》",
        deadline=t.datetime(now + timedelta(days=20)),
    )
    targets = {
        "zh-hans": "已提 3 条意见：第五条、第十二条、总体",
        "en": "Your comments so far: 3 (Article 5, Article 12, the whole draft)",
    }[lang]
    assert reader.last == "\n\n".join(
        [
            t("consultations.list_title"),
            first + "\n" + t("consultations.list_not_commented"),
            second + "\n" + targets,
        ]
    )
    await reader.tap("2. 《北京市物业管理条例（修正草案）》")
    assert "《北京市物业管理条例（修正草案）》" in reader.last
    assert reader.seen[-1].kind == "edit"


@LANGS
async def test_no_open_consultation_says_so(world: World, lang: str) -> None:
    reader = await voter(world, 5002, lang)
    await add_consultation(world, Draft(CIVIL_CODE, state="closed", closed_at=world.clock.now()))
    await reader.send("/consultations")
    assert reader.last == L[lang]["none_open"]


async def test_the_list_is_paged_five_at_a_time(world: World) -> None:
    reader = await voter(world, 5003)
    now = world.clock.now()
    for n in range(7):
        await add_consultation(
            world, Draft(CIVIL_CODE, title=f"草案{n + 1}", deadline=now + timedelta(days=n + 1))
        )
    await reader.send("/consultations")
    assert reader.buttons()[:5] == [f"{n}. 草案{n}" for n in range(1, 6)]
    await reader.tap(L["zh-hans"]["next_page"])
    assert reader.buttons()[:2] == ["6. 草案6", "7. 草案7"]
    assert reader.seen[-1].kind == "edit"


# --- a consultation and its table of contents --------------------------------------------------


@LANGS
async def test_opening_shows_the_overview_and_contents_by_part_then_chapter(
    world: World, lang: str
) -> None:
    reader = await voter(world, 5011, lang)
    questions = [("是否赞成设立离婚冷静期？", ["赞成", "反对"]), ("还有哪些建议？", [])]
    consultation = await add_consultation(
        world, Draft(CIVIL_CODE, title="《民法典（草案）》", questions=questions)
    )
    lbl, t = L[lang], texts(reader)
    await open_by_button(reader, consultation)
    overview = t(
        "consultations.overview",
        title="《民法典（草案）》",
        deadline=t.datetime(world.clock.now() + timedelta(days=7)),
        articles=8,
        questions=2,
    )
    assert reader.last == "\n".join(
        [
            overview,
            t("consultations.source", source="市人大常委会法制办"),
            "\n为全面推进乡村振兴，市人大常委会就本条例草案公开征求意见。",
        ]
    ) + "\n\n" + t("consultations.contents_prompt")
    assert reader.buttons() == [
        "第一编 总则",
        "第五编 婚姻家庭",
        lbl["comment_whole"],
        t("consultations.questions_button", count=2),
        lbl["mine"],
    ]
    await reader.tap("第五编 婚姻家庭")
    assert reader.last == "<b>第五编 婚姻家庭</b>\n\n" + t("consultations.contents_prompt")
    assert reader.buttons() == ["第一章 一般规定", "第四章 离婚", lbl["back_contents"]]
    await reader.tap("第四章 离婚")
    page = reader.last
    assert page.startswith("<b>《民法典（草案）》</b>\n<i>第五编 婚姻家庭 › 第四章 离婚</i>\n\n")
    assert body(page) == CIVIL_CODE[7][2]
    assert reader.buttons()[:3] == [lbl["prev"], lbl["comment_article"], lbl["comment_whole"]]
    await reader.tap(lbl["contents"])
    assert reader.buttons()[:2] == ["第一编 总则", "第五编 婚姻家庭"]
    await reader.tap("第一编 总则")
    await reader.tap(lbl["back_contents"])
    await reader.tap("第一编 总则")
    await reader.tap("第二章 自然人")
    assert "<i>第一编 总则 › 第二章 自然人 › 第一节 民事权利能力和民事行为能力</i>" in reader.last
    assert body(reader.last) == CIVIL_CODE[3][2]


async def test_contents_by_chapter_are_paged(world: World) -> None:
    reader = await voter(world, 5012)
    consultation = await add_consultation(world, Draft(regulation()))
    await open_by_button(reader, consultation)
    assert reader.buttons()[:10] == [
        f"第{cn2an.an2cn(c)}章 {n}" for c, n in enumerate(CHAPTERS[:10], 1)
    ]
    assert reader.buttons()[10:12] == ["1/2", L["zh-hans"]["next_page"]]
    await reader.tap(L["zh-hans"]["next_page"])
    assert reader.buttons()[:2] == ["第十一章 法律责任", "第十二章 附则"]
    await reader.tap("第十二章 附则")
    assert body(reader.last) == regulation()[22][2]


@LANGS
async def test_a_draft_without_chapters_opens_at_its_first_article(world: World, lang: str) -> None:
    reader = await voter(world, 5013, lang)
    articles = [
        (n, [], f"第{cn2an.an2cn(n)}条 本规定自公布之日起施行，第{n}条。") for n in (1, 2, 3)
    ]
    consultation = await add_consultation(world, Draft(articles, title="《某规定（草案）》"))
    outputs = await open_by_button(reader, consultation)
    assert [o.kind for o in outputs if o.kind != "alert"] == ["edit", "message"]
    assert body(outputs[-1].text) == articles[0][2]
    assert "<i>" not in outputs[-1].text  # no heading path to show
    await reader.tap(L[lang]["contents"])
    assert reader.buttons()[0] == L[lang]["read_start"]
    await reader.tap(L[lang]["read_start"])
    assert body(reader.last) == articles[0][2]


@LANGS
async def test_a_draft_without_articles_shows_its_text(world: World, lang: str) -> None:
    reader = await voter(world, 5014, lang)
    text = (
        "关于加强基层立法联系点建设的决定（草案）\n"
        "一、充分发挥基层立法联系点作用。\n"
        "二、畅通民意表达渠道。"
    )
    consultation = await add_consultation(
        world, Draft([(None, [], text)], title="《决定（草案）》")
    )
    await open_by_button(reader, consultation)
    assert body(reader.last) == text
    lbl = L[lang]
    # the one text is commented on as a whole: no per-article button, no ◀ ▶
    assert lbl["comment_article"] not in reader.buttons()
    assert reader.buttons()[:2] == [lbl["comment_whole"], lbl["mine"]]
    assert lbl["prev"] not in reader.buttons() and lbl["next"] not in reader.buttons()


# --- one article per page -----------------------------------------------------------------------


@LANGS
async def test_paging_through_the_articles_to_both_ends(world: World, lang: str) -> None:
    reader = await voter(world, 5021, lang)
    consultation = await add_consultation(world, Draft(CIVIL_CODE))
    lbl = L[lang]
    await reader.tap_data(ReadArticle(consultation=consultation, position=0, part=0).pack())
    page_id = reader.seen[-1].message_id
    assert body(reader.last) == CIVIL_CODE[0][2]
    assert lbl["prev"] not in reader.buttons() and reader.buttons()[0] == lbl["next"]
    for number, _, text in CIVIL_CODE[1:]:
        await reader.tap(lbl["next"])
        assert reader.seen[-1].kind == "edit" and reader.seen[-1].message_id == page_id
        assert body(reader.last) == text, number
    assert lbl["next"] not in reader.buttons() and reader.buttons()[0] == lbl["prev"]
    for _, _, text in reversed(CIVIL_CODE[:-1]):
        await reader.tap(lbl["prev"])
        assert body(reader.last) == text
    assert lbl["prev"] not in reader.buttons()
    assert len(world.api.chat_messages(reader.id)) == len(
        [o for o in reader.seen if o.kind == "message"]
    )


@LANGS
async def test_a_long_article_is_split_in_parts_that_fit(world: World, lang: str) -> None:
    reader = await voter(world, 5022, lang)
    long = long_article(2, 110)
    articles = [CIVIL_CODE[0], (2, ["第一章 基本规定"], long), CIVIL_CODE[2]]
    consultation = await add_consultation(world, Draft(articles))
    lbl, t = L[lang], texts(reader)
    await reader.tap_data(ReadArticle(consultation=consultation, position=0, part=0).pack())
    await reader.tap(lbl["next"])
    parts = [reader.last]
    while t("consultations.part", part=len(parts), parts=len(parts)) not in reader.last:
        await reader.tap(lbl["next"])
        parts.append(reader.last)
    assert len(parts) == 3
    for n, page in enumerate(parts, start=1):
        assert t("consultations.part", part=n, parts=3) in page
        assert utf16_length(shown_text(page, "HTML")) <= MAX_TEXT
        assert "<i>第一章 基本规定</i>" in page  # the heading path above every part
    bodies = [body(page) for page in parts]
    assert "\n".join(bodies) == long  # cut at line (款, 项) ends, nothing lost or doubled
    assert all(b.startswith("（") or b.startswith("第") for b in bodies)
    await reader.tap(lbl["next"])
    assert body(reader.last) == CIVIL_CODE[2][2]
    await reader.tap(lbl["prev"])  # back from the next article: its last part
    assert t("consultations.part", part=3, parts=3) in reader.last
    await reader.tap(lbl["prev"])
    assert t("consultations.part", part=2, parts=3) in reader.last


@LANGS
async def test_the_page_counts_live_comments(world: World, lang: str) -> None:
    reader = await voter(world, 5023, lang)
    consultation = await add_consultation(world, Draft(CIVIL_CODE))
    for author in (1, 2, 3):
        await add_comment(world, consultation, author, 1)
    await add_comment(world, consultation, 4, 1, withdrawn_at=world.clock.now().isoformat())
    await add_comment(world, consultation, 5, 2)
    await add_comment(world, consultation, 6, None)
    await reader.tap_data(ReadArticle(consultation=consultation, position=1, part=0).pack())
    assert reader.last.endswith(texts(reader)("consultations.page_comments", count=3))


# --- splitting, on its own ----------------------------------------------------------------------


def _check_parts(text: str, parts: list[str], budget: int) -> None:
    assert "".join(parts) == text
    assert all(shown_size(part) <= budget + 2 for part in parts)
    for before, part in itertools.pairwise(parts):  # never inside a character
        assert not unicodedata.category(part[0]).startswith("M")
        assert part[0] not in "\u200d\ufe0f" and before[-1] != "\u200d"


def test_an_article_that_fits_is_one_part() -> None:
    assert split_article(CIVIL_CODE[7][2]) == [CIVIL_CODE[7][2]]


def test_parts_end_at_line_ends_when_lines_fit() -> None:
    text = long_article(5, 120)
    parts = split_article(text)
    _check_parts(text, parts, PAGE_BUDGET)
    assert len(parts) == 3
    for part, following in itertools.pairwise(parts):
        assert part.endswith("\n")
        # each part is as full as whole lines allow: the next line would not have fitted
        assert shown_size(part) + shown_size(following.splitlines(keepends=True)[0]) > PAGE_BUDGET


def test_one_long_paragraph_is_cut_at_sentence_ends() -> None:
    sentence = "村民委员会应当组织村民依法制定村规民约，引导村民参与乡村治理；"
    text = "第九条 " + sentence * 150 + "具体办法由市人民政府制定。"
    parts = split_article(text, 1000)
    _check_parts(text, parts, 1000)
    assert all(part.endswith("；") for part in parts[:-1])


def test_text_without_breaks_is_cut_between_whole_characters() -> None:
    # escaping makes '&' five units: the budget is measured on what Telegram gets
    text = "A&B<" * 400 + "e\u0301" * 300 + "👨\u200d👩\u200d👧" * 200
    parts = split_article(text, 500)
    _check_parts(text, parts, 500)
    assert len(parts) > 5


def test_a_page_is_measured_as_telegram_counts_the_escaped_text() -> None:
    # "<" and "&" grow when escaped; an emoji outside the BMP is two UTF-16 units
    assert shown_size("第一条<甲>&乙😀") == utf16_length("第一条&lt;甲&gt;&amp;乙😀") == 20


@pytest.mark.parametrize(
    "heading", ["第一章 总则", "第1章 总则", "第〇章 总则", "第两章 总则", "第一条 总则"]
)
def test_the_contents_see_a_chapter_exactly_where_the_splitter_does(heading: str) -> None:
    """One heading grammar: a line the splitter does not take as a chapter (its numerals
    have no 〇 or 两) is no chapter in the table of contents either."""
    counted = split_draft(f"{heading}\n第一条　为了规范。").chapters
    head = ArticleHead(position=0, number=1, heading_path=[heading])

    assert len(contents([head])) == counted


# --- who may read what --------------------------------------------------------------------------


@LANGS
async def test_a_voter_cannot_open_a_consultation_not_meant_for_them(
    world: World, lang: str
) -> None:
    reader = await voter(world, 5031, lang)
    own_station = await world.station_id("学院路第一联络站")
    other_station = await world.station_id("海淀街道联络站")
    street = (await world.rows("SELECT street_id FROM stations WHERE id = ?", (own_station,)))[0]
    other_street = (
        await world.rows("SELECT street_id FROM stations WHERE id = ?", (other_station,))
    )[0]
    refused = [
        await add_consultation(world, Draft(CIVIL_CODE, audience="deputies")),
        await add_consultation(
            world, Draft(CIVIL_CODE, audience="deputies_street", audience_ref=street["street_id"])
        ),
        await add_consultation(
            world, Draft(CIVIL_CODE, audience="voters_station", audience_ref=other_station)
        ),
        await add_consultation(
            world,
            Draft(CIVIL_CODE, audience="voters_street", audience_ref=other_street["street_id"]),
        ),
        999,  # no such consultation: refused the same way
    ]
    readable = [
        await add_consultation(
            world, Draft(CIVIL_CODE, audience="voters_station", audience_ref=own_station)
        ),
        await add_consultation(
            world, Draft(CIVIL_CODE, audience="voters_street", audience_ref=street["street_id"])
        ),
        await add_consultation(world, Draft(CIVIL_CODE, audience="everyone")),
    ]
    for consultation in refused:
        assert alerts(await open_by_button(reader, consultation)) == [L[lang]["forbidden"]]
        page = ReadArticle(consultation=consultation, position=0, part=0).pack()
        assert alerts(await reader.tap_data(page)) == [L[lang]["forbidden"]]
    for consultation in readable:
        outputs = await open_by_button(reader, consultation)
        assert not alerts(outputs) and outputs[0].kind == "edit"
    await reader.send("/consultations")
    assert len(reader.buttons()) >= 3 and reader.last.count("<b>《") == 3


async def test_deputies_and_staff_read_every_consultation(world: World) -> None:
    admin = await consented_admin(world)
    deputy = await invite_deputy(world, admin, lambda *a: Person(world, *a), 5041, "张三")
    station = await world.station_id("海淀街道联络站")
    for draft in (
        Draft(CIVIL_CODE, audience="deputies"),
        Draft(CIVIL_CODE, audience="voters_station", audience_ref=station),
    ):
        consultation = await add_consultation(world, draft)
        for person in (deputy, admin):
            outputs = await open_by_button(person, consultation)
            assert not alerts(outputs), person.id
    await deputy.send("/consultations")
    assert len([b for b in deputy.buttons() if b.startswith(("1.", "2."))]) == 2


@LANGS
async def test_forged_pages_and_contents_are_refused_cleanly(world: World, lang: str) -> None:
    reader = await voter(world, 5051, lang)
    consultation = await add_consultation(world, Draft(CIVIL_CODE))
    lbl = L[lang]
    for position in (8, 99_999):
        forged = ReadArticle(consultation=consultation, position=position, part=0).pack()
        assert alerts(await reader.tap_data(forged)) == [lbl["no_such_article"]]
    forged = ReadContents(consultation=consultation, volume=3, page=0).pack()
    assert alerts(await reader.tap_data(forged)) == [lbl["no_such_article"]]
    for data in (f"kra:{consultation}:-1:0", f"kra:{consultation}:x:0", "kra:0:0:0", "kro:1:2"):
        assert alerts(await reader.tap_data(data)) == [lbl["stale"]], data
    # a part past the end is the last part (where ◀ from the next article lands)
    await reader.tap_data(ReadArticle(consultation=consultation, position=7, part=9).pack())
    assert body(reader.last) == CIVIL_CODE[7][2]
    contents = ReadContents(consultation=consultation, volume=0, page=500).pack()
    await reader.tap_data(contents)  # a page past the end: the last page
    assert reader.buttons()[:2] == ["第一编 总则", "第五编 婚姻家庭"]


# --- after the deadline -------------------------------------------------------------------------


@LANGS
async def test_reading_goes_on_after_the_deadline_without_comment_buttons(
    world: World, lang: str
) -> None:
    reader = await voter(world, 5061, lang)
    deadline = world.clock.now() + timedelta(days=2)
    consultation = await add_consultation(
        world, Draft(CIVIL_CODE, deadline=deadline, questions=[("问题？", ["是", "否"])])
    )
    lbl, t = L[lang], texts(reader)
    world.clock.advance(days=2)
    await open_by_button(reader, consultation)
    closed = t("consultations.closed_notice", closed_at=t.datetime(deadline))
    assert closed in reader.last
    assert lbl["comment_whole"] not in reader.buttons()
    await reader.tap("第一编 总则")
    await reader.tap("第一章 基本规定")
    assert body(reader.last) == CIVIL_CODE[0][2]
    assert reader.last.endswith(closed)
    assert lbl["comment_article"] not in reader.buttons()
    assert lbl["comment_whole"] not in reader.buttons()
    assert reader.buttons()[:1] == [lbl["next"]] and lbl["mine"] in reader.buttons()
    await reader.send("/consultations")
    assert reader.last == lbl["none_open"]


# --- real statutes, opened the way staff open them ----------------------------------------------

STATUTES = Path(__file__).resolve().parent / "statutes"


async def open_statute(world: World, file_name: str, title: str) -> int:
    """Open a consultation on a real statute through the service staff use (the splitter of
    bot.services.draft_split cuts it into its articles); returns its id."""
    plan = ConsultationPlan(
        title=title,
        text=(STATUTES / file_name).read_text(encoding="utf-8"),
        audience=ConsultationAudience.EVERYONE,
        deadline=world.clock.now() + timedelta(days=30),
    )
    opened = await world.services.consultations.open(None, plan)
    await world.outbox.drain()  # its prompts are out before anyone reads
    return opened.id


async def test_a_real_code_read_from_its_prompt_through_parts_and_chapters(world: World) -> None:
    reader = await voter(world, 5081)
    await open_statute(world, "minfadian_1040_1125.txt", "《民法典》婚姻家庭编")
    await reader.tap(say(reader, "consult.read_button"))  # the prompt's "read and comment"
    assert reader.buttons()[:2] == ["第五编 婚姻家庭", "第六编 继承"]
    await reader.tap("第五编 婚姻家庭")
    assert reader.buttons()[0] == "第一章 一般规定" and "第四章 离婚" in reader.buttons()
    await reader.tap("第四章 离婚")
    assert body(reader.last).startswith("第一千零七十六条")
    assert "<i>第五编 婚姻家庭 › 第四章 离婚</i>" in reader.last


async def test_every_page_of_a_whole_law_fits_and_gives_back_its_articles(world: World) -> None:
    reader = await voter(world, 5082)
    consultation = await open_statute(world, "lifa_fa_2023.txt", "《立法法》")
    articles = await world.rows(
        "SELECT text FROM consultation_articles WHERE consultation_id = ? ORDER BY position",
        (consultation,),
    )
    assert len(articles) == 120
    await reader.tap_data(ReadArticle(consultation=consultation, position=0, part=0).pack())
    pages = [reader.last]
    while "▶" in reader.buttons()[:2]:
        await reader.tap("▶")
        pages.append(reader.last)
    assert all(utf16_length(shown_text(page, "HTML")) <= MAX_TEXT for page in pages)
    assert [body(page) for page in pages] == [row["text"].strip("\n") for row in articles]
    assert "<i>第六章 附则</i>" in pages[-1]


async def test_a_decision_without_articles_reads_as_one_text(world: World) -> None:
    reader = await voter(world, 5083)
    consultation = await open_statute(world, "gengdi_zhanyong_jueding.txt", "《耕地占用税决定》")
    await open_by_button(reader, consultation)
    (row,) = await world.rows(
        "SELECT number, text FROM consultation_articles WHERE consultation_id = ?",
        (consultation,),
    )
    assert row["number"] is None and body(reader.last) == row["text"].strip("\n")
    assert "第四条第二款" in reader.last  # a reference inside a sentence, not a heading
