"""Draft-law consultations (征求意见): opening, prompts, reminders, closing, feedback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bot.clock import Clock
from bot.services.outbox import Outbox
from bot.settings import Settings
from storage import Database
from storage.models import Consultation, ConsultationAudience, User


class QuestionPlan(BaseModel):
    """A key question (重点征求意见的问题): free text when `choices` is empty."""

    text: str
    choices: list[str] = Field(default_factory=list)


class ConsultationPlan(BaseModel):
    """Everything staff set before a consultation opens; `text` is the whole draft, split
    into its articles when it opens."""

    title: str
    summary: str = ""
    source: str = ""
    text: str
    questions: list[QuestionPlan] = Field(default_factory=list)
    audience: ConsultationAudience
    audience_ref: int | None = None
    deadline: datetime


class ConsultationService:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.zone = settings.zone
        self.outbox = outbox

    async def open(self, actor: User | None, plan: ConsultationPlan) -> Consultation:
        """Save the consultation with its articles and questions and prompt its audience
        through the outbox, in one transaction; `actor` None is the command line."""
        raise NotImplementedError

    async def run_due(self) -> None:
        """Timed work (the scheduler's sweep calls this every few minutes)."""
