"""A conversation is one declaration: a toy one written here, with no edit anywhere else,
is persisted with its typed draft, kept to one at a time by the gate, ended when its
person loses the role it needs or leaves it idle, and resumed after a restart."""

from __future__ import annotations

from enum import StrEnum
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from pydantic import BaseModel
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.access import Action
from bot.app import FEATURES, in_order
from bot.runtime.context import BotContext
from bot.runtime.conversation import DeclaredConversation
from bot.services.conversations import Conversation
from handlers import fallback
from tests.support.people import Person
from tests.support.scenarios import ADMIN, onboard
from tests.support.world import World


class ToyStep(StrEnum):
    NAME = "name"
    COLOUR = "colour"


class ToyDraft(BaseModel):
    name: str = ""


TOY = Conversation(
    "toy",
    steps=ToyStep,
    draft=ToyDraft,
    opened_by=("toy",),
    needs=Action.BROADCAST,  # staff only, so losing the role can be shown
)


async def begin(update: Update, context: BotContext) -> str:
    await context.bot.send_message(update.effective_chat.id, "toy: your name?")
    await context.services.conversations.save(
        TOY, context.user, update.effective_chat.id, ToyDraft(), ToyStep.NAME
    )
    return ToyStep.NAME


async def name(update: Update, context: BotContext) -> str:
    draft = await context.services.conversations.load(TOY, context.user)
    draft.name = update.effective_message.text
    await context.services.conversations.save(
        TOY, context.user, update.effective_chat.id, draft, ToyStep.COLOUR
    )
    await context.bot.send_message(update.effective_chat.id, "toy: your colour?")
    return ToyStep.COLOUR


async def colour(update: Update, context: BotContext) -> int:
    draft = await context.services.conversations.load(TOY, context.user)
    chat_id = update.effective_chat.id
    await context.services.conversations.save(TOY, context.user, chat_id, None, None)
    said = f"toy: {escape(draft.name)} likes {escape(update.effective_message.text)}"
    await context.bot.send_message(update.effective_chat.id, said)
    return DeclaredConversation.END


def handlers() -> list[BaseHandler[Any, Any, Any]]:
    text = filters.TEXT & ~filters.COMMAND
    return [
        DeclaredConversation(
            TOY,
            entry_points=[CommandHandler("toy", begin)],
            states={
                ToyStep.NAME: [MessageHandler(text, name)],
                ToyStep.COLOUR: [MessageHandler(text, colour)],
            },
            fallbacks=[],
        )
    ]


TOY_FEATURE = SimpleNamespace(handlers=handlers)
STAFF = 4201


@pytest.fixture
async def toy_world(tmp_path: Path):
    w = World(tmp_path, features=(*FEATURES, TOY_FEATURE))
    await w.start()
    await w.load_stations()
    yield w
    await w.stop()


async def staff_member(world: World) -> Person:
    staff = Person(world, ADMIN, "管理员")
    await onboard(staff)
    return staff


async def test_the_toy_keeps_its_typed_draft_and_step_in_the_database(toy_world: World) -> None:
    staff = await staff_member(toy_world)
    await staff.send("/toy")
    await staff.send("Alice <3")
    assert staff.last == "toy: your colour?"
    states = await toy_world.rows("SELECT name, state FROM conversation_states")
    assert states == [{"name": "toy", "state": '"colour"'}]
    drafts = await toy_world.rows("SELECT kind, data FROM drafts WHERE user_id = ?", (ADMIN,))
    assert [(d["kind"], ToyDraft.model_validate_json(d["data"])) for d in drafts] == [
        ("toy", ToyDraft(name="Alice <3"))
    ]
    await staff.send("blue")
    assert staff.last == "toy: Alice &lt;3 likes blue"  # escaped: it was typed
    assert await toy_world.rows("SELECT * FROM conversation_states") == []
    assert await toy_world.rows("SELECT * FROM drafts WHERE kind = 'toy'") == []


async def test_the_toy_resumes_after_a_crash_at_the_step_its_draft_belongs_to(
    toy_world: World,
) -> None:
    staff = await staff_member(toy_world)
    await staff.send("/toy")
    await staff.send("Alice")
    await toy_world.crash_and_restart()
    await staff.send("green")
    assert staff.last == "toy: Alice likes green"


async def test_the_gate_keeps_the_toy_and_others_one_at_a_time(toy_world: World) -> None:
    staff = await staff_member(toy_world)
    busy = toy_world.text("zh_CN", "conversation.busy")
    await staff.send("/toy")
    await staff.send("/duty")
    assert staff.last == busy
    await staff.send("Alice")
    assert staff.last == "toy: your colour?"
    await staff.send("red")
    await staff.send("/duty")
    await staff.send("/toy")
    assert staff.last == busy
    assert [r["name"] for r in await toy_world.rows("SELECT name FROM conversation_states")] == [
        "duty"
    ]


async def test_losing_the_role_ends_the_toy(toy_world: World) -> None:
    admin = await staff_member(toy_world)
    staff = Person(toy_world, STAFF, "工作人员")
    await onboard(staff)
    await admin.send(f"/staff add {STAFF}")
    await staff.send("/toy")
    await admin.send(f"/staff remove {STAFF}")
    await staff.send("Alice")
    assert staff.last == toy_world.text("zh_CN", "conversation.role_lost")
    assert await toy_world.rows("SELECT * FROM conversation_states") == []
    assert await toy_world.rows("SELECT * FROM drafts WHERE kind = 'toy'") == []
    assert toy_world.conversations_in_memory() == 0


async def test_an_idle_toy_expires_after_the_timeout_and_says_so_once(toy_world: World) -> None:
    staff = await staff_member(toy_world)
    await staff.send("/toy")
    toy_world.clock.advance(hours=toy_world.settings.conversation_timeout_hours + 1)
    await staff.send("Alice")
    hours = f"{toy_world.settings.conversation_timeout_hours:g}"
    assert staff.last == toy_world.text("zh_CN", "conversation.expired", hours=hours)
    assert await toy_world.rows("SELECT * FROM drafts WHERE kind = 'toy'") == []


def test_conversations_come_first_and_the_fallback_last_whatever_the_features_order() -> None:
    """The order rule of bot.app.in_order: reversing the features changes nothing that
    matters (every conversation before every other handler, the fallback last)."""
    for features in (FEATURES, tuple(reversed(FEATURES)), (TOY_FEATURE, *FEATURES)):
        ordered = in_order(features)
        kinds = [isinstance(h, ConversationHandler) for h in ordered]
        assert kinds == sorted(kinds, reverse=True)
        tail = fallback.handlers()
        assert [type(h) for h in ordered[-len(tail) :]] == [type(h) for h in tail]
        assert sum(kinds) >= 5


async def test_an_unreadable_toy_draft_ends_the_toy_and_says_so(toy_world: World) -> None:
    """Any declared conversation whose stored draft no longer fits its model (an older
    version's, a damaged one) is ended by the runtime, without the feature's own code."""
    staff = await staff_member(toy_world)
    await staff.send("/toy")
    async with toy_world.db.transaction() as tx:
        await tx.execute("UPDATE drafts SET data = '{\"name\": [1, 2]}' WHERE kind = 'toy'")
    out = await staff.send("Alice")
    assert [o.text for o in out] == [toy_world.text("zh_CN", "conversation.draft_unreadable")]
    assert await toy_world.rows("SELECT * FROM conversation_states") == []
    assert await toy_world.rows("SELECT * FROM drafts WHERE kind = 'toy'") == []
    assert toy_world.conversations_in_memory() == 0
    await staff.send("/toy")
    assert staff.last == "toy: your name?"
