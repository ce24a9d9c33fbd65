"""Consultations, their invitees and comments written straight into the database, as opening
and commenting would leave them, so the report's tests know every figure they check. Rows
are inserted, not mocked; closing is state='closed', as the scheduler's close sets it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.services.privacy import NOTICE_VERSION
from storage.db import stamp
from tests.support.world import SHANGHAI, World

CLOSED_AT = datetime(2026, 11, 25, 18, 0, tzinfo=SHANGHAI)  # the day before World's clock
CREATED_AT = datetime(2026, 10, 20, 9, 0, tzinfo=SHANGHAI)

# A short draft in the shape the splitter leaves: each article's text opens with its 第N条.
ARTICLES: list[tuple[int | None, list[str], str]] = [
    (1, ["第一章 总则"], "第一条　为了全面实施乡村振兴战略，制定本条例。"),
    (
        2,
        ["第一章 总则"],
        "第二条　本市行政区域内的乡村振兴工作，适用本条例。\n（一）产业兴旺；\n（二）生态宜居。",
    ),
    (3, ["第二章 产业发展"], "第三条　区人民政府应当支持农村集体经济组织发展。"),
]


@dataclass
class Draft:
    """What a seeded consultation holds, for the test to refer to."""

    id: int
    questions: list[int] = field(default_factory=list)  # ids, in order


async def add_user(
    world: World,
    user_id: int,
    *,
    role: str = "voter",
    name: str = "",
    station_id: int | None = 1,
    locale: str = "zh_CN",
    deputy_name: str | None = None,
) -> None:
    """A consented account; a deputy gets their deputies row (named `deputy_name`)."""
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " consent_version, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                role,
                locale,
                name,
                station_id,
                stamp(CREATED_AT),
                NOTICE_VERSION,
                stamp(CREATED_AT),
            ),
        )
        if role == "deputy":
            await tx.execute(
                "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
                (user_id, deputy_name or name, station_id or 1, stamp(CREATED_AT)),
            )


async def seed_consultation(
    world: World,
    *,
    title: str = "《北京市乡村振兴促进条例（草案）》",
    source: str = "市人大常委会法制办",
    articles: list[tuple[int | None, list[str], str]] | None = None,
    questions: list[tuple[str, list[str]]] | None = None,
    closed: bool = True,
    invitees: dict[int, str] | None = None,
    feedback_at: datetime | None = None,
) -> Draft:
    """A consultation with its articles, key questions (text and options; no options: free
    text) and invitees (user id → kind); closed at CLOSED_AT unless `closed` is False (then
    open for a week)."""
    deadline = CLOSED_AT if closed else datetime(2026, 12, 3, 18, 0, tzinfo=SHANGHAI)
    invitees = invitees or {}
    async with world.db.transaction() as tx:
        cid = await tx.execute(
            "INSERT INTO consultations (title, summary, source, audience, deadline, state,"
            " invited, created_by, created_at, closed_at, feedback, feedback_at)"
            " VALUES (?, '', ?, 'everyone', ?, ?, ?, NULL, ?, ?, ?, ?)",
            (
                title,
                source,
                stamp(deadline),
                "closed" if closed else "open",
                len(invitees),
                stamp(CREATED_AT),
                stamp(deadline) if closed else None,
                "已反馈" if feedback_at else None,
                stamp(feedback_at) if feedback_at else None,
            ),
        )
        await tx.executemany(
            "INSERT INTO consultation_articles (consultation_id, position, number, heading_path,"
            " text) VALUES (?, ?, ?, ?, ?)",
            [
                (cid, position, number, json.dumps(path, ensure_ascii=False), text)
                for position, (number, path, text) in enumerate(
                    ARTICLES if articles is None else articles
                )
            ],
        )
        draft = Draft(cid)
        for position, (text, choices) in enumerate(questions or []):
            draft.questions.append(
                await tx.execute(
                    "INSERT INTO consultation_questions (consultation_id, position, text,"
                    " choices) VALUES (?, ?, ?, ?)",
                    (
                        cid,
                        position,
                        text,
                        json.dumps(choices, ensure_ascii=False) if choices else None,
                    ),
                )
            )
        await tx.executemany(
            "INSERT INTO consultation_invitees (consultation_id, user_id, kind) VALUES (?, ?, ?)",
            [(cid, user_id, kind) for user_id, kind in invitees.items()],
        )
    return draft


async def add_comment(
    world: World,
    consultation: int,
    author: int,
    kind: str = "voter",
    *,
    article: int | None = None,
    question: int | None = None,
    choice: str | None = None,
    text: str = "",
    station_id: int | None = None,
    show_name: bool = False,
    adopted: bool = False,
    withdrawn: bool = False,
    at: datetime | None = None,
) -> int:
    """One comment: on the article at position `article`, on key question `question`, or
    (neither) on the whole draft. A voter's carries their station (1 unless given)."""
    when = at or CLOSED_AT - timedelta(days=2)
    if kind == "voter" and station_id is None:
        station_id = 1
    async with world.db.transaction() as tx:
        return await tx.execute(
            "INSERT INTO consultation_comments (consultation_id, author_id, article_position,"
            " question_id, choice, text, author_kind, station_id, show_name, adopted,"
            " created_at, updated_at, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                consultation,
                author,
                article,
                question,
                choice,
                text,
                kind,
                station_id,
                int(show_name),
                int(adopted),
                stamp(when),
                stamp(when),
                stamp(when + timedelta(hours=1)) if withdrawn else None,
            ),
        )
