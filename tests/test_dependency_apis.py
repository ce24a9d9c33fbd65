"""Private APIs of dependencies the project relies on, checked by name so that an upgrade
that moves them fails here, loudly, and not somewhere in a write transaction.

`storage.db.Tx` runs a batch of statements in one call on aiosqlite's connection thread
through `aiosqlite.Connection._execute(fn, *args)` and the underlying `Connection._conn`;
aiosqlite has no public way to do that (see the comment in `Tx._call`)."""

from __future__ import annotations

import inspect
import sqlite3
import tomllib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from packaging.requirements import Requirement

from storage import Database

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
CHANGED = (
    "aiosqlite {version} changed its private Connection.{name}, which storage.db.Tx._call"
    " uses to run a batch in one call: {problem}. Adapt Tx._call (and the pin in pyproject.toml)"
)


def changed(name: str, problem: str) -> str:
    return CHANGED.format(version=aiosqlite.__version__, name=name, problem=problem)


def test_aiosqlite_connection_execute_takes_a_function_and_its_arguments() -> None:
    execute = getattr(aiosqlite.Connection, "_execute", None)
    assert execute is not None, changed("_execute", "it is gone")
    assert inspect.iscoroutinefunction(execute), changed("_execute", "it is not async any more")
    parameters = list(inspect.signature(execute).parameters.values())
    shape = [(p.name, p.kind) for p in parameters]
    assert shape == [
        ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("fn", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("args", inspect.Parameter.VAR_POSITIONAL),
        ("kwargs", inspect.Parameter.VAR_KEYWORD),
    ], changed("_execute", f"its parameters are now {shape}")


async def test_aiosqlite_connection_conn_is_the_sqlite3_connection(tmp_path: Path) -> None:
    async with aiosqlite.connect(tmp_path / "x.sqlite3") as conn:
        inner = getattr(conn, "_conn", None)
        assert isinstance(inner, sqlite3.Connection), changed(
            "_conn", f"it is {type(inner).__name__}, not a sqlite3.Connection"
        )
        # and `_execute` runs the function on it, on the connection's thread, with the result
        ran = await conn._execute(lambda c: c.execute("SELECT 41 + 1").fetchone()[0], inner)
        assert ran == 42, changed("_execute", f"it returned {ran!r} for a function returning 42")


async def test_a_transaction_of_deferred_writes_is_one_call_on_the_connection_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = Database(tmp_path / "store.sqlite3")
    await db.connect()
    calls: list[str] = []
    original: Callable[..., Awaitable[Any]] = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    try:
        async with db.transaction() as tx:
            for n in range(50):
                tx.defer("INSERT INTO streets (name) VALUES (?)", (f"街道{n}",))
        assert len(calls) == 1, f"50 deferred writes and COMMIT took {len(calls)} calls: {calls}"

        # a statement whose result is awaited takes the deferred ones along in its own call
        calls.clear()
        async with db.transaction() as tx:
            tx.defer("INSERT INTO streets (name) VALUES ('海淀街道')")
            row = await tx.fetchone("SELECT count(*) FROM streets")
            assert row is not None and row[0] == 51
        assert len(calls) == 2, calls  # BEGIN + write + SELECT, then COMMIT
        assert await db.scalar("SELECT count(*) FROM streets") == 51
    finally:
        monkeypatch.undo()
        await db.close()


def test_aiosqlite_is_pinned_below_the_next_minor_version_and_installed_within_it() -> None:
    """The private calls were checked against the versions the pin allows; a new minor
    version must be checked again (run this file) before the pin is moved."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = [Requirement(line) for line in project["dependencies"]]
    (aiosqlite_req,) = [r for r in requirements if r.name == "aiosqlite"]
    uppers = [s for s in aiosqlite_req.specifier if s.operator == "<"]
    assert uppers, f"aiosqlite needs an upper bound in pyproject.toml, found {aiosqlite_req}"
    installed = version("aiosqlite")
    major, minor = (int(p) for p in installed.split(".")[:2])
    assert f"<{major}.{minor + 1}" in str(aiosqlite_req.specifier), (
        f"aiosqlite {installed}: the bound must be below its next minor, {major}.{minor + 1}"
    )
    assert aiosqlite_req.specifier.contains(installed), (
        f"aiosqlite {installed} is installed, outside {aiosqlite_req.specifier}"
    )


PTB_CHANGED = (
    "python-telegram-bot {version} changed ConversationHandler.{name}, which"
    " bot.runtime.conversation.ConversationKeeper.forget uses to end a conversation from"
    " outside its handlers (PTB has no public way): {problem}. Adapt forget() and the pin."
)


async def test_ptb_conversation_handler_keeps_its_states_in_a_mapping_by_key() -> None:
    """Ending a conversation from outside is popping its key from `_conversations`: the
    handler then treats the person as in no conversation at all."""
    import telegram
    from telegram import Chat, Message, Update, User
    from telegram.ext import CommandHandler, ConversationHandler, MessageHandler, filters

    async def noop(update: object, context: object) -> str:
        return "step"

    handler: ConversationHandler[Any] = ConversationHandler(
        entry_points=[CommandHandler("go", noop)],
        states={"step": [MessageHandler(filters.TEXT, noop)]},
        fallbacks=[],
    )
    states = getattr(handler, "_conversations", None)
    problem = "it is gone or no longer a dict"
    assert isinstance(states, dict), PTB_CHANGED.format(
        version=telegram.__version__, name="_conversations", problem=problem
    )
    person, chat = User(7, "A", False), Chat(7, Chat.PRIVATE)
    text = Update(1, message=Message(1, datetime.now(UTC), chat, from_user=person, text="hi"))
    states[(7, 7)] = "step"
    assert handler.check_update(text), PTB_CHANGED.format(
        version=telegram.__version__, name="_conversations", problem="its keys are not (chat, user)"
    )
    states.pop((7, 7))
    assert not handler.check_update(text), PTB_CHANGED.format(
        version=telegram.__version__, name="_conversations", problem="popping a key ends nothing"
    )


def test_python_telegram_bot_is_pinned_below_its_next_minor_version() -> None:
    """ConversationHandler._conversations is private: an upgrade is taken on purpose."""
    import telegram

    requirements = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    ptb = next(Requirement(r) for r in requirements if r.startswith("python-telegram-bot"))
    major, minor = (int(p) for p in telegram.__version__.split(".")[:2])
    assert f"<{major}.{minor + 1}" in str(ptb.specifier), ptb
    assert ptb.specifier.contains(telegram.__version__)
