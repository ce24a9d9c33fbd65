"""The one street → station picker: paged streets, a street's paged stations, and a search
by name. A feature configures one `StationPicker` and registers its `handlers()`; inside a
conversation the tap handlers return what `on_picked` returns (the next step), and
`search_handler()` takes a name typed at the picker's step."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from html import escape
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from bot.access import Action
from bot.runtime.buttons.base import ButtonFilter
from bot.runtime.buttons.pickers import (
    Picker,
    StationPicked,
    StationSearch,
    StreetPage,
    StreetStations,
    fit,
)
from bot.runtime.context import BotContext
from bot.services.stations import search_words
from handlers.common import answer_tap, guarded, message_of, respond
from handlers.keyboards import button, paged

PER_PAGE = 8
STREET_COLUMNS = 2
# The search hints a prompt may end with: typing a name at a conversation's step, or
# giving it after /station.
TYPE_A_NAME = "station.hint_type_a_name"
STATION_COMMAND_NAME = "station.hint_station_command"

Rows = list[list[InlineKeyboardButton]]


class View(StrEnum):
    """What the picker shows: its extra rows may differ by view."""

    STREETS = "streets"  # a page of the streets (the first view)
    STATIONS = "stations"  # a page of one street's stations
    FOUND = "found"  # a page of what a search found


Picked = Callable[[Update, BotContext, int], Awaitable[Any]]
ExtraRows = Callable[[BotContext, View], Awaitable[Rows]]
Params = Callable[[BotContext], Awaitable[Mapping[str, object]]]


@dataclass(frozen=True)
class StationPicker:
    """A station (or, with `street_is_answer`, a street) asked for by one feature.

    `purpose` keeps its buttons apart from other features'; `action` is checked once per
    tap or search; `on_picked(update, context, id)` gets the id of the station (or street)
    picked, after the id is known to exist, and must not answer the tap (the picker does,
    once it returns; a DomainError it raises becomes the tap's alert). `prompt` is the locale
    key above the streets and search results, `street_prompt` the one above a street's
    stations (it gets {street}; default `prompt`); `params` fills both (escaped already).
    `hint` (TYPE_A_NAME, STATION_COMMAND_NAME or None) ends the first view's text where a
    search is offered. `rows_above`/`rows_below` add rows around each view's keyboard."""

    purpose: Picker
    action: Action
    on_picked: Picked
    prompt: str
    street_prompt: str | None = None
    params: Params | None = None
    hint: str | None = None
    street_is_answer: bool = False
    rows_above: ExtraRows | None = None
    rows_below: ExtraRows | None = None

    # --- what a feature calls ------------------------------------------------------------

    async def show(
        self, update: Update, context: BotContext, *, edit: bool = True, text: str | None = None
    ) -> None:
        """The first page of the streets; `text` replaces the prompt (the hint follows)."""
        intro = text if text is not None else await self._prompt(context)
        if self.hint is not None:
            intro += "\n" + context.texts(self.hint)
        await respond(update, context, intro, await self._streets(context, 0), edit=edit)

    async def search(self, update: Update, context: BotContext, typed: str | None) -> None:
        """Answer a name typed (or given after a command) with what it finds, as a new
        message; when nothing is found, say so and show the streets again."""
        words = fit(search_words(typed))
        found = await self._found(context, words, 0)
        if found is None:
            texts = context.texts
            key = "station.none_found_streets" if self.street_is_answer else "station.none_found"
            text = texts(key, words=escape(words)) + "\n" + await self._prompt(context)
            await respond(update, context, text, await self._streets(context, 0), edit=False)
            return
        await respond(update, context, *found, edit=False)

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The taps of this picker: a page of streets, a street (its stations, or the answer),
        a station picked, a page of a search."""
        purpose = self.purpose
        guard = guarded(self.action)
        taps: list[BaseHandler[Any, Any, Any]] = [
            CallbackQueryHandler(guard(self._street_page), StreetPage.filter(purpose=purpose)),
            CallbackQueryHandler(guard(self._street), StreetStations.filter(purpose=purpose)),
            CallbackQueryHandler(guard(self._search_page), StationSearch.filter(purpose=purpose)),
        ]
        if not self.street_is_answer:
            taps.append(
                CallbackQueryHandler(guard(self._station), StationPicked.filter(purpose=purpose))
            )
        return taps

    def search_handler(self) -> BaseHandler[Any, Any, Any]:
        """Text typed at a conversation's picker step: searched for (the step stays)."""
        typed = guarded(self.action)(self._typed)
        return MessageHandler(filters.TEXT & ~filters.COMMAND, typed)

    @property
    def buttons(self) -> ButtonFilter:
        """Every button of this picker, for a conversation's stale-button fallback."""
        kinds = (StreetPage, StreetStations, StationPicked, StationSearch)
        return ButtonFilter(kinds, {"purpose": self.purpose})

    # --- the taps ------------------------------------------------------------------------

    async def _street_page(self, update: Update, context: BotContext) -> None:
        page = StreetPage.of(update).page
        text, markup = await self._prompt(context), await self._streets(context, page)
        await answer_tap(update)
        await respond(update, context, text, markup)

    async def _street(self, update: Update, context: BotContext) -> Any:
        """A street tapped: the answer itself, or a page of its stations."""
        tapped = StreetStations.of(update)
        street = await context.services.stations.street(tapped.street)
        if self.street_is_answer:
            return await self._answer(update, context, street.id)
        params = await self._params(context)
        key = self.street_prompt or self.prompt
        text = context.texts(key, **{**params, "street": escape(street.name)})
        markup = await self._stations(context, street.id, tapped.page)
        await answer_tap(update)
        await respond(update, context, text, markup)
        return None

    async def _station(self, update: Update, context: BotContext) -> Any:
        station = await context.services.stations.get(StationPicked.of(update).station)
        return await self._answer(update, context, station.id)

    async def _answer(self, update: Update, context: BotContext, picked: int) -> Any:
        result = await self.on_picked(update, context, picked)
        await answer_tap(update)
        return result

    async def _search_page(self, update: Update, context: BotContext) -> None:
        tapped = StationSearch.of(update)
        found = await self._found(context, tapped.text, tapped.page)
        await answer_tap(update)
        if found is None:  # the names changed since: the streets again
            await self.show(update, context)
            return
        await respond(update, context, *found)

    async def _typed(self, update: Update, context: BotContext) -> None:
        await self.search(update, context, message_of(update).text)

    # --- the views -----------------------------------------------------------------------

    async def _params(self, context: BotContext) -> Mapping[str, object]:
        return await self.params(context) if self.params is not None else {}

    async def _prompt(self, context: BotContext) -> str:
        return context.texts(self.prompt, **await self._params(context))

    async def _keyboard(
        self, context: BotContext, view: View, picks: InlineKeyboardMarkup
    ) -> InlineKeyboardMarkup:
        above = await self.rows_above(context, view) if self.rows_above else []
        below = await self.rows_below(context, view) if self.rows_below else []
        return InlineKeyboardMarkup([*above, *picks.inline_keyboard, *below])

    def _street_button(self, street_id: int, name: str) -> InlineKeyboardButton:
        return button(name, StreetStations(purpose=self.purpose, street=street_id, page=0))

    def _back(self, context: BotContext) -> InlineKeyboardButton:
        return button(context.texts("nav.back"), StreetPage(purpose=self.purpose, page=0))

    async def _streets(self, context: BotContext, page: int) -> InlineKeyboardMarkup:
        result = await context.services.stations.streets(page, PER_PAGE)
        picks = paged(
            [self._street_button(s.id, s.name) for s in result.items],
            result.page,
            result.pages,
            lambda p: StreetPage(purpose=self.purpose, page=p),
            context.texts,
            columns=STREET_COLUMNS,
        )
        return await self._keyboard(context, View.STREETS, picks)

    async def _stations(
        self, context: BotContext, street_id: int, page: int
    ) -> InlineKeyboardMarkup:
        result = await context.services.stations.stations(street_id, page, PER_PAGE)
        picks = paged(
            [
                button(s.name, StationPicked(purpose=self.purpose, station=s.id))
                for s in result.items
            ],
            result.page,
            result.pages,
            lambda p: StreetStations(purpose=self.purpose, street=street_id, page=p),
            context.texts,
            extra=[self._back(context)],
        )
        return await self._keyboard(context, View.STATIONS, picks)

    async def _found(
        self, context: BotContext, words: str, page: int
    ) -> tuple[str, InlineKeyboardMarkup] | None:
        """A page of what `words` finds, with its text; None when nothing is found."""
        stations = context.services.stations
        if self.street_is_answer:
            streets = await stations.search_streets(words, page, PER_PAGE)
            result_page, pages = streets.page, streets.pages
            items = [self._street_button(s.id, s.name) for s in streets.items]
            key = "station.found_streets"
        else:
            found = await stations.search_stations(words, page, PER_PAGE)
            result_page, pages = found.page, found.pages
            items = [
                button(
                    context.texts("station.found_item", station=s.name, street=s.street_name),
                    StationPicked(purpose=self.purpose, station=s.id),
                )
                for s in found.items
            ]
            key = "station.found"
        if not items:
            return None
        picks = paged(
            items,
            result_page,
            pages,
            lambda p: StationSearch.of_words(self.purpose, p, words),
            context.texts,
            extra=[self._back(context)],
        )
        text = context.texts(key, words=escape(words))
        return text, await self._keyboard(context, View.FOUND, picks)
