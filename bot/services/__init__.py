"""The domain services: rules, state transitions and reports, free of Telegram."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.clock import Clock
from bot.i18n import I18n
from bot.services.account_ratings import AccountRatings
from bot.services.annual_accounts import AnnualAccounts
from bot.services.backups import Backups
from bot.services.ballots import BallotService
from bot.services.broadcasts import BroadcastService
from bot.services.calendar import CalendarService
from bot.services.consultation_comments import CommentService
from bot.services.consultation_reports import ConsultationReports
from bot.services.consultations import ConsultationService
from bot.services.conversations import ConversationService
from bot.services.departments import DepartmentService
from bot.services.deputy_codes import DeputyCodes
from bot.services.deputy_notices import DeputyNotices, QuietHours
from bot.services.desk import Desk
from bot.services.figures import Figures
from bot.services.flood import FloodGuard
from bot.services.health import Health
from bot.services.inbox import InboxService
from bot.services.invitations import InvitationService
from bot.services.ledger import Ledger
from bot.services.opinions import OpinionService
from bot.services.outbox import Outbox
from bot.services.privacy import Privacy
from bot.services.projects import ProjectService
from bot.services.reminders import ReminderService
from bot.services.similar_opinions import SimilarOpinions
from bot.services.stations import StationService
from bot.services.suggestion_answers import SuggestionAnswers
from bot.services.suggestion_feedback import SuggestionFeedback
from bot.services.suggestion_handling import SuggestionHandling
from bot.services.suggestions import SuggestionService
from bot.services.users import UserService
from bot.services.visits import VisitService
from bot.services.voice_opinions import VoiceOpinions
from bot.settings import Settings
from storage import Database


@dataclass
class Services:
    """Everything a handler may call, built once per application."""

    settings: Settings
    db: Database
    clock: Clock
    i18n: I18n
    users: UserService
    stations: StationService
    opinions: OpinionService
    invitations: InvitationService
    flood: FloodGuard
    outbox: Outbox
    broadcasts: BroadcastService
    visits: VisitService
    inbox: InboxService
    deputy_notices: DeputyNotices
    calendar: CalendarService
    reminders: ReminderService
    conversations: ConversationService
    consultations: ConsultationService
    comments: CommentService
    consultation_reports: ConsultationReports
    projects: ProjectService
    ballots: BallotService
    similar_opinions: SimilarOpinions
    suggestions: SuggestionService
    departments: DepartmentService
    suggestion_handling: SuggestionHandling
    suggestion_answers: SuggestionAnswers
    suggestion_feedback: SuggestionFeedback
    ledger: Ledger
    figures: Figures
    annual_accounts: AnnualAccounts
    account_ratings: AccountRatings
    privacy: Privacy
    backups: Backups
    health: Health
    desk: Desk
    deputy_codes: DeputyCodes
    voice_opinions: VoiceOpinions


def build_services(settings: Settings, db: Database, clock: Clock) -> Services:
    zone = settings.zone
    outbox = Outbox(db, clock)
    deputy_notices = DeputyNotices(
        db,
        clock,
        zone,
        outbox,
        QuietHours.of(settings),
        settings.digest_time,
    )
    users = UserService(db, clock, settings.admin_ids, settings.default_locale, outbox)
    opinions = OpinionService(
        db,
        clock,
        zone,
        settings.daily_opinion_limit,
        settings.tracking_prefix,
        outbox,
        deputy_notices,
    )
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        i18n=I18n(zone, settings.default_locale),
        users=users,
        stations=StationService(db),
        opinions=opinions,
        invitations=InvitationService(db, clock, settings.invitation_ttl_days, outbox),
        flood=FloodGuard(clock, settings.flood_max_updates, settings.flood_window_seconds),
        outbox=outbox,
        broadcasts=BroadcastService(db, clock, outbox),
        visits=VisitService(db, clock, zone),
        inbox=InboxService(
            db,
            clock,
            outbox,
            notices=deputy_notices,
            unclaimed_remind_days=settings.unclaimed_remind_days,
            unclaimed_alert_days=settings.unclaimed_alert_days,
            unanswered_days=settings.unanswered_days,
            rating_remind_days=settings.rating_remind_days,
            rating_close_days=settings.rating_close_days,
        ),
        deputy_notices=deputy_notices,
        calendar=CalendarService(db, clock, zone),
        reminders=ReminderService(db, clock, zone, outbox),
        conversations=ConversationService(
            db, clock, timedelta(hours=settings.conversation_timeout_hours)
        ),
        consultations=ConsultationService(db, clock, settings, outbox),
        comments=CommentService(db, clock, settings, outbox),
        consultation_reports=ConsultationReports(db, clock, settings, outbox),
        projects=ProjectService(db, clock, settings, outbox),
        ballots=BallotService(db, clock, settings, outbox),
        similar_opinions=SimilarOpinions(db, clock, settings, outbox),
        suggestions=SuggestionService(db, clock, settings, outbox),
        departments=DepartmentService(db, clock, settings, outbox),
        suggestion_handling=SuggestionHandling(db, clock, settings, outbox),
        suggestion_answers=SuggestionAnswers(db, clock, settings, outbox),
        suggestion_feedback=SuggestionFeedback(db, clock, settings, outbox),
        ledger=Ledger(db, clock, settings, outbox),
        figures=Figures(db, clock, settings, outbox),
        annual_accounts=AnnualAccounts(db, clock, settings, outbox),
        account_ratings=AccountRatings(db, clock, settings, outbox),
        privacy=Privacy(db, clock, settings, outbox),
        backups=Backups(db, clock, settings, outbox),
        health=Health(db, clock, settings, outbox),
        desk=Desk(db, clock, settings, outbox, opinions),
        deputy_codes=DeputyCodes(db, clock, settings, outbox, users),
        voice_opinions=VoiceOpinions(db, clock, settings, outbox),
    )
