"""Livelihood projects (民生实事) in chat: staff enter candidates step by step (every bad input
refused at its step), edit and withdraw them until a ballot opens; /projects lists the year's
projects (chosen first; candidates for staff and deputies only) with ◀ ▶ years, and each
project's card; voters and deputies are refused the staff's buttons, forged or not."""

from __future__ import annotations

import json
from typing import Any

from bot.runtime.buttons.projects import (
    ProgressStart,
    ProjectAdd,
    ProjectEditField,
    ProjectEditMenu,
    ProjectFollow,
    ProjectList,
    ProjectOpen,
    ProjectWithdraw,
    ProjectWithdrawConfirmed,
    SupervisionStart,
)
from bot.services.projects import ProjectField
from tests.support.people import Person
from tests.support.projects import (
    LANGS,
    alerts,
    deputy,
    project,
    project_row,
    staff,
    t,
    voter,
)
from tests.support.world import World

DEPARTMENT = {"zh-hans": "区城市管理委员会", "en": "District City Management Commission"}


async def draft_of(world: World, user_id: int) -> dict[str, Any] | None:
    rows = await world.rows(
        "SELECT data FROM drafts WHERE user_id = ? AND kind = 'project_candidate'", (user_id,)
    )
    return json.loads(rows[0]["data"]) if rows else None


async def step_of(world: World, user_id: int) -> str | None:
    return await world.conversation_state("project_candidate", user_id)


async def projects(world: World) -> list[dict[str, Any]]:
    return await world.rows("SELECT * FROM projects ORDER BY id")


def budget(person: Person, amount: str) -> str:
    return t(person, "project.budget_value", amount=amount)


async def begin_adding(person: Person) -> None:
    await person.send("/projects")
    await person.tap(t(person, "project.add"))
    assert person.last == t(person, "project.ask_title", maximum=100)


# --- adding a candidate ------------------------------------------------------------------------


@LANGS
async def test_staff_add_a_candidate_step_by_step(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    out = await admin.send("/projects")
    assert out[-1].text == (
        t(admin, "project.list_title", year=2026) + "\n\n" + t(admin, "project.list_empty")
    )
    assert out[-1].buttons() == [t(admin, "project.add")]

    await admin.tap(t(admin, "project.add"))
    assert admin.last == t(admin, "project.ask_title", maximum=100)
    assert await step_of(world, admin.id) == "title"
    await admin.send("  老旧小区加装电梯 <第一批> & 配套  ")
    assert admin.last == t(admin, "project.ask_description", maximum=1000)
    assert admin.buttons()[:2] == [t(admin, "project.skip"), t(admin, "project.cancel")]
    assert (await draft_of(world, admin.id))["title"] == "老旧小区加装电梯 <第一批> & 配套"
    await admin.send("为 30 个老旧小区加装电梯。")
    assert admin.last == t(admin, "project.ask_department", maximum=60)
    await admin.send(DEPARTMENT[lang])
    assert admin.last == t(admin, "project.ask_budget")
    assert await step_of(world, admin.id) == "budget"
    await admin.send("８５.５万元")  # full-width digits and the unit are understood
    title = "老旧小区加装电梯 &lt;第一批&gt; &amp; 配套"
    assert admin.last == t(
        admin,
        "project.candidate_preview",
        year=2026,
        title=title,
        description="为 30 个老旧小区加装电梯。",
        department=DEPARTMENT[lang],
        budget=budget(admin, "85.5"),
    )
    assert await projects(world) == []  # nothing is saved before the confirmation
    out = await admin.tap(t(admin, "project.save"))

    rows = await projects(world)
    assert len(rows) == 1
    row = rows[0]
    assert (row["year"], row["title"], row["state"]) == (
        2026,
        "老旧小区加装电梯 <第一批> & 配套",
        "candidate",
    )
    assert row["description"] == "为 30 个老旧小区加装电梯。"
    assert (row["department"], row["budget_wan"]) == (DEPARTMENT[lang], 85.5)
    assert (row["percent_done"], row["created_by"]) == (0, admin.id)
    assert out[-1].text.startswith(t(admin, "project.saved") + "\n\n" + f"<b>{title}</b>")
    assert t(admin, "project.state_candidate") in out[-1].text
    assert t(admin, "project.card_followers", count="0") in out[-1].text
    assert out[-1].buttons() == [
        t(admin, "project.edit"),
        t(admin, "project.withdraw"),
        t(admin, "project.back_to_list"),
    ]
    assert await step_of(world, admin.id) is None and await draft_of(world, admin.id) is None

    # It is listed at once, as a candidate.
    out = await admin.send("/projects")
    assert t(admin, "project.item_button", number=1, title="老旧小区加装电梯 <第一批> & 配套") in (
        out[-1].buttons()
    )


async def test_the_description_and_the_budget_may_be_skipped(world: World) -> None:
    admin = await staff(world)
    await begin_adding(admin)
    await admin.send("社区食堂")
    await admin.tap(t(admin, "project.skip"))
    assert admin.last == t(admin, "project.ask_department", maximum=60)
    await admin.send("区民政局")
    await admin.tap(t(admin, "project.skip"))
    assert admin.last == t(
        admin,
        "project.candidate_preview",
        year=2026,
        title="社区食堂",
        description="—",
        department="区民政局",
        budget="—",
    )
    await admin.tap(t(admin, "project.save"))
    row = (await projects(world))[0]
    assert (row["description"], row["budget_wan"], row["department"]) == ("", None, "区民政局")


@LANGS
async def test_every_bad_input_is_refused_at_its_step(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    await project(world, "背街小巷整治")
    await begin_adding(admin)

    # the title: empty once cleaned, too long, a duplicate, not text
    out = await admin.send("\u200b\u200b")
    assert [o.text for o in out] == [t(admin, "project.title_empty")]
    out = await admin.send("路" * 101)
    assert [o.text for o in out] == [t(admin, "project.title_too_long", count=101, maximum=100)]
    out = await admin.send(" 背街小巷整治 ")
    assert [o.text for o in out] == [
        t(admin, "project.title_taken", title="背街小巷整治", year=2026)
    ]
    out = await admin.send_photo()
    assert [o.text for o in out] == [t(admin, "project.bad_text")]
    assert await step_of(world, admin.id) == "title"
    await admin.send("路" * 100)  # exactly the limit
    assert await step_of(world, admin.id) == "description"

    out = await admin.send("说" * 1001)
    assert [o.text for o in out] == [
        t(admin, "project.description_too_long", count=1001, maximum=1000)
    ]
    await admin.tap(t(admin, "project.skip"))
    out = await admin.send("局" * 61)
    assert [o.text for o in out] == [t(admin, "project.department_too_long", count=61, maximum=60)]
    out = await admin.send("\u200d")
    assert [o.text for o in out] == [t(admin, "project.department_empty")]
    await admin.send("区住建委")
    assert await step_of(world, admin.id) == "budget"

    # the budget: text, negative, too large, several numbers, a sticker
    for typed in ("一百万", "abc", "12,5.3", "1e3", "nan", "50 60"):
        out = await admin.send(typed)
        assert [o.text for o in out] == [t(admin, "project.budget_not_number")], typed
    out = await admin.send("-5")
    assert [o.text for o in out] == [t(admin, "project.budget_negative")]
    out = await admin.send("20000000")
    assert [o.text for o in out] == [t(admin, "project.budget_too_large", maximum=10_000_000)]
    out = await admin.send_sticker()
    assert [o.text for o in out] == [t(admin, "project.bad_budget")]
    assert await step_of(world, admin.id) == "budget"
    assert (await draft_of(world, admin.id))["budget_wan"] is None
    await admin.send("0")
    assert await step_of(world, admin.id) == "confirm"
    assert (await draft_of(world, admin.id))["budget_wan"] == 0
    out = await admin.send("好的")
    assert [o.text for o in out] == [t(admin, "project.use_buttons")]
    await admin.tap(t(admin, "project.save"))
    assert [r["title"] for r in await projects(world)] == ["背街小巷整治", "路" * 100]


async def test_a_title_entered_meanwhile_ends_the_step_with_a_word(world: World) -> None:
    admin = await staff(world)
    await begin_adding(admin)
    await admin.send("口袋公园")
    await admin.tap(t(admin, "project.skip"))
    await admin.send("区园林绿化局")
    await admin.tap(t(admin, "project.skip"))
    await project(world, "口袋公园")  # an import, meanwhile
    out = await admin.tap(t(admin, "project.save"))
    assert alerts(out) == [t(admin, "project.title_taken", title="口袋公园", year=2026)]
    assert len(await projects(world)) == 1
    assert await step_of(world, admin.id) is None


@LANGS
async def test_cancel_and_a_command_in_the_middle(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    await begin_adding(admin)
    await admin.send("公共充电桩")
    for command in ("/projects", "/opinions", "/help"):
        out = await admin.send(command)
        assert [o.text for o in out] == [t(admin, "project.in_progress")], command
    assert await step_of(world, admin.id) == "description"
    await admin.tap(t(admin, "project.cancel"))
    assert admin.last == t(admin, "project.cancelled")
    assert await step_of(world, admin.id) is None and await draft_of(world, admin.id) is None
    await begin_adding(admin)
    await admin.send("/cancel")
    assert admin.last == t(admin, "project.cancelled")
    assert await projects(world) == []


async def test_a_restart_resumes_at_the_step(world: World) -> None:
    admin = await staff(world)
    await begin_adding(admin)
    await admin.send("便民菜店")
    await admin.send("新建 10 个便民菜店。")
    await world.crash_and_restart()
    assert await step_of(world, admin.id) == "department"
    await admin.send("区商务局")
    assert admin.last == t(admin, "project.ask_budget")
    await admin.send("120")
    await admin.tap(t(admin, "project.save"))
    row = (await projects(world))[0]
    assert (row["title"], row["department"], row["budget_wan"]) == ("便民菜店", "区商务局", 120)


async def test_one_conversation_at_a_time(world: World) -> None:
    admin = await staff(world)
    chosen = await project(world, "学校周边交通", state="chosen")
    await admin.send("/broadcast")
    out = await admin.tap_data(ProjectAdd().pack())
    assert alerts(out) == [t(admin, "conversation.busy")]
    out = await admin.tap_data(ProgressStart(project=chosen).pack())
    assert alerts(out) == [t(admin, "conversation.busy")]
    assert await step_of(world, admin.id) is None
    await admin.send("/cancel")
    await begin_adding(admin)
    out = await admin.tap_data(ProjectAdd().pack())  # the same, tapped again
    assert alerts(out) == [t(admin, "project.in_progress")]
    assert await step_of(world, admin.id) == "title"


# --- editing and withdrawing ------------------------------------------------------------------


@LANGS
async def test_staff_edit_a_candidate_field_by_field(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    pid = await project(world, "健身步道", budget=50)
    await project(world, "社区养老驿站")
    await admin.tap_data(ProjectOpen(project=pid, page=0).pack(), think=1)
    await admin.tap(t(admin, "project.edit"))
    assert admin.last == t(admin, "project.edit_which", title="健身步道")
    await admin.tap(t(admin, "project.field_title"))
    assert admin.last == (
        t(admin, "project.ask_title", maximum=100)
        + "\n"
        + t(admin, "project.current_value", value="健身步道")
    )
    out = await admin.send("社区养老驿站")  # another project's title
    assert [o.text for o in out] == [
        t(admin, "project.title_taken", title="社区养老驿站", year=2026)
    ]
    out = await admin.send("滨河健身步道")
    assert out[-1].text.startswith(t(admin, "project.updated") + "\n\n<b>滨河健身步道</b>")
    assert (await project_row(world, pid))["title"] == "滨河健身步道"
    assert await step_of(world, admin.id) is None

    await admin.tap(t(admin, "project.edit"))
    await admin.tap(t(admin, "project.field_budget"))
    assert admin.last.endswith(t(admin, "project.current_value", value=budget(admin, "50")))
    await admin.tap(t(admin, "project.clear"))
    assert (await project_row(world, pid))["budget_wan"] is None
    await admin.tap(t(admin, "project.edit"))
    await admin.tap(t(admin, "project.field_description"))
    await admin.send("沿河修建 5 公里健身步道。")
    assert (await project_row(world, pid))["description"] == "沿河修建 5 公里健身步道。"


@LANGS
async def test_staff_withdraw_a_candidate_and_may_enter_it_again(world: World, lang: str) -> None:
    admin = await staff(world, lang)
    pid = await project(world, "错误录入的项目")
    await admin.tap_data(ProjectOpen(project=pid, page=0).pack())
    await admin.tap(t(admin, "project.withdraw"))
    assert admin.last == t(admin, "project.confirm_withdraw", title="错误录入的项目")
    await admin.tap(t(admin, "project.withdraw_no"))
    assert (await project_row(world, pid))["state"] == "candidate"
    await admin.tap(t(admin, "project.withdraw"))
    out = await admin.tap(t(admin, "project.withdraw_yes"))
    assert (await project_row(world, pid))["state"] == "withdrawn"
    assert out[-1].text.startswith(t(admin, "project.withdrawn", title="错误录入的项目"))
    assert t(admin, "project.list_empty") in out[-1].text
    out = await admin.tap_data(ProjectOpen(project=pid, page=0).pack())
    assert alerts(out) == [t(admin, "project.unknown")]

    # The same title may be entered again: the withdrawn row comes back as the new one.
    await begin_adding(admin)
    await admin.send("错误录入的项目")
    await admin.tap(t(admin, "project.skip"))
    await admin.send("区发改委")
    await admin.send("10")
    await admin.tap(t(admin, "project.save"))
    rows = await projects(world)
    assert [(r["id"], r["state"], r["department"]) for r in rows] == [
        (pid, "candidate", "区发改委")
    ]


async def test_a_candidate_may_take_the_title_of_a_withdrawn_one(world: World) -> None:
    admin = await staff(world)
    gone = await project(world, "口袋公园", state="withdrawn")
    pid = await project(world, "小微绿地")
    await admin.tap_data(ProjectOpen(project=pid, page=0).pack())
    await admin.tap(t(admin, "project.edit"))
    await admin.tap(t(admin, "project.field_title"))
    out = await admin.send("口袋公园")
    assert out[-1].text.startswith(t(admin, "project.updated"))
    rows = await projects(world)
    assert [(r["id"], r["title"], r["state"]) for r in rows] == [(pid, "口袋公园", "candidate")]
    assert gone not in [r["id"] for r in rows]  # the withdrawn one made room


async def open_ballot_on(world: World, project_id: int) -> None:
    """What the ballots do when a selection opens (bot.services.ballots): the ballot and
    its projects."""
    async with world.db.transaction() as tx:
        ballot = await tx.execute(
            "INSERT INTO ballots (year, purpose, mode, entitled, opened_at)"
            " VALUES (2026, 'selection', 'each', 3, '2026-11-26T02:00:00+00:00')"
        )
        await tx.execute(
            "INSERT INTO ballot_projects (ballot_id, project_id, position) VALUES (?, ?, 1)",
            (ballot, project_id),
        )


@LANGS
async def test_a_candidate_on_a_ballot_is_no_longer_edited_or_withdrawn(
    world: World, lang: str
) -> None:
    admin = await staff(world, lang)
    pid = await project(world, "停车设施改造")
    await admin.tap_data(ProjectOpen(project=pid, page=0).pack())
    await admin.tap(t(admin, "project.edit"))
    await admin.tap(t(admin, "project.field_department"))
    await open_ballot_on(world, pid)
    out = await admin.send("区交通委")  # the ballot opened while it was typed
    assert [o.text for o in out] == [t(admin, "project.locked", title="停车设施改造")]
    assert await step_of(world, admin.id) is None
    assert (await project_row(world, pid))["department"] == "区城市管理委员会"

    out = await admin.tap_data(ProjectOpen(project=pid, page=0).pack())
    assert out[-1].buttons() == [t(admin, "project.back_to_list")]
    for data in (
        ProjectEditMenu(project=pid, page=0),
        ProjectEditField(project=pid, field=ProjectField.TITLE),
        ProjectWithdraw(project=pid, page=0),
        ProjectWithdrawConfirmed(project=pid, page=0),
    ):
        out = await admin.tap_data(data.pack())
        assert alerts(out) == [t(admin, "project.locked", title="停车设施改造")], data
    row = await project_row(world, pid)
    assert (row["state"], row["title"]) == ("candidate", "停车设施改造")


# --- /projects and the card ------------------------------------------------------------------


@LANGS
async def test_the_list_shows_chosen_first_and_candidates_to_insiders_only(
    world: World, lang: str
) -> None:
    cand = await project(world, "候选甲", department="区水务局")
    chosen = await project(world, "已定乙", state="chosen", department="区教委")
    await project(world, "未入选丙", state="rejected")
    await project(world, "撤回丁", state="withdrawn")
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE projects SET percent_done = 45 WHERE id = ?", (chosen,))
    admin = await staff(world, lang)
    dep = await deputy(world, 5001, lang)
    person = await voter(world, 5002, lang)

    def line(who: Person, number: int, title: str, state: str, percent: int, dept: str) -> str:
        return t(
            who,
            "project.list_item",
            number=number,
            title=title,
            state=t(who, state),
            percent=percent,
            department=dept,
        )

    for who in (admin, dep):
        out = await who.send("/projects")
        assert out[-1].text == "\n\n".join(
            [
                t(who, "project.list_title", year=2026),
                line(who, 1, "已定乙", "project.state_chosen", 45, "区教委"),
                line(who, 2, "候选甲", "project.state_candidate", 0, "区水务局"),
            ]
        )
    out = await person.send("/projects")
    assert out[-1].text == "\n\n".join(
        [
            t(person, "project.list_title", year=2026),
            line(person, 1, "已定乙", "project.state_chosen", 45, "区教委"),
        ]
    )
    assert out[-1].buttons() == [t(person, "project.item_button", number=1, title="已定乙")]
    # the deputy sees no "add"; the staff do
    assert t(dep, "project.add") not in dep.buttons()
    assert t(admin, "project.add") in admin.buttons()

    # A voter's forged button for a candidate finds nothing.
    out = await person.tap_data(ProjectOpen(project=cand, page=0).pack())
    assert alerts(out) == [t(person, "project.unknown")]


async def test_the_list_is_paged(world: World) -> None:
    for n in range(1, 11):
        await project(world, f"项目{n:02d}")
    admin = await staff(world)
    out = await admin.send("/projects")
    assert out[-1].buttons()[:8] == [
        t(admin, "project.item_button", number=n, title=f"项目{n:02d}") for n in range(1, 9)
    ]
    await admin.tap(t(admin, "nav.next"))
    assert admin.seen[-1].buttons()[:2] == [
        t(admin, "project.item_button", number=9, title="项目09"),
        t(admin, "project.item_button", number=10, title="项目10"),
    ]


@LANGS
async def test_earlier_years_are_a_tap_away(world: World, lang: str) -> None:
    await project(world, "二〇二四年的项目", state="chosen", year=2024)
    await project(world, "今年的项目", state="chosen")
    person = await voter(world, 5101, lang)
    out = await person.send("/projects")
    assert t(person, "project.earlier_year", year=2024) in out[-1].buttons()
    assert not any("▶" in b for b in out[-1].buttons())
    out = await person.tap(t(person, "project.earlier_year", year=2024))
    assert out[-1].text.startswith(t(person, "project.list_title", year=2024))
    assert "二〇二四年的项目" in out[-1].text and "今年的项目" not in out[-1].text
    assert t(person, "project.later_year", year=2026) in out[-1].buttons()
    await person.tap(t(person, "project.later_year", year=2026))
    assert "今年的项目" in person.last
    # A year in the future is shown as this year; one out of range is a forged button.
    await person.tap(t(person, "project.earlier_year", year=2024))
    out = await person.tap_data(ProjectList(year=2030, page=0).pack())
    assert out[-1].text.startswith(t(person, "project.list_title", year=2026))
    out = await person.tap_data("jpl:1999:0")
    assert alerts(out) == [t(person, "error.stale_button")]


@LANGS
async def test_a_chosen_projects_card(world: World, lang: str) -> None:
    pid = await project(
        world,
        "背街小巷 <整治>",
        state="chosen",
        department="区城管委 & 街道",
        description="整治 100 条背街小巷。",
        budget=1200,
    )
    admin = await staff(world, lang)
    out = await admin.send("/projects")
    out = await admin.tap(t(admin, "project.item_button", number=1, title="背街小巷 <整治>"))
    card = t(
        admin,
        "project.card",
        title="背街小巷 &lt;整治&gt;",
        state=t(admin, "project.state_chosen"),
        department="区城管委 &amp; 街道",
        budget=budget(admin, "1,200"),
        percent=0,
    )
    assert out[-1].kind == "edit"
    assert out[-1].text == (
        card
        + "\n"
        + t(admin, "project.card_followers", count="0")
        + "\n\n整治 100 条背街小巷。\n\n"
        + t(admin, "project.updates_title")
        + "\n"
        + t(admin, "project.no_updates")
    )
    assert out[-1].buttons() == [
        t(admin, "project.post_progress"),
        t(admin, "project.back_to_list"),
    ]
    await admin.tap(t(admin, "project.back_to_list"))
    assert admin.last.startswith(t(admin, "project.list_title", year=2026))

    dep = await deputy(world, 5201, lang)
    out = await dep.tap_data(ProjectOpen(project=pid, page=0).pack())
    assert out[-1].text.startswith(card + "\n\n")  # no followers' count for a deputy
    assert out[-1].buttons() == [
        t(dep, "project.follow"),
        t(dep, "project.supervise"),
        t(dep, "project.back_to_list"),
    ]
    person = await voter(world, 5202, lang)
    out = await person.tap_data(ProjectOpen(project=pid, page=0).pack())
    assert out[-1].text.startswith(card + "\n\n")
    assert out[-1].buttons() == [t(person, "project.back_to_list")]


# --- who may do what ---------------------------------------------------------------------------


@LANGS
async def test_voters_and_deputies_are_refused_the_staffs_buttons(world: World, lang: str) -> None:
    cand = await project(world, "候选项目甲")
    chosen = await project(world, "确定项目乙", state="chosen")
    person = await voter(world, 5301, lang)
    dep = await deputy(world, 5302, lang)
    before = await projects(world)
    forbidden = t(person, "error.forbidden")
    staff_buttons = [
        ProjectAdd(),
        ProjectEditMenu(project=cand, page=0),
        ProjectEditField(project=cand, field=ProjectField.TITLE),
        ProjectWithdraw(project=cand, page=0),
        ProjectWithdrawConfirmed(project=cand, page=0),
        ProgressStart(project=chosen),
    ]
    for who in (person, dep):
        for data in staff_buttons:
            out = await who.tap_data(data.pack())
            assert alerts(out) == [forbidden], (who.id, data)
    # the deputies' own buttons, forged by a voter
    for data in (
        ProjectFollow(project=chosen, page=0, on=True),
        SupervisionStart(project=chosen),
    ):
        out = await person.tap_data(data.pack())
        assert alerts(out) == [forbidden], data
    assert await projects(world) == before
    assert await world.rows("SELECT * FROM project_followers") == []
    assert await world.rows("SELECT * FROM conversation_states") == []
    # and a garbled one is stale, whoever taps it
    out = await person.tap_data("jpw:abc:0")
    assert alerts(out) == [t(person, "error.stale_button")]


async def test_a_staff_member_who_is_not_the_admin_manages_projects(world: World) -> None:
    admin = await staff(world)
    await admin.send("/staff add 5401")
    member = Person(world, 5401, "工作人员")
    await member.send("/start")
    await member.tap(t(member, "privacy.agree"))
    await begin_adding(member)
    await member.send("垃圾分类驿站")
    await member.tap(t(member, "project.skip"))
    await member.send("区城管委")
    await member.tap(t(member, "project.skip"))
    await member.tap(t(member, "project.save"))
    assert (await projects(world))[0]["created_by"] == 5401
