"""A voice opinion on the cards: "🎤 语音 0:45" on the deputy's /inbox card, staff's /opinions
card and the voter's /my card, with a button that sends the very voice the voter recorded to
whoever may see the opinion (a forged tap by anyone else is refused; a listener whose
Telegram settings refuse voices is told so); staff type its transcript (one step, bad text
refused, /cancel keeps the old one), which makes it findable as a similar opinion; every
card and /mydata name the deputy it was written to; /forget and retention erase the
recording; /mydata lists it as a voice of m:ss; figures count it like any other."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

import pytest

from bot.demo.botapi import Output
from bot.runtime.buttons.inbox import OpinionCard, Side
from bot.runtime.buttons.voice import PlayVoice, Transcribe
from bot.services.figures import Area, Period
from bot.services.voice_opinions import TRANSCRIPT_MAX
from storage.db import stamp
from tests.support.inbox import submit
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, invite_deputy, onboard, only, say
from tests.support.world import World

STAFF_ID = 4001
TYPED, VOICE = 1, 2  # staff's own typed opinion is sent first, then the voter's voice
VOICE_NO = "HD-2026-000002"
SECONDS = 45


@dataclass
class Scene:
    world: World
    deputy: Person  # of 学院路第一联络站, where both opinions were sent
    staff: Person
    voter: Person  # the voice opinion's author
    file_id: str  # of the voice the voter recorded


async def voice_opinion(
    world: World, voter: Person, seconds: int = SECONDS, to: Person | None = None
) -> str:
    """The voter sends an opinion by voice, the real way (a voice at the text step), to the
    deputy `to` by name when given (having opened the code the deputy got with /mycode);
    returns the file_id of the voice they recorded."""
    await onboard(voter)
    if to is not None:
        await to.send("/mycode")
        [row] = await world.rows("SELECT code, name FROM deputies WHERE user_id = ?", (to.id,))
        await voter.send(f"/start dep_{row['code']}")
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    before = set(world.api.voices)
    await voter.send_voice(seconds)
    (file_id,) = set(world.api.voices) - before
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.anonymous"))
    if to is not None:
        await voter.tap(say(voter, "opinion.address_deputy", deputy=row["name"]))
    await voter.tap(say(voter, "opinion.send"))
    assert "HD-2026-" in voter.last
    (row,) = await world.rows(
        "SELECT text, voice_file_id, voice_seconds FROM opinions WHERE author_id = ?", (voter.id,)
    )
    assert row == {"text": "", "voice_file_id": file_id, "voice_seconds": seconds}
    return file_id


STAFF_TEXT = "先让工作人员完成登记，这条是工作人员自己的意见。"


async def make_scene(
    world: World, person: Callable[..., Person], admin: Person, code: str, addressed: bool = False
) -> Scene:
    """The deputy 张三, staff with a typed opinion of their own, and the voter's voice opinion
    (to 张三 by name when `addressed`)."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    staff = person(STAFF_ID, "工作人员", code)
    await submit(staff, STAFF_TEXT)
    await admin.send(f"/staff add {STAFF_ID}")
    assert (await world.user_row(STAFF_ID))["role"] == "staff"
    voter = person(2001, "王芳", code)
    file_id = await voice_opinion(world, voter, to=deputy if addressed else None)
    # the notices of both opinions are out before the scene's first tap, not in its answer
    await world.outbox.drain()
    return Scene(world, deputy, staff, voter, file_id)


@pytest.fixture(params=["zh-hans", "en"], ids=["zh", "en"])
async def scene(world: World, person, admin: Person, request: pytest.FixtureRequest) -> Scene:
    return await make_scene(world, person, admin, request.param)


def voices_sent(world: World, someone: Person) -> list[str]:
    """The file_ids of every voice the bot sent to this person."""
    return [m["voice"]["file_id"] for m in world.api.chat_messages(someone.id) if "voice" in m]


async def card(viewer: Person, side: Side, opinion_id: int = VOICE) -> Output:
    """The opinion's card as `viewer` opens it from `side`."""
    out = await viewer.tap_data(OpinionCard(side=side, opinion=opinion_id).pack())
    return [o for o in out if o.kind in ("edit", "message")][-1]


def button_with(someone: Person, fragment: str) -> str:
    """The newest visible button whose label holds `fragment`."""
    return next(label for label in someone.buttons() if fragment in label)


async def heard(scene: Scene, listener: Person) -> None:
    """`listener` taps Play and gets the voter's own voice, captioned, and nothing else."""
    out = await listener.tap(say(listener, "voice.play_button"))
    voice = only([o for o in out if o.kind != "alert"])
    assert voice.kind == "voice"
    assert voice.text == say(listener, "voice.caption", tracking_no=VOICE_NO, length="0:45")
    assert voices_sent(scene.world, listener)[-1] == scene.file_id


# --- shown and played --------------------------------------------------------------------


async def test_a_deputy_sees_the_voice_on_the_inbox_card_and_plays_it(scene: Scene) -> None:
    deputy = scene.deputy
    await deputy.send("/inbox")
    item = button_with(deputy, VOICE_NO)
    assert "🎤 0:45" in item  # the list's summary
    await deputy.tap(item)
    shown = deputy.last
    assert say(deputy, "voice.body", length="0:45") in shown
    assert say(deputy, "privacy.erased_text") not in shown  # '' text is no erased text
    assert say(deputy, "voice.play_button") in deputy.buttons()
    assert say(deputy, "voice.transcribe_button") not in deputy.buttons()  # staff's task
    await heard(scene, deputy)


async def test_staff_see_and_play_the_voice_from_opinions(scene: Scene) -> None:
    staff = scene.staff
    await staff.send("/opinions")
    await staff.tap(button_with(staff, VOICE_NO))
    assert say(staff, "voice.body", length="0:45") in staff.last
    buttons = staff.buttons()
    assert buttons[:2] == [say(staff, "voice.play_button"), say(staff, "voice.transcribe_button")]
    await heard(scene, staff)


async def test_the_author_sees_the_voice_on_their_own_card_and_may_hear_it(scene: Scene) -> None:
    voter = scene.voter
    await voter.send("/my")
    await voter.tap(button_with(voter, VOICE_NO))
    assert say(voter, "voice.body", length="0:45") in voter.last
    assert say(voter, "voice.transcribe_button") not in voter.buttons()
    await heard(scene, voter)  # the Play button on their /my card, by its label
    assert voices_sent(scene.world, voter) == [scene.file_id]


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_who_wrote_a_voice_opinion_only_play_it_from_my(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    """Transcribing is done from staff's /opinions card; /my is the author's view."""
    staff = person(STAFF_ID, "工作人员", code)
    file_id = await voice_opinion(world, staff)
    await admin.send(f"/staff add {STAFF_ID}")
    assert (await world.user_row(STAFF_ID))["role"] == "staff"
    await staff.send("/my")
    await staff.tap(button_with(staff, "HD-2026-000001"))
    assert say(staff, "voice.play_button") in staff.buttons()
    assert say(staff, "voice.transcribe_button") not in staff.buttons()
    await staff.tap(say(staff, "voice.play_button"))
    assert voices_sent(world, staff) == [file_id]
    # the same person's /opinions card is staff's: there they may transcribe it
    await staff.send("/opinions")
    await staff.tap(button_with(staff, "HD-2026-000001"))
    assert say(staff, "voice.transcribe_button") in staff.buttons()


async def test_a_forged_play_by_someone_who_may_not_see_the_opinion_is_refused(
    world: World, person, admin: Person
) -> None:
    scene = await make_scene(world, person, admin, "zh-hans")
    stranger = person(2002, "李明", "en")
    await onboard(stranger)
    far = await invite_deputy(
        world, admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站", language_code="en"
    )
    for someone in (stranger, far):
        out = await someone.tap_data(PlayVoice(opinion=VOICE).pack())
        alert = only(out)
        assert (alert.kind, alert.text) == ("alert", say(someone, "error.not_your_record"))
        assert voices_sent(world, someone) == []
    # nor may they start a transcript
    alert = only(await stranger.tap_data(Transcribe(side=Side.STAFF, opinion=VOICE).pack()))
    assert alert.text == say(stranger, "error.forbidden")
    assert await world.conversation_state("voice_transcript", stranger.id) is None
    await card(scene.deputy, Side.INBOX)
    await heard(scene, scene.deputy)  # the deputy of its station may


async def test_a_typed_opinion_has_no_voice_and_a_forged_play_says_so(scene: Scene) -> None:
    staff = scene.staff
    typed = await card(staff, Side.STAFF, TYPED)
    assert say(staff, "voice.play_button") not in typed.buttons()
    assert say(staff, "voice.play_button") in (await card(staff, Side.STAFF)).buttons()
    for data in (PlayVoice(opinion=TYPED), Transcribe(side=Side.STAFF, opinion=TYPED)):
        alert = only(await staff.tap_data(data.pack()))
        assert alert.text == say(staff, "voice.not_voice", tracking_no="HD-2026-000001")
    assert voices_sent(scene.world, staff) == []


async def test_a_voice_telegram_no_longer_has_is_said_to_be_unavailable(scene: Scene) -> None:
    async with scene.world.db.transaction() as tx:
        await tx.execute("UPDATE opinions SET voice_file_id = 'voice-lost' WHERE id = ?", (VOICE,))
    deputy = scene.deputy
    out = await deputy.tap_data(PlayVoice(opinion=VOICE).pack())
    assert only(out).text == say(deputy, "voice.unavailable", tracking_no=VOICE_NO)
    assert voices_sent(scene.world, deputy) == []


async def test_a_listener_whose_telegram_settings_refuse_voices_is_told_so(scene: Scene) -> None:
    """Telegram refuses a voice to a Premium user who forbade voice messages: trying again
    later would not help, so the listener hears why and what else there is."""
    world, deputy = scene.world, scene.deputy
    await card(deputy, Side.INBOX)
    world.api.fail(deputy.id, "400:VOICE_MESSAGES_FORBIDDEN")
    out = await deputy.tap(say(deputy, "voice.play_button"))
    told = only(out).text
    assert told == say(deputy, "voice.forbidden", tracking_no=VOICE_NO)
    assert told != say(deputy, "voice.unavailable", tracking_no=VOICE_NO)
    assert ("隐私设置" if deputy.language_code == "zh-hans" else "privacy settings") in told
    assert voices_sent(world, deputy) == []
    await heard(scene, deputy)  # once allowed, the same button plays it


# --- whom it was written to --------------------------------------------------------------

# The line every card shows, written out so a wrong language or a missing catalog fails.
ADDRESSED = {"zh-hans": "写给：张三代表", "en": "To: Deputy 张三"}


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_an_opinion_written_to_a_deputy_by_name_says_so_on_every_card(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    scene = await make_scene(world, person, admin, code, addressed=True)
    (row,) = await world.rows("SELECT addressed_to FROM opinions WHERE id = ?", (VOICE,))
    assert row == {"addressed_to": scene.deputy.id}
    line = ADDRESSED[code]
    assert line in (await card(scene.deputy, Side.INBOX)).text
    assert line in (await card(scene.staff, Side.STAFF)).text
    assert line not in (await card(scene.staff, Side.STAFF, TYPED)).text  # to the station
    voter = scene.voter
    await voter.send("/my")
    await voter.tap(button_with(voter, VOICE_NO))
    assert line in voter.last
    # and /mydata names the deputy written to
    await voter.send("/mydata")
    data = json.loads(next(iter(world.api.calls_to("sendDocument")[-1].files.values())))
    (opinion,) = data["opinions"]
    assert opinion["addressed_to"] == "张三"


async def test_an_opinion_to_the_station_names_nobody(scene: Scene) -> None:
    voter = scene.voter
    await voter.send("/my")
    await voter.tap(button_with(voter, VOICE_NO))
    assert ADDRESSED[voter.language_code] not in voter.last
    assert ADDRESSED[scene.deputy.language_code] not in (await card(scene.deputy, Side.INBOX)).text
    await voter.send("/mydata")
    data = json.loads(next(iter(scene.world.api.calls_to("sendDocument")[-1].files.values())))
    assert data["opinions"][0]["addressed_to"] is None


# --- the transcript ------------------------------------------------------------------------


async def test_staff_type_a_transcript_and_every_card_shows_it(scene: Scene) -> None:
    world, staff = scene.world, scene.staff
    await card(staff, Side.STAFF)
    await staff.tap(say(staff, "voice.transcribe_button"))
    assert staff.last == say(
        staff, "voice.ask_transcript", tracking_no=VOICE_NO, minimum=2, maximum=TRANSCRIPT_MAX
    )
    await heard(scene, staff)  # listening while typing: the step stays
    assert await world.conversation_state("voice_transcript", STAFF_ID) == "typing"
    typed = "小区<路灯>坏了 & 一个多月，晚上很不安全。"
    await staff.send(typed)
    saved = staff.seen[-2].text
    assert saved == say(staff, "voice.transcript_saved", tracking_no=VOICE_NO)
    shown = say(staff, "voice.transcript", text=escape(typed))  # the HTML sent
    assert say(staff, "voice.body", length="0:45") + "\n" + shown in staff.last  # as shown
    assert say(staff, "voice.retranscribe_button") in staff.buttons()  # now "edit"
    assert say(staff, "event.transcribed") in staff.last  # in the history
    (row,) = await world.rows("SELECT text, voice_file_id FROM opinions WHERE id = ?", (VOICE,))
    assert row == {"text": typed, "voice_file_id": scene.file_id}
    kinds = await world.rows(
        "SELECT kind, actor_id FROM opinion_events WHERE opinion_id = ? ORDER BY id", (VOICE,)
    )
    assert kinds[-1] == {"kind": "transcribed", "actor_id": STAFF_ID}
    assert await world.conversation_state("voice_transcript", STAFF_ID) is None
    # the deputy's card and the voter's own show it too; the voter was told nothing
    assert shown in (await card(scene.deputy, Side.INBOX)).text
    await scene.voter.send("/my")
    assert "🎤 0:45 小区<路灯>" in button_with(scene.voter, VOICE_NO)  # a label: plain text
    await scene.voter.tap(button_with(scene.voter, VOICE_NO))
    assert say(scene.voter, "voice.transcript", text=escape(typed)) in scene.voter.last
    assert not any(say(scene.voter, "voice.transcript_saved", tracking_no=VOICE_NO) in o.text
                   for o in scene.voter.seen)  # fmt: skip


async def test_a_transcript_makes_the_voice_opinion_findable_as_similar(scene: Scene) -> None:
    """Until transcribed a voice has no words to compare; its transcript is its text."""
    world, staff = scene.world, scene.staff
    similar = world.services.similar_opinions
    assert VOICE not in [m.opinion.id for m in (await similar.like(TYPED)).matches]
    await card(staff, Side.STAFF)
    await staff.tap(say(staff, "voice.transcribe_button"))
    await staff.send("这条语音也请工作人员完成登记，是关于登记的意见。")
    assert VOICE in [m.opinion.id for m in (await similar.like(TYPED)).matches]


@pytest.mark.parametrize(
    ("typed", "key", "params"),
    [
        (" \u200b ", "voice.transcript_empty", {}),
        ("好", "voice.transcript_too_short", {"count": 1, "minimum": 2}),
        ("字" * 2001, "voice.transcript_too_long", {"count": 2001, "maximum": 2000}),
    ],
    ids=["empty", "one-char", "2001-chars"],
)
async def test_a_bad_transcript_is_refused_and_the_step_stays(
    scene: Scene, typed: str, key: str, params: dict[str, int]
) -> None:
    world, staff = scene.world, scene.staff
    await card(staff, Side.STAFF)
    await staff.tap(say(staff, "voice.transcribe_button"))
    assert only(await staff.send(typed)).text == say(staff, key, **params)
    assert await world.conversation_state("voice_transcript", STAFF_ID) == "typing"
    assert only(await staff.send_photo()).text == say(staff, "voice.transcript_text_only")
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == ""
    await staff.send("两个")  # two characters are enough
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == "两个"


async def test_cancel_keeps_the_old_transcript(scene: Scene) -> None:
    world, staff = scene.world, scene.staff
    await card(staff, Side.INBOX)
    await staff.tap(say(staff, "voice.transcribe_button"))
    await staff.send("第一次整理的文字稿。")
    await staff.tap(say(staff, "voice.retranscribe_button"))
    assert staff.last == say(
        staff, "voice.ask_new_transcript", tracking_no=VOICE_NO, minimum=2, maximum=TRANSCRIPT_MAX
    )
    assert only(await staff.send("/opinions")).text == say(staff, "voice.transcript_in_progress")
    assert only(await staff.send("/cancel")).text == say(staff, "voice.transcript_cancelled")
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == "第一次整理的文字稿。"
    # and the Cancel button does the same
    await staff.tap(say(staff, "voice.retranscribe_button"))
    await staff.tap(say(staff, "voice.cancel_button"))
    assert await world.conversation_state("voice_transcript", STAFF_ID) is None
    await staff.send("这句不是文字稿。")
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == "第一次整理的文字稿。"


async def test_the_transcript_step_survives_a_restart(scene: Scene) -> None:
    world, staff = scene.world, scene.staff
    await card(staff, Side.STAFF)
    await staff.tap(say(staff, "voice.transcribe_button"))
    await world.crash_and_restart()
    await staff.send("重启以后接着输入的文字稿。")
    assert staff.seen[-2].text == say(staff, "voice.transcript_saved", tracking_no=VOICE_NO)
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == "重启以后接着输入的文字稿。"


# --- privacy -------------------------------------------------------------------------------


async def test_forget_erases_the_voice_and_play_then_says_it_is_gone(scene: Scene) -> None:
    world, deputy, voter = scene.world, scene.deputy, scene.voter
    await card(deputy, Side.INBOX)  # the card with its Play button, before
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    erased = say(voter, "privacy.erased_opinions", count=1)
    assert erased in voter.last  # and it says the voice went too
    assert ("语音" if voter.language_code == "zh-hans" else "voice message") in erased
    (row,) = await world.rows(
        "SELECT text, voice_file_id, voice_seconds, author_id FROM opinions WHERE id = ?", (VOICE,)
    )
    assert row == {"text": "", "voice_file_id": None, "voice_seconds": SECONDS, "author_id": None}
    # the Play button already shown now says the voice is gone, and sends nothing
    alert = only(await deputy.tap(say(deputy, "voice.play_button")))
    assert (alert.kind, alert.text) == ("alert", say(deputy, "voice.erased", tracking_no=VOICE_NO))
    assert voices_sent(world, deputy) == []
    shown = await card(scene.staff, Side.STAFF)
    assert say(scene.staff, "voice.body_erased", length="0:45") in shown.text
    assert say(scene.staff, "privacy.erased_text") not in shown.text
    assert shown.buttons() == [say(scene.staff, "nav.back")]  # nothing to play or transcribe
    alert = only(await scene.staff.tap_data(Transcribe(side=Side.STAFF, opinion=VOICE).pack()))
    assert alert.text == say(scene.staff, "voice.erased", tracking_no=VOICE_NO)


async def test_a_voice_erased_while_staff_type_its_transcript_keeps_no_transcript(
    scene: Scene,
) -> None:
    world, staff, voter = scene.world, scene.staff, scene.voter
    await card(staff, Side.STAFF)
    await staff.tap(say(staff, "voice.transcribe_button"))
    await voter.send("/forget")
    await voter.tap(say(voter, "privacy.erase_button"))
    out = await staff.send("整理到一半，作者要求删除了。")
    assert only(out).text == say(staff, "voice.gone", tracking_no=VOICE_NO)
    (row,) = await world.rows("SELECT text FROM opinions WHERE id = ?", (VOICE,))
    assert row["text"] == ""
    assert await world.conversation_state("voice_transcript", STAFF_ID) is None


async def test_retention_erases_the_recording_of_a_closed_voice_opinion(
    world: World, person
) -> None:
    voter = person(2001, "王芳")
    await voice_opinion(world, voter)
    # closed long ago (set here: the rating steps are not what this test is about)
    long_ago = world.clock.now() - timedelta(days=800)
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE opinions SET status = 'closed', updated_at = ?, text = '已整理的文字稿。'",
            (stamp(long_ago),),
        )
    assert await world.services.privacy.run_retention() == 1
    (row,) = await world.rows("SELECT text, voice_file_id, voice_seconds, author_id FROM opinions")
    assert row == {
        "text": "已整理的文字稿。",  # the office's record
        "voice_file_id": None,
        "voice_seconds": SECONDS,
        "author_id": None,
    }
    assert await world.services.privacy.run_retention() == 0


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_mydata_lists_a_voice_opinion_with_its_length(
    world: World, person, code: str, locale: str
) -> None:
    voter = person(2001, "王芳", code)
    file_id = await voice_opinion(world, voter)
    await voter.send("/mydata")
    calls = world.api.calls_to("sendDocument")
    data = json.loads(next(iter(calls[-1].files.values())))
    (opinion,) = data["opinions"]
    assert opinion["text"] == ""
    assert opinion["voice"] == {
        "length": "0:45",
        "recording_kept": True,
        "note": say(voter, "voice.export_note"),
    }
    assert file_id not in json.dumps(data)  # a key to the recording, not data of theirs


# --- figures ------------------------------------------------------------------------------


async def test_figures_count_a_voice_opinion_like_a_typed_one(scene: Scene) -> None:
    world = scene.world
    month = Period.of(date(2026, 11, 1), date(2026, 11, 30))
    report = await world.services.figures.compute(month, Area.district())
    assert report.opinions.opinions_received == 2  # the staff's typed one and the voice
    assert report.opinions.by_category == {"urban": 2}
    # staff accept the voice opinion from its card: it counts as accepted
    await card(scene.staff, Side.STAFF)
    await scene.staff.tap(say(scene.staff, "handling.accept"))
    report = await world.services.figures.compute(month, Area.district())
    assert report.opinions.accepted == 1
