"""The raw parts of a zip-based workbook, for the facts python-calamine hides or would pay for.

calamine builds a whole sheet before anyone can ask how big it is, and cannot tell which cells hold
formulas or are percent-formatted. Measuring the sheet XML (xlsx) or the streamed content.xml (ods)
first refuses a sheet that would expand to billions of cells; reading the sheet and style XML
gives formulas, error values and percent formats. Everything here is parsed with defusedxml and
bounded in size, since the bytes come from outside.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any
from xml.sax.handler import ContentHandler

from defusedxml import ElementTree

from toolkit.intake.sniff import Limits
from toolkit.intake.submission import Table
from toolkit.problems import Cell, column_number


class SheetTooLarge(Exception):
    """A sheet spans more cells than Limits.max_cells: refused before it is loaded. rows × cols
    is the range it spans; cells, when set, is the number of cells holding something (a sheet
    can hold too many without naming where they are)."""

    def __init__(self, sheet: str, rows: int, cols: int, cells: int | None = None) -> None:
        super().__init__(f"{sheet}: {rows} × {cols}" + (f", {cells} cells" if cells is not None else ""))
        self.sheet, self.rows, self.cols, self.cells = sheet, rows, cols, cells


class UnsafeXml(ValueError):
    """A workbook part declares a DTD."""


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
    expanded. One streaming pass over content.xml (bounded by sniff.check_limits), no tree built;
    a DTD is refused as in xlsx parts."""
    # Imported here: defusedxml's SAX reader brings xml.sax.saxutils, which imports urllib.request,
    # http.client and ssl (~12 ms), into every process that reads xlsx returns too.
    from defusedxml.expatreader import DefusedExpatParser

    parser = DefusedExpatParser(namespaceHandling=1, forbid_dtd=True)
    parser.setContentHandler(_OdsExtent(limits))
    with zipfile.ZipFile(path) as zf, zf.open("content.xml") as fh:
        parser.parse(fh)


# --- xlsx details calamine does not give --------------------------------------------------------

_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
# Where python-calamine puts a sheet's cells, and so how large a grid it allocates: a cell at its
# reference (any letters and digits: one cell at row 99999999 or column ZZZZZZ would make it
# allocate gigabytes), a cell without one right of the cell before it, in its row, which is at the
# row's r= or the row before's plus one. A tag with two r= is placed by a cell's last, a row's
# first; attribute values may be quoted either way and hold ">"; self-closing cells are styled
# blanks it skips (tests/test_sheet_extent.py checks all of it against calamine itself).
_ROW_OR_CELL = re.compile(rb"""<(?:[\w.-]+:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTRIBUTE = re.compile(rb"""([^\s=]+)\s*=\s*(["'])(.*?)\2""", re.DOTALL)
_CELL_REF = re.compile(rb"([A-Za-z]+)([0-9]+)")
_PREFIXED_CELL_END = re.compile(rb"</\w+:c>")
# What every sheet Excel, WPS, LibreOffice and ducha write looks like, checked at C speed: each row
# and cell tag begins with a plain r="B7" (r="7" for a row), unprefixed, and no r= is written
# another way (r='B7', r = "B7"). Then each cell stands at that reference, and when none of those
# passes column Z or row 999 the sheet spans at most _NEAR_SPAN cells (_near).
_ODD_TAG = re.compile(rb'<(?:row|c)(?=[\s/>])(?! r="[A-Z]{0,3}[0-9]{1,7}")|<[\w.-]+:(?:row|c)[\s/>]')
_ODD_R = re.compile(rb'r(?:\s+=|=(?!"))')
_FAR_REF = re.compile(rb'r="(?:[A-Z]{2}|[A-Z]?[0-9]{4})')
_NEAR_SPAN = 26 * 999
_HUGE = 10**12  # a reference longer than any real one: the sheet is refused whatever the limit
# A formula, or a cell holding an error value (#DIV/0!, which calamine reads as empty).
_DETAIL_MARK = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')
_PERCENT_BUILTIN = {9, 10}
_MAX_XML = 64 * 1024 * 1024  # never inflate a part beyond this, whatever its header says


# Every match of _DETAIL_MARK holds one of these. Not "<f" alone: every issued workbook's
# drop-down lists are <formula1> elements, and the regex then scanned the whole sheet in vain; a
# pattern that starts with a letter is searched at C speed (memchr), one that starts with "<" tries
# every tag.
_F_END = re.compile(rb"f[\s>/]")


def _may_hold_details(data: bytes) -> bool:
    """False when _DETAIL_MARK cannot match: none of the substrings any match contains is there
    (0.01 ms for an issued 进展填报, against 0.17 ms for the regex's search in vain)."""
    return b't="e"' in data or _F_END.search(data) is not None


def _near(data: bytes) -> bool:
    """True when the sheet is written as every office suite writes one and spans at most
    _NEAR_SPAN cells: three searches in vain (0.09 ms for an issued 进展填报, the same as the
    bound it replaces, which missed cells placed by a row's r= or referenced as r='B7')."""
    return not (_ODD_TAG.search(data) or _ODD_R.search(data) or _FAR_REF.search(data))


def _number(digits: bytes) -> int:
    return _HUGE if len(digits) > 12 else int(digits)


def _placed_extent(data: bytes) -> tuple[int, int]:
    """(rows, columns) the cells holding something reach, each cell placed where python-calamine
    places it (see _ROW_OR_CELL). A reference calamine cannot read (r="", r="B", r=" B7") fails
    its read anyway; here the cell is placed by counting."""
    row = col = -1
    rows = cols = 0
    for tag, attributes in _ROW_OR_CELL.findall(data):
        refs = [value for name, _quote, value in _ATTRIBUTE.findall(attributes) if name == b"r"]
        if tag == b"row":
            ref = refs[0] if refs else None
            row = _number(ref) - 1 if ref and ref.isdigit() else row + 1
            col = -1
            continue
        placed = _CELL_REF.fullmatch(refs[-1]) if refs else None
        if placed:
            letters = placed[1].decode("ascii").upper()
            col = column_number(letters) - 1 if len(letters) <= 4 else _HUGE
            at = _number(placed[2]) - 1
        else:
            col, at = col + 1, row
        if not attributes.rstrip().endswith(b"/"):
            rows, cols = max(rows, at + 1), max(cols, col + 1)
    return rows, cols


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


class XlsxParts:
    """Direct access to an xlsx's parts for the facts calamine hides: sheet extents (to refuse
    a huge sheet before it is built), formula cells and percent number formats."""

    def __init__(self, path: Path, limits: Limits, zipped: zipfile.ZipFile | None = None) -> None:
        """zipped: path's zip if the caller has it open already (the caller then closes it)."""
        self.path, self.limits = path, limits
        self._xml: dict[str, bytes] = {}
        self._owns_zip = zipped is None
        self.zip = zipfile.ZipFile(path) if zipped is None else zipped
        self.names = set(self.zip.namelist())
        book = ElementTree.fromstring(self._part("xl/workbook.xml"), forbid_dtd=True)
        rels = ElementTree.fromstring(self._part("xl/_rels/workbook.xml.rels"), forbid_dtd=True)
        self.sheet_parts = self._sheet_parts(book, rels)

    def close(self) -> None:
        if self._owns_zip:
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
        if self.limits.max_cells >= _NEAR_SPAN and _near(data):
            return  # the sheets ducha reads nearly all end here
        rows, cols = _placed_extent(data)
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
        if _may_hold_details(data) and _DETAIL_MARK.search(data):
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
