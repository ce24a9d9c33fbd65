"""/mydata: everything stored about the person as one JSON file (UTF-8, indented, instants
in the local zone with their offset), never another voter's data; and every column of the
schema that refers to a person is either exported or excluded on purpose."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.runtime.buttons.inbox import Claim, Compose
from bot.services.privacy import EXPORTED, NOT_EXPORTED, NOTICE_VERSION
from tests.support.consultation_seed import add_comment, seed_consultation
from tests.support.inbox import submit
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, invite_deputy, only, say
from tests.support.world import World

OPINION = "小区东门的路灯坏了一个多月，晚上出行很不安全。"
ANSWER = "已联系街道市政部门，本周内修复东门路灯。"
OTHER = "菜市场门口占道经营严重，行人无法通行。"
COMMENT = "建议在第二条中增加对村级养老设施的支持。"
DRAFT = "公园的健身器材坏了好几件，希望尽快更换。"


async def scene(world: World, person, admin: Person, code: str) -> tuple[Person, Person]:
    """A voter (王芳) with an answered opinion, a comment on a draft law and an opinion
    draft in progress; another voter (钱多多) with an opinion of their own."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2001, "王芳", code)
    await submit(voter, OPINION, anonymous=False)
    other: Person = person(2002, "钱多多", code)
    await submit(other, OTHER, anonymous=False)
    await deputy.tap_data(Claim(opinion=1).pack())
    await deputy.tap_data(Compose(step="answer", opinion=1).pack())
    await deputy.send(ANSWER)
    draft = await seed_consultation(world, closed=False, invitees={2001: "voter"})
    await add_comment(world, draft.id, 2001, article=1, text=COMMENT, show_name=True)
    await add_comment(world, draft.id, 2002, article=1, text="另一位选民的意见内容。")
    async with world.db.transaction() as tx:  # a notice held until tomorrow
        tomorrow = world.clock.now() + timedelta(days=1)
        await world.services.outbox.notify(tx, 2001, "privacy.thanks", not_before=tomorrow)
    await voter.send("/opinion")
    await voter.tap(say(voter, "category.urban"))
    await voter.send(DRAFT)
    await world.outbox.drain()  # the notices due now are sent: only tomorrow's one waits
    return voter, other


def sent_file(world: World, chat_id: int) -> tuple[bytes, str]:
    """The last document sent to `chat_id`: its bytes and caption."""
    calls = [c for c in world.api.calls_to("sendDocument") if int(c.params["chat_id"]) == chat_id]
    assert calls, "no file was sent"
    return next(iter(calls[-1].files.values())), calls[-1].params["caption"]


def instants(value: Any, key: str = "") -> list[str]:
    """Every value under a key naming an instant, anywhere in the document."""
    if isinstance(value, dict):
        return [i for k, v in value.items() for i in instants(v, k)]
    if isinstance(value, list):
        return [i for v in value for i in instants(v, key)]
    named = key == "at" or key.endswith("_at") or key == "not_before"
    return [value] if named and isinstance(value, str) else []


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_mydata_holds_everything_about_the_person_and_no_other_voter(
    world: World, person, admin: Person, code: str, locale: str
) -> None:
    voter, _ = await scene(world, person, admin, code)
    reply = await voter.send("/mydata")

    content, caption = sent_file(world, voter.id)
    assert caption == say(voter, "privacy.mydata_caption")
    assert [o.kind for o in reply] == ["document"]
    # the file as the service makes it (the fake Telegram keeps no file names)
    user = await world.services.users.get(voter.id)
    assert user is not None
    made = await world.services.privacy.export(user, world.services.i18n.texts(locale))
    assert made.filename == "jiazhan-mydata-2001-2026-11-26.json"
    assert made.content == content
    text = content.decode("utf-8")
    assert "王芳" in text and "\n  " in text  # not \\u-escaped, indented
    data = json.loads(text)

    assert data["account"]["telegram_id"] == 2001
    assert data["account"]["full_name"] == "王芳"
    assert data["account"]["station_name"] == "学院路第一联络站"
    assert data["account"]["consent_version"] == NOTICE_VERSION
    texts = world.services.i18n.texts(locale)
    assert data["notes"] == {
        "about": texts("privacy.export_about"),
        "secret_ballots": texts("privacy.export_secret_ballots"),
        "duty_records": texts("privacy.export_duty_records"),
    }
    assert data["deputy"] is None and data["liaison"] is None

    (opinion,) = data["opinions"]
    assert (opinion["tracking_no"], opinion["text"], opinion["status"]) == (
        "HD-2026-000001",
        OPINION,
        "answered",
    )
    assert opinion["show_name"] is True and opinion["handled_by"] == "张三"
    history = [(h["what"], h["by"]) for h in opinion["history"]]
    assert ("submitted", say(voter, "privacy.export_you")) in history
    assert ("answered", "张三") in history
    assert any(h["note"] == ANSWER for h in opinion["history"])

    (comment,) = data["consultation_comments"]
    assert (comment["text"], comment["show_name"], comment["adopted"]) == (COMMENT, True, False)
    assert comment["consultation_title"] == "《北京市乡村振兴促进条例（草案）》"
    assert data["consultations_invited_to"][0]["kind"] == "voter"
    (draft,) = data["drafts"]
    assert (draft["kind"], draft["data"]["text"]) == ("opinion", DRAFT)
    assert [(c["name"], c["step"]) for c in data["conversations"]] == [("opinion", "photos")]
    assert data["secret_ballots"] == [] and data["project_follows"] == []
    assert [m["message_key"] for m in data["messages_waiting"]] == ["privacy.thanks"]

    # every instant in the local zone, with its offset
    found = instants(data)
    assert len(found) > 10
    for value in found:
        assert datetime.fromisoformat(value).utcoffset() is not None, value
        assert value.endswith("+08:00"), value

    # nothing of the other voter
    for theirs in ("钱多多", OTHER, "HD-2026-000002", "另一位选民的意见内容"):
        assert theirs not in text, theirs
    assert not re.search(r"\b2002\b", text)


async def test_mydata_in_the_middle_of_a_conversation_keeps_it(
    world: World, person, admin: Person
) -> None:
    voter, _ = await scene(world, person, admin, "zh-hans")
    await voter.send("/mydata")
    assert json.loads(sent_file(world, voter.id)[0])["account"]["telegram_id"] == 2001
    assert await world.conversation_state("opinion", 2001) == "photos"


async def test_mydata_of_a_stranger_holds_only_the_id(world: World, person) -> None:
    stranger: Person = person(7301, "陌生人", "en")
    await stranger.send("hello")
    only(await stranger.send("/mydata"))
    data = json.loads(sent_file(world, 7301)[0])
    assert data["account"]["telegram_id"] == 7301
    assert data["account"]["full_name"] == "" and data["account"]["consent_at"] is None
    assert data["opinions"] == [] and data["drafts"] == []
    assert "陌生人" not in json.dumps(data, ensure_ascii=False)


# --- every table that refers to a person is accounted for ---------------------------------

# Column names that refer to a person, whatever table they are in; and any foreign key to
# the tables of people.
PERSON_NAME = re.compile(
    r"(^|_)(telegram|user|author|deputy|voter|actor|holder|recipient|chat|staff|person|"
    r"member|visitor|claimer|owner)_id$|_by$"
)
PEOPLE_TABLES = {"users", "deputies", "department_liaisons"}


async def person_columns(world: World) -> set[tuple[str, str]]:
    tables = [
        r["name"]
        for r in await world.rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    found = set()
    for table in tables:
        for column in await world.rows(f'SELECT name FROM pragma_table_info("{table}")'):
            if PERSON_NAME.search(column["name"]):
                found.add((table, column["name"]))
        for key in await world.rows(f'SELECT * FROM pragma_foreign_key_list("{table}")'):
            if key["table"] in PEOPLE_TABLES:
                found.add((table, key["from"]))
    return found


async def test_every_column_referring_to_a_person_is_exported_or_excluded(world: World) -> None:
    found = await person_columns(world)
    assert ("opinions", "author_id") in found and ("visits", "deputy_id") in found
    unplaced = sorted(found - EXPORTED - set(NOT_EXPORTED))
    assert not unplaced, f"place these in bot.services.privacy EXPORTED or NOT_EXPORTED: {unplaced}"
    assert not EXPORTED & set(NOT_EXPORTED)
    # the lists name real columns (a renamed one would leave a stale entry)
    columns = {
        (t["name"], c["name"])
        for t in await world.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        for c in await world.rows(f'SELECT name FROM pragma_table_info("{t["name"]}")')
    }
    assert not (EXPORTED | set(NOT_EXPORTED)) - columns
    assert all(reason.strip() for reason in NOT_EXPORTED.values())


async def test_a_table_added_later_is_caught(world: World) -> None:
    async with world.db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE visitor_badges (id INTEGER PRIMARY KEY,"
            " holder INTEGER REFERENCES users(telegram_id), issued_by INTEGER)"
        )
    unplaced = (await person_columns(world)) - EXPORTED - set(NOT_EXPORTED)
    assert unplaced == {("visitor_badges", "holder"), ("visitor_badges", "issued_by")}


async def test_a_waiting_menu_update_is_no_message_waiting(
    world: World, person, admin: Person
) -> None:
    """A command menu queued for the person (bot.runtime.menus) is not a message to them: the
    export lists only messages, the one held until tomorrow."""
    voter, _ = await scene(world, person, admin, "zh-hans")
    await world.outbox.stop()  # nothing goes out meanwhile
    async with world.db.transaction() as tx:
        await world.services.outbox.refresh_menu(tx, voter.id)
    menu = "SELECT state FROM outbox WHERE chat_id = ? AND sets_menu = 1"
    assert await world.rows(menu, (voter.id,)) == [{"state": "queued"}]
    user = await world.services.users.get(voter.id)
    assert user is not None
    made = await world.services.privacy.export(user, world.services.i18n.texts("zh_CN"))
    waiting = json.loads(made.content)["messages_waiting"]
    assert [m["message_key"] for m in waiting] == ["privacy.thanks"]
