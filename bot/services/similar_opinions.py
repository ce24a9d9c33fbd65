"""Open opinions like a given one, from the same 街镇, for a deputy turning opinions into a
suggestion: TF-IDF cosine similarity over Chinese word segmentation.

- Words: jieba segments each text once; its content words (function words, everyday
  complaint words and punctuation dropped) are kept in `opinion_terms`, filled lazily, in
  batches, the first time a search meets an opinion without them.
- Features of a text: each word, the two-character dictionary words inside a longer one (as
  jieba's search mode finds them: 遮雨棚 → 遮雨, 雨棚) and, at a lower weight, the characters
  of its words (顶棚 and 雨棚 share 棚); each weighted by jieba's IDF table and the vector
  normalised. The searched opinion's features are weighed again by how rare they are in its
  街镇, so the names of its own places count less than the matter. The score is the dot
  product ×100, plus a few points for the same category.
- Speed: an inverted index of each 街镇's open opinions is kept in memory (numpy does the
  sums). It is not built at start: when a deputy starts /suggest from opinions, their
  street's is built in the background (`prepare`), so it is ready, or nearly, by the time
  they have picked an opinion; a search finishes a build in progress or makes one. Before
  every search it is brought up to date: opinions with ids above the highest it has read,
  and the opinions `opinion_pool_changes` names (declined, answered, linked to a suggestion
  or let go by one, reopened, text changed; triggers of migration 0010 log them, whoever
  writes). The final read of the matches checks in SQL that each is still open.
- The change log keeps only what an index in memory, or one being built, has still to read;
  with none, nothing (a build reads the opinions themselves). The scheduler's sweep trims it
  (`run_due`) even when nobody searches.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot.clock import Clock
from bot.errors import DomainError
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.models import Opinion
from storage.repos.similar import PoolRow, SimilarRepo

# Chosen on tests/support/similar_corpus.py's CORPUS: precision and recall both stay at 0.8
# or above for thresholds from 14 to 19 (0.84-0.87 and 0.80-0.95); 16 sits in the middle. On
# its HELD_OUT opinions, never used to choose it, 16 gives precision 0.39 and recall 0.47
# (no threshold from 10 to 30 does much better: word overlap misses synonyms such as
# 厕所/卫生间 and matches shared places such as 地铁站): the deputy's eye decides.
THRESHOLD = 16.0  # the score (cosine ×100, plus the category's points) a match reaches
CATEGORY_POINTS = 3.0  # the same category
CHARACTER_WEIGHT = 0.7  # a character of a word, against the word itself
POOL_SMOOTHING = 4.0  # added to the street's own IDF of a query's feature (see `weighed`)
SLACK = 10  # matches read beyond `limit`, in case some left the pool a moment ago
SEGMENT_BATCH = 2_000  # texts segmented, and their words kept, per step of a backfill
FORGET_EVERY = 1_000  # changes every index has read, deleted from the log in one go
MAX_BEHIND = 50_000  # an index this many changes behind is dropped (rebuilt when needed)
WORD_CACHE = 200_000  # words whose features are remembered


def _listed(words: str) -> list[str]:
    return words.split()


# Words that carry no matter of their own: function words, and what every opinion says.
STOP_WORDS = frozenset(
    _listed(
        """
        我们 你们 他们 她们 它们 大家 自己 这里 那里 这个 那个 这些 那些 这样
        那样 什么 怎么 怎样 为什么 一个 一些 一下 可以 因为 所以 但是 而且 还是
        就是 如果 或者 以及 并且 已经 经常 总是 现在 目前 时候 每天 非常 特别
        比较 十分 一直 能不能 不能 只能 没有 不是 还有 希望 建议 问题 请求 要求
        反映 解决 情况 有关 相关 部门 有关部门 影响 严重 尽快 及时 方便 附近 旁边
        周边 地方 小区 社区 街道 居民 群众 老百姓 越来越 谢谢 麻烦
        """
    )
)
# Single characters that carry nothing: particles, pronouns, measure words, small verbs.
STOP_CHARS = frozenset(
    "的了在是和与及或等我你他她它都也就还很太有没不要能会把被让给对这那上下里个一二两几多少"
    "大小好请吗呢吧啊呀着过到从向于为以而又再更最已得地么之其此每各某该连用"
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SimilarOpinion:
    opinion: Opinion
    score: float  # 0..100, higher is more alike


@dataclass(frozen=True)
class SimilarMatches:
    """What the deputy is offered: the matches, best first, and how many stations they
    come from ("12 similar opinions from 3 stations")."""

    matches: list[SimilarOpinion]
    station_count: int


class Vocabulary:
    """jieba's dictionary and IDF table, loaded once per process (about a second)."""

    def __init__(self) -> None:
        import jieba  # loaded here, not at import: most processes never segment
        import jieba.analyse

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        self._jieba: Any = jieba
        tfidf = jieba.analyse.default_tfidf
        self._idf: dict[str, float] = tfidf.idf_freq
        self._median_idf = float(tfidf.median_idf)
        self._word_cache: dict[str, list[tuple[str, float]]] = {}

    def words(self, text: str) -> list[str]:
        """The content words of a text, in order."""
        return [word.lower() for word in self._jieba.lcut(text) if _is_content(word)]

    def terms(self, texts: Sequence[str]) -> list[str]:
        """Each text's content words as kept in opinion_terms: space-separated."""
        return [" ".join(self.words(text)) for text in texts]

    def features(self, words: Iterable[str]) -> dict[str, float]:
        """The text's TF-IDF vector over its words, the dictionary words inside them and
        their characters ("#棚"), normalised to length 1."""
        vector: dict[str, float] = {}
        for word in words:
            for key, value in self._of_word(word):
                vector[key] = vector.get(key, 0.0) + value
        norm = math.sqrt(sum(value * value for value in vector.values()))
        return {key: value / norm for key, value in vector.items()} if norm else {}

    def _of_word(self, word: str) -> list[tuple[str, float]]:
        """One word's share of a vector, worked out once per word (a street's texts use a
        few ten thousand words between them)."""
        found = self._word_cache.get(word)
        if found is None:
            found = [(word, self._weight(word))]
            if len(word) > 2:
                for i in range(len(word) - 1):
                    inner = word[i : i + 2]
                    if self._jieba.get_FREQ(inner):
                        found.append((inner, self._weight(inner)))
            if len(word) > 1:
                found += [
                    ("#" + character, CHARACTER_WEIGHT * self._weight(character))
                    for character in sorted(set(word) - STOP_CHARS)
                ]
            if len(self._word_cache) < WORD_CACHE:
                self._word_cache[word] = found
        return found

    def _weight(self, term: str) -> float:
        return self._idf.get(term, self._median_idf)


def _is_content(word: str) -> bool:
    if word in STOP_WORDS or word.isdigit() or not any(c.isalnum() for c in word):
        return False
    return not (len(word) == 1 and word in STOP_CHARS)


@functools.cache
def vocabulary() -> Vocabulary:
    return Vocabulary()


@dataclass
class Posting:
    """The rows a feature occurs in, with its weight there (float32, as numpy reads it)."""

    rows: array[int] = field(default_factory=lambda: array("i"))
    weights: array[float] = field(default_factory=lambda: array("f"))


class StreetIndex:
    """The open opinions of one 街镇 in memory: an inverted index of their features. Rows are
    only appended; an opinion that leaves the pool is marked dead, one that comes back (or
    whose words changed) gets a new row."""

    def __init__(self, street_id: int, read_to: int, changes_to: int) -> None:
        self.street_id = street_id
        self.read_to = read_to  # the highest opinion id read
        self.changes_to = changes_to  # the last change read
        self.ids = array("q")
        self.categories = array("H")
        self.alive = bytearray()
        self.signatures = array("q")  # hash of each row's words, to skip a no-op change
        self.row_of: dict[int, int] = {}  # opinion id → its live row
        self.postings: dict[str, Posting] = {}
        self.category_codes: dict[str, int] = {}

    @property
    def dead(self) -> int:
        return len(self.ids) - len(self.row_of)

    def put(self, row: PoolRow, features: Mapping[str, float]) -> None:
        """Add the opinion, or replace its row if its words changed."""
        signature = hash(row.terms)
        current = self.row_of.get(row.id)
        if current is not None:
            if self.signatures[current] == signature:
                return
            self.alive[current] = 0
        index = len(self.ids)
        self.ids.append(row.id)
        code = self.category_codes.setdefault(row.category, len(self.category_codes))
        self.categories.append(code)
        self.alive.append(1)
        self.signatures.append(signature)
        self.row_of[row.id] = index
        for key, weight in features.items():
            posting = self.postings.get(key)
            if posting is None:
                posting = self.postings[key] = Posting()
            posting.rows.append(index)
            posting.weights.append(weight)

    def drop(self, opinion_id: int) -> None:
        row = self.row_of.pop(opinion_id, None)
        if row is not None:
            self.alive[row] = 0

    def weighed(self, query: Mapping[str, float]) -> dict[str, float]:
        """The query's vector with each feature weighed by how rare it is in this 街镇 (a
        smoothed IDF over the live rows: an opinion that left the pool, or an old row of one
        whose words changed, counts no more): the names of its own places and what everyone
        here writes count less than the matter itself. Normalised again."""
        rows = len(self.row_of)
        alive = np.frombuffer(self.alive, dtype=np.uint8)
        weighed = {}
        for key, weight in query.items():
            posting = self.postings.get(key)
            occurs = (
                int(alive[np.frombuffer(posting.rows, dtype=np.int32)].sum())
                if posting is not None
                else 0
            )
            weighed[key] = weight * (math.log((rows + 1) / (occurs + 1)) + POOL_SMOOTHING)
        norm = math.sqrt(sum(value * value for value in weighed.values()))
        return {key: value / norm for key, value in weighed.items()} if norm else {}

    def search(
        self, query: Mapping[str, float], category: str, skip: Collection[int], limit: int
    ) -> list[tuple[int, float]]:
        """(opinion id, score) of the best `limit` live rows at or above THRESHOLD, best
        first (the older first on a tie)."""
        if not self.ids or limit <= 0:
            return []
        scores = np.zeros(len(self.ids), dtype=np.float32)
        for key, weight in self.weighed(query).items():
            posting = self.postings.get(key)
            if posting is not None:
                rows = np.frombuffer(posting.rows, dtype=np.int32)
                scores[rows] += np.float32(weight * 100) * np.frombuffer(
                    posting.weights, dtype=np.float32
                )
        code = self.category_codes.get(category)
        if code is not None:
            scores[np.frombuffer(self.categories, dtype=np.uint16) == code] += CATEGORY_POINTS
        scores[np.frombuffer(self.alive, dtype=np.uint8) == 0] = 0
        for opinion_id in skip:
            row = self.row_of.get(opinion_id)
            if row is not None:
                scores[row] = 0
        hits = np.flatnonzero(scores >= THRESHOLD)
        ids = np.frombuffer(self.ids, dtype=np.int64)[hits]
        order = np.lexsort((ids, -scores[hits]))[:limit]
        return [(int(ids[i]), float(scores[hits[i]])) for i in order]


class SimilarOpinions:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.repo = SimilarRepo(db)
        self._indexes: dict[int, StreetIndex] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        # street → the last change a build in progress has read (0 until it knows): it needs
        # every change after that, so the log is not trimmed past it meanwhile
        self._building: dict[int, int] = {}
        self._preparing: dict[int, asyncio.Task[None]] = {}
        self._forgotten_to = 0

    async def like(
        self, opinion_id: int, *, exclude: Collection[int] = (), limit: int = 30
    ) -> SimilarMatches:
        """Open opinions (submitted or accepted, in no suggestion yet) of the same 街镇 as
        `opinion_id` that read alike, best first, at most `limit`; `exclude` are left out
        (the opinion itself always is)."""
        found = await self.repo.opinion(opinion_id)
        if found is None:
            raise DomainError("similar.unknown_opinion")
        opinion, street_id, terms = found
        preparing = self._preparing.get(street_id)
        if preparing is not None:  # the build `prepare` started: this search waits for it
            await preparing
        words = await self._vocabulary()
        index = await self.index(street_id)
        query = words.features(terms.split() if terms is not None else words.words(opinion.text))
        ranked = index.search(query, opinion.category, {opinion_id, *exclude}, limit + SLACK)
        still_open = await self.repo.open_opinions([i for i, _ in ranked])
        matches = [
            SimilarOpinion(still_open[i], round(min(score, 100.0), 1))
            for i, score in ranked
            if i in still_open
        ][: max(limit, 0)]
        return SimilarMatches(matches, len({m.opinion.station_id for m in matches}))

    def prepare(self, street_id: int) -> None:
        """Start building the 街镇's index in the background (segmenting the texts never
        segmented), unless it is in memory or being built: a deputy who starts a suggestion
        from opinions then finds it ready when they have picked one. `like` waits for it."""
        if street_id in self._indexes or street_id in self._preparing:
            return
        task = asyncio.get_running_loop().create_task(self._prepare(street_id))
        self._preparing[street_id] = task
        task.add_done_callback(lambda _: self._preparing.pop(street_id, None))

    async def _prepare(self, street_id: int) -> None:
        try:
            await self.index(street_id)
        except Exception:  # nobody awaits a failure here: the deputy's search builds it again
            log.warning("similar opinions: preparing street %s failed", street_id, exc_info=True)

    async def run_due(self) -> int:
        """The scheduler's sweep: trim the change log even when nobody searches (an index far
        behind dropped; with no index at all, the whole log). Returns the changes deleted."""
        return await self._forget_read_changes(await self.repo.last_change())

    async def index(self, street_id: int) -> StreetIndex:
        """The 街镇's index, built on first use and brought up to date."""
        lock = self._locks.setdefault(street_id, asyncio.Lock())
        async with lock:
            index = self._indexes.get(street_id)
            if index is None or index.dead > max(len(index.row_of), 10_000):
                index = self._indexes[street_id] = await self._build(street_id)
            else:
                await self._catch_up(index)
        await self._forget_read_changes(index.changes_to)
        return index

    async def _vocabulary(self) -> Vocabulary:
        if vocabulary.cache_info().currsize:
            return vocabulary()
        return await asyncio.to_thread(vocabulary)  # a second of loading, off the event loop

    async def _build(self, street_id: int) -> StreetIndex:
        # Registered before its first await, so the log is not trimmed under it; unregistered
        # on return, when the caller puts it among the indexes with no await in between.
        self._building[street_id] = 0
        try:
            # in this order: a change logged after `changes_to` is replayed, an opinion added
            # after `read_to` read as new, whatever happens while the pool is read
            changes_to = self._building[street_id] = await self.repo.last_change()
            read_to = await self.repo.last_opinion()
            rows = await self._segmented(await self.repo.pool(street_id, upto=read_to))
            words = await self._vocabulary()

            def build() -> StreetIndex:
                index = StreetIndex(street_id, read_to, changes_to)
                for row in rows:
                    index.put(row, words.features((row.terms or "").split()))
                return index

            index = await asyncio.to_thread(build)  # seconds for 100,000 opinions
        finally:
            del self._building[street_id]
        log.info("similar opinions: street %s indexed, %s open opinions", street_id, len(rows))
        return index

    async def _catch_up(self, index: StreetIndex) -> None:
        """Read what changed since the index last looked, then apply it in one go."""
        changes = await self.repo.changes(index.changes_to)
        read_to = await self.repo.last_opinion()
        added = (
            await self.repo.pool(index.street_id, after=index.read_to, upto=read_to)
            if read_to > index.read_to
            else []
        )
        changed = {opinion_id for _, opinion_id in changes if opinion_id <= index.read_to}
        now = await self.repo.now_of(sorted(changed))
        back = [r for r in now if r.open and r.street_id == index.street_id]
        fresh = await self._segmented([*added, *back])
        words = await self._vocabulary()
        gone = changed - {r.id for r in back}
        for opinion_id in gone:
            index.drop(opinion_id)
        for row in fresh:
            index.put(row, words.features((row.terms or "").split()))
        index.read_to = max(index.read_to, read_to)
        if changes:
            index.changes_to = changes[-1][0]

    async def _segmented(self, rows: Sequence[PoolRow]) -> list[PoolRow]:
        """The rows with their words: those never segmented are, in batches off the event
        loop, and their words kept."""
        missing = [r for r in rows if r.terms is None]
        if not missing:
            return list(rows)
        words = await self._vocabulary()
        taken: dict[int, str] = {}
        for start in range(0, len(missing), SEGMENT_BATCH):
            batch = missing[start : start + SEGMENT_BATCH]
            terms = await asyncio.to_thread(words.terms, [r.text or "" for r in batch])
            async with self.db.transaction() as tx:
                await self.repo.keep_terms(
                    tx, [(r.id, r.text or "", t) for r, t in zip(batch, terms, strict=True)]
                )
            taken.update((r.id, t) for r, t in zip(batch, terms, strict=True))
        return [r if r.terms is not None else replace(r, terms=taken[r.id]) for r in rows]

    async def _forget_read_changes(self, newest: int) -> int:
        """Delete the changes up to `newest` that every index in memory, and every build in
        progress, has read (with neither, all of them: a build reads the opinions fresh);
        an index far behind is dropped first (rebuilt if its street is searched again), so an
        idle street keeps no log alive. Returns how many were deleted."""
        for street_id, index in list(self._indexes.items()):
            if newest - index.changes_to > MAX_BEHIND:
                del self._indexes[street_id]
        # read with no await in between: a build registered later starts after `newest`
        needed = [index.changes_to for index in self._indexes.values()]
        needed += self._building.values()
        floor = min([newest, *needed])
        if floor - self._forgotten_to < FORGET_EVERY:
            return 0
        async with self.db.transaction() as tx:
            deleted = await self.repo.forget_changes(tx, floor)
        self._forgotten_to = floor
        return deleted
