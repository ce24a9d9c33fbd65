"""Similar opinions (相似意见) of one 街镇, on a corpus of opinions as voters write them: each
cluster member finds its mates, few others, nothing from another street and nothing that is
no longer open; the in-memory index follows opinions added, declined, answered, linked to a
suggestion, reopened and erased. The expected sets come from the corpus labels."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from dataclasses import dataclass

import pytest

from bot.errors import DomainError
from bot.services import similar_opinions
from bot.services.similar_opinions import SimilarMatches, SimilarOpinions
from storage.db import stamp
from tests.support.consultation_seed import add_user
from tests.support.scenarios import ADMIN
from tests.support.similar_corpus import (
    AUTHOR,
    BY_KEY,
    CORPUS,
    HELD_OUT,
    STATIONS_CSV,
    SUBMITTED_AT,
    expected_mates,
    seed_corpus,
)
from tests.support.suggestion_seed import seed_suggestion
from tests.support.world import MakeWorld, World

DEPUTY = 8001


@dataclass
class Corpus:
    world: World
    ids: dict[str, int]  # corpus key → opinion id

    @property
    def matcher(self) -> SimilarOpinions:
        return self.world.services.similar_opinions

    def key_of(self, opinion_id: int) -> str:
        return next(k for k, i in self.ids.items() if i == opinion_id)

    async def like(self, key: str, exclude: Collection[int] = ()) -> list[str]:
        """The keys offered for `key`, best first."""
        matches = await self.matcher.like(self.ids[key], exclude=exclude)
        return [self.key_of(m.opinion.id) for m in matches.matches]

    async def matches(self, key: str, limit: int = 30) -> SimilarMatches:
        return await self.matcher.like(self.ids[key], limit=limit)


@pytest.fixture
async def corpus(make_world: MakeWorld) -> Corpus:
    world = await make_world(stations=False)
    await world.load_stations(STATIONS_CSV)
    return Corpus(world, await seed_corpus(world))


async def test_cluster_members_find_their_mates_and_few_others(corpus: Corpus) -> None:
    found = {o.key: set(await corpus.like(o.key)) for o in CORPUS}
    true_positives = false_positives = missed = 0
    for o in CORPUS:
        if o.cluster is None:
            continue
        expected = expected_mates(o.key)
        true_positives += len(found[o.key] & expected)
        false_positives += len(found[o.key] - expected)
        missed += len(expected - found[o.key])
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + missed)
    assert recall >= 0.8, (recall, {k: sorted(expected_mates(k) - v) for k, v in found.items()})
    assert precision >= 0.8, (
        precision,
        {k: sorted(v - expected_mates(k)) for k, v in found.items()},
    )
    # every member finds at least one mate: none is left alone with its matter
    lonely = [
        o.key for o in CORPUS if expected_mates(o.key) and not found[o.key] & expected_mates(o.key)
    ]
    assert not lonely
    # an opinion on a matter nobody else raised is offered little: under 1.5 on average
    singles = [o.key for o in CORPUS if o.cluster is None]
    assert sum(len(found[k]) for k in singles) / len(singles) < 1.5


async def test_opinions_held_out_of_the_tuning_are_matched_about_as_well(
    make_world: MakeWorld,
) -> None:
    """The threshold was chosen on CORPUS alone; HELD_OUT, new matters written after it was,
    sits in the same pool and is scored alone. Measured when it was written: precision 0.39,
    recall 0.47 (CORPUS in that larger pool: 0.67 and 0.95). Word overlap misses synonyms
    (厕所/卫生间, 黑车/摩的) and matches shared places (地铁站口): the floor below only
    guards against getting worse; similar_opinions.THRESHOLD says the same."""
    world = await make_world(stations=False)
    await world.load_stations(STATIONS_CSV)
    ids = await seed_corpus(world, (*CORPUS, *HELD_OUT))
    key_of = {i: k for k, i in ids.items()}
    everyone = (*CORPUS, *HELD_OUT)
    true_positives = false_positives = missed = 0
    for o in HELD_OUT:
        matches = await world.services.similar_opinions.like(ids[o.key])
        found = {key_of[m.opinion.id] for m in matches.matches}
        expected = expected_mates(o.key, everyone)
        true_positives += len(found & expected)
        false_positives += len(found - expected)
        missed += len(expected - found)
    precision = true_positives / (true_positives + false_positives)
    recall = true_positives / (true_positives + missed)
    assert precision >= 0.35, precision
    assert recall >= 0.45, recall


async def test_never_from_another_street(corpus: Corpus) -> None:
    for o in CORPUS:
        offered = await corpus.like(o.key)
        assert all(BY_KEY[k].street == o.street for k in offered), (o.key, offered)
    # the other street's parking opinions find each other, and nothing of 学院路's five
    assert await corpus.like("parking-h1") == ["parking-h2"]


async def test_the_closest_wording_comes_first(corpus: Corpus) -> None:
    near_copy = await _add_opinion(
        corpus.world,
        "学院路第一联络站",
        "traffic",
        "学院路南口的公交站没有遮雨棚，下雨时等车的老人和孩子都淋湿了，希望尽快加装遮雨棚。",
    )
    matches = await corpus.matches("shelter-1")
    assert matches.matches[0].opinion.id == near_copy
    scores = [m.score for m in matches.matches]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > 60 > scores[1]
    # the mates written most like it (遮雨棚 and 公交站 both) come before the others
    keys = [corpus.key_of(m.opinion.id) for m in matches.matches[1:]]
    assert keys[0] == "shelter-5", keys


async def test_station_count_is_the_stations_of_the_matches(corpus: Corpus) -> None:
    matches = await corpus.matches("shelter-5")
    keys = [corpus.key_of(m.opinion.id) for m in matches.matches]
    assert set(keys) >= {"shelter-1", "shelter-2"}
    assert matches.station_count == len({BY_KEY[k].station for k in keys})
    assert matches.station_count == 3
    one = await corpus.matches("shelter-5", limit=1)
    assert len(one.matches) == 1 and one.station_count == 1
    assert (await corpus.matches("shelter-5", limit=0)) == SimilarMatches([], 0)


async def test_exclude_leaves_out_what_the_deputy_took_already(corpus: Corpus) -> None:
    everything = await corpus.like("parking-1")
    assert "parking-1" not in everything
    assert {"parking-2", "parking-3"} <= set(everything)
    taken = [corpus.ids["parking-2"], corpus.ids["parking-3"]]
    rest = await corpus.like("parking-1", exclude=taken)
    assert rest == [k for k in everything if k not in {"parking-2", "parking-3"}]


async def test_an_unknown_opinion_is_refused_in_both_languages(corpus: Corpus) -> None:
    with pytest.raises(DomainError) as refused:
        await corpus.matcher.like(999_999)
    assert refused.value.key == "similar.unknown_opinion"
    assert corpus.world.text("zh_CN", refused.value.key) == "找不到这条意见建议，无法查找相似意见。"
    assert corpus.world.text("en", refused.value.key) == (
        "That opinion does not exist, so there is nothing to compare it with."
    )


async def test_opinions_no_longer_open_drop_out_and_come_back(corpus: Corpus) -> None:
    world = corpus.world
    before = await corpus.like("dance-1")
    assert {"dance-2", "dance-4", "dance-5"} <= set(before)  # the index is built now
    await add_user(world, ADMIN, role="admin", name="管理员")
    staff = await world.services.users.get(ADMIN)
    assert staff is not None
    await world.services.opinions.handle(staff, corpus.ids["dance-2"], "decline", "不属于人大")
    await world.services.opinions.handle(staff, corpus.ids["dance-4"], "answer", "已转城管处理")
    await add_user(world, DEPUTY, role="deputy", name="李代表")
    await seed_suggestion(world, DEPUTY, opinion_ids=[corpus.ids["dance-5"]])
    after = await corpus.like("dance-1")
    assert not {"dance-2", "dance-4", "dance-5"} & set(after), after
    # the index itself let them go (not only the final read): the change log told it
    index = await corpus.matcher.index(await _street_of(world, corpus.ids["dance-1"]))
    assert not {corpus.ids[k] for k in ("dance-2", "dance-4", "dance-5")} & set(index.row_of)
    assert after == [k for k in before if k not in {"dance-2", "dance-4", "dance-5"}]
    # the voter said "not solved": the answered one is open again; the suggestion withdrawn
    # and its opinions let go: the linked one is open again
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE opinions SET status = 'accepted' WHERE id = ?", (corpus.ids["dance-4"],)
        )
        await tx.execute(
            "DELETE FROM suggestion_opinions WHERE opinion_id = ?", (corpus.ids["dance-5"],)
        )
    again = await corpus.like("dance-1")
    assert {"dance-4", "dance-5"} <= set(again) and "dance-2" not in again


async def test_opinions_added_after_the_index_was_built_are_found(corpus: Corpus) -> None:
    assert "elevator-1" in await corpus.like("elevator-2")  # built
    new = await _add_opinion(
        corpus.world, "五道口联络站", "elderly", "老楼没有电梯，住七楼的老人下楼太难，盼加装电梯。"
    )
    supervision = await _add_opinion(
        corpus.world, "五道口联络站", "elderly", "老楼加装电梯项目进度太慢，老人上下楼仍然困难。"
    )
    async with corpus.world.db.transaction() as tx:  # a deputy's supervision of a project
        project = await tx.execute(
            "INSERT INTO projects (year, title, department, created_at)"
            " VALUES (2026, '老楼加装电梯', '住建委', ?)",
            (stamp(SUBMITTED_AT),),
        )
        await tx.execute("UPDATE opinions SET project_id = ? WHERE id = ?", (project, supervision))
    ids = {m.opinion.id for m in (await corpus.matches("elevator-2")).matches}
    assert new in ids and supervision not in ids


async def test_words_are_kept_and_go_with_the_text(corpus: Corpus) -> None:
    world = corpus.world
    await corpus.like("bins-1")
    kept = await world.rows("SELECT opinion_id, terms FROM opinion_terms")
    street = {i for k, i in corpus.ids.items() if BY_KEY[k].street == "学院路街道"}
    assert {r["opinion_id"] for r in kept} >= street
    terms = {r["opinion_id"]: r["terms"].split() for r in kept}
    assert "垃圾桶" in terms[corpus.ids["bins-1"]]
    assert "的" not in terms[corpus.ids["bins-1"]] and "，" not in terms[corpus.ids["bins-1"]]
    # the voter's text erased (issue 11): its words go with it, and it matches no more
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE opinions SET text = '（内容已按本人要求删除）' WHERE id = ?",
            (corpus.ids["bins-2"],),
        )
    assert not await world.rows(
        "SELECT 1 FROM opinion_terms WHERE opinion_id = ?", (corpus.ids["bins-2"],)
    )
    assert "bins-2" not in await corpus.like("bins-1")
    rows = await world.rows(
        "SELECT terms FROM opinion_terms WHERE opinion_id = ?", (corpus.ids["bins-2"],)
    )
    assert rows and "垃圾桶" not in rows[0]["terms"]
    # an opinion deleted takes its words with it
    async with world.db.transaction() as tx:
        await tx.execute("DELETE FROM opinions WHERE id = ?", (corpus.ids["bins-3"],))
    assert not await world.rows(
        "SELECT 1 FROM opinion_terms WHERE opinion_id = ?", (corpus.ids["bins-3"],)
    )
    assert "bins-3" not in await corpus.like("bins-1")


async def test_a_restarted_bot_builds_the_index_again(corpus: Corpus) -> None:
    first = await corpus.like("lights-1")
    await corpus.world.crash_and_restart()
    assert await corpus.like("lights-1") == first


async def test_a_street_prepared_in_the_background_is_ready_for_its_first_search(
    corpus: Corpus,
) -> None:
    world, matcher = corpus.world, corpus.matcher
    assert not await world.rows("SELECT 1 FROM opinion_terms")
    street = await _street_of(world, corpus.ids["lights-1"])
    expected = {i for i in corpus.ids.values() if await _street_of(world, i) == street}
    matcher.prepare(street)
    matcher.prepare(street)  # once is enough: a second call starts nothing more
    kept: set[int] = set()
    for _ in range(3000):  # nobody searches: it goes on by itself (a loaded machine: 30 s)
        await asyncio.sleep(0.01)
        rows = await world.rows("SELECT opinion_id FROM opinion_terms")
        kept = {r["opinion_id"] for r in rows}
        if kept:
            break
    assert kept == expected  # that street's texts segmented, not the other's
    first = await corpus.like("lights-1")  # waits for the build if it is still under way
    assert "lights-2" in first
    index = await matcher.index(street)
    assert set(index.row_of) == expected
    matcher.prepare(street)  # in memory already: nothing to do
    assert await corpus.like("lights-1") == first


async def test_the_change_log_is_emptied_once_read(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(similar_opinions, "FORGET_EVERY", 1)
    world = corpus.world
    before = await corpus.like("bikes-1")
    async with world.db.transaction() as tx:
        for key in ("bikes-2", "bikes-3", "single-gate"):
            await tx.execute(
                "UPDATE opinions SET status = 'declined' WHERE id = ?", (corpus.ids[key],)
            )
    assert len(await world.rows("SELECT * FROM opinion_pool_changes")) == 3
    declined = {"bikes-2", "bikes-3"}
    assert declined <= set(before)
    assert await corpus.like("bikes-1") == [k for k in before if k not in declined]
    assert await world.rows("SELECT * FROM opinion_pool_changes") == []


async def test_the_change_log_does_not_grow_while_no_index_is_in_memory(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody searched since the start: the sweep empties the log (a build reads the
    opinions themselves), and the first search still sees what changed."""
    monkeypatch.setattr(similar_opinions, "FORGET_EVERY", 1)
    world = corpus.world
    async with world.db.transaction() as tx:
        for key in ("bikes-2", "bikes-3", "single-gate"):
            await tx.execute(
                "UPDATE opinions SET status = 'declined' WHERE id = ?", (corpus.ids[key],)
            )
    assert await corpus.matcher.run_due() == 3
    assert await world.rows("SELECT * FROM opinion_pool_changes") == []
    assert not {"bikes-2", "bikes-3"} & set(await corpus.like("bikes-1"))


async def test_a_build_under_way_keeps_the_changes_it_has_still_to_read(
    corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """学院路's index is being built (its opinions read) when one of them is declined and
    海淀's index, searched meanwhile, has read that change: the log keeps it for 学院路's."""
    monkeypatch.setattr(similar_opinions, "FORGET_EVERY", 1)
    world, matcher = corpus.world, corpus.matcher
    xueyuan = await _street_of(world, corpus.ids["bikes-1"])
    haidian = await _street_of(world, corpus.ids["parking-h1"])
    await corpus.like("parking-h1")  # 海淀's index is in memory
    reading, resume = asyncio.Event(), asyncio.Event()
    pool = matcher.repo.pool

    async def paused_pool(street_id: int, after: int = 0, upto: int | None = None) -> list:
        rows = await pool(street_id, after, upto)
        if street_id == xueyuan and after == 0:  # the build has read the pool: wait here
            reading.set()
            await resume.wait()
        return rows

    monkeypatch.setattr(matcher.repo, "pool", paused_pool)
    building = asyncio.create_task(matcher.index(xueyuan))
    await reading.wait()
    async with world.db.transaction() as tx:
        await tx.execute(
            "UPDATE opinions SET status = 'declined' WHERE id = ?", (corpus.ids["bikes-2"],)
        )
    await matcher.index(haidian)  # reads the change, and would forget it
    assert len(await world.rows("SELECT * FROM opinion_pool_changes")) == 1
    resume.set()
    await building
    index = await matcher.index(xueyuan)  # replays the change it kept
    assert corpus.ids["bikes-2"] not in index.row_of
    assert await world.rows("SELECT * FROM opinion_pool_changes") == []


async def test_opinions_that_left_count_no_more_in_the_streets_weights(corpus: Corpus) -> None:
    """An index that let opinions go weighs a query as one built without them would."""
    world = corpus.world
    street = await _street_of(world, corpus.ids["parking-1"])
    await corpus.like("parking-1")  # built with the parking opinions
    async with world.db.transaction() as tx:
        for key in ("parking-2", "parking-3", "parking-4", "parking-5"):
            await tx.execute(
                "UPDATE opinions SET status = 'answered' WHERE id = ?", (corpus.ids[key],)
            )
    words = similar_opinions.vocabulary()
    query = words.features(words.words(BY_KEY["parking-1"].text))
    caught_up = await corpus.matcher.index(street)
    assert caught_up.dead == 4
    await world.crash_and_restart()
    fresh = await corpus.matcher.index(street)
    assert fresh.dead == 0
    assert caught_up.weighed(query) == pytest.approx(fresh.weighed(query))


def test_the_jieba_interfaces_it_relies_on() -> None:
    """jieba.get_FREQ and the IDF table of jieba.analyse (its default TF-IDF's idf_freq and
    median_idf): if an upgrade moves them, this fails by name."""
    words = similar_opinions.vocabulary()
    # function words (没有, 的, 都, 了), a single character that carries nothing (等) and
    # punctuation are dropped
    assert words.words("公交站没有遮雨棚，下雨天等车的老人都淋湿了。") == [
        "公交站",
        "遮雨棚",
        "下雨天",
        "车",
        "老人",
        "淋湿",
    ]
    features = words.features(["遮雨棚"])
    assert {"遮雨棚", "遮雨", "雨棚", "#遮", "#雨", "#棚"} == set(features)
    assert features["遮雨棚"] > features["#棚"]


async def _add_opinion(world: World, station: str, category: str, text: str) -> int:
    station_id = await world.station_id(station)
    at = stamp(SUBMITTED_AT)
    async with world.db.transaction() as tx:
        count = await tx.fetchone("SELECT count(*) FROM opinions")
        assert count is not None
        return await tx.execute(
            "INSERT INTO opinions (tracking_no, author_id, station_id, category, text, photos,"
            " show_name, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0,"
            " 'submitted', ?, ?)",
            (
                f"HD-2026-9{count[0]:05d}",
                AUTHOR,
                station_id,
                category,
                text,
                json.dumps([]),
                at,
                at,
            ),
        )


async def _street_of(world: World, opinion_id: int) -> int:
    rows = await world.rows(
        "SELECT s.street_id FROM opinions o JOIN stations s ON s.id = o.station_id WHERE o.id = ?",
        (opinion_id,),
    )
    return int(rows[0]["street_id"])
