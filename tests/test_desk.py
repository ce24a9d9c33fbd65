"""/desk at the reception desk, as staff live it: station, the visitor's spoken consent (before
anything they say is typed in), category, text, name, phone, preview and Send, then the receipt
with the claim link, its QR code (decoded: it is that link) and a printable slip; the next
visitor at the same station. Bad input at every step, cancel and a missing consent store
nothing, a double tap makes one opinion, a restart resumes, and the opinion reaches the
station's deputies like any other (at once or in the digest), is counted in the figures and
shows its visitor only to staff and the handling deputy."""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from bot.demo.botapi import BOT_USERNAME, Output
from bot.errors import DomainError
from bot.runtime.buttons.desk import DeskAct, DeskTap
from bot.services.desk import DeskDraft, DeskStep, visitor_phone
from bot.services.figures import Area, Period
from tests.support.inbox import Mail
from tests.support.people import Person
from tests.support.scenarios import consented_admin, invite_deputy, only, say
from tests.support.world import SHANGHAI, World

LANGS = pytest.mark.parametrize("lang", ["zh-hans", "en"])
STATION = "学院路第一联络站"
LAMP = "小区东门的路灯坏了一个多月，晚上很不安全。"
CLAIM_LINK = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=claim_([A-Za-z0-9_-]+)")

# What staff read and tap, written out so a wrong language or a missing catalog fails.
L: dict[str, dict[str, str]] = {
    "zh-hans": {
        "ask_station": "<b>来访登记</b>\n来访群众在哪个联络站？请选择街镇：",
        "ask_category": f"<b>来访登记</b> · {STATION}\n请选择来访群众所反映意见建议的类别：",
        "urban": "城市管理",
        "ask_text": "请输入来访群众反映的意见建议（10 至 2,000 字）：",
        "ask_name": "来访群众的姓名（选填，最多 40 字）：请输入，或点击“跳过”。",
        "ask_phone": "联系电话（选填）",
        "ask_consent": "<b>请向来访群众说明并征得同意：</b>",
        "agreed": "✅ 来访群众已同意",
        "skip": "跳过",
        "cancel": "取消",
        "send": "📨 提交",
        "next": "➕ 下一位来访群众",
        "done": "结束接待",
        "change_station": "换联络站",
        "preview": (
            "<b>请核对来访登记</b>\n联络站：学院路第一联络站\n类别：城市管理\n"
            f"内容：{LAMP}\n姓名：王大爷\n电话：13812345678\n"
            "个人信息：已口头同意（2026年11月26日 10:00）"
        ),
        "receipt": "✅ 已登记，编号：<b>HD-2026-000001</b>\n联络站：学院路第一联络站\n\n",
        "until": "2027年2月24日前有效",
        "slip": "<code>【来访登记回执】编号：HD-2026-000001｜学院路第一联络站｜2026年11月26日｜",
        "caption": "扫码认领意见建议 <b>HD-2026-000001</b>\n",
        "next_prompt": "接下来：在学院路第一联络站接待下一位来访群众，或结束接待。",
        "already_sent": "这份来访登记已经提交过了，编号：HD-2026-000001。",
        "cancelled": "已取消，没有保存任何内容。",
        "finished": "接待已结束。需要时再发送 /desk。",
        "in_progress": "您正在进行来访登记。请先完成，或发送 /cancel 退出。",
        "phone_invalid": (
            "这不是有效的电话号码。请输入 11 位手机号（如 13812345678）"
            "或带区号的固定电话（如 010-12345678），或点击“跳过”。"
        ),
        "text_empty": "内容不能为空，请输入文字。",
        "text_too_short": "内容太短（4 字），请至少写 10 字。",
        "name_too_long": "姓名太长（41 字），请不超过 40 字。",
        "bad_text": (
            "请用文字输入来访群众反映的意见建议（10 至 2,000 字）。"
            "贴纸、语音、照片和文件不能作为内容。"
        ),
        "bad_consent": "请在来访群众口头同意后点击“来访群众已同意”，或点击“取消”。",
        "bad_category": "请点击上方的按钮选择类别。",
        "forbidden": "您没有权限进行此操作。",
        "stale": "这个按钮已失效，请重新操作。",
        "entered": "来访登记（工作人员代录）",
    },
    "en": {
        "ask_station": (
            "<b>Reception desk</b>\nWhich station did the visitor come to? Choose the street:"
        ),
        "ask_category": (
            f"<b>Reception desk</b> · {STATION}\nChoose the category of the visitor's opinion:"
        ),
        "urban": "Urban management",
        "ask_text": "Type the visitor's opinion (10 to 2,000 characters):",
        "ask_name": (
            "The visitor's name (optional, at most 40 characters): type it, or tap “Skip”."
        ),
        "ask_phone": "A phone number (optional)",
        "ask_consent": "<b>Tell the visitor, and ask for their consent:</b>",
        "agreed": "✅ The visitor agreed",
        "skip": "Skip",
        "cancel": "Cancel",
        "send": "📨 Submit",
        "next": "➕ Next visitor",
        "done": "Done",
        "change_station": "Another station",
        "preview": (
            "<b>Check the entry</b>\nStation: 学院路第一联络站\nCategory: Urban management\n"
            f"Text: {LAMP}\nName: 王大爷\nPhone: 13812345678\n"
            "Personal data: agreed aloud (Nov 26, 2026 10:00)"
        ),
        "receipt": "✅ Entered, number <b>HD-2026-000001</b>\nStation: 学院路第一联络站\n\n",
        "until": "until Feb 24, 2027, single use",
        "slip": (
            "<code>[Reception desk slip] No. HD-2026-000001 | 学院路第一联络站 | Nov 26, 2026 |"
        ),
        "caption": "Scan to claim opinion <b>HD-2026-000001</b>\n",
        "next_prompt": "Next: another visitor at 学院路第一联络站, or done.",
        "already_sent": "This entry was submitted already, number HD-2026-000001.",
        "cancelled": "Cancelled: nothing was stored.",
        "finished": "The desk is closed. Send /desk when the next visitor comes.",
        "in_progress": (
            "You are entering a visitor's opinion. Finish it first, or send /cancel to stop."
        ),
        "phone_invalid": (
            "That is not a phone number. Type an 11-digit mobile number (such as 13812345678)"
            " or a landline with its area code (such as 010-12345678), or tap “Skip”."
        ),
        "text_empty": "The text is empty. Please write your opinion.",
        "text_too_short": "That is too short (4 characters); please write at least 10.",
        "name_too_long": "The name is too long (41 characters); at most 40, please.",
        "bad_text": (
            "Type the visitor's opinion as text (10 to 2,000 characters). Stickers, voice,"
            " photos and files cannot be the text."
        ),
        "bad_consent": "Tap “The visitor agreed” once they agreed aloud, or tap “Cancel”.",
        "bad_category": "Tap a button above to choose the category.",
        "forbidden": "You are not allowed to do that.",
        "stale": "This button is no longer valid. Please start again.",
        "entered": "entered at the reception desk by staff",
    },
}


async def at_desk(world: World, lang: str = "zh-hans") -> Person:
    """The admin (staff), consented, speaking `lang`."""
    return await consented_admin(world, lang)


async def to_consent_step(staff: Person) -> None:
    """/desk and the station: the visitor's consent is asked."""
    await staff.send("/desk")
    await staff.tap("学院路街道")
    await staff.tap(STATION)
    assert staff.last.startswith(L[staff.language_code]["ask_consent"])


async def to_text_step(staff: Person) -> None:
    """/desk, the station, the consent, the category: the text is asked."""
    t = L[staff.language_code]
    await to_consent_step(staff)
    await staff.tap(t["agreed"])
    await staff.tap(t["urban"])
    assert staff.last == t["ask_text"]


async def to_preview(staff: Person, name: str = "王大爷", phone: str = "13812345678") -> None:
    await to_text_step(staff)
    await staff.send(LAMP)
    await staff.send(name)
    await staff.send(phone)
    assert staff.last.startswith(L[staff.language_code]["preview"].split("\n")[0])


async def enter(staff: Person, name: str = "王大爷", phone: str = "13812345678") -> list[Output]:
    """A visitor's opinion entered from /desk to Send: what Send answered."""
    await to_preview(staff, name, phone)
    return await staff.tap(L[staff.language_code]["send"])


async def draft_of(world: World) -> DeskDraft:
    """The one desk draft stored."""
    [row] = await world.rows("SELECT data FROM drafts WHERE kind = 'desk'")
    return DeskDraft.model_validate_json(row["data"])


async def counts(world: World) -> dict[str, int]:
    """What a desk entry writes, counted."""
    tables = ("opinions", "desk_entries", "opinion_events", "outbox")
    found = {t: len(await world.rows(f"SELECT 1 FROM {t}")) for t in tables}
    drafts = await world.rows("SELECT 1 FROM drafts WHERE kind = 'desk'")
    states = await world.rows("SELECT 1 FROM conversation_states WHERE name = 'desk'")
    return {**found, "drafts": len(drafts), "states": len(states)}


def decoded(png: bytes) -> list[str]:
    """What a QR reader finds in an image (zxing-cpp, not the encoder under test)."""
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


# --- the whole conversation ------------------------------------------------------------------


@LANGS
async def test_a_visitors_opinion_from_desk_to_receipt(world: World, lang: str) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    first = only(await staff.send("/desk"))
    assert first.text.startswith(t["ask_station"])
    assert t["cancel"] in first.buttons()
    await staff.tap("学院路街道")
    assert only(await staff.tap(STATION)).text.startswith(t["ask_consent"])
    assert t["change_station"] in staff.buttons()
    assert only(await staff.tap(t["agreed"])).text == t["ask_category"]
    assert t["change_station"] in staff.buttons()
    assert only(await staff.tap(t["urban"])).text == t["ask_text"]
    assert only(await staff.send(LAMP)).text == t["ask_name"]
    assert only(await staff.send("王大爷")).text.startswith(t["ask_phone"])
    assert only(await staff.send("138-1234-5678")).text == t["preview"]
    assert await world.rows("SELECT 1 FROM opinions") == []  # nothing before Send

    sent = await staff.tap(t["send"])
    receipt, photo, following = sent
    assert (receipt.kind, photo.kind, following.kind) == ("edit", "photo", "message")
    assert receipt.text.startswith(t["receipt"])
    match = CLAIM_LINK.search(receipt.text)
    assert match, receipt.text
    link, code = match.group(0), match.group(1)
    assert t["until"] in receipt.text and t["slip"] in receipt.text
    assert receipt.text.count(link) == 2  # the link, and again on the slip
    assert photo.text.startswith(t["caption"]) and link in photo.text
    assert following.text == t["next_prompt"]
    assert following.buttons() == [t["next"], t["change_station"], t["done"]]

    [opinion] = await world.rows("SELECT * FROM opinions")
    assert opinion["tracking_no"] == "HD-2026-000001" and opinion["author_id"] is None
    assert (opinion["show_name"], opinion["status"], opinion["category"]) == (
        0,
        "submitted",
        "urban",
    )
    assert opinion["text"] == LAMP and opinion["station_id"] == await world.station_id(STATION)
    [entry] = await world.rows("SELECT * FROM desk_entries")
    assert entry["opinion_id"] == opinion["id"] and entry["staff_id"] == staff.id
    assert (entry["visitor_name"], entry["visitor_phone"]) == ("王大爷", "13812345678")
    assert entry["claim_code"] == code and len(code) >= 12
    assert entry["consent_noted_at"] is not None and entry["claimed_by"] is None
    assert entry["claim_expires_at"] > "2027-02-24" and entry["claim_expires_at"] < "2027-02-25"
    assert await world.rows("SELECT username FROM desk_bot") == [{"username": BOT_USERNAME}]
    events = await world.rows("SELECT actor_id, kind, note FROM opinion_events")
    assert events == [{"actor_id": staff.id, "kind": "desk_entered", "note": ""}]
    # the QR code sent reads as that very link
    [call] = [c for c in world.api.calls if c.method == "sendPhoto"]
    assert decoded(call.files["photo"]) == [link]


async def test_a_double_tap_on_submit_makes_one_opinion(world: World) -> None:
    t = L["zh-hans"]
    staff = await at_desk(world)
    await to_preview(staff)
    message, data = staff._find(t["send"])
    await staff.tap_data(data, message)
    again = only(await staff.tap_data(data, message))
    assert again.kind == "alert" and again.show_alert and again.text == t["already_sent"]
    assert len(await world.rows("SELECT 1 FROM opinions")) == 1
    assert len(await world.rows("SELECT 1 FROM desk_entries")) == 1
    # and once more after the desk is closed: still the same one
    await staff.tap(t["done"])
    assert only(await staff.tap_data(data, message)).text == t["already_sent"]
    assert len(await world.rows("SELECT 1 FROM opinions")) == 1


async def test_the_station_is_kept_for_the_next_visitor_until_done(world: World) -> None:
    t = L["zh-hans"]
    staff = await at_desk(world)
    await enter(staff)
    assert await world.conversation_state("desk", staff.id) == "next"
    # no station asked: the next visitor's consent first
    assert only(await staff.tap(t["next"])).text.startswith(t["ask_consent"])
    await staff.tap(t["agreed"])
    await staff.tap(t["urban"])
    await staff.send("二号楼电梯经常停运，老人上下楼很困难。")
    await staff.tap(t["skip"])
    await staff.tap(t["skip"])
    preview = staff.last
    assert "姓名：未提供\n电话：未提供" in preview
    await staff.tap(t["send"])
    assert [
        r["tracking_no"]
        for r in await world.rows(
            "SELECT o.tracking_no FROM desk_entries e JOIN opinions o ON o.id = e.opinion_id"
            " WHERE e.visitor_name = ''"
        )
    ] == ["HD-2026-000002"]
    # /desk while still at the desk: the same station again
    assert only(await staff.send("/desk")).text.startswith(t["ask_consent"])
    await staff.send("/cancel")
    # another station from the last step: the new visitor's consent, then that station
    await enter(staff)
    await staff.tap(t["change_station"])
    await staff.tap("海淀街道")
    await staff.tap("海淀街道联络站")
    assert staff.last.startswith(t["ask_consent"])
    await staff.tap(t["agreed"])
    assert staff.last.startswith("<b>来访登记</b> · 海淀街道联络站")
    # the station changed after the consent: the consent stands
    await staff.tap(t["change_station"])
    await staff.tap("学院路街道")
    assert only(await staff.tap(STATION)).text == t["ask_category"]
    await staff.send("/cancel")
    assert staff.last == t["cancelled"]
    # done: the station is forgotten, /desk asks for it again
    await enter(staff)
    assert only(await staff.tap(t["done"])).text == t["finished"]
    assert await world.conversation_state("desk", staff.id) is None
    assert only(await staff.send("/desk")).text.startswith(t["ask_station"])


async def test_other_commands_go_through_after_an_entry_but_not_during_one(world: World) -> None:
    t = L["zh-hans"]
    staff = await at_desk(world)
    await to_text_step(staff)
    assert only(await staff.send("/inbox")).text == t["in_progress"]
    await staff.send(LAMP)
    await staff.send("/cancel")
    await enter(staff)
    inbox = only(await staff.send("/inbox"))  # the last step is walked away from
    assert inbox.text != t["in_progress"]
    assert await world.conversation_state("desk", staff.id) == "next"
    await staff.tap(t["next"])  # and the desk is still there
    assert staff.last.startswith(t["ask_consent"])


async def test_a_restart_resumes_at_the_step_staff_were_at(world: World) -> None:
    t = L["zh-hans"]
    staff = await at_desk(world)
    await to_text_step(staff)
    await staff.send(LAMP)
    await world.crash_and_restart()
    assert only(await staff.send("王大爷")).text.startswith(t["ask_phone"])
    await staff.tap(t["skip"])
    await staff.tap(t["send"])
    [entry] = await world.rows("SELECT visitor_name, visitor_phone FROM desk_entries")
    assert entry == {"visitor_name": "王大爷", "visitor_phone": ""}


# --- bad input ---------------------------------------------------------------------------


@LANGS
async def test_a_bad_phone_is_refused_clearly_and_the_step_stays(world: World, lang: str) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    await to_text_step(staff)
    await staff.send(LAMP)
    await staff.send("王大爷")
    for bad in (
        "12345",
        "1381234567",
        "23812345678",
        "010-1234567",
        "0755-0123456",
        "电话",
        "+1 415 555 0100",
    ):
        assert only(await staff.send(bad)).text == t["phone_invalid"], bad
    assert await world.conversation_state("desk", staff.id) == "phone"
    assert "0755-88881234" in only(await staff.send("（0755）8888-1234")).text  # the preview
    assert (await draft_of(world)).visitor_phone == "0755-88881234"


@pytest.mark.parametrize(
    "typed, stored",
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits
        ("010-62751234", "010-62751234"),
        ("(010) 6275 1234", "010-62751234"),
        ("+86 10 6275 1234", "010-62751234"),
        ("0571-8765432", "0571-8765432"),
        ("021 12345678", None),  # a local number starts with 2-9
        ("010-6275123", None),  # Beijing numbers have eight digits
        ("12812345678", None),  # no mobile number starts with 12
        ("138123456789", None),
        ("0571-876543", None),
        ("", None),
    ],
)
def test_phone_numbers(typed: str, stored: str | None) -> None:
    if stored is not None:
        assert visitor_phone(typed) == stored
        return
    with pytest.raises(DomainError) as refused:
        visitor_phone(typed)
    assert refused.value.key == "desk.phone_invalid"


@LANGS
async def test_an_empty_or_short_text_and_a_long_name_are_refused(world: World, lang: str) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    await to_text_step(staff)
    assert only(await staff.send("\u200b\u200b")).text == t["text_empty"]
    assert only(await staff.send("路灯坏了")).text == t["text_too_short"]
    assert only(await staff.send_sticker()).text == t["bad_text"]
    assert await world.conversation_state("desk", staff.id) == "text"
    await staff.send(LAMP)
    assert only(await staff.send("王" * 41)).text == t["name_too_long"]
    await staff.send("  王\u200b大爷\n ")
    await staff.tap(t["skip"])
    draft = (await world.rows("SELECT data FROM drafts WHERE kind = 'desk'"))[0]["data"]
    assert DeskDraft.model_validate_json(draft).visitor_name == "王大爷"


@LANGS
async def test_cancel_at_any_step_stores_nothing(world: World, lang: str) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    before = await counts(world)
    await to_consent_step(staff)
    assert only(await staff.tap(t["cancel"])).text == t["cancelled"]
    assert await counts(world) == before
    await to_preview(staff)
    assert only(await staff.send("/cancel")).text == t["cancelled"]
    assert await counts(world) == before
    everything = str(await world.rows("SELECT * FROM drafts")) + str(
        await world.rows("SELECT * FROM outbox")
    )
    assert "王大爷" not in everything and "13812345678" not in everything


@LANGS
async def test_without_the_visitors_consent_nothing_is_stored(world: World, lang: str) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    before = await counts(world)
    await to_consent_step(staff)
    assert only(await staff.send("同意")).text == t["bad_consent"]  # typing it is not tapping it
    # a Send for this draft, forged at the consent step: stale, nothing made
    token = DeskDraft.model_validate_json(
        (await world.rows("SELECT data FROM drafts WHERE kind = 'desk'"))[0]["data"]
    ).token
    forged = only(await staff.tap_data(DeskTap(act=DeskAct.SEND, draft=token).pack()))
    assert forged.kind == "alert" and forged.text == t["stale"]
    # the service refuses it too, whoever asks
    user = await world.services.users.get(staff.id)
    assert user is not None
    with pytest.raises(DomainError) as refused:
        await world.services.desk.submit(user, staff.id, token)
    assert refused.value.key == "desk.no_consent"
    after = await counts(world)
    assert {k: after[k] for k in ("opinions", "desk_entries")} == {"opinions": 0, "desk_entries": 0}
    assert after["outbox"] == before["outbox"]
    await staff.tap(t["cancel"])
    assert await counts(world) == before


@LANGS
async def test_nothing_the_visitor_says_is_kept_before_their_consent(
    world: World, lang: str
) -> None:
    t = L[lang]
    staff = await at_desk(world, lang)
    await to_consent_step(staff)
    before = await draft_of(world)
    assert before.consent_at is None and before.station_id == await world.station_id(STATION)
    assert (before.category, before.text, before.visitor_name, before.visitor_phone) == (
        None,
        None,
        "",
        "",
    )
    # typing the visitor's words at the consent step keeps nothing of them
    assert only(await staff.send(LAMP)).text == t["bad_consent"]
    assert LAMP not in str(await world.rows("SELECT * FROM drafts"))
    await staff.tap(t["agreed"])
    await staff.tap(t["urban"])
    await staff.send(LAMP)
    await staff.send("王大爷")
    # staff walk away at the phone step: the name is kept, but only with the consent noted
    assert await world.conversation_state("desk", staff.id) == "phone"
    kept = await draft_of(world)
    assert kept.visitor_name == "王大爷" and kept.consent_at is not None
    # and the service never stores the visitor's words without it, whoever asks
    user = await world.services.users.get(staff.id)
    assert user is not None
    unconsented = DeskDraft(station_id=kept.station_id, visitor_name="王大爷")
    with pytest.raises(DomainError) as refused:
        await world.services.desk.save(user, staff.id, unconsented, DeskStep.PHONE)
    assert refused.value.key == "desk.no_consent"
    assert (await draft_of(world)).consent_at == kept.consent_at


@LANGS
async def test_only_staff_use_the_desk(world: World, person: Any, lang: str) -> None:
    t = L[lang]
    await at_desk(world)
    voter = person(2001, "王芳", lang)
    await voter.send("/start")
    await voter.tap(say(voter, "privacy.agree"))
    assert only(await voter.send("/desk")).text == t["forbidden"]
    deputy = await invite_deputy(
        world, await at_desk(world), person, 3001, "张三", language_code=lang
    )
    assert only(await deputy.send("/desk")).text == t["forbidden"]
    assert await world.conversation_state("desk", deputy.id) is None


async def test_a_stale_desk_button_is_refused(world: World) -> None:
    t = L["zh-hans"]
    staff = await at_desk(world)
    await staff.send("/desk")
    await staff.tap("学院路街道")
    await staff.tap(STATION)
    await staff.tap(t["agreed"])
    category_message, data = staff._find(t["urban"])
    category_message = dict(category_message)  # as it was when shown
    await staff.tap(t["urban"])
    await staff.send(LAMP)
    refused = only(await staff.tap_data(data, category_message))
    assert refused.kind == "alert" and refused.text == t["stale"]
    assert await world.conversation_state("desk", staff.id) == "name"


# --- the opinion, like any other -----------------------------------------------------------


async def test_the_opinion_reaches_the_stations_deputies_and_the_figures(
    world: World, person: Any
) -> None:
    staff = await at_desk(world)
    zhang = await invite_deputy(world, staff, person, 3001, "张三")
    li = await invite_deputy(world, staff, person, 3002, "Li", language_code="en")
    zhao = await invite_deputy(world, staff, person, 3009, "赵六", "海淀街道", "海淀街道联络站")
    mail = Mail(world)
    await mail.take()
    await enter(staff)
    told = await mail.take()
    assert [chat for chat, _ in told] == [zhang.id, li.id]
    assert all("HD-2026-000001" in text and "王大爷" not in text for _, text in told)
    # the card: from the desk, the visitor's details for nobody but staff and the holder
    await zhang.tap(say(zhang, "inbox.open_button"))
    assert L["zh-hans"]["entered"] in zhang.last
    report = await world.services.figures.compute(Period.year(2026), Area.district())
    assert report.opinions.opinions_received == 1
    assert zhao.id not in {
        r["chat_id"] for r in await world.rows("SELECT chat_id FROM outbox WHERE sets_menu = 0")
    }


async def test_the_desk_files_through_the_one_opinion_service(world: World) -> None:
    """One OpinionService (and its deputies' notices), not a second one of the desk's own."""
    assert world.services.desk.opinions is world.services.opinions


async def test_a_digest_deputy_finds_the_desk_opinion_in_the_digest(
    world: World, person: Any
) -> None:
    staff = await at_desk(world)
    zhang = await invite_deputy(world, staff, person, 3001, "张三")
    await zhang.send("/notices digest")
    mail = Mail(world)
    await mail.take()
    await enter(staff)
    assert await mail.take() == []  # not at once
    world.clock.set(datetime(2026, 11, 27, 8, 0, tzinfo=SHANGHAI))  # the digest's time
    assert await world.services.deputy_notices.run_due() == 1
    [(chat, digest)] = await mail.take()
    assert chat == zhang.id and "HD-2026-000001" in digest and "王大爷" not in digest


async def test_the_visitor_is_shown_to_staff_and_the_holder_only(world: World, person: Any) -> None:
    staff = await at_desk(world)
    zhang = await invite_deputy(world, staff, person, 3001, "张三")
    li = await invite_deputy(world, staff, person, 3002, "Li", language_code="en")
    await enter(staff)
    await world.outbox.drain()  # the deputies' notices are in their chats before they tap
    [opinion_id] = [r["id"] for r in await world.rows("SELECT id FROM opinions")]
    desk = world.services.desk

    async def seen_by(someone: Person) -> tuple[str | None, str | None] | None:
        user = await world.services.users.get(someone.id)
        opinion = await world.services.opinions.repo.get(opinion_id)
        assert user is not None and opinion is not None
        visitor = await desk.visitor(user, opinion)
        return None if visitor is None else (visitor.name, visitor.phone)

    assert await seen_by(staff) == ("王大爷", "13812345678")
    assert await seen_by(zhang) == (None, None) and await seen_by(li) == (None, None)
    await zhang.tap(say(zhang, "inbox.open_button"))
    await zhang.tap(say(zhang, "inbox.claim_button"))
    assert await seen_by(zhang) == ("王大爷", "13812345678")
    assert await seen_by(li) == (None, None)
