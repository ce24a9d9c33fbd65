"""A person's rights over their data (个人信息保护法): what is stored about them, a copy of
it, erasure on request, the consent's notice version, and the nightly retention erasure.

These rights hold before consent too, so they are not gated by `bot.access.allowed` (which
asks for consent); every role has them (Action.OWN_DATA), but only a voter may be erased:
deputies, staff, admins and liaisons first give up the role."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.access import ensure_may_be_forgotten, ensure_may_own_data
from bot.clock import Clock
from bot.errors import DomainError
from bot.i18n import Texts
from bot.services.deputy_notices import WAITING_NOTICES
from bot.services.outbox import Outbox
from bot.services.suggestion_trail import add_months
from bot.settings import Settings
from storage import Database, Tx
from storage.models import Role, User
from storage.repos.desk import DeskRepo
from storage.repos.privacy import Holdings, PrivacyRepo, Withdrawn
from storage.repos.users import UserRepo

log = logging.getLogger(__name__)

# The privacy notice's version. Raise it whenever the notice's text changes in substance:
# everyone who agreed to an older version is asked again. 2: retention and the rights
# (/privacy, /mydata, /forget) were added in issue 11. 3: voice opinions (issue 12): a
# voice lets deputies and staff hear the voter, even anonymous; copies played stay.
NOTICE_VERSION = 3

# The text an unanswered opinion keeps once its author is forgotten: none. Every opinion a
# person sends has at least ten characters, so an empty one is one erased on request.
ERASED_TEXT = ""
FORGET_TOKEN_BYTES = 9  # /forget's question token: 12 URL-safe characters
RETENTION_BATCH = 500  # opinions per transaction of the nightly retention erasure
# Copies of an erased text in notices are found by its first characters, at least these
# many (or the whole text, when shorter): fewer would also match unrelated words.
FRAGMENT_START = 8

WITHDRAWN_NOTICE = "privacy.withdrawn_notice"  # to the deputy holding a withdrawn opinion

# Every column that refers to a person, and whether /mydata exports what it links them to.
# tests/test_privacy_export.py reads the schema and fails for a column in neither list, so a
# table added later is placed here on purpose, never forgotten.
EXPORTED: frozenset[tuple[str, str]] = frozenset(
    {
        ("users", "telegram_id"),
        ("deputies", "user_id"),
        ("department_liaisons", "user_id"),
        ("opinions", "author_id"),
        ("opinion_drafts", "user_id"),
        ("drafts", "user_id"),
        ("conversation_states", "key"),
        ("conversation_expiries", "key"),
        ("consultation_comments", "author_id"),
        ("consultation_invitees", "user_id"),
        ("project_followers", "user_id"),
        ("project_updates", "author_id"),
        ("outbox", "chat_id"),
        ("reminders_sent", "recipient_id"),
        ("ballot_voters", "user_id"),
        ("account_rating_voters", "voter_id"),
        ("desk_entries", "claimed_by"),
    }
)
_DUTY = (
    "a record of public duties (履职) done in a role: the people's congress office keeps it"
    " as its own record; a role holder cannot be forgotten while holding the role"
)
NOT_EXPORTED: dict[tuple[str, str], str] = {
    ("opinions", "addressed_to"): "opinions voters addressed to the person as a deputy: " + _DUTY,
    ("users", "met_deputy_id"): "which voters opened the person's deputy code (代表码): their"
    " own data, exported to each of them",
    ("opinions", "holder_id"): "other people's opinions the person handled as a deputy: " + _DUTY,
    ("opinion_events", "actor_id"): "the history of the person's own opinions is exported with"
    " them; their actions on other people's opinions as a deputy or staff member are " + _DUTY,
    ("broadcasts", "created_by"): "a broadcast sent as staff: " + _DUTY,
    ("broadcasts", "progress_chat_id"): "where a staff member watches a broadcast's progress: "
    + _DUTY,
    ("ballots", "opened_by"): "a ballot opened as staff: " + _DUTY,
    ("consultations", "created_by"): "a consultation opened as staff: " + _DUTY,
    ("projects", "created_by"): "a livelihood project entered as staff: " + _DUTY,
    ("duty_rules", "created_by"): "a duty roster rule made as staff: " + _DUTY,
    ("duty_rule_deputies", "deputy_id"): "a deputy's place in the duty roster: " + _DUTY,
    ("duty_turn_deputies", "deputy_id"): "a deputy's duty turn: " + _DUTY,
    ("turn_absences", "deputy_id"): "a deputy's absence from a duty turn: " + _DUTY,
    ("visits", "deputy_id"): "a deputy's visit log (履职记录): " + _DUTY,
    ("invitations", "created_by"): "a deputy invitation made as staff: " + _DUTY,
    ("invitations", "used_by"): "the invitation that made the person a deputy; the deputy"
    " row it made is exported",
    ("liaison_invitations", "created_by"): "a liaison invitation made as staff: " + _DUTY,
    ("liaison_invitations", "used_by"): "the invitation that made the person a liaison; the"
    " liaison row it made is exported",
    ("account_ratings", "deputy_id"): "the voters' rating of a deputy's annual account: " + _DUTY,
    ("account_ratings", "opened_by"): "an account rating opened as staff: " + _DUTY,
    ("suggestions", "lead_deputy_id"): "a deputy's suggestion (代表建议): " + _DUTY,
    ("suggestion_cosigners", "deputy_id"): "a deputy co-signing a suggestion: " + _DUTY,
    ("suggestion_events", "actor_id"): "the handling history of a suggestion: " + _DUTY,
    ("suggestion_answers", "recorded_by"): "a department's answer recorded: " + _DUTY,
    ("suggestion_assignments", "assigned_by"): "a suggestion assigned as staff: " + _DUTY,
    ("commitment_updates", "author_id"): "a department's progress on a commitment: " + _DUTY,
    ("desk_entries", "staff_id"): "a visitor's opinion entered at the reception desk as staff: "
    + _DUTY,
}


def version_agreed(user: User) -> int | None:
    """The notice version a person agreed to (consents from before versions were kept: 1)."""
    if user.consent_version is not None:
        return user.consent_version
    return 1 if user.consent_at is not None else None


def consent_is_current(user: User) -> bool:
    """Whether the person agreed to the notice as it is now."""
    agreed = version_agreed(user)
    return agreed is not None and agreed >= NOTICE_VERSION


def asked_again(user: User) -> bool:
    """A person handled as not consenting who agreed to an older notice (see
    UserService: such a consent counts as none until renewed)."""
    return user.consent_at is None and user.consent_version is not None


class Stored(BaseModel):
    """What is stored about a person right now, for /privacy."""

    model_config = ConfigDict(frozen=True)

    telegram_id: int
    first_contact: datetime
    full_name: str = ""
    username: str | None = None
    station: str | None = None
    locale: str | None = None  # a language kept: chosen with /language, or with consent
    consent_at: datetime | None = None
    consent_version: int | None = None
    holdings: Holdings
    retention_months: int
    unconsented_days: int

    @property
    def only_id(self) -> bool:
        """Nothing but the Telegram id and the first contact."""
        return not (self.holdings.anything or self.locale)


@dataclass(frozen=True)
class Erasure:
    """What /forget did: counts of what was erased and of what was kept."""

    nothing_left: bool = False  # nothing was stored but the id: nothing was erased
    opinions: int = 0  # made anonymous (author, name shown, location, photos)
    texts_erased: int = 0  # of them, not yet answered: their text is erased too
    withdrawn: int = 0  # of those, still waiting for a deputy: withdrawn from the queues
    answered_kept: int = 0  # of them, answered: text and answer kept
    comments: int = 0  # comments on draft laws, kept without the name
    drafts: int = 0
    conversations: tuple[str, ...] = ()  # names of the conversations ended
    notices: int = 0  # messages that were waiting to be sent, dropped
    follows: int = 0
    desk_entries: int = 0  # names and phones given at the reception desk, erased
    ballots_kept: int = 0  # secret ballots taken part in: whether, never how
    backup_nights: int = 0  # nights until the nightly backups no longer hold the erased data


@dataclass(frozen=True)
class DataExport:
    """The /mydata file."""

    filename: str
    content: bytes


class Privacy:
    def __init__(self, db: Database, clock: Clock, settings: Settings, outbox: Outbox) -> None:
        self.db = db
        self.clock = clock
        self.settings = settings
        self.outbox = outbox
        self.repo = PrivacyRepo(db)
        self.users = UserRepo(db)
        self.desk = DeskRepo(db)

    # --- /privacy -------------------------------------------------------------------------

    async def stored(self, actor: User) -> Stored:
        """What is stored about `actor`, read from the database (a consent to an older
        notice is shown as it is stored, while the person is asked again)."""
        ensure_may_own_data(actor)
        row = await self.repo.profile(actor.telegram_id) or {}
        consent_at = row.get("consent_at")
        kept_locale = bool(row.get("locale_chosen")) or consent_at is not None
        return Stored(
            telegram_id=actor.telegram_id,
            first_contact=row.get("created_at") or actor.created_at,
            full_name=row.get("full_name") or "",
            username=row.get("username"),
            station=row.get("station_name"),
            locale=row.get("locale") if kept_locale else None,
            consent_at=consent_at,
            consent_version=row.get("consent_version") or (1 if consent_at else None),
            holdings=await self.repo.holdings(actor.telegram_id),
            retention_months=self.settings.retention_months,
            unconsented_days=self.settings.unconsented_days,
        )

    # --- /mydata --------------------------------------------------------------------------

    async def export(self, actor: User, texts: Texts) -> DataExport:
        """Everything stored about `actor` as one JSON file (UTF-8, indented), its notes in
        the person's language. Other people appear only as the handlers of their opinions
        (a deputy's or staff member's name), never another voter; secret-ballot choices
        are not linked to anyone, so they cannot be in it."""
        ensure_may_own_data(actor)
        person = actor.telegram_id
        now = self.clock.now()
        opinions = await self.repo.opinions_of(person)
        ids = [int(o["id"]) for o in opinions]
        events = await self.repo.events_of(ids)
        holders = await self.repo.holders_of(ids)
        suggestions = await self.repo.suggestions_behind(ids)
        roles = await self.repo.role_rows(person)
        you = texts("privacy.export_you")
        document: dict[str, Any] = {
            "format": "jiazhan-mydata",
            "generated_at": now,
            "notes": {
                "about": texts("privacy.export_about"),
                "secret_ballots": texts("privacy.export_secret_ballots"),
                "duty_records": texts("privacy.export_duty_records"),
            },
            "account": _account(await self.repo.profile(person)),
            "deputy": roles["deputy"],
            "liaison": roles["liaison"],
            "opinions": [
                _opinion(o, person, you, events, holders, suggestions, texts) for o in opinions
            ],
            "consultation_comments": [
                _with_flags(c, "show_name", "adopted") for c in await self.repo.comments_of(person)
            ],
            "consultations_invited_to": await self.repo.consultations_invited(person),
            "project_follows": await self.repo.follows_of(person),
            "project_updates": [
                _with_json(u, "photos") for u in await self.repo.project_updates_of(person)
            ],
            "secret_ballots": [_with_flags(b, "voted") for b in await self.repo.ballots_of(person)],
            "drafts": [_with_json(d, "data") for d in await self.repo.drafts_of(person)],
            "conversations": [
                _with_json(c, "step") for c in await self.repo.conversations_of(person)
            ],
            "messages_waiting": await self.repo.queued_for(person),
            "reminders": await self.repo.reminders_of(person),
            "reception_desk": [
                entry.model_dump(include=DESK_EXPORTED)
                for entry in await self.desk.visitor_data_of_author(person)
            ],
        }
        text = json.dumps(self._local(document), ensure_ascii=False, indent=2)
        day = now.astimezone(self.settings.zone).date().isoformat()
        return DataExport(f"jiazhan-mydata-{person}-{day}.json", text.encode("utf-8"))

    def _local(self, value: Any, key: str = "") -> Any:
        """Instants as ISO 8601 in the local zone with its offset: stored ones (columns
        named `at`, `*_at`, `not_before`) and datetimes alike."""
        if isinstance(value, dict):
            return {k: self._local(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self._local(v) for v in value]
        if isinstance(value, datetime):
            return value.astimezone(self.settings.zone).isoformat()
        instant = key == "at" or key.endswith("_at") or key == "not_before"
        if instant and isinstance(value, str) and value:
            return datetime.fromisoformat(value).astimezone(self.settings.zone).isoformat()
        return value

    # --- /forget --------------------------------------------------------------------------

    async def ask_forget(self, actor: User) -> str | None:
        """/forget's question: the token its Erase button carries (only the last question
        asked may be answered), or None when nothing is left to erase; refused while a role
        is held."""
        ensure_may_own_data(actor)
        ensure_may_be_forgotten(actor.telegram_id, actor.role, self.settings.admin_ids)
        if not await self._anything_to_erase(None, actor.telegram_id):
            return None
        token = secrets.token_urlsafe(FORGET_TOKEN_BYTES)
        async with self.db.transaction() as tx:
            await self.repo.set_forget_token(tx, actor.telegram_id, token)
        return token

    async def keep(self, actor: User, token: str) -> None:
        """Keep was tapped: no older Erase button of the person erases anything any more
        (a stale Keep changes nothing)."""
        ensure_may_own_data(actor)
        async with self.db.transaction() as tx:
            await self.repo.take_forget_token(tx, actor.telegram_id, token)

    async def _anything_to_erase(self, tx: Tx | None, person: int) -> bool:
        if (await self.repo.holdings(person, tx)).anything:
            return True
        return bool(await self.desk.visitor_data_of_author(person, tx))

    async def forget(self, actor: User, token: str) -> Erasure:
        """Erase `actor`'s personal data in one transaction (see the module docstring):
        they become a stranger with only their id; their opinions stay counted, anonymous,
        the unanswered ones without their text; comments on draft laws keep their text
        without the name; drafts, conversations and waiting messages go. Then the write-
        ahead log is checkpointed, so no earlier copy of a page lingers in it (deleted
        content is overwritten in the file: secure_delete). Nothing left: nothing done. An
        Erase button of an older question (`token` no longer the last one) is refused."""
        ensure_may_own_data(actor)
        person = actor.telegram_id
        now = self.clock.now()
        async with self.db.transaction() as tx:
            role = await self.users.role_in(tx, person)
            ensure_may_be_forgotten(person, role, self.settings.admin_ids)
            if not await self._anything_to_erase(tx, person):
                return Erasure(nothing_left=True)
            if not await self.repo.take_forget_token(tx, person, token):
                raise DomainError("privacy.forget_stale")
            name = await self.repo.full_name(tx, person)
            authored = await self.repo.authored(tx, person)
            erased = [o for o in authored if not o.answered]
            notes = await self.repo.own_notes(tx, person, [o.id for o in erased])
            ids = [o.id for o in authored]
            holders = [o.holder_id for o in authored if o.holder_id is not None]
            chats = await self.repo.chats_told_about(tx, ids, holders)
            await self._scrub_notices(
                tx,
                name,
                ids,
                chats,
                [o.tracking_no for o in authored],
                [o.text for o in erased] + notes,
            )
            withdrawn = await self.repo.withdraw_waiting(tx, person, now)
            await self._tell_holders(tx, withdrawn)
            opinions = await self.repo.anonymise_opinions(tx, person, ERASED_TEXT)
            erasure = Erasure(
                opinions=opinions.anonymised,
                texts_erased=opinions.texts_erased,
                withdrawn=len(withdrawn),
                answered_kept=opinions.answered_kept,
                comments=await self.repo.anonymise_comments(tx, person),
                drafts=await self.repo.delete_drafts(tx, person),
                conversations=tuple(await self.repo.end_conversations(tx, person)),
                notices=await self.repo.drop_outbox_of(tx, person),
                follows=await self.repo.drop_follows(tx, person),
                desk_entries=await self.desk.erase_visitor_data_of_author(tx, person, now),
                ballots_kept=await self.repo.ballots_kept(tx, person),
                backup_nights=self.settings.backup_keep,
            )
            await self.repo.drop_reminders(tx, person)
            await self.users.clear_personal(tx, person, self.settings.default_locale)
            if actor.menu is not None:  # a menu in the language now forgotten: reset
                await self.outbox.refresh_menu(tx, person)
        await self.db.checkpoint()
        return erasure

    async def _tell_holders(self, tx: Tx, withdrawn: Sequence[Withdrawn]) -> None:
        """Waiting notices about the withdrawn opinions no longer go; a deputy who took one
        is told it was withdrawn by its author."""
        for opinion in withdrawn:
            await self.outbox.withdraw_about(tx, opinion.id, WAITING_NOTICES)
            await self.outbox.notify(
                tx, opinion.holder_id, WITHDRAWN_NOTICE, tracking_no=opinion.tracking_no
            )

    async def _scrub_notices(
        self,
        tx: Tx,
        name: str,
        opinion_ids: Sequence[int],
        chats: Sequence[int],
        tracking_nos: Sequence[str],
        erased: Sequence[str],
    ) -> None:
        """Notices already queued or sent to others keep their parameters; those about the
        person's opinions, or to the chats told about them, lose the person's name and any
        copy of an erased text (an excerpt to a deputy, a reply). Only those rows are read."""
        needles = [*tracking_nos, name] if name else list(tracking_nos)
        if not needles:
            return
        rows = await self.repo.outbox_mentioning(tx, needles, opinion_ids, chats)
        fragments = _fragments(erased)
        changed = []
        for outbox_id, params in rows:
            scrubbed = json.dumps(
                _scrubbed(json.loads(params), name, fragments), ensure_ascii=False
            )
            if scrubbed != params:
                changed.append((outbox_id, scrubbed))
        await self.repo.rewrite_params(tx, changed)

    # --- retention ------------------------------------------------------------------------

    async def run_retention(self) -> int:
        """Erase the personal data of opinions closed or declined more than
        `retention_months` ago (by their last change): the author's link, name shown,
        location and photos, and a visitor's name and phone given at the reception desk. In
        short transactions, so other writers are not held up; a second run finds nothing.
        Returns how many opinions were detached from their authors."""
        now = self.clock.now()
        cutoff = add_months(now, -self.settings.retention_months)
        touched = erased = 0
        while True:
            async with self.db.transaction() as tx:
                batch = await self.repo.erase_retained(tx, cutoff, RETENTION_BATCH)
            touched += batch
            if batch < RETENTION_BATCH:
                break
        while True:
            async with self.db.transaction() as tx:
                batch = await self.desk.erase_visitor_data_closed_before(
                    tx, cutoff, now, RETENTION_BATCH
                )
            erased += batch
            if batch < RETENTION_BATCH:
                break
        if touched or erased:
            await self.db.checkpoint()
            log.info("retention: %s opinions, %s desk entries erased", touched, erased)
        return touched


# --- the /mydata document ---------------------------------------------------------------

HANDLER_ROLES = frozenset({Role.DEPUTY, Role.STAFF, Role.ADMIN, Role.LIAISON})
# What /mydata shows of a reception-desk entry the person claimed (not the claim code, nor
# the staff member's id).
DESK_EXPORTED = {
    "opinion_id",
    "visitor_name",
    "visitor_phone",
    "consent_noted_at",
    "claimed_at",
    "erased_at",
}


def _account(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The users row (without the pending /forget question's token: no data, a key)."""
    if row is None:
        return None
    shown = {k: v for k, v in row.items() if k != "forget_token"}
    return _with_flags(shown, "locale_chosen", "active", "notices")


def _with_flags(row: Mapping[str, Any], *columns: str) -> dict[str, Any]:
    """A row with its 0/1 columns as booleans."""
    shown = dict(row)
    for column in columns:
        shown[column] = bool(shown[column])
    return shown


def _with_json(row: Mapping[str, Any], *columns: str) -> dict[str, Any]:
    """A row with its JSON columns read back into values."""
    shown = dict(row)
    for column in columns:
        if isinstance(shown.get(column), str):
            shown[column] = json.loads(shown[column])
    return shown


def _opinion(
    row: Mapping[str, Any],
    person: int,
    you: str,
    events: Iterable[Mapping[str, Any]],
    holders: Mapping[int, str],
    suggestions: Iterable[Mapping[str, Any]],
    texts: Texts,
) -> dict[str, Any]:
    """One opinion with its history: each step by the person (`you`, in their language),
    by the name of the deputy or staff member who took it, or by nobody named (another
    person is not named). A voice opinion says so, with its length (its text is staff's
    transcript)."""
    opinion_id = int(row["id"])
    shown = _with_flags(_with_json(row, "photos"), "show_name", "looked_again")
    shown["voice"] = _voice(shown.pop("voice_seconds"), bool(shown.pop("voice_kept")), texts)
    shown["handled_by"] = holders.get(opinion_id)
    shown["history"] = [
        {
            "at": e["at"],
            "what": e["kind"],
            "by": _actor(e, person, you),
            "note": e["note"],
        }
        for e in events
        if int(e["opinion_id"]) == opinion_id
    ]
    shown["taken_into_suggestions"] = [
        {"number": s["number"], "title": s["title"]}
        for s in suggestions
        if int(s["opinion_id"]) == opinion_id
    ]
    return shown


def _voice(seconds: int | None, kept: bool, texts: Texts) -> dict[str, Any] | None:
    """A voice opinion's length as m:ss and whether its recording is still stored (None:
    a typed opinion)."""
    if seconds is None:
        return None
    return {
        "length": texts.length(int(seconds)),
        "recording_kept": kept,
        "note": texts("voice.export_note"),
    }


def _actor(event: Mapping[str, Any], person: int, you: str) -> str | None:
    if event["actor_id"] is None:
        return None
    if int(event["actor_id"]) == person:
        return you
    if event["actor_role"] in HANDLER_ROLES and event["actor_name"]:
        return str(event["actor_name"])
    return None


# --- scrubbing notices ------------------------------------------------------------------


def _fragments(texts: Iterable[str]) -> list[str]:
    """Each erased text as written and on one line (notices quote it flattened)."""
    found: list[str] = []
    for text in texts:
        for form in (text, " ".join(text.split())):
            if form and form not in found:
                found.append(form)
    return found


def _scrubbed(value: Any, name: str, fragments: Sequence[str]) -> Any:
    """A notice's parameters without the person's name (a value that is exactly it) and
    without any copy of the start of an erased text."""
    if isinstance(value, dict):
        return {k: _scrubbed(v, name, fragments) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, name, fragments) for v in value]
    if not isinstance(value, str):
        return value
    if name and value == name:
        return "—"
    for fragment in fragments:
        value = _cut(value, fragment)
    return value


def _cut(value: str, fragment: str) -> str:
    """`value` with every copy of the start of `fragment` removed (an excerpt: the text's
    first characters, perhaps cut short with an ellipsis)."""
    start = fragment[: min(FRAGMENT_START, len(fragment))]
    at = value.find(start)
    while at >= 0:
        length = len(start)
        while (
            length < len(fragment)
            and at + length < len(value)
            and value[at + length] == fragment[length]
        ):
            length += 1
        end = at + length
        if value[end : end + 1] == "…":
            end += 1
        value = value[:at] + value[end:]
        at = value.find(start, at)
    return value
