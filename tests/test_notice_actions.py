"""Acting from the notice (issue 12): a deputy told of a new opinion claims it, or claims and
answers it, from the notice itself; a deputy who was too late is told who holds it, in a
message that stays; an opinion no longer waiting says why. Staff give an overdue opinion to
a deputy from the alert. A voice opinion's notice shows its length and plays it; an opinion
addressed to one deputy is told to that deputy alone. Both languages throughout."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from bot.runtime.buttons.inbox import Accept, AnswerFromNotice, ClaimFromNotice, InboxOpen, Side
from tests.support.inbox import NO, Mail, chat_of, events_of, notice, opinion_row, submit
from tests.support.people import Person
from tests.support.scenarios import ADMIN, invite_deputy, onboard, only, say
from tests.support.suggestion_seed import seed_suggestion
from tests.support.suggestions import NUMBER
from tests.support.world import World

# One notice right after another to the same chat (Claim's message, then the card) is not
# what these tests prove: no pause between them.
pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0)

DAY = timedelta(days=1)
STATION = "学院路第一联络站"
LAMP = "小区3号楼东门的路灯坏了一个多月，晚上很不安全。"
ANSWER = "已联系物业，本周内修好东门的路灯。"


@dataclass
class Scene:
    """Two deputies of 学院路第一联络站, staff and a voter there, all speaking `lang`."""

    world: World
    mail: Mail
    admin: Person
    zhang: Person
    li: Person
    voter: Person


@pytest.fixture(params=["zh-hans", "en"], ids=["zh_CN", "en"])
async def scene(
    request: pytest.FixtureRequest, world: World, person: Callable[..., Person]
) -> Scene:
    lang = request.param
    admin = person(ADMIN, "管理员", lang)
    await onboard(admin)
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=lang)
    li = await invite_deputy(world, admin, person, 3002, "李四", language_code=lang)
    mail = Mail(world)
    await mail.take()
    return Scene(world, mail, admin, zhang, li, person(2001, "王芳", lang))


async def send_opinion(
    scene: Scene, text: str = LAMP, *, voice: int | None = None, to: Person | None = None
) -> str | None:
    """An opinion sent by the voter's own steps: typed, or a voice of `voice` seconds at the
    text step; addressed by name to deputy `to` when the voter opened `to`'s code (代表码)
    first. Returns the voice's file_id, if one was sent."""
    voter, world = scene.voter, scene.world
    await onboard(voter)
    if to is not None:
        await to.send("/mycode")
        [row] = await world.rows("SELECT code, name FROM deputies WHERE user_id = ?", (to.id,))
        await voter.send(f"/start dep_{row['code']}")
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    file_id = None
    if voice is None:
        await voter.send(text)
    else:
        before = set(world.api.voices)
        await voter.send_voice(voice)
        [file_id] = set(world.api.voices) - before
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.anonymous"))
    if to is not None:
        await voter.tap(say(voter, "opinion.address_deputy", deputy=row["name"]))
    await voter.tap(say(voter, "opinion.send"))
    assert NO in voter.last
    return file_id


def new_notice(deputy: Person, text: str = LAMP) -> tuple[int, str]:
    return notice(
        deputy,
        "deputy_notices.new",
        tracking_no=NO,
        station=STATION,
        category=say(deputy, "category.urban"),
        excerpt=html.escape(text),
    )


def keyboard_rows(person: Person) -> list[list[str]]:
    """The rows of buttons under the latest message in the person's chat."""
    latest = scene_messages(person)[-1]
    return [[b["text"] for b in row] for row in latest.get("reply_markup", {})["inline_keyboard"]]


def scene_messages(person: Person) -> list[dict[str, object]]:
    return person.world.api.chat_messages(person.id)


def told_in_chat(person: Person, key: str, **params: object) -> bool:
    """The person's last answer is this message, sent into the chat (not an alert)."""
    last = person.seen[-1]
    return last.kind == "message" and last.text == say(person, key, **params)


def message_saying(person: Person, text: str) -> dict[str, object]:
    """The message of the person's chat that says `text`, as it is now (after any edits)."""
    [found] = [m for m in scene_messages(person) if m.get("text") == text]
    return found


def labels_of(message: dict[str, object]) -> list[list[str]]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [[b["text"] for b in row] for row in markup.get("inline_keyboard", [])]


async def conversations_of(world: World, person: Person) -> list[str]:
    """The conversations a person is in the middle of, by name."""
    rows = await world.rows(
        "SELECT name FROM conversation_states WHERE key LIKE ? ORDER BY name", (f"%{person.id}%",)
    )
    return [r["name"] for r in rows]


# --- claim and answer from the notice -------------------------------------------------------


async def test_answer_from_the_notice_claims_and_opens_the_answer_step(scene: Scene) -> None:
    world, zhang, li, voter = scene.world, scene.zhang, scene.li, scene.voter
    await submit(voter, LAMP)
    assert await scene.mail.take() == [new_notice(zhang), new_notice(li)]
    claim, answer = say(zhang, "inbox.claim_button"), say(zhang, "inbox.answer_button")
    assert keyboard_rows(zhang) == [[claim, answer], [say(zhang, "inbox.open_button")]]

    await zhang.tap(answer)
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("accepted", zhang.id)
    assert await events_of(world) == [("submitted", ""), ("accepted", "张三")]
    assert [o.text for o in zhang.seen[-2:]] == [
        say(zhang, "inbox.claimed", tracking_no=NO),
        say(zhang, "handling.ask_answer"),
    ]
    assert await scene.mail.take() == [
        notice(voter, "inbox.notify_claimed", tracking_no=NO, deputy="张三")
    ]
    # the answer step is the `reply` conversation's, kept across a restart
    assert await conversations_of(world, zhang) == ["reply"]
    await world.crash_and_restart()
    await zhang.send(ANSWER)
    assert zhang.last == say(zhang, "handling.done_answer", tracking_no=NO)
    assert (await opinion_row(world))["status"] == "answered"
    assert await scene.mail.take() == [
        notice(voter, "inbox.notify_answered", tracking_no=NO, note=ANSWER)
    ]
    # the notice is still there, as it was
    assert new_notice(zhang)[1] in [m.get("text") for m in scene_messages(zhang)]


async def test_the_holder_answers_from_the_notice_without_claiming_again(scene: Scene) -> None:
    world, zhang = scene.world, scene.zhang
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert [o.text for o in zhang.seen[-2:-1]] == [say(zhang, "inbox.claimed", tracking_no=NO)]
    assert zhang.last.startswith(f"<b>{NO}</b>")  # the card, below the notice
    await scene.mail.take()

    await zhang.tap(say(zhang, "inbox.answer_button"))
    assert zhang.last == say(zhang, "handling.ask_answer")
    assert [k for k, _ in await events_of(world)] == ["submitted", "accepted"]
    await zhang.send(ANSWER)
    assert (await opinion_row(world))["status"] == "answered"


async def test_a_deputy_too_late_is_told_who_holds_it_and_nothing_opens(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert (await opinion_row(world))["holder_id"] == zhang.id
    await scene.mail.take()
    before = await world.snapshot()

    # Claim, then Answer, under 李四's own notice: a message naming 张三, which stays
    await li.tap(say(li, "inbox.claim_button"))
    assert told_in_chat(li, "inbox.held_by", tracking_no=NO, name="张三")
    await li.tap(say(li, "inbox.answer_button"))
    assert told_in_chat(li, "inbox.held_by", tracking_no=NO, name="张三")
    assert await conversations_of(world, li) == []
    assert await world.snapshot() == before
    # what 李四 types next is no answer
    await li.send(ANSWER)
    assert (await opinion_row(world))["status"] == "accepted"
    assert [k for k, _ in await events_of(world)] == ["submitted", "accepted"]


async def test_an_answered_or_withdrawn_opinion_says_so_from_its_notice(scene: Scene) -> None:
    world, zhang, li, voter = scene.world, scene.zhang, scene.li, scene.voter
    await submit(voter, LAMP)
    await scene.mail.take()  # the notices are in the chats before anyone taps them
    await zhang.tap(say(zhang, "inbox.answer_button"))
    await zhang.send(ANSWER)
    assert (await opinion_row(world))["status"] == "answered"
    await scene.mail.take()
    before = await world.snapshot()

    for deputy in (zhang, li):
        await deputy.tap(say(deputy, "inbox.answer_button"))
        assert told_in_chat(deputy, "inbox.gone_answered", tracking_no=NO)
        await deputy.tap(say(deputy, "inbox.claim_button"))
        assert told_in_chat(deputy, "inbox.gone_answered", tracking_no=NO)
    assert await conversations_of(world, zhang) == []
    assert await world.snapshot() == before

    # a second opinion, withdrawn by its author (/forget) before anyone took it
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send("西门的路面坑洼，下雨天积水很深。")
    for label in ("opinion.skip", "opinion.skip", "opinion.anonymous", "opinion.send"):
        await voter.tap(say(voter, label))
    await scene.mail.take()
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    second = "HD-2026-000002"
    assert (await opinion_row(world, 2))["status"] == "withdrawn"
    await li.tap_data(AnswerFromNotice(opinion=2).pack())
    assert told_in_chat(li, "inbox.gone_withdrawn", tracking_no=second)
    await li.tap_data(ClaimFromNotice(opinion=2).pack())
    assert told_in_chat(li, "inbox.gone_withdrawn", tracking_no=second)
    assert (await opinion_row(world, 2))["holder_id"] is None


async def test_another_stations_deputy_and_a_voter_are_refused_as_anywhere(
    scene: Scene, person: Callable[..., Person]
) -> None:
    world, voter = scene.world, scene.voter
    zhao = await invite_deputy(
        world, scene.admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站", voter.language_code
    )
    await submit(voter, LAMP)
    await scene.mail.take()
    before = await world.snapshot()
    for someone, key in ((zhao, "inbox.not_your_station"), (voter, "error.forbidden")):
        for data in (AnswerFromNotice(opinion=1).pack(), ClaimFromNotice(opinion=1).pack()):
            new = await someone.tap_data(data)
            assert [(o.kind, o.text) for o in new] == [("alert", say(someone, key))], data
    assert await world.snapshot() == before
    assert await conversations_of(world, zhao) == []


async def test_an_opinion_staff_accepted_says_it_waits_to_be_assigned(scene: Scene) -> None:
    world, admin, zhang = scene.world, scene.admin, scene.zhang
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await admin.tap_data(Accept(side=Side.STAFF, opinion=1).pack())
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("accepted", None)
    await scene.mail.take()
    before = await world.snapshot()

    for label in ("inbox.claim_button", "inbox.answer_button"):
        await zhang.tap(say(zhang, label))
        assert told_in_chat(zhang, "inbox.accepted_unassigned", tracking_no=NO), label
    assert await conversations_of(world, zhang) == []
    assert await world.snapshot() == before


async def test_answer_while_busy_elsewhere_claims_nothing(scene: Scene) -> None:
    world, zhang = scene.world, scene.zhang
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await zhang.send("/visit")
    busy = await conversations_of(world, zhang)
    assert busy and "reply" not in busy
    before = await world.snapshot()

    await zhang.tap(say(zhang, "inbox.answer_button"))
    assert told_in_chat(zhang, "conversation.busy")
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("submitted", None)
    assert await conversations_of(world, zhang) == busy
    assert await world.snapshot() == before
    assert await scene.mail.take() == []


async def test_busy_or_not_a_refusal_says_why_it_is_refused(scene: Scene) -> None:
    """Whatever conversation someone is in, who may not act hears why not, not 'busy'."""
    world, zhang, li, voter = scene.world, scene.zhang, scene.li, scene.voter
    await submit(voter, LAMP)
    await scene.mail.take()
    await zhang.tap(say(zhang, "inbox.claim_button"))
    await scene.mail.take()

    # the voter, in the middle of a new opinion, forges Answer: refused as anywhere
    await voter.send("/opinion")
    assert await conversations_of(world, voter) != []
    # 李四, in the middle of a visit record, is too late
    await li.send("/visit")
    assert await conversations_of(world, li) != []
    before = await world.snapshot()

    alert = only(await voter.tap_data(AnswerFromNotice(opinion=1).pack()))
    assert (alert.kind, alert.text) == ("alert", say(voter, "error.forbidden"))
    await li.tap(say(li, "inbox.answer_button"))
    assert told_in_chat(li, "inbox.held_by", tracking_no=NO, name="张三")
    assert await world.snapshot() == before
    assert (await opinion_row(world))["holder_id"] == zhang.id


async def test_an_opinion_a_live_suggestion_follows_is_not_claimed_from_its_notice(
    scene: Scene,
) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await seed_suggestion(world, zhang.id, opinion_ids=[1])  # followed there, nobody holds it
    before = await world.snapshot()

    for label in ("inbox.answer_button", "inbox.claim_button"):
        await li.tap(say(li, label))
        assert told_in_chat(li, "inbox.in_suggestion", tracking_no=NO, number=NUMBER), label
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("submitted", None)
    assert await conversations_of(world, li) == []
    assert await world.snapshot() == before
    assert await scene.mail.take() == []
    # nor does its card offer Claim
    await li.tap_data(InboxOpen(opinion=1).pack())
    assert say(li, "inbox.claim_button") not in li.seen[-1].buttons()


# --- the 3-day reminder: the same buttons as the notice -------------------------------------


async def test_the_unclaimed_reminder_carries_the_notices_buttons(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await send_opinion(scene, voice=45)
    await scene.mail.take()
    created = datetime.fromisoformat((await opinion_row(world))["created_at"])
    world.clock.set(created + 3 * DAY)
    await world.services.inbox.run_due()
    reminder = notice(zhang, "inbox.remind_unclaimed", tracking_no=NO, days=3, station=STATION)
    assert reminder in await scene.mail.take()
    assert keyboard_rows(zhang) == [
        [say(zhang, "inbox.claim_button"), say(zhang, "inbox.answer_button")],
        [say(zhang, "deputy_notices.play_button"), say(zhang, "inbox.open_button")],
    ]
    # Answer from the reminder claims it and opens the answer step
    await zhang.tap(say(zhang, "inbox.answer_button"))
    assert zhang.last == say(zhang, "handling.ask_answer")
    assert (await opinion_row(world))["holder_id"] == zhang.id
    await zhang.send(ANSWER)
    assert (await opinion_row(world))["status"] == "answered"
    # a typed opinion's reminder has no Play
    voter = scene.voter
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send("西门的路面坑洼，下雨天积水很深。")
    for label in ("opinion.skip", "opinion.skip", "opinion.anonymous", "opinion.send"):
        await voter.tap(say(voter, label))
    await scene.mail.take()
    world.clock.advance(seconds=(3 * DAY).total_seconds())
    await world.services.inbox.run_due()
    assert li.id in [chat for chat, _ in await scene.mail.take()]
    assert keyboard_rows(li) == [
        [say(li, "inbox.claim_button"), say(li, "inbox.answer_button")],
        [say(li, "inbox.open_button")],
    ]


# --- staff: assign from the overdue alert ---------------------------------------------------


async def test_staff_assign_an_unclaimed_opinion_from_the_alert(scene: Scene) -> None:
    world, admin, zhang, li, voter = scene.world, scene.admin, scene.zhang, scene.li, scene.voter
    await submit(voter, LAMP)
    await scene.mail.take()
    created = datetime.fromisoformat((await opinion_row(world))["created_at"])
    world.clock.set(created + 7 * DAY)
    await world.services.inbox.run_due()
    alert = notice(admin, "inbox.alert_unclaimed", tracking_no=NO, days=7, station=STATION)
    assert alert in await scene.mail.take()
    assign = say(admin, "inbox.assign_button")
    buttons = [[assign, say(admin, "inbox.open_button")]]
    assert keyboard_rows(admin) == buttons
    before = len(scene_messages(admin))

    # the deputies come as a new message below the alert, which stays as it was
    await admin.tap(assign)
    assert admin.last == say(admin, "inbox.pick_deputy", tracking_no=NO)
    assert len(scene_messages(admin)) == before + 1
    assert admin.buttons()[:3] == ["张三", "李四", say(admin, "nav.back")]
    await admin.tap("李四")
    assert say(admin, "inbox.assigned", tracking_no=NO, name="李四") in [o.text for o in admin.seen]
    assert labels_of(message_saying(admin, alert[1])) == buttons
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("accepted", li.id)
    assert await scene.mail.take() == [
        notice(li, "inbox.notify_assigned", tracking_no=NO),
        notice(voter, "inbox.notify_claimed", tracking_no=NO, deputy="李四"),
    ]
    # 张三's notice now says who holds it
    await zhang.tap(say(zhang, "inbox.answer_button"))
    assert told_in_chat(zhang, "inbox.held_by", tracking_no=NO, name="李四")


async def test_staff_hand_an_unanswered_opinion_to_another_deputy_from_the_alert(
    scene: Scene,
) -> None:
    world, admin, zhang, li = scene.world, scene.admin, scene.zhang, scene.li
    await submit(scene.voter, LAMP)
    await scene.mail.take()
    await zhang.tap(say(zhang, "inbox.claim_button"))
    await scene.mail.take()
    claimed = datetime.fromisoformat((await opinion_row(world))["claimed_at"])
    world.clock.set(claimed + 15 * DAY)
    await world.services.inbox.run_due()
    alert = notice(admin, "inbox.alert_unanswered", tracking_no=NO, days=15, holder="张三")
    assert alert in await scene.mail.take()
    reassign = say(admin, "inbox.reassign_button")
    buttons = [[reassign, say(admin, "inbox.open_button")]]
    assert keyboard_rows(admin) == buttons

    await admin.tap(reassign)
    assert admin.last == say(admin, "inbox.pick_deputy", tracking_no=NO)
    assert admin.buttons()[:2] == ["✓ 张三", "李四"]
    await admin.tap("李四")
    assert (await opinion_row(world))["holder_id"] == li.id
    assert labels_of(message_saying(admin, alert[1])) == buttons
    told = [chat for chat, _ in await scene.mail.take()]
    assert li.id in told and zhang.id in told  # the new holder, and the one it was taken from


# --- a voice opinion, an addressed opinion --------------------------------------------------


async def test_a_voice_opinions_notice_shows_its_length_and_plays_it(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await li.send("/notices digest")
    voice = await send_opinion(scene, voice=45)
    expected = notice(
        zhang,
        "deputy_notices.new_voice",
        tracking_no=NO,
        station=STATION,
        category=say(zhang, "category.urban"),
        length="0:45",
    )
    assert await scene.mail.take() == [expected]
    spoken = "🎤 语音 0:45" if zhang.language_code == "zh-hans" else "🎤 Voice 0:45"
    assert spoken in str(scene_messages(zhang)[-1]["text"]) and LAMP not in chat_of(world, zhang)
    play = say(zhang, "deputy_notices.play_button")
    assert keyboard_rows(zhang) == [
        [say(zhang, "inbox.claim_button"), say(zhang, "inbox.answer_button")],
        [play, say(zhang, "inbox.open_button")],
    ]
    sent = await zhang.tap(play)
    assert [o.kind for o in sent if o.kind == "voice"] == ["voice"]
    assert world.api.calls_to("sendVoice")[-1].params["voice"] == voice

    # 李四 chose the digest: the voice is listed by its length
    world.clock.advance(seconds=DAY.total_seconds())
    assert await world.services.deputy_notices.run_due() == 1
    assert await scene.mail.take() == [
        notice(li, "deputy_notices.digest", station=STATION, count=1, items=f"{NO} · 🎤 0:45")
    ]


async def test_an_addressed_opinion_is_told_to_its_deputy_alone(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await send_opinion(scene, to=li)
    assert (await opinion_row(world))["addressed_to"] == li.id
    assert await scene.mail.take() == [
        notice(
            li,
            "deputy_notices.addressed",
            tracking_no=NO,
            station=STATION,
            category=say(li, "category.urban"),
            excerpt=LAMP,
        )
    ]
    assert keyboard_rows(li)[0] == [say(li, "inbox.claim_button"), say(li, "inbox.answer_button")]
    # 张三 is not told now, but finds it in /inbox and may take it
    assert LAMP not in chat_of(world, zhang)
    await zhang.send("/inbox")
    assert any(b.startswith(NO) for b in zhang.buttons())
    # and the 3-day reminder goes to the whole station
    created = datetime.fromisoformat((await opinion_row(world))["created_at"])
    world.clock.set(created + 3 * DAY)
    await world.services.inbox.run_due()
    assert sorted(chat for chat, _ in await scene.mail.take()) == [zhang.id, li.id]
    await li.tap(say(li, "inbox.answer_button"))
    await li.send(ANSWER)
    assert (await opinion_row(world))["holder_id"] == li.id


async def test_an_addressed_opinion_is_in_its_deputys_digest_only(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    for deputy in (zhang, li):
        await deputy.send("/notices digest")
    await send_opinion(scene, voice=75, to=li)
    assert await scene.mail.take() == []
    world.clock.advance(seconds=DAY.total_seconds())
    assert await world.services.deputy_notices.run_due() == 1
    assert await scene.mail.take() == [
        notice(li, "deputy_notices.digest", station=STATION, count=1, items=f"{NO} · 🎤 1:15")
    ]


async def test_a_released_voice_opinion_is_told_again_by_its_length(scene: Scene) -> None:
    world, zhang, li = scene.world, scene.zhang, scene.li
    await send_opinion(scene, voice=120)
    await scene.mail.take()
    await zhang.tap(say(zhang, "inbox.claim_button"))
    await zhang.tap(say(zhang, "inbox.release_button"))
    assert (await opinion_row(world))["holder_id"] is None
    released = notice(
        li,
        "deputy_notices.released_voice",
        tracking_no=NO,
        station=STATION,
        category=say(li, "category.urban"),
        length="2:00",
    )
    assert released in await scene.mail.take()
    assert say(li, "deputy_notices.play_button") in keyboard_rows(li)[1]
    # 李四 answers it from this notice
    await li.tap(say(li, "inbox.answer_button"))
    assert li.last == say(li, "handling.ask_answer")
    await li.send(ANSWER)
    row = await opinion_row(world)
    assert (row["status"], row["holder_id"]) == ("answered", li.id)
