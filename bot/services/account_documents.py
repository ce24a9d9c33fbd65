"""The annual account's words, once for both forms: plain lines per section (the chat message
escapes them, the .docx writes them as they are) and the editable .docx itself, in the house
style of the consultation reports (宋体 body, 黑体 headings, set for East Asian text)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls

from bot.i18n import N_, Texts
from bot.services.calendar import TURN_LABELS
from bot.services.consultation_documents import paragraph_xml, set_east_asian_fonts
from bot.services.spreadsheets import xml_safe
from bot.services.text import clip
from storage.models import TurnKind
from storage.repos.accounts import AccountSuggestion, AccountTurn

if TYPE_CHECKING:
    from bot.services.annual_accounts import AnnualAccount

# The six parts of an account, in order (the .docx's Heading 1s, the message's bold lines).
SECTIONS = (
    N_("account.section_basic"),
    N_("account.section_meetings"),
    N_("account.section_contact"),
    N_("account.section_suggestions"),
    N_("account.section_supervision"),
    N_("account.section_plan"),
)
ROLE_LABELS = {True: N_("account.role_lead"), False: N_("account.role_cosigner")}
# The tables' columns: the cells `missed_cells` and `suggestion_cells` give, in order, each
# with its share of the text's width (the title and the reason wide, a role narrow).
MISSED_COLUMNS = (
    (N_("account.col_date"), 2),
    (N_("account.col_kind"), 2),
    (N_("account.col_station"), 3),
    (N_("account.col_reason"), 5),
)
SUGGESTION_COLUMNS = (
    (N_("account.col_number"), 3),
    (N_("account.col_title"), 7),
    (N_("account.col_role"), 2),
    (N_("account.col_state"), 2),
    (N_("account.col_department"), 3),
    (N_("account.col_class"), 4),
    (N_("account.col_rating"), 2),
)
PLAN_LINES = 12  # empty paragraphs under part 6, for the deputy to write in
TITLE_SEPARATOR = "、"


def title(texts: Texts, account: AnnualAccount) -> str:
    return texts("account.title", name=account.deputy.name, year=account.year)


def as_of(texts: Texts, account: AnnualAccount) -> str:
    """ "(figures as of …)" while the year is not over; empty once it is."""
    if account.complete:
        return ""
    return texts("account.as_of", date=texts.datetime(account.made_at))


def basic_lines(texts: Texts, account: AnnualAccount) -> list[str]:
    deputy = account.deputy
    return [
        texts("account.fact_name", name=deputy.name),
        texts("account.fact_station", street=deputy.street_name, station=deputy.station_name),
        texts("account.fact_year", year=account.year),
        texts("account.fact_joined", date=texts.date(deputy.joined_at)),
    ]


def meeting_lines(texts: Texts, account: AnnualAccount) -> list[str]:
    """Turns attended by kind, how many missed (listed apart: `missed_line`), and coming."""
    lines = [
        texts(
            "account.attended",
            count=account.attended(),
            reception=account.attended(TurnKind.RECEPTION),
            home=account.attended(TurnKind.HOME_VISIT),
            account=account.attended(TurnKind.ANNUAL_ACCOUNT),
        )
    ]
    missed = account.missed
    if missed:
        lines.append(texts("account.missed_head", count=len(missed)))
    else:
        lines.append(texts("account.missed_none"))
    if account.coming:
        lines.append(texts("account.coming", count=account.coming))
    return lines


def turn_where(texts: Texts, turn: AccountTurn) -> str:
    return turn.station_name or texts("account.no_station")


def missed_cells(texts: Texts, turn: AccountTurn) -> list[str]:
    """Date, kind, place and reason of a turn missed."""
    return [
        texts.date(turn.starts_at),
        texts(TURN_LABELS[turn.kind]),
        turn_where(texts, turn),
        turn.absence_reason or "",
    ]


def missed_line(texts: Texts, turn: AccountTurn) -> str:
    day, kind, where, reason = missed_cells(texts, turn)
    return texts("account.missed_line", date=day, kind=kind, station=where, reason=reason)


def contact_lines(texts: Texts, account: AnnualAccount) -> list[str]:
    contact, opinions = account.contact, account.opinions
    return [
        texts(
            "account.contact_visits",
            visits=contact.visits,
            voters=contact.voters_met,
            done=contact.things_done,
        ),
        texts(
            "account.contact_opinions",
            received=opinions.received,
            answered=opinions.answered,
            rated=opinions.rated,
            satisfied=opinions.satisfied,
            basically=opinions.basically,
            unsatisfied=opinions.unsatisfied,
        ),
    ]


def suggestion_summary(texts: Texts, account: AnnualAccount) -> str:
    if not account.suggestions:
        return texts("account.suggestions_none")
    return texts("account.suggestions_count", led=len(account.led), cosigned=len(account.cosigned))


def suggestion_cells(texts: Texts, account: AnnualAccount, item: AccountSuggestion) -> list[str]:
    """Number, title, role, state, lead department, outcome class, rating."""
    return [
        item.number,
        item.title,
        texts(ROLE_LABELS[item.lead]),
        texts(f"suggestion.state.{item.state}"),
        item.department or "",
        account.class_label(item),
        texts(f"suggestion.rating.{item.rating}") if item.rating else "",
    ]


def suggestion_line(
    texts: Texts, account: AnnualAccount, item: AccountSuggestion, title_limit: int = 0
) -> str:
    """One suggestion in a line; its title cut to `title_limit` characters when given."""
    number, name, role, state, department, outcome, rating = suggestion_cells(texts, account, item)
    if title_limit:
        name = clip(name, title_limit)
    details = [state]
    if department:
        details.append(texts("account.lead_department", department=department))
    if outcome:
        details.append(texts("account.outcome", outcome=outcome))
    if item.outcome_class:
        details.append(rating or texts("account.not_rated"))
    return texts(
        "account.suggestion_line",
        number=number,
        title=name,
        role=role,
        details=texts("account.detail_separator").join(details),
    )


def supervision_lines(texts: Texts, account: AnnualAccount, titles_shown: int = 0) -> list[str]:
    """Comments (and the drafts' titles: the first `titles_shown` of them when given),
    ballots voted in, supervision opinions."""
    figures = account.supervision
    lines = [
        texts(
            "account.comments",
            count=figures.comments,
            consultations=len(figures.consultations),
        )
    ]
    titles = figures.consultations[: titles_shown or None]
    if titles:
        lines.append(texts("account.comments_on", titles=TITLE_SEPARATOR.join(titles)))
    if len(titles) < len(figures.consultations):
        lines.append(texts("account.more_in_file", count=len(figures.consultations) - len(titles)))
    lines += [
        texts(
            "account.ballots",
            selection=figures.selection_votes,
            rating=figures.rating_votes,
        ),
        texts("account.project_opinions", count=figures.project_opinions),
    ]
    return lines


# --- .docx ------------------------------------------------------------------------------
# The body is written as one XML fragment, as the consultation report's is: python-docx's
# per-cell calls take a quarter of a second for a busy deputy's tables.

TEXT_WIDTH = 8640  # twips between the default template's margins (6 inches)


def _cell(text: str, width: int, *, bold: bool = False) -> str:
    weight = "<w:rPr><w:b/></w:rPr>" if bold else ""
    lines = xml_safe(text).split("\n")
    runs = "<w:br/>".join(f'<w:t xml:space="preserve">{escape(line)}</w:t>' for line in lines)
    return (
        f'<w:tc><w:tcPr><w:tcW w:w="{width}" w:type="dxa"/></w:tcPr>'
        f"<w:p><w:r>{weight}{runs}</w:r></w:p></w:tc>"
    )


def _table(columns: Sequence[tuple[str, int]], rows: Sequence[Sequence[str]]) -> str:
    """A bordered table (the template's Table Grid): each column its share of the text's
    width, and a bold header row that repeats at the top of every page it runs over."""
    total = sum(share for _, share in columns)
    widths = [TEXT_WIDTH * share // total for _, share in columns]
    grid = "".join(f'<w:gridCol w:w="{width}"/>' for width in widths)
    labels = [label for label, _ in columns]
    head = "".join(_cell(label, w, bold=True) for label, w in zip(labels, widths, strict=True))
    body = "".join(
        "<w:tr>" + "".join(_cell(v, w) for v, w in zip(values, widths, strict=True)) + "</w:tr>"
        for values in rows
    )
    return (
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>'
        f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
        f"</w:tblPr><w:tblGrid>{grid}</w:tblGrid>"
        f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{head}</w:tr>{body}</w:tbl>"
    )


def docx(account: AnnualAccount, texts: Texts) -> bytes:
    """The account as an editable .docx: the title, then the six parts as Heading 1s, the
    turns missed and the suggestions as tables, part 6 left blank for the deputy."""
    heading = title(texts, account)
    parts = [paragraph_xml(heading, "Title")]
    note = as_of(texts, account)
    if note:
        parts.append(paragraph_xml(note))

    def part(index: int, lines: Sequence[str]) -> None:
        parts.append(paragraph_xml(texts(SECTIONS[index]), "Heading1"))
        parts.extend(paragraph_xml(line) for line in lines)

    part(0, basic_lines(texts, account))
    part(1, meeting_lines(texts, account))
    if account.missed:
        columns = [(texts(label), share) for label, share in MISSED_COLUMNS]
        parts.append(_table(columns, [missed_cells(texts, t) for t in account.missed]))
    part(2, contact_lines(texts, account))
    if account.contact.done:
        parts.append(paragraph_xml(texts("account.done_head")))
        parts += [
            paragraph_xml(texts("account.done_line", number=number, text=done))
            for number, done in enumerate(account.contact.done, 1)
        ]
    part(3, [suggestion_summary(texts, account)])
    if account.suggestions:
        columns = [(texts(label), share) for label, share in SUGGESTION_COLUMNS]
        parts.append(
            _table(columns, [suggestion_cells(texts, account, s) for s in account.suggestions])
        )
    part(4, supervision_lines(texts, account))
    part(5, [""] * PLAN_LINES)

    document = Document()
    set_east_asian_fonts(document)
    document.core_properties.title = xml_safe(heading)
    section = document.element.body[-1]  # the section properties stay last
    fragment = parse_xml(f"<w:body {nsdecls('w')}>{''.join(parts)}</w:body>")
    for element in list(fragment):
        section.addprevious(element)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
