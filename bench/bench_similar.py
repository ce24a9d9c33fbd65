"""Similar opinions among 100,000 open opinions of one 街镇, with checks that can fail.

The bench writes, through the real schema on a temporary SQLite file, 100,000 open opinions
of one 街镇 (8 stations) generated from 32 everyday matters, each in several wordings with
places, people, times and wishes varied (公交班次, 路面积水 and 地铁口 share words with the
planted matter on purpose), 10,000 of the same street no longer open, and 2,000 of a
neighbouring street. Then it plants a cluster of `--planted` look-alikes about one matter
(公交站台没有遮雨棚) at 3 stations, worded differently, and the same matter where it must not
come: in the other street, declined, answered, taken into a suggestion, a project's
supervision opinion. It knows every opinion's street, station and state on its own.

Timing: `SimilarOpinions.like` over `--queries` searches (planted ones and background ones
alternately), each after a few writes as the bot would see between two searches (new
opinions, some declined; a new look-alike and a look-alike declined on the way), so bringing
the index up to date is inside the time. The first search of the run (jieba's dictionary,
segmenting every text once, building the index) and a first search after a restart (the
index from the kept words) are timed apart, as warm-up. Baseline from the same run: a bare
`SELECT o.id, t.terms` of the street's open opinions, what any search that reads the pool
from SQLite pays before comparing anything.

Run from the project root:  .venv/bin/python -m bench.bench_similar  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import FixedClock
from bot.services.outbox import Outbox
from bot.services.similar_opinions import SimilarMatches, SimilarOpinions
from bot.settings import Settings, load_settings
from storage import Database
from storage.db import stamp
from storage.repos.similar import OPEN
from tests.support.world import SHANGHAI, TOKEN

SUBMITTED_AT = datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
STREET = 1  # the street searched
OTHER_STREET = 2
STATIONS = 8  # in the street searched; 2 more in the other street
AUTHOR = 7_000_001
DEPUTY = 7_000_002

BREAKS = {
    "drop-lookalike": "one planted look-alike's text replaced by a background text before the"
    " first search (the truth still expects it)",
    "leak-street": "one of the other street's look-alikes moved to a station of the street"
    " searched (the truth still places it in the other street)",
    "unlink": "after the warm-up, one look-alike's link to its suggestion deleted (the truth"
    " still holds it linked)",
    "slow": "250 ms added inside each timed search",
}

# The background's matters, one a line: category | its wordings. {p} a place, {w} who,
# {t} when, {h} a wish.
MATTERS_TABLE = """
traffic | {p}小区车位太少，{t}回来找不到地方停车，{h} | {p}停车难，车都停到消防通道上了，{h}
        | {w}反映{p}附近停车位严重不足，{h}
environment | {p}垃圾分类桶不够用，厨余垃圾经常溢出来，{h} | {p}的垃圾清运不及时，{t}味道很大，{h}
        | {p}垃圾投放点离楼太远，{w}扔垃圾不方便，{h}
environment | {p}广场舞音响太吵，{t}还在放，{h} | {p}{t}有人跳舞放音乐，噪音扰民，{w}睡不好，{h}
        | {p}跳舞的音量太大，影响{w}休息，{h}
safety | {p}的路灯坏了很久，{t}黑乎乎的，{h} | {p}没有路灯，{w}{t}出门容易摔倒，{h}
        | {p}照明太差，{t}看不清路，{h}
elderly | {p}老楼没有电梯，{w}上下楼困难，{h} | {p}加装电梯的事一直没有进展，{h}
        | {w}住在高层爬楼梯吃力，盼望{p}装上电梯，{h}
traffic | {p}共享单车乱停乱放，堵住了人行道，{h} | {p}门口堆满了单车，{w}进出不方便，{h}
        | 建议在{p}划定单车停放区，{h}
urban | {p}附近缺少菜市场，{w}买菜要走很远，{h} | {p}的早餐点太少，{t}买早饭要排长队，{h}
        | {p}便民商店关了以后，{w}买日用品很不方便，{h}
elderly | {p}社区医院挂号难，{w}不会用手机预约，{h} | {p}卫生站的药品不全，{w}开药要跑大医院，{h}
        | {p}的家庭医生签约以后一直联系不上，{h}
elderly | {p}的老年食堂饭菜太贵，{h} | 希望{p}开设老年助餐点，{w}吃饭有保障，{h}
        | {p}助餐服务只有中午，{t}没有饭吃，{h}
education | {p}学校门口上下学时段交通拥堵，{h} | {p}接孩子的家长把路堵死了，{h}
        | {p}小学附近没有交警疏导，{w}过马路危险，{h}
environment | {p}绿化带被人占用种菜，{h} | {p}的树木太久没修剪，挡住了{w}家的阳光，{h}
        | {p}草坪被踩秃了，黄土裸露，{h}
safety | {p}楼道里堆满杂物，存在消防隐患，{h} | {p}的消防通道被杂物堵住，{h}
        | {p}楼道灭火器过期了没人更换，{h}
safety | {p}电动自行车在楼道里充电，很危险，{h} | {p}充电桩太少，{w}只能把电瓶带回家充，{h}
        | {p}飞线充电的现象很普遍，{h}
culture | {p}的健身器材老化损坏，{h} | {p}缺少健身场地，{w}{t}只能在马路边锻炼，{h}
        | {p}篮球场的围网破了，{h}
housing | {p}暖气不热，室温只有十几度，{h} | {p}供暖公司{t}不接电话，{h} | {p}的暖气管道漏水，{h}
housing | {p}自来水发黄，{w}担心水质，{h} | {p}{t}经常停水也没有通知，{h}
        | {p}水压太低，高层用不上水，{h}
environment | {p}附近工地{t}施工，噪声很大，{h} | {p}的工地渣土车撒落一路，{h}
        | {p}工地扬尘严重，{w}不敢开窗，{h}
education | {p}缺少儿童游乐设施，{w}没地方玩，{h} | {p}的滑梯坏了很久，{h}
        | {p}没有托育机构，{w}上班没人带孩子，{h}
traffic | {p}的公交车班次太少，{t}等车要半个小时，{h} | 希望开通{p}到地铁站的微循环公交，{h}
        | {p}公交线路调整以后，{w}出行很不方便，{h}
safety | {p}门禁系统经常坏，外来人员随意进出，{h} | {p}的监控摄像头不亮，{h}
        | {p}夜里有陌生人翻墙进来，{w}很害怕，{h}
environment | {p}的河道里有垃圾漂浮，夏天有异味，{h} | {p}河边的护栏断了，{w}经过很危险，{h}
        | {p}排水沟堵塞，污水横流，{h}
elderly | {p}养老驿站服务项目太少，{h} | {p}的养老驿站{t}不开门，{h} | 希望{p}增加上门助浴服务，{h}
traffic | {p}路面坑洼不平，下雨天积水严重，{h} | {p}{t}一下雨就积水，{w}出门要蹚水，{h}
        | {p}的井盖松动，车一过就响，{h}
other | {p}的宽带网速太慢，{h} | {p}手机信号很差，{w}在家打不了电话，{h}
        | {p}只有一家宽带运营商，价格太高，{h}
elderly | 希望{p}开设老年人智能手机培训班，{h} | {w}不会用健康码和移动支付，希望{p}教一教，{h}
        | {p}的政务服务只能网上办，{w}办不了，{h}
environment | {p}流浪猫太多，{t}叫声不断，{h} | {p}有人遛狗不牵绳，{w}被吓到了，{h}
        | {p}狗粪没人清理，{h}
housing | {p}物业费上涨不合理，服务质量却没提高，{h} | {p}物业{t}不处理报修，{h}
        | {p}业委会一直成立不起来，{h}
culture | 希望{p}多组织一些文化活动，{h} | {p}的社区图书室{t}不开放，{h} | {p}缺少{w}活动的场所，{h}
urban | {p}公园里的公共厕所太少，{h} | {p}的公厕卫生条件差，{h} | {p}公厕{t}锁门，{w}很不方便，{h}
urban | {p}快递柜太少，快递堆在门口，{h} | {p}外卖电动车逆行，{w}差点被撞，{h}
        | {p}快递车占用人行道，{h}
urban | {p}有违章建筑，占用公共空间，{h} | {p}底商占道经营，{w}走路要绕到马路上，{h}
        | {p}的小广告贴得到处都是，{h}
traffic | {p}地铁口没有无障碍电梯，{w}进站困难，{h} | {p}地铁站出口太少，{t}排很长的队，{h}
        | {p}过街天桥没有坡道，{w}推车过不去，{h}
"""
PEOPLE_TABLE = "老人 孩子 上班族 居民 残疾人 孕妇 学生 我家老人 邻居 大家"
TIMES_TABLE = "每天早上 晚上 周末 节假日 冬天 夏天 半夜 下班以后 中午 最近"
PLACES_TABLE = """
学院路 成府路 双清路 志新路 石板房 二里庄 王庄路 清华东路 林业大学 地质大学 北航 展春园
富润家园 静淑苑 逸成东苑 东王庄 西王庄 773小区 二里庄小区 健翔园 学知园 志新北里 五道口
荷清路 北四环 科荟路 京包路 华清嘉园 东升园 石油大院 矿大 语言大学 清华园 八家 六道口
明光村 北太平庄 塔院 花园路
"""


def matters(table: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(category, wordings) from the table: a line that starts with "|" goes on the one above."""
    rows: list[tuple[str, list[str]]] = []
    for line in table.strip().splitlines():
        head, *wordings = (cell.strip() for cell in line.split("|"))
        if head:
            rows.append((head, []))
        rows[-1][1].extend(wordings)
    return tuple((category, tuple(wordings)) for category, wordings in rows)


MATTERS = matters(MATTERS_TABLE)
PLACES = tuple(PLACES_TABLE.split())
WHO = tuple(PEOPLE_TABLE.split())
WHEN = tuple(TIMES_TABLE.split())
WISHES = (
    "希望尽快解决。",
    "请有关部门管一管。",
    "建议尽快整改。",
    "盼望早日改善。",
    "已经反映过多次了。",
    "请代表帮忙反映。",
    "谢谢。",
    "希望给个说法。",
)
# the planted matter, worded differently: {p} a place, {w} who, {t} when
LOOKALIKES = (
    "{p}公交站没有遮雨棚，一下雨等车的{w}全身都淋湿了，希望加装。",
    "{p}的公交站连个遮雨棚都没有，{t}下雨候车太难受了。",
    "建议给{p}公交站装遮雨棚，{w}等车不用再淋雨。",
    "{p}公交站太简陋，没有遮雨棚也没有座椅，雨天只能打伞站着等车。",
    "{t}在{p}公交站等车经常被雨淋，能不能加个遮雨棚？",
    "{p}公交站的遮雨棚拆了一直没装回来，{w}下雨天等车没处躲。",
)


@dataclass
class Truth:
    """What the bench wrote: each opinion's street and station, and which ones must or must
    not come."""

    station_of: dict[int, int] = field(default_factory=dict)
    street_of_station: dict[int, int] = field(default_factory=dict)
    planted: list[int] = field(default_factory=list)  # open look-alikes in the street
    other_street: set[int] = field(default_factory=set)  # look-alikes of the other street
    not_open: set[int] = field(default_factory=set)  # declined, answered, linked, supervision
    background_open: list[int] = field(default_factory=list)
    linked: list[int] = field(default_factory=list)

    def street_of(self, opinion_id: int) -> int:
        return self.street_of_station[self.station_of[opinion_id]]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def background_text(rng: random.Random) -> tuple[str, str]:
    category, wordings = rng.choice(MATTERS)
    text = rng.choice(wordings).format(
        p=rng.choice(PLACES), w=rng.choice(WHO), t=rng.choice(WHEN), h=rng.choice(WISHES)
    )
    return category, text


def lookalike_text(rng: random.Random, n: int) -> str:
    return LOOKALIKES[n % len(LOOKALIKES)].format(
        p=rng.choice(PLACES), w=rng.choice(WHO), t=rng.choice(WHEN)
    )


class Writer:
    """Inserts opinions through the real schema, and remembers where each went."""

    def __init__(self, db: Database, truth: Truth) -> None:
        self.db = db
        self.truth = truth
        self.serial = 0

    async def add(self, rows: list[tuple[int, str, str, str]]) -> list[int]:
        """(station, category, text, status) each; returns the new ids in order."""
        ids = []
        async with self.db.transaction() as tx:
            for station, category, text, status in rows:
                self.serial += 1
                at = stamp(SUBMITTED_AT + timedelta(seconds=self.serial))
                new = await tx.execute(
                    "INSERT INTO opinions (tracking_no, author_id, station_id, category, text,"
                    " show_name, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)",
                    (f"HD-2026-{self.serial:07d}", AUTHOR, station, category, text, status, at, at),
                )
                self.truth.station_of[new] = station
                ids.append(new)
        return ids


async def populate(db: Database, opinions: int, planted: int, seed: int) -> Truth:
    rng = random.Random(seed)
    truth = Truth()
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO streets (id, name) VALUES (?, '学院路街道'), (?, '花园路街道')",
            (STREET, OTHER_STREET),
        )
        for station in range(1, STATIONS + 3):
            street = STREET if station <= STATIONS else OTHER_STREET
            await tx.execute(
                "INSERT INTO stations (id, street_id, name) VALUES (?, ?, ?)",
                (station, street, f"第{station}联络站"),
            )
            truth.street_of_station[station] = street
        at = stamp(SUBMITTED_AT)
        await tx.execute(
            "INSERT INTO users (telegram_id, role, locale, station_id, consent_at, created_at)"
            " VALUES (?, 'voter', 'zh_CN', 1, ?, ?), (?, 'deputy', 'zh_CN', 1, ?, ?)",
            (AUTHOR, at, at, DEPUTY, at, at),
        )
        await tx.execute(
            "INSERT INTO deputies (user_id, name, station_id, joined_at)"
            " VALUES (?, '李代表', 1, ?)",
            (DEPUTY, at),
        )
    writer = Writer(db, truth)
    batch: list[tuple[int, str, str, str]] = []
    closed = opinions // 10
    for n in range(opinions + closed):
        category, text = background_text(rng)
        status = (
            rng.choice(("submitted", "accepted"))
            if n < opinions
            else rng.choice(("answered", "closed", "declined"))
        )
        batch.append((rng.randint(1, STATIONS), category, text, status))
        if len(batch) == 10_000:
            ids = await writer.add(batch)
            truth.background_open += [
                i for i, b in zip(ids, batch, strict=True) if b[3] in ("submitted", "accepted")
            ]
            batch = []
    other = [
        (rng.randint(STATIONS + 1, STATIONS + 2), *background_text(rng), "submitted")
        for _ in range(2_000)
    ]
    for rows in (batch, other):
        if rows:
            ids = await writer.add(rows)
            truth.background_open += [
                i
                for i, b in zip(ids, rows, strict=True)
                if b[3] in ("submitted", "accepted") and b[0] <= STATIONS
            ]
    # the planted cluster at stations 2, 5 and 7, and the same matter where it must not come
    truth.planted = await writer.add(
        [((2, 5, 7)[n % 3], "traffic", lookalike_text(rng, n), "submitted") for n in range(planted)]
    )
    truth.other_street = set(
        await writer.add(
            [
                (STATIONS + 1 + n % 2, "traffic", lookalike_text(rng, n), "submitted")
                for n in range(5)
            ]
        )
    )
    declined = await writer.add(
        [(3, "traffic", lookalike_text(rng, n), "declined") for n in range(3)]
    )
    answered = await writer.add(
        [(4, "traffic", lookalike_text(rng, n), "answered") for n in range(3)]
    )
    truth.linked = await writer.add(
        [(6, "traffic", lookalike_text(rng, n), "accepted") for n in range(3)]
    )
    supervision = await writer.add(
        [(8, "traffic", lookalike_text(rng, n), "submitted") for n in range(2)]
    )
    async with db.transaction() as tx:
        suggestion = await tx.execute(
            "INSERT INTO suggestions (number, lead_deputy_id, title, reason, proposals, category,"
            " state, created_at, updated_at) VALUES ('JY2026-0001', ?,"
            " '关于增设公交站遮雨棚的建议', '', '', 'traffic', 'submitted', ?, ?)",
            (DEPUTY, stamp(SUBMITTED_AT), stamp(SUBMITTED_AT)),
        )
        await tx.executemany(
            "INSERT INTO suggestion_opinions (suggestion_id, opinion_id) VALUES (?, ?)",
            [(suggestion, i) for i in truth.linked],
        )
        project = await tx.execute(
            "INSERT INTO projects (year, title, created_at) VALUES (2026, '公交站台改造', ?)",
            (stamp(SUBMITTED_AT),),
        )
        await tx.executemany(
            "UPDATE opinions SET project_id = ? WHERE id = ?", [(project, i) for i in supervision]
        )
    truth.not_open = {*declined, *answered, *truth.linked, *supervision}
    return truth


async def corrupt(db: Database, truth: Truth, kind: str, rng: random.Random) -> None:
    """A fault of `kind` in the bench's data before the first search (the truth as it was)."""
    async with db.transaction() as tx:
        if kind == "drop-lookalike":
            await tx.execute(
                "UPDATE opinions SET text = ? WHERE id = ?",
                (background_text(rng)[1], truth.planted[len(truth.planted) // 2]),
            )
        elif kind == "leak-street":
            await tx.execute(
                "UPDATE opinions SET station_id = 1 WHERE id = ?", (min(truth.other_street),)
            )


def check_result(
    truth: Truth, query: int, found: SimilarMatches, problems: dict[str, list[str]]
) -> bool:
    """One search's result against the truth; what is wrong goes to `problems`. True when
    the search was from a look-alike."""
    ids = [m.opinion.id for m in found.matches]
    if query in truth.planted:
        missing = sorted(set(truth.planted) - {query} - set(ids))
        if missing:
            problems["planted"].append(f"query {query}: {len(missing)} missing, e.g. {missing[:3]}")
        if ids and ids[0] not in truth.planted:
            problems["rank"].append(f"query {query}: best match {ids[0]}")
    strays = [i for i in ids if truth.street_of(i) != STREET]
    if strays:
        problems["street"].append(f"query {query}: {strays}")
    closed = [i for i in ids if i in truth.not_open]
    if closed:
        problems["open"].append(f"query {query}: {closed}")
    stations = len({truth.station_of[i] for i in ids})
    if found.station_count != stations:
        problems["stations"].append(f"query {query}: {found.station_count}, truth {stations}")
    return query in truth.planted


async def churn(writer: Writer, truth: Truth, rng: random.Random, step: int) -> None:
    """What happens between two searches: 5 new opinions, 5 declined; on step 4 a new
    look-alike, on step 9 a look-alike declined."""
    new = await writer.add(
        [(rng.randint(1, STATIONS), *background_text(rng), "submitted") for _ in range(5)]
    )
    truth.background_open += new
    gone = rng.sample(truth.background_open, 5)
    if step == 4:
        truth.planted += await writer.add([(5, "traffic", lookalike_text(rng, 1), "submitted")])
    if step == 9:
        gone.append(truth.planted.pop(0))
    async with writer.db.transaction() as tx:
        await tx.executemany(
            "UPDATE opinions SET status = 'declined' WHERE id = ?", [(i,) for i in gone]
        )
    truth.not_open.update(gone)
    truth.background_open = [i for i in truth.background_open if i not in truth.not_open]


async def baseline(db: Database) -> float:
    """A bare read of the words of the street's open opinions."""
    started = time.perf_counter()
    await db.fetchall(
        "SELECT o.id, t.terms FROM opinions o JOIN opinion_terms t ON t.opinion_id = o.id"
        f" WHERE o.station_id IN (SELECT id FROM stations WHERE street_id = ?) AND {OPEN}",
        (STREET,),
    )
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_similar",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<16} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--opinions", type=int, default=100_000, help="open in the street")
    parser.add_argument("--planted", type=int, default=12, help="look-alikes planted")
    parser.add_argument("--queries", type=int, default=20, help="searches timed")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--max-ms", type=float, default=200.0, help="the limit on median, p95")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    args = parser.parse_args(argv)
    if args.planted < 2 or args.planted > 30 or args.queries < 2:
        parser.error("--planted must be 2..30 (one search shows 30), --queries at least 2")
    return args


def settings_for(folder: Path) -> Settings:
    return load_settings(_env_file=None, bot_token=TOKEN, database_path=folder / "bench.sqlite3")


async def main(argv: list[str] | None = None) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-similar-") as folder:
        return await run(Path(folder), argv)


async def run(folder: Path, argv: list[str] | None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.breaking:
        print(f"--break {args.breaking}: {BREAKS[args.breaking]}")
    rng = random.Random(args.seed + 1)
    settings = settings_for(folder)
    clock = FixedClock(SUBMITTED_AT + timedelta(days=30))
    db = Database(settings.database_path)
    await db.connect()
    began = time.perf_counter()
    truth = await populate(db, args.opinions, args.planted, args.seed)
    print(
        f"data: {len(truth.background_open):,} open opinions in the street ({STATIONS} stations),"
        f" {args.opinions // 10:,} no longer open, 2,000 in the other street; planted"
        f" {len(truth.planted)} look-alikes at 3 stations, {len(truth.other_street)} in the other"
        f" street, {len(truth.not_open)} not open; written in {time.perf_counter() - began:.1f} s"
    )
    if args.breaking in ("drop-lookalike", "leak-street"):
        await corrupt(db, truth, args.breaking, rng)

    matcher = SimilarOpinions(db, clock, settings, Outbox(db, clock))
    problems: dict[str, list[str]] = {
        k: [] for k in ("planted", "rank", "street", "open", "stations")
    }
    began = time.perf_counter()
    first = await matcher.like(truth.planted[0])
    deploy = time.perf_counter() - began
    from_lookalikes = int(check_result(truth, truth.planted[0], first, problems))
    restarted = SimilarOpinions(db, clock, settings, Outbox(db, clock))
    began = time.perf_counter()
    await restarted.like(truth.planted[0])
    restart = time.perf_counter() - began
    index = await matcher.index(STREET)
    postings = sum(len(p.rows) for p in index.postings.values())
    print(
        f"warm-up: first search {deploy:.1f} s (jieba's dictionary, {len(index.row_of):,} texts"
        f" segmented and kept, the index built); after a restart {restart:.1f} s (the index"
        f" from the kept words); index: {len(index.row_of):,} rows, {len(index.postings):,}"
        f" features, {postings:,} postings (~{postings * 8 / 2**20:.0f} MiB)"
    )
    if args.breaking == "unlink":
        async with db.transaction() as tx:
            await tx.execute(
                "DELETE FROM suggestion_opinions WHERE opinion_id = ?", (truth.linked[0],)
            )

    writer = Writer(db, truth)
    writer.serial = 10_000_000
    timings: list[float] = []
    sizes: list[int] = []
    for step in range(args.queries):
        await churn(writer, truth, rng, step)
        query = (
            truth.planted[(step // 2 + 1) % len(truth.planted)]
            if step % 2 == 0
            else rng.choice(truth.background_open)
        )
        started = time.perf_counter()
        found = await matcher.like(query)
        if args.breaking == "slow":
            await asyncio.sleep(0.25)
        timings.append(time.perf_counter() - started)
        sizes.append(len(found.matches))
        from_lookalikes += check_result(truth, query, found, problems)
    bases = [await baseline(db) for _ in range(5)]

    median, p95 = statistics.median(timings), percentile(timings, 95)
    base = statistics.median(bases)
    print()
    print(f"{'run':<58}{'runs':>6}{'median ms':>11}{'p95 ms':>9}{'max ms':>9}")
    for name, values in (
        ("like(): bring the index up to date, score, read matches", timings),
        ("baseline: SELECT id, terms of the street's open opinions", bases),
    ):
        print(
            f"{name:<58}{len(values):>6}{statistics.median(values) * 1e3:>11.1f}"
            f"{percentile(values, 95) * 1e3:>9.1f}{max(values) * 1e3:>9.1f}"
        )
    print(
        f"like {median * 1e3:.1f} ms, baseline {base * 1e3:.1f} ms, ratio {median / base:.3f}"
        f" (the bare read takes {base / median:.0f}× a search); matches per search"
        f" {min(sizes)}–{max(sizes)}   (load average"
        f" {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )

    queries = args.queries + 1
    results = [
        Check(
            "every planted look-alike found by every other",
            not problems["planted"],
            f"{len(truth.planted)} look-alikes by now, {from_lookalikes} searches from one"
            if not problems["planted"]
            else "; ".join(problems["planted"][:3]),
        ),
        Check(
            "a look-alike's best match is a look-alike",
            not problems["rank"],
            "all right" if not problems["rank"] else "; ".join(problems["rank"][:3]),
        ),
        Check(
            "none from the other street",
            not problems["street"],
            f"{queries} searches" if not problems["street"] else "; ".join(problems["street"][:3]),
        ),
        Check(
            "none declined, answered, linked or a project's",
            not problems["open"],
            f"{len(truth.not_open):,} not open by now"
            if not problems["open"]
            else "; ".join(problems["open"][:3]),
        ),
        Check(
            "station_count is the stations of the matches",
            not problems["stations"],
            "all right" if not problems["stations"] else "; ".join(problems["stations"][:3]),
        ),
        Check(
            f"median and p95 under {args.max_ms:g} ms",
            median * 1e3 < args.max_ms and p95 * 1e3 < args.max_ms,
            f"median {median * 1e3:.1f} ms, p95 {p95 * 1e3:.1f} ms",
        ),
    ]
    print()
    for check in results:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in results if not c.passed]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    await db.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
