"""Prompts and reminders of a consultation: one outbox notice per invitee when it opens
(deputies always, the audience's voters besides, a voter who turned notices off invited but
not messaged), with its "read and comment" button, in each person's language, after the
personal notices queued meanwhile and never in the quiet hours; reminders at 09:00 3 and 1
days before the deadline to the deputies who have not commented, each once, surviving a
restart, none after the deadline; opening for a whole district; and
`python -m bot consultations create`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.runtime.buttons.consultations import ReadArticle, ReadOpen
from bot.services.consultations import ConsultationPlan, QuestionPlan
from bot.services.privacy import NOTICE_VERSION
from storage.models import ConsultationAudience
from tests.support.cli import clean_env, run_bot
from tests.support.inbox import NO, submit
from tests.support.people import Person
from tests.support.scenarios import ADMIN, LANGUAGES, invite_deputy, onboard, say, texts_of
from tests.support.world import SHANGHAI, World
from tests.test_consult_open import (
    DRAFT,
    TITLE,
    open_consultation,
    staff_member,
    up_to_audience,
)

DEADLINE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=SHANGHAI)


async def prompts(world: World, key: str = "consult.prompt") -> list[dict[str, object]]:
    """The notices `key` queued (a trailing % matches every key it begins)."""
    return await world.rows(
        "SELECT chat_id, params, buttons, respects_opt_out, priority, not_before, state, reason"
        " FROM outbox WHERE message_key LIKE ? ORDER BY chat_id, id",
        (key,),
    )


def received(world: World, chat_id: int, fragment: str) -> list[str]:
    return [o.text for o in world.api.outputs if o.chat_id == chat_id and fragment in o.text]


async def comment(world: World, consultation_id: int, author_id: int, *, withdrawn: bool) -> None:
    """A comment on the whole draft, as the commenting side stores one."""
    now = world.clock.now().isoformat()
    async with world.db.transaction() as tx:
        await tx.execute(
            "INSERT INTO consultation_comments (consultation_id, author_id, text, author_kind,"
            " created_at, updated_at, withdrawn_at) VALUES (?, ?, ?, 'deputy', ?, ?, ?)",
            (
                consultation_id,
                author_id,
                "建议增加议题公示的期限。",
                now,
                now,
                now if withdrawn else None,
            ),
        )


async def add_people(world: World, voters: int, deputies: int, first_id: int = 10_000) -> None:
    """Consented voters and deputies of 学院路第一联络站, written straight to the database
    (onboarding thousands in chat would take minutes)."""
    now = world.clock.now().isoformat()
    station = await world.station_id("学院路第一联络站")
    users = [(first_id + n, "voter") for n in range(voters)]
    users += [(first_id + voters + n, "deputy") for n in range(deputies)]
    async with world.db.transaction() as tx:
        await tx.executemany(
            "INSERT INTO users (telegram_id, role, locale, station_id, consent_at,"
            f" consent_version, created_at) VALUES (?, ?, 'zh_CN', {station}, ?, ?, ?)",
            [(uid, role, now, NOTICE_VERSION, now) for uid, role in users],
        )
        await tx.executemany(
            "INSERT INTO deputies (user_id, name, station_id, joined_at) VALUES (?, ?, ?, ?)",
            [(uid, f"代表{uid}", station, now) for uid, role in users if role == "deputy"],
        )


# --- prompts ---------------------------------------------------------------------------------


async def test_opening_prompts_every_invitee_once_deputies_always(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    near = await invite_deputy(world, staff, person, 501, "王代表")
    far = await invite_deputy(
        world, staff, person, 502, "Deputy Zhao", "海淀街道", "海淀街道联络站", "en"
    )
    here, there, quiet = person(601), person(602, "Li", "en"), person(603)
    await onboard(here)
    await onboard(there, "学院路街道", "学院路第一联络站")
    await onboard(quiet)
    await onboard(person(604), "海淀街道", "海淀街道联络站")  # another station: not prompted
    await quiet.send("/notices off")
    await far.send("/notices off")  # a deputy is prompted all the same

    await open_consultation(
        staff, "consult.audience_voters_station", "学院路街道", "学院路第一联络站"
    )
    rows = await prompts(world)
    # the voter with notices off is invited too: the outbox skips their prompt
    assert [r["chat_id"] for r in rows] == [501, 502, 601, 602, 603]
    assert [r["respects_opt_out"] for r in rows] == [0, 0, 1, 1, 1]
    assert {r["priority"] for r in rows} == {1}  # after any personal notice
    params = json.loads(str(rows[0]["params"]))
    assert params == {"title": TITLE, "deadline_at": DEADLINE.isoformat(), "consultation": 1}
    assert json.loads(str(rows[0]["buttons"])) == [
        [{"label": "consult.read_button", "intent": "read_consultation", "target": 1, "choice": ""}]
    ]
    invitees = await world.rows("SELECT user_id, kind FROM consultation_invitees ORDER BY 1")
    assert [(i["user_id"], i["kind"]) for i in invitees] == [
        (501, "deputy"),
        (502, "deputy"),
        (601, "voter"),
        (602, "voter"),
        (603, "voter"),
    ]
    assert (await world.rows("SELECT invited FROM consultations"))[0]["invited"] == 5

    await world.outbox.drain()
    zh = world.services.i18n.texts("zh_CN")
    en = world.services.i18n.texts("en")
    assert received(world, near.id, TITLE) == [
        zh("consult.prompt", title=TITLE, deadline_at=zh.datetime(DEADLINE))
    ]
    assert received(world, far.id, TITLE) == [
        en("consult.prompt", title=TITLE, deadline_at=en.datetime(DEADLINE))
    ]
    assert len(received(world, there.id, TITLE)) == 1 and not received(world, quiet.id, TITLE)
    sent = {r["chat_id"]: (r["state"], r["reason"]) for r in await prompts(world)}
    assert sent[quiet.id] == ("skipped", "opted_out")
    assert [c for c, (state, _) in sent.items() if state == "sent"] == [501, 502, 601, 602]
    notice = next(o for o in world.api.outputs if o.chat_id == here.id and TITLE in o.text)
    (read,) = notice.markup["inline_keyboard"][0] if notice.markup else [None]
    assert read["text"] == zh("consult.read_button")
    assert read["callback_data"] == ReadOpen(consultation=1).pack()
    assert not received(world, ADMIN, say(staff, "consult.read_button"))


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_voter_with_notices_off_is_counted_invited_and_sent_no_prompt(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    await invite_deputy(world, staff, person, 531, "王代表", language_code=code)
    listening, silent = person(631, "李四", code), person(632, "赵五", code)
    await onboard(listening)
    await onboard(silent)
    await silent.send("/notices off")
    await up_to_audience(staff)
    await staff.tap(say(staff, "consult.audience_everyone"))
    assert say(staff, "consult.reach", count="3", deputies="1", voters="2") in staff.last
    await staff.send("2026-12-31")
    await staff.tap(say(staff, "consult.open"))
    deadline = texts_of(staff).datetime(DEADLINE)
    assert staff.last == say(
        staff, "consult.opened", number=1, title=TITLE, count="3", deadline=deadline
    )
    await world.outbox.drain()
    prompt = say(listening, "consult.prompt", title=TITLE, deadline_at=deadline)
    assert received(world, 531, TITLE) == [prompt]
    assert received(world, listening.id, TITLE) == [prompt]
    assert received(world, silent.id, TITLE) == []
    (row,) = await world.rows("SELECT invited FROM consultations")
    states = [(r["state"], r["reason"]) for r in await prompts(world)]
    assert (row["invited"], len(states)) == (3, 3)
    assert states.count(("sent", None)) == 2 and ("skipped", "opted_out") in states


@pytest.mark.world(outbox_rate=500, outbox_per_chat_interval_seconds=0)
async def test_personal_notices_queued_after_opening_go_before_its_prompts(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    deputy = await invite_deputy(world, staff, person, 541, "王代表")
    await add_people(world, voters=60, deputies=0)
    await world.outbox.abort()  # the queue holds still: 61 prompts wait in it
    await open_consultation(staff)
    await submit(person(641, "李四"), "小区东门的路灯坏了一个多月，晚上很不安全。")
    assert len(await prompts(world)) == 61
    before = len(world.api.outputs)
    await world.crash_and_restart()
    await world.outbox.drain()
    sent = world.api.outputs[before:]
    told = [n for n, o in enumerate(sent) if o.chat_id == deputy.id and NO in o.text]
    prompted = [n for n, o in enumerate(sent) if TITLE in o.text]
    assert len(prompted) == 61 and len(told) == 1, [o.text for o in sent]
    assert told[0] < min(prompted)  # the deputy hears of the opinion before any prompt


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_opened_in_the_quiet_hours_its_prompts_wait_for_their_end(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    staff = await staff_member(person, code)
    deputy = await invite_deputy(world, staff, person, 551, "王代表", language_code=code)
    voter = person(651, "李四", code)
    await onboard(voter)
    world.clock.set(datetime(2026, 11, 26, 23, 0, tzinfo=SHANGHAI))  # quiet from 22:00 to 07:00
    await open_consultation(staff)
    morning = datetime(2026, 11, 27, 7, 0, tzinfo=SHANGHAI)
    rows = await prompts(world)
    assert {datetime.fromisoformat(str(r["not_before"])) for r in rows} == {morning}
    await world.outbox.drain()
    assert received(world, deputy.id, TITLE) == [] and received(world, voter.id, TITLE) == []
    world.clock.set(morning)
    await world.outbox.drain()
    prompt = say(
        deputy, "consult.prompt", title=TITLE, deadline_at=texts_of(deputy).datetime(DEADLINE)
    )
    assert received(world, deputy.id, TITLE) == [prompt]
    assert received(world, voter.id, TITLE) == [prompt]


async def test_deputies_of_one_street_are_the_only_deputies_prompted(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await invite_deputy(world, staff, person, 511, "王代表")
    await invite_deputy(world, staff, person, 512, "赵代表", "海淀街道", "海淀街道联络站")
    await onboard(person(611), "海淀街道", "海淀街道联络站")
    await open_consultation(staff, "consult.audience_deputies_street", "海淀街道")
    assert [r["chat_id"] for r in await prompts(world)] == [512]
    (row,) = await world.rows("SELECT audience, audience_ref FROM consultations")
    street = await world.rows("SELECT id FROM streets WHERE name = '海淀街道'")
    assert (row["audience"], row["audience_ref"]) == ("deputies_street", street[0]["id"])


async def test_staff_and_strangers_are_not_prompted(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await person(621).send("/start")  # never agreed: nothing may be sent
    await invite_deputy(world, staff, person, 521, "王代表")
    await open_consultation(staff)
    assert [r["chat_id"] for r in await prompts(world)] == [521]


async def test_opening_for_a_whole_district_queues_one_prompt_each(world: World) -> None:
    """A district's shape at a tenth of its size (bench/bench_consultations.py times the
    full 20,000 voters and 500 deputies): a 120-article draft, everyone invited at once."""
    await add_people(world, voters=2_000, deputies=50)
    draft = "\n".join(f"第{n}条　本条例第{n}条的内容，规定有关事项。" for n in range(1, 121))
    plan = ConsultationPlan(
        title=TITLE,
        text=draft,
        questions=[QuestionPlan(text="您是否赞成？", choices=["赞成", "反对"])],
        audience=ConsultationAudience.EVERYONE,
        deadline=DEADLINE,
    )
    await world.outbox.abort()  # the queue only: nothing is sent
    consultation = await world.services.consultations.open(None, plan)
    assert consultation.invited == 2_050
    rows = await prompts(world)
    assert len(rows) == 2_050 and len({r["chat_id"] for r in rows}) == 2_050
    assert await world.services.consultations.repo.article_count(consultation.id) == 120
    kinds = await world.rows("SELECT kind, count(*) AS n FROM consultation_invitees GROUP BY 1")
    assert {k["kind"]: k["n"] for k in kinds} == {"deputy": 50, "voter": 2_000}


# --- reminders -------------------------------------------------------------------------------


async def with_two_deputies(
    world: World, person: Callable[..., Person], code: str = "en"
) -> Person:
    """Staff, two deputies (701 in Chinese, 702 in `code`) and a voter (801); a consultation
    for everyone, open until the end of 31 December. Returns deputy 702."""
    staff = await staff_member(person)
    await invite_deputy(world, staff, person, 701, "王代表")
    deputy = await invite_deputy(world, staff, person, 702, "Deputy Zhao", language_code=code)
    await onboard(person(801))
    await open_consultation(staff)
    return deputy


async def reminders(world: World) -> list[tuple[int, int]]:
    """(chat, days before) of every reminder queued."""
    rows = await prompts(world, "consult.reminder%")
    return [(int(str(r["chat_id"])), json.loads(str(r["params"]))["days"]) for r in rows]


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, second, tzinfo=SHANGHAI)


def reminder(deputy: Person, days: int) -> str:
    return say(
        deputy,
        "consult.reminder_one" if days == 1 else "consult.reminder_many",
        title=TITLE,
        deadline_at=texts_of(deputy).datetime(DEADLINE),
        days=days,
    )


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_reminders_at_9_3_and_1_days_before_to_deputies_who_have_not_commented(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await with_two_deputies(world, person, code)
    consultations = world.services.consultations
    await comment(world, 1, 701, withdrawn=False)
    await comment(world, 1, 702, withdrawn=True)  # withdrawn: as if none
    world.clock.set(at(28, 8, 59, 59))
    assert await consultations.run_due() == 0  # a second early
    world.clock.set(at(28, 9))  # 09:00 on the day 3 days before the deadline's day
    assert await consultations.run_due() == 1
    assert await reminders(world) == [(702, 3)]
    assert await consultations.run_due() == 0  # once
    world.clock.set(at(30, 8, 59, 59))
    assert await consultations.run_due() == 0
    world.clock.set(at(30, 9))
    assert await consultations.run_due() == 1
    assert await reminders(world) == [(702, 3), (702, 1)]
    await world.outbox.drain()
    assert received(world, 702, "⏰") == [reminder(deputy, 3), reminder(deputy, 1)]
    assert all("(s)" not in text for text in received(world, 702, "⏰"))
    assert not received(world, 801, "⏰") and not received(world, 701, "⏰")
    sent = await world.rows("SELECT days_before FROM consultation_reminders ORDER BY 1")
    assert [r["days_before"] for r in sent] == [1, 3]


async def test_each_reminder_survives_a_restart_and_goes_once(
    world: World, person: Callable[..., Person]
) -> None:
    await with_two_deputies(world, person)
    world.clock.set(at(28, 9))
    assert await world.services.consultations.run_due() == 1
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 0
    assert await reminders(world) == [(701, 3), (702, 3)]


async def test_down_past_the_1_day_point_only_the_latest_goes(
    world: World, person: Callable[..., Person]
) -> None:
    await with_two_deputies(world, person)
    world.clock.set(at(31, 12))  # down from before the 3-day point until after the 1-day one
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 1
    assert await reminders(world) == [(701, 1), (702, 1)]
    assert await world.services.consultations.run_due() == 0


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_reminder_sent_late_into_the_quiet_hours_waits_for_their_end(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await with_two_deputies(world, person, code)
    world.clock.set(at(28, 23))  # down over 09:00: the reminder goes late, at night
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 1
    rows = await prompts(world, "consult.reminder%")
    assert {datetime.fromisoformat(str(r["not_before"])) for r in rows} == {at(29, 7)}
    await world.outbox.drain()
    assert received(world, deputy.id, "⏰") == []
    world.clock.set(at(29, 7))
    await world.outbox.drain()
    assert received(world, deputy.id, "⏰") == [reminder(deputy, 3)]
    assert await world.services.consultations.run_due() == 0


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_a_reminder_held_for_the_night_is_withdrawn_once_the_deputy_comments(
    world: World, person: Callable[..., Person], code: str, locale: str
) -> None:
    deputy = await with_two_deputies(world, person, code)
    world.clock.set(at(28, 23))  # down over 09:00: the reminder waits for the morning
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 1
    assert sorted(chat for chat, _ in await reminders(world)) == [701, 702]
    cid = (await world.rows("SELECT id FROM consultations"))[0]["id"]
    await deputy.tap_data(ReadArticle(consultation=cid, position=0, part=0).pack())
    await deputy.tap(say(deputy, "consultations.comment_article"))
    await deputy.send("第一条的立法目的应当写得更具体一些。")
    assert await world.rows("SELECT author_id FROM consultation_comments") == [
        {"author_id": deputy.id}
    ]
    world.clock.set(at(29, 7))
    await world.outbox.drain()
    assert received(world, deputy.id, "⏰") == []  # they have commented: no reminder
    assert len(received(world, 701, "⏰")) == 1  # the other deputy has not


async def test_a_reminder_that_would_wait_past_the_deadline_is_not_sent(
    world: World, person: Callable[..., Person]
) -> None:
    await with_two_deputies(world, person)
    world.clock.set(at(31, 23))  # the quiet hours end after the deadline
    await world.crash_and_restart()
    assert await world.services.consultations.run_due() == 1
    assert await reminders(world) == []
    sent = await world.rows("SELECT days_before FROM consultation_reminders")
    assert [r["days_before"] for r in sent] == [1]  # recorded: never tried again
    assert await world.services.consultations.run_due() == 0


async def test_no_reminder_after_the_deadline(world: World, person: Callable[..., Person]) -> None:
    await with_two_deputies(world, person)
    world.clock.set(DEADLINE)
    assert await world.services.consultations.run_due() == 1  # closed, nothing else
    assert await reminders(world) == []
    world.clock.set(at(31, 23, 59) + timedelta(days=1))
    assert await world.services.consultations.run_due() == 0
    assert await reminders(world) == []


async def test_a_reminder_whose_time_passed_before_opening_is_not_sent(
    world: World, person: Callable[..., Person]
) -> None:
    staff = await staff_member(person)
    await invite_deputy(world, staff, person, 711, "王代表")
    await open_consultation(staff, deadline="11-28")  # 2 days: the 3-day point is behind
    assert await world.services.consultations.run_due() == 0
    world.clock.set(datetime(2026, 11, 27, 8, 59, 59, tzinfo=SHANGHAI))
    assert await world.services.consultations.run_due() == 0
    world.clock.set(datetime(2026, 11, 27, 9, 0, tzinfo=SHANGHAI))
    assert await world.services.consultations.run_due() == 1
    assert await reminders(world) == [(711, 1)]


async def test_the_scheduler_sweep_sends_reminders(
    world: World, person: Callable[..., Person]
) -> None:
    await with_two_deputies(world, person)
    world.clock.set(at(28, 9))
    (sweep,) = world.app.job_queue.get_jobs_by_name("sweep")
    await sweep.run(world.app)
    assert await reminders(world) == [(701, 3), (702, 3)]


# --- the command line --------------------------------------------------------------------------


def cli(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    # the log at WARNING: what is left on stderr is the command's own word
    env = clean_env(
        JIAZHAN_DATABASE_PATH=str(tmp_path / "cli.sqlite3"), JIAZHAN_LOG_LEVEL="WARNING"
    )
    done = run_bot(tmp_path, env, "consultations", "create", *args)
    return done.returncode, done.stdout, done.stderr


@pytest.fixture
def draft_file(tmp_path: Path) -> Path:
    path = tmp_path / "草案.txt"
    path.write_text(DRAFT, encoding="utf-8")
    return path


def test_create_on_the_command_line_opens_it_in_one_line(tmp_path: Path, draft_file: Path) -> None:
    code, out, err = cli(
        tmp_path,
        str(draft_file),
        "--title",
        TITLE,
        "--deadline",
        "2099-12-31",
        "--summary",
        "规范社区议事协商。",
        "--source",
        "市人大常委会法制办",
        "--audience",
        "deputies",
        "--question",
        "议题应当由谁提出？|居民|居民委员会",
        "--question",
        "还有什么建议？",
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "consultation #1 opened: 5 articles, 0 people invited, comments until 2099-12-31 23:59"
    ]
    # the deadline is read as the chat reads a typed date
    code, out, err = cli(
        tmp_path, str(draft_file), "--title", "又一个", "--deadline", "2099年1月2日"
    )
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        "consultation #2 opened: 5 articles, 0 people invited, comments until 2099-01-02 23:59"
    ]


@pytest.mark.parametrize(
    "args, says",
    [
        pytest.param(("--deadline", "2099-12-31"), "The title cannot be empty", id="no-title"),
        pytest.param(("--title", "T", "--deadline", "31.12.2099"), "not understood", id="date"),
        pytest.param(("--title", "T", "--deadline", "2099-02-30"), "not understood", id="no-day"),
        pytest.param(("--title", "T"), "not understood", id="no-deadline"),
        pytest.param(("--title", "T", "--deadline", "2020-01-01"), "after today", id="past"),
        pytest.param(
            ("--title", "T", "--deadline", "2099-12-31", "--audience", "all"),
            "no audience “all”",
            id="audience",
        ),
        pytest.param(
            ("--title", "T", "--deadline", "2099-12-31", "--audience", "voters_station"),
            "Pick the street/town or the station",
            id="no-place",
        ),
        pytest.param(
            ("--title", "T", "--deadline", "2099-12-31", "--question", "为什么？|只有一个"),
            "A choice needs 2–8 options",
            id="one-option",
        ),
    ],
)
def test_bad_input_on_the_command_line_is_one_line_and_nothing_is_opened(
    tmp_path: Path, draft_file: Path, args: tuple[str, ...], says: str
) -> None:
    code, out, err = cli(tmp_path, str(draft_file), *args)
    assert code != 0 and out == ""
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and says in err


@pytest.mark.parametrize(
    "content, says",
    [
        pytest.param(b"", "The draft is empty", id="empty"),
        pytest.param(b"%PDF-1.7\n" + bytes(100), "not a text document", id="pdf"),
    ],
)
def test_a_bad_file_on_the_command_line(tmp_path: Path, content: bytes, says: str) -> None:
    path = tmp_path / "草案.bin"
    path.write_bytes(content)
    code, out, err = cli(tmp_path, str(path), "--title", "T", "--deadline", "2099-12-31")
    assert code != 0 and out == "" and len(err.splitlines()) == 1 and says in err
    code, out, err = cli(tmp_path, str(tmp_path / "missing.txt"), "--title", "T")
    assert code != 0 and err.startswith("error: cannot read") and len(err.splitlines()) == 1
