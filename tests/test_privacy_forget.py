"""/forget: a question first (erase / keep), then one transaction: the person becomes a
stranger with only their id; their opinions stay counted but anonymous, the unanswered ones
without their text, the answered ones with text and answer; comments on draft laws keep
their text without the name; drafts, conversations (in memory too) and waiting messages go.
Role holders are refused. Twice: nothing left, nothing done. Afterwards the database file
and its write-ahead log no longer hold the erased name, username or text."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from bot.runtime.buttons.inbox import Claim, Compose
from bot.runtime.buttons.privacy import ForgetChoice, ForgetConfirm
from bot.services.figures import Area, Period
from storage.db import stamp
from tests.support.consultation_seed import add_comment, seed_consultation
from tests.support.inbox import Mail, submit
from tests.support.people import Person
from tests.support.projects import project
from tests.support.scenarios import LANGUAGES, agree, invite_deputy, onboard, only, say
from tests.support.world import World
from tests.test_consent_privacy import Stranger, database_bytes

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

TOKEN = "stale0000000"  # a question token no question has
UNANSWERED = "小区东门的路灯坏了一个多月，晚上出行很不安全。"
ANSWERED = "菜市场门口占道经营严重，行人无法正常通行。"
ANSWER = "已联系城管部门，本周开始整治占道经营。"
COMMENT = "建议在第二条中增加对村级养老设施的支持。"


async def stranger_row(world: World, user_id: int) -> dict[str, Any]:
    row = await world.user_row(user_id)
    return {k: row[k] for k in ("full_name", "username", "station_id", "consent_at")} | {
        "rest": (row["consent_version"], row["locale_chosen"], row["notice_shown_at"])
    }


async def opinion(world: World, opinion_id: int) -> dict[str, Any]:
    return (await world.rows("SELECT * FROM opinions WHERE id = ?", (opinion_id,)))[0]


async def answer(deputy: Person, opinion_id: int, text: str) -> None:
    """The deputy claims and answers; the notices it makes are delivered before going on."""
    await deputy.tap_data(Claim(opinion=opinion_id).pack())
    await deputy.tap_data(Compose(step="answer", opinion=opinion_id).pack())
    await deputy.send(text)
    await deputy.world.outbox.drain()


def erased_message(person: Person, **counts: int) -> str:
    lines = [say(person, "privacy.erased_title"), say(person, "privacy.erased_profile")]
    for key in (
        "erased_opinions",
        "erased_texts",
        "withdrawn",
        "kept_answered",
        "kept_comments",
        "erased_drafts",
        "erased_conversations",
        "erased_notices",
        "erased_follows",
        "erased_desk",
        "kept_ballots",
    ):
        if counts.get(key):
            lines.append(say(person, f"privacy.{key}", count=counts[key]))
    nights = person.world.settings.backup_keep
    if nights:
        lines.append(say(person, "privacy.erased_backups", nights=nights))
    lines.append(say(person, "privacy.erased_footer"))
    return "\n".join(lines)


# --- the question, erase and keep ---------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_forget_asks_first_and_keep_erases_nothing(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(2101, "王芳", code)
    await submit(voter, UNANSWERED, anonymous=False)
    before = await world.snapshot()

    reply = only(await voter.send("/forget"))
    assert reply.text == say(voter, "privacy.forget_question")
    assert reply.buttons() == [
        say(voter, "privacy.erase_button"),
        say(voter, "privacy.keep_button"),
    ]
    reply = only(await voter.tap(say(voter, "privacy.keep_button")))
    assert (reply.kind, reply.text, reply.buttons()) == (
        "edit",
        say(voter, "privacy.forget_kept"),
        [],
    )
    assert await world.snapshot() == before
    assert only(await voter.send("/help")).text.startswith(say(voter, "help.title"))


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_forget_erases_the_person_and_says_what_was_kept(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2101, "王芳", code)
    await submit(voter, UNANSWERED, anonymous=False)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.environment"))
    await voter.send(ANSWERED)
    await voter.tap(say(voter, "opinion.skip"))
    await voter.send_location(39.99, 116.35)
    await voter.tap(say(voter, "opinion.show_name"))
    await voter.tap(say(voter, "opinion.send"))
    await answer(deputy, 2, ANSWER)
    consultation = await seed_consultation(world, closed=False)
    await add_comment(world, consultation.id, 2101, article=0, text=COMMENT, show_name=True)
    await voter.send("/opinion")  # a draft and a conversation under way
    await voter.tap(say(voter, "category.urban"))
    period, district = Period.year(2026), Area.district()
    figures = (await world.services.figures.compute(period, district)).model_dump()

    await voter.send("/forget")
    reply = only(await voter.tap(say(voter, "privacy.erase_button")))
    assert reply.kind == "edit"
    assert reply.text == erased_message(
        voter,
        erased_opinions=2,
        erased_texts=1,
        withdrawn=1,
        kept_answered=1,
        kept_comments=1,
        erased_drafts=1,
        erased_conversations=1,
    )

    assert await stranger_row(world, 2101) == {
        "full_name": "",
        "username": None,
        "station_id": None,
        "consent_at": None,
        "rest": (None, 0, None),
    }
    first, second = await opinion(world, 1), await opinion(world, 2)
    for row in (first, second):
        assert (row["author_id"], row["show_name"], row["photos"]) == (None, 0, "[]")
        assert (row["latitude"], row["longitude"], row["draft_token"]) == (None, None, None)
    assert first["text"] == "" and first["status"] == "withdrawn"
    assert second["text"] == ANSWERED and second["status"] == "answered"
    assert await world.rows("SELECT * FROM opinion_terms WHERE opinion_id = 1") == []
    events = await world.rows(
        "SELECT actor_id, kind, note FROM opinion_events WHERE opinion_id = 2"
    )
    assert {"actor_id": 3001, "kind": "answered", "note": ANSWER} in events  # staff keep it
    assert all(e["actor_id"] != 2101 for e in events)
    comment = (await world.rows("SELECT * FROM consultation_comments"))[0]
    assert (comment["text"], comment["show_name"]) == (COMMENT, 0)
    assert await world.rows("SELECT * FROM opinion_drafts") == []
    assert await world.conversation_state("opinion", 2101) is None
    assert world.conversations_in_memory() == 0
    # still counted: the district's figures are the same
    assert (await world.services.figures.compute(period, district)).model_dump() == figures


async def test_the_cards_show_an_erased_opinion(world: World, person, admin: Person) -> None:
    """Withdrawn: shown as such, its text erased, nothing left to claim; staff list it."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2101, "王芳", "zh-hans")
    await submit(voter, UNANSWERED, anonymous=False)
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    await world.outbox.drain()

    inbox = only(await deputy.send("/inbox"))
    listed = next(b for b in inbox.buttons() if b.startswith("HD-2026-"))
    assert world.text("zh_CN", "privacy.erased_text") in listed
    card = only(await deputy.tap(listed))
    assert card.text.startswith("<b>HD-2026-000001</b>")
    assert UNANSWERED not in card.text and "王芳" not in card.text
    assert world.text("zh_CN", "privacy.erased_text") in card.text
    assert world.text("zh_CN", "status.withdrawn") in card.text
    assert say(deputy, "inbox.claim_button") not in card.buttons()
    await admin.send("/opinions")
    assert any("HD-2026-000001" in b for b in admin.buttons())
    assert world.api.refusals == []


# --- twice, and in the middle of a conversation --------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_forget_twice_leaves_nothing_to_erase(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(2102, "李雷", code)
    await submit(voter, UNANSWERED)
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    after = await world.snapshot()

    reply = only(await voter.send("/forget"))
    assert (reply.text, reply.buttons()) == (say(voter, "privacy.nothing_left"), [])
    assert await world.snapshot() == after
    # the question's button, replayed, erases nothing either
    question = next(
        m
        for m in world.api.chat_messages(voter.id)
        if say(voter, "privacy.erased_profile") in m.get("text", "")
    )
    erase = ForgetConfirm(choice=ForgetChoice.ERASE, token=TOKEN).pack()
    reply = only(await voter.tap_data(erase, question))
    assert reply.text == say(voter, "privacy.nothing_left")
    assert await world.snapshot() == after


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_forget_in_the_middle_of_a_conversation_ends_it(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(2103, "韩梅梅", code)
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    assert await world.conversation_state("opinion", 2103) == "text"

    reply = only(await voter.send("/forget"))  # not "finish or /cancel first"
    assert reply.text == say(voter, "privacy.forget_question")
    await voter.tap(say(voter, "privacy.erase_button"))
    assert voter.last == erased_message(voter, erased_drafts=1, erased_conversations=1)
    assert await world.conversation_state("opinion", 2103) is None
    assert world.conversations_in_memory() == 0

    # the next message is a stranger's, not the opinion's text
    reply = only(await voter.send("路口的红绿灯时间太短，老人过马路来不及。"))
    assert reply.text.startswith(say(voter, "privacy.required"))
    await voter.tap(say(voter, "privacy.agree"))
    reply = only(await voter.send("路口的红绿灯时间太短，老人过马路来不及。"))
    assert reply.text == say(voter, "error.stray_message")
    assert await world.rows("SELECT * FROM opinions") == []


async def test_keep_in_the_middle_of_a_conversation_goes_on_with_it(world: World, person) -> None:
    voter: Person = person(2104, "Li Lei", "en")
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.keep_button"))
    await voter.send("The traffic light at the crossing is far too short for the elderly.")
    assert await world.conversation_state("opinion", 2104) == "photos"


async def test_forget_survives_a_restart_of_the_conversation_memory(world: World, person) -> None:
    """Erased before a crash: the restarted bot resumes no conversation of the person."""
    voter: Person = person(2105, "王五", "zh-hans")
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    await world.crash_and_restart()
    assert world.conversations_in_memory() == 0


# --- role holders ----------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_deputy_cannot_be_forgotten_while_a_deputy(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    before = await world.snapshot()
    reply = only(await deputy.send("/forget"))
    assert reply.text == say(deputy, "privacy.forget_deputy")
    await deputy.send("/privacy")
    alert = only(await deputy.tap(say(deputy, "privacy.forget_button")))
    assert (alert.kind, alert.text) == ("alert", say(deputy, "privacy.forget_deputy"))
    assert await world.snapshot() == before


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_and_admins_are_refused_until_the_role_is_gone(
    world: World, person, code: str, locale: str
) -> None:
    admin = person(1, "管理员", code)
    await agree(admin)
    assert only(await admin.send("/forget")).text == say(admin, "privacy.forget_admin")
    staff: Person = person(1030, "工作人员", code)
    await onboard(staff)
    await admin.send("/staff add 1030")
    await world.outbox.drain()
    assert only(await staff.send("/forget")).text == say(staff, "privacy.forget_staff")

    await admin.send("/staff remove 1030")
    await world.outbox.drain()
    assert (await world.user_row(1030))["role"] == "voter"
    await staff.send("/forget")
    await staff.tap(say(staff, "privacy.erase_button"))
    assert (await world.user_row(1030))["full_name"] == ""


async def test_a_liaison_is_refused(world: World, person) -> None:
    liaison: Person = person(4001, "联络员", "zh-hans")
    await agree(liaison)
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE users SET role = 'liaison' WHERE telegram_id = 4001")
    assert only(await liaison.send("/forget")).text == say(liaison, "privacy.forget_liaison")


# --- nothing readable is left ----------------------------------------------------------------


async def test_the_database_no_longer_holds_what_was_erased(
    world: World, person, admin: Person
) -> None:
    """The name went to a deputy with the voter's reply, the text as an excerpt of the new
    opinion's notice: the notices sent keep neither once the person is forgotten."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    voter = Stranger(world, 2106, language_code="zh-hans")
    reply_text = "是东门北侧第三根灯杆，已经坏了很久。"
    await submit(voter, UNANSWERED, anonymous=False)
    mail = Mail(world)
    await deputy.tap_data(Claim(opinion=1).pack())
    await deputy.tap_data(Compose(step="ask", opinion=1).pack())
    await deputy.send("是哪一根灯杆？")
    await mail.take()
    await voter.tap(say(voter, "inbox.reply_button"))
    await voter.send(reply_text)
    await mail.take()
    secrets = ("Zhuangzhouxyz", "Butterflyqk", "dreaming_butterfly_42", UNANSWERED, reply_text)
    await world.db.checkpoint()
    stored = database_bytes(world)
    assert all(s.encode() in stored for s in secrets)  # the test can fail

    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    await world.outbox.drain()
    await world.db.checkpoint()
    stored = database_bytes(world)
    for secret in secrets:
        assert secret.encode() not in stored, secret
    # the notices to the deputy still read: the name became "—", the text is gone
    params = [
        json.loads(r["params"])
        for r in await world.rows("SELECT params FROM outbox WHERE chat_id = 3001")
    ]
    assert {"author": "—"} in [{"author": p["author"]} for p in params if "author" in p]


# --- what else is the person's ---------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_forget_drops_waiting_messages_follows_and_desk_data(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    """A former deputy's project follow, a message held until tomorrow, the name and phone
    they gave at the reception desk; their ballot entitlement is kept (whether, not how)."""
    voter: Person = person(2107, "赵大爷", code)
    await submit(voter, UNANSWERED)
    project_id = await project(world, "学院路口袋公园改造")
    now = world.clock.now()
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO project_followers (project_id, user_id) VALUES (?, 2107)", (project_id,)
        )
        await world.services.outbox.notify(
            tx, 2107, "privacy.thanks", not_before=now + timedelta(days=1)
        )
        await tx.execute(
            "INSERT INTO ballots (year, purpose, mode, state, entitled, opened_at)"
            " VALUES (2026, 'selection', 'each', 'closed', 1, ?)",
            (stamp(now),),
        )
        await tx.execute(
            "INSERT INTO ballot_voters (ballot_id, user_id, voted) VALUES (1, 2107, 1)"
        )
        await tx.execute(
            "INSERT INTO desk_entries (opinion_id, staff_id, visitor_name, visitor_phone,"
            " consent_noted_at, claim_code, claim_expires_at, claimed_by, claimed_at)"
            " VALUES (1, 1, '赵大爷', '13800000000', ?, 'code1', ?, 2107, ?)",
            (stamp(now), stamp(now), stamp(now)),
        )
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    assert voter.last == erased_message(
        voter,
        erased_opinions=1,
        erased_texts=1,
        withdrawn=1,
        erased_notices=1,
        erased_follows=1,
        erased_desk=1,
        kept_ballots=1,
    )
    assert await world.rows("SELECT * FROM project_followers") == []
    queued = "SELECT * FROM outbox WHERE chat_id = 2107 AND state = 'queued' AND sets_menu = 0"
    assert await world.rows(queued) == []
    desk = (await world.rows("SELECT * FROM desk_entries"))[0]
    assert (desk["visitor_name"], desk["visitor_phone"], desk["claimed_by"]) == ("", "", None)
    assert await world.rows("SELECT voted FROM ballot_voters") == [{"voted": 1}]
