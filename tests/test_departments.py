"""The handling departments (承办单位): imported from a CSV (`python -m bot departments import`,
every bad line reported and nothing written) and kept by staff in chat with /departments: a
paged list, a department added or renamed by typing its name (empty, too long and taken
names refused at the step), deactivated (refused while it still handles suggestions) and
reactivated, each with its liaisons. Voters, deputies and liaisons are refused, and forged
buttons change nothing."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest

from bot.runtime.buttons.departments import (
    DepartmentActive,
    DepartmentAdd,
    DepartmentList,
    DepartmentOpen,
    DepartmentRename,
)
from bot.services.departments import NAME_MAX
from tests.support.cli import clean_env, run_bot
from tests.support.consultation_seed import add_user
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, onboard, only, say
from tests.support.suggestion_seed import (
    SEEDED_AT,
    seed_assignment,
    seed_department,
    seed_liaison,
    seed_suggestion,
)
from tests.support.world import World


async def departments(world: World) -> list[tuple[str, int]]:
    rows = await world.rows("SELECT name, active FROM departments ORDER BY id")
    return [(r["name"], r["active"]) for r in rows]


def write(tmp_path: Path, text: str | bytes, name: str = "departments.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


# --- the CSV import ----------------------------------------------------------------------------


async def test_an_import_adds_each_new_name_once_and_leaves_known_ones(
    world: World, tmp_path: Path
) -> None:
    await seed_department(world, "区交通委")
    path = write(
        tmp_path,
        "\ufeff名称\n区住房城乡建设委\n 区城市管理委员会 \n\n区交通委\n区 教育  委员会\n",
    )
    report = await world.services.departments.import_csv(path)
    assert report.errors == []
    assert (report.created, report.unchanged) == (3, 1)
    assert await departments(world) == [
        ("区交通委", 1),
        ("区住房城乡建设委", 1),
        ("区城市管理委员会", 1),
        ("区 教育 委员会", 1),
    ]
    again = await world.services.departments.import_csv(path)
    assert (again.created, again.unchanged, again.errors) == (0, 4, [])
    assert len(await departments(world)) == 4


async def test_an_english_header_works_too(world: World, tmp_path: Path) -> None:
    report = await world.services.departments.import_csv(
        write(tmp_path, "Name\nDistrict Transport Commission\n")
    )
    assert (report.created, report.errors) == (1, [])
    assert await departments(world) == [("District Transport Commission", 1)]


async def test_every_bad_line_is_reported_and_nothing_is_written(
    world: World, tmp_path: Path
) -> None:
    await seed_department(world, "区交通委")
    text = (
        "名称\n"
        "区住房城乡建设委\n"  # 2: fine
        "\u200b\n"  # 3: nothing readable
        "区住房城乡建设委\n"  # 4: repeats line 2
        f"{'很' * (NAME_MAX + 1)}\n"  # 5: too long
        "区民政局,区财政局\n"  # 6: two columns
        "ＡＢＣ委员会\n"  # 7: fine
        "abc委员会\n"  # 8: repeats line 7 (width and case aside)
    )
    report = await world.services.departments.import_csv(write(tmp_path, text))
    assert report.errors == [
        "line 3: the name (名称) is blank",
        "line 4: the name '区住房城乡建设委' repeats line 2",
        f"line 5: the name is longer than {NAME_MAX} characters",
        "line 6: expected 1 columns, found 2",
        "line 8: the name 'abc委员会' repeats line 7",
    ]
    assert report.created == 0
    assert await departments(world) == [("区交通委", 1)]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            "单位,备注\n区交通委,\n",
            "line 1: the header must be one column: name or 名称 or 单位名称 or 承办单位",
        ),
        ("", "line 1: the header must be name"),
        ("名称\n区交通委\n".encode("gbk"), "line 1: not UTF-8 text; save the file as UTF-8 CSV"),
    ],
    ids=["wrong header", "empty file", "not UTF-8"],
)
async def test_a_file_that_cannot_be_read_is_refused_whole(
    world: World, tmp_path: Path, content: str | bytes, error: str
) -> None:
    report = await world.services.departments.import_csv(write(tmp_path, content))
    assert report.errors == [error]
    assert await departments(world) == []


def test_the_command_line_import(tmp_path: Path) -> None:
    db = tmp_path / "data" / "cli.sqlite3"
    env = clean_env(JIAZHAN_DATABASE_PATH=str(db))

    def run(path: Path) -> subprocess.CompletedProcess[str]:
        return run_bot(tmp_path, env, "departments", "import", str(path))

    good = write(tmp_path, "名称\n区交通委\n区民政局\n")
    done = run(good)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "departments: 2 created, 0 already there"
    bad = write(tmp_path, "名称\n区财政局\n区财政局\n", "bad.csv")
    refused = run(bad)
    assert refused.returncode == 1
    assert refused.stderr.splitlines()[-2:] == [
        "error: line 3: the name '区财政局' repeats line 2",
        f"nothing imported from {bad}",
    ]
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM departments ORDER BY id")]
    assert names == ["区交通委", "区民政局"]
    assert run(good).stdout.strip() == "departments: 0 created, 2 already there"


# --- in chat -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_staff_add_a_department_by_typing_its_name(
    world: World, code: str, locale: str
) -> None:
    admin = await consented_admin(world, code)
    reply = only(await admin.send("/departments"))
    assert say(admin, "department.list_empty") in reply.text
    await admin.tap(say(admin, "department.add"))
    assert admin.last == say(admin, "department.ask_name", maximum=NAME_MAX)
    assert await world.conversation_state("department_name", admin.id) == "name"
    # refused at the step, which stays
    assert only(await admin.send("\u200b ")).text == say(admin, "department.name_empty")
    too_long = only(await admin.send("长" * (NAME_MAX + 1))).text
    assert too_long == say(admin, "department.name_too_long", maximum=NAME_MAX, count=NAME_MAX + 1)
    assert only(await admin.send_sticker()).text == say(admin, "department.bad_name")
    assert only(await admin.send("/assign")).text == say(admin, "department.in_progress")
    assert await departments(world) == []

    reply = only(await admin.send("  区 城市管理委员会 <督办>  "))
    assert reply.text.startswith(
        say(admin, "department.added", name="区 城市管理委员会 &lt;督办&gt;")
    )
    assert await departments(world) == [("区 城市管理委员会 <督办>", 1)]
    assert await world.conversation_state("department_name", admin.id) is None
    # the same name again, in other widths and spaces, is refused
    await admin.send("/departments")
    await admin.tap(say(admin, "department.add"))
    taken = only(await admin.send("区城市管理委员会<督办>")).text
    assert taken == say(admin, "department.name_taken", name="区 城市管理委员会 &lt;督办&gt;")
    await admin.send("/cancel")
    assert admin.last == say(admin, "department.cancelled")
    assert len(await departments(world)) == 1


async def test_the_list_pages_and_each_card_shows_liaisons_and_load(world: World) -> None:
    admin = await consented_admin(world)
    ids = [await seed_department(world, f"区委办局{n:02d}") for n in range(1, 11)]
    await seed_liaison(world, 7001, ids[0], name="王联络")
    deputy_id = 3001
    await add_user(world, deputy_id, role="deputy", name="张代表")
    suggestion = await seed_suggestion(world, deputy_id)
    await seed_assignment(world, suggestion, ids[0], [ids[1]])
    async with world.db.transaction() as tx:
        await tx.execute("UPDATE departments SET active = 0 WHERE id = ?", (ids[2],))

    reply = only(await admin.send("/departments"))
    assert "区委办局09" in reply.text and "区委办局10" not in reply.text
    # the inactive one goes last
    await admin.tap(say(admin, "nav.next"))
    assert "区委办局01" not in admin.last
    assert admin.last.index("区委办局10") < admin.last.index("区委办局03")
    await admin.tap(say(admin, "nav.prev"))
    await admin.tap(say(admin, "department.item_button", number=1, name="区委办局01"))
    card = admin.last
    assert "王联络" in card
    assert (
        say(
            admin,
            "department.card",
            name="区委办局01",
            state=say(admin, "department.active"),
            assignments=1,
            since=admin_date(admin),
        )
        in card
    )
    assert say(admin, "department.invite_hint") in card


def admin_date(person: Person) -> str:

    return person.world.services.i18n.texts(
        "zh_CN" if person.language_code.startswith("zh") else "en"
    ).date(SEEDED_AT)


@pytest.mark.parametrize(("code", "locale"), LANGUAGES)
async def test_rename_deactivate_and_reactivate(world: World, code: str, locale: str) -> None:
    admin = await consented_admin(world, code)
    busy_id = await seed_department(world, "区交通委")
    free_id = await seed_department(world, "区民政局")
    await add_user(world, 3001, role="deputy", name="张代表")
    await seed_assignment(world, await seed_suggestion(world, 3001), busy_id)

    await admin.send("/departments")
    await admin.tap(say(admin, "department.item_button", number=2, name="区民政局"))
    await admin.tap(say(admin, "department.rename"))
    assert admin.last == say(admin, "department.ask_rename", name="区民政局", maximum=NAME_MAX)
    assert only(await admin.send("区交通委")).text == say(
        admin, "department.name_taken", name="区交通委"
    )
    reply = only(await admin.send("区民政局（社会救助）"))
    assert reply.text.startswith(say(admin, "department.renamed", name="区民政局（社会救助）"))
    await admin.tap(say(admin, "department.deactivate"))
    assert admin.last.startswith(say(admin, "department.deactivated", name="区民政局（社会救助）"))
    assert await departments(world) == [("区交通委", 1), ("区民政局（社会救助）", 0)]
    await admin.tap(say(admin, "department.reactivate"))
    assert admin.last.startswith(say(admin, "department.reactivated", name="区民政局（社会救助）"))
    assert (await departments(world))[1] == ("区民政局（社会救助）", 1)

    # a department still handling a suggestion stays active, and staff are told why
    reply = only(
        await admin.tap_data(DepartmentActive(department=busy_id, page=0, on=False).pack())
    )
    assert (reply.kind, reply.text) == (
        "alert",
        say(admin, "department.busy", name="区交通委", count=1),
    )
    assert (await departments(world))[0] == ("区交通委", 1)
    # the department renamed, deactivated and reactivated is the same row throughout
    renamed = await world.rows("SELECT name, active FROM departments WHERE id = ?", (free_id,))
    assert renamed == [{"name": "区民政局（社会救助）", "active": 1}]


@pytest.mark.parametrize("role", ["voter", "deputy", "liaison"])
async def test_only_staff_keep_departments(world: World, person, role: str) -> None:
    department_id = await seed_department(world, "区交通委")
    someone: Person = person(5001, "某人", "en")
    if role == "liaison":
        await seed_liaison(world, someone.id, department_id, locale="en")
    elif role == "deputy":
        await add_user(world, someone.id, role="deputy", name="张代表", locale="en")
    else:
        await onboard(someone)
    assert only(await someone.send("/departments")).text == say(someone, "error.forbidden")
    before = await world.snapshot()
    for data in (
        DepartmentList(page=0),
        DepartmentOpen(department=department_id, page=0),
        DepartmentAdd(),
        DepartmentRename(department=department_id),
        DepartmentActive(department=department_id, page=0, on=False),
    ):
        reply = only(await someone.tap_data(data.pack()))
        assert (reply.kind, reply.text) == ("alert", say(someone, "error.forbidden")), data
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    "data",
    [
        DepartmentOpen(department=99, page=0).pack(),
        DepartmentRename(department=99).pack(),
        DepartmentActive(department=99, page=0, on=False).pack(),
        "dpo:0:0",
        "dps:1:0:2",
        "dpl:-1",
    ],
)
async def test_forged_department_buttons_change_nothing(world: World, data: str) -> None:
    admin = await consented_admin(world, "en")
    await seed_department(world, "区交通委")
    await admin.send("/departments")
    before = await world.snapshot()
    reply = only(await admin.tap_data(data))
    assert reply.kind == "alert"
    assert reply.text in (say(admin, "department.unknown"), say(admin, "error.stale_button"))
    assert await world.snapshot() == before
