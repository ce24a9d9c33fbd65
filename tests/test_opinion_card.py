"""One opinion card for everyone who may see the opinion: its deputy holder, another deputy of
its station, staff and the admin (from /inbox and from /opinions alike) each see exactly the
actions the service allows them now, a deputy of another station does not see the card at
all, and an action tapped that the card did not offer (a forged button) is refused with the
service's own word, changing nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest

from bot.errors import DomainError
from bot.runtime.buttons import CallbackData
from bot.runtime.buttons.inbox import (
    Accept,
    AssignTo,
    Claim,
    Compose,
    LookAgain,
    OpinionCard,
    PickDeputy,
    RateSolved,
    Release,
    Side,
)
from bot.runtime.buttons.opinion import MyOpinion
from bot.services import Services
from bot.services.inbox import OpinionAction
from storage.models import User
from tests.support.inbox import submit
from tests.support.people import Person
from tests.support.scenarios import invite_deputy, say
from tests.support.world import World

STAFF_ID = 4001


@dataclass
class Viewers:
    """Everyone who might look at the voter's opinion."""

    world: World
    admin: Person
    staff: Person
    zhang: Person  # a deputy of the opinion's station; he will hold it
    li: Person  # another deputy of that station
    zhao: Person  # a deputy of another station
    voter: Person


@pytest.fixture
async def viewers(world: World, person, admin: Person) -> Viewers:
    zhang = await invite_deputy(world, admin, person, 3001, "张三")
    li = await invite_deputy(world, admin, person, 3002, "李四")
    zhao = await invite_deputy(world, admin, person, 3009, "赵六", "海淀街道", "海淀街道联络站")
    staff = person(STAFF_ID, "工作人员")
    await submit(staff, "先让工作人员完成登记，这条是工作人员自己的意见。")
    await admin.send(f"/staff add {STAFF_ID}")
    assert (await world.user_row(STAFF_ID))["role"] == "staff"
    voter = person(2001, "王芳")
    await submit(voter, "小区路灯坏了一个多月，晚上很不安全。")
    return Viewers(world, admin, staff, zhang, li, zhao, voter)


STAFFS_OWN, VOTERS = 1, 2  # the staff member's opinion was sent first, both at 学院路第一联络站


async def shown(viewer: Person, data: CallbackData) -> list[str]:
    """The buttons of what `viewer` is shown on tapping `data`."""
    out = await viewer.tap_data(data.pack())
    shown = [o for o in out if o.kind in ("edit", "message") and o.markup]
    assert shown, [(o.kind, o.text) for o in out]
    return shown[-1].buttons()


async def card_buttons(viewer: Person, opinion_id: int, side: Side) -> list[str]:
    """The buttons of the opinion's card as `viewer` opens it from `side`."""
    return await shown(viewer, OpinionCard(side=side, opinion=opinion_id))


def labels(viewer: Person, *keys: str) -> list[str]:
    """The card's buttons, in order, then Back."""
    return [say(viewer, key) for key in keys] + [say(viewer, "nav.back")]


async def user(world: World, someone: Person) -> User:
    found = await world.services.users.get(someone.id)
    assert found is not None
    return found


async def allowed(v: Viewers, someone: Person, opinion_id: int) -> set[OpinionAction]:
    """What the service lets `someone` do with the opinion now."""
    detail = await v.world.services.opinions.detail(await user(v.world, v.admin), opinion_id)
    return set(await v.world.services.inbox.actions(await user(v.world, someone), detail.opinion))


# --- what each viewer is offered ---------------------------------------------------------


async def test_each_viewer_sees_exactly_the_actions_the_service_allows(viewers: Viewers) -> None:
    v = viewers
    no = VOTERS
    staff_submitted = ("handling.accept", "handling.answer", "handling.decline")
    # submitted, nobody holds it
    for deputy in (v.zhang, v.li):
        assert await card_buttons(deputy, no, Side.INBOX) == labels(deputy, "inbox.claim_button")
        assert await allowed(v, deputy, no) == {OpinionAction.CLAIM}
    for someone in (v.staff, v.admin):
        expected = labels(someone, *staff_submitted, "inbox.assign_button")
        for side in Side:  # the same card from /inbox and from /opinions
            assert await card_buttons(someone, no, side) == expected, (someone.id, side)
        assert await allowed(v, someone, no) == {
            OpinionAction.ACCEPT,
            OpinionAction.ANSWER,
            OpinionAction.DECLINE,
            OpinionAction.ASSIGN,
        }
    # a deputy of another station may do nothing, and sees no card
    assert await allowed(v, v.zhao, no) == set()
    await v.zhao.tap_data(OpinionCard(side=Side.INBOX, opinion=no).pack())
    assert v.zhao.last == say(v.zhao, "error.not_your_record")

    # 张三 claims it: he acts as its holder, 李四 only looks, staff act for the holder
    await v.zhang.tap_data(Claim(opinion=no).pack())
    holding = ("handling.answer", "handling.decline", "inbox.ask_button", "inbox.release_button")
    assert await card_buttons(v.zhang, no, Side.INBOX) == labels(v.zhang, *holding)
    assert await card_buttons(v.li, no, Side.INBOX) == labels(v.li)
    assert await allowed(v, v.li, no) == set()
    for someone in (v.staff, v.admin):
        expected = labels(someone, *holding, "inbox.reassign_button")
        for side in Side:
            assert await card_buttons(someone, no, side) == expected, (someone.id, side)

    # answered: nobody handles it any more; the voter is asked to rate it, on /my too
    await v.zhang.tap_data(Compose(step="answer", opinion=no).pack())
    await v.zhang.send("已联系物业，本周内修好。")
    for someone, side in ((v.zhang, Side.INBOX), (v.staff, Side.STAFF), (v.admin, Side.STAFF)):
        assert await card_buttons(someone, no, side) == labels(someone), someone.id
    solved = ("rate.solved_yes", "rate.solved_partly", "rate.solved_no")
    assert await allowed(v, v.voter, no) == {OpinionAction.RATE_SOLVED}
    assert await shown(v.voter, MyOpinion(opinion=no, page=0)) == labels(v.voter, *solved)

    # rated 'not solved': the voter may ask to look again, once; nobody else may
    await v.voter.tap(say(v.voter, "rate.solved_no"))
    await v.voter.tap(say(v.voter, "rate.unsatisfied"))
    await v.voter.tap(say(v.voter, "rate.skip_button"))
    assert await allowed(v, v.voter, no) == {OpinionAction.LOOK_AGAIN}
    mine = await shown(v.voter, MyOpinion(opinion=no, page=0))
    assert mine == labels(v.voter, "rate.look_again_button")
    for someone in (v.zhang, v.staff, v.admin):
        assert await allowed(v, someone, no) == set()


async def test_staff_see_their_own_opinion_as_its_author_too(viewers: Viewers) -> None:
    """Rights add up: staff who wrote an opinion may rate its answer from its card."""
    v = viewers
    mine = STAFFS_OWN
    await v.zhang.tap_data(Claim(opinion=mine).pack())
    await v.zhang.tap_data(Compose(step="answer", opinion=mine).pack())
    await v.zhang.send("已处理。")
    solved = ("rate.solved_yes", "rate.solved_partly", "rate.solved_no")
    assert await card_buttons(v.staff, mine, Side.STAFF) == labels(v.staff, *solved)
    assert await card_buttons(v.admin, mine, Side.STAFF) == labels(v.admin)


async def test_back_leads_to_the_list_the_card_came_from(viewers: Viewers) -> None:
    admin = viewers.admin
    await card_buttons(admin, VOTERS, Side.STAFF)
    await admin.tap(say(admin, "nav.back"))
    every = say(
        admin,
        "handling.list_title",
        status=say(admin, "handling.all_statuses"),
        street=say(admin, "handling.all_streets"),
    )
    assert admin.last == every
    await card_buttons(admin, VOTERS, Side.INBOX)
    await admin.tap(say(admin, "nav.back"))
    assert admin.last == say(admin, "inbox.title", view=say(admin, "inbox.view_all"))


# --- what nobody is offered is refused, with the service's word ----------------------------


Refusal = Callable[[Services, User, int], Awaitable[object]]


def _claim(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.claim(actor, opinion_id)


def _release(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.release(actor, opinion_id)


def _answer(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.start_typing(actor, actor.telegram_id, opinion_id, "answer")


def _accept(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.opinions.handle(actor, opinion_id, "accept")


def _assign(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.assignable(actor, opinion_id)


def _look_again(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.look_again(actor, actor.telegram_id, opinion_id)


def _rate(services: Services, actor: User, opinion_id: int) -> Awaitable[object]:
    return services.inbox.rate_solved(actor, opinion_id, "yes")


A = OpinionAction
# (who, the button they forge, the action it stands for, the service call behind it)
FORGED: list[tuple[str, Callable[[int], CallbackData], OpinionAction, Refusal]] = [
    ("li", lambda o: Compose(step="answer", opinion=o), A.ANSWER, _answer),
    ("li", lambda o: Release(side=Side.INBOX, opinion=o), A.RELEASE, _release),
    ("li", lambda o: Claim(opinion=o), A.CLAIM, _claim),
    ("li", lambda o: Accept(side=Side.INBOX, opinion=o), A.ACCEPT, _accept),
    ("li", lambda o: PickDeputy(side=Side.INBOX, opinion=o), A.ASSIGN, _assign),
    ("li", lambda o: RateSolved(opinion=o, solved="yes"), A.RATE_SOLVED, _rate),
    ("zhao", lambda o: Claim(opinion=o), A.CLAIM, _claim),
    ("zhao", lambda o: Compose(step="answer", opinion=o), A.ANSWER, _answer),
    ("zhao", lambda o: Release(side=Side.INBOX, opinion=o), A.RELEASE, _release),
    ("zhang", lambda o: Accept(side=Side.INBOX, opinion=o), A.ACCEPT, _accept),
    ("zhang", lambda o: AssignTo(side=Side.INBOX, opinion=o, deputy=3002), A.ASSIGN, _assign),
    ("zhang", lambda o: LookAgain(opinion=o), A.LOOK_AGAIN, _look_again),
    ("staff", lambda o: Claim(opinion=o), A.CLAIM, _claim),
    ("staff", lambda o: LookAgain(opinion=o), A.LOOK_AGAIN, _look_again),
    ("voter", lambda o: Claim(opinion=o), A.CLAIM, _claim),
    ("voter", lambda o: Compose(step="answer", opinion=o), A.ANSWER, _answer),
    ("voter", lambda o: Accept(side=Side.STAFF, opinion=o), A.ACCEPT, _accept),
]


async def test_an_action_not_offered_is_refused_with_the_services_message(
    viewers: Viewers,
) -> None:
    v = viewers
    world = v.world
    await v.zhang.tap_data(Claim(opinion=VOTERS).pack())  # held by 张三
    await world.outbox.drain()  # the voter is told who holds it before anything is compared
    before = await world.snapshot()
    for who, make, action, call in FORGED:
        someone: Person = getattr(v, who)
        data = make(VOTERS)
        assert action not in await allowed(v, someone, VOTERS), (who, data)
        with pytest.raises(DomainError) as refusal:
            await call(world.services, await user(world, someone), VOTERS)
        out = await someone.tap_data(data.pack())
        expected = say(someone, refusal.value.key, **refusal.value.params)
        assert [(o.kind, o.text) for o in out] == [("alert", expected)], (who, data)
    assert await world.snapshot() == before
