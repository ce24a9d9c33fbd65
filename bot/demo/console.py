"""The demo's terminal: one chat per cast member, shown as the bot sends to it. A line is a
message from the member the console speaks as, a number taps one of the buttons shown last
in their chat, and a `:command` steers the demo (`:help` lists them). Piped input is read the
same way, each line carried through to its end before the next, and echoed after the
prompt's words so the transcript reads like a conversation. A reply keyboard's keys (the
location key under the input field) are numbered like buttons when shown last; a location
key, pressed by its number or its label, shares the demo phone's location (HERE)."""

from __future__ import annotations

import asyncio
import io
import re
import stat
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw
from rich.console import Console
from rich.text import Text

from bot.demo.botapi import MAX_DOWNLOAD, Output
from bot.demo.cast import CAST, Member, Role, member_of
from bot.demo.render import rich_text
from bot.demo.session import Demo
from bot.i18n import Texts

INDENT = "   "
CLOCK_STEP = re.compile(r"\+(\d{1,4})([mhdw])")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_STEP = timedelta(days=366)
MARKS = {"message": "🤖", "edit": "✎", "alert": "💬", "photo": "🖼", "document": "📄"}
ELSEWHERE = "bold magenta"  # the mark of a message to another chat than the speaker's
# Where the demo's phone is when a location key is pressed: at the cast's home station,
# 学院路街道代表之家 of the sample stations (samples/stations.csv).
HERE = (39.9925, 116.3528)


class Unsendable(Exception):
    """A file `:file` will not send; the catalog message (and its parameters) saying why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


def read_file(raw: str) -> tuple[str, bytes]:
    """The name and bytes of the file at `raw` (~ expanded). Only a regular file of at most
    MAX_DOWNLOAD bytes (what a bot may fetch) is read, and no more than that: a FIFO, a
    device or a folder is refused before it is opened. Raises Unsendable."""
    path = Path(raw).expanduser()
    try:
        found = path.stat()
    except FileNotFoundError:
        raise Unsendable("demo.no_file", path=raw) from None
    except OSError:
        raise Unsendable("demo.file_unreadable", path=raw) from None
    if not stat.S_ISREG(found.st_mode):
        raise Unsendable("demo.not_a_file", path=raw)
    if found.st_size > MAX_DOWNLOAD:
        raise Unsendable("demo.file_too_big", path=raw, megabytes=MAX_DOWNLOAD // 2**20)
    try:
        with path.open("rb") as file:
            content = file.read(MAX_DOWNLOAD + 1)
    except OSError:
        raise Unsendable("demo.file_unreadable", path=raw) from None
    if len(content) > MAX_DOWNLOAD:  # it grew since it was looked at
        raise Unsendable("demo.file_too_big", path=raw, megabytes=MAX_DOWNLOAD // 2**20)
    return path.name, content


def saved_name(output: Output) -> str:
    """The name to save a file the bot sent under: a document's own; a photo (uploaded
    without a name of its own) named by its kind of image."""
    if output.kind != "photo":
        return Path(output.file_name or "document").name
    content = output.content or b""
    kinds = {b"\x89PNG": ".png", b"\xff\xd8\xff": ".jpg", b"GIF8": ".gif"}
    return "photo" + next((ext for magic, ext in kinds.items() if content.startswith(magic)), "")


def body_of(output: Output) -> Text:
    """What a chat shows of something the bot sent: text and captions with their formatting,
    a document's name before its caption; an alert as it is (plain text, never HTML)."""
    if output.kind == "alert":
        return Text(output.text)
    if output.kind == "venue":
        return Text("📍 " + output.text.replace("\n", " · "))
    body = rich_text(output.text)
    if output.kind == "document" and output.file_name:
        name = Text(output.file_name, style="bold")
        return Text.assemble(name, " — ", body) if body else name
    return body


def coordinates(raw: str) -> tuple[float, float] | None:
    """A latitude and a longitude typed as `39.99 116.35` (or with a comma); None if not."""
    try:
        latitude, longitude = (float(part) for part in raw.replace(",", " ").split())
    except ValueError:
        return None
    if -90 <= latitude <= 90 and -180 <= longitude <= 180:
        return latitude, longitude
    return None  # out of range, or not a number at all (nan)


def sample_photo() -> bytes:
    """A small picture to send with `:photo`: a street lamp at dusk, drawn here."""
    image = Image.new("RGB", (320, 240), (40, 52, 92))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 180, 320, 240), fill=(70, 70, 70))
    draw.rectangle((150, 60, 158, 180), fill=(30, 30, 30))
    draw.ellipse((135, 40, 175, 70), fill=(255, 214, 102))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class Terminal:
    """The console over a running demo: who is speaking, the lines they type, and what the
    bot sends, printed with `out` (rich) in the console's language (`texts`)."""

    def __init__(
        self, demo: Demo, texts: Texts, out: Console, interactive: bool, files: Path
    ) -> None:
        self.demo = demo
        self.texts = texts
        self.out = out
        self.interactive = interactive
        self.files = files  # documents and photos the bot sends are saved here
        self.role = Role.VOTER
        self._refusals = len(demo.api.refusals)
        self._sent: list[Output] = []  # what the bot sent while the current line was carried out
        self.commands: dict[str, Callable[[str], Awaitable[bool]]] = {
            "as": self._as,
            "help": self._help,
            "photo": self._photo,
            "location": self._location,
            "file": self._file,
            "clock": self._clock,
            "say": self._say,
            "quit": self._quit,
        }
        demo.api.watch(self._sent.append)

    # --- words of the console ------------------------------------------------------------

    def label(self, member: Member) -> str:
        return self.texts("demo.member", role=self.texts(member.label), name=member.name)

    def prompt(self) -> str:
        return f"{self.label(CAST[self.role])} › "

    def say(self, line: str, style: str = "dim") -> None:
        """A line of the console's own (not the bot's)."""
        self.out.print(Text(line, style=style), soft_wrap=True)

    # --- what the bot sends --------------------------------------------------------------

    def flush(self) -> None:
        """Print what the bot sent while a line was carried out: first to the chat of the one
        speaking, then to the others', each chat in the order it was sent. The outbox sends
        while the bot is still answering, so the order across chats is not the order of
        sending; this order is the same every time."""
        sent, self._sent[:] = list(self._sent), []
        ours = CAST[self.role].user_id
        for output in sorted(sent, key=lambda o: o.chat_id != ours):
            member = member_of(output.chat_id)
            if member is not None:  # not a neighbour of the seed: nobody at this terminal
                self.show(output, member)

    def show(self, output: Output, member: Member) -> None:
        """Print something the bot sent to a cast member's chat, as that chat shows it."""
        head = Text(MARKS.get(output.kind, "🤖") + " ")
        if member.role != self.role:
            head.append(self.texts("demo.elsewhere", who=self.label(member)), ELSEWHERE)
            head.append(" ")
        lines = [Text.assemble(head, body_of(output))]
        if output.content is not None:
            lines.append(self._saved(output))
        lines.extend(self._buttons(output))
        for line in lines:
            parts = line.split("\n", allow_blank=True)
            indented = [parts[0], *(Text(INDENT) + part if part else part for part in parts[1:])]
            self.out.print(Text("\n").join(indented), soft_wrap=True)

    def _saved(self, output: Output) -> Text:
        """Save a file the bot sent beside the demo's database; the line that says where."""
        path = self.files / f"{output.message_id}-{saved_name(output)}"
        self.files.mkdir(parents=True, exist_ok=True)
        path.write_bytes(output.content or b"")
        return Text(INDENT + self.texts("demo.saved", path=str(path)), style="dim")

    def _buttons(self, output: Output) -> list[Text]:
        """The message's buttons by rows, numbered as a number typed taps them."""
        markup = output.markup or {}
        rows = markup.get("inline_keyboard") or markup.get("keyboard") or []
        lines, number = [], 0
        for row in rows:
            line = Text(INDENT)
            for button in row:
                number += 1
                label = button if isinstance(button, str) else str(button.get("text", ""))
                line.append(f"[{number}]", style="bold cyan")
                line.append(f" {label}  ")
            line.rstrip()
            lines.append(line)
        return lines

    def refusals(self) -> None:
        """Whatever the bot sent that Telegram would have refused, with Telegram's words."""
        refused = self.demo.api.refusals[self._refusals :]
        self._refusals += len(refused)
        for refusal in refused:
            self.say(
                self.texts("demo.refused", method=refusal.method, reason=refusal.description),
                "bold red",
            )

    # --- what is typed -------------------------------------------------------------------

    def welcome(self, seeded: bool, database: Path) -> None:
        self.say(self.texts("demo.welcome"), "bold")
        key = "demo.seeded" if seeded else "demo.resumed"
        self.say(self.texts(key, path=str(database)))
        voter = CAST[Role.VOTER]
        self.say(self.texts("demo.start_hint", who=self.label(voter)), "")

    async def handle(self, line: str) -> bool:
        """Carry out one line; False when the console should end."""
        line = line.strip()
        if not self.interactive and line:
            self.out.print(Text(self.prompt() + line, style="bold"), soft_wrap=True)
        if not line:
            return True
        try:
            if line.startswith(":"):
                name, _, rest = line[1:].partition(" ")
                command = self.commands.get(name.lower())
                if command is None:
                    self.say(self.texts("demo.unknown_command", command=line.split()[0]), "yellow")
                    return True
                return await command(rest.strip())
            if line.isascii() and line.isdigit():
                await self._tap(int(line))
            elif self._asks_location(line):  # the location key's label typed: pressed
                await self.demo.send_location(self.role, *HERE)
            else:
                await self.demo.send_text(self.role, line)
            return True
        finally:
            self.flush()
            self.refusals()

    def _asks_location(self, label: str) -> bool:
        """Whether `label` is a location key of the keyboard under the speaker's input field."""
        keys = self.demo.api.reply_keyboard(CAST[self.role].user_id)
        return any(key.get("text") == label and key.get("request_location") for key in keys)

    async def _tap(self, number: int) -> None:
        shown = self.demo.button(self.role, number)
        if shown.text is not None and self._asks_location(shown.text):
            await self.demo.send_location(self.role, *HERE)  # as the phone shares it
            return
        tap = await self.demo.tap(self.role, number)
        if tap.data is None and tap.text is None:
            self.say(self.texts("demo.no_button", number=number), "yellow")

    async def _as(self, rest: str) -> bool:
        try:
            self.role = Role(rest.lower())
        except ValueError:
            self.say(self.texts("demo.unknown_role", role=rest), "yellow")
            return True
        self.say(self.texts("demo.now_as", who=self.label(CAST[self.role])), "")
        return True

    async def _help(self, rest: str) -> bool:
        self.say(self.texts("demo.help"), "")
        return True

    async def _photo(self, rest: str) -> bool:
        await self.demo.send_photo(self.role, sample_photo())
        return True

    async def _location(self, rest: str) -> bool:
        point = coordinates(rest)
        if point is None:
            self.say(self.texts("demo.location_usage"), "yellow")
            return True
        await self.demo.send_location(self.role, *point)
        return True

    async def _file(self, rest: str) -> bool:
        if not rest:
            self.say(self.texts("demo.file_usage"), "yellow")
            return True
        try:
            name, content = await asyncio.to_thread(read_file, rest)
        except Unsendable as refused:
            self.say(self.texts(refused.key, **refused.params), "yellow")
            return True
        await self.demo.send_file(self.role, name, content)
        return True

    async def _clock(self, rest: str) -> bool:
        step = CLOCK_STEP.fullmatch(rest)
        delta = timedelta(**{UNITS[step[2]]: int(step[1])}) if step else None
        if delta is None or not timedelta(0) < delta <= MAX_STEP:
            self.say(self.texts("demo.clock_usage"), "yellow")
            return True
        until = self.demo.clock.now() + delta
        self.say(self.texts("demo.clock_moved", time=self.texts.datetime(until)), "bold")
        await self.demo.advance(until)
        return True

    async def _say(self, rest: str) -> bool:
        if not rest:
            self.say(self.texts("demo.say_usage"), "yellow")
            return True
        await self.demo.send_text(self.role, rest)
        return True

    async def _quit(self, rest: str) -> bool:
        return False
