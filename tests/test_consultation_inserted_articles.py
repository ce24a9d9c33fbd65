"""An inserted article 第N条之M keeps its M from the draft to every label: the reader's pages
and prompts, /consultations' "already commented" line, and the staff report (chat summary,
.xlsx, .docx, the adopted-comments pages). Without it 第一百二十条之一 read as 第一百二十条."""

from __future__ import annotations

import io
from datetime import timedelta

import docx
import openpyxl
import pytest

from bot.runtime.buttons.consultation_report import ReportOpen
from bot.runtime.buttons.consultations import ReadArticle
from bot.services.consultations import ConsultationPlan
from storage.models import ConsultationAudience
from tests.support.people import Person
from tests.support.scenarios import LANGUAGES, consented_admin, say
from tests.support.world import World
from tests.test_consultation_reading import body, voter
from tests.test_consultation_report import documents

# 《中华人民共和国刑法》 art. 120, the article inserted after it, and art. 121 (著作权法 art. 5:
# laws are not subject to copyright), as a draft amendment prints them.
DRAFT = "\n".join(
    [
        "第一百二十条 组织、领导恐怖活动组织的，处十年以上有期徒刑或者无期徒刑，并处没收财产。",
        "第一百二十条之一 资助恐怖活动组织、实施恐怖活动的个人的，或者资助恐怖活动培训的，"
        "处五年以下有期徒刑、拘役、管制或者剥夺政治权利，并处罚金。",
        "第一百二十一条 以暴力、胁迫或者其他方法劫持航空器的，处十年以上有期徒刑或者无期徒刑。",
    ]
)
INSERTED_BODY = (
    "资助恐怖活动组织、实施恐怖活动的个人的，或者资助恐怖活动培训的，"
    "处五年以下有期徒刑、拘役、管制或者剥夺政治权利，并处罚金。"
)
COMMENT = "建议明确资助恐怖活动培训的认定标准，避免适用时产生分歧。"
# What each language calls the two articles.
LABELS = {
    "zh-hans": ("第一百二十条", "第一百二十条之一"),
    "en": ("Article 120", "Article 120-1"),
}
COMMENT_ARTICLE = {"zh-hans": "💬 对本条提意见", "en": "💬 Comment on this article"}
SHOW_NAME = {"zh-hans": "显示我的名字", "en": "Show my name"}


async def open_draft(world: World) -> tuple[int, ConsultationPlan]:
    """Open the consultation the way staff do: the splitter cuts the draft into articles."""
    plan = ConsultationPlan(
        title="《中华人民共和国刑法修正案（草案）》",
        text=DRAFT,
        audience=ConsultationAudience.EVERYONE,
        deadline=world.clock.now() + timedelta(days=30),
    )
    opened = await world.services.consultations.open(None, plan)
    await world.outbox.drain()
    return opened.id, plan


async def read(person: Person, consultation: int, position: int) -> None:
    await person.tap_data(ReadArticle(consultation=consultation, position=position, part=0).pack())


@pytest.mark.parametrize("code, locale", LANGUAGES)
async def test_an_inserted_article_is_named_with_its_sub_number_everywhere(
    world: World, code: str, locale: str
) -> None:
    ordinary, inserted = LABELS[code]
    reader = await voter(world, 7001, code)
    consultation, plan = await open_draft(world)
    rows = await world.rows(
        "SELECT number, sub FROM consultation_articles WHERE consultation_id = ? ORDER BY position",
        (consultation,),
    )
    assert [(r["number"], r["sub"]) for r in rows] == [(120, 0), (120, 1), (121, 0)]

    # reading: the ordinary article, then the inserted one, each asked about by its own name
    await read(reader, consultation, 0)
    assert body(reader.last).startswith("第一百二十条 组织")
    await reader.tap(COMMENT_ARTICLE[code])
    assert reader.last == say(
        reader, "consultations.ask_text", target=ordinary, minimum=10, maximum=2000
    )
    await reader.send("/cancel")
    await read(reader, consultation, 1)
    assert body(reader.last).startswith("第一百二十条之一 资助")
    await reader.tap(COMMENT_ARTICLE[code])
    assert reader.last == say(
        reader, "consultations.ask_text", target=inserted, minimum=10, maximum=2000
    )
    await reader.send(COMMENT)
    await reader.tap(SHOW_NAME[code])
    assert reader.last == say(reader, "consultations.saved", target=inserted)

    await reader.send("/consultations")
    assert say(reader, "consultations.list_commented", count=1, targets=inserted) in reader.last

    # the report, once the deadline has passed
    world.clock.set(plan.deadline)
    assert await world.services.consultations.run_due() == 1
    await world.outbox.drain()
    staff = await consented_admin(world, code)
    await staff.tap_data(ReportOpen(consultation=consultation).pack())
    summary = [o for o in staff.seen if o.kind == "message"][-1].text
    assert say(staff, "report.summary_article", article=inserted, count="1") in summary

    files = documents(world, staff.id)
    book = openpyxl.load_workbook(io.BytesIO(files["xlsx"]))
    comments, totals = (list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets)
    assert [(row[0], row[5]) for row in comments[1:]] == [(inserted, COMMENT)]
    per_article = [tuple(v for v in row if v is not None) for row in totals]
    assert (ordinary, 0, 0) in per_article and (inserted, 1, 0) in per_article

    paragraphs = [
        (p.style.name, p.text) for p in docx.Document(io.BytesIO(files["docx"])).paragraphs
    ]
    at = paragraphs.index(("Heading 3", inserted))
    assert paragraphs[at + 1] == ("Normal", INSERTED_BODY)  # 第一百二十条之一 said once
    assert paragraphs[at - 3] == ("Heading 3", ordinary)  # its text, "no comments", then 之一

    # the adopted-comments pages: the list of targets, then the inserted article's comments
    await staff.tap(say(staff, "report.button_adopt"))
    target = say(staff, "report.adopt_target", target=inserted, count="1", adopted="0")
    assert target in staff.buttons()
    await staff.tap(target)
    assert staff.last.startswith(
        say(staff, "report.adopt_head", target=inserted, count="1", adopted="0")
    )
