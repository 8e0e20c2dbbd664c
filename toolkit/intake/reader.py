"""A returned workbook → Submission: the cells the validator needs, located by header text.

python-calamine reads .xlsx, .xls and .ods fast and gives each formula's cached value, which is
what the unit saw. It cannot tell which cells hold formulas or are percent-formatted, so for .xlsx
those two facts come from the sheet XML, parsed (with defusedxml) only when the bytes show a
formula or a progress value could be a percent-formatted fraction. Units move columns and insert
rows, so tables are found by their header text, not by fixed positions; judging what was moved is
validate.py's job. Work is bounded: a sheet spanning more than Limits.max_cells cells is refused
before calamine builds it, and only the expected rows plus a margin are turned into Python values.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.handler import ContentHandler

from defusedxml import ElementTree
from defusedxml.expatreader import DefusedExpatParser

from toolkit.forms import layout
from toolkit.intake.files import Limits
from toolkit.intake.normalize import as_text, compact
from toolkit.problems import Cell

HEADER_SEARCH_ROWS = 20  # the header row is looked for in this many top rows
_MIN_HEADER_MATCHES = 3  # known headers a row needs to count as the table's header
_OTHER_SHEETS = (layout.SHEET_GUIDE, layout.SHEET_INDICATORS, layout.SHEET_META, layout.SHEET_LISTS)


class SheetTooLarge(Exception):
    """A sheet spans more cells than Limits.max_cells: refused before it is loaded. rows × cols
    is the range it spans; cells, when set, is the number of cells holding something (a sheet
    can hold too many without naming where they are)."""

    def __init__(self, sheet: str, rows: int, cols: int, cells: int | None = None) -> None:
        super().__init__(f"{sheet}: {rows} × {cols}" + (f", {cells} cells" if cells is not None else ""))
        self.sheet, self.rows, self.cols, self.cells = sheet, rows, cols, cells


class UnsafeXml(ValueError):
    """A workbook part declares a DTD."""


@dataclass(frozen=True)
class Row:
    row: int  # Excel row number
    values: dict[str, Any]  # layout column key → raw cell value ("" when empty)


@dataclass
class Table:
    """A header-led table as found in the file."""

    sheet: str  # the sheet it was read from (may be a renamed one)
    header_row: int
    columns: dict[str, int]  # layout key → 1-based column where it was found
    renamed: dict[str, str]  # key → the different header text found at its layout position
    extra_headers: dict[int, str]  # column → header text not in the layout
    rows: list[Row]  # non-blank rows below the header, down to read_to
    read_to: int  # last Excel row read: the header row + expected rows + Limits.row_margin
    last_row: int  # last Excel row holding a value anywhere in the sheet
    formulas: set[Cell] = field(default_factory=set)  # cells holding formulas
    percent: set[Cell] = field(default_factory=set)  # percent-formatted cells

    def cell(self, key: str, row: int) -> Cell:
        """A key's cell in an Excel row, wherever the column was moved."""
        return layout.cell(row, self.columns.get(key, 0) or 1)


@dataclass
class Submission:
    path: Path
    format: str
    sheet_names: list[str]
    meta: dict[str, str] | None  # _meta key → value; None when the sheet is absent
    unit_line: str  # the 填报单位：… text, "" when not found
    period_line: str  # the 报告期：… text
    filler: dict[str, tuple[Cell, Any]]  # 填报人/联系电话/单位负责人/填报日期 → (cell, raw value)
    progress: Table | None
    indicators: Table | None
    details_known: bool  # formulas and number formats are visible (xlsx); not for xls/ods


def read(path: Path, fmt: str, limits: Limits, expected_rows: int, expected_indicators: int = 0) -> Submission:
    """Read path (format as sniffed: xlsx, xls or ods). Raises on a file that cannot be parsed
    (calamine errors, bad zip members, XML with a DTD) and SheetTooLarge; the caller turns those
    into issues."""
    from python_calamine import CalamineWorkbook

    parts = _XlsxParts(path, limits) if fmt == "xlsx" else None
    if fmt == "ods":
        check_ods_extent(path, limits)
    # from_filelike judges the format from the content; from_path trusts the extension, and a
    # unit's .xls may well be called .xlsx.
    with (
        contextlib.closing(parts) if parts else contextlib.nullcontext(),
        open(path, "rb") as fh,
        CalamineWorkbook.from_filelike(fh) as wb,
    ):
        names = list(wb.sheet_names)

        def load(name: str, nrows: int) -> tuple[list[list[Any]], int]:
            if parts:
                parts.check_extent(name)
            sheet = wb.get_sheet_by_name(name)
            last = sheet.end[0] + 1 if sheet.end else 0
            return sheet.to_python(skip_empty_area=False, nrows=nrows), last

        meta = None
        if layout.SHEET_META in names:
            meta_rows, _ = load(layout.SHEET_META, len(layout.META_KEYS) + 20)
            meta = {as_text(r[0]): as_text(r[1]) for r in meta_rows if len(r) >= 2 and as_text(r[0])}

        progress = indicators = None
        top: list[list[Any]] = []
        for name in _progress_candidates(names):
            grid, last = load(name, HEADER_SEARCH_ROWS + expected_rows + limits.row_margin)
            table = _table(name, grid, last, layout.PROGRESS_COLUMNS, expected_rows + limits.row_margin)
            if table is not None:
                progress, top = table, grid[: table.header_row]
                break
        if layout.SHEET_INDICATORS in names:
            grid, last = load(layout.SHEET_INDICATORS, HEADER_SEARCH_ROWS + expected_indicators + limits.row_margin)
            indicators = _table(
                layout.SHEET_INDICATORS, grid, last, layout.INDICATOR_COLUMNS, expected_indicators + limits.row_margin
            )
        if parts:
            for table, key in ((progress, "progress"), (indicators, "value")):
                if table is not None:
                    parts.add_details(table, key)
    return Submission(
        path=path,
        format=fmt,
        sheet_names=names,
        meta=meta,
        unit_line=_line_starting(top, "填报单位"),
        period_line=_line_starting(top, "报告期"),
        filler=_filler(top),
        progress=progress,
        indicators=indicators,
        details_known=parts is not None,
    )


def _progress_candidates(names: list[str]) -> list[str]:
    """进展填报 first; then any other sheet, in case the unit renamed it or pasted the table into a
    new workbook (Sheet1)."""
    others = [n for n in names if n not in _OTHER_SHEETS and n != layout.SHEET_PROGRESS]
    return ([layout.SHEET_PROGRESS] if layout.SHEET_PROGRESS in names else []) + others


def _table(
    sheet: str, grid: list[list[Any]], last_row: int, columns: tuple[layout.Column, ...], max_rows: int
) -> Table | None:
    """Locate the header row and every column by header text, and read at most max_rows rows
    below it; None when no header is found."""
    wanted = {compact(c.header): c.key for c in columns}
    header_row = None
    for index, values in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if sum(compact(v) in wanted for v in values) >= _MIN_HEADER_MATCHES:
            header_row = index + 1
            break
    if header_row is None:
        return None
    headers = {col: as_text(v).strip() for col, v in enumerate(grid[header_row - 1], start=1) if as_text(v).strip()}
    found = {}
    for col, text in headers.items():
        key = wanted.get(compact(text))
        if key is not None and key not in found:
            found[key] = col
    renamed = {}
    for position, column in enumerate(columns, start=1):
        text = headers.get(position, "")
        if column.key not in found and text and compact(text) not in wanted and position not in found.values():
            found[column.key], renamed[column.key] = position, text
    extra = {col: text for col, text in headers.items() if col not in found.values()}

    rows = []
    read_to = min(header_row + max_rows, len(grid))
    for index in range(header_row, read_to):
        values = grid[index]
        if any(v.strip() if isinstance(v, str) else v is not None for v in values):
            cells = {key: values[col - 1] if col - 1 < len(values) else "" for key, col in found.items()}
            rows.append(Row(index + 1, cells))
    return Table(sheet, header_row, found, renamed, extra, rows, header_row + max_rows, last_row)


def _line_starting(top: list[list[Any]], prefix: str) -> str:
    for values in top:
        for value in values:
            text = as_text(value).strip()
            if compact(text).startswith(prefix):
                return text
    return ""


def _filler(top: list[list[Any]]) -> dict[str, tuple[Cell, Any]]:
    """The value right of each filler label, found wherever the label is above the table."""
    labels = {label for label, _, _ in layout.FILLER_FIELDS}
    filler: dict[str, tuple[Cell, Any]] = {}
    for r, values in enumerate(top, start=1):
        for c, value in enumerate(values, start=1):
            label = compact(value).rstrip(":：")
            if label in labels and label not in filler:
                filler[label] = (layout.cell(r, c + 1), values[c] if c < len(values) else "")
    return filler


# --- ods extent ---------------------------------------------------------------------------------

_ODS_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_ODS_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_ODS_CELLS = ("table-cell", "covered-table-cell")


class _OdsExtent(ContentHandler):
    """Measures each table of an ODS content.xml as python-calamine will expand it. An ODS row or
    cell may say "repeat me a million times" (number-rows-repeated, number-columns-repeated):
    LibreOffice writes that for empty trailing rows, a crafted file for cells with text, and a
    few hundred bytes then expand to billions of cells. Empty repeats do not count."""

    def __init__(self, limits: Limits) -> None:
        super().__init__()
        self.limits = limits
        self.table = ""
        self.rows = self.bottom = self.cols = 0  # rows so far; last row and column with a value
        self.row_repeat = 1
        self.width = self.row_right = 0  # columns so far in this row; right edge of its values
        self.cell_span = 0  # repeat count of the open cell, 0 when none is open

    def startElementNS(self, name: tuple[str | None, str], qname: str | None, attrs: Any) -> None:
        space, local = name
        if space == _ODS_TABLE and local == "table":
            self.table = attrs.get((_ODS_TABLE, "name"), "")
            self.rows = self.bottom = self.cols = 0
        elif space == _ODS_TABLE and local == "table-row":
            self.row_repeat = _repeat(attrs, "number-rows-repeated")
            self.width = self.row_right = 0
        elif space == _ODS_TABLE and local in _ODS_CELLS:
            self.cell_span = _repeat(attrs, "number-columns-repeated")
            self.width += self.cell_span
            if attrs.get((_ODS_OFFICE, "value-type")):
                self.row_right = self.width
        elif self.cell_span:  # anything inside a cell (text:p) is content
            self.row_right = self.width

    def endElementNS(self, name: tuple[str | None, str], qname: str | None) -> None:
        space, local = name
        if space != _ODS_TABLE:
            return
        if local in _ODS_CELLS:
            self.cell_span = 0
        elif local == "table-row":
            self.rows += self.row_repeat
            if self.row_right:
                self.bottom, self.cols = self.rows, max(self.cols, self.row_right)
                if self.bottom * self.cols > self.limits.max_cells:
                    raise SheetTooLarge(self.table, self.bottom, self.cols)


def _repeat(attrs: Any, name: str) -> int:
    return max(1, int(attrs.get((_ODS_TABLE, name), "1")))


def check_ods_extent(path: Path, limits: Limits) -> None:
    """Raise SheetTooLarge when a table of the .ods spans more than max_cells once its repeats are
    expanded. One streaming pass over content.xml (bounded by intake.check_limits), no tree built;
    a DTD is refused as in xlsx parts."""
    parser = DefusedExpatParser(namespaceHandling=1, forbid_dtd=True)
    parser.setContentHandler(_OdsExtent(limits))
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        parser.parse(fh)


# --- xlsx details calamine does not give --------------------------------------------------------

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# A cell that holds something (self-closing <c .../> cells are styled blanks calamine skips).
# Any number of letters and digits: python-calamine sizes its grid from the largest reference,
# and one cell at row 99999999 or column ZZZZZZ would make it allocate gigabytes.
_VALUE_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Za-z]+)([0-9]+)"[^>]*(?<!/)>')
_PREFIXED_CELL_END = re.compile(rb"</\w+:c>")
# Rows and cells may omit r= (the reader then counts them in order): count those.
_ROW_WITHOUT_REF = re.compile(rb"<(?:\w+:)?row(?![^>]*\br=)[\s>/]")
# A formula, or a cell holding an error value (#DIV/0!, which calamine reads as empty).
_DETAIL_MARK = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
_PERCENT_BUILTIN = {9, 10}
_MAX_XML = 64 * 1024 * 1024  # never inflate a part beyond this, whatever its header says


def _column_number(letters: str) -> int:
    """A → 1, AA → 27, without an upper bound: xlsxwriter.utility refuses columns past XFD, which
    is just what a crafted sheet uses to claim a huge extent."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def _show_error_values(table: Table, errors: dict[Cell | None, str]) -> None:
    """A cell showing #DIV/0! is not an empty cell: give it its error text, so the unit is told
    "完成进度“#DIV/0!”不是数字" rather than "未填写"."""
    if not errors:
        return
    for row in table.rows:
        for key in table.columns:
            ref = table.cell(key, row.row)
            if ref in errors and row.values.get(key) in ("", None):
                row.values[key] = errors[ref]


class _XlsxParts:
    """Direct access to an xlsx's parts for the facts calamine hides: sheet extents (to refuse
    a huge sheet before it is built), formula cells and percent number formats."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.path, self.limits = path, limits
        self._xml: dict[str, bytes] = {}
        self.zip = zipfile.ZipFile(path)
        self.names = set(self.zip.namelist())
        book = ElementTree.fromstring(self._part("xl/workbook.xml"), forbid_dtd=True)
        rels = ElementTree.fromstring(self._part("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
        self.sheet_parts = self._sheet_parts(book, rels)

    def close(self) -> None:
        self.zip.close()

    def _part(self, name: str) -> bytes:
        """A part's bytes. Office never writes a DTD, so one (an entity bomb, an external entity)
        marks a crafted file: refused even where calamine would ignore it."""
        if name not in self._xml:
            # zipfile inflates as much as it is asked for before it trims to the declared size,
            # so ask for no more than that: a member lying about its size costs nothing.
            with self.zip.open(name) as fh:
                data = fh.read(min(_MAX_XML, self.zip.getinfo(name).file_size))
            if b"<!DOCTYPE" in data:
                raise UnsafeXml(name)
            self._xml[name] = data
        return self._xml[name]

    @staticmethod
    def _sheet_parts(book: Any, rels: Any) -> dict[str, str]:
        """Sheet name → zip member, from workbook.xml and its relationships."""
        targets = {r.get("Id"): r.get("Target", "") for r in rels.iter(f"{_PKG_REL_NS}Relationship")}
        parts = {}
        for sheet in book.iter(f"{_MAIN_NS}sheet"):
            target = targets.get(sheet.get(f"{_REL_NS}id"), "")
            member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            parts[sheet.get("name", "")] = member
        return parts

    def check_extent(self, sheet: str) -> None:
        member = self.sheet_parts.get(sheet)
        if member is None:
            return
        data = self._part(member)
        # A cell holding something ends with </c>: counted at C speed before any list is built.
        count = data.count(b"</c>") + (len(_PREFIXED_CELL_END.findall(data)) if b":c>" in data else 0)
        if count > self.limits.max_cells:
            raise SheetTooLarge(sheet, 0, 0, count)
        rows = len(_ROW_WITHOUT_REF.findall(data))  # rows placed by counting, not by r=
        cols = 1 if count else 0
        cells = _VALUE_CELL.findall(data)
        if cells:
            letters, numbers = zip(*cells, strict=True)  # distinct values first: C speed on big sheets
            rows = max(rows, *map(int, set(numbers)))
            cols = max(_column_number(c.decode().upper()) for c in set(letters))
        if rows * cols > self.limits.max_cells:
            raise SheetTooLarge(sheet, rows, cols)

    def add_details(self, table: Table, percent_key: str) -> None:
        """Fill table.formulas and table.percent from the sheet XML. Formulas need a parse, done
        only when the bytes show one; a percent format matters only for values in (0, 1], whose
        few cells are looked up directly."""
        member = self.sheet_parts.get(table.sheet)
        if member is None:
            return
        data = self._part(member)
        if _DETAIL_MARK.search(data):
            errors: dict[str, str] = {}
            for _, element in ElementTree.iterparse(io.BytesIO(data), events=("end",), forbid_dtd=True):
                if element.tag == f"{_MAIN_NS}c":
                    if element.find(f"{_MAIN_NS}f") is not None:
                        table.formulas.add(Cell.parse(element.get("r", "")))
                    if element.get("t") == "e":
                        errors[Cell.parse(element.get("r", ""))] = element.findtext(f"{_MAIN_NS}v") or "#错误"
                    element.clear()
            _show_error_values(table, errors)
        candidates = [
            table.cell(percent_key, r.row)
            for r in table.rows
            if percent_key in table.columns
            and isinstance(r.values.get(percent_key), int | float)
            and 0 < r.values[percent_key] <= 1
        ]
        if candidates:
            percent_styles = self._percent_styles()
            for ref in candidates:
                tag = re.search(rb'<(?:\w+:)?c\s[^>]*?\br="' + str(ref).encode() + rb'"[^>]*>', data)
                style = re.search(rb'\bs="(\d+)"', tag[0]) if tag else None
                if style and int(style[1]) in percent_styles:
                    table.percent.add(ref)

    def _percent_styles(self) -> set[int]:
        """Indexes of cellXfs whose number format shows a percent sign."""
        if "xl/styles.xml" not in self.names:
            return set()
        root = ElementTree.fromstring(self._part("xl/styles.xml"), forbid_dtd=True)
        custom = {
            int(f.get("numFmtId", "-1")): f.get("formatCode", "")
            for f in root.iter(f"{_MAIN_NS}numFmt")
        }
        xfs = root.find(f"{_MAIN_NS}cellXfs")
        result = set()
        for index, xf in enumerate(xfs if xfs is not None else []):
            fmt_id = int(xf.get("numFmtId", "0"))
            if fmt_id in _PERCENT_BUILTIN or "%" in re.sub(r'"[^"]*"|\\.', "", custom.get(fmt_id, "")):
                result.add(index)
        return result
