"""A closed ballot's results in the chat: the ranked table (split into messages of at most
Telegram's 4,096 characters), and for staff the .xlsx and the bar chart PNG as well."""

from __future__ import annotations

import io
from collections.abc import Iterable
from html import escape

from telegram import Update

from bot.i18n import Texts
from bot.runtime.context import BotContext
from bot.services.ballot_reports import mode_of, percent, rule_of, title_of
from bot.services.ballot_rules import CHOICE_LABELS, OUTCOME_LABELS, BallotResult
from handlers.common import chat_id_of, clip

MESSAGE_MAX = 4096
TITLE_CLIP = 30  # characters of a project's title in a list line


def title_line(title: str) -> str:
    """A project's title in a list line: clipped, then escaped."""
    return escape(clip(title, TITLE_CLIP))


def result_lines(texts: Texts, result: BallotResult) -> list[str]:
    """The table: a head (title, mode, turnout, the rule), then one line per project, ranked."""
    ballot = result.ballot
    lines = [
        texts("ballot.results_head", title=title_of(texts, ballot)),
        texts("ballot.results_mode", mode=mode_of(texts, ballot, len(result.rows))),
        texts(
            "ballot.results_turnout",
            entitled=ballot.entitled,
            voted=result.voted,
            share=percent(result.turnout),
        ),
        texts("ballot.results_rule", rule=rule_of(texts, result)),
        "",
    ]
    for row in result.rows:
        counts = texts("ballot.count_separator").join(
            texts("ballot.count", choice=texts(CHOICE_LABELS[c]), count=row.counts[c])
            for c in result.choices
        )
        lines.append(
            texts(
                "ballot.results_line",
                rank=row.rank,
                title=title_line(row.project.title),
                counts=counts,
                share=percent(row.share),
                outcome=texts(OUTCOME_LABELS[row.outcome]),
            )
        )
    if result.tied:
        lines += ["", texts("ballot.results_tied", count=len(result.tied))]
    return lines


def chunks(lines: Iterable[str], limit: int = MESSAGE_MAX) -> list[str]:
    """Lines joined into messages of at most `limit` characters, never cutting a line."""
    messages: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            messages.append(current)
            candidate = line
        current = candidate
    if current:
        messages.append(current)
    return messages


async def send_results(
    update: Update, context: BotContext, ballot_id: int, *, files: bool
) -> BallotResult:
    """The results as new messages; with `files`, the .xlsx and the chart follow."""
    services = context.services
    texts = context.texts
    result = await services.ballots.results(context.user, ballot_id)
    chat_id = chat_id_of(update)
    for message in chunks(result_lines(texts, result)):
        await context.bot.send_message(chat_id, message)
    if files:
        reports = services.ballots.reports
        name = f"ballot-{ballot_id}-{result.ballot.year}"
        await context.bot.send_document(
            chat_id,
            io.BytesIO(await reports.xlsx(result, texts)),
            filename=f"{name}.xlsx",
            caption=texts("ballot.xlsx_caption", title=title_of(texts, result.ballot)),
        )
        await context.bot.send_photo(
            chat_id,
            io.BytesIO(await reports.chart(result, texts)),
            caption=texts("ballot.chart_caption", title=title_of(texts, result.ballot)),
        )
    return result
