"""A deputy's suggestion made the real way, in the chat: `draft_suggestion` runs /suggest
from the first tap to Submit (from scratch, or from opinions picked by tracking number and
similar ones attached), and `send_opinion` has a voter send an opinion at any station. Later
steps of the loop may start from what these leave."""

from __future__ import annotations

from collections.abc import Sequence

from tests.support.people import Person
from tests.support.scenarios import onboard, say

TITLE = "关于在学院路增设公交站台遮雨棚的建议"
REASON = "学院路南口公交站台没有遮雨棚，雨天候车的老人和学生只能淋雨，居民多次反映。"
PROPOSALS = "一、在学院路南口站台增设遮雨棚；二、增设候车座椅；三、完善站台照明。"
NUMBER = "JY2026-0001"  # the first suggestion of World's year


async def send_opinion(
    voter: Person,
    text: str,
    *,
    street: str = "学院路街道",
    station: str = "学院路第一联络站",
    category: str = "category.urban",
    onboarded: bool = False,
) -> str:
    """The voter (onboarded at `station` unless already) sends one anonymous opinion;
    returns its tracking number."""
    if not onboarded:
        await onboard(voter, street, station)
    await voter.send("/opinion")
    await voter.tap(say(voter, category))
    await voter.send(text)
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.skip"))
    await voter.tap(say(voter, "opinion.anonymous"))
    await voter.tap(say(voter, "opinion.send"))
    rows = await voter.world.rows(
        "SELECT tracking_no FROM opinions WHERE author_id = ? ORDER BY id DESC LIMIT 1",
        (voter.id,),
    )
    assert rows and rows[0]["tracking_no"] in voter.last, voter.last
    return str(rows[0]["tracking_no"])


def button_with(person: Person, fragment: str) -> str:
    """The label of the newest visible button holding `fragment`."""
    labels = [b for b in person.buttons() if fragment in b]
    assert labels, f"no button with {fragment!r}; visible: {person.buttons()}"
    return labels[0]


async def draft_suggestion(
    deputy: Person,
    *,
    opinions: Sequence[str] = (),
    similar: Sequence[str] = (),
    title: str = TITLE,
    reason: str = REASON,
    proposals: str = PROPOSALS,
    category: str = "category.traffic",
    publish: bool = True,
) -> None:
    """/suggest to Submit: from scratch when `opinions` is empty, else taking each of these
    tracking numbers from the deputy's own list (and, after the first, attaching each of
    `similar` from its similar list)."""
    await deputy.send("/suggest")
    if opinions:
        await deputy.tap(say(deputy, "suggest.from_opinions"))
        for i, tracking_no in enumerate(opinions):
            if i:
                await deputy.tap(say(deputy, "suggest.more_opinions"))
            await deputy.tap(button_with(deputy, tracking_no))
            if i == 0:
                for other in similar:
                    await deputy.tap(button_with(deputy, other))
        chosen = len(opinions) + len(similar)
        await deputy.tap(say(deputy, "suggest.opinions_done", count=chosen))
    else:
        await deputy.tap(say(deputy, "suggest.from_scratch"))
    await deputy.send(title)
    await deputy.send(reason)
    await deputy.send(proposals)
    await deputy.tap(say(deputy, category))
    await deputy.tap(say(deputy, "suggest.publish_yes" if publish else "suggest.publish_no"))
    await deputy.tap(say(deputy, "suggest.submit"))
    assert "JY" in deputy.last, deputy.last
