"""A lean xlsx writer for the receipts: the few xlsxwriter calls a receipt makes, each cell's XML made as it is written.

At 1,000 units the receipts were about half of a merge's worker time, most of it inside xlsxwriter:
its cell tuples, its format bookkeeping, its packager and its many small XML writers, for workbooks
that use a dozen cell formats and no feature beyond text, numbers, merged paragraphs, comments and
print setup. Book and Sheet implement exactly that subset of xlsxwriter's Workbook and Worksheet API
(what outputs/receipts.py and the outputs/sheets.py helpers it calls use), with xlsxwriter's rules
where a reader could tell: strings escaped as xlsxwriter escapes them (control characters as
_xHHHH_, a literal _x0041_ as _x005F_x0041_), cut at 32,767 UTF-16 units, never rich text, never a
formula; a comment longer than that dropped; column widths, row heights and the comment boxes'
anchors in xlsxwriter's pixels. The cell formats are xlsxwriter's own: styles.xml and each format's
index come from a workbook xlsxwriter builds once per process with the same formats in the same
order (_styles). The bytes are not xlsxwriter's (no spans, one shared-string order, styles of every
format made); tests/test_leanxlsx.py reads receipts written both ways with openpyxl and calamine and
compares what a reader sees.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from typing import Any

import xlsxwriter
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, quote_sheetname
from xlsxwriter.xmlwriter import XMLwriter

from toolkit.leanparts import (
    HEAD,
    MAIN,
    REL,
    ROW_PX,
    comments_xml,
    core,
    custom,
    escape,
    package_parts,
    rels,
    vml,
)
from toolkit.xlsxparts import SHORT, SPECIAL, STRMAX, column, write_zip

_PROPERTIES: dict[str, dict[str, Any]] = {}  # a format's repr → its properties (a receipt has ten formats)


@functools.lru_cache(maxsize=64)
def _styles(formats: tuple[str, ...], comments: bool) -> tuple[bytes, bytes, tuple[int, ...]]:
    """styles.xml, theme1.xml and each format's index, from a workbook xlsxwriter writes with these
    formats (the repr of their properties), each used once in this order: its fonts, fills,
    borders and alignments exactly (and the comments' font, when there are comments)."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    ws = wb.add_worksheet()
    made = [wb.add_format(_PROPERTIES[key]) for key in formats]
    for row, fmt in enumerate(made):
        ws.write_blank(row, 0, None, fmt)
    if comments:
        ws.write_comment(0, 0, "")
    wb.close()
    with zipfile.ZipFile(buffer) as package:
        return (package.read("xl/styles.xml"), package.read("xl/theme/theme1.xml"),
                tuple(fmt.xf_index for fmt in made))


class Format:
    """A cell format of one Book: its index in styles.xml, and the attribute a cell carries for it."""

    __slots__ = ("style", "xf")

    def __init__(self, xf: int) -> None:
        self.xf, self.style = xf, f' s="{xf}"'


class Sheet:
    """The Worksheet calls a receipt makes; cells rendered as they are written."""

    def __init__(self, book: Book, name: str) -> None:
        self.book, self.name = book, name
        self.rows: dict[int, dict[int, str]] = {}
        self.strings = 0  # string cells written
        self.heights: dict[int, int] = {}  # pixels, as xlsxwriter keeps them
        self.widths: dict[int, int] = {}
        self.comments: dict[tuple[int, int], tuple[str, float, float]] = {}
        self.merged: list[str] = []
        self.frozen = 0
        self.orientation = "portrait"
        self.paper = 0
        self.fit: tuple[int, int] | None = None
        self.titles: tuple[int, int] | None = None
        self.margins = (0.7, 0.7, 0.75, 0.75)
        self.header = self.footer = ""
        self.filter: str | None = None

    # Each writer renders its cell at once (the three are alike rather than sharing a helper: a call
    # per cell is a tenth of a receipt's time).
    def write_string(self, row: int, col: int, string: str, cell_format: Format | None = None) -> int:
        if not string:
            return self.write_blank(row, col, None, cell_format)
        if len(string) > SHORT and _utf16_len(string) > STRMAX:
            string = _utf16_truncate(string, STRMAX)
        strings = self.book.strings
        index = strings.get(string)
        if index is None:
            index = strings[string] = len(strings)
        self.strings += 1
        style = "" if cell_format is None else cell_format.style
        self.rows.setdefault(row, {})[col] = f'<c r="{column(col)}{row + 1}"{style} t="s"><v>{index}</v></c>'
        return 0

    def write_number(self, row: int, col: int, number: float, cell_format: Format | None = None) -> int:
        style = "" if cell_format is None else cell_format.style
        self.rows.setdefault(row, {})[col] = f'<c r="{column(col)}{row + 1}"{style}><v>{number:.16G}</v></c>'
        return 0

    def write_blank(self, row: int, col: int, blank: Any, cell_format: Format | None = None) -> int:
        if cell_format is not None:  # a blank cell without a format is no cell (xlsxwriter's rule)
            self.rows.setdefault(row, {})[col] = f'<c r="{column(col)}{row + 1}"{cell_format.style}/>'
        return 0

    def merge_range(self, first_row: int, first_col: int, last_row: int, last_col: int, data: str,
                    cell_format: Format | None = None) -> int:
        self.merged.append(f"{column(first_col)}{first_row + 1}:{column(last_col)}{last_row + 1}")
        for row in range(first_row, last_row + 1):
            for col in range(first_col, last_col + 1):
                self.write_blank(row, col, None, cell_format)
        return self.write_string(first_row, first_col, data, cell_format)

    def set_column(self, first_col: int, last_col: int, width: float) -> None:
        pixels = 0 if width == 0 else int(width * 12 + 0.5) if width < 1 else int(width * 7 + 0.5) + 5
        for col in range(first_col, last_col + 1):
            self.widths[col] = pixels

    def set_row(self, row: int, height: float) -> None:
        self.heights[row] = int(height * 4.0 / 3.0 + 0.5)

    def write_comment(self, row: int, col: int, comment: str, options: dict[str, float] | None = None) -> int:
        if _utf16_len(comment) > STRMAX:  # xlsxwriter drops such a comment
            return -2
        options = options or {}
        self.comments[(row, col)] = (comment, options.get("x_scale", 1), options.get("y_scale", 1))
        return 0

    def freeze_panes(self, row: int, col: int = 0) -> None:
        if col:
            raise ValueError("only rows are frozen in a receipt")
        self.frozen = row

    def set_portrait(self) -> None:
        self.orientation = "portrait"

    def set_landscape(self) -> None:
        self.orientation = "landscape"

    def set_paper(self, paper: int) -> None:
        self.paper = paper

    def fit_to_pages(self, width: int, height: int) -> None:
        self.fit = (width, height)

    def repeat_rows(self, first_row: int, last_row: int | None = None) -> None:
        self.titles = (first_row, first_row if last_row is None else last_row)

    def set_margins(self, left: float = 0.7, right: float = 0.7, top: float = 0.75, bottom: float = 0.75) -> None:
        self.margins = (left, right, top, bottom)

    def set_header(self, header: str) -> None:
        self.header = header

    def set_footer(self, footer: str) -> None:
        self.footer = footer

    def autofilter(self, first_row: int, first_col: int, last_row: int, last_col: int) -> None:
        self.filter = f"{column(first_col)}{first_row + 1}:{column(last_col)}{last_row + 1}"

    # --- at close ---------------------------------------------------------------------------------

    def defined_names(self, index: int) -> list[tuple[str, int, str, bool]]:
        """(name, sheet index, formula, hidden) of the autofilter and the print titles."""
        sheet = quote_sheetname(self.name)
        names = []
        if self.filter:
            absolute = re.sub(r"([A-Z]+)(\d+)", r"$\1$\2", self.filter)
            names.append(("_xlnm._FilterDatabase", index, f"{sheet}!{absolute}", True))
        if self.titles:
            names.append(("_xlnm.Print_Titles", index, f"{sheet}!${self.titles[0] + 1}:${self.titles[1] + 1}", False))
        return names

    def xml(self, selected: bool, has_comments: bool) -> str:
        rows = sorted(self.rows.keys() | self.heights.keys())
        used = [*(r for r, _ in self.comments), *rows[:1], *rows[-1:]] or [0]
        cols = [*(c for _, c in self.comments), *(min(cells) for cells in self.rows.values()),
                *(max(cells) for cells in self.rows.values())] or [0]
        dimension = f"{column(min(cols))}{min(used) + 1}:{column(max(cols))}{max(used) + 1}"
        out = [HEAD, f'<worksheet xmlns="{MAIN}" xmlns:r="{REL}">']
        if self.fit:
            out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
        out.append(f'<dimension ref="{dimension if dimension != "A1:A1" else "A1"}"/><sheetViews><sheetView')
        out.append(' tabSelected="1"' if selected else "")
        if self.frozen:
            out.append(f' workbookViewId="0"><pane ySplit="{self.frozen}" topLeftCell="A{self.frozen + 1}" '
                       'activePane="bottomLeft" state="frozen"/><selection pane="bottomLeft"/></sheetView>')
        else:
            out.append(' workbookViewId="0"/>')
        out.append('</sheetViews><sheetFormatPr defaultRowHeight="15"/>')
        out.append(self._cols())
        out.append("<sheetData>")
        for row in rows:
            cells = self.rows.get(row, {})
            pixels = self.heights.get(row, ROW_PX)
            tag = f'<row r="{row + 1}"' + (f' ht="{pixels * 0.75:.16g}" customHeight="1"' if pixels != ROW_PX else "")
            out.append(tag + ">" + "".join([cells[col] for col in sorted(cells)]) + "</row>" if cells else tag + "/>")
        out.append("</sheetData>")
        if self.filter:
            out.append(f'<autoFilter ref="{self.filter}"/>')
        if self.merged:
            out.append(f'<mergeCells count="{len(self.merged)}">'
                       + "".join(f'<mergeCell ref="{ref}"/>' for ref in self.merged) + "</mergeCells>")
        left, right, top, bottom = self.margins
        out.append(f'<pageMargins left="{left}" right="{right}" top="{top}" bottom="{bottom}" header="0.3" footer="0.3"/>')
        fit = ""
        if self.fit:
            fit = (f' fitToWidth="{self.fit[0]}"' if self.fit[0] != 1 else "") + (
                f' fitToHeight="{self.fit[1]}"' if self.fit[1] != 1 else "")
        paper = f' paperSize="{self.paper}"' if self.paper else ""
        out.append(f'<pageSetup{paper}{fit} orientation="{self.orientation}"/>')
        if self.header or self.footer:
            out.append("<headerFooter>" + (f"<oddHeader>{escape(self.header)}</oddHeader>" if self.header else "")
                       + (f"<oddFooter>{escape(self.footer)}</oddFooter>" if self.footer else "") + "</headerFooter>")
        if has_comments:
            out.append('<legacyDrawing r:id="rId1"/>')
        out.append("</worksheet>")
        return "".join(out)

    def _cols(self) -> str:
        if not self.widths:
            return ""
        out, cols = [], sorted(self.widths)
        start = cols[0]
        for prev, col in zip(cols, [*cols[1:], None], strict=True):
            if col is not None and col == prev + 1 and self.widths[col] == self.widths[start]:
                continue
            width = (self.widths[start] * 256 // 7) / 256.0
            out.append(f'<col min="{start + 1}" max="{prev + 1}" width="{width:.16g}" customWidth="1"/>')
            start = col
        return "<cols>" + "".join(out) + "</cols>"



class Book:
    """The Workbook calls a receipt makes. options are xlsxwriter's constructor options: whatever
    they say, every string is written as text, never a formula, a link or a number."""

    def __init__(self, target: io.BytesIO, options: dict[str, Any] | None = None) -> None:
        self.target = target
        self.sheets: list[Sheet] = []
        self.formats: dict[str, Format] = {}
        self.strings: dict[str, int] = {}
        self.properties: dict[str, Any] = {}
        self.custom: list[tuple[str, str]] = []

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        key = repr(properties or {})
        fmt = self.formats.get(key)
        if fmt is None:
            fmt = self.formats[key] = Format(len(self.formats) + 1)
            _PROPERTIES.setdefault(key, dict(properties or {}))
        return fmt

    def add_worksheet(self, name: str) -> Sheet:
        sheet = Sheet(self, name)
        self.sheets.append(sheet)
        return sheet

    def set_properties(self, properties: dict[str, Any]) -> None:
        self.properties |= properties

    def set_custom_property(self, name: str, value: str) -> None:
        self.custom.append((name, value))

    def close(self) -> None:
        styles, theme, indices = _styles(tuple(self.formats), any(sheet.comments for sheet in self.sheets))
        if indices != tuple(fmt.xf for fmt in self.formats.values()):
            # two formats made from different properties that xlsxwriter finds equal: numbered apart here
            raise RuntimeError("leanxlsx: xlsxwriter numbered these formats otherwise")
        names = tuple(sorted((name for index, sheet in enumerate(self.sheets) for name in sheet.defined_names(index)),
                             key=lambda n: (n[0].removeprefix("_xlnm.").lower(), n[2])))  # xlsxwriter's order
        parts: list[tuple[str, str | bytes]] = [*package_parts(
            tuple(sheet.name for sheet in self.sheets), names, sum(bool(sheet.comments) for sheet in self.sheets),
            self.properties.get("company", "")), ("docProps/core.xml", core(self.properties))]
        data_id, shape_id, number = 1, 1024, 0
        for index, sheet in enumerate(self.sheets, start=1):
            parts.append((f"xl/worksheets/sheet{index}.xml", sheet.xml(index == 1, bool(sheet.comments))))
            if sheet.comments:
                number += 1
                blocks = (1024 + len(sheet.comments)) // 1024
                ids = ",".join(str(data_id + i) for i in range(blocks))
                parts += [(f"xl/worksheets/_rels/sheet{index}.xml.rels", rels([
                    ("vmlDrawing", f"../drawings/vmlDrawing{number}.vml"), ("comments", f"../comments{number}.xml")])),
                    (f"xl/comments{number}.xml", comments_xml(sheet.comments)),
                    (f"xl/drawings/vmlDrawing{number}.vml", vml(sheet.comments, sheet.widths, sheet.heights, ids,
                                                                shape_id))]
                data_id, shape_id = data_id + blocks, shape_id + 1024 * blocks
        parts += [("xl/theme/theme1.xml", theme), ("xl/styles.xml", styles), ("xl/sharedStrings.xml", self._strings()),
                  ("docProps/custom.xml", custom(self.custom))]
        write_zip(self.target, [(name, data.encode("utf-8") if isinstance(data, str) else data)
                                for name, data in parts], False)

    def _strings(self) -> str:
        out = [f'{HEAD}<sst xmlns="{MAIN}" count="{sum(sheet.strings for sheet in self.sheets)}" uniqueCount="{len(self.strings)}">']
        for string in self.strings:
            if SPECIAL.search(string):
                string = XMLwriter._escape_control_characters(string)
                space = ' xml:space="preserve"' if _preserve_whitespace(string) else ""
                out.append(f"<si><t{space}>{string.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}"
                           "</t></si>")
            else:
                out.append(f"<si><t>{string}</t></si>")
        return "".join(out) + "</sst>"

