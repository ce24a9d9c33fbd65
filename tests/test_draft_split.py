"""The draft splitter on real statutes of different shapes (counts taken by reading the texts,
see tests/statutes/README.md), on the lines that look like headings and are not, and the
preview staff read in both languages."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import cn2an
import pytest

from bot.demo.telegram_html import parse_html
from bot.errors import DomainError
from bot.i18n import I18n, Texts
from bot.services.draft_split import (
    Article,
    DraftStructure,
    article_body,
    article_label,
    heading_level,
    preview,
    split_draft,
)

STATUTES = Path(__file__).resolve().parent / "statutes"


def statute(name: str) -> DraftStructure:
    return split_draft((STATUTES / name).read_text(encoding="utf-8"))


def numbers(structure: DraftStructure) -> list[int | None]:
    return [article.number for article in structure.articles]


def tokens(structure: DraftStructure) -> list[tuple[int | None, int]]:
    """Each article's number and 之M (0 for none), in reading order."""
    return [(article.number, article.sub) for article in structure.articles]


def article(structure: DraftStructure, number: int, sub: int = 0) -> Article:
    (found,) = [a for a in structure.articles if (a.number, a.sub) == (number, sub)]
    return found


@pytest.fixture(scope="module")
def i18n() -> I18n:
    return I18n(ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def zh(i18n: I18n) -> Texts:
    return i18n.texts("zh_CN")


@pytest.fixture(scope="module")
def en(i18n: I18n) -> Texts:
    return i18n.texts("en")


# --- real statutes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Counted:
    """What a person counted in the file: 编, 章, 节, 条 (之M included), first, last (第N条之M
    counts as N), 项, and how many of the 条 are inserted 第N条之M."""

    parts: int
    chapters: int
    sections: int
    articles: int
    first: int | None
    last: int | None
    items: int
    inserted: int = 0


COUNTED = {
    "lifa_fa_2023.txt": Counted(0, 6, 7, 120, 1, 120, 39),
    "minfadian_1040_1125.txt": Counted(2, 6, 5, 86, 1040, 1125, 41),
    "minfadian_hetong_463_472.txt": Counted(1, 2, 0, 10, 463, 472, 10),
    "minfadian_tiaozhi_1040_1047.txt": Counted(1, 2, 0, 8, 1040, 1047, 0),
    "jianyiyongwei_tiaoli.txt": Counted(0, 0, 0, 25, 1, 25, 3),
    "guoge_fa.txt": Counted(0, 0, 0, 16, 1, 16, 9),
    "xingfa_114_139.txt": Counted(1, 1, 0, 37, 114, 139, 14, inserted=11),
    "gengdi_zhanyong_jueding.txt": Counted(0, 0, 0, 1, None, None, 0),
}


def test_every_statute_file_is_counted() -> None:
    assert sorted(p.name for p in STATUTES.glob("*.txt")) == sorted(COUNTED)


@pytest.mark.parametrize("name", sorted(COUNTED))
def test_a_real_statute_splits_into_what_was_counted_by_hand(name: str) -> None:
    counted, found = COUNTED[name], statute(name)

    assert (
        found.parts,
        found.chapters,
        found.sections,
        len(found.articles),
        found.first,
        found.last,
        found.items,
    ) == (
        counted.parts,
        counted.chapters,
        counted.sections,
        counted.articles,
        counted.first,
        counted.last,
        counted.items,
    )
    assert found.gaps == ()
    assert found.duplicates == ()
    assert sum(1 for each in found.articles if each.sub) == counted.inserted
    if counted.first is not None and counted.last is not None:
        ordinary = [each.number for each in found.articles if not each.sub]
        assert ordinary == list(range(counted.first, counted.last + 1))
        for each in found.articles:  # the heading "第N条" / "第N条之M" starts every article
            heading = f"第{cn2an.an2cn(each.number)}条"
            if each.sub:
                heading += f"之{cn2an.an2cn(each.sub)}"
            assert each.text.startswith(heading), each.text[:20]
            assert not each.text.removeprefix(heading).startswith("之"), each.text[:20]


def test_the_legislation_law_keeps_its_chapters_and_sections_and_drops_its_table_of_contents() -> (
    None
):
    law = statute("lifa_fa_2023.txt")

    assert law.preamble == (
        "中华人民共和国立法法\n"
        "（2000年3月15日第九届全国人民代表大会第三次会议通过　"
        "根据2015年3月15日第十二届全国人民代表大会第三次会议"
        "《关于修改〈中华人民共和国立法法〉的决定》第一次修正　"
        "根据2023年3月13日第十四届全国人民代表大会第一次会议"
        "《关于修改〈中华人民共和国立法法〉的决定》第二次修正）"
    )
    assert law.appendix == ""
    assert article(law, 1).heading_path == ("第一章 总则",)
    assert article(law, 10).heading_path == ("第二章 法律", "第一节 立法权限")
    assert article(law, 71).heading_path == ("第二章 法律", "第五节 其他规定")
    assert article(law, 72).heading_path == ("第三章 行政法规",)  # the 节 ended with its 章
    assert article(law, 91).heading_path == (
        "第四章 地方性法规、自治条例和单行条例、规章",
        "第二节 规章",
    )
    assert article(law, 120).heading_path == ("第六章 附则",)
    # "依照本法第一百零八条规定的权限" inside article 107 is a reference, not a heading
    assert "依照本法第一百零八条规定的权限予以改变或者撤销：" in article(law, 107).text
    assert article(law, 108).text.startswith("第一百零八条　改变或者撤销")
    # 款 and 项 stay inside their article, one a line, without the page's indentation
    eleven = article(law, 11).text.split("\n")
    assert len(eleven) == 12
    assert eleven[:2] == ["第十一条　下列事项只能制定法律：", "（一）国家主权的事项；"]
    assert eleven[-1] == "（十一）必须由全国人民代表大会及其常务委员会制定法律的其他事项。"


def test_an_excerpt_of_the_civil_code_starts_at_article_1040_with_its_parts_and_sections() -> None:
    code = statute("minfadian_1040_1125.txt")

    assert code.first == 1040
    assert article(code, 1040).heading_path == ("第五编 婚姻家庭", "第一章 一般规定")
    assert article(code, 1062).heading_path == (
        "第五编 婚姻家庭",
        "第三章 家庭关系",
        "第一节 夫妻关系",
    )
    assert article(code, 1076).heading_path == ("第五编 婚姻家庭", "第四章 离婚")
    assert article(code, 1114).heading_path == (
        "第五编 婚姻家庭",
        "第五章 收养",
        "第三节 收养关系的解除",
    )
    # a new 编 starts its chapters afresh and leaves the old 编's sections behind
    assert article(code, 1119).heading_path == ("第六编 继承", "第一章 一般规定")
    assert article(code, 1079).text.count("\n（") == 5
    assert article(code, 1079).text.endswith("一方再次提起离婚诉讼的，应当准予离婚。")


def test_a_subpart_stands_between_the_part_and_the_chapter() -> None:
    contracts = statute("minfadian_hetong_463_472.txt")

    assert article(contracts, 463).heading_path == (
        "第三编 合同",
        "第一分编 通则",
        "第一章 一般规定",
    )
    assert article(contracts, 469).heading_path == (
        "第三编 合同",
        "第一分编 通则",
        "第二章 合同的订立",
    )


def test_article_titles_glued_to_the_number_and_a_chapter_heading_without_a_space() -> None:
    code = statute("minfadian_tiaozhi_1040_1047.txt")

    assert article(code, 1040).heading_path == ("第五编 婚姻家庭", "第一章 一般规定")
    assert article(code, 1040).text == (
        "第一千零四十条【婚姻家庭编的调整范围】本编调整因婚姻家庭产生的民事关系。"
    )
    assert article(code, 1046).heading_path == ("第五编 婚姻家庭", "第二章 结婚")


def test_the_appendix_ends_the_articles() -> None:
    anthem_law = statute("guoge_fa.txt")

    assert article(anthem_law, 16).text == "第十六条 本法自2017年10月1日起施行。"
    assert anthem_law.appendix.startswith("附件：中华人民共和国国歌（五线谱版本和简谱版本）\n")
    assert "起来！不愿做奴隶的人们！" in anthem_law.appendix
    assert not any("起来！" in a.text for a in anthem_law.articles)
    # "按照本法附件所载" inside article 6 does not begin the appendix
    assert "按照本法附件所载国歌的歌词和曲谱" in article(anthem_law, 6).text


def test_a_local_regulation_without_chapters_has_no_heading_paths() -> None:
    regulation = statute("jianyiyongwei_tiaoli.txt")

    assert {a.heading_path for a in regulation.articles} == {()}
    assert article(regulation, 13).text.split("\n")[1:4] == [
        "（一）由加害人依法承担；",
        "（二）由社会保险机构按规定支付；",
        "（三）由所在工作单位提供资助。",
    ]


def test_a_decision_without_articles_is_one_text() -> None:
    decision = statute("gengdi_zhanyong_jueding.txt")

    assert not decision.has_articles
    (whole,) = decision.articles
    assert whole.number is None
    assert whole.heading_path == ()
    assert whole.text.startswith("北京市人民代表大会常务委员会关于北京市耕地占用税适用税额的决定\n")
    assert whole.text.endswith("本决定自2019年9月1日起施行。")
    assert "第四条第二款" in whole.text  # cited inside a sentence: no article


# --- tricky lines ---------------------------------------------------------------------------


def split_lines(*lines: str) -> DraftStructure:
    return split_draft("\n".join(lines))


def test_a_paragraph_that_begins_with_a_reference_stays_in_its_article() -> None:
    draft = split_lines(
        "第三条　本条例适用于本市。",
        "第四条　有下列情形之一的，不予奖励：",
        "第三条规定的情形除外。",  # glued, backwards, a reference word
        "第五条规定的人员，参照执行。",  # glued, forwards, still a reference word
        "第四条所称人员，包括临时人员。",  # glued, the same number, a reference word
        "第一百零八条规定的权限除外。",
        "第五条　本条例自公布之日起施行。",
    )

    assert numbers(draft) == [3, 4, 5]
    assert draft.duplicates == ()
    assert article(draft, 4).text == (
        "第四条　有下列情形之一的，不予奖励：\n"
        "第三条规定的情形除外。\n"
        "第五条规定的人员，参照执行。\n"
        "第四条所称人员，包括临时人员。\n"
        "第一百零八条规定的权限除外。"
    )


def test_a_glued_article_numbered_again_is_a_duplicate_not_part_of_the_one_before() -> None:
    draft = split_lines(
        "第一条　为了规范。",
        "第二条甲方应当履行合同。",
        "第二条乙方应当支付价款。",  # glued, the same number, no reference: a second 第二条
        "第三条　本条例自公布之日起施行。",
    )

    assert numbers(draft) == [1, 2, 2, 3]
    assert draft.duplicates == (2,)
    assert [a.text for a in draft.articles if a.number == 2] == [
        "第二条甲方应当履行合同。",
        "第二条乙方应当支付价款。",
    ]


def test_a_glued_article_numbered_backwards_is_a_duplicate_too() -> None:
    draft = split_lines(
        "第三条　本条例适用于本市。",
        "第四条　有下列情形之一的，不予奖励：",
        "第三条所有人员均应遵守。",  # glued, backwards, no reference word
        "第五条　本条例自公布之日起施行。",
    )

    assert numbers(draft) == [3, 4, 3, 5]
    assert draft.duplicates == (3,)
    assert article(draft, 4).text == "第四条　有下列情形之一的，不予奖励："


def test_the_preview_flags_a_glued_duplicate(zh: Texts, en: Texts) -> None:
    draft = split_lines("第一条　一。", "第二条甲方应当履约。", "第二条乙方应当付款。")

    assert preview(draft, zh).split("\n") == [
        "共 3 条，第一条 … 第二条",
        "条文编号重复：第二条出现了不止一次。",
    ]
    assert preview(draft, en).split("\n") == [
        "3 articles: Article 1 … Article 2",
        "Numbered more than once: Article 2.",
    ]


# --- inserted articles: 第N条之M ------------------------------------------------------------


def test_the_criminal_laws_inserted_articles_are_articles_of_their_own() -> None:
    law = statute("xingfa_114_139.txt")

    assert tokens(law)[6:14] == [(120, 0)] + [(120, sub) for sub in range(1, 7)] + [(121, 0)]
    assert [(n, m) for n, m in tokens(law) if m] == [
        *((120, sub) for sub in range(1, 7)),
        (133, 1),
        (133, 2),
        (134, 1),
        (135, 1),
        (139, 1),
    ]
    assert (law.gaps, law.duplicates) == ((), ())
    first_insert = article(law, 120, 1)
    assert first_insert.heading_path == ("第二编 分则", "第二章 危害公共安全罪")
    assert first_insert.text.startswith("第一百二十条之一 资助恐怖活动组织")
    assert first_insert.text.endswith("依照第一款的规定处罚。")
    assert first_insert.text.count("\n") == 2  # its 3 款
    assert article(law, 120).text.endswith("依照数罪并罚的规定处罚。")  # not 之一's text
    second = article(law, 120, 2)
    assert second.text.count("\n（") == 4  # its 4 项 stay inside it
    assert second.text.endswith("依照处罚较重的规定定罪处罚。")
    assert law.articles[-1].text.startswith("第一百三十九条之一 在安全事故发生后")


def test_an_inserted_article_with_its_crime_title_as_annotated_editions_print_it() -> None:
    draft = split_lines(
        "第一百二十条　【组织、领导、参加恐怖组织罪】组织、领导恐怖活动组织的，……",
        "第一百二十条之一　【帮助恐怖活动罪】资助恐怖活动组织、实施恐怖活动的个人的，……",
        "第一百二十条之二资助……",  # glued to its text
        "第一百二十一条　【劫持航空器罪】以暴力、胁迫或者其他方法劫持航空器的，……",
    )

    assert tokens(draft) == [(120, 0), (120, 1), (120, 2), (121, 0)]
    assert (draft.gaps, draft.duplicates) == ((), ())
    assert article_body(draft.articles[1].text) == (
        "【帮助恐怖活动罪】资助恐怖活动组织、实施恐怖活动的个人的，……"
    )


def test_a_paragraph_that_begins_with_a_reference_to_an_inserted_article_stays_in_its_article() -> (
    None
):
    draft = split_lines(
        "第一百二十条之六　明知是宣扬恐怖主义、极端主义的图书而非法持有的，……",
        "第一百二十条之一规定的资助行为，不适用本条。",
        "第一百二十条之一、第一百二十条之二的规定，同样适用。",
        "第一百二十条之规定，同样适用。",
        "第一百二十一条　以暴力方法劫持航空器的，……",
    )

    assert tokens(draft) == [(120, 6), (121, 0)]
    assert draft.articles[0].text.count("\n") == 3


def test_inserted_articles_fill_no_gap_and_are_no_duplicates() -> None:
    draft = split_lines(
        "第一条　一。", "第一条之一　一之一。", "第三条之一　三之一。", "第四条　四。"
    )

    assert tokens(draft) == [(1, 0), (1, 1), (3, 1), (4, 0)]
    assert draft.gaps == (2, 3)  # 第三条之一 does not stand for 第三条
    assert draft.duplicates == ()


def test_an_amendment_of_inserted_articles_only_has_no_gaps() -> None:
    draft = split_lines("第十七条之一　已满七十五周岁的人故意犯罪的，……", "第三十七条之一　……")

    assert tokens(draft) == [(17, 1), (37, 1)]
    assert (draft.gaps, draft.duplicates) == ((), ())
    assert (draft.first, draft.last) == (17, 37)


@pytest.mark.parametrize(
    ("line", "token"),
    [
        ("第一百二十条之一　资助。", (120, 1)),
        ("第120条之一　资助。", (120, 1)),
        ("第一百三十三条之十一　十一。", (133, 11)),
        ("第一百三十三条之一百　一百。", None),  # more insertions than any law has
        ("第一百三十三条之十十　乱码。", None),  # no numeral cn2an reads
    ],
)
def test_the_number_after_zhi_is_read_by_cn2an(line: str, token: tuple[int, int] | None) -> None:
    draft = split_lines("序言", line)

    assert tokens(draft) == [token or (None, 0)]  # None: not an article, so one text


def test_the_preview_of_a_law_with_inserted_articles(zh: Texts, en: Texts) -> None:
    law = statute("xingfa_114_139.txt")

    assert preview(law, zh) == "共 1 编、1 章、37 条，第一百一十四条 … 第一百三十九条之一"
    assert preview(law, en) == "1 part, 1 chapter, 37 articles: Article 114 … Article 139-1"


def test_the_json_of_an_inserted_article_adds_its_sub_number() -> None:
    listed = statute("xingfa_114_139.txt").as_json()["articles_list"]
    assert isinstance(listed, list)

    assert listed[6].keys() == {"number", "heading_path", "text"}  # 第一百二十条
    assert listed[7]["number"] == 120 and listed[7]["sub"] == 1
    assert listed[7].keys() == {"number", "heading_path", "text", "sub"}


def test_articles_glued_to_their_text_are_articles_when_the_numbers_go_on() -> None:
    draft = split_lines(
        "第一条为了维护国歌的尊严，制定本法。",
        "第二条中华人民共和国国歌是《义勇军进行曲》。",  # 中… is no reference
        "第三条项目实施单位应当公示。",  # nor is 项目
        "第四条　本法自公布之日起施行。",
    )

    assert numbers(draft) == [1, 2, 3, 4]
    assert article(draft, 2).text == "第二条中华人民共和国国歌是《义勇军进行曲》。"


def test_a_reference_in_the_middle_of_a_line_is_not_a_heading() -> None:
    draft = split_lines(
        "第一百零七条　由有关机关依照本法第一百零八条规定的权限予以改变或者撤销。",
        "依照本法第二章第三节规定的有关程序审议。",
        "第一百零八条　改变或者撤销的权限是：",
    )

    assert numbers(draft) == [107, 108]
    assert draft.chapters == draft.sections == 0


def test_a_chapter_reference_or_sentence_at_the_start_of_a_line_is_not_a_heading() -> None:
    draft = split_lines(
        "第一章　总则",
        "第一条　本法所称程序如下：",
        "第二章第三节规定的程序，适用本条。",
        "第三章规定了行政法规的制定。",
        "第二条　本法自公布之日起施行。",
    )

    assert draft.chapters == 1
    assert draft.sections == 0
    assert {a.heading_path for a in draft.articles} == {("第一章 总则",)}
    assert "第三章规定了行政法规的制定。" in article(draft, 1).text


def test_arabic_and_full_width_digits_and_full_width_spaces() -> None:
    draft = split_lines(
        "第1章　总则",
        "　　第1条　为了规范。",
        "　　第2条 法律的效力。",
        "第１２条　全角数字。",
        "\u3000第十三条\u3000全角空格。",
    )

    assert numbers(draft) == [1, 2, 12, 13]
    assert draft.gaps == tuple(range(3, 12))
    assert article(draft, 12).text == "第１２条　全角数字。"
    assert article(draft, 13).heading_path == ("第1章 总则",)


@pytest.mark.parametrize(
    ("numeral", "number"),
    [
        ("十", 10),
        ("十一", 11),
        ("一百一十", 110),
        ("一百零八", 108),
        ("一千零七十九", 1079),
        ("一千二百六十", 1260),
        ("两千", None),
        ("十十", None),
    ],
)
def test_chinese_numerals_of_any_size_are_read_by_cn2an(numeral: str, number: int | None) -> None:
    draft = split_lines("序言", f"第{numeral}条　条文。")

    assert numbers(draft) == [number]  # None: not an article, so the draft is one text


def test_gaps_and_duplicates_are_reported_not_fixed() -> None:
    draft = split_lines(
        "第一条　一。", "第二条　二。", "第四条　四。", "第四条　又是四。", "第七条　七。"
    )

    assert numbers(draft) == [1, 2, 4, 4, 7]
    assert draft.gaps == (3, 5, 6)
    assert draft.duplicates == (4,)
    assert [a.text for a in draft.articles if a.number == 4] == ["第四条　四。", "第四条　又是四。"]


def test_parts_subparts_chapters_and_sections_nest_and_reset() -> None:
    draft = split_lines(
        "第一编　总则",
        "第一章　基本规定",
        "第一条　一。",
        "第二编　物权",
        "第一分编　通则",
        "第一章　一般规定",
        "第一节　不动产登记",
        "第二条　二。",
        "第二分编　所有权",
        "第二章　一般规定",
        "第三条　三。",
        "附　　则",
        "第四条　四。",
    )

    assert [a.heading_path for a in draft.articles] == [
        ("第一编 总则", "第一章 基本规定"),
        ("第二编 物权", "第一分编 通则", "第一章 一般规定", "第一节 不动产登记"),
        ("第二编 物权", "第二分编 所有权", "第二章 一般规定"),
        ("附则",),  # the civil code's closing part has no number
    ]
    assert (draft.parts, draft.chapters, draft.sections) == (2, 3, 1)


def test_a_heading_whose_title_is_on_the_next_line() -> None:
    draft = split_lines("第一章", "总　则", "第一条　一。")

    assert article(draft, 1).heading_path == ("第一章 总则",)
    assert draft.preamble == ""


def test_a_long_line_after_a_bare_heading_is_no_title() -> None:
    long_line = "本章规定" + "适用范围" * 15 + "。"
    draft = split_lines("第一条　一。", "第二章", long_line, "总则", "第二条　二。")

    assert article(draft, 2).heading_path == ("第二章",)
    assert article(draft, 1).text == f"第一条　一。\n{long_line}\n总则"


def test_a_table_of_contents_without_its_marker_is_dropped_too() -> None:
    draft = split_lines(
        "某某条例",
        "第一章 总则",
        "第二章 附则",
        "第一章 总则",
        "第一条 一。",
        "第二章 附则",
        "第二条 二。",
    )

    assert draft.chapters == 2
    assert draft.preamble == "某某条例"
    assert [a.heading_path for a in draft.articles] == [("第一章 总则",), ("第二章 附则",)]


def test_a_table_of_contents_with_page_numbers() -> None:
    draft = split_lines(
        "目录",
        "第一章　总则……………………1",
        "第二章　附则……………………9",
        "第一章　总则",
        "第一条　一。",
        "第二章　附则",
        "第二条　二。",
    )

    assert (draft.chapters, draft.preamble) == (2, "")
    assert article(draft, 1).heading_path == ("第一章 总则",)


def test_a_table_of_contents_whose_entries_differ_from_the_body_keeps_the_body_headings() -> None:
    draft = split_lines(
        "目　录",
        "一、总则",
        "二、附则",
        "第一章　总则",
        "第一条　一。",
    )

    assert draft.chapters == 1
    assert article(draft, 1).heading_path == ("第一章 总则",)
    assert draft.preamble == ""


@pytest.mark.parametrize(
    "marker", ["附：相关法律条文", "附: 参考文本", "附件1", "附件一：名录", "附表", "附录　术语"]
)
def test_every_form_of_appendix_marker_ends_the_articles(marker: str) -> None:
    draft = split_lines("第一条　一。", "第二条　二。", marker, "第三条　附件中的条文。")

    assert numbers(draft) == [1, 2]
    assert draft.appendix == f"{marker}\n第三条　附件中的条文。"


def test_words_that_only_look_like_an_appendix_stay_in_the_article() -> None:
    draft = split_lines("第一条　一。", "附件所列的单位，依照本条执行。", "第二条　二。")

    assert numbers(draft) == [1, 2]
    assert draft.appendix == ""
    assert article(draft, 1).text.endswith("附件所列的单位，依照本条执行。")


def test_an_appendix_before_any_article_is_preamble() -> None:
    draft = split_lines("附：说明", "第一条　一。")

    assert draft.preamble == "附：说明"
    assert numbers(draft) == [1]


def test_numbers_no_code_has_are_not_articles() -> None:
    draft = split_lines("第一条　一。", "第十万条　不是条文。", "第1200000条　也不是。")

    assert numbers(draft) == [1]


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("第十二条　本条例自公布之日起施行。", "本条例自公布之日起施行。"),
        ("第12条　本条例自公布之日起施行。", "本条例自公布之日起施行。"),
        ("第１２条 本条例自公布之日起施行。", "本条例自公布之日起施行。"),
        ("第一千零七十九条【离婚】夫妻一方要求离婚的", "【离婚】夫妻一方要求离婚的"),
        ("第一百二十条之一　【帮助恐怖活动罪】资助恐怖活动", "【帮助恐怖活动罪】资助恐怖活动"),
        ("第一百二十条之二　有下列情形之一的", "有下列情形之一的"),
        ("第120条之一 资助恐怖活动", "资助恐怖活动"),
        ("第一百二十条之一规定的资助", "第一百二十条之一规定的资助"),  # a reference
        ("第二条甲方应当履约。\n（一）按期；", "甲方应当履约。\n（一）按期；"),
        ("第五条", ""),
        ("第三条规定的情形除外。", "第三条规定的情形除外。"),  # a reference, no heading
        ("本决定自公布之日起施行。", "本决定自公布之日起施行。"),  # one text
    ],
)
def test_an_articles_body_is_its_text_without_the_number_it_opens_with(
    text: str, body: str
) -> None:
    assert article_body(text) == body


@pytest.mark.parametrize("name", ["lifa_fa_2023.txt", "xingfa_114_139.txt"])
def test_every_article_of_a_real_statute_has_its_body_after_its_number(name: str) -> None:
    for each in statute(name).articles:
        assert not article_body(each.text).startswith(("第", "之")), each.text[:20]
        assert each.text.endswith(article_body(each.text))


@pytest.mark.parametrize(
    ("heading", "level"),
    [
        ("第一编 总则", "编"),
        ("第二分编 典型合同", "分编"),
        ("第十二章 附则", "章"),
        ("第3章 法律责任", "章"),
        ("第一节 一般规定", "节"),
        ("第一章", "章"),
        ("附则", None),
        ("第〇章 零", None),  # not a numeral the splitter reads: no heading it wrote
        ("第两章 两", None),
        ("第一条 为了", None),
    ],
)
def test_a_headings_level_is_read_with_the_splitters_numerals(
    heading: str, level: str | None
) -> None:
    assert heading_level(heading) == level


def test_every_heading_the_splitter_writes_has_its_level() -> None:
    code = statute("minfadian_1040_1125.txt")
    levels = {heading_level(h) for a in code.articles for h in a.heading_path}
    assert levels == {"编", "章", "节"}


@pytest.mark.parametrize("empty", ["", " ", "\n\n", "　　\n\t\n", "\r\n"])
def test_a_draft_with_nothing_in_it_is_refused(empty: str) -> None:
    with pytest.raises(DomainError) as refused:
        split_draft(empty)

    assert refused.value.key == "draft.empty"


def test_the_json_has_exactly_the_fields_the_command_line_promises() -> None:
    draft = split_lines("第一章 总则", "第一条 一。", "（一）甲；")

    assert draft.as_json() == {
        "parts": 0,
        "chapters": 1,
        "sections": 0,
        "articles": 1,
        "first": 1,
        "last": 1,
        "items": 1,
        "articles_list": [
            {"number": 1, "heading_path": ["第一章 总则"], "text": "第一条 一。\n（一）甲；"}
        ],
    }


def test_a_code_of_1260_articles_splits_whole() -> None:
    """How fast is measured in bench/bench_split.py, on a quiet machine; here, what."""
    lines = []
    for number in range(1, 1261):
        if number % 15 == 1:
            lines.append(f"第{cn2an.an2cn((number - 1) // 15 + 1)}章　第{number}条起")
        lines += [f"第{cn2an.an2cn(number)}条　本条规定某事项。", "（一）甲；", "（二）乙。"]
    text = "\n".join(lines)

    draft = split_draft(text)

    assert (len(draft.articles), draft.chapters, draft.items) == (1260, 84, 2520)
    assert numbers(draft) == list(range(1, 1261))
    assert draft.gaps == draft.duplicates == ()


# --- the preview staff read -----------------------------------------------------------------


def test_the_preview_in_chinese_names_the_structure_in_chinese_numerals(zh: Texts) -> None:
    shown = preview(statute("lifa_fa_2023.txt"), zh)

    assert shown == "共 6 章、7 节、120 条，第一条 … 第一百二十条"
    parse_html(shown)


def test_the_preview_in_english(en: Texts) -> None:
    assert preview(statute("lifa_fa_2023.txt"), en) == (
        "6 chapters, 7 sections, 120 articles: Article 1 … Article 120"
    )
    assert preview(statute("minfadian_hetong_463_472.txt"), en) == (
        "1 part, 2 chapters, 10 articles: Article 463 … Article 472"
    )


def test_the_preview_flags_gaps_duplicates_and_the_appendix(zh: Texts, en: Texts) -> None:
    draft = split_lines(
        "第一条　一。", "第二条　二。", "第四条　四。", "第四条　四。", "第七条　七。", "附件：表"
    )

    assert preview(draft, zh).split("\n") == [
        "共 5 条，第一条 … 第七条",
        "条文编号不连续：缺少第三条、第五条、第六条。",
        "条文编号重复：第四条出现了不止一次。",
        "文末的附件不计入条文。",
    ]
    assert preview(draft, en).split("\n") == [
        "5 articles: Article 1 … Article 7",
        "Numbering gap: Article 3, Article 5, Article 6 missing.",
        "Numbered more than once: Article 4.",
        "The appendix at the end is not counted as an article.",
    ]


def test_a_long_list_of_gaps_is_cut_short(zh: Texts, en: Texts) -> None:
    draft = split_lines("第一条　一。", "第四十条　四十。")

    shown_zh = preview(draft, zh).split("\n")[1]
    shown_en = preview(draft, en).split("\n")[1]

    assert shown_zh.startswith("条文编号不连续：缺少第二条、第三条、")
    assert shown_zh.endswith("第十一条等 38 条。")
    assert shown_en.endswith(
        "38 numbers missing, among them Article 2, Article 3, Article 4, "
        "Article 5, Article 6, Article 7, Article 8, Article 9, Article 10, "
        "Article 11."
    )


def test_the_preview_of_one_text(zh: Texts, en: Texts) -> None:
    decision = statute("gengdi_zhanyong_jueding.txt")
    length = len(decision.articles[0].text)

    assert preview(decision, zh) == (
        f"草案中没有找到“第×条”，将作为一篇全文征求意见（{length} 字）。"
    )
    assert preview(decision, en).startswith("The draft has no articles")
    assert f"({length} characters)" in preview(decision, en)


def test_article_labels(zh: Texts, en: Texts) -> None:
    assert article_label(1079, zh) == "第一千零七十九条"
    assert article_label(110, zh) == "第一百一十条"
    assert article_label(1079, en) == "Article 1079"
    assert article_label(None, zh) == "全文"
    assert article_label(None, en) == "Whole text"


def test_labels_of_inserted_articles(zh: Texts, en: Texts) -> None:
    assert article_label(120, zh, 1) == "第一百二十条之一"
    assert article_label(133, zh, 2) == "第一百三十三条之二"
    assert article_label(120, en, 1) == "Article 120-1"
    assert article_label(120, zh, 0) == "第一百二十条"
    assert article_label(None, zh, 1) == "全文"
    for texts in (zh, en):
        parse_html(article_label(139, texts, 1))
