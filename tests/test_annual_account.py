"""/account [year]: a deputy's year compiled from the data, as a message and an editable .docx
with six parts, every figure checked against what the test planted; a bad year refused;
nobody but a deputy gets one. In both languages."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

import docx
import pytest
from docx.oxml.ns import qn

from bot.services.account_documents import PLAN_LINES, SECTIONS
from bot.services.account_documents import docx as account_docx
from bot.services.annual_accounts import AnnualAccount
from bot.services.calendar import TURN_LABELS
from storage.db import stamp
from storage.models import TurnKind
from storage.repos.accounts import (
    ContactFigures,
    DeputyFacts,
    OpinionFigures,
    SupervisionFigures,
)
from tests.support.ballots import add_projects
from tests.support.consultation_seed import add_comment, add_user, seed_consultation
from tests.support.people import Person
from tests.support.scenarios import (
    LANGUAGES,
    consented_admin,
    invite_deputy,
    onboard,
    say,
    texts_of,
)
from tests.support.suggestion_seed import (
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

DEPUTY = 301
OTHER_DEPUTY = 302
VOTER = 401
THIS_YEAR = 2026  # the World's clock: 2026-11-26 10:00 in Shanghai


def at(month: int, day: int, hour: int = 9, year: int = THIS_YEAR) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=SHANGHAI)


# --- the seed ----------------------------------------------------------------------------------


async def add_turn(
    world: World, kind: TurnKind, starts: datetime, deputies: list[int], station: int = 1
) -> int:
    async with world.db.transaction() as tx:
        turn_id = await tx.execute(
            "INSERT INTO duty_turns (kind, station_id, starts_at, ends_at, uid, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                kind.value,
                station,
                stamp(starts),
                stamp(starts + timedelta(hours=2)),
                f"{kind.value}-{starts.isoformat()}@test",
                stamp(starts),
            ),
        )
        for deputy in deputies:
            await tx.execute(
                "INSERT INTO duty_turn_deputies (turn_id, deputy_id) VALUES (?, ?)",
                (turn_id, deputy),
            )
    return turn_id


async def add_absence(world: World, turn: int, deputy: int, reason: str) -> None:
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO turn_absences (turn_id, deputy_id, reason, at) VALUES (?, ?, ?, ?)",
            (turn, deputy, reason, stamp(world.clock.now())),
        )


async def add_visit(
    world: World,
    deputy: int,
    day: str,
    voters: int,
    done: str = "",
    *,
    turn: int | None = None,
    deleted: bool = False,
) -> None:
    now = stamp(world.clock.now())
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO visits (deputy_id, kind, visit_date, station_id, turn_id, voters_met,"
            " opinions_received, done_for_voters, created_at, updated_at, deleted_at)"
            " VALUES (?, 'reception', ?, 1, ?, ?, 0, ?, ?, ?, ?)",
            (deputy, day, turn, voters, done, now, now, now if deleted else None),
        )


_numbers = iter(range(1, 10_000))


async def add_opinion(
    world: World,
    created: datetime,
    *,
    holder: int | None,
    author: int = VOTER,
    answered: bool = False,
    satisfaction: str | None = None,
    project: int | None = None,
) -> None:
    status = "closed" if satisfaction else "answered" if answered else "accepted"
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, show_name,"
            " status, created_at, updated_at, holder_id, claimed_at, answered_at, satisfaction,"
            " project_id) VALUES (?, ?, 1, 'other', '路灯不亮', 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                f"HD-T-{next(_numbers):05d}",
                author,
                status,
                stamp(created),
                stamp(created),
                holder,
                stamp(created) if holder else None,
                stamp(created + timedelta(days=3)) if answered else None,
                satisfaction,
                project,
            ),
        )


async def add_ballot(world: World, year: int, purpose: str, voters: dict[int, int]) -> None:
    """A ballot of `year` with who voted (1) or not (0): never how."""
    mode = "each" if purpose == "selection" else "rating"
    async with world.db.transaction() as tx:
        ballot = await tx.execute(
            "INSERT INTO ballots (year, purpose, mode, entitled, opened_at) VALUES (?, ?, ?, ?, ?)",
            (year, purpose, mode, len(voters), stamp(world.clock.now())),
        )
        for user, voted in voters.items():
            await tx.execute(
                "INSERT INTO ballot_voters (ballot_id, user_id, voted) VALUES (?, ?, ?)",
                (ballot, user, voted),
            )


async def answer(
    world: World, suggestion: int, state: str, outcome: str, rating: str | None
) -> None:
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = ?, outcome_class = ?, rating = ?, answered_at = ?"
            " WHERE id = ?",
            (state, outcome, rating, stamp(at(10, 1)), suggestion),
        )


@dataclass
class Truth:
    """What the seed planted, counted by hand."""

    turns: dict[str, int]
    numbers: dict[str, str]  # suggestion key → its number


async def seed_year(world: World) -> Truth:
    """A year of deputy 301 (王芳) among things that must not count: another deputy's turns,
    opinions and suggestions, last year's, deleted visits, withdrawn comments."""
    await add_user(world, OTHER_DEPUTY, role="deputy", name="李明", station_id=1)
    await add_user(world, VOTER, name="选民甲", station_id=1)
    turns = {
        # over, a visit logged: attended
        "t1": await add_turn(world, TurnKind.RECEPTION, at(3, 14), [DEPUTY, OTHER_DEPUTY]),
        # over, nothing logged: attended all the same (no absence recorded)
        "t2": await add_turn(world, TurnKind.RECEPTION, at(4, 11), [DEPUTY]),
        "t3": await add_turn(world, TurnKind.HOME_VISIT, at(6, 20), [DEPUTY]),  # missed
        "t4": await add_turn(world, TurnKind.ANNUAL_ACCOUNT, at(1, 15), [DEPUTY]),
        "t5": await add_turn(world, TurnKind.RECEPTION, at(12, 12), [DEPUTY]),  # to come
        "t6": await add_turn(world, TurnKind.RECEPTION, at(12, 19), [DEPUTY]),  # missed ahead
        "last_year": await add_turn(world, TurnKind.RECEPTION, at(12, 13, year=2025), [DEPUTY]),
        "not_his": await add_turn(world, TurnKind.RECEPTION, at(5, 9), [OTHER_DEPUTY]),
    }
    await add_absence(world, turns["t3"], DEPUTY, "出差在外地")
    await add_absence(world, turns["t6"], DEPUTY, "参加市人代会 <培训>")
    await add_absence(world, turns["t1"], OTHER_DEPUTY, "另有安排")  # not his absence

    await add_visit(world, DEPUTY, "2026-03-14", 12, "协调修好了路灯", turn=turns["t1"])
    await add_visit(world, DEPUTY, "2026-07-02", 30)
    await add_visit(world, DEPUTY, "2026-09-09", 8, "帮助老人办理补贴")
    await add_visit(world, DEPUTY, "2026-09-10", 100, "删除的记录", deleted=True)
    await add_visit(world, DEPUTY, "2025-12-20", 50, "去年的事")
    await add_visit(world, OTHER_DEPUTY, "2026-08-01", 70, "别人的事")

    await add_opinion(world, at(2, 1), holder=DEPUTY, answered=True, satisfaction="satisfied")
    await add_opinion(world, at(3, 1), holder=DEPUTY, answered=True, satisfaction="basically")
    await add_opinion(world, at(4, 1), holder=DEPUTY, answered=True, satisfaction="unsatisfied")
    await add_opinion(world, at(5, 1), holder=DEPUTY, answered=True, satisfaction="not_rated")
    await add_opinion(world, at(6, 1), holder=DEPUTY)  # accepted, not answered yet
    await add_opinion(world, at(11, 20, year=2025), holder=DEPUTY, answered=True)  # last year
    await add_opinion(world, at(6, 2), holder=OTHER_DEPUTY, answered=True)
    project = (await add_projects(world, ["社区食堂"], state="chosen"))[0]
    await add_opinion(world, at(7, 1), holder=None, author=DEPUTY, project=project)  # supervision

    traffic = await seed_department(world, "区交通委")
    city = await seed_department(world, "区城管委")
    led = await seed_suggestion(world, DEPUTY, title="关于增设公交站台遮雨棚的建议", at=at(2, 3))
    await seed_assignment(world, led, traffic, [city], at=at(2, 10))
    await answer(world, led, "closed", "B", "satisfied")
    waiting = await seed_suggestion(
        world, DEPUTY, title="关于整治学院路占道经营的建议", at=at(9, 3)
    )
    cosigned = await seed_suggestion(
        world,
        OTHER_DEPUTY,
        title="关于加装老旧小区电梯的建议",
        cosigners=[(DEPUTY, "confirmed")],
        at=at(4, 3),
    )
    await seed_assignment(world, cosigned, city, at=at(4, 10))
    await answer(world, cosigned, "answered", "A", None)
    await seed_suggestion(world, OTHER_DEPUTY, title="婉拒的联名", cosigners=[(DEPUTY, "declined")])
    await seed_suggestion(
        world, OTHER_DEPUTY, title="未确认的联名", cosigners=[(DEPUTY, "invited")]
    )
    await seed_suggestion(world, DEPUTY, title="去年的建议", at=at(11, 3, year=2025))
    numbers = {
        key: str(
            (await world.rows("SELECT number FROM suggestions WHERE id = ?", (sid,)))[0]["number"]
        )
        for key, sid in (("led", led), ("waiting", waiting), ("cosigned", cosigned))
    }

    rural = await seed_consultation(world, title="《北京市乡村振兴促进条例（草案）》")
    estate = await seed_consultation(world, title="《北京市物业管理条例（修订草案）》")
    await add_comment(world, rural.id, DEPUTY, "deputy", article=0, text="建议细化")
    await add_comment(world, rural.id, DEPUTY, "deputy", text="总体赞成")
    await add_comment(world, rural.id, DEPUTY, "deputy", text="撤回了", withdrawn=True)
    await add_comment(world, estate.id, DEPUTY, "deputy", article=1, text="物业费公开")
    await add_comment(world, estate.id, OTHER_DEPUTY, "deputy", text="别人的意见")

    await add_ballot(world, 2026, "selection", {DEPUTY: 1, OTHER_DEPUTY: 1})
    await add_ballot(world, 2026, "rating", {DEPUTY: 0, OTHER_DEPUTY: 1})
    await add_ballot(world, 2025, "rating", {DEPUTY: 1})
    return Truth(turns, numbers)


async def the_deputy(world: World, person: Callable[..., Person], code: str = "zh-hans") -> Person:
    staff = await consented_admin(world)
    return await invite_deputy(world, staff, person, DEPUTY, "王芳", language_code=code)


def documents(world: World, chat_id: int) -> list[bytes]:
    return [
        next(iter(call.files.values()))
        for call in world.api.calls_to("sendDocument")
        if int(call.params["chat_id"]) == chat_id
    ]


# --- the account -------------------------------------------------------------------------------


def expected_lines(deputy: Person, truth: Truth) -> dict[str, list[str]]:
    """Every figure of the seed as the deputy reads it, part by part."""
    t = texts_of(deputy)
    sug = say(deputy, "suggestion.state.closed")
    return {
        "meetings": [
            say(deputy, "account.attended", count=3, reception=2, home=0, account=1),
            say(deputy, "account.missed_head", count=2),
            say(deputy, "account.coming", count=1),
        ],
        "contact": [
            say(deputy, "account.contact_visits", visits=3, voters=50, done=2),
            say(
                deputy,
                "account.contact_opinions",
                received=5,
                answered=4,
                rated=3,
                satisfied=1,
                basically=1,
                unsatisfied=1,
            ),
        ],
        "suggestions": [say(deputy, "account.suggestions_count", led=2, cosigned=1)],
        "supervision": [
            say(deputy, "account.comments", count=3, consultations=2),
            say(
                deputy,
                "account.comments_on",
                titles="《北京市乡村振兴促进条例（草案）》、《北京市物业管理条例（修订草案）》",
            ),
            say(deputy, "account.ballots", selection=1, rating=0),
            say(deputy, "account.project_opinions", count=1),
        ],
        "missed": [
            say(
                deputy,
                "account.missed_line",
                date=t.date(at(6, 20)),
                kind=say(deputy, TURN_LABELS[TurnKind.HOME_VISIT]),
                station="学院路第一联络站",
                reason="出差在外地",
            ),
            say(
                deputy,
                "account.missed_line",
                date=t.date(at(12, 19)),
                kind=say(deputy, TURN_LABELS[TurnKind.RECEPTION]),
                station="学院路第一联络站",
                reason="参加市人代会 <培训>",
            ),
        ],
        "led": [
            say(
                deputy,
                "account.suggestion_line",
                number=truth.numbers["led"],
                title="关于增设公交站台遮雨棚的建议",
                role=say(deputy, "account.role_lead"),
                details=say(deputy, "account.detail_separator").join(
                    [
                        sug,
                        say(deputy, "account.lead_department", department="区交通委"),
                        say(deputy, "account.outcome", outcome="B 正在解决或列入计划逐步解决"),
                        say(deputy, "suggestion.rating.satisfied"),
                    ]
                ),
            )
        ],
    }


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_the_account_message_holds_every_figure_of_the_year(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await the_deputy(world, person, code)
    truth = await seed_year(world)

    await deputy.send("/account")

    messages = [o for o in deputy.seen if o.kind == "message"][-1:]
    text = messages[0].text
    assert len(text) <= 4096
    title = say(deputy, "account.title", name="王芳", year=2026)
    assert text.startswith(say(deputy, "account.message_title", title=title))
    # not over yet: the figures say when they were read
    t = texts_of(deputy)
    assert say(deputy, "account.as_of", date=t.datetime(world.clock.now())) in text
    headings = [say(deputy, "account.section_head", section=say(deputy, s)) for s in SECTIONS]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)  # the six parts, in order
    expected = expected_lines(deputy, truth)
    for part in ("meetings", "contact", "suggestions", "supervision", "missed", "led"):
        for line in expected[part]:
            assert escape(line, quote=False) in text, (part, line)
    for key in ("waiting", "cosigned"):
        assert truth.numbers[key] in text
    for absent in ("婉拒的联名", "未确认的联名", "去年的建议", "撤回了", "别人的"):
        assert absent not in text
    assert (
        say(deputy, "account.fact_station", street="学院路街道", station="学院路第一联络站") in text
    )
    assert messages[0].buttons() == [say(deputy, "account.turns_button", year=2026)]
    # the editable file follows, with its caption
    caption = [o.text for o in deputy.seen if o.kind == "document"]
    assert caption == [say(deputy, "account.file_caption", name="王芳", year=2026)]


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_the_docx_has_the_six_parts_every_figure_and_part_six_empty(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await the_deputy(world, person, code)
    truth = await seed_year(world)

    await deputy.send("/account 2026")

    files = documents(world, deputy.id)
    assert len(files) == 1
    document = docx.Document(io.BytesIO(files[0]))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    headings = [text for style, text in paragraphs if style == "Heading 1"]
    assert headings == [say(deputy, s) for s in SECTIONS]
    assert paragraphs[0] == ("Title", say(deputy, "account.title", name="王芳", year=2026))
    texts = [text for _, text in paragraphs]
    expected = expected_lines(deputy, truth)
    for part in ("meetings", "contact", "suggestions", "supervision"):
        for line in expected[part]:
            assert line in texts, (part, line)
    assert say(deputy, "account.fact_name", name="王芳") in texts
    t = texts_of(deputy)
    assert say(deputy, "account.done_line", number=1, text="协调修好了路灯") in texts
    assert say(deputy, "account.done_line", number=2, text="帮助老人办理补贴") in texts
    # part 6 is a heading and empty lines for the deputy to write
    last = texts.index(say(deputy, SECTIONS[5]))
    assert texts[last + 1 :] == [""] * PLAN_LINES

    missed, suggestions = document.tables
    rows = [[c.text for c in row.cells] for row in missed.rows]
    assert rows[1:] == [
        [t.date(at(6, 20)), say(deputy, TURN_LABELS[TurnKind.HOME_VISIT]), "学院路第一联络站",
         "出差在外地"],
        [t.date(at(12, 19)), say(deputy, TURN_LABELS[TurnKind.RECEPTION]), "学院路第一联络站",
         "参加市人代会 <培训>"],
    ]  # fmt: skip
    rows = [[c.text for c in row.cells] for row in suggestions.rows]
    lead, cosigner = say(deputy, "account.role_lead"), say(deputy, "account.role_cosigner")
    assert rows[1:] == [
        [truth.numbers["led"], "关于增设公交站台遮雨棚的建议", lead,
         say(deputy, "suggestion.state.closed"), "区交通委", "B 正在解决或列入计划逐步解决",
         say(deputy, "suggestion.rating.satisfied")],
        [truth.numbers["cosigned"], "关于加装老旧小区电梯的建议", cosigner,
         say(deputy, "suggestion.state.answered"), "区城管委", "A 已解决或基本解决", ""],
        [truth.numbers["waiting"], "关于整治学院路占道经营的建议", lead,
         say(deputy, "suggestion.state.submitted"), "", "", ""],
    ]  # fmt: skip
    # Chinese renders in a Chinese face: the East Asian fonts of body and headings are set
    fonts = {n: document.styles[n].element.rPr.rFonts for n in ("Normal", "Heading 1")}
    assert fonts["Normal"].get(qn("w:eastAsia")) == "宋体"
    assert fonts["Heading 1"].get(qn("w:eastAsia")) == "黑体"


async def test_a_past_year_is_complete_and_counts_only_itself(
    world: World, person: Callable[..., Person]
) -> None:
    deputy = await the_deputy(world, person)
    await seed_year(world)

    await deputy.send("/account 2025年")

    text = [o.text for o in deputy.seen if o.kind == "message"][-1]
    assert say(deputy, "account.title", name="王芳", year=2025) in text
    assert "截至" not in text  # the year is over: no "as of"
    assert say(deputy, "account.attended", count=1, reception=1, home=0, account=0) in text
    assert say(deputy, "account.contact_visits", visits=1, voters=50, done=1) in text
    assert say(deputy, "account.ballots", selection=0, rating=1) in text
    assert say(deputy, "account.suggestions_count", led=1, cosigned=0) in text


async def test_a_long_year_is_summarized_within_one_message_and_whole_in_the_file(
    world: World, person: Callable[..., Person]
) -> None:
    deputy = await the_deputy(world, person)
    for month in range(1, 12):
        for day in (3, 17):
            turn = await add_turn(world, TurnKind.RECEPTION, at(month, day), [DEPUTY])
            await add_absence(world, turn, DEPUTY, "因公出差，" * 30)
    for n in range(40):
        await seed_suggestion(
            world, DEPUTY, title=f"关于第{n + 1}项民生问题的建议" * 5, at=at(3, 1)
        )
    titles = [f"《北京市第{n + 1}部条例（草案）》" + "征求意见稿" * 30 for n in range(8)]
    for title in titles:
        draft = await seed_consultation(world, title=title)
        await add_comment(world, draft.id, DEPUTY, "deputy", text="同意")

    await deputy.send("/account")

    messages = [o.text for o in deputy.seen if o.kind == "message"]
    assert all(len(m) <= 4096 for m in messages)
    whole = "\n".join(messages)
    assert say(deputy, "account.more_in_file", count=22 - 10) in whole
    assert say(deputy, "account.more_in_file", count=40 - 10) in whole
    assert say(deputy, "account.comments_on", titles="、".join(titles[:5])) in whole
    assert say(deputy, "account.more_in_file", count=8 - 5) in whole
    document = docx.Document(io.BytesIO(documents(world, deputy.id)[0]))
    lines = [p.text for p in document.paragraphs]
    assert say(deputy, "account.comments_on", titles="、".join(titles)) in lines
    missed, suggestions = document.tables
    assert len(missed.rows) == 1 + 22
    assert len(suggestions.rows) == 1 + 40


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_suggestion_takes_the_classes_of_the_year_it_was_first_assigned(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    """Sent in December 2025, first assigned (交办) in January 2026: its answer's class is
    worded as staff set 2026's classes, in the account of 2025 too."""
    deputy = await the_deputy(world, person, code)
    traffic = await seed_department(world, "区交通委")
    async with world.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO outcome_classes (year, code, label, position, counts_as_progress,"
            " ledger) VALUES (2026, ?, ?, ?, 1, ?)",
            [("A", "已办结", 0, 0), ("B", "列入年度计划", 1, 1)],
        )
    late = await seed_suggestion(
        world, DEPUTY, title="关于跨年交办的建议", at=at(12, 20, year=2025)
    )
    await seed_assignment(world, late, traffic, at=at(1, 6))
    await answer(world, late, "answered", "B", None)

    await deputy.send("/account 2025")

    text = [o.text for o in deputy.seen if o.kind == "message"][-1]
    assert say(deputy, "account.outcome", outcome="B 列入年度计划") in text
    assert "正在解决" not in text  # not 2025's default wording
    document = docx.Document(io.BytesIO(documents(world, deputy.id)[0]))
    rows = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert rows[1][5] == "B 列入年度计划"


async def test_the_docx_tables_have_their_widths_and_a_header_on_every_page(
    world: World, person: Callable[..., Person]
) -> None:
    """Read back with python-docx: each table's columns as wide as their content needs (the
    title and the reason wide, a role narrow), within the page, each cell as wide as its
    column, and only the header row repeated at the top of each page."""
    deputy = await the_deputy(world, person)
    await seed_year(world)
    await deputy.send("/account 2026")
    document = docx.Document(io.BytesIO(documents(world, deputy.id)[0]))
    missed, suggestions = document.tables
    for table, wide, narrow in ((suggestions, 1, 2), (missed, 3, 0)):
        grid = table._tbl.tblGrid.findall(qn("w:gridCol"))
        widths = [int(column.get(qn("w:w"))) for column in grid]
        assert widths[wide] >= 2 * widths[narrow]
        assert sum(widths) <= 8640  # between the default template's margins
        for row in table.rows:
            cells = [int(c._tc.tcPr.find(qn("w:tcW")).get(qn("w:w"))) for c in row.cells]
            assert cells == widths
        repeated = [
            row._tr.trPr is not None and row._tr.trPr.find(qn("w:tblHeader")) is not None
            for row in table.rows
        ]
        assert repeated == [True] + [False] * (len(table.rows) - 1)


async def test_characters_no_xml_can_hold_are_left_out_of_the_docx(world: World) -> None:
    """A control character or half of a character (a lone surrogate) never makes the .docx
    unreadable: they are dropped, the rest stays."""
    texts = world.services.i18n.texts("zh_CN")
    account = AnnualAccount(
        deputy=DeputyFacts(
            user_id=DEPUTY,
            name="王\ud83d芳\x07",
            station_id=1,
            station_name="学院路\udc00第一联络站",
            street_name="学院路街道",
            joined_at=at(1, 5),
        ),
        year=2026,
        made_at=world.clock.now(),
        complete=False,
        turns=[],
        contact=ContactFigures(),
        opinions=OpinionFigures(),
        suggestions=[],
        outcomes={},
        supervision=SupervisionFigures(),
    )
    document = docx.Document(io.BytesIO(account_docx(account, texts)))
    lines = [p.text for p in document.paragraphs]
    assert lines[0] == texts("account.title", name="王芳", year=2026)
    assert texts("account.fact_station", street="学院路街道", station="学院路第一联络站") in lines


# --- bad input and the wrong people ------------------------------------------------------------


@pytest.mark.parametrize("code, locale", LANGUAGES)
@pytest.mark.parametrize(
    "typed, key, params",
    [
        ("abc", "account.year_not_number", {"example": 2026}),
        ("20２6x", "account.year_not_number", {"example": 2026}),
        ("-2025", "account.year_not_number", {"example": 2026}),
        ("1999", "account.year_too_early", {"earliest": 2000}),
        ("2027", "account.year_in_future", {"year": 2027, "current": 2026}),
        ("999999", "account.year_in_future", {"year": 999999, "current": 2026}),
    ],
)
async def test_a_bad_year_is_refused(
    world: World,
    person: Callable[..., Person],
    code: str,
    locale: str,
    typed: str,
    key: str,
    params: dict[str, object],
) -> None:
    deputy = await the_deputy(world, person, code)

    await deputy.send(f"/account {typed}")

    assert deputy.last == say(deputy, key, **params)
    assert documents(world, deputy.id) == []


async def test_full_width_digits_name_the_year(world: World, person: Callable[..., Person]) -> None:
    deputy = await the_deputy(world, person)
    await deputy.send("/account ２０２５")
    assert say(deputy, "account.title", name="王芳", year=2025) in deputy.seen[-2].text


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_only_a_deputy_gets_an_account(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    voter = person(501, "选民", code)
    await onboard(voter)
    staff = await consented_admin(world, code)
    department = await seed_department(world, "区交通委")
    await seed_liaison(world, 601, department, name="联络员", locale=locale)
    liaison = person(601, "联络员", code)

    for someone in (voter, staff, liaison):
        await someone.send("/account")
        assert someone.last == say(someone, "error.forbidden"), someone.id
    assert documents(world, voter.id) == documents(world, staff.id) == []
