"""A notice file (.docx, .pdf, .html, .txt, .md) → the lines of its text, for the one notice parser.

The bureau receives the same family of document in whatever form the office sends: a Word file, a
PDF printed from it, the page on the government site, or a copy pasted into a text file. Each
format is read by a maintained library (python-docx, pdfminer.six, lxml) and reduced to plain lines,
each with the place the clerk can find it (第12行, 第40段, 第3页); everything about numbered items,
headings and 责任单位 is left to notice.py, so the five formats cannot drift apart. What a reader
cannot know (a scanned PDF without a text layer, an old .doc) is a clear Chinese error.
"""

from __future__ import annotations

import codecs
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.errors import LedgerError
from toolkit.ledger.notice import NUMERALS, Line, text_lines
from toolkit.ledger.pdftext import read_pdf

HEADING_MARK = "# "  # what notice.py reads as markup of a heading line
LEADERS_HEADER, UNITS_HEADER = "责任领导", "责任单位"
_NUMBER_HEADERS = ("序号", "编号", "任务编号")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Source:
    path: Path
    data: bytes  # the file as received, for the ledger's 来源SHA-256
    lines: list[Line]


def read_source(path: Path) -> Source:
    """The notice at path as lines of text; LedgerError (Chinese) for anything it cannot read."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise LedgerError(
            f"不支持的通知格式“{path.suffix or path.name}”：请用 Word 或 WPS 另存为 .docx（或 .pdf、.html、.txt）后再导入"
        )
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LedgerError(f"找不到任务分解通知 {path}") from exc
    return Source(path, data, reader(path, data))


# --- plain text ------------------------------------------------------------------------------------


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Windows Notepad's “Unicode”), else GB18030."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise LedgerError("通知文本既不是 UTF-8 也不是 GBK/GB18030 编码，请用记事本另存为 UTF-8 后再导入")


def _text(path: Path, data: bytes) -> list[Line]:
    return text_lines(decode_text(data))


# --- tables (Word and web pages alike) -----------------------------------------------------------


def _compact(text: str) -> str:
    return _SPACES.sub("", text)


def table_lines(rows: list[list[str]], where: str) -> list[Line]:
    """A table (one text per grid cell, merged cells repeated) as notice lines. A task table, whose
    header row names 责任单位, becomes the items it lists ("N. 任务", "责任领导：…", "责任单位：…"),
    a row with one text across it a heading; any other table is its cells' text, row by row."""
    rows = [[cell.strip() for cell in row] for row in rows]
    header_at = next((r for r, row in enumerate(rows) if UNITS_HEADER in map(_compact, row)), None)
    if header_at is None:
        return [Line(text, where) for row in rows for cell in dict.fromkeys(row) for text in cell.splitlines()]
    header = [_compact(cell) for cell in rows[header_at]]
    labelled = (*_NUMBER_HEADERS, LEADERS_HEADER, UNITS_HEADER)
    found: list[Line] = []
    for row in rows[header_at + 1 :]:
        if len({cell for cell in row if cell}) <= 1:  # empty, or a merged heading across the row
            found += [Line(text, where) for text in next((c for c in row if c), "").splitlines()]
            continue
        cells = dict(zip(header, row, strict=False))
        number = next((cells[h] for h in _NUMBER_HEADERS if cells.get(h)), "")
        content = "".join(text for h, text in cells.items() if h not in labelled)
        found.append(Line(f"{number}. {content}" if number.isdigit() else content, where))
        found += [Line(f"{label}：{cells[label]}", where) for label in labelled[-2:] if cells.get(label)]
    return found


# --- Word ------------------------------------------------------------------------------------------


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _chinese(n: int) -> str:
    """1 → 一, 12 → 十二, 25 → 二十五 (Word's chineseCounting, up to 99)."""
    tens, ones = divmod(n, 10)
    if n < 10:
        return NUMERALS[n - 1]
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


class _Numbering:
    """Word's automatic numbering: a paragraph typed "1. " is often stored as a numbered list whose
    number is not in the text at all. This recreates the label Word shows (1. / 1、 / 一、)."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[str, tuple[int, str, str]]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError):
            return
        abstract = {}
        for node in root.iter(f"{_W}abstractNum"):
            levels = {}
            for lvl in node.iter(f"{_W}lvl"):
                start, fmt, text = lvl.find(f"{_W}start"), lvl.find(f"{_W}numFmt"), lvl.find(f"{_W}lvlText")
                levels[lvl.get(f"{_W}ilvl")] = (
                    int(start.get(f"{_W}val")) if start is not None else 1,
                    fmt.get(f"{_W}val") if fmt is not None else "decimal",
                    text.get(f"{_W}val") if text is not None else "",
                )
            abstract[node.get(f"{_W}abstractNumId")] = levels
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{_W}numId")] = abstract.get(ref.get(f"{_W}val"), {})

    def label(self, paragraph: Any, style: Any) -> str:
        """The number Word shows before this paragraph (its own list, else its style's), or ""."""
        num_pr = None
        for holder in (paragraph._p, getattr(style, "element", None)):
            props = holder.find(f"{_W}pPr") if holder is not None else None
            num_pr = props.find(f"{_W}numPr") if props is not None else None
            if num_pr is not None:
                break
        if num_pr is None:
            return ""
        num_id, level = num_pr.find(f"{_W}numId"), num_pr.find(f"{_W}ilvl")
        num = num_id.get(f"{_W}val") if num_id is not None else ""
        ilvl = int(level.get(f"{_W}val")) if level is not None else 0
        levels = self.levels.get(num, {})
        if str(ilvl) not in levels or levels[str(ilvl)][1] in ("bullet", "none"):
            return ""
        counters = self.counters.setdefault(num, {})
        counters[ilvl] = counters.get(ilvl, levels[str(ilvl)][0] - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        text = levels[str(ilvl)][2]
        for k in range(ilvl + 1):
            start, fmt, _ = levels.get(str(k), (1, "decimal", ""))
            value = counters.get(k, start)
            shown = _chinese(value) if fmt.startswith(("chinese", "ideograph", "japanese")) else str(value)
            text = text.replace(f"%{k + 1}", shown)
        return text


def _is_heading(paragraph: Any, style: Any) -> bool:
    """A Heading/标题 style or outline level, or a paragraph set entirely in bold."""
    name = getattr(style, "name", "") or ""
    props = paragraph._p.find(f"{_W}pPr")
    if name.lower().startswith(("heading", "title", "标题")) or (
        props is not None and props.find(f"{_W}outlineLvl") is not None
    ):
        return True
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold for run in runs)


def _docx(path: Path, data: bytes) -> list[Line]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError) as exc:
        raise LedgerError(f"无法读取 Word 文件 {path.name}：{exc}。请确认它是 .docx 格式且未损坏") from exc
    numbering = _Numbering(document)
    # Paragraph.style looks the default style up anew for every paragraph: slow on a long notice.
    styles = {style.style_id: style for style in document.styles}
    found: list[Line] = []
    for n, block in enumerate(document.iter_inner_content(), start=1):
        where = f"第{n}段"
        if isinstance(block, Table):
            rows = [["\n".join(p.text for p in cell.paragraphs) for cell in row.cells] for row in block.rows]
            found += table_lines(rows, f"第{n}段（表格）")
            continue
        text = block.text
        style = styles.get(block._p.style)
        if label := numbering.label(block, style):
            text = f"{label} {text}"
        if _is_heading(block, style) and text.strip():
            text = HEADING_MARK + text
        found += [Line(part, where) for part in text.split("\n")]
    return found


# --- web pages -------------------------------------------------------------------------------------

_CHARSET = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SKIPPED = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form",
            "select", "button", "iframe", "head")  # fmt: skip
_BLOCKS = {"p", "div", "li", "ul", "ol", "dl", "dt", "dd", "section", "article", "main", "blockquote",
           "pre", "hr", "tr", "td", "th", "center", "address", "figure", "figcaption", "body"}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


def decode_html(data: bytes) -> str:
    """BOM or valid UTF-8 first, then the page's own <meta charset> (GB2312 read as its superset
    GB18030), then GB18030: Chinese government sites still serve GBK pages."""
    if data.startswith((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return decode_text(data)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _CHARSET.search(data[:4096])
    name = declared[1].decode("ascii").lower() if declared else "gb18030"
    if name in ("gb2312", "gbk", "x-gbk", "gb_2312-80"):
        name = "gb18030"
    try:
        return data.decode(name)
    except (LookupError, UnicodeDecodeError):
        return data.decode("gb18030", errors="replace")


class _Page:
    """Walks the page: block elements end a line, <br> ends a line, headings and wholly bold
    paragraphs are marked, tables go through table_lines."""

    def __init__(self) -> None:
        self.lines: list[Line] = []
        self.buffer: list[str] = []
        self.where = "第1行"

    def flush(self) -> None:
        for part in "".join(self.buffer).split("\n"):
            if part.strip():
                self.lines.append(Line(part.strip(), self.where))
        self.buffer = []

    def inline(self, text: str | None) -> None:
        if text:
            self.buffer.append(_SPACES.sub(" ", text.replace("\xa0", " ")))

    def visit(self, element: Any) -> None:
        tag = element.tag.lower() if isinstance(element.tag, str) else ""
        if tag in _BLOCKS or tag in _HEADINGS or tag in ("br", "table"):
            self.flush()
            self.where = f"第{element.sourceline or 1}行"
        if tag == "br":
            pass
        elif tag == "table":
            self.lines += table_lines(_grid(element), self.where)
        elif tag in _HEADINGS or (tag == "p" and _wholly_bold(element)):
            text = _SPACES.sub(" ", element.text_content()).strip()
            if text:
                self.lines.append(Line(HEADING_MARK + text, self.where))
        elif tag:
            self.inline(element.text)
            for child in element:
                self.visit(child)
            if tag in _BLOCKS:
                self.flush()
        self.inline(element.tail)


def _cell_text(cell: Any) -> str:
    page = _Page()
    page.visit(cell)
    page.flush()
    return "\n".join(line.text for line in page.lines)


def _grid(table: Any) -> list[list[str]]:
    """The table's rows with colspan and rowspan spread over the grid, as Word's cells come."""
    grid: list[list[str]] = []
    below: dict[int, tuple[int, str]] = {}  # column → (rows still covered, text) of a rowspan

    def carry(row: list[str]) -> None:
        while len(row) in below:
            left, text = below.pop(len(row))
            if left > 1:
                below[len(row)] = (left - 1, text)
            row.append(text)

    for tr in table.xpath("./tr|./thead/tr|./tbody/tr|./tfoot/tr"):
        row: list[str] = []
        for cell in tr.xpath("./th|./td"):
            carry(row)
            text = _cell_text(cell)
            down, across = _span(cell, "rowspan"), _span(cell, "colspan")
            for _ in range(across):
                if down > 1:
                    below[len(row)] = (down - 1, text)
                row.append(text)
        carry(row)
        grid.append(row)
    return grid


def _span(cell: Any, name: str) -> int:
    value = str(cell.get(name, "1")).strip()
    return min(int(value), 50) if value.isdigit() and int(value) > 0 else 1


def _wholly_bold(element: Any) -> bool:
    text = _compact(element.text_content())
    bold = "".join(_compact(b.text_content()) for b in element.xpath(".//strong|.//b"))
    return bool(text) and text == bold


def _html(path: Path, data: bytes) -> list[Line]:
    import lxml.html
    from lxml import etree

    text = _XML_DECLARATION.sub("", decode_html(data))
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise LedgerError(f"无法读取网页 {path.name}：{exc}") from exc
    for element in root.xpath("|".join(f"//{tag}" for tag in _SKIPPED)):
        element.drop_tree()
    page = _Page()
    page.visit(root)
    page.flush()
    return page.lines


READERS: dict[str, Callable[[Path, bytes], list[Line]]] = {
    ".docx": _docx,
    ".pdf": read_pdf,
    ".html": _html,
    ".htm": _html,
    ".txt": _text,
    ".md": _text,
}
