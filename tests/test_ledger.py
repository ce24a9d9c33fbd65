"""The ledger's commitments (loop step 7): on each commitment's date the department's liaison
is asked for a written progress update, staff are alerted when none follows, "cannot be
done" is an explanation staff see, and the last commitment done takes the suggestion off the
ledger, the deputy and the voters told. Every reminder and alert goes once; every bad input
and forged button is refused."""

from __future__ import annotations

import json
from datetime import date, datetime

from bot.runtime.buttons.ledger import (
    ClassChosen,
    CommitmentOpen,
    CommitmentOutcome,
    CommitmentWrite,
)
from bot.services.ledger import LedgerFilter, UpdateOutcome
from tests.support.ledger_seed import (
    Answered,
    add_answer,
    departments,
    events,
    lead_deputy,
    queued,
    seed_answered,
    suggestion_row,
)
from tests.support.opinions import send_quick_opinion, voter_with_station
from tests.support.people import Person
from tests.support.projects import LANGS, alerts, staff, t
from tests.support.scenarios import shown_day, texts_of
from tests.support.world import SHANGHAI, World

TITLE = "关于增设学院路公交站台遮雨棚的建议"
FIRST, SECOND = "在学院路南口站台增设遮雨棚", "增设候车座椅"
UPDATE = "遮雨棚已于12月8日<安装>完成 & 验收。"


def at(day: int, hour: int = 0, minute: int = 5) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=SHANGHAI)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def head(person: Person, number: str, state: str = "closed") -> str:
    return t(
        person,
        "suggestion.head",
        number=number,
        title=TITLE,
        state=t(person, f"suggestion.state.{state}"),
    )


def commitment_view(
    person: Person,
    number: str,
    text: str,
    day: date,
    *,
    done: bool = False,
    updates: tuple[tuple[datetime, str, bool], ...] = (),
) -> str:
    lines = [
        head(person, number),
        t(
            person,
            "ledger.commitment",
            department="区交通委员会",
            text=text,
            day=shown_day(person, day),
            state=t(person, "ledger.promise_done" if done else "ledger.promise_open"),
        ),
    ]
    if updates:
        lines.append(t(person, "ledger.updates"))
    for when, said, was_done in updates:
        lines.append(
            t(
                person,
                "ledger.update_line",
                day=texts_of(person).date(when),
                text=escaped(said),
                done=t(person, "ledger.update_done") if was_done else "",
            )
        )
    return "\n".join(lines)


async def rated(world: World, seeded: Answered) -> None:
    """满意 given, as step 6 leaves it: the commitments live on in the ledger."""
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'closed', rating = 'satisfied', rated_at = ?,"
            " closed_at = ? WHERE id = ?",
            (world.clock.now().isoformat(), world.clock.now().isoformat(), seeded.id),
        )


async def post(person: Person, text: str, outcome: str) -> None:
    """From the commitment's view: write an update and say what it is."""
    await person.tap(t(person, "ledger.write_update"))
    await person.send(text)
    await person.tap(t(person, outcome))


@LANGS
async def test_each_commitment_is_asked_about_on_its_date_and_the_last_done_tells_all(
    world: World, lang: str
) -> None:
    """Loop step 7: commitment done, and the voters told."""
    await staff(world, lang)
    lead = await lead_deputy(world, lang)
    voter = await voter_with_station(world, 2001, lang)
    await send_quick_opinion(voter)
    d = await departments(world, lang)
    seeded = await seed_answered(world, lead.id, d.lead, [d.co], opinion_ids=[1])
    await rated(world, seeded)
    number = (await suggestion_row(world, seeded.id))["number"]
    liaison = d.lead_liaison
    ledger = world.services.ledger

    world.clock.set(at(9, 10))
    assert await ledger.run_due() == 0
    world.clock.set(at(10))
    assert await ledger.run_due() == 1  # the lead department's one liaison
    assert await ledger.run_due() == 0  # once
    rows = await queued(world, "ledger.notice_commitment_due")
    assert [r["chat_id"] for r in rows] == [liaison.id]  # not the co-handling department
    assert datetime.fromisoformat(rows[0]["not_before"]) == at(10, 7, 0)  # after the night
    assert json.loads(rows[0]["buttons"]) == [
        [
            {
                "label": "ledger.update_button",
                "intent": "commitment_update",
                "target": seeded.commitments[0],
                "choice": "",
            }
        ]
    ]
    world.clock.set(at(10, 9, 0))
    await world.outbox.drain()
    assert liaison.seen == []
    notice = [o for o in world.api.outputs if o.chat_id == liaison.id]
    assert [o.text for o in notice] == [
        t(
            liaison,
            "ledger.notice_commitment_due",
            number=number,
            title=TITLE,
            commitment=FIRST,
            due_on=shown_day(liaison, date(2026, 12, 10)),  # in the reader's locale
        )
    ]

    await liaison.tap(t(liaison, "ledger.update_button"))
    assert liaison.last == commitment_view(liaison, number, FIRST, date(2026, 12, 10))
    await liaison.tap(t(liaison, "ledger.write_update"))
    assert await world.conversation_state("commitment_update", liaison.id) == "write"
    assert liaison.last == t(liaison, "ledger.ask_update", text=FIRST, minimum=5, maximum=1000)
    await liaison.send(UPDATE)
    assert liaison.last == t(liaison, "ledger.ask_outcome", update=escaped(UPDATE))
    assert liaison.buttons()[:4] == [
        t(liaison, "ledger.outcome_done"),
        t(liaison, "ledger.outcome_open"),
        t(liaison, "ledger.outcome_blocked"),
        t(liaison, "ledger.cancel"),
    ]
    assert await world.rows("SELECT * FROM commitment_updates") == []  # nothing before the outcome
    await liaison.tap(t(liaison, "ledger.outcome_done"))
    done_at = world.clock.now()
    assert liaison.last == "\n\n".join(
        [
            t(liaison, "ledger.posted_done"),
            commitment_view(
                liaison,
                number,
                FIRST,
                date(2026, 12, 10),
                done=True,
                updates=((done_at, UPDATE, True),),
            ),
        ]
    )
    assert await world.conversation_state("commitment_update", liaison.id) is None
    updates = await world.rows(
        "SELECT commitment_id, text, done, author_id FROM commitment_updates"
    )
    assert updates == [
        {"commitment_id": seeded.commitments[0], "text": UPDATE, "done": 1, "author_id": liaison.id}
    ]
    commitment = (
        await world.rows(
            "SELECT done_at FROM suggestion_commitments WHERE id = ?", (seeded.commitments[0],)
        )
    )[0]
    assert datetime.fromisoformat(commitment["done_at"]) == done_at
    assert (await suggestion_row(world, seeded.id))["ledger_done_at"] is None
    assert (await events(world, seeded.id))[-1] == ("commitment_done", FIRST)
    await world.outbox.drain()
    assert not [o for o in world.api.outputs if o.chat_id == voter.id and "<b>" + number in o.text]

    # the second, on its date: the last one done takes the suggestion off the ledger
    world.clock.set(at(20))
    assert await ledger.run_due() == 1
    world.clock.set(at(20, 10, 0))
    await world.outbox.drain()
    await liaison.tap(t(liaison, "ledger.update_button"))
    assert liaison.last == commitment_view(liaison, number, SECOND, date(2026, 12, 20))
    await post(liaison, "座椅已安装。", "ledger.outcome_done")
    assert liaison.last.startswith(
        t(liaison, "ledger.posted_done") + "\n\n" + t(liaison, "ledger.all_done")
    )
    row = await suggestion_row(world, seeded.id)
    assert datetime.fromisoformat(row["ledger_done_at"]) == world.clock.now()
    assert [kind for kind, _ in await events(world, seeded.id)][-2:] == [
        "commitment_done",
        "ledger_done",
    ]
    await world.outbox.drain()
    assert [o.text for o in world.api.outputs if o.chat_id == lead.id][-1] == t(
        lead, "ledger.notice_done_deputy", number=number, title=TITLE
    )
    voter_notices = [o.text for o in world.api.outputs if o.chat_id == voter.id]
    assert voter_notices[-1] == t(voter, "ledger.notice_done_voters", number=number, title=TITLE)
    # nothing more is asked of a suggestion off the ledger
    world.clock.set(at(31))
    assert await ledger.run_due() == 0


async def test_staff_are_alerted_once_when_no_update_follows_the_reminder(world: World) -> None:
    admin = await staff(world)
    lead = await lead_deputy(world)
    d = await departments(world)
    seeded = await seed_answered(world, lead.id, d.lead)
    number = (await suggestion_row(world, seeded.id))["number"]
    ledger = world.services.ledger
    world.clock.set(at(10))
    assert await ledger.run_due() == 1
    world.clock.set(at(17, 0, 4))  # a minute short of seven days
    assert await ledger.run_due() == 0
    world.clock.set(at(17, 0, 5))
    assert await ledger.run_due() == 1  # the one staff member
    assert await ledger.run_due() == 0  # once
    rows = await queued(world, "ledger.notice_commitment_silent")
    assert [r["chat_id"] for r in rows] == [admin.id]
    world.clock.set(at(17, 9, 0))
    await world.outbox.drain()
    alert = [o for o in world.api.outputs if o.chat_id == admin.id][-1]
    assert alert.text == t(
        admin,
        "ledger.notice_commitment_silent",
        number=number,
        title=TITLE,
        department="区交通委员会",
        commitment=FIRST,
        due_on=shown_day(admin, date(2026, 12, 10)),
        days=7,
    )
    # staff post the update for the department from the alert
    await admin.tap(t(admin, "ledger.open_commitment_button"))
    assert admin.last.startswith(head(admin, number, "answered"))
    await post(admin, "已电话督促，预计下周完成。", "ledger.outcome_open")
    assert admin.last.startswith(t(admin, "ledger.posted_open"))
    assert (await events(world, seeded.id))[-1] == (
        "commitment_update",
        "已电话督促，预计下周完成。",
    )

    # the second commitment got an update after its reminder: no alert
    world.clock.set(at(20))
    assert await ledger.run_due() == 1
    world.clock.set(at(21, 10, 0))
    await world.outbox.drain()
    await d.lead_liaison.tap_data(CommitmentOpen(commitment=seeded.commitments[1]).pack())
    await post(d.lead_liaison, "座椅已订购，正在安装。", "ledger.outcome_open")
    world.clock.set(at(28))
    assert await ledger.run_due() == 0
    assert len(await queued(world, "ledger.notice_commitment_silent")) == 1


async def test_a_department_without_the_bot_is_asked_through_staff(world: World) -> None:
    admin = await staff(world)
    lead = await lead_deputy(world)
    async with world.db.transaction() as tx:
        nobody = await tx.execute(
            "INSERT INTO departments (name, created_at) VALUES ('区水务局', ?)",
            (world.clock.now().isoformat(),),
        )
    await seed_answered(world, lead.id, nobody, promises=(("疏通雨水管网", date(2026, 12, 10)),))
    world.clock.set(at(10))
    assert await world.services.ledger.run_due() == 1
    assert [r["chat_id"] for r in await queued(world, "ledger.notice_commitment_due")] == [admin.id]


@LANGS
async def test_cannot_be_done_is_an_explanation_staff_see_and_it_stays_open(
    world: World, lang: str
) -> None:
    admin = await staff(world, lang)
    lead = await lead_deputy(world, lang)
    d = await departments(world, lang)
    seeded = await seed_answered(world, lead.id, d.lead)
    number = (await suggestion_row(world, seeded.id))["number"]
    liaison = d.lead_liaison
    await liaison.send("/start")
    explanation = "该路段地下管线密集，不具备安装条件，已向代表说明。"
    await liaison.tap_data(CommitmentOpen(commitment=seeded.commitments[0]).pack())
    await post(liaison, explanation, "ledger.outcome_blocked")
    assert liaison.last.startswith(t(liaison, "ledger.posted_blocked"))
    commitment = (
        await world.rows(
            "SELECT done_at FROM suggestion_commitments WHERE id = ?", (seeded.commitments[0],)
        )
    )[0]
    assert commitment["done_at"] is None
    assert (await suggestion_row(world, seeded.id))["ledger_done_at"] is None
    assert (await events(world, seeded.id))[-1] == ("commitment_blocked", explanation)
    await world.outbox.drain()
    notice = [o for o in world.api.outputs if o.chat_id == admin.id][-1]
    assert notice.text == t(
        admin,
        "ledger.notice_blocked",
        number=number,
        title=TITLE,
        department="区交通委员会",
        commitment=FIRST,
        explanation=explanation,
    )
    assert notice.buttons() == [t(admin, "ledger.open_commitment_button")]


@LANGS
async def test_progress_updates_refused_where_they_must_be(world: World, lang: str) -> None:
    await staff(world, lang)
    lead = await lead_deputy(world, lang)
    voter = await voter_with_station(world, 2001, lang)
    d = await departments(world, lang)
    seeded = await seed_answered(world, lead.id, d.lead, [d.co])
    first = seeded.commitments[0]
    number = (await suggestion_row(world, seeded.id))["number"]
    liaison, other = d.lead_liaison, d.co_liaison
    for person in (liaison, other):
        await person.send("/start")

    # the co-handling department's liaison (a forged button), a deputy, a voter
    assert alerts(await other.tap_data(CommitmentOpen(commitment=first).pack())) == [
        t(other, "ledger.not_your_commitment")
    ]
    assert alerts(await other.tap_data(CommitmentWrite(commitment=first).pack())) == [
        t(other, "ledger.not_your_commitment")
    ]
    assert await world.conversation_state("commitment_update", other.id) is None
    for person in (lead, voter):
        assert alerts(await person.tap_data(CommitmentOpen(commitment=first).pack())) == [
            t(person, "error.forbidden")
        ]
    assert alerts(await liaison.tap_data(CommitmentOpen(commitment=99).pack())) == [
        t(liaison, "ledger.commitment_unknown")
    ]
    assert alerts(await liaison.tap_data("tzo:1:finished")) == [t(liaison, "error.stale_button")]
    # an outcome with nothing written
    outcome = CommitmentOutcome(commitment=first, outcome=UpdateOutcome.DONE).pack()
    assert alerts(await liaison.tap_data(outcome)) == [t(liaison, "ledger.no_draft")]

    await liaison.tap_data(CommitmentOpen(commitment=first).pack())
    await liaison.tap(t(liaison, "ledger.write_update"))
    await liaison.send("好")
    assert liaison.last == t(liaison, "ledger.update_too_short", minimum=5, count=1)
    await liaison.send("进" * 1001)
    assert liaison.last == t(liaison, "ledger.update_too_long", maximum=1000, count=1001)
    await liaison.send_photo()
    assert liaison.last == t(liaison, "ledger.text_only")
    await liaison.send("/assigned")
    assert liaison.last == t(liaison, "ledger.in_progress")
    assert await world.conversation_state("commitment_update", liaison.id) == "write"
    await liaison.send("已完成方案设计。")
    await liaison.send_photo()
    assert liaison.last == t(liaison, "ledger.use_buttons")
    await liaison.send("已完成方案设计和招标。")  # replaces what was written
    await liaison.tap(t(liaison, "ledger.outcome_done"))
    assert (await world.rows("SELECT text FROM commitment_updates")) == [
        {"text": "已完成方案设计和招标。"}
    ]
    # done: a replayed outcome and another update are refused
    assert alerts(await liaison.tap_data(outcome)) == [t(liaison, "ledger.commitment_done")]
    assert alerts(await liaison.tap_data(CommitmentWrite(commitment=first).pack())) == [
        t(liaison, "ledger.commitment_done")
    ]
    # /cancel leaves no update
    await liaison.tap_data(CommitmentOpen(commitment=seeded.commitments[1]).pack())
    await liaison.tap(t(liaison, "ledger.write_update"))
    await liaison.send("/cancel")
    assert liaison.last == t(liaison, "ledger.cancelled")
    assert len(await world.rows("SELECT id FROM commitment_updates")) == 1

    # answered again after re-handling: the first answer's commitments are replaced
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1 WHERE id = ?",
            (seeded.id,),
        )
    await add_answer(world, seeded.id, d.lead, round_no=2)
    replaced = CommitmentOpen(commitment=seeded.commitments[1]).pack()
    assert alerts(await liaison.tap_data(replaced)) == [
        t(liaison, "ledger.commitment_replaced", number=number)
    ]
    assert len(await world.rows("SELECT id FROM commitment_updates")) == 1


@LANGS
async def test_round_one_commitments_wait_while_the_suggestion_is_handled_again(
    world: World, lang: str
) -> None:
    """Re-handling asked while the department writes an update: the first answer's
    commitments take none (done, they would take it off the ledger before round 2), and the
    sweep asks about none of them."""
    await staff(world, lang)
    lead = await lead_deputy(world, lang)
    d = await departments(world, lang)
    seeded = await seed_answered(world, lead.id, d.lead)
    first = seeded.commitments[0]
    number = (await suggestion_row(world, seeded.id))["number"]
    liaison = d.lead_liaison
    await liaison.send("/start")
    await liaison.tap_data(CommitmentOpen(commitment=first).pack())
    await liaison.tap(t(liaison, "ledger.write_update"))
    await liaison.send("遮雨棚已安装完成。")
    async with world.db.transaction() as tx:  # the deputy asks for re-handling meanwhile
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1 WHERE id = ?",
            (seeded.id,),
        )
    refusal = t(liaison, "ledger.commitment_rehandling", number=number)
    assert alerts(await liaison.tap(t(liaison, "ledger.outcome_done"))) == [refusal]
    assert await world.conversation_state("commitment_update", liaison.id) is None
    assert await world.rows("SELECT id FROM commitment_updates") == []
    done = await world.rows("SELECT done_at FROM suggestion_commitments WHERE id = ?", (first,))
    assert done == [{"done_at": None}]
    assert (await suggestion_row(world, seeded.id))["ledger_done_at"] is None
    for button in (CommitmentOpen(commitment=first), CommitmentWrite(commitment=first)):
        assert alerts(await liaison.tap_data(button.pack())) == [refusal]
    world.clock.set(at(10))
    assert await world.services.ledger.run_due() == 0
    assert await queued(world, "ledger.notice_commitment_due") == []


async def test_commitments_of_a_class_corrected_off_the_ledger_are_no_longer_chased(
    world: World,
) -> None:
    """Staff correct B to A after the department was asked about the first commitment: no
    alert follows, the second is never asked about, and nothing shows overdue."""
    admin = await staff(world)
    lead = await lead_deputy(world)
    d = await departments(world)
    seeded = await seed_answered(world, lead.id, d.lead)
    ledger = world.services.ledger
    world.clock.set(at(10))
    assert await ledger.run_due() == 1
    await admin.tap_data(ClassChosen(suggestion=seeded.id, code="A").pack())
    assert (await suggestion_row(world, seeded.id))["outcome_class"] == "A"
    for day in (17, 20, 28):
        world.clock.set(at(day))
        assert await ledger.run_due() == 0
    assert await queued(world, "ledger.notice_commitment_silent") == []
    assert len(await queued(world, "ledger.notice_commitment_due")) == 1
    user = await world.services.users.get(admin.id)
    assert user is not None
    assert (await ledger.page(user, LedgerFilter(overdue=True), 0, 8)).total == 0
    card = await ledger.card(user, seeded.id)
    assert (card.status, card.overdue) == (None, False)
    assert [p.overdue for p in card.promised] == [False, False]
