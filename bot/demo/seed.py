"""The demo's first data, made the way people make it, through the services: the sample
stations; an admin, a staff member and a deputy invited by the admin; neighbours who wrote
opinions over the past three weeks, which the deputy took on, answered or declined and they
rated; a consultation opened from a small .txt draft; a ballot on this year's livelihood
projects; and the deputy's reception turns of the coming month. Time is moved back for the
seed and forward as it goes, so every row carries a real moment in the past."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import partial

from bot.clock import FixedClock
from bot.demo.cast import CAST, HOME_STATION, NEIGHBOURS, Role
from bot.serve import SAMPLE_STATIONS
from bot.services import Services
from bot.services.opinions import OpinionStep
from bot.services.projects import NewCandidate
from storage.models import BallotMode, OpinionDraft, TurnKind, User

# A draft regulation as a standing committee publishes it, in the shape /consult splits.
DRAFT_NAME = "既有住宅加装电梯管理办法（征求意见稿）.txt"
DRAFT = """既有住宅加装电梯管理办法（征求意见稿）

第一章　总则

第一条　为了方便居民生活，规范既有住宅加装电梯工作，结合本区实际，制定本办法。

第二条　本办法适用于本区行政区域内四层以上、未设电梯的既有住宅加装电梯。

第二章　申请与实施

第三条　加装电梯应当经本单元专有部分面积和人数均占三分之二以上的业主参与表决。

第四条　街道办事处应当设立服务窗口，为申请加装电梯的业主提供政策咨询和协调服务。

第五条　加装电梯的建设和运行维护费用由业主协商分摊，可以综合考虑楼层、面积等因素。

第三章　附则

第六条　本办法自　年　月　日起施行。
"""
QUESTION = "加装电梯的费用应当怎样分摊？|按楼层分摊|按面积分摊|由业主自行协商"

PROJECTS = [
    ("老旧小区加装电梯补贴", "为本区四层以上老旧住宅加装电梯提供每部 20 万元补贴。", 600.0),
    ("社区老年食堂扩容", "新增 5 个社区老年食堂，延长午餐供应时间。", 180.0),
    ("学院路慢行系统改造", "整治学院路沿线人行道与自行车道，增设无障碍设施。", 350.0),
    ("中小学课后托管", "在 12 所小学开展课后托管服务，覆盖至 18:30。", 120.0),
]


@dataclass(frozen=True)
class Story:
    """One neighbour's opinion and what became of it, `days` before the demo's day."""

    author: int
    days: int
    category: str
    text: str
    claimed: int | None = None  # days before, when the deputy took it on
    answer: tuple[int, str] | None = None  # (days before, the deputy's answer)
    decline: tuple[int, str] | None = None  # (days before, the reason)
    rating: tuple[int, str, str, str] | None = None  # (days before, solved, satisfied, comment)


STORIES = [
    Story(
        710001,
        20,
        "traffic",
        "学院路与成府路路口的行人绿灯只有 25 秒，老人和孩子过马路来不及，希望延长。",
        claimed=19,
        answer=(16, "已与交通支队沟通，路口行人绿灯从 25 秒延长到 40 秒，本周起执行。"),
        rating=(15, "yes", "satisfied", "绿灯确实变长了，谢谢代表！"),
    ),
    Story(
        710002,
        18,
        "environment",
        "小区北门外的垃圾分类点每天傍晚就满了，气味很大，建议增加清运次数。",
        claimed=17,
        answer=(12, "街道已协调环卫所，北门分类点的清运从每天一次增加到两次。"),
        rating=(11, "partly", "basically", ""),
    ),
    Story(
        710003,
        9,
        "other",
        "我家楼上邻居装修占用楼道堆放材料，物业不管，请代表帮忙处理一下。",
        claimed=8,
        decline=(8, "这是物业服务合同中的纠纷，建议先向街道物业管理科或 12345 反映。"),
    ),
    Story(
        710004,
        6,
        "elderly",
        "社区老年食堂中午只供应一个小时，腿脚不便的老人常常赶不上，希望延长供餐时间或提供送餐。",
        claimed=5,
    ),
    Story(
        710005,
        3,
        "urban",
        "学院路 20 号院内有三盏路灯坏了，晚上很黑，老人出门不安全，希望尽快修理。",
        claimed=2,
        answer=(1, "已联系物业报修，物业承诺本周内更换全部损坏的路灯。"),
    ),
    Story(
        710001,
        1,
        "traffic",
        "地铁站 B 口的共享单车停放很乱，经常堵住盲道，希望增设停放区并加强管理。",
    ),
    Story(
        710002,
        1,
        "education",
        "学校放学时校门口接孩子的车辆乱停，建议在放学时段设置临时停车位。",
    ),
]


class Seeder:
    """Makes the seed with the services, on the demo's clock, as of `today` (local)."""

    def __init__(self, services: Services, clock: FixedClock, today: date, locale: str) -> None:
        self.services = services
        self.clock = clock
        self.today = today
        self.locale = locale
        self.zone = services.settings.zone

    def at(self, days_before: int, hour: int, minute: int = 0) -> None:
        """Set the clock to a working hour `days_before` the demo's day."""
        day = self.today - timedelta(days=days_before)
        self.clock.set(datetime.combine(day, time(hour, minute), tzinfo=self.zone))

    async def person(self, user_id: int, name: str, locale: str) -> User:
        """Someone who opened the bot and agreed to the privacy notice."""
        users = self.services.users
        await users.touch(user_id, None, name, None)
        return await users.consent(user_id, name, None, locale)

    async def station_id(self) -> int:
        found = await self.services.stations.search_stations(HOME_STATION, 0, 10)
        station = next(s for s in found.items if s.name == HOME_STATION)
        return station.id

    async def people(self, station_id: int) -> tuple[User, User, dict[int, User]]:
        """The admin; the staff member they appoint; the deputy they invite, who accepts;
        the neighbours, at the deputy's station. Returns (staff, deputy, neighbours)."""
        users, invitations = self.services.users, self.services.invitations
        admin = await self.person(CAST[Role.ADMIN].user_id, CAST[Role.ADMIN].name, self.locale)
        staff = CAST[Role.STAFF]
        await self.person(staff.user_id, staff.name, self.locale)
        staff_user = await users.set_staff(admin, staff.user_id, True)
        deputy = CAST[Role.DEPUTY]
        invitation = await invitations.create(admin, deputy.name, station_id)
        deputy_user = await self.person(deputy.user_id, deputy.name, self.locale)
        await invitations.accept(deputy_user, invitation.code)
        deputy_user = await self._user(deputy.user_id)
        neighbours = {}
        for user_id, name in NEIGHBOURS.items():
            neighbour = await self.person(user_id, name, "zh_CN")
            neighbours[user_id] = await users.choose_station(neighbour, station_id)
        return staff_user, deputy_user, neighbours

    async def _user(self, user_id: int) -> User:
        user = await self.services.users.get(user_id)
        if user is None:
            raise RuntimeError(f"the seed's user {user_id} is missing")
        return user

    async def opinions(self, deputy: User, neighbours: dict[int, User]) -> None:
        """Every story's steps in the order they happened: each opinion submitted from its
        draft, then taken on, answered or declined by the deputy, and rated."""
        steps: list[tuple[int, int, int, Callable[[], Awaitable[None]]]] = []
        made: dict[int, int] = {}  # a story's number → its opinion's id
        for number, story in enumerate(STORIES):
            author = neighbours[story.author]
            submit = partial(self.submit, story, author, made, number)
            steps.append((story.days, 9, number, submit))
            if story.claimed is not None:
                claim = partial(self.claim, deputy, made, number)
                steps.append((story.claimed, 14, number, claim))
            for action, typed in (("answer", story.answer), ("decline", story.decline)):
                if typed is not None:
                    reply = partial(self.reply, deputy, made, number, action, typed[1])
                    steps.append((typed[0], 16, number, reply))
            if story.rating is not None:
                rate = partial(self.rate, author, made, number, story.rating[1:])
                steps.append((story.rating[0], 10, number, rate))
        for days, hour, number, step in sorted(steps, key=lambda s: (-s[0], s[1], s[2])):
            self.at(days, hour, number)  # a minute per story: two stories' steps stay apart
            await step()

    async def submit(self, story: Story, author: User, made: dict[int, int], number: int) -> None:
        """The author's /opinion: a draft (anonymous, no photos or place), then Send."""
        opinions = self.services.opinions
        await opinions.begin(author)
        draft = OpinionDraft(category=story.category, text=story.text, show_name=False)
        await opinions.save(author.telegram_id, author.telegram_id, draft, OpinionStep.PREVIEW)
        sent = await opinions.submit(author, author.telegram_id, draft.token)
        if sent.receipt is not None:  # the author saw the number in the reply
            await self.services.outbox.withdraw(sent.receipt)
        made[number] = sent.opinion.id

    async def claim(self, deputy: User, made: dict[int, int], number: int) -> None:
        await self.services.inbox.claim(deputy, made[number])

    async def reply(
        self, deputy: User, made: dict[int, int], number: int, action: str, text: str
    ) -> None:
        """The deputy's answer or reason, typed after the card's button."""
        inbox = self.services.inbox
        await inbox.start_typing(deputy, deputy.telegram_id, made[number], action)
        await inbox.finish_typing(deputy, deputy.telegram_id, text)

    async def rate(
        self, author: User, made: dict[int, int], number: int, rating: tuple[str, str, str]
    ) -> None:
        """The author's two answers to the rating, and a comment or none."""
        inbox, opinion_id, chat_id = self.services.inbox, made[number], author.telegram_id
        solved, satisfaction, comment = rating
        await inbox.rate_solved(author, opinion_id, solved)
        await inbox.rate_satisfaction(author, chat_id, opinion_id, satisfaction)
        if comment:
            await inbox.finish_typing(author, chat_id, comment)
        else:
            await inbox.skip_comment(author, chat_id, opinion_id)

    async def consultation(self) -> None:
        """A consultation on the draft, opened as `python -m bot consultations create` opens
        one, everyone invited, for four weeks."""
        self.at(3, 10)
        await self.services.consultations.open_from_file(
            DRAFT.encode("utf-8"),
            DRAFT_NAME,
            title="既有住宅加装电梯管理办法（征求意见稿）",
            deadline=(self.today + timedelta(days=27)).isoformat(),
            summary="规范老旧小区加装电梯的申请、表决和费用分摊，欢迎提出意见。",
            source="区人大常委会法制工作室",
            questions=[QUESTION],
        )

    async def ballot(self, staff: User) -> None:
        """This year's candidate projects, and the deputies' ballot on each, open two
        weeks more."""
        self.at(1, 11)
        projects, ballots = self.services.projects, self.services.ballots
        candidates = [
            NewCandidate(line, title, description, "区发展改革委", budget)
            for line, (title, description, budget) in enumerate(PROJECTS, start=2)
        ]
        errors: list[str] = []
        await projects.add_candidates(projects.this_year(), candidates, errors)
        if errors:
            raise RuntimeError(f"the seed's projects were refused: {errors}")
        chat_id = staff.telegram_id
        await ballots.begin_open(staff, chat_id)
        await ballots.choose_mode(staff, chat_id, BallotMode.EACH)
        await ballots.choose_year(staff, chat_id, projects.this_year())
        await ballots.set_closing(staff, chat_id, (self.today + timedelta(days=14)).isoformat())
        await ballots.open(staff, chat_id)

    async def turns(self, staff: User, deputy: User, station_id: int) -> None:
        """The deputy's reception turns of the coming month: Saturday mornings."""
        saturday = self.today + timedelta(days=(5 - self.today.weekday()) % 7 or 7)
        for week in range(4):
            await self.services.calendar.add_turn(
                staff,
                kind=TurnKind.RECEPTION,
                station_id=station_id,
                day=saturday + timedelta(weeks=week),
                time_range="09:00-11:00",
                deputy_ids=[deputy.telegram_id],
            )


async def seed(services: Services, clock: FixedClock, locale: str) -> None:
    """Fill an empty demo database; the clock ends where it started (the demo's day)."""
    start = clock.now()
    seeder = Seeder(services, clock, start.astimezone(services.settings.zone).date(), locale)
    seeder.at(30, 9)
    report = await services.stations.import_csv(SAMPLE_STATIONS)
    if report.errors:
        raise RuntimeError(f"the sample stations were refused: {report.errors}")
    station_id = await seeder.station_id()
    seeder.at(28, 10)
    staff, deputy, neighbours = await seeder.people(station_id)
    await seeder.opinions(deputy, neighbours)
    await seeder.consultation()
    await seeder.ballot(staff)
    clock.set(start)
    await seeder.turns(staff, deputy, station_id)
