"""The bureau's notice (Markdown extracted from a printed page) → raw task items.

The notice is the only source of the ledger, and it was extracted from a scanned layout: page
breaks split words and unit names across blank lines, headings carry mixed markup and mixed
full-/half-width brackets, two-character names are padded with a space. This module undoes those
artefacts so the ledger holds the text the office meant, and reports what it cannot decide (a
stray English word) as warnings for the clerk instead of guessing. It knows nothing of Excel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from toolkit.problems import WARNING, Issue

LEADERS_LABEL = "责任领导"
UNITS_LABEL = "责任单位"
NUMERALS = "一二三四五六七八九十"

_HEADING_MARKUP = re.compile(r"^#+\s*")
_BOLD = "**"
_CATEGORY = re.compile(rf"^([{NUMERALS}]+)\s*、\s*(\S.*)$")
_SECTION = re.compile(rf"^[（(]\s*([{NUMERALS}]+)\s*[)）]\s*(\S.*)$")
_ITEM = re.compile(r"^(\d+)\.(?!\d)\s*(.*)$")
_FIELD = re.compile(rf"^({LEADERS_LABEL}|{UNITS_LABEL})\s*[：:]\s*(.*)$")
_END = re.compile(r"^-{3,}$")
_WIDE = r"[^\x00-\x7f]"
# A lowercase Latin word standing alone between Chinese characters: "企业 and 科技".
_STRAY_WORD = re.compile(rf"(?<={_WIDE})\s+([a-z]+)\s+(?={_WIDE})")
_SPACES = re.compile(r"\s+")
_HEADING_PUNCT = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})


@dataclass(frozen=True)
class RawItem:
    """One numbered item of the notice, text repaired, units not yet interpreted."""

    no: int
    category: str  # 一、主要预期目标 / 二、全年重点工作
    section: str  # （一）坚持制造立市，…; items of part 一 carry the category itself
    content: str
    leaders: tuple[str, ...]
    units_text: str
    line: int  # 1-based line of the notice where the item starts


@dataclass
class ParsedNotice:
    items: list[RawItem]
    issues: list[Issue] = field(default_factory=list)


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


def _heading(line: str) -> str | None:
    """The text of a heading line (# markup, or a line entirely in bold), else None."""
    stripped = line.strip()
    if _HEADING_MARKUP.match(stripped):
        return clean_text(_HEADING_MARKUP.sub("", stripped))
    if stripped.startswith(_BOLD) and stripped.endswith(_BOLD) and stripped.count(_BOLD) == 2:
        return clean_text(stripped)
    return None


def _section_title(text: str) -> str | None:
    match = _SECTION.match(text)
    if not match:
        return None
    return f"（{match[1]}）{match[2].translate(_HEADING_PUNCT)}"


def _category_title(text: str) -> str | None:
    match = _CATEGORY.match(text)
    if not match or "。" in text:
        return None
    return f"{match[1]}、{match[2]}"


@dataclass
class _Draft:
    no: int
    category: str
    section: str
    line: int
    parts: dict[str, list[str]] = field(
        default_factory=lambda: {"content": [], LEADERS_LABEL: [], UNITS_LABEL: []}
    )
    current: str = "content"

    def finish(self, issues: list[Issue]) -> RawItem:
        content = clean_text("".join(self.parts["content"]))
        leaders_text = clean_text("".join(self.parts[LEADERS_LABEL]))
        units_text = clean_text("".join(self.parts[UNITS_LABEL]))
        leaders = tuple(_SPACES.sub("", name) for name in leaders_text.split("、") if name.strip())
        for label, value in ((LEADERS_LABEL, leaders_text), (UNITS_LABEL, units_text)):
            if not value:
                issues.append(
                    _warning(
                        "notice_field_missing",
                        f"第{self.no}项（通知第{self.line}行）缺少“{label}”，请在总台账中补上",
                    )
                )
        for text in (content, units_text):
            for word in stray_words(text):
                issues.append(
                    _warning(
                        "notice_stray_latin",
                        f"第{self.no}项（通知第{self.line}行）中夹有英文单词“{word}”：“{_context(text, word)}”，"
                        f"疑为“和”，已原样保留，请在总台账中核定",
                    )
                )
        return RawItem(self.no, self.category, self.section, content, leaders, units_text, self.line)


def _context(text: str, word: str, width: int = 8) -> str:
    at = text.index(f" {word} ")
    return text[max(0, at - width) : at + len(word) + 2 + width]


def _warning(code: str, message: str) -> Issue:
    return Issue(WARNING, code, "", None, message)


def parse_notice(text: str) -> ParsedNotice:
    """Parse the attachment of the notice: part headings, section headings and numbered items.

    Items start at the first part heading (一、…) so the numbered rules in the covering letter
    are not mistaken for tasks, and end at the first horizontal rule (the 主办/抄送 footer).
    """
    items: list[RawItem] = []
    issues: list[Issue] = []
    category = section = ""
    draft: _Draft | None = None

    def close() -> None:
        nonlocal draft
        if draft is not None:
            items.append(draft.finish(issues))
            draft = None

    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        heading = _heading(stripped)
        if heading is not None and (title := _category_title(heading)):
            close()
            category = section = title
            continue
        if not category:
            continue
        if _END.match(stripped):
            close()
            break
        if heading is not None and (title := _section_title(heading)):
            close()
            section = title
            continue
        if item := _ITEM.match(stripped):
            close()
            draft = _Draft(int(item[1]), category, section, number)
            draft.parts["content"].append(item[2])
            continue
        if draft is None:
            continue
        bare = stripped.replace(_BOLD, "")
        if field_match := _FIELD.match(bare):
            draft.current = field_match[1]
            draft.parts[draft.current].append(field_match[2])
        else:
            draft.parts[draft.current].append(stripped)
    close()
    issues.extend(_numbering_issues(items))
    return ParsedNotice(items, issues)


def _numbering_issues(items: list[RawItem]) -> list[Issue]:
    """Items are numbered 1…N without gaps; anything else means the text lost or repeated a line."""
    found: list[Issue] = []
    for expected, item in enumerate(items, start=1):
        if item.no != expected:
            found.append(
                _warning(
                    "notice_numbering",
                    f"通知第{item.line}行的任务编号为 {item.no}，按顺序应为 {expected}，请核对原文是否缺漏或重复",
                )
            )
            break
    return found
