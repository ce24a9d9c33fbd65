"""Splitting a 1,260-article code, with checks that can fail.

The bench builds a synthetic civil code of the 民法典's shape (7 编, 分编 in two of them, 84
章, 节 in some chapters, 1,260 条 with 项, then an unnumbered 附则 and an appendix), its
headings written with cn2an.an2cn, a 目录 at the top and the lines that trip a naive splitter
inside the articles: paragraphs that begin with a reference ("第一百零五条规定的情形…"),
references in the middle of a line, articles glued to their text ("第十七条本编…"). It knows
every count, number, heading path and text on its own, splits the code with
`bot.services.draft_split.split_draft`, and compares. `--break KIND` corrupts the input the
way a draft can be wrong, to show a check failing.

Timing: the median of `--runs` splits, next to a baseline from the same run (a bare regex
scan of the same text for article-shaped lines, no structure, no numbers); reading the code
from .txt bytes and from a .docx (python-docx) is timed too, for information.

Run from the project root:  .venv/bin/python -m bench.bench_split  (--help for options)
Exit status 1 when a check fails, 0 otherwise.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import cn2an
from docx import Document

from bot.services.draft_files import draft_text
from bot.services.draft_split import DraftStructure, split_draft

# (编 title, 分编 titles or (), chapters, articles) in the 民法典's proportions: 1,258
# articles in the seven parts, then 2 in the unnumbered 附则
PARTS = (
    ("总则", (), 10, 204),
    ("物权", ("通则", "所有权", "用益物权", "担保物权", "占有"), 20, 258),
    ("合同", ("通则", "典型合同", "准合同"), 29, 526),
    ("人格权", (), 6, 51),
    ("婚姻家庭", (), 5, 79),
    ("继承", (), 4, 45),
    ("侵权责任", (), 10, 95),
)
CLOSING_ARTICLES = 2
TITLE = "中华人民共和国某某法典（草案）"
ANNOTATION = "（2026年征求意见稿）"
APPENDIX = ("附件：术语表", "第一条 本表所称“以上”包括本数。", "二、其他术语从略。")

BREAKS = {
    "drop-article": "one article loses its 第N条 heading and runs on into the article before",
    "drop-chapter": "one chapter heading line is missing",
    "duplicate": "one article carries the number of the article before it",
}


@dataclass
class Truth:
    """The code as the bench wrote it."""

    lines: list[str] = field(default_factory=list)
    articles: list[tuple[int, tuple[str, ...], str]] = field(default_factory=list)
    parts: int = 0
    chapters: int = 0
    sections: int = 0
    items: int = 0

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def numeral(number: int) -> str:
    return str(cn2an.an2cn(number))


def article_lines(number: int, rng: random.Random) -> list[str]:
    """One article: its heading line and its paragraphs, with the lines that look like
    headings and are not."""
    glued = number % 17 == 0
    head = f"第{numeral(number)}条{'' if glued else '　'}本条规定第{number}项制度的适用范围。"
    head += "有关单位和个人应当依照法律、行政法规的规定履行相应义务，维护社会公共利益。"
    lines = [head]
    if number % 7 == 0:
        lines.append("有下列情形之一的，依照本条处理：")
        lines += [f"（{numeral(i)}）第{numeral(i)}种情形；" for i in range(1, rng.randint(2, 6))]
    if number % 11 == 0 and number > 5:
        lines.append(f"第{numeral(number - 3)}条规定的情形，依照前款规定处理。")
    if number % 13 == 0:
        lines.append(f"依照本法第{numeral(number + 2)}条规定的程序办理。")
    if number % 5 == 0:
        lines.append("前款规定以外的事项，由国务院规定。")
    return lines


def build(seed: int) -> Truth:
    """The code, every line of it, and what the bench knows about it."""
    rng = random.Random(seed)
    truth = Truth(lines=[TITLE, ANNOTATION, "", "目　　录"])
    body: list[str] = []
    number = 0
    for p, (part, subparts, chapters, articles) in enumerate(PARTS, start=1):
        part_heading = f"第{numeral(p)}编　{part}"
        truth.lines.append(part_heading)
        body += ["", part_heading]
        truth.parts += 1
        per_subpart = max(1, chapters // max(1, len(subparts)))
        shares = [
            articles // chapters + (1 if c < articles % chapters else 0) for c in range(chapters)
        ]
        subpart_heading = None
        for c in range(1, chapters + 1):
            if subparts and (c - 1) % per_subpart == 0 and (c - 1) // per_subpart < len(subparts):
                s = (c - 1) // per_subpart
                subpart_heading = f"第{numeral(s + 1)}分编　{subparts[s]}"
                truth.lines.append(f"　{subpart_heading}")
                body.append(subpart_heading)
            chapter_heading = f"第{numeral(c)}章　第{numeral(p)}编的第{numeral(c)}部分"
            truth.lines.append(f"　　{chapter_heading}")
            body.append(chapter_heading)
            truth.chapters += 1
            sections = rng.choice((0, 0, 0, 2, 3, 4))
            in_chapter = shares[c - 1]
            groups = [in_chapter // sections + (i < in_chapter % sections) for i in range(sections)]
            above = [f"第{numeral(p)}编 {part}", _spaced(subpart_heading)]
            path_above = (*[h for h in above if h], _spaced(chapter_heading))
            if not sections:
                groups = [in_chapter]
            for g, size in enumerate(groups, start=1):
                path = path_above
                if sections:
                    section_heading = f"第{numeral(g)}节　一般规定之{numeral(g)}"
                    truth.lines.append(f"　　　{section_heading}")
                    body.append(section_heading)
                    truth.sections += 1
                    path = (*path_above, _spaced(section_heading))
                for _ in range(size):
                    number += 1
                    lines = article_lines(number, rng)
                    body += [f"　　{line}" for line in lines]
                    truth.articles.append((number, path, "\n".join(lines)))
                    truth.items += sum(1 for line in lines if line.startswith("（"))
    truth.lines.append("附　　则")
    body += ["", "附　　则"]
    for _ in range(CLOSING_ARTICLES):
        number += 1
        lines = article_lines(number, rng)
        body += [f"　　{line}" for line in lines]
        truth.articles.append((number, ("附则",), "\n".join(lines)))
        truth.items += sum(1 for line in lines if line.startswith("（"))
    truth.lines += [*body, "", *APPENDIX]
    return truth


def _spaced(heading: str | None) -> str:
    """A heading as the splitter gives it in a path: one ASCII space after the number."""
    return heading.replace("　", " ") if heading else ""


def corrupt(truth: Truth, kind: str) -> str:
    """The code's text with one fault of `kind` (the truth is left as it was)."""
    lines = list(truth.lines)
    if kind == "drop-article":
        target = f"第{numeral(700)}条　"
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(target))
        lines[index] = lines[index].replace(target, "", 1)
    elif kind == "drop-chapter":
        first_part = f"第一编　{PARTS[0][0]}"
        body = lines.index(first_part, lines.index(first_part) + 1)  # past the 目录
        index = next(i for i in range(body, len(lines)) if lines[i].startswith("第五章"))
        del lines[index]
    elif kind == "duplicate":
        target = f"第{numeral(903)}条"  # spaced: a glued one would read as text
        index = next(i for i, line in enumerate(lines) if line.strip().startswith(target))
        lines[index] = lines[index].replace(target, f"第{numeral(902)}条", 1)
    return "\n".join(lines)


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def checks(truth: Truth, found: DraftStructure) -> list[Check]:
    """Everything the bench knows, against what the splitter found."""
    expected_numbers = [number for number, _, _ in truth.articles]
    found_numbers = [a.number for a in found.articles]
    wrong_numbers = [
        (i, e, f)
        for i, (e, f) in enumerate(zip(expected_numbers, found_numbers, strict=False))
        if e != f
    ]
    paths = {n: p for n, p, _ in truth.articles}
    wrong_paths = [a.number for a in found.articles if paths.get(a.number or 0) != a.heading_path]
    texts = {n: t for n, _, t in truth.articles}
    wrong_texts = [a.number for a in found.articles if texts.get(a.number or 0) != a.text]
    counts = {
        "parts": (truth.parts, found.parts),
        "chapters": (truth.chapters, found.chapters),
        "sections": (truth.sections, found.sections),
        "articles": (len(truth.articles), len(found.articles)),
        "items": (truth.items, found.items),
        "first": (expected_numbers[0], found.first),
        "last": (expected_numbers[-1], found.last),
    }
    off = {name: pair for name, pair in counts.items() if pair[0] != pair[1]}
    return [
        Check(
            "counts (编, 章, 节, 条, 项, first, last)",
            not off,
            ", ".join(f"{name} {e}" for name, (e, _) in counts.items())
            if not off
            else "; ".join(f"{name}: expected {e}, found {f}" for name, (e, f) in off.items()),
        ),
        Check(
            "every article number, in order",
            not wrong_numbers and len(found_numbers) == len(expected_numbers),
            f"{len(expected_numbers)} numbers"
            if not wrong_numbers and len(found_numbers) == len(expected_numbers)
            else f"{len(wrong_numbers)} differ; first (index, expected, found) {wrong_numbers[:3]}",
        ),
        Check(
            "every heading path",
            not wrong_paths,
            "all right"
            if not wrong_paths
            else f"{len(wrong_paths)} wrong, first: {wrong_paths[:5]}",
        ),
        Check(
            "every article's text",
            not wrong_texts,
            "all right"
            if not wrong_texts
            else f"{len(wrong_texts)} wrong, first: {wrong_texts[:5]}",
        ),
        Check(
            "no gaps or duplicates",
            not found.gaps and not found.duplicates,
            f"gaps {list(found.gaps)[:5]}, duplicates {list(found.duplicates)[:5]}",
        ),
        Check(
            "preamble without the 目录, appendix",
            found.preamble == f"{TITLE}\n{ANNOTATION}" and found.appendix == "\n".join(APPENDIX),
            f"preamble {found.preamble[:40]!r}…, appendix {found.appendix[:12]!r}…",
        ),
    ]


def timed(run: Callable[[], object], runs: int) -> list[float]:
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - started)
    return seconds


BASELINE = re.compile(r"^\s*第[零一二三四五六七八九十百千万]+条", re.MULTILINE)


def docx_of(text: str) -> bytes:
    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.bench_split",
        description=__doc__.splitlines()[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="--break kinds:\n" + "\n".join(f"  {k:<14} {v}" for k, v in BREAKS.items()),
    )
    parser.add_argument("--runs", type=int, default=21, help="splits timed (the median counts)")
    parser.add_argument("--seed", type=int, default=2026, help="where sections fall")
    parser.add_argument("--max-seconds", type=float, default=1.0, help="the limit on the median")
    parser.add_argument("--break", dest="breaking", choices=sorted(BREAKS), default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    truth = build(args.seed)
    text = corrupt(truth, args.breaking) if args.breaking else truth.text
    if args.breaking:
        print(f"--break {args.breaking}: {BREAKS[args.breaking]}")
    print(
        f"the code: {len(truth.articles):,} articles, {truth.parts} 编, {truth.chapters} 章, "
        f"{truth.sections} 节, {truth.items:,} 项; {len(text):,} characters, "
        f"{text.count(chr(10)) + 1:,} lines"
    )

    found = split_draft(text)
    split_times = timed(lambda: split_draft(text), args.runs)
    baseline_times = timed(lambda: len(BASELINE.findall(text)), args.runs)
    data = text.encode("utf-8")
    docx = docx_of(text)
    txt_times = timed(
        lambda: draft_text(data, "code.txt", 20 * 1024 * 1024), max(3, args.runs // 4)
    )
    docx_times = timed(lambda: draft_text(docx, "code.docx", 20 * 1024 * 1024), 3)

    median = statistics.median(split_times)
    base = statistics.median(baseline_times)
    print()
    print(f"{'run':<44}{'runs':>6}{'median ms':>11}{'min ms':>9}{'max ms':>9}")
    for name, seconds in (
        ("split_draft (the structure)", split_times),
        ("baseline: bare regex scan for 第N条 lines", baseline_times),
        (f"draft_text of the .txt ({len(data) / 1e6:.1f} MB)", txt_times),
        (f"draft_text of a .docx ({len(docx) / 1e6:.1f} MB)", docx_times),
    ):
        print(
            f"{name:<44}{len(seconds):>6}{statistics.median(seconds) * 1e3:>11.1f}"
            f"{min(seconds) * 1e3:>9.1f}{max(seconds) * 1e3:>9.1f}"
        )
    print(
        f"split {median * 1e3:.1f} ms, baseline {base * 1e3:.1f} ms, ratio {median / base:.1f}"
        f"   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )

    results = [
        *checks(truth, found),
        Check(
            f"split in under {args.max_seconds:g} s",
            median < args.max_seconds,
            f"median {median * 1e3:.1f} ms",
        ),
    ]
    print()
    for check in results:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name}: {check.detail}")
    failed = [c for c in results if not c.passed]
    print(f"{len(results) - len(failed)} of {len(results)} checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
