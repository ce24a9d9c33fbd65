"""Mid-year supervision (年中督落实) of the chosen livelihood projects: staff post progress
(percent done, a note, photos) step by step; every deputy following the project gets exactly
one notice per update, through the outbox, with a button to the card; deputies follow and
unfollow; a deputy's supervision opinion becomes an opinion staff handle in /opinions."""

from __future__ import annotations

import json
from typing import Any

from bot.runtime.buttons.projects import (
    ProgressStart,
    ProjectFollow,
    ProjectOpen,
    ProjectPhotos,
    SupervisionStart,
)
from tests.support.opinions import send_quick_opinion
from tests.support.people import Person
from tests.support.projects import (
    LANGS,
    LOCALE,
    alerts,
    deputy,
    project,
    project_row,
    staff,
    t,
    voter,
)
from tests.support.scenarios import say
from tests.support.world import World


async def step_of(world: World, name: str, user_id: int) -> str | None:
    return await world.conversation_state(name, user_id)


async def notices(world: World, key: str) -> list[dict[str, Any]]:
    return await world.rows(
        "SELECT chat_id, params, buttons FROM outbox WHERE message_key = ? ORDER BY id", (key,)
    )


async def open_card(person: Person, project_id: int) -> None:
    await person.tap_data(ProjectOpen(project=project_id, page=0).pack())


async def post(admin: Person, project_id: int, percent: str, note: str, photos: int) -> None:
    """Staff post an update from the project's card."""
    await open_card(admin, project_id)
    await admin.tap(t(admin, "project.post_progress"))
    await admin.send(percent)
    await admin.send(note)
    for n in range(photos):
        await admin.send_photo(f"p-{n + 1}")
    await admin.tap(t(admin, "project.done" if photos else "project.skip"))
    await admin.tap(t(admin, "project.post"))


# --- progress ----------------------------------------------------------------------------------


@LANGS
async def test_progress_with_photos_reaches_each_follower_exactly_once(
    world: World, lang: str
) -> None:
    pid = await project(world, "老旧小区加装电梯", state="chosen")
    other = await project(world, "社区食堂", state="chosen")
    follower = await deputy(world, 6001, lang, "甲代表")
    quitter = await deputy(world, 6002, lang, "乙代表")
    elsewhere = await deputy(world, 6003, lang, "丙代表")
    bystander = await deputy(world, 6004, lang, "丁代表")
    for person in (follower, quitter):
        await open_card(person, pid)
        await person.tap(t(person, "project.follow"))
    await quitter.tap(t(quitter, "project.unfollow"))
    await open_card(elsewhere, other)
    await elsewhere.tap(t(elsewhere, "project.follow"))
    admin = await staff(world, lang)

    await open_card(admin, pid)
    await admin.tap(t(admin, "project.post_progress"))
    assert admin.last == t(admin, "project.ask_percent", title="老旧小区加装电梯", percent=0)
    assert await step_of(world, "project_progress", admin.id) == "percent"
    await admin.send("40%")
    assert admin.last == t(admin, "project.ask_note", maximum=1000)
    note = "已完成 12 台电梯的安装 <第一批> & 验收"
    await admin.send(note)
    assert admin.last == t(admin, "project.ask_photos", count=0, maximum=5)
    await admin.send_photo("lift-1")
    await admin.send_photo("lift-2")
    assert admin.last == t(admin, "project.photo_received", count=2, maximum=5)
    await admin.tap(t(admin, "project.done"))
    escaped = note.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert admin.last == t(
        admin,
        "project.progress_preview",
        title="老旧小区加装电梯",
        percent=40,
        note=escaped,
        photos=2,
        count="1",
    )
    assert await notices(world, "project.notify_progress") == []  # nothing before Post
    out = await admin.tap(t(admin, "project.post"))
    assert out[-1].text.startswith(t(admin, "project.progress_posted", count="1") + "\n\n")
    assert await step_of(world, "project_progress", admin.id) is None

    updates = await world.rows("SELECT * FROM project_updates")
    assert len(updates) == 1
    assert (updates[0]["project_id"], updates[0]["author_id"]) == (pid, admin.id)
    assert (updates[0]["percent_done"], updates[0]["note"]) == (40, note)
    assert json.loads(updates[0]["photos"]) == ["lift-1", "lift-2"]
    assert (await project_row(world, pid))["percent_done"] == 40
    queued = await notices(world, "project.notify_progress")
    assert [n["chat_id"] for n in queued] == [follower.id]
    update_id = updates[0]["id"]
    assert json.loads(queued[0]["buttons"]) == [
        [{"label": "project.open_button", "intent": "open_project", "target": pid, "choice": ""}],
        [
            {
                "label": "project.notice_photos_button",
                "intent": "progress_photos",
                "target": update_id,
                "choice": "",
            }
        ],
    ]

    await world.outbox.drain()
    mine = [o for o in world.api.outputs if o.chat_id == follower.id and o.kind == "message"]
    posted_at = world.services.i18n.texts(LOCALE[lang]).datetime(world.clock.now())
    expected = t(
        follower,
        "project.notify_progress",
        title="老旧小区加装电梯",
        percent=40,
        note=escaped,
        photos=2,
        posted_at=posted_at,
    )
    assert [o.text for o in mine].count(expected) == 1
    heading = t(
        follower, "project.notify_progress", title="", percent=0, note="", photos=0, posted_at=""
    ).split("\n")[0]
    for person in (quitter, elsewhere, bystander):
        assert not any(o.chat_id == person.id and heading in o.text for o in world.api.outputs)

    # The notice's button opens the card below it; the card lists the update and its photos.
    follower.seen.extend(mine)
    out = await follower.tap(t(follower, "project.open_button"))
    assert out[-1].kind == "message"
    texts = world.services.i18n.texts(LOCALE[lang])
    assert (
        t(
            follower,
            "project.update_item",
            date=texts.date(world.clock.now()),
            percent=40,
            photos=2,
            note=escaped,
        )
        in out[-1].text
    )
    label = t(follower, "project.photos_button", date=texts.date(world.clock.now()), count=2)
    out = await follower.tap(label)
    photos = [o for o in out if o.kind == "photo"]
    assert len(photos) == 2
    assert photos[0].text == t(
        follower,
        "project.photos_caption",
        title="老旧小区加装电梯",
        date=texts.date(world.clock.now()),
    )
    sent = [c.params["photo"] for c in world.api.calls_to("sendPhoto")]
    assert sent[-2:] == ["lift-1", "lift-2"]
    # the notice's own photos button sends them straight from the notice
    out = await follower.tap(t(follower, "project.notice_photos_button"))
    assert [o.kind for o in out].count("photo") == 2
    sent = [c.params["photo"] for c in world.api.calls_to("sendPhoto")]
    assert sent[-2:] == ["lift-1", "lift-2"]


async def test_each_update_is_one_notice_and_none_without_followers(world: World) -> None:
    pid = await project(world, "口袋公园", state="chosen")
    lonely = await project(world, "健身步道", state="chosen")
    follower = await deputy(world, 6101, "zh-hans")
    await open_card(follower, pid)
    await follower.tap(t(follower, "project.follow"))
    await follower.tap(t(follower, "project.unfollow"))
    await follower.tap(t(follower, "project.follow"))  # followed twice over: still once
    admin = await staff(world)
    await post(admin, pid, "10", "开工。", 0)
    await post(admin, pid, "35", "主体完工。", 1)
    await post(admin, lonely, "5", "设计中。", 0)
    queued = await notices(world, "project.notify_progress")
    assert [(n["chat_id"], json.loads(n["params"])["percent"]) for n in queued] == [
        (follower.id, 10),
        (follower.id, 35),
    ]
    # a photos button only under the update that has photos
    assert [len(json.loads(n["buttons"])) for n in queued] == [1, 2]
    assert (await project_row(world, pid))["percent_done"] == 35
    assert (await project_row(world, lonely))["percent_done"] == 5
    assert len(await world.rows("SELECT * FROM project_updates")) == 3


@LANGS
async def test_bad_progress_input_is_refused_at_its_step(world: World, lang: str) -> None:
    pid = await project(world, "停车设施", state="chosen")
    admin = await staff(world, lang)
    await open_card(admin, pid)
    await admin.tap(t(admin, "project.post_progress"))
    for typed in ("abc", "101", "-1", "50.5", "六十", "1000"):
        out = await admin.send(typed)
        assert [o.text for o in out] == [t(admin, "project.percent_bad")], typed
    out = await admin.send_photo()
    assert [o.text for o in out] == [t(admin, "project.percent_bad")]
    assert await step_of(world, "project_progress", admin.id) == "percent"
    await admin.send("１００％")
    out = await admin.send("\u200b")
    assert [o.text for o in out] == [t(admin, "project.note_empty")]
    out = await admin.send("进" * 1001)
    assert [o.text for o in out] == [t(admin, "project.note_too_long", count=1001, maximum=1000)]
    await admin.send("全部完工。")
    out = await admin.send("还有一张")
    assert [o.text for o in out] == [t(admin, "project.bad_photo")]
    for n in range(5):
        await admin.send_photo(f"ok-{n}")
    out = await admin.send_photo("sixth")
    assert [o.text for o in out] == [t(admin, "project.too_many_photos", maximum=5)]
    await admin.tap(t(admin, "project.photos_clear"))
    assert admin.last == t(admin, "project.ask_photos", count=0, maximum=5)
    await admin.send_photo("only")
    await admin.tap(t(admin, "project.done"))
    out = await admin.send("发布")
    assert [o.text for o in out] == [t(admin, "project.use_buttons")]
    await admin.tap(t(admin, "project.post"))
    update = (await world.rows("SELECT * FROM project_updates"))[0]
    assert (update["percent_done"], update["note"], update["photos"]) == (
        100,
        "全部完工。",
        '["only"]',
    )


@LANGS
async def test_progress_only_on_a_chosen_project(world: World, lang: str) -> None:
    cand = await project(world, "候选项目")
    admin = await staff(world, lang)
    await open_card(admin, cand)
    assert t(admin, "project.post_progress") not in admin.seen[-1].buttons()
    out = await admin.tap_data(ProgressStart(project=cand).pack())
    assert alerts(out) == [t(admin, "project.not_chosen", title="候选项目")]
    out = await admin.tap_data(ProgressStart(project=999).pack())
    assert alerts(out) == [t(admin, "project.unknown")]
    assert await step_of(world, "project_progress", admin.id) is None


async def test_a_cancelled_update_tells_nobody(world: World) -> None:
    pid = await project(world, "便民菜店", state="chosen")
    follower = await deputy(world, 6201)
    await open_card(follower, pid)
    await follower.tap(t(follower, "project.follow"))
    admin = await staff(world)
    await open_card(admin, pid)
    await admin.tap(t(admin, "project.post_progress"))
    await admin.send("50")
    await admin.send("过半。")
    await admin.tap(t(admin, "project.cancel"))
    assert admin.last == t(admin, "project.cancelled")
    assert await world.rows("SELECT * FROM project_updates") == []
    assert await notices(world, "project.notify_progress") == []
    assert (await project_row(world, pid))["percent_done"] == 0


async def test_a_restart_in_the_middle_of_an_update(world: World) -> None:
    pid = await project(world, "社区养老驿站", state="chosen")
    admin = await staff(world)
    await open_card(admin, pid)
    await admin.tap(t(admin, "project.post_progress"))
    await admin.send("70")
    await admin.send("运营中。")
    await admin.send_photo("a")
    await world.crash_and_restart()
    await admin.send_photo("b")
    assert admin.last == t(admin, "project.photo_received", count=2, maximum=5)
    await admin.tap(t(admin, "project.done"))
    await admin.tap(t(admin, "project.post"))
    update = (await world.rows("SELECT * FROM project_updates"))[0]
    assert json.loads(update["photos"]) == ["a", "b"]


# --- following ---------------------------------------------------------------------------------


@LANGS
async def test_a_deputy_follows_and_unfollows(world: World, lang: str) -> None:
    pid = await project(world, "背街小巷整治", state="chosen")
    cand = await project(world, "候选项目")
    dep = await deputy(world, 6301, lang)
    await open_card(dep, pid)
    out = await dep.tap(t(dep, "project.follow"))
    assert alerts(out) == [t(dep, "project.followed")]
    assert out[-1].buttons()[0] == t(dep, "project.unfollow")
    assert await world.rows("SELECT * FROM project_followers") == [
        {"project_id": pid, "user_id": dep.id}
    ]
    admin = await staff(world, lang)
    await open_card(admin, pid)
    assert t(admin, "project.card_followers", count="1") in admin.last
    out = await dep.tap(t(dep, "project.unfollow"))
    assert alerts(out) == [t(dep, "project.unfollowed")]
    assert out[-1].buttons()[0] == t(dep, "project.follow")
    assert await world.rows("SELECT * FROM project_followers") == []

    # A candidate is not followed (its card has no button; a forged one is refused).
    await open_card(dep, cand)
    assert t(dep, "project.follow") not in dep.seen[-1].buttons()
    out = await dep.tap_data(ProjectFollow(project=cand, page=0, on=True).pack())
    assert alerts(out) == [t(dep, "project.not_chosen", title="候选项目")]
    # Staff and voters do not follow.
    person = await voter(world, 6302, lang)
    for who in (admin, person):
        out = await who.tap_data(ProjectFollow(project=pid, page=0, on=True).pack())
        assert alerts(out) == [t(who, "error.forbidden")]
    assert await world.rows("SELECT * FROM project_followers") == []


# --- supervision opinions ----------------------------------------------------------------------


@LANGS
async def test_a_supervision_opinion_goes_to_staff_like_any_opinion(
    world: World, lang: str
) -> None:
    pid = await project(world, "学校周边交通治理", state="chosen")
    dep = await deputy(world, 6401, lang, "赵代表", "海淀街道", "海淀街道联络站")
    # a voter's opinion first: the two share one sequence of tracking numbers
    await send_quick_opinion(await voter(world, 6402, lang))
    assert (await world.rows("SELECT tracking_no FROM opinions"))[0]["tracking_no"] == (
        "HD-2026-000001"
    )

    await open_card(dep, pid)
    await dep.tap(t(dep, "project.supervise"))
    assert dep.last == t(
        dep, "project.ask_supervision", title="学校周边交通治理", minimum=10, maximum=2000
    )
    out = await dep.send("太慢了")
    assert [o.text for o in out] == [say(dep, "opinion.text_too_short", count=3, minimum=10)]
    out = await dep.send("意" * 2001)
    assert [o.text for o in out] == [say(dep, "opinion.text_too_long", count=2001, maximum=2000)]
    assert await step_of(world, "project_supervision", dep.id) == "text"
    text = "校门口的护栏还没装好，接送高峰依然拥堵 <请督促> & 尽快完成。"
    await dep.send(text)
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    assert dep.last == t(dep, "project.supervision_preview", title="学校周边交通治理", text=escaped)
    out = await dep.tap(t(dep, "project.send"))
    assert out[-1].text == t(dep, "project.supervision_sent", tracking_no="HD-2026-000002")
    assert await step_of(world, "project_supervision", dep.id) is None

    rows = await world.rows("SELECT * FROM opinions WHERE tracking_no = 'HD-2026-000002'")
    assert len(rows) == 1
    row = rows[0]
    assert (row["author_id"], row["project_id"], row["text"]) == (dep.id, pid, text)
    assert row["station_id"] == await world.station_id("海淀街道联络站")  # the deputy's own
    assert (row["category"], row["show_name"], row["status"]) == ("other", 1, "submitted")
    events = await world.rows(
        "SELECT kind, actor_id FROM opinion_events WHERE opinion_id = ?", (row["id"],)
    )
    assert events == [{"kind": "submitted", "actor_id": dep.id}]
    assert (await world.services.projects.project_of_opinion(row["id"])).id == pid

    # Staff find it in /opinions with the rest, and open it.
    admin = await staff(world, lang)
    out = await admin.send("/opinions")
    labels = [b for b in out[-1].buttons() if "HD-2026-" in b]
    assert len(labels) == 2 and "HD-2026-000002" in labels[0]
    out = await admin.tap(labels[0])
    assert escaped in out[-1].text
    assert "赵代表" in out[-1].text
    # the card says which project it supervises; a voter's opinion says nothing of the kind
    assert out[-1].text.startswith(say(admin, "inbox.about_project", project="学校周边交通治理"))
    await admin.send("/opinions")
    out = await admin.tap(next(b for b in admin.buttons() if "HD-2026-000001" in b))
    assert "学校周边交通治理" not in out[-1].text


@LANGS
async def test_supervision_is_for_deputies_on_chosen_projects(world: World, lang: str) -> None:
    pid = await project(world, "确定项目", state="chosen")
    cand = await project(world, "候选项目")
    dep = await deputy(world, 6501, lang)
    out = await dep.tap_data(SupervisionStart(project=cand).pack())
    assert alerts(out) == [t(dep, "project.not_chosen", title="候选项目")]
    person = await voter(world, 6502, lang)
    admin = await staff(world, lang)
    for who in (person, admin):
        out = await who.tap_data(SupervisionStart(project=pid).pack())
        assert alerts(out) == [t(who, "error.forbidden")]
    assert await world.rows("SELECT * FROM opinions") == []

    # Cancelled: nothing is sent.
    await dep.tap_data(SupervisionStart(project=pid).pack())
    await dep.send("护栏还没装好，请尽快督促完成。")
    await dep.send("/cancel")
    assert dep.last == t(dep, "project.cancelled")
    assert await world.rows("SELECT * FROM opinions") == []


async def test_photos_of_an_update_are_for_those_who_see_its_project(world: World) -> None:
    admin = await staff(world)
    # an update on a project voters no longer see (its state changed back afterwards)
    chosen = await project(world, "确定项目", state="chosen")
    await post(admin, chosen, "20", "进行中。", 1)
    update_id = (await world.rows("SELECT id FROM project_updates"))[0]["id"]
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE projects SET state = 'candidate' WHERE id = ?", (chosen,))
    person = await voter(world, 6601)
    out = await person.tap_data(ProjectPhotos(update=update_id).pack())
    assert alerts(out) == [t(person, "project.unknown")]
    out = await person.tap_data(ProjectPhotos(update=999).pack())
    assert alerts(out) == [t(person, "project.unknown")]
