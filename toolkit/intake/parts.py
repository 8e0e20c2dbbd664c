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
# A cell that holds something (self-closing <c .../> cells are styled blanks calamine skips).
# Any number of letters and digits: python-calamine sizes its grid from the largest reference,
# and one cell at row 99999999 or column ZZZZZZ would make it allocate gigabytes.
_VALUE_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Za-z]+)([0-9]+)"[^>]*(?<!/)>')
_PREFIXED_CELL_END = re.compile(rb"</\w+:c>")
# Rows and cells may omit r= (the reader then counts them in order): count those.
_ROW_WITHOUT_REF = re.compile(rb"<(?:\w+:)?row(?![^>]*\br=)[\s>/]")
# Every cell reference, blank cells' included and wherever it stands: a literal start, so a scan
# at C speed (_span_bound).
_ANY_CELL_REF = re.compile(rb'r="([A-Za-z]+)([0-9]+)"')
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


def _extent(refs: list[tuple[bytes, bytes]], rows: int, cols: int) -> tuple[int, int]:
    """(rows, columns) reaching the farthest of refs, (letters, digits) pairs; at least (rows, cols)."""
    if refs:
        letters, numbers = zip(*refs, strict=True)  # distinct values first: C speed on big sheets
        rows = max(rows, *map(int, set(numbers)))
        cols = max(cols, *(column_number(c.decode().upper()) for c in set(letters)))
    return rows, cols


def _span_bound(data: bytes, cells: int) -> int:
    """Never less than the span check_extent measures exactly: its references (of cells that hold
    something) are among these, and its rows without r= among all row elements (<rowBreaks counts
    too). At 0.17 ms a returned workbook against 0.39 ms for the exact count, which now runs only
    for a sheet this bound does not clear."""
    rows, cols = _extent(_ANY_CELL_REF.findall(data), data.count(b"<row") + data.count(b":row"), 1 if cells else 0)
    return rows * cols


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
        if _span_bound(data, count) <= self.limits.max_cells:
            return  # the sheets ducha reads nearly all end here
        # Rows placed by counting, not by r=, and the cells that hold something.
        rows, cols = _extent(_VALUE_CELL.findall(data), len(_ROW_WITHOUT_REF.findall(data)), 1 if count else 0)
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
