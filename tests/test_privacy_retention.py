"""The nightly retention erasure: `retention_months` after an opinion was closed or declined,
its author's link, name shown, location and photos go (text and answer stay), and so do a
reception-desk visitor's name and phone; opinions still in hand are not touched. In batches,
idempotent, on the world's clock."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

import bot.services.privacy as privacy
from bot.app import SCHEDULER_KEY
from bot.runtime.buttons.inbox import Claim, Compose
from bot.services.suggestion_trail import add_months
from storage.db import stamp
from tests.support.inbox import Mail, submit
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.world import SHANGHAI, World

pytestmark = pytest.mark.world(outbox_per_chat_interval_seconds=0, backup_keep=0)

TEXTS = (
    "小区东门的路灯坏了一个多月，晚上出行很不安全。",
    "菜市场门口占道经营严重，行人无法正常通行。",
    "公园的健身器材坏了好几件，希望尽快更换。",
)


async def three_opinions(world: World, person, admin: Person) -> Person:
    """A voter's three opinions, named and with a photo and a place: the first declined,
    the second answered and rated (closed), the third still waiting for a deputy."""
    deputy = await invite_deputy(world, admin, person, 3001, "张三")
    voter: Person = person(2201, "王芳", "zh-hans")
    await submit(voter, TEXTS[0], anonymous=False)
    for text in TEXTS[1:]:
        await voter.send("/opinion")
        await voter.tap(say(voter, "category.urban"))
        await voter.send(text)
        await voter.send_photo("photo-x")
        await voter.tap(say(voter, "opinion.photos_done"))
        await voter.send_location(39.99, 116.35)
        await voter.tap(say(voter, "opinion.show_name"))
        await voter.tap(say(voter, "opinion.send"))
    mail = Mail(world)
    await deputy.tap_data(Claim(opinion=1).pack())
    await deputy.tap_data(Compose(step="decline", opinion=1).pack())
    await deputy.send("不属于本联络站受理范围，已转交相关部门。")
    await deputy.tap_data(Claim(opinion=2).pack())
    await deputy.tap_data(Compose(step="answer", opinion=2).pack())
    await deputy.send("已联系城管部门，本周开始整治。")
    await mail.take()
    await voter.tap(say(voter, "rate.solved_partly"))
    await voter.tap(say(voter, "rate.basically"))
    statuses = [r["status"] for r in await world.rows("SELECT status FROM opinions ORDER BY id")]
    assert statuses == ["declined", "closed", "submitted"]
    return voter


async def rows(world: World) -> list[dict[str, Any]]:
    return await world.rows(
        "SELECT id, author_id, show_name, latitude, longitude, photos, text FROM opinions"
        " ORDER BY id"
    )


async def add_desk_entry(world: World, opinion_id: int, claimed_by: int | None) -> None:
    """The reception-desk record of an opinion, as the desk leaves it (a visitor's name and
    phone, their spoken consent, the claim code)."""
    now = stamp(world.clock.now())
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO desk_entries (opinion_id, staff_id, visitor_name, visitor_phone,"
            " consent_noted_at, claim_code, claim_expires_at, claimed_by, claimed_at)"
            " VALUES (?, 1, '赵大爷', '13800000000', ?, ?, ?, ?, ?)",
            (opinion_id, now, f"code{opinion_id}", now, claimed_by, now if claimed_by else None),
        )


async def test_retention_erases_closed_and_declined_opinions_after_the_months(
    world: World, person, admin: Person
) -> None:
    await three_opinions(world, person, admin)
    await add_desk_entry(world, 1, claimed_by=2201)
    before = await rows(world)
    assert before[2]["author_id"] == 2201 and before[1]["latitude"] is not None
    closed = world.clock.now()

    world.clock.set(closed + timedelta(days=729))  # not yet 24 months
    assert await world.services.privacy.run_retention() == 0
    assert await rows(world) == before

    world.clock.set(closed + timedelta(days=732))
    assert await world.services.privacy.run_retention() == 2
    after = await rows(world)
    for row, text in zip(after[:2], TEXTS[:2], strict=True):
        assert row == {
            "id": row["id"],
            "author_id": None,
            "show_name": 0,
            "latitude": None,
            "longitude": None,
            "photos": "[]",
            "text": text,  # handled: the office keeps text and answer
        }
    assert after[2] == before[2]  # still in hand
    events = await world.rows("SELECT actor_id FROM opinion_events WHERE opinion_id IN (1, 2)")
    assert 2201 not in [e["actor_id"] for e in events]
    desk = (await world.rows("SELECT * FROM desk_entries"))[0]
    assert (desk["visitor_name"], desk["visitor_phone"], desk["claimed_by"]) == ("", "", None)

    # idempotent: nothing is left to do
    assert await world.services.privacy.run_retention() == 0
    assert await rows(world) == after


async def test_retention_works_in_batches(
    world: World, person, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    await three_opinions(world, person, admin)
    monkeypatch.setattr(privacy, "RETENTION_BATCH", 1)
    world.clock.advance(days=800)
    assert await world.services.privacy.run_retention() == 2
    assert [r["author_id"] for r in await rows(world)] == [None, None, 2201]


@pytest.mark.world(retention_months=1, outbox_per_chat_interval_seconds=0, backup_keep=0)
async def test_the_nightly_job_runs_the_retention_with_its_setting(
    world: World, person, admin: Person
) -> None:
    await three_opinions(world, person, admin)
    world.clock.advance(days=32)
    await world.app.bot_data[SCHEDULER_KEY].nightly()
    assert [r["author_id"] for r in await rows(world)] == [None, None, 2201]


def test_months_back_are_calendar_months() -> None:
    """The retention cutoff counts months back with suggestion_trail.add_months."""
    at = datetime(2026, 3, 31, 3, 0, tzinfo=SHANGHAI)
    assert add_months(at, -1) == datetime(2026, 2, 28, 3, 0, tzinfo=SHANGHAI)
    assert add_months(at, -24) == datetime(2024, 3, 31, 3, 0, tzinfo=SHANGHAI)
    assert add_months(at, -13) == datetime(2025, 2, 28, 3, 0, tzinfo=SHANGHAI)
    assert add_months(datetime(2024, 3, 29, tzinfo=SHANGHAI), -1) == datetime(
        2024, 2, 29, tzinfo=SHANGHAI
    )
