"""A suggestion's card: every step of its trail named in both languages (a voter reading only
the steps of the handling, a rating by its label), the outcome class labelled as the year of
its first 交办 has it, and the fullest card there can be still within one Telegram message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from bot.demo.telegram_html import parse_html, utf16_length
from bot.runtime.buttons.suggestions import SuggestionOpen
from bot.services.privacy import NOTICE_VERSION
from bot.services.suggestion_trail import EVENT_LABELS, VOTER_EVENTS, EventKind
from bot.services.suggestions import TrailEntry
from handlers.suggestions import render_trail
from storage.db import stamp
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say, texts_of
from tests.support.suggestion_seed import seed_assignment, seed_department
from tests.support.suggestions import NUMBER, draft_suggestion, send_opinion
from tests.support.world import SHANGHAI, World

LANGS = pytest.mark.parametrize("code", ["zh-hans", "en"])
OPINION = "学院路南口公交站没有遮雨棚，下雨天老人候车很不方便。"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_every_event_kind_is_named_in_both_languages(world: World, locale: str) -> None:
    texts = world.services.i18n.texts(locale)
    at = world.clock.now()
    labels = {kind: texts(EVENT_LABELS[kind]) for kind in EventKind}
    assert set(EVENT_LABELS) == set(EventKind)
    assert all(labels[kind] != EVENT_LABELS[kind] for kind in EventKind)  # translated
    assert len(set(labels.values())) == len(EventKind)  # and told apart
    trail = render_trail(texts, [TrailEntry(kind, at) for kind in EventKind], 100_000)
    assert trail.split("\n") == [
        texts("suggestion.event_line", at=texts.datetime(at), event=labels[kind])
        for kind in EventKind
    ]


async def record(world: World, suggestion_id: int, kind: EventKind, note: str = "") -> None:
    """A step of the trail, as the part that takes it records it."""
    trail = world.services.suggestions.trail
    async with world.db.transaction() as tx:
        await trail.record(tx, await trail.load(tx, suggestion_id), kind, 1, note)


def trail_lines(person: Person, text: str, at: datetime) -> list[str]:
    when = texts_of(person).datetime(at)
    return [line for line in text.split("\n") if line.startswith(when)]


def line(person: Person, at: datetime, kind: EventKind, note: str = "") -> str:
    when, event = texts_of(person).datetime(at), say(person, EVENT_LABELS[kind])
    if note:
        return say(person, "suggestion.event_line_note", at=when, event=event, note=note)
    return say(person, "suggestion.event_line", at=when, event=event)


@LANGS
async def test_the_voter_reads_only_the_steps_of_the_handling_and_the_deputy_the_rating(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    voter = person(2001, "王芳", code)
    await draft_suggestion(zhang, opinions=[await send_opinion(voter, OPINION)])
    world.clock.advance(days=1)
    at = world.clock.now()
    notes = {
        EventKind.COSIGNER_INVITED: "李四",
        EventKind.DECLINED: "内部意见",
        EventKind.REHANDLING: "代表的意见",
    }
    for kind in (
        EventKind.COSIGNER_INVITED,
        EventKind.ASSIGNED,
        EventKind.PRIORITY_ON,
        EventKind.ANSWERED,
        EventKind.RATED,
        EventKind.REHANDLING,
        EventKind.ANSWERED,
        EventKind.RATED,
        EventKind.CLOSED,
    ):
        await record(world, 1, kind, notes.get(kind, ""))
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE suggestions SET rating = 'basically', state = 'closed'")

    await voter.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    assert trail_lines(voter, voter.last, at) == [
        line(voter, at, kind)  # no notes: they may name people
        for kind in (
            EventKind.ASSIGNED,
            EventKind.ANSWERED,
            EventKind.REHANDLING,
            EventKind.ANSWERED,
            EventKind.CLOSED,
        )
    ]
    assert {EventKind.ASSIGNED, EventKind.CLOSED} <= VOTER_EVENTS

    await zhang.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    unsatisfied = say(zhang, "suggestion.rating.unsatisfied")
    basically = say(zhang, "suggestion.rating.basically")
    assert trail_lines(zhang, zhang.last, at) == [
        line(zhang, at, EventKind.COSIGNER_INVITED, "李四"),
        line(zhang, at, EventKind.ASSIGNED),
        line(zhang, at, EventKind.PRIORITY_ON),
        line(zhang, at, EventKind.ANSWERED),
        line(zhang, at, EventKind.RATED, unsatisfied),  # it was re-handled after
        line(zhang, at, EventKind.REHANDLING, "代表的意见"),
        line(zhang, at, EventKind.ANSWERED),
        line(zhang, at, EventKind.RATED, basically),
        line(zhang, at, EventKind.CLOSED),
    ]


async def test_the_outcome_class_is_labelled_as_the_year_of_its_first_assignment(
    world: World, person: Callable[..., Person], admin: Person
) -> None:
    """Assigned in December 2026, answered in January 2027: 2026's classes."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    await draft_suggestion(zhang)
    department = await seed_department(world, "区交通委")
    await seed_assignment(world, 1, department, at=datetime(2026, 12, 20, 10, tzinfo=SHANGHAI))
    answered = datetime(2027, 1, 10, 10, tzinfo=SHANGHAI)
    async with world.db.transaction() as tx:
        for year in (2026, 2027):
            await tx.execute(
                "INSERT INTO outcome_classes (year, code, label, position) VALUES (?, 'A', ?, 0)",
                (year, f"{year}年度的A类"),
            )
        await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
            " met_deputy, summary, recorded_by, answered_at, on_time)"
            " VALUES (1, 1, ?, 'A', 0, '已答复。', 1, ?, 1)",
            (department, stamp(answered)),
        )
        await tx.execute(
            "UPDATE suggestions SET state = 'answered', answered_at = ?, outcome_class = 'A'",
            (stamp(answered),),
        )
    await zhang.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    assert "2026年度的A类" in zhang.last and "2027年度的A类" not in zhang.last


def shown_length(text: str) -> int:
    return utf16_length(parse_html(text).strip())


@LANGS
async def test_the_fullest_card_stays_within_one_message(
    world: World, person: Callable[..., Person], admin: Person, code: str
) -> None:
    """Every part at its longest, full of characters HTML escapes and of emoji (two UTF-16
    code units each): lead, staff and voter each get the card, clipped, never sliced."""
    zhang = await invite_deputy(world, admin, person, 3001, "张三", language_code=code)
    voter = person(2001, "王芳", code)
    tracking_no = await send_opinion(voter, OPINION)
    body = ("路灯&<坏>了🚌" * 300)[:1500]
    await draft_suggestion(
        zhang, opinions=[tracking_no], title="关于&<>" + "学" * 55, reason=body, proposals=body
    )
    departments = [await seed_department(world, f"{i}&" + "部" * 58) for i in range(6)]
    await seed_assignment(world, 1, departments[0], departments[1:])
    async with world.db.transaction() as tx:
        for i in range(25):
            await tx.execute(
                "INSERT INTO users (telegram_id, role, locale, full_name, consent_at,"
                " consent_version, created_at) VALUES (?, 'deputy', 'zh_CN', '', ?, ?, ?)",
                (4000 + i, stamp(world.clock.now()), NOTICE_VERSION, stamp(world.clock.now())),
            )
            await tx.execute(
                "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, 1, ?)",
                (4000 + i, f"{i}&<代表>" + "名" * 22, stamp(world.clock.now())),
            )
            await tx.execute(
                "INSERT INTO suggestion_cosigners (suggestion_id, deputy_id, state, invited_at)"
                " VALUES (1, ?, 'confirmed', ?)",
                (4000 + i, stamp(world.clock.now())),
            )
        await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
            " met_deputy, summary, recorded_by, answered_at, on_time)"
            " VALUES (1, 1, ?, 'A', 0, ?, 1, ?, 1)",
            (departments[0], ("答复&<>🚌" * 600)[:3000], stamp(world.clock.now())),
        )
        await tx.execute(
            "UPDATE suggestions SET decline_reason = ?, rating = 'satisfied'", ("理由&<>" * 100,)
        )
    for i in range(80):
        await record(world, 1, EventKind.COMMITMENT_UPDATE, f"{i}:" + "进展&<>🚌" * 100)

    await zhang.send("/suggestions")
    await zhang.tap(next(b for b in zhang.buttons() if b.startswith(NUMBER)))
    await admin.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    await voter.tap_data(SuggestionOpen(suggestion=1, page=0, fresh=True).pack())
    for someone in (zhang, admin, voter):
        card = someone.last
        assert card.startswith(f"<b>{NUMBER}</b>"), card[:200]
        assert shown_length(card) <= 4096
        assert "&amp;&lt;" in card and "…" in card  # escaped, and clipped where it had to be
    for someone in (zhang, admin):  # the 80 steps fill what room is left, newest kept
        assert shown_length(someone.last) > 3900
        newest, oldest = (
            say(someone, "suggestion.event_line_note", at="", event="", note=n).strip()
            for n in ("79:", "0:")
        )
        assert newest in someone.last and oldest not in someone.last
        assert say(someone, "suggestion.card_reason", reason="")[:4] in someone.last
