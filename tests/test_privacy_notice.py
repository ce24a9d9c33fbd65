"""/privacy: the notice in full and what is stored about the person now, before consent and
after; its buttons work before consent too. A new notice version asks everyone again before
anything else, keeping their data meanwhile; declining leads to /forget's question."""

from __future__ import annotations

from datetime import datetime

import pytest

import bot.services.privacy as privacy
from storage.db import stamp
from tests.support.inbox import submit
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, agree, onboard, only, say
from tests.support.world import World


def details(world: World, locale: str) -> str:
    texts = world.services.i18n.texts(locale)
    return texts(
        "privacy.details",
        months=texts.number(world.settings.retention_months),
        days=texts.number(world.settings.unconsented_days),
    )


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_privacy_before_consent_says_only_the_id_is_stored(
    world: World, person, code: str, locale: str
) -> None:
    stranger: Person = person(7101, "陌生人", code)
    first = world.clock.now()
    reply = only(await stranger.send("/privacy", think=0))

    texts = world.services.i18n.texts(locale)
    assert reply.text.startswith(details(world, locale))
    assert texts("privacy.stored_only_id", id=7101, first=texts.datetime(first)) in reply.text
    assert texts("privacy.stored_name", name="陌生人") not in reply.text
    assert reply.buttons() == [
        say(stranger, "privacy.download_button"),
        say(stranger, "privacy.forget_button"),
        say(stranger, "privacy.agree"),
    ]
    row = await world.user_row(7101)
    assert (row["full_name"], row["consent_at"], row["notice_shown_at"]) == ("", None, stamp(first))

    # the buttons work before consent: the file, and /forget with nothing to erase
    await stranger.tap(say(stranger, "privacy.download_button"))
    assert world.api.calls_to("sendDocument")[-1].params["chat_id"] == 7101
    await stranger.tap(say(stranger, "privacy.forget_button"))
    assert stranger.last == say(stranger, "privacy.nothing_left")
    # and agreeing from there stores the consent
    await stranger.tap(say(stranger, "privacy.agree"))
    assert (await world.user_row(7101))["consent_at"] is not None


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_privacy_after_consent_lists_what_is_stored(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(7102, "王小明", code)
    await submit(voter, "小区门口的路灯坏了很久，晚上出行很不方便。")
    consent_at = (await world.user_row(7102))["consent_at"]
    reply = only(await voter.send("/privacy"))

    texts = world.services.i18n.texts(locale)
    row = await world.user_row(7102)
    expected = [
        texts("privacy.stored_title"),
        texts(
            "privacy.stored_id",
            id=7102,
            first=texts.datetime(datetime.fromisoformat(row["created_at"])),
        ),
        texts("privacy.stored_name", name="王小明"),
        texts("privacy.stored_station", station="学院路第一联络站"),
        texts("privacy.stored_language", language="中文" if locale == "zh_CN" else "English"),
        texts(
            "privacy.stored_consent",
            at=texts.datetime(datetime.fromisoformat(consent_at)),
            version=privacy.NOTICE_VERSION,
        ),
        texts("privacy.stored_counts", opinions=1, comments=0, drafts=0, follows=0, notices=0),
    ]
    assert reply.text == details(world, locale) + "\n\n" + "\n".join(expected)
    assert reply.buttons() == [
        say(voter, "privacy.download_button"),
        say(voter, "privacy.forget_button"),
    ]


async def test_privacy_works_in_the_middle_of_a_conversation(world: World, person) -> None:
    voter: Person = person(7103, "李雷", "en")
    await onboard(voter)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    reply = only(await voter.send("/privacy"))
    assert reply.text.startswith(details(world, "en"))
    assert await world.conversation_state("opinion", 7103) == "text"

    # the conversation goes on where it was
    await voter.send("The street lamp at the gate has been broken for weeks.")
    assert await world.conversation_state("opinion", 7103) == "photos"


# --- a new notice version ----------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_new_notice_version_asks_again_and_keeps_the_data_meanwhile(
    world: World, person, monkeypatch: pytest.MonkeyPatch, code: str, locale: str
) -> None:
    voter: Person = person(7104, "韩梅梅", code)
    await onboard(voter)
    assert (await world.user_row(7104))["consent_version"] == privacy.NOTICE_VERSION

    monkeypatch.setattr(privacy, "NOTICE_VERSION", privacy.NOTICE_VERSION + 1)
    before = await world.user_row(7104)
    reply = only(await voter.send("/my"))
    assert reply.text == say(voter, "privacy.renewed") + "\n\n" + say(voter, "privacy.notice")
    assert reply.buttons() == [say(voter, "privacy.agree"), say(voter, "privacy.decline")]
    assert await world.user_row(7104) == before  # nothing erased, nothing changed

    # a button is refused too, until the person agrees again
    alert = only(await voter.tap_data("my:p:0"))
    assert (alert.kind, alert.text) == ("alert", say(voter, "privacy.required"))

    world.clock.advance(days=1)
    await voter.tap(say(voter, "privacy.agree"))
    assert voter.saw(say(voter, "privacy.thanks"))
    row = await world.user_row(7104)
    assert (row["consent_version"], row["consent_at"]) == (
        privacy.NOTICE_VERSION,
        stamp(world.clock.now()),
    )
    assert (row["full_name"], row["station_id"], row["locale"]) == (
        before["full_name"],
        before["station_id"],
        locale,
    )
    reply = only(await voter.send("/help"))
    assert reply.text.startswith(say(voter, "help.title"))


async def test_a_consent_without_a_version_counts_as_version_one(
    world: World, person, monkeypatch: pytest.MonkeyPatch
) -> None:
    voter: Person = person(7105, "老用户", "zh-hans")
    await agree(voter)
    async with world.db.transaction() as tx:  # a consent stored before versions were kept
        await tx.execute("UPDATE users SET consent_version = NULL WHERE telegram_id = 7105")
    # version 1 is older than the notice now (2): asked again
    monkeypatch.setattr(privacy, "NOTICE_VERSION", 1)
    assert only(await voter.send("/help")).text.startswith(say(voter, "help.title"))
    monkeypatch.setattr(privacy, "NOTICE_VERSION", 2)
    assert only(await voter.send("/help")).text.startswith(say(voter, "privacy.renewed"))
    # /start shows the notice with both choices too
    reply = only(await voter.send("/start"))
    assert say(voter, "privacy.notice") in reply.text
    assert reply.buttons() == [say(voter, "privacy.agree"), say(voter, "privacy.decline")]


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_declining_a_new_notice_offers_forget(
    world: World, person, monkeypatch: pytest.MonkeyPatch, code: str, locale: str
) -> None:
    voter: Person = person(7106, "不同意", code)
    await submit(voter, "公园的健身器材坏了，希望尽快修理更换。")
    monkeypatch.setattr(privacy, "NOTICE_VERSION", privacy.NOTICE_VERSION + 1)
    await voter.send("hello")

    reply = only(await voter.tap(say(voter, "privacy.decline")))
    assert reply.text == say(voter, "privacy.forget_question")
    await voter.tap(say(voter, "privacy.erase_button"))
    assert voter.last.startswith(say(voter, "privacy.erased_title"))
    row = await world.user_row(7106)
    assert (row["full_name"], row["consent_at"], row["consent_version"]) == ("", None, None)
    # a stranger again: asked as a newcomer, not "again"
    reply = only(await voter.send("hello"))
    assert reply.text.startswith(say(voter, "privacy.required"))
    assert reply.buttons() == [say(voter, "privacy.agree")]


# --- voice messages (notice version 3) -------------------------------------------------------

# What every text about the data must say of voices, written out so a catalog that drops it
# fails: that voices are kept and erased, that a voice is heard even from an anonymous
# voter, and that the copies played to deputies and staff stay in their chats.
VOICE_SAID = {
    "zh_CN": ("语音", "也能听到您的声音", "本机器人不会删除"),
    "en": ("voice message", "hear your voice", "the bot does not delete"),
}
FORGET_SAID = {
    "zh_CN": ("照片和语音", "语音的文字稿", "本机器人不会删除"),
    "en": ("photos or voice message", "a voice's transcript", "the bot does not delete"),
}


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_the_notice_says_what_a_voice_message_means(
    world: World, person, code: str, locale: str
) -> None:
    stranger: Person = person(7107, "新用户", code)
    await stranger.send("/start")
    notice = stranger.last
    assert say(stranger, "privacy.notice") in notice
    assert all(words in notice for words in VOICE_SAID[locale]), notice
    full = only(await stranger.send("/privacy")).text
    assert all(words in full for words in VOICE_SAID[locale]), full
    await stranger.tap(say(stranger, "privacy.agree"))
    await stranger.send("/forget")
    question = stranger.last
    assert question == say(stranger, "privacy.forget_question")
    assert all(words in question for words in FORGET_SAID[locale]), question


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_a_consent_to_the_notice_before_voices_is_asked_again(
    world: World, person, code: str, locale: str
) -> None:
    voter: Person = person(7108, "老选民", code)
    await onboard(voter)
    async with world.db.transaction() as tx:  # agreed to version 2, before voice opinions
        await tx.execute("UPDATE users SET consent_version = 2 WHERE telegram_id = 7108")
    assert privacy.NOTICE_VERSION == 3
    reply = only(await voter.send("/opinion"))
    assert reply.text == say(voter, "privacy.renewed") + "\n\n" + say(voter, "privacy.notice")
    assert VOICE_SAID[locale][1] in reply.text
    assert await world.conversation_state("opinion", 7108) is None
    await voter.tap(say(voter, "privacy.agree"))
    assert (await world.user_row(7108))["consent_version"] == 3
    reply = only(await voter.send("/help"))
    assert reply.text.startswith(say(voter, "help.title"))
