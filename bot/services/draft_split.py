"""The draft splitter: a draft law's text → its 编 / 分编 / 章 / 节 headings and its 条
(articles), each article keeping its 款 and 项 inside it. Pure Python: no I/O, no clock.

How a line is read (only the start of a line counts; leading whitespace, full-width
included, is skipped):

- `第N编`, `第N分编`, `第N章`, `第N节` followed by a short title (with or without a space:
  "第一章　总　　则", "第一章一般规定") is a heading. A title that reads like a sentence (ends
  in 。；：， or is long) or that goes on like a reference ("第二章第三节规定的") is not.
  A line that is only 附则 (民法典's unnumbered closing part) is a heading too.
- `第N条` is an article when a space, a bracket (【条旨】, （条旨）) or the end of the line
  follows it: "第一条　为了…". Glued directly to its text ("第一条为了…") it is an article
  unless the text goes on like a reference: "第一百零八条规定的…" at the start of a
  paragraph is text of the article it is in. A glued 第N条 that is no reference is an
  article whatever its number: "第二条乙…" right after 第二条 is a second 第二条, reported
  as a duplicate for staff to fix, never merged silently into the article before it.
- `第N条之M` (M a Chinese numeral: 第一百二十条之一) is an article inserted after 第N条 by an
  amendment, read the same way as `第N条`: its own article, numbered N with sub-number M. It
  is no duplicate of 第N条, and the numbering's gaps and duplicates are counted without it.
- N is a Chinese numeral of any size (第一千零七十九条) or Arabic digits (第12条), read with
  cn2an, never by hand. Numbers above `MAX_NUMBER` are not article numbers.
- A 目录 (table of contents) before the first article is dropped: from its 目录 line, or from
  the first heading when that heading comes again before the first article, up to where the
  body's headings begin.
- After the first article, a line starting 附： / 附: / 附件 / 附表 / 附录 begins the
  appendix, which runs to the end: nothing in it is an article.
- A draft with no article at all is one text: one `Article` numbered None.
- Gaps and duplicates in the numbering (of the articles that are not 之M) are reported, never
  fixed.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import cn2an

from bot.errors import DomainError
from bot.i18n import Texts

MAX_NUMBER = 99_999  # no code has more articles; a bigger number is a typo or a reference
MAX_SUB = 99  # 之M: 刑法 goes to 之六; more than this after one article is no insertion
MAX_TITLE = 50  # characters in a heading's title; a longer line is a sentence
LIST_MAX = 10  # gaps or duplicates named one by one in the preview

_NUMERAL = r"[零一二三四五六七八九十百千万0-9０-９]+"
_HEADING = re.compile(rf"第({_NUMERAL})(分编|编|章|节)(.*)", re.DOTALL)
_SUB_NUMERAL = r"[零一二三四五六七八九十百]+"
_ARTICLE = re.compile(rf"第({_NUMERAL})条(?:之({_SUB_NUMERAL}))?(.*)", re.DOTALL)
_CLOSING = re.compile(r"附\s*则")
_TOC = re.compile(r"目\s*录")
_APPENDIX = re.compile(r"附\s*(?:[:：]|[件表录]\s*(?:$|[:：\s0-9０-９一二三四五六七八九十（(]))")
_ITEM = re.compile(r"[（(][一二三四五六七八九十百]+[）)]")
# What follows a glued 第N条 / 第N章 when it is a reference, not a heading: 第十条规定的,
# 第十条的规定, 第四条第二款, 第十条、第十一条, 第十条至第十二条, 第十条所称 … Narrow on
# purpose: an article may well begin 中华人民共和国…, 所有权人…, 项目…
_REFERENCE = re.compile(
    r"(?:规定|的|第|、|，|,|至|所称|所列|所述|所指|所规定|之规定|中的|中规定|关于|以外|以内"
    r"|[和与及]第|或者第)"
)
_OPENERS = "【〔[（("  # an article's own subject title (条旨) right after 第N条
_SENTENCE_END = "。；;：:，,"
_SPACES = re.compile(r"\s+")
_BETWEEN_HAN = re.compile(r"(?<=[\u3400-\u9fff]) (?=[\u3400-\u9fff])")
_TOC_TAIL = re.compile(r"[.．…·・\-—_\s\d]+$")  # leader dots and page numbers in a 目录

PART, SUBPART, CHAPTER, SECTION = "编", "分编", "章", "节"
LEVELS = (PART, SUBPART, CHAPTER, SECTION)


@dataclass(frozen=True)
class Article:
    """One 条: its number (None only for a draft with no 第X条 at all), the headings above it
    outermost first, and its whole text, "第N条" kept at the start; `sub` is M of an inserted
    第N条之M, 0 for an ordinary article."""

    number: int | None
    heading_path: tuple[str, ...]
    text: str
    sub: int = 0


@dataclass(frozen=True)
class DraftStructure:
    """What a draft is made of, as counted from its text."""

    parts: int  # 编
    chapters: int  # 章
    sections: int  # 节
    items: int  # 项 lines （一）（二）… inside the articles
    articles: tuple[Article, ...]
    preamble: str  # before the first heading or article: title, 题注; the 目录 removed
    appendix: str  # from the line starting 附： / 附件 / 附表 … after the articles, to the end
    gaps: tuple[int, ...]  # numbers missing between the lowest and the highest (之M aside)
    duplicates: tuple[int, ...]  # numbers that occur more than once (之M aside)

    @property
    def has_articles(self) -> bool:
        """False when the draft is one text (no 第X条 in it)."""
        return any(article.number is not None for article in self.articles)

    @property
    def first(self) -> int | None:
        return self.articles[0].number if self.has_articles else None

    @property
    def last(self) -> int | None:
        return self.articles[-1].number if self.has_articles else None

    def as_json(self) -> dict[str, object]:
        """What `python -m bot consultations split FILE` prints; an inserted 第N条之M has
        "number": N and one more key, "sub": M."""
        return {
            "parts": self.parts,
            "chapters": self.chapters,
            "sections": self.sections,
            "articles": len(self.articles),
            "first": self.first,
            "last": self.last,
            "items": self.items,
            "articles_list": [_article_json(a) for a in self.articles],
        }


def _article_json(article: Article) -> dict[str, object]:
    shown: dict[str, object] = {
        "number": article.number,
        "heading_path": list(article.heading_path),
        "text": article.text,
    }
    if article.sub:
        shown["sub"] = article.sub
    return shown


def split_draft(text: str) -> DraftStructure:
    """Split a draft's text into its structure; DomainError("draft.empty") when there is
    nothing in it to read."""
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if not any(lines):
        raise DomainError("draft.empty")
    toc = _table_of_contents(lines)
    reader = _Reader()
    for index, line in enumerate(lines):
        if not line or index in toc:
            continue
        if reader.in_articles and _APPENDIX.match(line):
            reader.appendix = [rest for rest in lines[index:] if rest]
            break
        reader.read(line)
    return reader.structure(lines)


def article_label(number: int | None, texts: Texts, sub: int = 0) -> str:
    """ "第一千零七十九条" / "Article 1079", and with `sub` "第一百二十条之一" / "Article 120-1";
    the whole text when the draft has no articles."""
    if number is None:
        return texts("draft.whole_text")
    chinese = texts.locale.startswith("zh")
    numeral = cn2an.an2cn(number) if chinese else str(number)
    if sub:
        return texts("draft.article_sub", number=numeral, sub=cn2an.an2cn(sub) if chinese else sub)
    return texts("draft.article", number=numeral)


def preview(structure: DraftStructure, texts: Texts) -> str:
    """What staff read before anything is saved, one fact a line: "6 章、7 节、120 条，第一条 …
    第一百二十条", then the numbering's gaps and duplicates and whether there is an appendix;
    or that the draft will be one text."""
    if not structure.has_articles:
        length = sum(len(article.text) for article in structure.articles)
        return texts("draft.preview_one_text", count=texts.number(length))
    units = (
        (structure.parts, "draft.parts_one", "draft.parts_many"),
        (structure.chapters, "draft.chapters_one", "draft.chapters_many"),
        (structure.sections, "draft.sections_one", "draft.sections_many"),
        (len(structure.articles), "draft.articles_one", "draft.articles_many"),
    )
    counts = [
        texts(one if count == 1 else many, count=texts.number(count))
        for count, one, many in units
        if count or one == "draft.articles_one"
    ]
    lines = [
        texts(
            "draft.preview",
            counts=texts("draft.separator").join(counts),
            first=_label(structure.articles[0], texts),
            last=_label(structure.articles[-1], texts),
        )
    ]
    for numbers, few, many in (
        (structure.gaps, "draft.gaps", "draft.gaps_more"),
        (structure.duplicates, "draft.duplicates", "draft.duplicates_more"),
    ):
        if numbers:
            named = texts("draft.separator").join(
                article_label(number, texts) for number in numbers[:LIST_MAX]
            )
            if len(numbers) > LIST_MAX:
                lines.append(texts(many, articles=named, count=texts.number(len(numbers))))
            else:
                lines.append(texts(few, articles=named))
    if structure.appendix:
        lines.append(texts("draft.appendix"))
    return "\n".join(lines)


def article_body(text: str) -> str:
    """An article's text without the "第N条" or "第N条之M" it opens with (Chinese or Arabic
    numerals), for where its label is shown apart: "第12条　施行。" → "施行。". Text that
    opens with no article heading is returned whole."""
    text = text.strip()
    match = _ARTICLE.match(text)
    if match is None or _article_token(text) is None:
        return text
    return match.group(3).strip()


def _label(article: Article, texts: Texts) -> str:
    return article_label(article.number, texts, article.sub)


def heading_level(heading: str) -> str | None:
    """The level (编, 分编, 章 or 节) of a heading as the splitter wrote it ("第一章 总则"),
    read with the splitter's own numerals; None for 附则 and anything else."""
    match = _HEADING.match(heading.strip())
    if match is None or _number(match.group(1)) is None:
        return None
    return match.group(2)


# --- reading lines ---------------------------------------------------------------------------


def _number(numeral: str) -> int | None:
    """第 … 条's number: Arabic digits (full-width too) or a Chinese numeral through cn2an;
    None when it is neither, or too large to number an article."""
    if numeral.isdecimal():
        value = int(numeral)
    elif any(char.isdecimal() for char in numeral):
        return None  # digits mixed with Chinese numerals: not a number a law writes
    else:
        try:
            value = int(cn2an.cn2an(numeral, "strict"))
        except ValueError:
            return None
    return value if 0 < value <= MAX_NUMBER else None


def _title(raw: str) -> str:
    """A heading's title with its spacing tidied: "总　　则" → "总则"."""
    return _BETWEEN_HAN.sub("", _SPACES.sub(" ", raw).strip())


@dataclass(frozen=True)
class _Heading:
    level: str | None  # one of LEVELS; None for the unnumbered 附则
    text: str  # "第一章 总则"

    @property
    def key(self) -> str:
        """What a 目录 entry and the body's heading share: no spaces, no page number."""
        return _TOC_TAIL.sub("", _SPACES.sub("", self.text))


def _heading(line: str) -> _Heading | None:
    if _CLOSING.fullmatch(line):
        return _Heading(None, "附则")
    match = _HEADING.match(line)
    if match is None or _number(match.group(1)) is None:
        return None
    numeral, level, rest = match.groups()
    title = rest.strip()
    if len(title) > MAX_TITLE or (title and title[-1] in _SENTENCE_END) or "。" in title:
        return None
    if rest and not rest[0].isspace() and _REFERENCE.match(rest):
        return None
    token = f"第{numeral}{level}"
    return _Heading(level, f"{token} {_title(title)}" if title else token)


def _article_token(line: str) -> tuple[int, int] | None:
    """The article `line` begins, if it begins one (see the module's docstring): its number
    and its 之M (0 when there is none)."""
    match = _ARTICLE.match(line)
    if match is None:
        return None
    number = _number(match.group(1))
    if number is None:
        return None
    sub = 0
    if match.group(2) is not None:
        sub = _number(match.group(2)) or 0
        if not 0 < sub <= MAX_SUB:
            return None  # 之零, 之一百, 之十十: no insertion is numbered so
    rest = match.group(3)
    if not rest or rest[0].isspace() or rest[0] in _OPENERS:
        return number, sub
    return None if _REFERENCE.match(rest) else (number, sub)


def _table_of_contents(lines: list[str]) -> set[int]:
    """Indexes of the 目录's lines (marker and entries), before the first article."""
    first_article = next(
        (i for i, line in enumerate(lines) if line and _article_token(line) is not None),
        len(lines),
    )
    marker = next((i for i, line in enumerate(lines[:first_article]) if _TOC.fullmatch(line)), None)
    headings = [
        (i, heading.key)
        for i, line in enumerate(lines[:first_article])
        if line and (heading := _heading(line)) is not None
    ]
    if marker is not None:
        headings = [(i, key) for i, key in headings if i > marker]
    if not headings:
        return {marker} if marker is not None else set()
    first_index, first_key = headings[0]
    again = next((i for i, key in headings[1:] if key == first_key), None)
    if again is None:
        if marker is None:
            return set()
        # no entry comes again: the body's headings are the run right above the first article
        again = first_article
        while again - 1 > marker and (not lines[again - 1] or _heading(lines[again - 1])):
            again -= 1
    start = marker if marker is not None else first_index
    return set(range(start, again))


@dataclass
class _Reader:
    """Reads the body's lines in order and keeps what it has seen."""

    path: dict[str, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    articles: list[Article] = field(default_factory=list)
    preamble: list[str] = field(default_factory=list)
    appendix: list[str] = field(default_factory=list)
    number: int | None = None  # of the article being read
    sub: int = 0  # its 之M
    body: list[str] = field(default_factory=list)  # its lines
    untitled: str | None = None  # a heading's level whose title is on the next line

    @property
    def in_articles(self) -> bool:
        return bool(self.articles or self.body)

    def read(self, line: str) -> None:
        heading = _heading(line)
        if heading is not None:
            self._close()
            self._enter(heading)
            return
        token = _article_token(line)
        if token is not None:
            self._close()
            (self.number, self.sub), self.body, self.untitled = token, [line], None
            return
        if self.untitled is not None:
            level, self.untitled = self.untitled, None
            if len(line) <= MAX_TITLE:
                self.path[level] = f"{self.path[level]} {_title(line)}"
                return
        if self.body:
            self.body.append(line)
        elif self.articles:
            # text between a heading and the next article stays with the article before it
            last = self.articles[-1]
            self.articles[-1] = replace(last, text=f"{last.text}\n{line}")
        else:
            self.preamble.append(line)

    def _enter(self, heading: _Heading) -> None:
        self.untitled = None
        if heading.level is None:
            self.path = {PART: heading.text}  # 附则 closes the code at its top level
            return
        depth = LEVELS.index(heading.level)
        self.path = {level: self.path[level] for level in LEVELS[:depth] if level in self.path}
        self.path[heading.level] = heading.text
        self.counts[heading.level] += 1
        if " " not in heading.text:
            self.untitled = heading.level

    def _close(self) -> None:
        if self.body:
            path = tuple(self.path[level] for level in LEVELS if level in self.path)
            self.articles.append(Article(self.number, path, "\n".join(self.body), self.sub))
        self.number, self.sub, self.body = None, 0, []

    def structure(self, lines: list[str]) -> DraftStructure:
        self._close()
        if not self.articles:
            whole = "\n".join(line for line in lines if line)
            return DraftStructure(
                parts=0,
                chapters=0,
                sections=0,
                items=_items([whole]),
                articles=(Article(None, (), whole),),
                preamble="",
                appendix="",
                gaps=(),
                duplicates=(),
            )
        # an inserted 第N条之M fills no gap and repeats no number: only 第N条 are counted
        numbers = [a.number for a in self.articles if a.number is not None and not a.sub]
        seen = Counter(numbers)
        missing = set(range(min(numbers), max(numbers) + 1)) - set(numbers) if numbers else set()
        return DraftStructure(
            parts=self.counts[PART],
            chapters=self.counts[CHAPTER],
            sections=self.counts[SECTION],
            items=_items(a.text for a in self.articles),
            articles=tuple(self.articles),
            preamble="\n".join(self.preamble),
            appendix="\n".join(self.appendix),
            gaps=tuple(sorted(missing)),
            duplicates=tuple(sorted(n for n, times in seen.items() if times > 1)),
        )


def _items(texts: Iterable[str]) -> int:
    return sum(1 for text in texts for line in text.split("\n") if _ITEM.match(line))
