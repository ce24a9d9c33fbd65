"""The rules of the secret ballots on livelihood projects: the choices each mode offers, and
how the tallies become results: ranked, chosen or not (票决), or a verdict (测评).

Pure functions over counts, so every rule here is tested without a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from bot.i18n import N_
from storage.models import Ballot, BallotMode, BallotPurpose, Project


class Choice(StrEnum):
    """What a deputy marks against one project, as stored in ballot_tallies.choice."""

    FOR = "for"
    AGAINST = "against"
    ABSTAIN = "abstain"
    CHOSEN = "chosen"  # k_of_n: one of the K chosen
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


class Outcome(StrEnum):
    """What the ballot made of a project."""

    CHOSEN = "chosen"
    REJECTED = "rejected"
    TIED = "tied"  # k_of_n: tied at the K-th place, so not chosen: staff decide (a run-off)
    SATISFIED = "satisfied"
    BASIC = "basic"
    UNSATISFIED = "unsatisfied"


MODE_CHOICES: dict[BallotMode, tuple[Choice, ...]] = {
    BallotMode.EACH: (Choice.FOR, Choice.AGAINST, Choice.ABSTAIN),
    BallotMode.K_OF_N: (Choice.CHOSEN,),
    BallotMode.RATING: (Choice.SATISFIED, Choice.BASIC, Choice.UNSATISFIED),
}
PURPOSE_OF: dict[BallotMode, BallotPurpose] = {
    BallotMode.EACH: BallotPurpose.SELECTION,
    BallotMode.K_OF_N: BallotPurpose.SELECTION,
    BallotMode.RATING: BallotPurpose.RATING,
}
CHOICE_LABELS: dict[Choice, str] = {
    Choice.FOR: N_("ballot.choice_for"),
    Choice.AGAINST: N_("ballot.choice_against"),
    Choice.ABSTAIN: N_("ballot.choice_abstain"),
    Choice.CHOSEN: N_("ballot.choice_chosen"),
    Choice.SATISFIED: N_("ballot.choice_satisfied"),
    Choice.BASIC: N_("ballot.choice_basic"),
    Choice.UNSATISFIED: N_("ballot.choice_unsatisfied"),
}
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.CHOSEN: N_("ballot.outcome_chosen"),
    Outcome.REJECTED: N_("ballot.outcome_rejected"),
    Outcome.TIED: N_("ballot.outcome_tied"),
    Outcome.SATISFIED: N_("ballot.choice_satisfied"),
    Outcome.BASIC: N_("ballot.choice_basic"),
    Outcome.UNSATISFIED: N_("ballot.choice_unsatisfied"),
}
# Messages with placeholders are listed as plain ids: N_() would read as a call without them.
TITLES: dict[BallotPurpose, str] = {  # texts(…, year=…)
    BallotPurpose.SELECTION: "ballot.title_selection",
    BallotPurpose.RATING: "ballot.title_rating",
}
MODE_LABELS: dict[BallotMode, str] = {  # texts(…, count=…, pick=…)
    BallotMode.EACH: "ballot.mode_each",
    BallotMode.K_OF_N: "ballot.mode_k_of_n",
    BallotMode.RATING: "ballot.mode_rating",
}


def more_than(count: int, share: Fraction, base: int) -> bool:
    """`count` is more than `share` of `base`, exactly (no float rounding at the boundary)."""
    return count > share * base


@dataclass(frozen=True)
class ResultRow:
    rank: int  # competition ranking: equal scores share a rank (1, 2, 2, 4)
    project: Project
    counts: dict[Choice, int]
    score: int  # what it is ranked by: for-votes, votes, or 满意
    share: Fraction  # score of the base (the entitled; for ratings, the setting's base)
    outcome: Outcome


@dataclass(frozen=True)
class BallotResult:
    ballot: Ballot
    voted: int
    base: int  # what shares are of
    verdict_base: str  # ratings: "entitled" or "voted", what `base` counts
    verdict_share: Fraction  # ratings: the share a verdict needs more than
    rows: list[ResultRow]

    @property
    def turnout(self) -> Fraction:
        return Fraction(self.voted, self.ballot.entitled) if self.ballot.entitled else Fraction(0)

    @property
    def choices(self) -> tuple[Choice, ...]:
        return MODE_CHOICES[self.ballot.mode]

    @property
    def tied(self) -> list[ResultRow]:
        return [row for row in self.rows if row.outcome == Outcome.TIED]


def rating_base(base: str, voted: int, entitled: int) -> int:
    """What a rating's shares are of, as the settings name it (`rating_verdict_base`): those
    who voted ("voted"), or everyone entitled to vote."""
    return voted if base == "voted" else entitled


def verdict(counts: Mapping[Choice, int], share: Fraction, base: int) -> Outcome:
    """More than `share` of the base rate 满意 → 满意; else more than that share rate 满意 or
    基本满意 → 基本满意; else 不满意."""
    satisfied = counts.get(Choice.SATISFIED, 0)
    if more_than(satisfied, share, base):
        return Outcome.SATISFIED
    if more_than(satisfied + counts.get(Choice.BASIC, 0), share, base):
        return Outcome.BASIC
    return Outcome.UNSATISFIED


def _ranks(keys: Sequence[tuple[int, ...]]) -> list[int]:
    """Competition ranks of keys already sorted best first."""
    ranks: list[int] = []
    for i, key in enumerate(keys):
        ranks.append(ranks[-1] if i and key == keys[i - 1] else i + 1)
    return ranks


def compute(
    ballot: Ballot,
    projects: Sequence[Project],
    tallies: Mapping[int, Mapping[Choice, int]],
    voted: int,
    *,
    verdict_base: str,
    verdict_share: float,
) -> BallotResult:
    """The results of a ballot from its tallies. `projects` in ballot order (the order breaks
    the last ties, so a ranking is always the same).

    - each: ranked by for-votes, ties by fewer against; chosen when more than half of the
      entitled voted for it.
    - k_of_n: ranked by votes; the top K with more than half of the entitled are chosen;
      projects tied at the K-th place are all left out and flagged (TIED) for staff.
    - rating: ranked by 满意, then 满意 + 基本满意; the verdict by `verdict` over the base
      the settings name ("entitled" or "voted")."""
    choices = MODE_CHOICES[ballot.mode]
    half = Fraction(1, 2)
    entitled = ballot.entitled
    counts = {p.id: {c: int(tallies.get(p.id, {}).get(c, 0)) for c in choices} for p in projects}
    position = {p.id: i for i, p in enumerate(projects)}
    share = Fraction(str(verdict_share))
    base = entitled
    if ballot.mode == BallotMode.EACH:

        def key(p: Project) -> tuple[int, ...]:
            return (-counts[p.id][Choice.FOR], counts[p.id][Choice.AGAINST])

        score = {p.id: counts[p.id][Choice.FOR] for p in projects}
    elif ballot.mode == BallotMode.K_OF_N:

        def key(p: Project) -> tuple[int, ...]:
            return (-counts[p.id][Choice.CHOSEN],)

        score = {p.id: counts[p.id][Choice.CHOSEN] for p in projects}
    else:
        base = rating_base(verdict_base, voted, entitled)

        def key(p: Project) -> tuple[int, ...]:
            c = counts[p.id]
            return (-c[Choice.SATISFIED], -(c[Choice.SATISFIED] + c[Choice.BASIC]))

        score = {p.id: counts[p.id][Choice.SATISFIED] for p in projects}
    ranked = sorted(projects, key=lambda p: (*key(p), position[p.id]))
    ranks = _ranks([key(p) for p in ranked])
    outcomes = _outcomes(ballot, ranked, score, counts, half, share, base)
    rows = [
        ResultRow(
            rank=rank,
            project=p,
            counts=counts[p.id],
            score=score[p.id],
            share=Fraction(score[p.id], base) if base else Fraction(0),
            outcome=outcomes[p.id],
        )
        for rank, p in zip(ranks, ranked, strict=True)
    ]
    return BallotResult(
        ballot=ballot,
        voted=voted,
        base=base,
        verdict_base=verdict_base if ballot.mode == BallotMode.RATING else "entitled",
        verdict_share=share,
        rows=rows,
    )


def _outcomes(
    ballot: Ballot,
    ranked: Sequence[Project],
    score: Mapping[int, int],
    counts: Mapping[int, Mapping[Choice, int]],
    half: Fraction,
    share: Fraction,
    base: int,
) -> dict[int, Outcome]:
    entitled = ballot.entitled
    if ballot.mode == BallotMode.RATING:
        return {p.id: verdict(counts[p.id], share, base) for p in ranked}
    majority = {p.id for p in ranked if more_than(score[p.id], half, entitled)}
    if ballot.mode == BallotMode.EACH:
        return {p.id: Outcome.CHOSEN if p.id in majority else Outcome.REJECTED for p in ranked}
    pick = ballot.pick or 0
    passing = [p for p in ranked if p.id in majority]  # already best first
    chosen: set[int] = {p.id for p in passing[:pick]}
    tied: set[int] = set()
    if len(passing) > pick > 0:
        boundary = score[passing[pick - 1].id]
        if score[passing[pick].id] == boundary:
            tied = {p.id for p in passing if score[p.id] == boundary}
            chosen -= tied
    return {
        p.id: Outcome.TIED
        if p.id in tied
        else Outcome.CHOSEN
        if p.id in chosen
        else Outcome.REJECTED
        for p in ranked
    }
