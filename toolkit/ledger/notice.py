"""The bureau's notice (lines of text from any of its formats) → raw task items.

The notice is the only source of the ledger, and it reaches the bureau as a Word file, a PDF, a web
page or a Markdown copy extracted from a printed page. sources.py reduces each to lines; this module
is the one parser after them, so every format gives the same items. It relies on the wording of the
document family, never on one format's markup: part headings 一、…, section headings （一）…, items
"1." / "1、" / "1．", then 责任领导 and 责任单位 lines. Page breaks split words and unit names across
lines, headings carry mixed markup and mixed full-/half-width brackets, two-character names are
padded with a space: this module undoes those artefacts so the ledger holds the text the office
meant, and reports what it cannot decide (a stray English word, a line that belongs to no item, a
gap in the numbering) for the clerk instead of guessing. It knows nothing of Excel.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from toolkit.problems import WARNING, Issue

LEADERS_LABEL = "责任领导"
UNITS_LABEL = "责任单位"
NUMERALS = "一二三四五六七八九十"
HEADING_MAX = 50  # a heading is a short line; a longer one is text that happens to start like one

_HEADING_MARKUP = re.compile(r"^#+\s*")
_BOLD = "**"
_CATEGORY = re.compile(rf"^([{NUMERALS}]+)\s*、\s*(\S.*)$")
_SECTION = re.compile(rf"^[（(]\s*([{NUMERALS}]+)\s*[)）]\s*(\S.*)$")
_ITEM = re.compile(r"^(\d+)\s*[.．、](?!\d)\s*(.*)$")
_FIELD = re.compile(r"(责\s*任\s*领\s*导|责\s*任\s*单\s*位)\s*[：:]\s*")
_FIELD_BEFORE = " \t\u3000；;。"  # a second label on the same line follows a space or a semicolon
# The attachment that holds the items starts at a line reading 附件 (附 件, 附件1) alone.
_ATTACHMENT = re.compile(r"^附\s*件\s*\d*$")
# The end: a Markdown rule, or the 版记 (主办/抄送… lines, the 印发 date) closing the document.
_END = re.compile(r"^(-{3,}|(主办|督办|承办|抄送|发送)\s*[：:].*|.*\d+\s*月\s*\d+\s*日\s*印发)$")
_PAGE_NUMBER = re.compile(r"^[-－—–]+\s*\d+\s*[-－—–]+$|^第\s*\d+\s*页(\s*[，,/]?\s*共\s*\d+\s*页)?$")
_SENTENCE_END = "。！？；"
_CLOSERS = "”’）)」』"
_WIDE = r"[^\x00-\x7f]"
# A lowercase Latin word standing alone between Chinese characters: "企业 and 科技".
_STRAY_WORD = re.compile(rf"(?<={_WIDE})\s+([a-z]+)\s+(?={_WIDE})")
_SPACES = re.compile(r"\s+")
_HEADING_PUNCT = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})


@dataclass(frozen=True)
class Line:
    """One line of the notice and where the clerk finds it in the file (第12行, 第40段, 第3页)."""

    text: str
    where: str


def text_lines(text: str) -> list[Line]:
    return [Line(line, f"第{n}行") for n, line in enumerate(text.splitlines(), start=1)]


@dataclass(frozen=True)
class RawItem:
    """One numbered item of the notice, text repaired, units not yet interpreted."""

    no: int
    category: str  # 一、主要预期目标 / 二、全年重点工作
    section: str  # （一）坚持制造立市，…; items of part 一 carry the category itself
    content: str
    leaders: tuple[str, ...]
    units_text: str
    where: str  # where in the notice the item starts (第12行, 第40段, 第3页)


@dataclass
class ParsedNotice:
    items: list[RawItem]
    issues: list[Issue] = field(default_factory=list)
    unplaced: list[Line] = field(default_factory=list)  # text between headings that belongs to no item

    @property
    def in_order(self) -> bool:
        """Items numbered 1…N, each once, in order."""
        return [i.no for i in self.items] == list(range(1, len(self.items) + 1))

    @property
    def missing(self) -> list[int]:
        present = {i.no for i in self.items}
        return sorted(set(range(1, max(present, default=0) + 1)) - present)

    @property
    def repeated(self) -> list[int]:
        return sorted(no for no, n in Counter(i.no for i in self.items).items() if n > 1)


def _remove_spaces(text: str) -> str:
    """Drop whitespace that touches a Chinese character; keep one space between Latin words."""

    def repl(match: re.Match[str]) -> str:
        before = text[match.start() - 1] if match.start() else ""
        after = text[match.end()] if match.end() < len(text) else ""
        if before and after and before.isascii() and after.isascii():
            return " "
        return ""

    return _SPACES.sub(repl, text)


def clean_text(text: str) -> str:
    """Bold markers and layout whitespace removed; a stray Latin word keeps its spaces so the
    clerk still sees it as a separate word."""
    text = text.replace(_BOLD, "").strip()
    pieces: list[str] = []
    last = 0
    for match in _STRAY_WORD.finditer(text):
        pieces.append(_remove_spaces(text[last : match.start()]))
        pieces.append(f" {match[1]} ")
        last = match.end()
    pieces.append(_remove_spaces(text[last:]))
    return "".join(pieces)


def stray_words(text: str) -> list[str]:
    """Latin words inside Chinese text (after clean_text), e.g. the " and " meant as 和."""
    return [m[1] for m in _STRAY_WORD.finditer(text)]


def _unmarked(line: str) -> str:
    """A line without heading markup (# …) or bold markers: the parser reads words, not markup."""
    return _HEADING_MARKUP.sub("", line.strip()).replace(_BOLD, "").strip()


def _heading(text: str) -> tuple[str, str] | None:
    """("category", "一、主要预期目标") or ("section", "（一）坚持…") for a heading line, else None.
    A heading is short and is not a sentence; its brackets and punctuation become full-width."""
    text = clean_text(text)
    if len(text) > HEADING_MAX or "。" in text:
        return None
    if match := _CATEGORY.match(text):
        return "category", f"{match[1]}、{match[2]}"
    if match := _SECTION.match(text):
        return "section", f"（{match[1]}）{match[2].translate(_HEADING_PUNCT)}"
    return None


@dataclass
class _Draft:
    no: int
    category: str
    section: str
    where: str
    parts: dict[str, list[str]] = field(
        default_factory=lambda: {"content": [], LEADERS_LABEL: [], UNITS_LABEL: []}
    )
    current: str = "content"

    def add(self, text: str) -> None:
        """A line of the item: text continuing the current field, or one or more labelled fields
        (责任领导：… 责任单位：… may share a line)."""
        labels = [m for m in _FIELD.finditer(text) if m.start() == 0 or text[m.start() - 1] in _FIELD_BEFORE]
        if not labels or labels[0].start():
            self.parts[self.current].append(text)
            return
        for label, following in zip(labels, [*labels[1:], None], strict=True):
            self.current = _SPACES.sub("", label[1])
            value = text[label.end() : following.start()] if following else text[label.end() :]
            self.parts[self.current].append(value.rstrip(_FIELD_BEFORE + "，,") if following else value)

    def mid_sentence(self) -> bool:
        """Still inside the item's first sentence: a line here that looks like a heading is the
        sentence continuing after a page break, not a heading."""
        text = "".join(self.parts["content"]).strip().rstrip(_CLOSERS)
        return self.current == "content" and not text.endswith(tuple(_SENTENCE_END))

    def finish(self) -> RawItem:
        content = clean_text("".join(self.parts["content"]))
        leaders_text = clean_text("".join(self.parts[LEADERS_LABEL]))
        units_text = clean_text("".join(self.parts[UNITS_LABEL]))
        leaders = tuple(_SPACES.sub("", name) for name in leaders_text.split("、") if name.strip())
        return RawItem(self.no, self.category, self.section, content, leaders, units_text, self.where)


def _context(text: str, word: str, width: int = 8) -> str:
    at = text.index(f" {word} ")
    return text[max(0, at - width) : at + len(word) + 2 + width]


def _warning(code: str, message: str) -> Issue:
    return Issue(WARNING, code, "", None, message)


def parse_notice(text: str) -> ParsedNotice:
    """Parse the notice as plain or Markdown text (第N行 is its line number)."""
    return parse_lines(text_lines(text))


def _starts(lines: Sequence[Line]) -> list[int]:
    """Where the items may begin: after the line 附件 (the attachment holds them; the covering
    letter's own numbered rules are not tasks), and at the first part heading 一、… (or at the top
    of a bare list of items)."""
    texts = [_unmarked(line.text) for line in lines]
    starts = [n + 1 for n, text in enumerate(texts) if _ATTACHMENT.match(_SPACES.sub("", text))][:1]
    parts = [n for n, text in enumerate(texts) if (heading := _heading(text)) and heading[0] == "category"]
    return [*starts, parts[0] if parts else 0]


def parse_lines(lines: Sequence[Line]) -> ParsedNotice:
    """Parse the notice: part headings, section headings and numbered items, up to the 版记
    (主办/抄送), a horizontal rule, or a next 附件. Read from each possible start (_starts), the
    reading whose items are numbered 1…N wins, then the one with more items: the tasks may be in the
    attachment after a covering letter with numbered rules, or in the body with a list of forms
    attached after them."""
    readings = [_parse_from(lines[start:]) for start in dict.fromkeys(_starts(lines))]
    parsed = max(readings, key=lambda reading: (reading.in_order, len(reading.items)))
    parsed.issues = _item_issues(parsed.items) + _numbering_issues(parsed.items)
    return parsed


def _parse_from(lines: Sequence[Line]) -> ParsedNotice:
    parsed = ParsedNotice([])
    category = section = ""
    draft: _Draft | None = None
    placing = False  # after the first heading or item: text outside an item is then reported

    def close() -> None:
        nonlocal draft
        if draft is not None:
            parsed.items.append(draft.finish())
            draft = None

    for line in lines:
        text = _unmarked(line.text)
        if not text or _PAGE_NUMBER.match(text):
            continue
        if _END.match(text) or ((parsed.items or draft) and _ATTACHMENT.match(_SPACES.sub("", text))):
            break
        heading = _heading(text)
        if heading is not None and not (draft is not None and draft.mid_sentence()):
            close()
            placing = True
            kind, title = heading
            if kind == "category":
                category = section = title
            else:
                section = title
            continue
        if item := _ITEM.match(text):
            close()
            placing = True
            draft = _Draft(int(item[1]), category, section, line.where)
            draft.add(item[2])
        elif draft is not None:
            draft.add(text)
        elif placing:
            parsed.unplaced.append(Line(text, line.where))
    close()
    return parsed


def _item_issues(items: list[RawItem]) -> list[Issue]:
    """What the clerk must look at, item by item. A missing 责任领导 is worth a warning only in a
    notice that names leaders elsewhere; some notices name none at all."""
    found: list[Issue] = []
    uses_leaders = any(item.leaders for item in items)
    for item in items:
        for label, value in ((LEADERS_LABEL, item.leaders), (UNITS_LABEL, item.units_text)):
            if not value and (label == UNITS_LABEL or uses_leaders):
                found.append(
                    _warning(
                        "notice_field_missing",
                        f"第{item.no}项（通知{item.where}）缺少“{label}”，请在总台账中补上",
                    )
                )
        for text in (item.content, item.units_text):
            for word in stray_words(text):
                found.append(
                    _warning(
                        "notice_stray_latin",
                        f"第{item.no}项（通知{item.where}）中夹有英文单词“{word}”：“{_context(text, word)}”，"
                        f"疑为“和”，已原样保留，请在总台账中核定",
                    )
                )
    return found


def _numbering_issues(items: list[RawItem]) -> list[Issue]:
    """Items are numbered 1…N without gaps; anything else means the text lost or repeated a line."""
    found: list[Issue] = []
    for expected, item in enumerate(items, start=1):
        if item.no != expected:
            found.append(
                _warning(
                    "notice_numbering",
                    f"通知{item.where}的任务编号为 {item.no}，按顺序应为 {expected}，请核对原文是否缺漏或重复",
                )
            )
            break
    return found
