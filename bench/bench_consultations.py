"""Draft-law consultations at the scale of a district, with checks that can fail.

One SQLite file, one run, in three parts, each checked against what the bench built (never
against what the bot reports):

1. Opening. A 120-article draft (6 章, 7 节, one article long enough for two pages), its
   headings written with cn2an.an2cn, is opened for "everyone": 20,000 voters (100 of them
   with notices off: invited, their prompt left for the outbox to skip) and 500 deputies in
   the audience, and a few people outside it (no consent, inactive, staff).
   `ConsultationService.open` is timed. Every invitee must get exactly one prompt in the
   outbox and one invitee row, nobody else; the articles must be the bench's.
2. Reading. 30,000 comments (Zipf-like over the articles, some articles with none, comments
   on the whole draft, answers to two multiple-choice key questions) and 300 withdrawn ones
   are inserted in bulk. Deputies turn the pages ▶ through every article and ◀ back, through
   the real Application over the fake Bot API; each page must be the article expected, with
   the comment count the bench inserted for it.
3. Reporting. At the deadline the scheduler's `run_due` closes it; the chat summary, the
   .xlsx and the .docx are timed and read back (openpyxl, python-docx) against the truth.

Each timing has a baseline from the same run, and the ratio is printed. Every check prints
PASS or FAIL; `--break KIND` injects a fault in the bench (never in the bot) to show a check
failing.

Run from the project root:  .venv/bin/python -m bench.bench_consultations  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import itertools
import json
import logging
import os
import random
import re
import statistics
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

import cn2an
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from openpyxl import Workbook, load_workbook
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, Defaults

from bench.bench_deputies import APOLOGIES, Check, Client, latest_message, percentile
from bench.bench_updates import LogTally
from bot.app import build_application
from bot.clock import FixedClock
from bot.demo.botapi import FakeBotAPI, Output, Refused, check_text
from bot.i18n import Texts
from bot.runtime.buttons.consultation_report import ReportOpen
from bot.runtime.buttons.consultations import ReadArticle, ReadOpen
from bot.services import Services, build_services
from bot.services.consultations import ConsultationPlan, QuestionPlan
from bot.services.draft_split import article_label
from bot.settings import load_settings
from handlers.consultation_report import TOP_ARTICLES, render_summary
from storage import Database
from storage.db import stamp
from storage.models import ConsultationAudience
from tests.support.world import SHANGHAI, TOKEN

STREETS = 29
STATIONS_PER_STREET = 3
FIRST_DEPUTY = 300_000_001
FIRST_VOTER = 400_000_001
STAFF_ID = 500_000_001
FIRST_OUTSIDER = 600_000_001
# Voters in the audience who turned notices off: invited (they may read and comment), their
# prompt queued for the outbox to skip.
OPTED_OUT = 100
# People outside the audience: (why, role, consented, active, notices on, how many)
OUTSIDERS = (
    ("voter without consent", "voter", False, True, True, 200),
    ("inactive voter", "voter", True, False, True, 50),
    ("inactive deputy", "deputy", True, False, True, 5),
)

# The consultation's life: opened, read and commented on, closed by the sweep.
OPENED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
LAST_DAY = date(2026, 4, 1)  # comments close at its end
READ_AT = datetime(2026, 3, 29, 20, 0, tzinfo=SHANGHAI)  # every comment made by then
CLOSE_AT = datetime(2026, 4, 2, 0, 5, tzinfo=SHANGHAI)  # the sweep after the deadline

TITLE = "《北京市某区乡村振兴促进条例（草案）》"
SOURCE = "市人大常委会法制办"
CHAPTERS = ("总则", "规划与建设", "产业发展", "生态保护", "乡风文明", "附则")
SECTIONS = {
    1: ("村庄规划", "基础设施", "公共服务"),
    3: ("耕地保护", "水源保护", "垃圾治理", "监督"),
}
TOPICS = ("村集体经济组织", "农业经营主体", "区农业农村部门", "乡镇人民政府", "村民委员会")
QUESTIONS = (
    (
        "您是否赞成设立乡村振兴专项资金？",
        ("赞成", "基本赞成", "不赞成", "说不清"),
        (5, 2.5, 1.5, 1),
    ),
    ("村庄规划的期限以多长为宜？", ("三年", "五年", "十年"), (3, 6, 1)),
)
# Shares of the comments (of 30): on articles, the whole draft, question 1, question 2.
SHARES = (23, 2, 3, 2)
WITHDRAWN_PER_30K = 300  # withdrawn comments on top, which must count nowhere
DEPUTY_SHARE = 0.3  # of the comments on articles and the whole draft
NAMED_SHARE = 0.3  # voters who chose to show their name
NO_COMMENTS_EVERY = 24  # every 24th article gets no comment at all
LONG_PARAGRAPH = 1_200  # the long article: 4 paragraphs of this many characters
PAGE_BUDGET = 3_500  # what one page holds of an article (consultation_comments.PAGE_BUDGET)
START_CHARS = 40  # how much of a page's text the bench looks for
SERIAL = re.compile(r"〔(\d{6})〕")

BREAKS = {
    "drop-invitee": "one prompt row is deleted from the outbox after opening",
    "double-prompt": "one invitee's prompt is queued a second time",
    "stray-prompt": "a prompt is queued for a voter without consent",
    "drop-article": "the last article's row is deleted after opening",
    "edit-article": "one article's text is changed in the database after opening",
    "extra-comment": "one comment the truth does not know is inserted on the first article",
    "wrong-page": "every 25th tap goes to another article than the ▶/◀ button leads to",
    "slow": "each timed region waits: 2.1 s in opening, 3.1 s in each report, 25 ms a tap",
}


# --- the district ------------------------------------------------------------------------


@dataclass
class People:
    """Who the bench created: the audience, and those outside it."""

    deputies: list[int]
    voters: list[int]  # the last OPTED_OUT of them turned notices off
    outsiders: dict[int, str]  # id → why not in the audience
    station_of: dict[int, int]
    station_names: dict[int, str]
    names: dict[int, str]  # a deputy's deputies.name, a voter's full name

    @property
    def audience(self) -> list[int]:
        return self.deputies + self.voters

    @property
    def opted_out(self) -> set[int]:
        return set(self.voters[len(self.voters) - OPTED_OUT :])


async def populate(db: Database, now: datetime, deputies: int, voters: int) -> People:
    """Streets, stations, users and deputies in bulk SQL, as bench_deputies does."""
    stations = STREETS * STATIONS_PER_STREET
    names = {
        z * STATIONS_PER_STREET + s + 1: f"联络站{z:02d}-{s}"
        for z in range(STREETS)
        for s in range(STATIONS_PER_STREET)
    }
    deputy_ids = [FIRST_DEPUTY + i for i in range(deputies)]
    voter_ids = [FIRST_VOTER + i for i in range(voters)]
    station_of = {u: i % stations + 1 for ids in (deputy_ids, voter_ids) for i, u in enumerate(ids)}
    people = People(deputy_ids, voter_ids, {}, station_of, names, {})
    at = stamp(now)
    users: list[tuple[object, ...]] = []  # id, role, name, station, consent, active, notices
    for d in deputy_ids:
        people.names[d] = f"代表{d - FIRST_DEPUTY + 1:03d}"
        users.append((d, "deputy", people.names[d], station_of[d], at, 1, 1))
    opted_out = people.opted_out
    for v in voter_ids:
        people.names[v] = f"选民{v - FIRST_VOTER + 1:05d}"
        notices = 0 if v in opted_out else 1
        users.append((v, "voter", people.names[v], station_of[v], at, 1, notices))
    outsider = itertools.count(FIRST_OUTSIDER)
    outside_deputies = []
    for why, role, consented, active, notices, count in OUTSIDERS:
        for _ in range(count):
            user = next(outsider)
            people.outsiders[user] = why
            station_of[user] = user % stations + 1
            consent = at if consented else None
            users.append((user, role, f"局外{user}", station_of[user], consent, active, notices))
            if role == "deputy":
                outside_deputies.append(user)
    people.outsiders[STAFF_ID] = "staff"
    users.append((STAFF_ID, "staff", "工作人员", None, at, 1, 1))
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO streets (id, name) VALUES (?, ?)",
            [(z + 1, f"街镇{z:02d}") for z in range(STREETS)],
        )
        await tx.executemany(
            "INSERT INTO stations (id, street_id, name, address) VALUES (?, ?, ?, '')",
            [(s, (s - 1) // STATIONS_PER_STREET + 1, name) for s, name in names.items()],
        )
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, full_name, station_id, consent_at,"
            " active, notices, created_at) VALUES (?, ?, 'zh_CN', ?, ?, ?, ?, ?, ?)",
            [(*row, at) for row in users],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(d, people.names[d], station_of[d], at) for d in deputy_ids]
            + [(d, f"局外{d}", station_of[d], at) for d in outside_deputies],
        )
    return people


# --- the draft -----------------------------------------------------------------------------


def numeral(number: int) -> str:
    return str(cn2an.an2cn(number))


@dataclass(frozen=True)
class Article:
    """One article as the bench wrote it, with the pages it expects it shown in."""

    position: int
    number: int
    path: tuple[str, ...]
    text: str
    pages: tuple[str, ...]


@dataclass
class Draft:
    """The draft's whole text, as staff would paste it, and its articles in order."""

    text: str
    articles: list[Article]
    chapters: int
    sections: int


def filler(start: str, length: int) -> str:
    """A paragraph of `length` characters that begins with `start` and ends in 。."""
    body = "乡村振兴工作应当坚持农业农村优先发展，统筹推进产业、人才、文化、生态和组织振兴，"
    text = start + body * (length // len(body) + 1)
    return text[: length - 1] + "。"


def pages_of(paragraphs: list[str]) -> tuple[str, ...]:
    """The pages the bench expects: whole paragraphs, as many as fit PAGE_BUDGET (every
    character here counts one UTF-16 unit and needs no escaping)."""
    pages: list[str] = []
    current = ""
    for index, paragraph in enumerate(paragraphs):
        piece = paragraph + ("\n" if index < len(paragraphs) - 1 else "")
        if current and len(current) + len(piece) > PAGE_BUDGET:
            pages.append(current)
            current = ""
        current += piece
    pages.append(current)
    return tuple(pages)


def article_paragraphs(number: int, long: bool) -> list[str]:
    head = f"第{numeral(number)}条　"
    if long:
        return [filler(head, LONG_PARAGRAPH)] + [
            filler(f"本条第{numeral(k)}款所称事项（编号{number:03d}-{k}），", LONG_PARAGRAPH)
            for k in range(2, 5)
        ]
    topic = TOPICS[number % len(TOPICS)]
    lines = [f"{head}{topic}（编号{number:03d}）应当将乡村振兴工作纳入年度计划，统筹推进。"]
    if number % 6 == 0:
        lines.append("有下列情形之一的，依照本条处理：")
        lines += [f"（{numeral(i)}）第{numeral(i)}种情形；" for i in range(1, 4)]
    if number % 5 == 0:
        lines.append("前款规定以外的事项，由区人民政府规定。")
    return lines


def build_draft(count: int) -> Draft:
    """The draft's text and what the bench knows of it: chapters of about 20 articles, 节
    in the 2nd and 4th chapters, the middle article long enough for two pages."""
    chapters = max(1, round(count / 20))
    shares = [count // chapters + (1 if c < count % chapters else 0) for c in range(chapters)]
    lines = [TITLE, "（征求意见稿）", ""]
    articles: list[Article] = []
    sections = 0
    long_position = count // 2 if count >= 4 else -1
    for c in range(chapters):
        title = CHAPTERS[c] if c < len(CHAPTERS) else f"其他规定之{numeral(c + 1)}"
        heading = f"第{numeral(c + 1)}章　{title}"
        lines.append(heading)
        titles = SECTIONS.get(c, ())
        groups: list[tuple[str | None, int]] = [(None, shares[c])]
        if titles and shares[c] >= len(titles):
            size = shares[c]
            groups = [
                (
                    f"第{numeral(s + 1)}节　{t}",
                    size // len(titles) + (1 if s < size % len(titles) else 0),
                )
                for s, t in enumerate(titles)
            ]
        for section, size in groups:
            path: tuple[str, ...] = (heading.replace("　", " "),)
            if section is not None:
                lines.append(section)
                sections += 1
                path = (*path, section.replace("　", " "))
            for _ in range(size):
                position = len(articles)
                paragraphs = article_paragraphs(position + 1, position == long_position)
                lines += [f"　　{p}" for p in paragraphs]
                articles.append(
                    Article(
                        position,
                        position + 1,
                        path,
                        "\n".join(paragraphs),
                        pages_of(paragraphs),
                    )
                )
    return Draft("\n".join(lines), articles, chapters, sections)


# --- comments -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Comment:
    """A comment as the bench inserted it; `serial` None is an answer by option only."""

    serial: int | None
    author: int
    kind: str
    position: int | None
    question: int | None  # 0, 1: the key question's place
    choice: str | None
    text: str
    show_name: bool
    created_at: datetime
    withdrawn: bool = False


@dataclass
class Truth:
    """Everything the reports must show, counted by the bench from what it inserted."""

    comments: list[Comment]
    per_article: dict[int, int] = field(default_factory=dict)  # position → live comments
    whole: int = 0
    choices: list[Counter[str]] = field(default_factory=list)  # per question
    commenters: dict[str, set[int]] = field(default_factory=dict)  # kind → people

    @property
    def live(self) -> list[Comment]:
        return [c for c in self.comments if not c.withdrawn]

    def tally(self, articles: int) -> None:
        self.per_article = dict.fromkeys(range(articles), 0)
        self.choices = [Counter() for _ in QUESTIONS]
        self.commenters = {"deputy": set(), "voter": set()}
        self.whole = 0
        for c in self.live:
            self.commenters[c.kind].add(c.author)
            if c.position is not None:
                self.per_article[c.position] += 1
            elif c.question is not None:
                self.choices[c.question][c.choice or ""] += 1
            else:
                self.whole += 1

    def ranked(self) -> list[tuple[int, int]]:
        """(position, comments) of the articles with comments, most-discussed first."""
        counted = [(p, n) for p, n in self.per_article.items() if n]
        return sorted(counted, key=lambda pn: (-pn[1], pn[0]))


def zipf_counts(total: int, positions: list[int], rng: random.Random) -> dict[int, int]:
    """`total` spread over `positions` as 1/rank (ranks shuffled), to the unit by largest
    remainder, so the counts add up exactly."""
    ranked = list(positions)
    rng.shuffle(ranked)
    weights = [1 / (rank + 1) for rank in range(len(ranked))]
    exact = [total * w / sum(weights) for w in weights]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])[: total - sum(counts)]:
        counts[i] += 1
    return dict(zip(ranked, counts, strict=True))


def plan_comments(total: int, draft: Draft, people: People, rng: random.Random) -> Truth:
    """Who comments on what, with which words, when."""
    on_articles, whole, q1, q2 = (round(total * share / sum(SHARES)) for share in SHARES)
    on_articles = total - whole - q1 - q2
    positions = [a.position for a in draft.articles if (a.position + 1) % NO_COMMENTS_EVERY]
    counts = zipf_counts(on_articles, positions or [0], rng)
    span = (READ_AT - OPENED_AT).total_seconds()
    serials = itertools.count(1)
    comments: list[Comment] = []

    def when() -> datetime:
        return OPENED_AT + timedelta(seconds=rng.uniform(60, span))

    def author() -> tuple[int, str]:
        if rng.random() < DEPUTY_SHARE:
            return rng.choice(people.deputies), "deputy"
        return rng.choice(people.voters), "voter"

    def words(serial: int, about: str) -> str:
        if serial % 1000 == 0:  # read as a formula by a careless spreadsheet writer
            return f"=SUM(A1:A9) 〔{serial:06d}〕{about}的数字应当核实。"
        if serial % 997 == 0:  # characters that must be escaped in XML and HTML
            return f"〔{serial:06d}〕建议将{about}中的“<条件>”改为“&条件”，并明确期限。"
        return f"〔{serial:06d}〕关于{about}，建议进一步明确责任主体和完成时限。"

    def written(position: int | None, withdrawn: bool = False) -> Comment:
        serial = next(serials)
        person, kind = author()
        about = f"第{position + 1}条" if position is not None else "草案总体"
        named = kind == "deputy" or rng.random() < NAMED_SHARE
        return Comment(
            serial,
            person,
            kind,
            position,
            None,
            None,
            words(serial, about),
            named,
            when(),
            withdrawn,
        )

    for position, count in counts.items():
        comments += [written(position) for _ in range(count)]
    comments += [written(None) for _ in range(whole)]
    audience = people.audience
    for index, answers in enumerate((q1, q2)):
        _, options, weights = QUESTIONS[index]
        for person in rng.sample(audience, min(answers, len(audience))):
            kind = "deputy" if person < FIRST_VOTER else "voter"
            choice = rng.choices(options, weights)[0]
            named = kind == "deputy" or rng.random() < NAMED_SHARE
            comments.append(Comment(None, person, kind, None, index, choice, "", named, when()))
    withdrawn = round(WITHDRAWN_PER_30K * total / 30_000)
    comments += [written(rng.choice(positions or [0]), withdrawn=True) for _ in range(withdrawn)]
    truth = Truth(comments)
    truth.tally(len(draft.articles))
    return truth


async def insert_comments(
    db: Database,
    consultation: int,
    comments: list[Comment],
    questions: list[int],
    station_of: dict[int, int],
) -> None:
    """The comments as the comment service leaves them (a deputy's with their station,
    named), in one transaction."""
    rows = [
        (
            consultation,
            c.author,
            c.position,
            questions[c.question] if c.question is not None else None,
            c.choice,
            c.text,
            c.kind,
            station_of[c.author],
            int(c.show_name),
            stamp(c.created_at),
            stamp(c.created_at),
            stamp(c.created_at + timedelta(hours=1)) if c.withdrawn else None,
        )
        for c in sorted(comments, key=lambda c: c.created_at)
    ]
    async with db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO consultation_comments (consultation_id, author_id, article_position,"
            " question_id, choice, text, author_kind, station_id, show_name, created_at,"
            " updated_at, withdrawn_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


# --- part 1: opening -----------------------------------------------------------------------


def plan_of(draft: Draft, services: Services, audience: ConsultationAudience) -> ConsultationPlan:
    return ConsultationPlan(
        title=TITLE,
        summary="本条例草案现公开征求意见。",
        source=SOURCE,
        text=draft.text,
        questions=[QuestionPlan(text=q, choices=list(options)) for q, options, _ in QUESTIONS],
        audience=audience,
        deadline=services.consultations.deadline_of(LAST_DAY),
    )


async def opening_floor(db: Database, audience: int) -> float:
    """The baseline: the same rows opening writes (an invitee row and an outbox row for each
    of the audience), as two bare INSERT … SELECT into copies of the two tables, their
    indexes included, in one transaction."""
    schema = await db.fetchall(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        " AND tbl_name IN ('outbox', 'consultation_invitees')"
    )
    async with db.transaction() as tx:
        for _, name, sql in schema:
            copy = re.sub(r"\b(outbox|consultation_invitees)\b", r"floor_\1", sql)
            copy = copy.replace(f" {name} ", f" floor_{name} ", 1)
            await tx.execute(copy)
    at = stamp(OPENED_AT)
    began = time.perf_counter()
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO floor_consultation_invitees (consultation_id, user_id, kind)"
            " SELECT 1, telegram_id, role FROM users WHERE role IN ('deputy', 'voter')"
            " AND consent_at IS NOT NULL AND active = 1"
        )
        await tx.execute(
            "INSERT INTO floor_outbox (chat_id, priority, message_key, params, not_before,"
            " created_at) SELECT user_id, 0, 'consult.prompt', '{}', ?, ?"
            " FROM floor_consultation_invitees",
            (at, at),
        )
    elapsed = time.perf_counter() - began
    copied = await db.scalar("SELECT count(*) FROM floor_outbox")
    if copied != audience:
        raise RuntimeError(f"the floor wrote {copied} rows, not {audience}")
    return elapsed


async def break_after_opening(kind: str | None, db: Database, cid: int, people: People) -> None:
    """--break faults in the database right after opening, before anything is checked."""
    async with db.transaction() as tx:
        if kind == "drop-invitee":
            await tx.execute(
                "DELETE FROM outbox WHERE id = (SELECT id FROM outbox WHERE chat_id = ?"
                " AND message_key = 'consult.prompt')",
                (people.voters[len(people.voters) // 2],),
            )
        elif kind in ("double-prompt", "stray-prompt"):
            victim = people.deputies[0]
            chat = victim if kind == "double-prompt" else FIRST_OUTSIDER  # not consented
            await tx.execute(
                "INSERT INTO outbox (chat_id, priority, message_key, params, respects_opt_out,"
                " not_before, created_at, buttons) SELECT ?, priority, message_key, params,"
                " respects_opt_out, not_before, created_at, buttons FROM outbox"
                " WHERE chat_id = ? AND message_key = 'consult.prompt'",
                (chat, victim),
            )
        elif kind == "drop-article":
            await tx.execute(
                "DELETE FROM consultation_articles WHERE consultation_id = ? AND position ="
                " (SELECT max(position) FROM consultation_articles WHERE consultation_id = ?)",
                (cid, cid),
            )
        elif kind == "edit-article":
            await tx.execute(
                "UPDATE consultation_articles SET text = replace(text, '应当', '可以')"
                " WHERE consultation_id = ? AND position = 3",
                (cid,),
            )


async def check_prompts(db: Database, cid: int, people: People, deadline: datetime) -> Check:
    """Exactly one prompt per invitee, nobody else prompted; each names the title and the
    deadline and carries the button that opens this consultation."""
    rows = await db.fetchall(
        "SELECT chat_id, params, buttons, respects_opt_out FROM outbox"
        " WHERE message_key = 'consult.prompt'"
    )
    per_chat = Counter(int(r[0]) for r in rows)
    audience = set(people.audience)
    missing = audience - set(per_chat)
    twice = [c for c, n in per_chat.items() if n > 1]
    stray = [c for c in per_chat if c not in audience]
    params = {"title": TITLE, "deadline_at": deadline.isoformat(), "consultation": cid}
    button = [[{"intent": "read_consultation", "target": cid}]]
    voters = set(people.voters)
    # a voter's prompt respects their choice (the outbox skips those who turned notices off);
    # a deputy's is always sent
    skipped_wrongly = sum(1 for r in rows if bool(r[3]) != (int(r[0]) in voters))
    otherwise = sum(
        1
        for _, given, buttons, _ in rows
        if json.loads(given) != params
        or [
            [{k: b.get(k) for k in ("intent", "target")} for b in r]
            for r in json.loads(buttons or "[]")
        ]
        != button
    )
    passed = not (missing or twice or stray or otherwise or skipped_wrongly) and len(rows) == len(
        audience
    )
    why = Counter(people.outsiders.get(c, "unknown") for c in stray)
    return Check(
        "a prompt for every invitee, once, nobody else",
        passed,
        f"{len(rows):,} prompt rows for {len(audience):,} invitees: {len(missing)} missing, "
        f"{len(twice)} more than once, {len(stray)} outside the audience"
        + (f" ({dict(why)})" if why else "")
        + f", {otherwise} without the title, the deadline or the read button of consultation "
        f"{cid}, {skipped_wrongly} with the wrong opt-out rule ({len(people.opted_out)} of the "
        "voters turned notices off)",
    )


async def check_invitees(db: Database, cid: int, people: People) -> Check:
    rows = await db.fetchall(
        "SELECT user_id, kind FROM consultation_invitees WHERE consultation_id = ?", (cid,)
    )
    got = {int(r[0]): str(r[1]) for r in rows}
    expected = {d: "deputy" for d in people.deputies} | {v: "voter" for v in people.voters}
    missing = set(expected) - set(got)
    stray = set(got) - set(expected)
    wrong_kind = [u for u in got if u in expected and got[u] != expected[u]]
    invited = await db.scalar("SELECT invited FROM consultations WHERE id = ?", (cid,))
    passed = not (missing or stray or wrong_kind) and invited == len(expected) == len(rows)
    return Check(
        "invitees: the audience exactly, with their kinds",
        passed,
        f"{len(rows):,} rows, invited = {invited:,} (expected {len(expected):,}): "
        f"{len(missing)} missing, {len(stray)} outside the audience, {len(wrong_kind)} of the "
        "wrong kind",
    )


async def check_articles(db: Database, cid: int, draft: Draft, services: Services) -> Check:
    articles = await services.consultations.repo.articles(cid)
    numbers = [a.number for a in articles]
    expected = [a.number for a in draft.articles]
    wrong = [
        a.number
        for a, mine in zip(articles, draft.articles, strict=False)
        if (a.position, a.number, tuple(a.heading_path), a.text)
        != (mine.position, mine.number, mine.path, mine.text)
    ]
    passed = numbers == expected and not wrong
    return Check(
        "the articles: numbers in order, heading paths, texts",
        passed,
        f"{len(articles)} articles numbered {numbers[0] if numbers else '-'}…"
        f"{numbers[-1] if numbers else '-'} (expected {len(expected)}, 1…{len(expected)}); "
        f"{len(wrong)} with another heading path or text" + (f": {wrong[:5]}" if wrong else ""),
    )


# --- part 2: turning pages -----------------------------------------------------------------


def button_data(message: dict[str, Any], label: str) -> str | None:
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for b in row:
            if b.get("text") == label:
                return str(b.get("callback_data"))
    return None


def has_button(message: dict[str, Any], data: str) -> bool:
    return any(
        b.get("callback_data") == data
        for row in message.get("reply_markup", {}).get("inline_keyboard", [])
        for b in row
    )


def leads_to(data: str | None, position: int, part: int, parts: int) -> bool:
    """Whether a ▶/◀ button's data opens the page (position, part); a part past the last
    stands for the last."""
    if data is None:
        return False
    try:
        tapped = ReadArticle.unpack(data)
    except ValueError:
        return False
    return tapped.position == position and min(tapped.part, parts - 1) == part


def expect_page(texts: Texts, article: Article, part: int, count: int) -> Callable[..., Any]:
    """The page shows the article's text from where this part starts, its heading, which
    part of how many, and the bench's comment count."""
    start = escape(article.pages[part].strip("\n")[:START_CHARS], quote=False)
    count_line = texts("consultations.page_comments", count=count)
    heading = escape(article.path[-1], quote=False)
    parts = len(article.pages)
    marker = texts("consultations.part", part=part + 1, parts=parts) if parts > 1 else None

    def check(outputs: list[Output]) -> str | None:
        shown = [o for o in outputs if o.kind in ("edit", "message") and o.markup]
        if not shown:
            return f"第{article.number}条: no page shown"
        text = shown[-1].text
        wrong = []
        if start not in text:
            first = text.split("\n\n", 1)[-1][:24]
            wrong.append(f"text begins {first!r}")
        if count_line not in text:
            said = re.search(r"💬[^\n]*", text)
            wrong.append(f"{said.group(0) if said else 'no count'} (inserted {count})")
        if heading not in text:
            wrong.append("heading missing")
        if marker is not None and marker not in text:
            wrong.append(f"no {marker}")
        if wrong:
            return f"第{article.number}条 part {part + 1}: " + ", ".join(wrong)
        return None

    return check


class Slowed:
    """--break slow: the Application as the bench's client sees it, every update 25 ms late
    inside the timed call (the bot itself is untouched)."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app = app
        self.bot = app.bot
        self.delay = delay

    async def process_update(self, update: Update) -> None:
        await asyncio.sleep(self.delay)
        await self.app.process_update(update)


@dataclass
class Walker:
    """One consultation read by deputies from its first page to its last and back."""

    client: Client
    api: FakeBotAPI
    texts: Texts
    consultation: int
    articles: list[Article]
    counts: dict[int, int]
    wrong_every: int = 0  # --break wrong-page: every n-th tap goes elsewhere
    taps: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    shown: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)

    def pages(self) -> list[tuple[Article, int]]:
        return [(a, part) for a in self.articles for part in range(len(a.pages))]

    async def walk(self, user: int) -> list[float]:
        """Open the consultation from /consultations, its first article from the contents,
        then ▶ to the end and ◀ back; the milliseconds of each ▶/◀ tap."""
        cid, texts = self.consultation, self.texts
        await self.client.command(user, "/consultations")
        message = latest_message(self.api, user)
        data = ReadOpen(consultation=cid).pack()
        if not has_button(message, data):
            self.client.problems.append(f"/consultations does not list consultation {cid}")
        await self.client.tap(user, message, data)
        sequence = self.pages()
        first, _ = sequence[0]
        message = latest_message(self.api, user)
        data = ReadArticle(consultation=cid, position=first.position, part=0).pack()
        if not has_button(message, data):
            self.client.problems.append(f"no button to 第{first.number}条 in the contents")
        await self.client.tap(user, message, data, self.expect(first, 0))
        route = [(page, "consultations.next") for page in sequence[1:]]
        route += [(page, "consultations.prev") for page in reversed(sequence[:-1])]
        times = []
        for (article, part), label in route:
            message = latest_message(self.api, user)
            offered = button_data(message, texts(label))
            data = offered or ""
            if not leads_to(offered, article.position, part, len(article.pages)):
                self.client.problems.append(
                    f"{texts(label)} leads to {offered!r}, not 第{article.number}条 part {part + 1}"
                )
                data = ReadArticle(consultation=cid, position=article.position, part=part).pack()
            if self.wrong_every and next(self.taps) % self.wrong_every == 0:
                elsewhere = (article.position + 7) % len(self.articles)
                data = ReadArticle(consultation=cid, position=elsewhere, part=0).pack()
            before = len(self.api.outputs)
            times.append(await self.client.tap(user, message, data, self.expect(article, part)))
            edits = [o for o in self.api.outputs[before:] if o.kind == "edit"]
            if edits:
                self.shown.append((edits[-1].text, edits[-1].markup))
        return times

    def expect(self, article: Article, part: int) -> Callable[..., Any]:
        return expect_page(self.texts, article, part, self.counts.get(article.position, 0))


async def bare_floor(shown: list[tuple[str, dict[str, Any] | None]]) -> list[float]:
    """The floor: a plain PTB Application whose one handler answers a tap and edits the
    message to the page the bot showed for it, over its own FakeBotAPI; the same taps."""
    api = FakeBotAPI()
    app = (
        Application.builder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .defaults(Defaults(parse_mode=ParseMode.HTML))
        .build()
    )

    async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None or query.data is None:
            return
        await query.answer()
        text, markup = shown[int(query.data)]
        reply = InlineKeyboardMarkup.de_json(markup, context.bot) if markup else None
        await query.edit_message_text(text, reply_markup=reply)

    app.add_handler(CallbackQueryHandler(on_tap))
    await app.initialize()
    user = FIRST_DEPUTY
    await app.bot.send_message(user, "…")
    client = Client(app, api, [])
    times = [
        await client.tap(user, latest_message(api, user), str(index)) for index in range(len(shown))
    ]
    await app.shutdown()
    if client.problems:
        raise RuntimeError(f"the bare floor went wrong: {client.problems[:3]}")
    return times


async def report_in_chat(
    app: Any, api: FakeBotAPI, apologies: list[str], cid: int, texts: Texts
) -> tuple[float, list[str], dict[str, bytes]]:
    """Staff tap the closed notice's report button: the summary, then the .xlsx and the
    .docx as documents. Returns the seconds, what was wrong, and the files sent (by kind)."""
    await app.bot.send_message(STAFF_ID, "…")  # the notice the button sits on
    documents_before = len(api.calls_to("sendDocument"))
    client = Client(app, api, apologies)
    began = time.perf_counter()
    await client.tap(STAFF_ID, latest_message(api, STAFF_ID), ReportOpen(consultation=cid).pack())
    seconds = time.perf_counter() - began
    files: dict[str, bytes] = {}
    captions = []
    for call in api.calls_to("sendDocument")[documents_before:]:
        data = next(iter(call.files.values()), b"")
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            kind = "xlsx" if "xl/workbook.xml" in archive.namelist() else "docx"
        files[kind] = data
        captions.append(str(call.params.get("caption", "")))
    problems = list(client.problems)
    summaries = [o for o in api.outputs if o.chat_id == STAFF_ID and o.kind == "message"]
    if not summaries or texts("report.summary_by_article") not in summaries[-1].text:
        problems.append("no summary in chat")
    expected = [texts("report.caption_xlsx"), texts("report.caption_docx")]
    if sorted(files) != ["docx", "xlsx"] or captions != expected:
        problems.append(f"documents sent: {sorted(files)} with captions {captions}")
    return seconds, problems, files


# --- part 3: the report --------------------------------------------------------------------


async def timed(runs: int, work: Callable[[], Awaitable[Any]]) -> tuple[list[float], Any]:
    seconds, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        seconds.append(time.perf_counter() - began)
    return seconds, result


def question_labels(texts: Texts) -> list[str]:
    return [
        texts("report.question", number=i + 1, question=q) for i, (q, _, _) in enumerate(QUESTIONS)
    ]


def check_summary(summary: Any, rendered: str, truth: Truth, people: People, texts: Texts) -> Check:
    """The figures against the truth; the chat text fits one message and names the
    most-discussed articles first."""
    wrong = []
    live = truth.live
    expected_invited = {"deputy": len(people.deputies), "voter": len(people.voters)}
    invited_kinds = {str(k): v for k, v in summary.invited_by_kind.items()}
    if summary.invited != len(people.audience) or invited_kinds != expected_invited:
        wrong.append(f"invited {summary.invited} {invited_kinds}")
    commenters = {k: len(v) for k, v in truth.commenters.items() if v}
    got_commenters = {str(k): v for k, v in summary.commenters_by_kind.items()}
    if summary.commenters != len({c.author for c in live}) or got_commenters != commenters:
        wrong.append(f"commenters {summary.commenters} {got_commenters}, truth {commenters}")
    if summary.comments != len(live):
        wrong.append(f"comments {summary.comments}, truth {len(live)}")
    if summary.whole != truth.whole:
        wrong.append(f"whole draft {summary.whole}, truth {truth.whole}")
    if summary.adopted:
        wrong.append(f"adopted {summary.adopted}, truth 0")
    listed = [(a.position, a.comments) for a in summary.articles]
    ranked = truth.ranked()
    if dict(listed) != dict(ranked):
        off = [(p, n, truth.per_article.get(p)) for p, n in listed if truth.per_article.get(p) != n]
        wrong.append(f"per-article counts: {len(off)} differ (position, shown, truth) {off[:3]}")
    if [n for _, n in listed] != sorted((n for _, n in listed), reverse=True):
        wrong.append("articles not most-discussed first")
    numbers = {a.position: a.number for a in summary.articles}
    if any(numbers[p] != p + 1 for p in numbers):
        wrong.append("article numbers")
    for index, answers in enumerate(summary.questions):
        expected = truth.choices[index]
        total = sum(expected.values())
        got = {c.choice: (c.count, c.percent) for c in answers.choices}
        want = {
            option: (expected[option], round(100 * expected[option] / total) if total else 0)
            for option in QUESTIONS[index][1]
        }
        if got != want or answers.answers != total or answers.free_text:
            wrong.append(f"question {index + 1}: {got} answers {answers.answers}, truth {want}")
    if len(summary.questions) != len(QUESTIONS):
        wrong.append(f"{len(summary.questions)} questions")
    try:
        check_text(rendered, "HTML")
    except Refused as refused:
        wrong.append(f"the chat text is refused: {refused}")
    lines = [
        texts(
            "report.summary_article",
            article=article_label(p + 1, texts),
            count=texts.number(n),
        )
        for p, n in ranked[:TOP_ARTICLES]
    ]
    at = [rendered.find(line) for line in lines]
    if -1 in at or at != sorted(at):
        wrong.append(f"the chat text's top articles are not the truth's {len(lines)} in order")
    return Check(
        "summary: invited, commenters, comments by article, answers",
        not wrong,
        "; ".join(wrong)
        if wrong
        else f"invited {summary.invited:,}, commenters {summary.commenters:,}, comments "
        f"{summary.comments:,} ({len(listed)} articles, whole {summary.whole:,}), "
        f"answers {', '.join(f'{a.answers:,}' for a in summary.questions)}; chat text "
        f"{len(rendered):,} characters",
    )


def expected_row(c: Comment, people: People, texts: Texts) -> tuple[str, str, str, str, str]:
    """(target, kind, station, name, text) as the .xlsx must show a comment."""
    if c.question is not None:
        target = question_labels(texts)[c.question]
    elif c.position is not None:
        target = article_label(c.position + 1, texts)
    else:
        target = texts("report.whole")
    kind = texts(f"report.kind_{c.kind}")
    station = people.station_names[people.station_of[c.author]]
    name = people.names[c.author] if c.show_name else texts("report.anonymous")
    return target, kind, station, name, c.text or c.choice or ""


def check_xlsx(data: bytes, truth: Truth, people: People, texts: Texts) -> Check:
    """Read back with openpyxl: one row per live comment, each as the bench wrote it;
    the summary sheet's count per article, for the whole draft and per option."""
    book = load_workbook(io.BytesIO(data), read_only=True)
    wrong: list[str] = []
    sheet = book[texts("report.sheet_comments")]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows))
    columns = [
        header.index(texts(f"report.col_{name}"))
        for name in ("target", "kind", "station", "name", "text")
    ]
    by_serial = {c.serial: c for c in truth.live if c.serial is not None}
    seen: Counter[int] = Counter()
    options: Counter[tuple[str, str]] = Counter()
    unknown = mismatched = count = 0
    first_mismatch = ""
    for row in rows:
        count += 1
        shown = tuple("" if row[i] is None else str(row[i]) for i in columns)
        found = SERIAL.search(shown[4])
        if found is None:
            options[(shown[0], shown[4])] += 1
            continue
        comment = by_serial.get(int(found.group(1)))
        if comment is None:
            unknown += 1
            continue
        seen[comment.serial or 0] += 1
        if shown != expected_row(comment, people, texts):
            mismatched += 1
            first_mismatch = first_mismatch or f"{shown} ≠ {expected_row(comment, people, texts)}"
    labels = question_labels(texts)
    want_options = Counter(
        {
            (labels[q], option): n
            for q, tally in enumerate(truth.choices)
            for option, n in tally.items()
        }
    )
    missing = len(set(by_serial) - set(seen))
    twice = sum(1 for n in seen.values() if n > 1)
    if count != len(truth.live):
        wrong.append(f"{count:,} comment rows, truth {len(truth.live):,}")
    if missing or twice or unknown or mismatched:
        wrong.append(
            f"{missing} comments missing, {twice} twice, {unknown} unknown, {mismatched} shown "
            f"otherwise" + (f" (first: {first_mismatch})" if first_mismatch else "")
        )
    if options != want_options:
        wrong.append(f"answers by option {dict(options)} ≠ {dict(want_options)}")
    summary_sheet = book[texts("report.sheet_summary")]
    per_label = {article_label(p + 1, texts): n for p, n in truth.per_article.items()}
    got_articles: dict[str, Any] = {}
    whole: Any = None
    got_options: dict[tuple[str, str], Any] = {}
    full_labels = [
        texts("report.question", number=i + 1, question=q) for i, (q, _, _) in enumerate(QUESTIONS)
    ]
    for row in summary_sheet.iter_rows(values_only=True):
        first = row[0] if row else None
        if first in per_label:
            got_articles[str(first)] = row[1]
        elif first == texts("report.whole"):
            whole = row[1]
        elif first in full_labels and len(row) > 2:
            got_options[(str(first), str(row[1]))] = row[2]
    want = {
        (full_labels[q], option): tally[option]
        for q, tally in enumerate(truth.choices)
        for option in QUESTIONS[q][1]
    }
    if got_articles != per_label:
        off = [k for k in per_label if got_articles.get(k) != per_label[k]]
        wrong.append(f"summary sheet: articles with another count: {off[:5]}")
    if whole != truth.whole:
        wrong.append(f"summary sheet: whole draft {whole}, truth {truth.whole}")
    if not all(got_options.get(k) == n for k, n in want.items()):
        wrong.append(f"summary sheet options {got_options} ≠ {want}")
    book.close()
    return Check(
        ".xlsx: every comment once, as inserted; the summary sheet's counts",
        not wrong,
        "; ".join(wrong)
        if wrong
        else f"{count:,} rows + header, {len(seen):,} comments with words and "
        f"{sum(options.values()):,} answers by option; {len(got_articles)} articles on the "
        "summary sheet",
    )


def check_docx(data: bytes, draft: Draft, truth: Truth, people: People, texts: Texts) -> Check:
    """Read back with python-docx: every article's text under its heading, in order, then
    exactly its comments (or 无意见); the whole draft's comments under theirs."""
    document = Document(io.BytesIO(data))
    labels = {article_label(a.number, texts): a.position for a in draft.articles}
    sections = {
        texts("report.doc_articles"): "articles",
        texts("report.doc_whole"): "whole",
        texts("report.doc_questions"): "questions",
    }
    none_line = texts("report.doc_no_comments")
    section, article = "", None
    order: list[int] = []
    bodies: dict[int, list[str]] = {}
    placed: dict[int, list[object]] = {}
    without: list[object] = []
    misplaced_where = 0
    by_serial = {c.serial: c for c in truth.live if c.serial is not None}
    for paragraph in document.paragraphs:
        # the style id straight from the XML: paragraph.style resolves the style part for
        # each paragraph, about 9 s for the report's 27,000
        style = paragraph._p.style
        text = paragraph.text
        if style == "Heading1":
            section, article = sections.get(text, text), None
            continue
        if style == "Heading3" and section == "articles":
            article = labels.get(text, -1)
            order.append(article)
            bodies[article] = []
            continue
        if style:
            continue
        target: object = article if section == "articles" else section
        found = SERIAL.search(text)
        if found:
            serial = int(found.group(1))
            placed.setdefault(serial, []).append(target)
            comment = by_serial.get(serial)
            if comment is not None:
                station = people.station_names[people.station_of[comment.author]]
                where = texts(
                    "report.kind_at_station",
                    kind=texts(f"report.kind_{comment.kind}"),
                    station=station,
                )
                if where not in text or comment.text not in text:
                    misplaced_where += 1
        elif text == none_line:
            without.append(target)
        elif section == "articles" and article is not None:
            bodies[article].append(text)
    wrong = []
    expected_order = [a.position for a in draft.articles]
    if order != expected_order:
        wrong.append(f"{len(order)} article headings, expected {len(expected_order)} in order")
    off_text = []
    for a in draft.articles:
        own = f"第{numeral(a.number)}条"
        lines = [line for line in a.text.removeprefix(own).lstrip().split("\n") if line.strip()]
        if bodies.get(a.position) != lines:
            off_text.append(a.number)
    if off_text:
        wrong.append(f"{len(off_text)} article texts differ: {off_text[:5]}")
    expected_place = {
        c.serial: (c.position if c.position is not None else "whole")
        for c in truth.live
        if c.serial is not None
    }
    missing = [s for s in expected_place if s not in placed]
    twice = [s for s, where in placed.items() if len(where) > 1]
    unknown = [s for s in placed if s not in expected_place]
    astray = [
        s for s, where in placed.items() if s in expected_place and where[0] != expected_place[s]
    ]
    if missing or twice or unknown or astray or misplaced_where:
        wrong.append(
            f"comments: {len(missing)} missing, {len(twice)} twice, {len(unknown)} unknown, "
            f"{len(astray)} under another heading, {misplaced_where} with another kind, station "
            "or text"
        )
    silent = sorted(p for p, n in truth.per_article.items() if not n)
    if sorted(w for w in without if isinstance(w, int)) != silent:
        wrong.append(
            f"无意见 under {sorted(w for w in without if isinstance(w, int))}, expected {silent}"
        )
    return Check(
        ".docx: every article's text, then exactly its comments",
        not wrong,
        "; ".join(wrong)
        if wrong
        else f"{len(order)} articles with their texts, {len(placed):,} comment paragraphs "
        f"({sum(truth.per_article.values()):,} under articles, {truth.whole:,} on the whole "
        f"draft), 无意见 under the {len(silent)} articles without comments",
    )


def xlsx_floor(rows: list[tuple[Any, ...]]) -> bytes:
    """The baseline of the .xlsx: the comments' raw columns, in openpyxl's write-only mode."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet("comments")
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_floor(paragraphs: list[str]) -> bytes:
    """The baseline of the .docx: the same number of plain paragraphs in one XML fragment."""
    document = Document()
    body = document.element.body
    xml = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(text, quote=False)}</w:t></w:r></w:p>'
        for text in paragraphs
    )
    section = body[-1]
    for paragraph in list(parse_xml(f"<w:body {nsdecls('w')}>{xml}</w:body>")):
        section.addprevious(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# --- the run -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_consultations",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<14} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--voters", type=int, default=20_000, help="voters in the audience")
    parser.add_argument("--deputies", type=int, default=500, help="deputies in the audience")
    parser.add_argument("--comments", type=int, default=30_000, help="live comments")
    parser.add_argument("--articles", type=int, default=120, help="articles in the draft")
    parser.add_argument("--readers", type=int, default=4, help="deputies who read it through")
    parser.add_argument("--report-runs", type=int, default=3, help="runs of each report")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--max-open", type=float, default=2.0, help="seconds")
    parser.add_argument("--max-report", type=float, default=3.0, help="seconds, the median")
    parser.add_argument("--max-p99", type=float, default=20.0, help="ms per page tap")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    args = parser.parse_args(argv)
    if args.deputies < args.readers or args.voters < 1 or args.articles < 1:
        parser.error("need at least --readers deputies, one voter and one article")
    return args


def row(name: str, values: list[float], unit: float, baseline: list[float] | None = None) -> str:
    """name, runs, median, min, max (in ms when unit is 1e3)."""
    line = (
        f"{name:<52}{len(values):>6}{statistics.median(values) * unit:>11.1f}"
        f"{min(values) * unit:>10.1f}{max(values) * unit:>10.1f}"
    )
    if baseline:
        line += f"{statistics.median(values) / statistics.median(baseline):>8.1f}×"
    return line


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-consultations-") as folder:
        return await run(Path(folder), argv)


async def run(folder: Path, argv: list[str] | None) -> int:
    args = parse_args(argv)
    load_at_start = os.getloadavg()[0]
    tally = LogTally()
    logging.getLogger().addHandler(tally)
    logging.getLogger().setLevel(logging.WARNING)
    if args.breaking:
        print(f"BREAK {args.breaking}: {BREAKS[args.breaking]}")
    slow = args.breaking == "slow"
    rng = random.Random(args.seed)
    began_all = time.perf_counter()

    clock = FixedClock(OPENED_AT)
    settings = load_settings(
        _env_file=None,
        bot_token=TOKEN,
        database_path=folder / "bench.sqlite3",
        flood_max_updates=1_000_000,
    )
    db = Database(settings.database_path)
    await db.connect()
    services = build_services(settings, db, clock)
    texts = services.i18n.texts("zh_CN")
    people = await populate(db, clock.now(), args.deputies, args.voters)
    draft = build_draft(args.articles)
    staff = await services.users.get(STAFF_ID)
    if staff is None:
        raise RuntimeError("the staff member was not created")
    print(
        f"district: {len(people.deputies):,} deputies and {len(people.voters):,} voters in the "
        f"audience, {len(people.outsiders):,} outside it; draft: {len(draft.articles)} articles, "
        f"{draft.chapters} 章, {draft.sections} 节, {len(draft.text):,} characters"
    )

    # 1. opening, timed, then the baseline in the same file
    plan = plan_of(draft, services, ConsultationAudience.EVERYONE)
    began = time.perf_counter()
    consultation = await services.consultations.open(staff, plan)
    if slow:
        await asyncio.sleep(2.1)
    opening = time.perf_counter() - began
    cid = consultation.id
    await break_after_opening(args.breaking, db, cid, people)
    checks = [
        await check_prompts(db, cid, people, plan.deadline),
        await check_invitees(db, cid, people),
        await check_articles(db, cid, draft, services),
    ]
    floor = await opening_floor(db, len(people.audience))
    quiet = plan_of(draft, services, ConsultationAudience.DEPUTIES)  # the pages' baseline
    quiet_id = (await services.consultations.open(staff, quiet)).id

    # 2. comments, then the pages through the real Application
    truth = plan_comments(args.comments, draft, people, rng)
    questions = [q.id for q in await services.consultations.repo.questions(cid)]
    clock.set(READ_AT)
    await insert_comments(db, cid, truth.comments, questions, people.station_of)
    if args.breaking == "extra-comment":
        extra = Comment(
            999_999,
            people.voters[0],
            "voter",
            0,
            None,
            None,
            "〔999999〕多出来的一条意见，真相里没有。",
            False,
            READ_AT,
        )
        await insert_comments(db, cid, [extra], questions, people.station_of)
    api = FakeBotAPI()
    app = build_application(services, request=api)
    await app.initialize()
    apologies = [texts(k) for k in APOLOGIES]
    reader: Any = Slowed(app, 0.025) if slow else app  # Client needs only process_update, bot
    client = Client(reader, api, apologies)
    reading = Walker(
        client,
        api,
        texts,
        cid,
        draft.articles,
        truth.per_article,
        wrong_every=25 if args.breaking == "wrong-page" else 0,
    )
    baseline = Walker(client, api, texts, quiet_id, draft.articles, {})
    readers = people.deputies[: args.readers]
    await baseline.walk(people.deputies[-1])  # warm-up, not counted
    with_comments: list[float] = []
    without: list[float] = []
    for reader in readers:
        without += await baseline.walk(reader)
        with_comments += await reading.walk(reader)
    floor_taps = await bare_floor(reading.shown)

    # 3. closed by the sweep at the deadline, then the report: in chat, as staff get it,
    # then each part timed on its own
    clock.set(CLOSE_AT)
    closed = await services.consultations.run_due()
    state = await db.fetchone("SELECT state, closed_at FROM consultations WHERE id = ?", (cid,))
    in_chat, chat_problems, sent = await report_in_chat(app, api, apologies, cid, texts)
    await app.shutdown()
    deadline = services.consultations.deadline_of(LAST_DAY)
    reports = services.consultation_reports
    runs = args.report_runs

    async def summary_work() -> tuple[Any, str]:
        summary = await reports.summary(staff, cid)
        rendered = render_summary(texts, summary)
        if slow:
            await asyncio.sleep(3.1)
        return summary, rendered

    async def xlsx_work() -> Any:
        made = await reports.xlsx(staff, cid, texts)
        if slow:
            await asyncio.sleep(3.1)
        return made

    async def docx_work() -> Any:
        made = await reports.docx(staff, cid, texts)
        if slow:
            await asyncio.sleep(3.1)
        return made

    summary_times, (summary, rendered) = await timed(runs, summary_work)
    xlsx_times, xlsx_file = await timed(runs, xlsx_work)
    docx_times, docx_file = await timed(runs, docx_work)
    live_sql = "FROM consultation_comments WHERE consultation_id = ? AND withdrawn_at IS NULL"
    group_times, _ = await timed(
        runs,
        lambda: db.fetchall(
            f"SELECT article_position, question_id, count(*) {live_sql} GROUP BY 1, 2", (cid,)
        ),
    )

    async def raw_xlsx() -> bytes:
        rows = await db.fetchall(
            "SELECT article_position, question_id, author_kind, station_id, show_name, text,"
            f" created_at, adopted {live_sql} ORDER BY id",
            (cid,),
        )
        return xlsx_floor([tuple(r) for r in rows])

    async def raw_docx() -> bytes:
        rows = await db.fetchall(f"SELECT text {live_sql} AND text != '' ORDER BY id", (cid,))
        lines = [line for a in draft.articles for line in a.text.split("\n")]
        return docx_floor(lines + [str(r[0]) for r in rows])

    raw_xlsx_times, _ = await timed(runs, raw_xlsx)
    raw_docx_times, _ = await timed(runs, raw_docx)

    pages = len(reading.pages())
    timed_taps = len(with_comments)
    checks += [
        Check(
            "every page shown is the article expected, with the bench's comment count",
            not client.problems,
            f"{client.replies:,} updates ({timed_taps:,} ▶/◀ taps on {pages} pages with comments, "
            f"{len(without):,} without, a warm-up walk, the openings), "
            f"{len(client.problems)} wrong"
            + (f"; first: {client.problems[:2]}" if client.problems else ""),
        ),
        Check(
            "closed by the sweep at the deadline",
            closed >= 1
            and state is not None
            and state[0] == "closed"
            and state[1] == stamp(deadline),
            f"run_due at {CLOSE_AT:%Y-%m-%d %H:%M} closed {closed}; state "
            f"{state[0] if state else None}, closed_at {state[1] if state else None}",
        ),
    ]
    began = time.perf_counter()
    checks.append(check_summary(summary, rendered, truth, people, texts))
    checks.append(
        Check(
            "the report in chat: the summary, then the .xlsx and the .docx",
            not chat_problems,
            "; ".join(chat_problems)
            if chat_problems
            else f"{len(sent['xlsx']) / 1e6:.1f} MB and {len(sent['docx']) / 1e6:.1f} MB sent; "
            "the two checks below read these files",
        )
    )
    # the files staff received, if they came; else the ones the service made when timed
    checks.append(check_xlsx(sent.get("xlsx", xlsx_file.data), truth, people, texts))
    checks.append(check_docx(sent.get("docx", docx_file.data), draft, truth, people, texts))
    reading_back = time.perf_counter() - began
    p99 = percentile(with_comments, 99) if with_comments else float("inf")
    checks += [
        Check(
            f"opening under {args.max_open:g} s",
            opening < args.max_open,
            f"{opening:.3f} s for {len(people.audience):,} prompts and {len(draft.articles)} "
            "articles",
        ),
        Check(
            f"page tap p99 under {args.max_p99:g} ms with the comments present",
            p99 < args.max_p99,
            f"p99 {p99:.2f} ms over {timed_taps:,} taps",
        ),
        *(
            Check(
                f"{name} under {args.max_report:g} s",
                statistics.median(values) < args.max_report,
                f"median {statistics.median(values):.3f} s of {len(values)}, "
                f"max {max(values):.3f} s",
            )
            for name, values in (
                ("the chat summary", summary_times),
                ("the .xlsx", xlsx_times),
                ("the .docx", docx_times),
            )
        ),
        Check(
            "no warning or error logged",
            not tally.counts,
            f"{sum(tally.counts.values())} records: {dict(tally.counts)}; "
            f"first: {tally.samples[:2]}"
            if tally.counts
            else "none",
        ),
    ]
    await db.close()

    live = len(truth.live)
    print(
        f"comments: {live:,} live ({sum(truth.per_article.values()):,} on "
        f"{sum(1 for n in truth.per_article.values() if n)} articles, the most "
        f"{max(truth.per_article.values(), default=0):,}, the fewest "
        f"{min((n for n in truth.per_article.values() if n), default=0)}, "
        f"{sum(1 for n in truth.per_article.values() if not n)} articles without; "
        f"{truth.whole:,} on the whole draft; "
        f"{' and '.join(f'{sum(c.values()):,}' for c in truth.choices)} "
        f"answers to the key questions) and {len(truth.comments) - live:,} withdrawn"
    )
    print()
    print(f"{'opening':<52}{'':>6}{'seconds':>11}")
    print(f"{'ConsultationService.open (prompts, invitees, articles)':<52}{'':>6}{opening:>11.3f}")
    print(f"{'baseline: bare INSERT … SELECT of the same rows':<52}{'':>6}{floor:>11.3f}")
    print(f"open / baseline: {opening / floor:.1f}")
    print()
    print(f"{'page taps (ms)':<52}{'taps':>6}{'p50':>11}{'p99':>10}{'max':>10}")
    for name, values in (
        (f"▶/◀ with {live:,} comments present", with_comments),
        ("baseline: the same draft, no comments", without),
        ("floor: bare PTB handler editing to the same page", floor_taps),
    ):
        if values:
            print(
                f"{name:<52}{len(values):>6}{statistics.median(values):>11.2f}"
                f"{percentile(values, 99):>10.2f}{max(values):>10.2f}"
            )
    if with_comments and without and floor_taps:
        print(
            f"p99 with comments / without: "
            f"{percentile(with_comments, 99) / percentile(without, 99):.2f}; "
            f"p50 with comments / bare PTB: "
            f"{statistics.median(with_comments) / statistics.median(floor_taps):.1f}"
        )
    print()
    print(f"{'report (ms)':<52}{'runs':>6}{'median':>11}{'min':>10}{'max':>10}{'ratio':>9}")
    print(row("the chat summary (service + render)", summary_times, 1e3, group_times))
    print(row("baseline: one GROUP BY count of the comments", group_times, 1e3))
    print(row(f"the .xlsx ({len(xlsx_file.data) / 1e6:.1f} MB)", xlsx_times, 1e3, raw_xlsx_times))
    print(row("baseline: raw columns, openpyxl write-only", raw_xlsx_times, 1e3))
    print(row(f"the .docx ({len(docx_file.data) / 1e6:.1f} MB)", docx_times, 1e3, raw_docx_times))
    print(row("baseline: the same texts as bare paragraphs", raw_docx_times, 1e3))
    print(
        f"staff's tap on the report button (summary, then both files sent) took {in_chat:.2f} s; "
        f"reading both files back for the checks took {reading_back:.1f} s"
    )
    print(
        f"load average (1 min) at start {load_at_start:.2f}, now {os.getloadavg()[0]:.2f} on "
        f"{os.cpu_count()} CPUs; the whole run took {time.perf_counter() - began_all:.0f} s"
    )
    print()
    for check in checks:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in checks if not c.passed]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
