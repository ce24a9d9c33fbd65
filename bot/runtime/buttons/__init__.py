"""The one registry of every button the bot shows: each kind is declared once, in the module
of its feature, as a typed `CallbackData`; importing this package declares them all."""

from bot.runtime.buttons import account as account  # /account, /accounts, a voter's rating
from bot.runtime.buttons import assign as assign  # /assign: 交办, decline, priority, extension
from bot.runtime.buttons import assigned as assigned  # /assigned, the answer, 退办, more time
from bot.runtime.buttons import ballots as ballots  # /ballot, /ballots
from bot.runtime.buttons import broadcast as broadcast  # /broadcast, /broadcasts, progress
from bot.runtime.buttons import consult as consult  # /consult
from bot.runtime.buttons import consultation_report as consultation_report  # report, feedback
from bot.runtime.buttons import consultations as consultations  # /consultations, commenting
from bot.runtime.buttons import departments as departments  # /departments, liaison invites
from bot.runtime.buttons import desk as desk  # /desk, a visitor's claim
from bot.runtime.buttons import duty as duty  # /duty
from bot.runtime.buttons import inbox as inbox  # /inbox, /opinions, rating
from bot.runtime.buttons import ledger as ledger  # /ledger, progress updates
from bot.runtime.buttons import mycode as mycode  # /mycode, a voter who opened a 代表码
from bot.runtime.buttons import opinion as opinion  # /opinion and /my
from bot.runtime.buttons import pickers, start
from bot.runtime.buttons import privacy as privacy  # /privacy, /mydata, /forget
from bot.runtime.buttons import projects as projects  # /projects
from bot.runtime.buttons import stats as stats  # /stats: period, area, cancel
from bot.runtime.buttons import suggestion_rating as suggestion_rating  # rating an answer
from bot.runtime.buttons import suggestions as suggestions  # /suggest, /suggestions, 联名, /my
from bot.runtime.buttons import visits as visits  # /visit, /visits, the log prompt
from bot.runtime.buttons import voice as voice  # a voice opinion played, its transcript
from bot.runtime.buttons.base import (
    NOTICE_ACTIONS,
    REGISTRY,
    ButtonFilter,
    CallbackData,
    MalformedButton,
    any_of,
    for_notice,
    unpack_any,
)
from bot.runtime.buttons.pickers import Picker, StationPicked, StreetPage, StreetStations

__all__ = [
    "NOTICE_ACTIONS",
    "REGISTRY",
    "ButtonFilter",
    "CallbackData",
    "MalformedButton",
    "Picker",
    "StationPicked",
    "StreetPage",
    "StreetStations",
    "any_of",
    "for_notice",
    "pickers",
    "start",
    "unpack_any",
]
