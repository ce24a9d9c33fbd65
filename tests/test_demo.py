"""`python -m bot demo` for real, in a subprocess with piped input, as the README tells a
newcomer to run it: a voter's opinion from /start to the rating, with the deputy answering it
in between, checked in the transcript and in the demo's database afterwards; and the demo
needs no `.env`, no token and no network."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main as cli_main
from storage.run_lock import RunLock
from tests.support.cli import ROOT, clean_env
from tests.support.world import World

OPINION = "小区门口的人行横道没有信号灯，早晚高峰过马路很危险，希望增设红绿灯。"
ANSWER = "已与交管部门沟通，下个月在小区门口增设行人信号灯。"
# What the voter and then the deputy type: each number taps a button shown just before.
JOURNEY = [
    "/start",
    "1",  # ✅ 同意并继续
    "1",  # 📍 发送我的位置: the demo phone is at 学院路街道代表之家
    "1",  # the nearest station: 学院路街道代表之家
    "/opinion",
    "2",  # 交通出行
    OPINION,
    "1",  # no photos: 跳过
    "2",  # no location: the 跳过 key under the input field
    "2",  # 匿名提交
    "1",  # 📨 发送
    ":as deputy",
    "/inbox",
    "1",  # the newest opinion: the voter's
    "1",  # ✋ 认领办理
    "1",  # 答复
    ANSWER,
    ":as voter",
    "1",  # 已解决
    "1",  # 满意
    "1",  # no comment: 跳过
]


def demo(cwd: Path, lines: list[str], *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`python -m bot demo ARGS` with these lines piped in, to its end."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "demo", *args],
        input="".join(f"{line}\n" for line in lines),
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def query(database: Path, sql: str) -> list[dict[str, object]]:
    connection = sqlite3.connect(database)
    connection.row_factory = sqlite3.Row
    try:
        return [dict(row) for row in connection.execute(sql)]
    finally:
        connection.close()


def test_a_scripted_journey_through_the_demo(tmp_path: Path) -> None:
    database = tmp_path / "demo.sqlite3"
    run = demo(tmp_path, JOURNEY, "--db", str(database), "--fresh", "--lang", "zh_CN")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    out = run.stdout
    assert "\x1b[" not in out  # no colours, no prompts written to a pipe
    assert out.startswith("家站演示：真实的机器人在这台电脑上运行，不需要令牌，也不连接网络。\n")
    # each line is echoed after the words of the prompt, then what it brought
    assert "选民刘洋 › /start\n🤖 您好！这里是人大代表“家站”。" in out
    sent = re.search(r"选民刘洋 › 1\n✎ ✅ 已提交！编号：(HD-\d{4}-\d{6})\n", out)
    assert sent, out
    number = sent[1]
    # the deputy was told at once, in their own chat, marked as such
    assert f"🤖 [→ 代表张伟] 🆕 学院路街道代表之家收到新的意见建议 {number}（交通出行）" in out
    assert re.search(rf"代表张伟 › /inbox\n🤖 意见建议收件箱.*\n   \[1\] {number} · 已提交", out)
    assert f"代表张伟 › 1\n🤖 已认领 {number}，已通知提交人。" in out
    assert f"🤖 [→ 选民刘洋] 您的意见建议 {number} 已答复：\n   {ANSWER}\n" in out
    assert "   [1] 已解决  [2] 部分解决  [3] 未解决\n" in out
    assert f"选民刘洋 › 1\n✎ 感谢您对 {number} 的评价：已解决，满意。" in out
    assert f"🤖 [→ 代表张伟] 选民评价了您对 {number} 的答复：已解决，满意。" in out
    assert out.endswith(f"选民刘洋 › 1\n✎ 好的，{number} 的评价已保存。\n")  # no comment

    (opinion,) = query(database, "SELECT * FROM opinions WHERE author_id = 700001")
    assert opinion["tracking_no"] == number
    assert opinion["text"] == OPINION
    assert (opinion["category"], opinion["show_name"]) == ("traffic", 0)
    assert (opinion["status"], opinion["holder_id"]) == ("closed", 700002)
    assert (opinion["solved"], opinion["satisfaction"]) == ("yes", "satisfied")
    events = query(
        database, f"SELECT kind, note FROM opinion_events WHERE opinion_id = {opinion['id']}"
    )
    assert [e["kind"] for e in events] == [
        "submitted",
        "accepted",
        "answered",
        "solved_yes",
        "rated_satisfied",
    ]
    assert events[2]["note"] == ANSWER
    (voter,) = query(database, "SELECT * FROM users WHERE telegram_id = 700001")
    assert voter["consent_at"] is not None
    station = query(database, f"SELECT name FROM stations WHERE id = {voter['station_id']}")
    assert station == [{"name": "学院路街道代表之家"}]
    # every notice of the journey went out
    assert query(database, "SELECT count(*) AS n FROM outbox WHERE state = 'queued'") == [{"n": 0}]


NO_NETWORK = """\
import os
import pathlib
import socket


def refuse(*args, **kwargs):
    raise OSError("the network is off for this test")


socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
pathlib.Path(os.environ["NETWORK_OFF_MARK"]).write_text("off")
"""


def test_the_demo_reads_no_env_file_and_uses_no_network(tmp_path: Path) -> None:
    """A `.env` in the working folder that the bot could not start with, an unreachable
    Bot API address and proxy in the environment, and sockets that refuse to connect: the
    demo starts, seeds and answers all the same."""
    (tmp_path / ".env").write_text(
        "JIAZHAN_BOT_TOKEN=not-a-token\nJIAZHAN_TIMEZONE=Mars/Olympus\nJIAZHAN_MODE=webhook\n"
    )
    offline = tmp_path / "offline"
    offline.mkdir()
    (offline / "sitecustomize.py").write_text(NO_NETWORK)
    mark = tmp_path / "network-off"
    unreachable = "http://127.0.0.1:9"
    run = demo(
        tmp_path,
        ["/start", "1"],
        PYTHONPATH=f"{offline}:{ROOT}",
        NETWORK_OFF_MARK=str(mark),
        JIAZHAN_BOT_API_BASE_URL=unreachable,
        HTTP_PROXY=unreachable,
        HTTPS_PROXY=unreachable,
        ALL_PROXY=unreachable,
    )
    assert mark.read_text() == "off"  # the sockets were closed to the demo
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "选民刘洋 › 1\n✎ 感谢您的同意！\n" in run.stdout
    assert (tmp_path / "data" / "demo.sqlite3").exists()  # the default: beside, not the bot's
    assert not (tmp_path / "data" / "jiazhan.sqlite3").exists()


def test_a_second_demo_on_the_same_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One bot per database: while another process holds the file's run lock, the demo says
    so in one line and leaves the file alone, --fresh or not."""
    database = tmp_path / "demo.sqlite3"
    database.write_bytes(b"another demo's data")
    with RunLock(database):
        assert cli_main(["demo", "--db", str(database), "--fresh"]) == 2
    assert capsys.readouterr().err == f"error: a bot or demo is already running on {database}\n"
    assert database.read_bytes() == b"another demo's data"


def test_the_demo_reads_no_jiazhan_variables(tmp_path: Path) -> None:
    """Variables meant for a real bot (a zone the demo cannot use, webhook mode) are not the
    demo's settings: it starts all the same."""
    run = demo(
        tmp_path,
        ["/start"],
        JIAZHAN_TIMEZONE="Mars/Olympus",
        JIAZHAN_MODE="webhook",
        JIAZHAN_DATABASE_PATH=str(tmp_path / "bot.sqlite3"),
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert "选民刘洋 › /start\n🤖 您好！" in run.stdout
    assert not (tmp_path / "bot.sqlite3").exists()


def test_piped_bytes_that_are_not_utf8_do_not_end_the_demo(tmp_path: Path) -> None:
    """A line in another encoding (GBK) reaches the bot with replacement characters, and the
    script goes on to its next line."""
    script = b"/start\n" + "你好，代表\n".encode("gbk") + b"1\n"
    run = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--db", str(tmp_path / "demo.sqlite3")],
        input=script,
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    out, err = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 0, err
    assert err == ""
    assert "选民刘洋 › \ufffd" in out
    assert "选民刘洋 › 1\n✎ 感谢您的同意！\n" in out  # the line after it was carried out


# --- a --db that is not the demo's -------------------------------------------------------------


async def test_a_real_bots_database_is_refused_and_left_as_it_was(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bot's database (no demo mark) with a notice waiting to be sent: neither `demo` nor
    `demo --fresh` opens or deletes it; the notice is still queued."""
    await world.outbox.abort()  # a stopped bot's database: nothing of its own sends the notice
    async with world.db.transaction() as tx:
        await world.services.outbox.notify(tx, 42, "demo.welcome")
    before = await world.rows("SELECT id, state FROM outbox")
    assert [row["state"] for row in before] == ["queued"]
    for fresh in ([], ["--fresh"]):
        assert cli_main(["demo", "--db", str(world.db_path), *fresh]) == 2
        err = capsys.readouterr().err
        assert err == (
            f"error: {world.db_path} is not a demo database (it has no demo mark), so the demo"
            " neither opens nor deletes it; name another file with --db\n"
        )
    assert world.db_path.exists()
    assert await world.rows("SELECT id, state FROM outbox") == before


@pytest.mark.parametrize("fresh", [[], ["--fresh"]])
def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fresh: list[str]
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 100)
    assert cli_main(["demo", "--db", str(notes), *fresh]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {notes} cannot be the demo's database: file is not a database\n"
    assert notes.read_text() == "my notes, not a database\n" * 100


def test_a_folder_or_a_path_through_a_file_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    assert cli_main(["demo", "--db", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder} cannot be the demo's database: ")
    assert err.count("\n") == 1
    through = tmp_path / "notes.txt"
    through.write_text("a file")
    inside = through / "demo.sqlite3"
    assert cli_main(["demo", "--db", str(inside)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {inside} cannot be the demo's database: ")
    assert err.count("\n") == 1
    assert through.read_text() == "a file"


def test_a_bad_db_in_a_subprocess_ends_at_once_without_a_traceback(tmp_path: Path) -> None:
    """No hang, no traceback: one line and exit 2."""
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"\x00\x01 not SQLite" * 64)
    run = demo(tmp_path, ["/start"], "--db", str(notes))
    assert run.returncode == 2
    assert run.stderr == f"error: {notes} cannot be the demo's database: file is not a database\n"


def test_fresh_deletes_the_demos_own_database(tmp_path: Path) -> None:
    """The demo's file carries its mark: --fresh starts over on it."""
    database = tmp_path / "demo.sqlite3"
    first = demo(tmp_path, ["/start", "1"], "--db", str(database))
    assert first.returncode == 0, first.stderr
    again = demo(tmp_path, [], "--db", str(database), "--fresh")
    assert again.returncode == 0, again.stderr
    assert "已新建演示数据库" in again.stdout
    assert query(database, "SELECT consent_at FROM users WHERE telegram_id = 700001") == []
