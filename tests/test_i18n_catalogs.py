"""Every message id the code uses has a non-empty translation in both catalogs, both catalogs
hold the same ids, a message has the same {placeholders} in both languages, and every message,
filled in, is text Telegram can parse in HTML mode (the app's default parse mode)."""

from __future__ import annotations

import ast
import importlib
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.demo.telegram_html import TelegramHTMLError, parse_html
from bot.i18n import load_catalog

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("bot", "handlers")
LOCALES_DIR = ROOT / "locales"
LOCALES = ("zh_CN", "en")

# The call forms that take a message id as their first argument:
#   texts("..."), context.texts("..."), N_("..."), DomainError("...", **params),
#   AccessDenied("..."), and outbox.notify(tx, chat_id, "...", **params) for notices that
#   are rendered later. Babel matches `context.texts(` on its last name.
KEYWORDS: dict[str, tuple[int, ...] | None] = {
    "texts": (1,),
    "N_": (1,),
    "DomainError": (1,),
    "AccessDenied": (1,),
    "notify": (3,),
}
MESSAGE_ARG = {"notify": 2}  # where the id is when it is not the first argument

# Ids built with an f-string from a known list of names: the f-string's constant start, and
# where its names come from. A new f-string id fails the test until it is listed here.
DYNAMIC: dict[str, Callable[[], Iterable[str]]] = {
    "cmd.": lambda: _commands(),
    "audience.": lambda: [a.value for a in importlib.import_module("storage.models").Audience],
    "handling.done_": lambda: ("decline", "answer"),
    "reminder.": lambda: _constants("bot.services.reminders", "EVENING", "HOUR"),
    "weekday.": lambda: [str(day) for day in range(7)],  # Monday = 0
    "duty.week_": lambda: ("1", "2", "3", "4", "-1"),  # week of the month; -1 the last
    "suggestion.state.": lambda: [
        s.value for s in importlib.import_module("storage.models").SuggestionState
    ],
    "suggestion.rating.": lambda: [
        r.value for r in importlib.import_module("storage.models").SuggestionRating
    ],
}


def _commands() -> tuple[str, ...]:
    """Every command of every role list (VOTER_COMMANDS, STAFF_COMMANDS, …)."""
    module = importlib.import_module("bot.runtime.menus")
    lists = [getattr(module, name) for name in dir(module) if name.endswith("_COMMANDS")]
    assert lists, "bot.runtime.menus has no *_COMMANDS lists"
    return tuple(dict.fromkeys(name for names in lists for name in names))


def _constants(module: str, *names: str) -> tuple[str, ...]:
    loaded = importlib.import_module(module)
    return tuple(getattr(loaded, name) for name in names)


def _looks_like_id(value: str) -> bool:
    head, dot, tail = value.partition(".")
    return bool(
        dot
        and head.isidentifier()
        and head.islower()
        and tail.replace("_", "a").isalnum()
        and tail[0].isalpha()
        and tail.islower()
    )


@dataclass
class Usage:
    ids: set[str]
    unknown_dynamic: list[str]  # f-string ids with no entry in DYNAMIC
    calls: list[tuple[str, str, frozenset[str] | None]]  # (where, id, keyword names or None)


def babel_ids(directory: Path) -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        directory,
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=(),
        strip_comment_tags=True,
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _call_name(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def used_message_ids(
    root: Path,
    dirs: Iterable[str],
    dynamic: dict[str, Callable[[], Iterable[str]]],
    known_namespaces: Iterable[str] = (),
) -> Usage:
    """Babel's extraction, plus two fallbacks Babel cannot see: ids kept in variables, tables
    and defaults (string literals of an id's shape in a namespace Babel found or the
    catalogs use), and ids built by f-strings from a known list of names."""
    ids: set[str] = set()
    for directory in dirs:
        ids |= babel_ids(root / directory)
    namespaces = {i.split(".", 1)[0] for i in ids} | set(known_namespaces)
    unknown: list[str] = []
    calls: list[tuple[str, str, frozenset[str] | None]] = []
    literals: set[str] = set()
    for directory in dirs:
        for path in sorted((root / directory).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            in_fstring = set()
            for node in ast.walk(tree):
                if isinstance(node, ast.JoinedStr):
                    in_fstring.update(id(v) for v in node.values)
                    first = node.values[0] if node.values else None
                    if (
                        isinstance(first, ast.Constant)
                        and isinstance(first.value, str)
                        and len(node.values) > 1
                        and _looks_like_id(first.value + "x")
                    ):
                        prefix = first.value
                        where = f"{path.relative_to(root)}:{node.lineno}"
                        if prefix in dynamic:
                            ids.update(prefix + name for name in dynamic[prefix]())
                        else:
                            unknown.append(f"{where}: f-string id {prefix}{{…}}")
                elif isinstance(node, ast.Call) and _call_name(node) in KEYWORDS:
                    position = MESSAGE_ARG.get(_call_name(node) or "", 0)
                    if len(node.args) <= position:
                        continue
                    first = node.args[position]
                    if isinstance(first, ast.Constant) and isinstance(first.value, str):
                        names = [k.arg for k in node.keywords]
                        # **params, or params= built beforehand (Outbox.notify): unknown here
                        built = None in names or "params" in names
                        keywords = None if built else frozenset(names)
                        where = f"{path.relative_to(root)}:{node.lineno}"
                        calls.append((where, first.value, keywords))  # type: ignore[arg-type]
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Constant)
                    and isinstance(node.value, str)
                    and id(node) not in in_fstring
                    and _looks_like_id(node.value)
                ):
                    literals.add(node.value)
    ids |= {value for value in literals if value.split(".", 1)[0] in namespaces}
    return Usage(ids, unknown, calls)


@dataclass(frozen=True)
class Entry:
    text: str
    fuzzy: bool
    source: str


def load_entries(directory: Path) -> tuple[dict[str, Entry], list[str]]:
    """One locale's messages from all its .po files; an id defined twice is a problem."""
    entries: dict[str, Entry] = {}
    problems: list[str] = []
    for po_file in sorted(directory.glob("*.po")):
        with po_file.open("rb") as fh:
            catalog = read_po(fh)
        for message in catalog:
            if not message.id:
                continue
            key = message.id if isinstance(message.id, str) else message.id[0]
            text = message.string if isinstance(message.string, str) else message.string[0]
            if key in entries:
                problems.append(
                    f"{directory.parent.name}: {key!r} is defined in both "
                    f"{entries[key].source} and {po_file.name}"
                )
            entries[key] = Entry(text or "", message.fuzzy, po_file.name)
    return entries, problems


def placeholders(text: str) -> set[str] | None:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError:
        return None


def catalog_problems(used: set[str], catalogs: dict[str, dict[str, Entry]]) -> list[str]:
    problems: list[str] = []
    for locale, entries in catalogs.items():
        for key in sorted(used - entries.keys()):
            problems.append(f"{locale}: {key!r} is used in the code but missing")
        for key, entry in sorted(entries.items()):
            if not entry.text.strip():
                problems.append(f"{locale}: {key!r} has an empty translation")
            elif entry.fuzzy:
                problems.append(f"{locale}: {key!r} is fuzzy, so it is not used at runtime")
            if placeholders(entry.text) is None:
                problems.append(f"{locale}: {key!r} has unbalanced braces: {entry.text!r}")
    names = list(catalogs)
    for a in names:
        for b in names:
            if a != b:
                for key in sorted(catalogs[a].keys() - catalogs[b].keys()):
                    problems.append(f"{key!r} is in {a} but not in {b}")
    if names:
        common = set.intersection(*(set(c) for c in catalogs.values()))
        for key in sorted(common):
            found = {loc: placeholders(catalogs[loc][key].text) for loc in names}
            if len({frozenset(p or ()) for p in found.values()}) > 1:
                problems.append(f"{key!r} has different placeholders: {found}")
    return problems


def call_problems(
    calls: list[tuple[str, str, frozenset[str] | None]], entries: dict[str, Entry]
) -> list[str]:
    """A literal call must pass every placeholder of its message (else KeyError or raw {x})."""
    problems = []
    for where, key, keywords in calls:
        if keywords is None or key not in entries:
            continue
        needed = placeholders(entries[key].text) or set()
        # an outbox notice's `x_key` is translated by the dispatcher and fills `{x}`
        keywords = frozenset(k.removesuffix("_key") for k in keywords)
        if needed - keywords:
            problems.append(f"{where}: {key!r} needs {sorted(needed)}, gets {sorted(keywords)}")
    return problems


# Placeholders filled with a number when their name or format looks numeric, else a word;
# both are safe in HTML, so whatever fails to parse is the catalog's own text.
NUMERIC_NAMES = re.compile(
    r"(?:^|_)(count|number|days|hours|km|total|maximum|minimum|limit|sent|failed|blocked|"
    r"skipped|remaining|page|pages|waited|voters|opinions|photos|id)$"
)
NUMERIC_FORMAT = re.compile(r"[,_]|[bcdeEfFgGnoxX%]$")
SAMPLE_NUMBER = 7
SAMPLE_WORD = "Sample"


class SampleFormatter(string.Formatter):
    """Fills every placeholder with a safe sample value, whatever its name."""

    def get_field(
        self, field_name: str, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[Any, str]:
        return field_name, field_name

    def format_field(self, value: Any, format_spec: str) -> str:
        name = re.split(r"[.\[]", str(value), maxsplit=1)[0]
        if NUMERIC_NAMES.search(name) or NUMERIC_FORMAT.search(format_spec):
            return format(SAMPLE_NUMBER, format_spec)
        return format(SAMPLE_WORD, format_spec)


def html_problems(catalogs: dict[str, dict[str, Entry]]) -> list[str]:
    """Each message, its placeholders filled with sample values, parsed as Telegram parses
    parse_mode=HTML: one line per message Telegram would refuse, with Telegram's reason.

    Plain-text messages (button labels, alerts) are checked too; none needs a literal "<" or
    "&", and one that did would have to leave this check's scope explicitly."""
    problems = []
    for locale, entries in catalogs.items():
        for key, entry in sorted(entries.items()):
            try:
                parse_html(SampleFormatter().format(entry.text))
            except TelegramHTMLError as error:
                problems.append(f"{locale}: {key!r} is not Telegram HTML: {error}")
            except (ValueError, IndexError, KeyError) as error:  # a broken {placeholder}
                problems.append(f"{locale}: {key!r} cannot be filled in: {error}")
    return problems


# --- the real code and catalogs -------------------------------------------------------------


@pytest.fixture(scope="module")
def catalogs() -> dict[str, dict[str, Entry]]:
    loaded = {}
    for locale in LOCALES:
        entries, problems = load_entries(LOCALES_DIR / locale / "LC_MESSAGES")
        assert problems == [], "\n".join(problems)
        loaded[locale] = entries
    return loaded


@pytest.fixture(scope="module")
def usage(catalogs: dict[str, dict[str, Entry]]) -> Usage:
    namespaces = {key.split(".", 1)[0] for entries in catalogs.values() for key in entries}
    return used_message_ids(ROOT, CODE_DIRS, DYNAMIC, namespaces)


def test_the_extraction_sees_every_call_form(usage: Usage) -> None:
    """Guards the checker itself: each form of use is found in the real code."""
    expected = {
        "privacy.notice",  # texts("...")
        "privacy.agree",  # context.texts("...")
        "category.urban",  # N_("...")
        "opinion.text_empty",  # DomainError("...")
        "error.stale_button",  # AccessDenied("...")
        "error.forbidden",  # AccessDenied's default
        "staff.granted",  # key = "..." if ... else "..."
        "opinion.bad_text",  # a table of ids
        "cmd.opinion",  # f"cmd.{name}"
        "cmd.staff",
    }
    assert expected <= usage.ids, expected - usage.ids
    assert len(usage.ids) > 80
    assert "stations.csv" not in usage.ids  # a file name is not a message id


def test_no_message_id_is_built_from_an_unknown_list(usage: Usage) -> None:
    assert usage.unknown_dynamic == [], (
        "list the names these ids are built from in DYNAMIC:\n" + "\n".join(usage.unknown_dynamic)
    )


def test_every_used_id_is_translated_in_both_locales(
    usage: Usage, catalogs: dict[str, dict[str, Entry]]
) -> None:
    problems = catalog_problems(usage.ids, catalogs)
    assert problems == [], "\n".join(problems)


def test_both_catalogs_hold_the_same_ids(catalogs: dict[str, dict[str, Entry]]) -> None:
    assert set(catalogs["zh_CN"]) == set(catalogs["en"])


def test_every_message_has_the_same_placeholders_in_both_languages(
    catalogs: dict[str, dict[str, Entry]],
) -> None:
    differ = {
        key: (placeholders(catalogs["zh_CN"][key].text), placeholders(entry.text))
        for key, entry in catalogs["en"].items()
        if key in catalogs["zh_CN"]
        and placeholders(catalogs["zh_CN"][key].text) != placeholders(entry.text)
    }
    assert differ == {}


def test_every_literal_call_passes_the_placeholders_its_message_needs(
    usage: Usage, catalogs: dict[str, dict[str, Entry]]
) -> None:
    assert any(key == "invite.created" for _, key, _ in usage.calls)
    problems = call_problems(usage.calls, catalogs["zh_CN"])
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_runtime_catalog_translates_every_used_id(usage: Usage, locale: str) -> None:
    """What the bot actually loads (compiled in memory) has every id, not the id itself."""
    translations = load_catalog(LOCALES_DIR / locale / "LC_MESSAGES")
    untranslated = sorted(key for key in usage.ids if translations.gettext(key) == key)
    assert untranslated == []


def test_every_message_filled_in_is_valid_telegram_html(
    catalogs: dict[str, dict[str, Entry]],
) -> None:
    assert sum(len(entries) for entries in catalogs.values()) > 160
    problems = html_problems(catalogs)
    assert problems == [], "\n".join(problems)


# --- the checker can fail -------------------------------------------------------------------


def _write_po(directory: Path, locale: str, messages: dict[str, str], fuzzy: set[str]) -> None:
    directory.mkdir(parents=True)
    catalog = Catalog(locale=locale)
    for key, text in messages.items():
        catalog.add(key, text, flags=("fuzzy",) if key in fuzzy else ())
    with (directory / "synthetic.po").open("wb") as fh:
        write_po(fh, catalog)


def test_the_checker_reports_each_kind_of_problem(tmp_path: Path) -> None:
    _write_po(
        tmp_path / "zh_CN" / "LC_MESSAGES",
        "zh_CN",
        {
            "a.greet": "你好，{name}",
            "a.bye": "再见",
            "a.empty": "",
            "a.only_zh": "只有中文",
            "a.fuzzy": "模糊",
        },
        fuzzy={"a.fuzzy"},
    )
    _write_po(
        tmp_path / "en" / "LC_MESSAGES",
        "en",
        {"a.greet": "Hello, {nom}", "a.empty": "Empty", "a.fuzzy": "Fuzzy"},
        fuzzy=set(),
    )
    catalogs = {
        locale: load_entries(tmp_path / locale / "LC_MESSAGES")[0] for locale in ("zh_CN", "en")
    }
    used = {"a.greet", "a.bye", "a.empty", "a.fuzzy", "a.missing"}

    problems = "\n".join(catalog_problems(used, catalogs))

    assert "zh_CN: 'a.missing' is used in the code but missing" in problems
    assert "en: 'a.missing' is used in the code but missing" in problems
    assert "en: 'a.bye' is used in the code but missing" in problems
    assert "zh_CN: 'a.empty' has an empty translation" in problems
    assert "zh_CN: 'a.fuzzy' is fuzzy" in problems
    assert "'a.only_zh' is in zh_CN but not in en" in problems
    assert "'a.greet' has different placeholders" in problems
    assert catalog_problems({"a.greet"}, {"zh_CN": {"a.greet": catalogs["zh_CN"]["a.greet"]}}) == []

    calls = [("x.py:1", "a.greet", frozenset()), ("x.py:2", "a.greet", frozenset({"name"}))]
    assert call_problems(calls, catalogs["zh_CN"]) == ["x.py:1: 'a.greet' needs ['name'], gets []"]


def test_the_extraction_finds_ids_in_every_form_and_flags_unknown_f_strings(
    tmp_path: Path,
) -> None:
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "feature.py").write_text(
        "from x import N_, DomainError, AccessDenied\n"
        "LABELS = {'a': N_('demo.label_a')}\n"
        "TABLE = ('demo.in_table', 'not an id', 'stations.csv')\n"
        "async def handler(update, context, grant, name, kind):\n"
        "    await context.texts('demo.hello', who=name)\n"
        "    key = 'demo.yes' if grant else 'demo.no'\n"
        "    context.texts(key)\n"
        "    context.texts(f'cmd.{name}')\n"
        "    context.texts(f'demo.kind_{kind}')\n"
        "    raise DomainError('demo.failed', limit=3)\n"
        "def deny():\n"
        "    raise AccessDenied('demo.denied')\n"
        "async def later(outbox, tx):\n"
        "    await outbox.notify(tx, 42, 'demo.notice', when=1)\n"
        "    await outbox.notify(tx, 42, 'other.notice')\n",
        encoding="utf-8",
    )
    usage = used_message_ids(tmp_path, ["pkg"], {"cmd.": lambda: ("help", "my")}, ["other"])

    assert usage.ids == {
        "demo.label_a",
        "demo.in_table",
        "demo.hello",
        "demo.yes",
        "demo.no",
        "demo.failed",
        "demo.denied",
        "cmd.help",
        "cmd.my",
        "demo.notice",
        "other.notice",
    }
    assert len(usage.unknown_dynamic) == 1
    assert "demo.kind_{…}" in usage.unknown_dynamic[0]
    assert ("pkg/feature.py:5", "demo.hello", frozenset({"who"})) in usage.calls
    assert ("pkg/feature.py:14", "demo.notice", frozenset({"when"})) in usage.calls


def test_the_html_checker_reports_every_message_telegram_would_refuse() -> None:
    def entry(text: str) -> Entry:
        return Entry(text, False, "synthetic.po")

    catalogs = {
        "zh_CN": {
            "a.ok": entry("<b>{name}</b> 已有 {count} 条 &lt;示例&gt; &amp; {link}"),
            "a.tag": entry("用法：/invite <代表姓名>"),
            "a.amp": entry("问 & 答"),
        },
        "en": {
            "a.ok": entry("<b>{name}</b> has {count:,} &lt;samples&gt; &amp; {link}"),
            "a.tag": entry("Usage: /staff add <Telegram id>"),
            "a.amp": entry("Q & A"),
            "a.open": entry("<b>{name}"),
            "a.entity": entry("{count}&nbsp;items"),
            "a.brace": entry("{name"),
        },
    }

    assert html_problems(catalogs) == [
        "zh_CN: 'a.amp' is not Telegram HTML: Unescaped \"&\" at byte offset 4",
        "zh_CN: 'a.tag' is not Telegram HTML: Unsupported start tag \"代表姓名\" at byte offset 17",
        "en: 'a.amp' is not Telegram HTML: Unescaped \"&\" at byte offset 2",
        "en: 'a.brace' cannot be filled in: expected '}' before end of string",
        "en: 'a.entity' is not Telegram HTML: Unsupported HTML entity \"&nbsp;\" at byte offset 1",
        "en: 'a.open' is not Telegram HTML: Can't find end tag corresponding to start tag \"b\"",
        "en: 'a.tag' is not Telegram HTML: Unsupported start tag \"telegram\" at byte offset 18",
    ]
    assert SampleFormatter().format("{count:,} {days} {name} {when!r}") == "7 7 Sample Sample"
