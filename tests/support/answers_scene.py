"""The scene the answers tests share: a suggestion assigned to a
lead department (区交通委) and a co-handling one (区城管委), with a third department that has
nothing to do with it (区教委), a liaison for each, the lead deputy, a confirmed and an
invited co-signer, and two voters whose opinions fed the suggestion. Rows are seeded as
assignment leaves them (tests/support/suggestion_seed.py); the steps under test run through
the real Application. `L` is what a liaison reads and taps, written out, so a wrong language
or a missing catalog entry fails."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import chinese_calendar
import pytest

from bot.runtime.buttons.assigned import AssignedOpen
from bot.runtime.buttons.base import CallbackData
from storage.db import stamp
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.suggestion_seed import (
    SEEDED_AT,
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import SHANGHAI, World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
LOCALE = {"zh-hans": "zh_CN", "en": "en"}
TODAY = date(2026, 11, 26)  # World's clock: 2026-11-26 10:00 in Shanghai

STAFF = 2  # a staff member (the admin is 1)
DEPUTY, COSIGNER, INVITED = 301, 302, 303
VOTERS = (401, 402)
LEAD_LIAISON, CO_LIAISON, OTHER_LIAISON = 501, 502, 503
LEAD_DEPT, CO_DEPT, OTHER_DEPT = "区交通委", "区城管委", "区教委"
TITLE = "关于增设学院路公交站台遮雨棚的建议"

L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "answer": "✍️ 录入答复",
        "return": "↩️ 退办",
        "extension": "⏳ 申请延期",
        "back": "« 返回列表",
        "cancel": "取消",
        "met_yes": "是，已见面/沟通",
        "met_no": "否",
        "more": "➕ 再加一项",
        "done": "完成",
        "confirm": "✅ 确认提交",
        "skip": "跳过",
        "A": "A 已解决或基本解决",
        "B": "B 正在解决或列入计划逐步解决",
        "C": "C 因条件限制留作参考",
        "ask_class_end": "请选择办理结果分类：",
        "ask_met": "答复前是否与领衔代表见面或沟通？",
        "forbidden": "您没有权限进行此操作。",
        "stale": "这个按钮已失效，请重新操作。",
        "not_yours": "这条代表建议现在不由本单位承办（可能已退办或已改交其他单位）。",
        "co_cannot_answer": (
            "本单位是协办单位，答复由主办单位区交通委统一作出。协办意见请直接提供给主办单位。"
        ),
        "summary_empty": "答复摘要不能为空，请输入文字。",
        "commitment_past": "承诺完成日期必须晚于今天，{date} 不行。请重新输入。",
        "met_future": "{date} 还没有到。请输入已经见面或沟通的日期。",
        "met_before": "见面或沟通的日期不能早于交办日 {date}。",
        "unparsable": "没有看懂这个日期。请按 2026-11-26 这样的格式输入。",
        "send_text": "请发送文字。",
        "use_buttons": "请点上面的按钮。",
        "no_draft": "这份答复已经提交或已取消。",
        "liaisons_only": (
            "/assigned 供承办单位联络员使用。工作人员请在 /assign 的建议卡片上代承办单位录入答复。"
        ),
        "role_lead": "主办",
        "role_co": "协办",
        "recorded": "✅ 答复已录入。",
        "cancelled": "已取消，没有保存。",
        "busy": "您还有一项操作没有完成。请先完成它，或发送 /cancel 退出，再开始新的操作。",
    },
    "en": {
        "answer": "✍️ Record the answer",
        "return": "↩️ Return it",
        "extension": "⏳ Ask for more time",
        "back": "« Back to the list",
        "cancel": "Cancel",
        "met_yes": "Yes, met or talked",
        "met_no": "No",
        "more": "➕ Add another",
        "done": "Done",
        "confirm": "✅ Confirm",
        "skip": "Skip",
        "A": "A 已解决或基本解决",
        "B": "B 正在解决或列入计划逐步解决",
        "C": "C 因条件限制留作参考",
        "ask_class_end": "Choose the outcome class:",
        "ask_met": "Did the department meet or talk with the lead deputy before answering?",
        "forbidden": "You are not allowed to do that.",
        "stale": "This button is no longer valid. Please start again.",
        "not_yours": (
            "This suggestion is not assigned to your department (any more): it may have been"
            " returned or reassigned."
        ),
        "co_cannot_answer": (
            "Your department assists (协办): the answer comes from the lead department, 区交通委."
            " Please give your contribution to them directly."
        ),
        "summary_empty": "The summary cannot be empty; please type it.",
        "commitment_past": (
            "A commitment must be due after today; {date} will not do. Please type another date."
        ),
        "met_future": (
            "{date} is in the future. Please type the day you met or talked with the deputy."
        ),
        "met_before": "The meeting cannot be dated before the assignment on {date}.",
        "unparsable": "I could not read that date. Please type it like 2026-11-26.",
        "send_text": "Please send text.",
        "use_buttons": "Please use the buttons above.",
        "no_draft": "This answer has already been submitted or was cancelled.",
        "liaisons_only": (
            "/assigned is for the liaisons of handling departments. Staff record a department's"
            " answer from the suggestion's card in /assign."
        ),
        "role_lead": "lead",
        "role_co": "assisting",
        "recorded": "✅ The answer is recorded.",
        "cancelled": "Cancelled; nothing was saved.",
        "busy": (
            "You are in the middle of something else. Finish it, or send /cancel to leave it,"
            " before starting this."
        ),
    },
}


@dataclass
class Scene:
    world: World
    lang: str
    suggestion: int
    lead_dept: int
    co_dept: int
    other_dept: int
    liaison: Person  # the lead department's
    co_liaison: Person
    other_liaison: Person

    @property
    def t(self) -> dict[str, str]:
        return L[self.lang]

    def liaison_card(self) -> AssignedOpen:
        """The button of the department's card of the scene's suggestion."""
        return AssignedOpen(suggestion=self.suggestion, page=0)

    def day(self, value: date) -> str:
        """A calendar day as the liaison reads it."""
        texts = self.world.services.i18n.texts(LOCALE[self.lang])
        return texts.date(datetime.combine(value, datetime.min.time(), tzinfo=SHANGHAI))


async def add_opinion(world: World, voter: int, holder: int, text: str) -> int:
    """An accepted opinion of `voter` at 学院路第一联络站 (station 1), held by `holder`."""
    now = stamp(SEEDED_AT - timedelta(days=10))
    async with world.db.transaction() as tx:
        count = await tx.fetchone("SELECT COUNT(*) FROM opinions")
        number = int(count[0]) + 1 if count is not None else 1
        return await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, show_name,"
            " status, holder_id, created_at, updated_at) VALUES (?, ?, 1, 'traffic', ?, 0,"
            " 'accepted', ?, ?, ?)",
            (f"YJ-2026-{number:05d}", voter, text, holder, now, now),
        )


async def make_scene(
    world: World,
    person: Callable[..., Person],
    lang: str = "zh-hans",
    *,
    assigned_at: datetime = SEEDED_AT,
    co: bool = True,
) -> Scene:
    locale = LOCALE[lang]
    await add_user(world, DEPUTY, role="deputy", name="王芳", locale=locale)
    await add_user(world, COSIGNER, role="deputy", name="李强", locale=locale)
    await add_user(world, INVITED, role="deputy", name="赵敏", locale=locale)
    opinions = []
    for voter in VOTERS:
        await add_user(world, voter, locale=locale)
        opinions.append(
            await add_opinion(world, voter, DEPUTY, "学院路公交站没有遮雨棚，下雨天老人淋雨。")
        )
    lead = await seed_department(world, LEAD_DEPT)
    co_dept = await seed_department(world, CO_DEPT)
    other = await seed_department(world, OTHER_DEPT)
    for user_id, dept in ((LEAD_LIAISON, lead), (CO_LIAISON, co_dept), (OTHER_LIAISON, other)):
        await seed_liaison(world, user_id, dept, name=f"联络员{user_id}", locale=locale)
    suggestion = await seed_suggestion(
        world,
        DEPUTY,
        title=TITLE,
        opinion_ids=opinions,
        cosigners=[(COSIGNER, "confirmed"), (INVITED, "invited")],
        at=assigned_at - timedelta(days=1),
    )
    await seed_assignment(world, suggestion, lead, [co_dept] if co else [], at=assigned_at)
    return Scene(
        world,
        lang,
        suggestion,
        lead,
        co_dept,
        other,
        person(LEAD_LIAISON, "交通委联络员", lang),
        person(CO_LIAISON, "城管委联络员", lang),
        person(OTHER_LIAISON, "教委联络员", lang),
    )


async def set_rehandling(world: World, suggestion: int, round_one_class: str = "C") -> None:
    """The suggestion answered once (round 1), rated 不满意 and sent back for re-handling, as
    the ledger helper's rating leaves it: state 'rehandling', rehandled = 1, a new deadline
    two months on."""
    now = world.clock.now()
    async with world.db.transaction() as tx:
        lead = await tx.fetchone(
            "SELECT department_id FROM suggestion_assignments WHERE suggestion_id = ? AND lead = 1",
            (suggestion,),
        )
        assert lead is not None
        await tx.execute(
            "INSERT INTO suggestion_answers (suggestion_id, round, department_id, outcome_class,"
            " met_deputy, summary, recorded_by, answered_at, on_time) VALUES (?, 1, ?, ?, 0,"
            " '第一次答复', ?, ?, 1)",
            (suggestion, lead[0], round_one_class, LEAD_LIAISON, stamp(now - timedelta(days=20))),
        )
        await tx.execute(
            "UPDATE suggestions SET state = 'rehandling', rehandled = 1, rating = 'unsatisfied',"
            " rated_at = ?, outcome_class = ?, answered_at = ?, due_at = ? WHERE id = ?",
            (
                stamp(now - timedelta(days=5)),
                round_one_class,
                stamp(now - timedelta(days=20)),
                stamp(datetime(2027, 1, 27, tzinfo=SHANGHAI)),
                suggestion,
            ),
        )


def working_days_later(start: date, days: int) -> date:
    """The `days`-th official working day after `start`, counted here independently of the
    bot: straight from chinesecalendar (2026 is in its tables)."""
    day = start
    while days:
        day += timedelta(days=1)
        if chinese_calendar.is_workday(day):
            days -= 1
    return day


async def outbox_to(world: World, chat_id: int) -> list[dict[str, Any]]:
    """The notices queued for `chat_id`, oldest first, with their parameters and buttons."""
    rows = await world.rows(
        "SELECT message_key, params, buttons FROM outbox WHERE chat_id = ? AND sets_menu = 0"
        " ORDER BY id",
        (chat_id,),
    )
    return [
        {
            "key": r["message_key"],
            "params": json.loads(r["params"] or "{}"),
            "buttons": json.loads(r["buttons"]) if r["buttons"] else None,
        }
        for r in rows
    ]


async def tap(someone: Person, data: CallbackData) -> list[Any]:
    """Tap a button the bot may not have shown (forged, or from another person's card),
    under the chat's last message (/help opens an empty chat)."""
    if not someone.world.api.chat_messages(someone.id):
        await someone.send("/help")
    return await someone.tap_data(data.pack())


def alerts(outputs: list[Any]) -> list[str]:
    return [o.text for o in outputs if o.kind == "alert"]
