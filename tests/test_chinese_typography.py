"""Chinese typography in the zh_CN catalogs: no ASCII space between Chinese text and a
placeholder whose value is Chinese ("学院路街道的联络站", never "学院路街道 的联络站"). A space
next to a number, a date or a Latin code stays (that spacing is usual); the test knows which
placeholders carry Chinese, and at which edge, from a sample of each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOG = Path(__file__).resolve().parent.parent / "locales" / "zh_CN" / "LC_MESSAGES"

# What the value of each placeholder that carries Chinese looks like: people, places,
# departments, translated labels and what people type start and end with Chinese. A date
# is Chinese at its end when formatted (`*_on` in a notice: the outbox formats it; `date` and
# `rate_by` in the messages DATES_FORMATTED lists, formatted by their handler); one echoed
# back as typed (2026-11-27, in a refusal) is digits, which keep their space.
# (Plural names, `deputies`, `stations` …, are counts here: numbers.)
PERSON, PLACE, LABEL, TYPED = "王芳", "学院路第一联络站", "已受理", "路灯不亮"
DAY = "2026年11月27日"  # a date as Texts.date writes it in zh_CN: a digit first, 日 last
CHINESE_VALUES: dict[str, str] = {
    **dict.fromkeys(
        ("name", "names", "deputy", "asker", "author", "holder", "lead", "who", "addressee"),
        PERSON,
    ),
    **dict.fromkeys(
        (
            "station",
            "street",
            "department",
            "place",
            "where",
            "area",
            "address",
            "audience",
            "own",
        ),
        PLACE,
    ),
    **dict.fromkeys(
        (
            "category",
            "status",
            "state",
            "event",
            "kind",
            "kinds",
            "role",
            "outcome",
            "verdict",
            "mode",
            "label",
            "solved",
            "satisfaction",
            "priority",
            "title",
            "titles",
            "project",
            "commitment",
            "language",
            "option",
            "rating",
            "view",
        ),
        LABEL,
    ),
    **dict.fromkeys(
        (
            "text",
            "reason",
            "note",
            "comment",
            "question",
            "reply",
            "summary",
            "excerpt",
            "description",
            "explanation",
            "feedback",
        ),
        TYPED,
    ),
}
# The messages whose `date` or `rate_by` a handler formats with Texts.date.
DATES_FORMATTED = frozenset(
    {
        "answers.card_extension_asked",
        "answers.card_answered",
        "answers.card_return_until",
        "answers.commitment_line",
        "answers.met_on",
        "answers.ask_return_reason",
        "answers.preview",
        "answers.recorded",
    }
)
CJK = re.compile(r"[\u201c\u201d\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
TAG = re.compile(r"</?[a-z][^>]*>")
PLACEHOLDER = re.compile(r"\{(\w+)(?:[:!][^}]*)?\}")


def sample_of(name: str, message_id: str) -> str | None:
    """What the value of `{name}` in message `message_id` looks like, if it carries Chinese."""
    if name.endswith("_on") or (name in ("date", "rate_by") and message_id in DATES_FORMATTED):
        return DAY
    return CHINESE_VALUES.get(name)


def misplaced_spaces(message: str, message_id: str = "") -> list[str]:
    """Each `{name}` of a Chinese value with an ASCII space between it and Chinese text,
    seen through markup (bold or not, the reader sees the space)."""
    text = TAG.sub("", message)
    found = []
    for match in PLACEHOLDER.finditer(text):
        sample = sample_of(match.group(1), message_id)
        if sample is None:
            continue
        before, after = text[: match.start()], text[match.end() :]
        if CJK.match(sample[0]) and before.endswith(" ") and CJK.match(before[-2:-1] or "x"):
            found.append(before[-2:] + match.group(0))
        if CJK.match(sample[-1]) and after.startswith(" ") and CJK.match(after[1:2] or "x"):
            found.append(match.group(0) + after[:2])
    return found


def zh_messages() -> list[tuple[str, str]]:
    messages = []
    for po in sorted(CATALOG.glob("*.po")):
        with po.open("rb") as file:
            for message in read_po(file):
                if message.id and isinstance(message.string, str) and message.string:
                    messages.append((f"{po.name}:{message.id}", message.string))
    return messages


def test_no_space_between_chinese_text_and_a_chinese_value() -> None:
    offenders = {where: spots for where, text in zh_messages() if (spots := misplaced_spaces(text))}
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        ("{street} 的联络站", ["{street} 的"]),
        ("请选择 {station}。", ["择 {station}"]),
        ("{street}的联络站", []),
        ("共 {count} 条", []),  # a number: the space is usual
        ("于 {date} 前", []),  # a date echoed as typed: digits keep their space
        ("请在 {rate_by_on} 前", ["{rate_by_on} 前"]),  # … one formatted ends with 日
        ("{station} “代表之家”", ["{station} “"]),  # a Chinese quotation mark is Chinese text
        ("Station {station} of", []),  # Latin around it
        ("由 <b>{name}</b> 代表", ["由 {name}", "{name} 代"]),  # bold or not
    ],
)
def test_the_check_itself(text: str, flagged: list[str]) -> None:
    assert misplaced_spaces(text) == flagged
