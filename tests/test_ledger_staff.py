"""/ledger for staff: the list by status, department, class, overdue and 重点督办; a
suggestion's card; the .xlsx read back, every row and column against what was seeded; and
staff's corrections of an answer (an event, the deputy told)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, datetime

import openpyxl

from bot.runtime.buttons.ledger import (
    ClassChosen,
    CorrectClass,
    CorrectSummary,
    LedgerCard,
    LedgerList,
)
from bot.runtime.buttons.suggestion_rating import RateOpen
from bot.services.ledger import LedgerFilter, LedgerStatus
from bot.services.spreadsheets import TIME_FORMAT
from tests.support.ledger_seed import add_answer, events, seed_answered
from tests.support.people import Person
from tests.support.projects import LANGS, alerts, deputy, staff, t
from tests.support.scenarios import shown_day, texts_of
from tests.support.suggestion_seed import (
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

LOCALE = {"zh-hans": "zh_CN", "en": "en"}


@dataclass
class District:
    """Five suggestions ever assigned (and one never), their departments and deputies."""

    ids: list[int]  # s1 … s5, in number order
    transport: int
    city: int
    water: int


async def district(world: World, lang: str) -> District:
    """s1 B, open on the ledger, one commitment overdue, 重点督办, answered, not rated yet;
    s2 B, every commitment done, 满意; s3 re-handled: C then A, 基本满意; s4 assigned and
    past its deadline, unanswered; s5 C, late, no meeting, closed unrated; s6 never assigned."""
    wang = await deputy(world, 6001, lang, "王代表")
    li = await deputy(world, 6002, lang, "李代表")
    zhao = await deputy(world, 6003, lang, "赵代表")
    transport = await seed_department(world, "区交通委员会")
    city = await seed_department(world, "区城市管理委员会")
    water = await seed_department(world, "区水务局")
    await seed_liaison(world, 8001, transport, name="交通委联络员")

    s1 = await seed_answered(
        world,
        wang.id,
        transport,
        [city],
        cosigners=[(li.id, "confirmed"), (zhao.id, "declined")],
        promises=(
            ("在学院路南口站台增设遮雨棚", date(2026, 11, 20)),
            ("增设候车座椅", date(2026, 12, 20)),
        ),
    )
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET priority = 1 WHERE id = ?", (s1.id,))
        await tx.execute(
            "INSERT INTO commitment_updates (commitment_id, text, done, author_id, at)"
            " VALUES (?, '=正在施工，预计月底完工', 0, 8001, '2026-11-24T02:00:00+00:00')",
            (s1.commitments[0],),
        )
    s2 = await seed_answered(
        world,
        zhao.id,
        city,
        title="关于清理知春路积水点的建议",
        category="环境保护",
        promises=(("疏通知春路雨水口", date(2026, 11, 15)),),
        answered_at=datetime(2026, 11, 10, 10, 0, tzinfo=SHANGHAI),
        met_on=None,
    )
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestion_commitments SET done_at = '2026-11-14T08:00:00+00:00' WHERE id = ?",
            (s2.commitments[0],),
        )
        await tx.execute(
            "INSERT INTO commitment_updates (commitment_id, text, done, author_id, at)"
            " VALUES (?, '已疏通', 1, 1, '2026-11-14T08:00:00+00:00')",
            (s2.commitments[0],),
        )
        await tx.execute(
            "UPDATE suggestions SET state = 'closed', rating = 'satisfied',"
            " rated_at = '2026-11-20T02:00:00+00:00', closed_at = '2026-11-20T02:00:00+00:00',"
            " ledger_done_at = '2026-11-14T08:00:00+00:00' WHERE id = ?",
            (s2.id,),
        )
    s3 = await seed_answered(
        world,
        wang.id,
        transport,
        title="关于优化成府路信号灯配时的建议",
        category="交通出行",
        outcome="C",
        promises=(),
        answered_at=datetime(2026, 11, 5, 10, 0, tzinfo=SHANGHAI),
    )
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1 WHERE id = ?", (s3.id,)
        )
    await add_answer(
        world,
        s3.id,
        transport,
        round_no=2,
        outcome="A",
        promises=(),
        answered_at=datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI),
        summary="已调整配时。",
    )
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'closed', rating = 'basically',"
            " rated_at = '2026-11-21T02:00:00+00:00', closed_at = '2026-11-21T02:00:00+00:00'"
            " WHERE id = ?",
            (s3.id,),
        )
    s4 = await seed_suggestion(
        world, wang.id, title="关于增设社区养老驿站的建议", category="民生保障"
    )
    await seed_assignment(world, s4, city, due_at=datetime(2026, 11, 21, 0, 0, tzinfo=SHANGHAI))
    s5 = await seed_answered(
        world,
        zhao.id,
        water,
        title="关于整治万泉河沿线排污口的建议",
        category="环境保护",
        outcome="C",
        promises=(),
        met_on=None,
        on_time=False,
        summary="受资金所限，列入明年研究。",
    )
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'closed', closed_at = ? WHERE id = ?",
            ("2026-11-25T16:00:00+00:00", s5.id),
        )
    await seed_suggestion(world, wang.id, title="关于尚未交办的建议")
    return District([s1.id, s2.id, s3.id, s4, s5.id], transport, city, water)


def rows_of(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[list[object]]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def documents(world: World, chat_id: int) -> list[bytes]:
    return [
        next(iter(call.files.values()))
        for call in world.api.calls_to("sendDocument")
        if int(call.params["chat_id"]) == chat_id
    ]


def truth(person: Person) -> list[list[object]]:
    """The .xlsx's rows, written out from what `district` seeded."""

    def w(key: str, **params: object) -> str:
        return t(person, key, **params)

    yes, no = w("ledger.yes"), w("ledger.no")
    done, not_done = w("ledger.promise_done"), w("ledger.promise_open")
    met_on = datetime(2026, 11, 20)  # a date cell
    assigned = datetime(2026, 11, 2, 9, 0)
    due = datetime(2027, 2, 2)  # three months on: the last day, as a date
    header = [
        w(f"ledger.col_{c}")
        for c in [
            "number",
            "title",
            "lead_deputy",
            "cosigners",
            "category",
            "lead_department",
            "co_departments",
            "assigned",
            "due",
            "answered",
            "on_time",
            "class",
            "met",
            "met_on",
            "rating",
            "rehandled",
            "commitments",
            "next_due",
            "progress",
            "progress_on",
            "priority",
            "status",
            "overdue",
        ]
    ]
    return [
        header,
        [
            "JY2026-0001",
            "关于增设学院路公交站台遮雨棚的建议",
            "王代表",
            "李代表",
            "城市建设",
            "区交通委员会",
            "区城市管理委员会",
            assigned,
            due,
            datetime(2026, 11, 25, 15, 0),
            yes,
            "B 正在解决或列入计划逐步解决",
            yes,
            met_on,
            None,
            no,
            w(
                "ledger.promise_line",
                n=1,
                text="在学院路南口站台增设遮雨棚",
                day=shown_day(person, date(2026, 11, 20)),
                state=not_done,
            )
            + "\n"
            + w(
                "ledger.promise_line",
                n=2,
                text="增设候车座椅",
                day=shown_day(person, date(2026, 12, 20)),
                state=not_done,
            ),
            datetime(2026, 11, 20),  # the next commitment due, a date cell
            "=正在施工，预计月底完工",
            datetime(2026, 11, 24),
            yes,
            w("ledger.status_open"),
            yes,
        ],
        [
            "JY2026-0002",
            "关于清理知春路积水点的建议",
            "赵代表",
            None,
            "环境保护",
            "区城市管理委员会",
            None,
            assigned,
            due,
            datetime(2026, 11, 10, 10, 0),
            yes,
            "B 正在解决或列入计划逐步解决",
            no,
            None,
            w("suggestion.rating.satisfied"),
            no,
            w(
                "ledger.promise_line",
                n=1,
                text="疏通知春路雨水口",
                day=shown_day(person, date(2026, 11, 15)),
                state=done,
            ),
            None,  # every commitment done
            "已疏通",
            datetime(2026, 11, 14),
            no,
            w("ledger.status_done"),
            no,
        ],
        [
            "JY2026-0003",
            "关于优化成府路信号灯配时的建议",
            "王代表",
            None,
            "交通出行",
            "区交通委员会",
            None,
            assigned,
            due,
            datetime(2026, 11, 18, 10, 0),
            yes,
            "A 已解决或基本解决",
            yes,
            met_on,
            w("suggestion.rating.basically"),
            yes,
            None,
            None,
            None,
            None,
            no,
            None,
            no,
        ],
        [
            "JY2026-0004",
            "关于增设社区养老驿站的建议",
            "王代表",
            None,
            "民生保障",
            "区城市管理委员会",
            None,
            assigned,
            datetime(2026, 11, 20),
            None,
            None,
            None,
            None,
            None,
            None,
            no,
            None,
            None,
            None,
            None,
            no,
            None,
            yes,
        ],
        [
            "JY2026-0005",
            "关于整治万泉河沿线排污口的建议",
            "赵代表",
            None,
            "环境保护",
            "区水务局",
            None,
            assigned,
            due,
            datetime(2026, 11, 25, 15, 0),
            no,
            "C 因条件限制留作参考",
            no,
            None,
            w("ledger.unrated"),
            no,
            None,
            None,
            None,
            None,
            no,
            None,
            no,
        ],
    ]


@LANGS
async def test_the_xlsx_holds_every_suggestion_ever_assigned_as_seeded(
    world: World, lang: str
) -> None:
    admin = await staff(world, lang)
    await district(world, lang)
    await admin.send("/ledger")
    await admin.tap(t(admin, "ledger.export"))
    files = documents(world, admin.id)
    assert len(files) == 1
    book = openpyxl.load_workbook(io.BytesIO(files[0]))
    assert book.sheetnames == [t(admin, "ledger.sheet")]
    sheet = book.active
    assert sheet is not None
    assert rows_of(sheet) == truth(admin)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["Q"].width == 50  # the commitments' wide column
    # text typed by people stays text, never a formula
    assert (sheet["S2"].value, sheet["S2"].data_type) == ("=正在施工，预计月底完工", "s")
    assert {sheet.cell(r, 8).number_format for r in range(2, 7)} == {TIME_FORMAT}
    # the deadline, the meeting, the next commitment and the progress: real date cells
    for cell in ("I2", "N2", "R2", "T2"):
        assert (sheet[cell].number_format, sheet[cell].is_date) == ("yyyy-mm-dd", True), cell
    caption = world.api.calls_to("sendDocument")[0].params["caption"]
    assert caption == t(admin, "ledger.caption")


async def test_the_xlsx_of_a_filter_holds_what_the_list_shows(world: World) -> None:
    admin = await staff(world)
    await district(world, "zh-hans")
    ledger = world.services.ledger
    user = await world.services.users.get(admin.id)
    assert user is not None
    texts = world.services.i18n.texts("zh_CN")
    made = await ledger.export(user, LedgerFilter(overdue=True), texts)
    sheet = openpyxl.load_workbook(io.BytesIO(made.data)).active
    assert sheet is not None
    assert [r[0] for r in rows_of(sheet)[1:]] == ["JY2026-0001", "JY2026-0004"]
    assert made.name == "代表建议台账_20261126.xlsx"


def listed(person: Person) -> list[str]:
    """The numbers on the list's item buttons, in order."""
    return [b.split(" ", 1)[0] for b in person.buttons() if b.startswith("JY2026-")]


@LANGS
async def test_the_list_filters_by_status_department_class_overdue_and_priority(
    world: World, lang: str
) -> None:
    admin = await staff(world, lang)
    await district(world, lang)
    await admin.send("/ledger")
    assert admin.last.startswith(t(admin, "ledger.title", total=5, open=1, done=1))
    assert listed(admin) == [f"JY2026-000{n}" for n in (5, 4, 3, 2, 1)]  # newest first
    await admin.tap(t(admin, "ledger.by_status"))  # open on the ledger
    assert listed(admin) == ["JY2026-0001"]
    await admin.tap(t(admin, "ledger.by_status"))  # done
    assert listed(admin) == ["JY2026-0002"]
    await admin.tap(t(admin, "ledger.by_status"))  # all again
    await admin.tap(t(admin, "ledger.by_department"))
    assert admin.last == t(admin, "ledger.ask_department")
    await admin.tap("区城市管理委员会")
    assert listed(admin) == ["JY2026-0004", "JY2026-0002"]
    assert (
        t(
            admin,
            "ledger.filters",
            status=t(admin, "ledger.filter_all"),
            department="区城市管理委员会",
            outcome=t(admin, "ledger.any"),
            overdue=t(admin, "ledger.off"),
            priority=t(admin, "ledger.off"),
        )
        in admin.last
    )
    await admin.tap(t(admin, "ledger.by_department"))
    await admin.tap(t(admin, "ledger.any_department"))
    await admin.tap(t(admin, "ledger.by_class"))  # A
    assert listed(admin) == ["JY2026-0003"]
    await admin.tap(t(admin, "ledger.by_class"))  # B
    assert listed(admin) == ["JY2026-0002", "JY2026-0001"]
    await admin.tap(t(admin, "ledger.by_class"))  # C
    assert listed(admin) == ["JY2026-0005"]
    await admin.tap(t(admin, "ledger.by_class"))  # any
    await admin.tap(t(admin, "ledger.by_overdue"))
    assert listed(admin) == ["JY2026-0004", "JY2026-0001"]
    await admin.tap(t(admin, "ledger.by_priority"))
    assert listed(admin) == ["JY2026-0001"]
    line = t(
        admin,
        "ledger.line",
        n=1,
        number="JY2026-0001",
        title="关于增设学院路公交站台遮雨棚的建议",
        department="区交通委员会",
        state=t(admin, "suggestion.state.answered"),
        outcome="B",
        marks=" · ".join(
            [
                t(admin, "ledger.status_open"),
                t(admin, "ledger.overdue"),
                t(admin, "ledger.priority"),
            ]
        ),
    )
    assert admin.last.endswith("\n\n" + line)


@LANGS
async def test_the_card_shows_the_suggestion_answer_and_commitments(
    world: World, lang: str
) -> None:
    admin = await staff(world, lang)
    place = await district(world, lang)
    await admin.send("/ledger")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("JY2026-0001")))
    texts = texts_of(admin)
    card = admin.last
    for expected in (
        t(
            admin,
            "ledger.card_people",
            deputy="王代表",
            cosigners="李代表",
            category="城市建设",
        ),
        t(admin, "ledger.card_departments", lead="区交通委员会", co="区城市管理委员会"),
        t(  # the answer's deadline as its last day, never "00:00 of the next"
            admin,
            "ledger.card_dates",
            assigned=texts.date(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)),
            due=shown_day(admin, date(2027, 2, 2)),
        ),
        t(
            admin,
            "ledger.card_commitment",
            n=1,
            text="在学院路南口站台增设遮雨棚",
            day=texts.date(datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)),
            state=t(admin, "ledger.overdue"),
        ),
        t(
            admin,
            "ledger.card_progress",
            day=texts.date(datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)),
            text="=正在施工，预计月底完工",
        ),
    ):
        assert expected in card, (expected, card)
    assert admin.buttons()[:5] == [
        t(admin, "ledger.correct_summary"),
        t(admin, "ledger.correct_class"),
        t(admin, "ledger.commitment_button", n=1),
        t(admin, "ledger.commitment_button", n=2),
        t(admin, "ledger.back"),
    ]
    await admin.tap(t(admin, "ledger.back"))
    assert listed(admin)[0] == "JY2026-0005"
    # a suggestion never assigned has no card; a forged one neither
    never = place.ids[-1] + 1
    forged = LedgerCard(
        suggestion=never, status="all", department=0, cls="", overdue=False, priority=False, page=0
    )
    assert alerts(await admin.tap_data(forged.pack())) == [t(admin, "suggestion.unknown")]


@LANGS
async def test_only_staff_see_the_ledger(world: World, lang: str) -> None:
    await staff(world, lang)
    place = await district(world, lang)
    wang = Person(world, 6001, "王代表", lang)
    await wang.send("/ledger")
    assert wang.last == t(wang, "error.forbidden")
    forged = LedgerCard(
        suggestion=place.ids[0],
        status="all",
        department=0,
        cls="",
        overdue=False,
        priority=False,
        page=0,
    )
    assert alerts(await wang.tap_data(forged.pack())) == [t(wang, "error.forbidden")]
    assert alerts(await wang.tap_data("tzl:all:0::0:0:99999999")) == [t(wang, "error.stale_button")]
    assert alerts(await wang.tap_data(CorrectClass(suggestion=place.ids[0]).pack())) == [
        t(wang, "error.forbidden")
    ]


@LANGS
async def test_staff_correct_an_answer_and_the_deputy_is_told(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    place = await district(world, lang)
    s1, s4, s5 = place.ids[0], place.ids[3], place.ids[4]
    wang = Person(world, 6001, "王代表", lang)
    await world.outbox.drain()

    await admin.tap_data(CorrectSummary(suggestion=s1).pack())
    assert await world.conversation_state("answer_correction", admin.id) == "summary"
    await admin.send("答" * 3001)
    assert admin.last == t(admin, "ledger.summary_too_long", maximum=3000, count=3001)
    await admin.send_photo()
    assert admin.last == t(admin, "ledger.text_only")
    await admin.send("经复核，遮雨棚已列入12月施工计划。")
    assert admin.last.startswith(t(admin, "ledger.corrected"))
    assert await world.conversation_state("answer_correction", admin.id) is None
    answer = await world.rows(
        "SELECT summary, outcome_class FROM suggestion_answers WHERE suggestion_id = ?", (s1,)
    )
    assert answer == [{"summary": "经复核，遮雨棚已列入12月施工计划。", "outcome_class": "B"}]
    assert (await events(world, s1))[-1] == (
        "answer_corrected",
        "经复核，遮雨棚已列入12月施工计划。",
    )

    # the class: to A (off the ledger); C→B refused for an answer without commitments
    await admin.tap_data(CorrectClass(suggestion=s1).pack())
    assert admin.buttons()[:3] == [
        "A 已解决或基本解决",
        "C 因条件限制留作参考",
        t(admin, "ledger.cancel"),
    ]
    await admin.tap("A 已解决或基本解决")
    row = (await world.rows("SELECT outcome_class FROM suggestions WHERE id = ?", (s1,)))[0]
    assert row["outcome_class"] == "A"
    assert (await events(world, s1))[-1] == ("answer_corrected", "B → A")
    refused = await admin.tap_data(ClassChosen(suggestion=s5, code="B").pack())
    assert alerts(refused) == [t(admin, "ledger.class_needs_commitments", outcome="B")]
    same = await admin.tap_data(ClassChosen(suggestion=s5, code="C").pack())
    assert alerts(same) == [t(admin, "ledger.class_unchanged", outcome="C")]
    unknown = await admin.tap_data(ClassChosen(suggestion=s5, code="Z").pack())
    assert alerts(unknown) == [t(admin, "error.stale_button")]
    number4 = "JY2026-0004"
    assert alerts(await admin.tap_data(CorrectSummary(suggestion=s4).pack())) == [
        t(admin, "ledger.not_answered", number=number4)
    ]

    await world.outbox.drain()
    told = [o.text for o in world.api.outputs if o.chat_id == wang.id][-2:]
    assert told == [
        t(
            wang,
            "ledger.notice_corrected",
            number="JY2026-0001",
            title="关于增设学院路公交站台遮雨棚的建议",
            what=t(wang, key),
        )
        for key in ("ledger.corrected_summary", "ledger.corrected_class")
    ]


async def test_the_list_pages_eight_at_a_time(world: World) -> None:
    admin = await staff(world)
    wang = await deputy(world, 6001, "zh-hans", "王代表")
    department = await seed_department(world, "区交通委员会")
    for n in range(11):
        suggestion = await seed_suggestion(world, wang.id, title=f"第{n + 1}条建议的标题")
        await seed_assignment(world, suggestion, department)
    await admin.send("/ledger")
    assert listed(admin) == [f"JY2026-{n:04d}" for n in range(11, 3, -1)]
    await admin.tap(t(admin, "nav.next"))
    assert listed(admin) == ["JY2026-0003", "JY2026-0002", "JY2026-0001"]
    assert t(admin, "nav.page", page=2, pages=2) in admin.buttons()
    # a card opened from page 2 goes back to page 2
    await admin.tap(next(b for b in admin.buttons() if b.startswith("JY2026-0002")))
    await admin.tap(t(admin, "ledger.back"))
    assert listed(admin) == ["JY2026-0003", "JY2026-0002", "JY2026-0001"]
    # a page past the end (a stale button) shows the last one, with the counts of them all
    beyond = LedgerList(
        status=LedgerStatus.ALL, department=0, cls="", overdue=False, priority=False, page=500
    )
    await admin.tap_data(beyond.pack())
    assert listed(admin) == ["JY2026-0003", "JY2026-0002", "JY2026-0001"]
    assert admin.last.startswith(t(admin, "ledger.title", total=11, open=0, done=0))


@LANGS
async def test_a_closed_suggestion_keeps_the_departments_that_handled_it(
    world: World, lang: str
) -> None:
    """Closing ends no assignment: the card and the .xlsx show the departments handling it
    when it closed, never a co-handling one a reassignment had replaced."""
    admin = await staff(world, lang)
    wang = await deputy(world, 6001, lang, "王代表")
    transport = await seed_department(world, "区交通委员会")
    city = await seed_department(world, "区城市管理委员会")
    water = await seed_department(world, "区水务局")
    seeded = await seed_answered(world, wang.id, transport, [city], outcome="A", promises=())
    async with world.db.transaction() as tx:  # 区水务局 co-handles instead (a reassignment)
        await tx.execute(
            "UPDATE suggestion_assignments SET state = 'ended'"
            " WHERE suggestion_id = ? AND department_id = ?",
            (seeded.id, city),
        )
        await tx.execute(
            "INSERT INTO suggestion_assignments (suggestion_id, department_id, lead, assigned_at)"
            " VALUES (?, ?, 0, '2026-11-03T01:00:00+00:00')",
            (seeded.id, water),
        )
    await wang.tap_data(RateOpen(suggestion=seeded.id, fresh=True).pack())
    await wang.tap(t(wang, "suggestion.rating.satisfied"))
    await wang.tap(t(wang, "rating.confirm"))
    row = (await world.rows("SELECT state FROM suggestions WHERE id = ?", (seeded.id,)))[0]
    assert row["state"] == "closed"

    await admin.send("/ledger")
    await admin.tap(next(b for b in admin.buttons() if b.startswith("JY2026-0001")))
    departments = t(admin, "ledger.card_departments", lead="区交通委员会", co="区水务局")
    assert departments in admin.last
    await admin.tap(t(admin, "ledger.back"))
    await admin.tap(t(admin, "ledger.export"))
    sheet = openpyxl.load_workbook(io.BytesIO(documents(world, admin.id)[0])).active
    assert sheet is not None
    assert [(r[5], r[6]) for r in rows_of(sheet)[1:]] == [("区交通委员会", "区水务局")]
