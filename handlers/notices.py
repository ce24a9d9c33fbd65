"""/notices on|off: anyone stops or restarts notices from staff (broadcasts);
/notices each|digest: a deputy hears of their station's new opinions each at once, or in one
message a day."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from bot.access import Action, allowed
from bot.runtime.context import BotContext
from handlers.common import Handler, guarded, respond
from storage.models import NoticeMode

MODES = {"each": NoticeMode.EACH, "digest": NoticeMode.DIGEST}
MODE_LABELS = {NoticeMode.EACH: "notices.mode_each", NoticeMode.DIGEST: "notices.mode_digest"}
MODE_DONE = {NoticeMode.EACH: "notices.now_each", NoticeMode.DIGEST: "notices.now_digest"}


def _digest_time(context: BotContext) -> str:
    """The daily digest's time of day, as the user reads times."""
    services = context.services
    return context.texts.time(services.deputy_notices.next_digest(services.clock.now()))


@guarded(Action.SET_NOTICES)
async def notices_command(update: Update, context: BotContext) -> None:
    texts = context.texts
    args = context.args or []
    choice = args[0].lower() if len(args) == 1 else ""
    notices = context.services.deputy_notices
    if choice in MODES and allowed(context.user, Action.CHOOSE_NOTICE_MODE):
        chosen = await notices.set_mode(context.user, MODES[choice])
        done = texts(MODE_DONE[chosen], time=_digest_time(context))
        await respond(update, context, done, edit=False)
        return
    if choice not in ("on", "off"):
        state = texts("notices.on") if context.user.notices else texts("notices.off")
        mode = await notices.mode(context.user)
        usage = (
            texts("notices.usage", state=state)
            if mode is None
            else texts(
                "notices.usage_deputy",
                state=state,
                mode=texts(MODE_LABELS[mode]),
                time=_digest_time(context),
            )
        )
        await respond(update, context, usage, edit=False)
        return
    context.account = await context.services.users.set_notices(context.user, choice == "on")
    key = "notices.now_on" if choice == "on" else "notices.now_off"
    await respond(update, context, texts(key), edit=False)


def handlers() -> list[Handler]:
    return [CommandHandler("notices", notices_command)]
