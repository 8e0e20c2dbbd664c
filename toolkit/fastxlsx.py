"""A faster xlsxwriter for every workbook ducha writes, giving exactly the bytes xlsxwriter gives.

At 1,000 units a receipt and a unit workbook spent most of their time inside xlsxwriter: each cell
went through an A1-parsing decorator on the way in and through several small XML-writer calls and
escaping regexes on the way out, and every unit workbook was reopened and deflated a second time
to drop customHeight from its answer rows (xlsx.let_rows_grow). Book and Sheet keep xlsxwriter's
API and replace only those inner loops: the cell writers store the same cell tuples without the
decorator, a row written at once is kept as its values until the sheet is written (toolkit.xlsxcells),
the sheet data is assembled in one pass (strings, numbers, blanks; anything else goes to
xlsxwriter's own code) and a long sheet deflated as it is written, plain shared strings skip the
escaping regexes, rows marked to grow are written without customHeight in the first place, and what
repeats from workbook to workbook is worked out once per process: a format of the same properties
is copied from the first one made (toolkit.xlsxformats), each validation's XML and formula,
workbook.xml for the same sheets and settings, and the small parts of the package
(toolkit.xlsxparts: styles, app, content types, rels, theme, and the zip's records).

The inner loops mirror one xlsxwriter release (PINNED): under any other version Book is stock
xlsxwriter and rows are let grow by the rewrite, so a library upgrade can cost speed, never bytes.
tests/test_fastxlsx.py builds each kind of workbook both ways and compares the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from io import StringIO
from math import isfinite
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.packager import Packager
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellNumberTuple,
    CellStringTuple,
    Worksheet,
    convert_cell_args,
)
from xlsxwriter.xmlwriter import XMLwriter

from toolkit.xlsx import is_number, let_rows_grow, write_value
from toolkit.xlsxcells import OTHER, TEXT, Kept, kept_cells, kept_xml, kind_of, looks_rich, row_tag
from toolkit.xlsxformats import made_format
from toolkit.xlsxparts import (
    CACHED_ENTRIES,
    PIECES,
    SHORT,
    FastPackager,
    column,
    spill,
    write_zip,
    written_parts,
)

PINNED = "3.3.1"
KEEP_FROM = 512  # the first row (from 0) a sheet keeps as values (Sheet.write_values): a unit workbook has none
FAST = xlsxwriter.__version__ == PINNED

_FORMULAS: dict[tuple[str, bool, bool], str] = {}
_VALIDATIONS: dict[tuple[str, bool], str] = {}
_WORKBOOK_XML: dict[str, str] = {}


def _escape_attributes(writer: Any, attribute: Any) -> Any:
    """xlsxwriter's; anything but a string (most attributes are numbers) returned as is, as it
    returns it, without its TypeError round trip."""
    if isinstance(attribute, str) or not FAST:
        return XMLwriter._escape_attributes(writer, attribute)
    return attribute


class InertSheet(Worksheet):
    """A worksheet on which every string stays text. xlsxwriter copies a string that starts with
    "<r>" and ends with "</r>" into sharedStrings.xml unescaped, as ready-made rich text: a unit
    answering "<r></t></r>" would make 汇总表 and its receipt unreadable. Such a string is written
    as a rich string of plain fragments instead, which xlsxwriter escapes; it reads back as typed."""

    @convert_cell_args
    def write_string(self, row: int, col: int, string: str, cell_format: Any = None) -> int:
        if looks_rich(string):
            return self.write_rich_string(row, col, string[:1], string[1:3], string[3:],
                                          *([cell_format] if cell_format is not None else []))
        return super().write_string(row, col, string, cell_format)


class Sheet(InertSheet):
    """A worksheet whose common cell writes and sheet data take the short way (see module doc)."""

    grow_from: int | None = None  # the first row (as Excel numbers it) written without customHeight

    def __init__(self) -> None:
        super().__init__()
        self.kept: dict[int, Kept] = {}  # see write_values
        self.rows_alike: dict[tuple[Any, ...], tuple[Any, list[Any]]] = {}  # see set_row_pixels

    def write_string(self, *args: Any, **kwargs: Any) -> int:
        if kwargs or args[0].__class__ is not int or looks_rich(args[2]):
            return super().write_string(*args, **kwargs)
        return self._write_string(*args)

    def write_number(self, *args: Any, **kwargs: Any) -> int:
        if kwargs or args[0].__class__ is not int:
            return super().write_number(*args, **kwargs)
        return self._write_number(*args)

    def write_blank(self, *args: Any, **kwargs: Any) -> int:
        if kwargs or args[0].__class__ is not int:
            return super().write_blank(*args, **kwargs)
        return self._write_blank(*args)

    def write_values(self, row: int, values: Sequence[Any], formats: Sequence[Format],
                     number_formats: Sequence[Format]) -> None:
        """xlsx.write_row on this sheet: each value from column 0 in formats[col], a number in
        number_formats[col], stored as xlsx.write_value would store it, dimensions checked once. A new
        row from KEEP_FROM down is kept as its values (formats kept, not copied) until the sheet is
        written (xlsxcells.kept_xml): 汇总表's tables at 10,000 units were a million cell tuples,
        ~140 MB, held till the book closed; its strings take their shared-string index now, in order.
        Anything kind_of cannot tell (a long or rich-looking string, a bool…) takes write_value."""
        fits = 0 <= row < self.xls_rowmax and len(values) <= self.xls_colmax and not self.constant_memory
        if FAST and fits and row >= KEEP_FROM and values and not self.table.get(row) and row not in self.kept:
            self._keep(row, values, formats, number_formats)
            return
        cells = self.table[row] if FAST and fits else None
        index = self.str_table._get_shared_string_index
        for col, value in enumerate(values):  # xlsxcells.kind_of's rules, inline: every unit workbook's rows
            kind = value.__class__
            if cells is not None:
                if kind is str and value and len(value) <= SHORT and not looks_rich(value):
                    cells[col] = CellStringTuple(index(value), formats[col])
                    continue
                if kind is int or (kind is float and isfinite(value)):
                    cells[col] = CellNumberTuple(value, number_formats[col])
                    continue
                if value is None or (kind is str and not value) or kind is float:  # the float is NaN or ∞
                    cells[col] = CellBlankTuple(number_formats[col] if kind is float else formats[col])
                    continue
            write_value(self, row, col, value, number_formats[col] if is_number(value) else formats[col])
        if cells is not None and values:
            self._check_dimensions(row, 0)
            self._check_dimensions(row, len(values) - 1)

    def _keep(self, row: int, values: Sequence[Any], formats: Sequence[Format], number_formats: Sequence[Format]) -> None:
        kinds = bytes(map(kind_of, values))
        index = self.str_table._get_shared_string_index
        for col, kind in enumerate(kinds):
            if kind == TEXT:
                index(values[col])
            elif kind == OTHER:
                value = values[col]
                write_value(self, row, col, value, number_formats[col] if is_number(value) else formats[col])
        self.kept[row] = (tuple(values), kinds, formats, number_formats)
        self._check_dimensions(row, 0)
        self._check_dimensions(row, len(values) - 1)

    def autofit(self, *args: Any, **kwargs: Any) -> None:
        self._unkeep()
        super().autofit(*args, **kwargs)

    def _get_range_data(self, *args: Any) -> Any:
        self._unkeep()
        return super()._get_range_data(*args)

    def _unkeep(self) -> None:
        """Every kept row made cells, for what in xlsxwriter reads the cells before the sheet is written
        (autofit, a chart's cached values): it would not see a kept row."""
        for row, entry in self.kept.items():
            self.table[row] = kept_cells(entry, self.table.get(row), self.str_table.string_table)
        self.kept.clear()

    def set_row_pixels(self, row: int, height: Any = None, cell_format: Any = None,
                       options: dict[str, Any] | None = None) -> int:
        # A long table's rows come in a few heights: rows set alike share one RowInfo and one size
        # entry, which xlsxwriter only reads (each its own dataclass and list: 20 MB of 汇总表 at
        # 10,000 units). Above KEEP_FROM, where sharing saves nothing worth its time, as xlsxwriter.
        result = super().set_row_pixels(row, height, cell_format, options)
        if result == 0 and row >= KEEP_FROM and not options:
            info = self.row_info[row]
            key = (info.height, type(info.height), info.row_format, info.hidden)
            self.row_info[row], self.row_sizes[row] = self.rows_alike.setdefault(key, (info, self.row_sizes[row]))
        return result

    def _escape_attributes(self, attribute: Any) -> Any:
        return _escape_attributes(self, attribute)

    def _write_data_validation(self, options: dict[str, Any]) -> None:
        # The same validations in every unit workbook: each one's XML made once per process.
        key = (repr(options), self.use_future_functions)
        xml = _VALIDATIONS.get(key)
        if xml is None:
            out, self.fh = self.fh, StringIO()
            try:
                super()._write_data_validation(options)
                xml = self.fh.getvalue()
            finally:
                self.fh = out
            if " at 0x" not in key[0]:
                if len(_VALIDATIONS) >= CACHED_ENTRIES:
                    _VALIDATIONS.clear()
                _VALIDATIONS[key] = xml
        self.fh.write(xml)

    def _prepare_formula(self, formula: str, expand_future_functions: bool = False) -> str:
        # ~30 re.sub a call; the validations of every workbook use the same few formulas
        key = (formula, expand_future_functions, self.use_future_functions)
        prepared = _FORMULAS.get(key)
        if prepared is None:
            if len(_FORMULAS) >= CACHED_ENTRIES:
                _FORMULAS.clear()
            prepared = _FORMULAS[key] = super()._prepare_formula(formula, expand_future_functions)
        return prepared

    def _calculate_spans(self) -> None:
        # Per block of 16 rows, the first and last column holding a cell or a comment.
        low, high = self.dim_colmin, self.dim_colmax
        first, last = self.dim_rowmin, self.dim_rowmax
        bounds: dict[int, list[int]] = {}
        kept = ((row, range(len(entry[0]))) for row, entry in self.kept.items())
        for source in (self.table.items(), self.comments.items(), kept):
            for row, cols in source:
                if not cols or not first <= row <= last:
                    continue
                left, right = min(cols), max(cols)
                if left < low or right > high:  # only cells outside the dimensions make a list
                    inside = [c for c in cols if low <= c <= high]
                    if not inside:
                        continue
                    left, right = min(inside), max(inside)
                block = bounds.setdefault(row // 16, [left, right])
                block[0], block[1] = min(block[0], left), max(block[1], right)
        self.row_spans = {index: f"{lo + 1}:{hi + 1}" for index, (lo, hi) in bounds.items()}

    def _write_rows(self) -> None:
        if self.constant_memory:
            super()._write_rows()
            return
        self._calculate_spans()
        comments, row_info, spans = self.comments, self.row_info, self.row_spans
        low, high = self.dim_colmin, self.dim_colmax
        col_formats = {col: info.column_format for col, info in self.col_info.items() if info.column_format is not None}
        styles: dict[Any, str] = {}  # a format → its ' s="…"'
        out: list[str] = []
        table, kept, sst = self.table, self.kept, self.str_table.string_table

        def style(fmt: Any) -> str:
            if (found := styles.get(fmt)) is None:
                found = styles[fmt] = f' s="{fmt._get_xf_index()}"'
            return found

        for row in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table.get(row)
            if row in kept and cells:
                cells = kept_cells(kept[row], cells, sst)
            elif not cells and row not in kept:
                if row in row_info or row in comments:
                    out.append(row_tag(self, row, spans.get(row // 16), "/>"))
                continue
            out.append(row_tag(self, row, spans.get(row // 16), ">"))
            number = str(row + 1)
            info = row_info.get(row)
            row_format = info.row_format if info else None
            if not cells:
                out.append(kept_xml(kept[row], number, sst, row_format, col_formats, style))
            else:
                for col in sorted(cells):
                    cell = cells[col]
                    kind = cell.__class__
                    if kind is CellStringTuple:
                        end = f' t="s"><v>{cell[0]}</v></c>'
                    elif kind is CellNumberTuple:
                        end = f"><v>{cell[0]:.16G}</v></c>"
                    elif kind is CellBlankTuple:
                        end = "/>"
                    else:
                        self.fh.write("".join(out))
                        out.clear()
                        if low <= col <= high:
                            self._write_cell(row, col, cell)
                        continue
                    if not low <= col <= high:
                        continue
                    name = column(col)
                    fmt = cell[-1] or row_format or col_formats.get(col)
                    if fmt is None:
                        out.append(f'<c r="{name}{number}"{end}')
                        continue
                    if (found := styles.get(fmt)) is None:  # style() inline: every unit workbook's cells
                        found = styles[fmt] = f' s="{fmt._get_xf_index()}"'
                    out.append(f'<c r="{name}{number}"{found}{end}')
            out.append("</row>")
            if len(out) > PIECES:  # a long sheet's XML is handed on in pieces, not made whole first
                self.fh.write("".join(out))
                out.clear()
                spill(self.fh)
        self.fh.write("".join(out))


class Book(xlsxwriter.Workbook):
    """xlsxwriter.Workbook with the fast sheets (stock xlsxwriter under another version; strings stay
    inert in both, see InertSheet), and rows
    that open as tall as they were set but grow as a unit types (let_rows_grow)."""

    worksheet_class = Sheet if FAST else InertSheet

    def let_rows_grow(self, sheet: Worksheet, first_row: int) -> None:
        """Write the rows of sheet from first_row (as Excel numbers it) down without customHeight: they keep
        their height and Excel, WPS and LibreOffice grow them again as a longer answer is typed.
        Only for a workbook written to a file: under another xlsxwriter the file is rewritten."""
        if not isinstance(self.filename, str | Path):
            raise TypeError("let_rows_grow needs a workbook written to a file")
        self._grow = getattr(self, "_grow", {}) | {sheet.index: first_row}
        if isinstance(sheet, Sheet):
            sheet.grow_from = first_row

    def _escape_attributes(self, attribute: Any) -> Any:
        return _escape_attributes(self, attribute)

    def add_format(self, properties: dict[str, Any] | None = None) -> Format:
        """xlsxwriter's add_format; a format with the same properties as one made before in this
        process is copied from it instead of set property by property (toolkit.xlsxformats)."""
        if not FAST:
            return super().add_format(properties)
        return made_format(self, properties, super().add_format)

    def _assemble_xml_file(self) -> None:
        # workbook.xml, the same for every workbook of a run with the same sheets, made once per
        # process for each of these inputs (all xlsxwriter's _write_* for it read); the formats
        # prepared for styles.xml as xlsxwriter prepares them here.
        if not FAST or not isinstance(self.fh, StringIO) or self.fh.tell():
            super()._assemble_xml_file()
            return
        meta = self.worksheet_meta
        key = repr((bool(self.vba_project), self.read_only, self.vba_codename, self.date_1904,
                    self.default_theme_version, self.x_window, self.y_window, self.window_width,
                    self.window_height, self.tab_ratio, meta.firstsheet, meta.activesheet,
                    [(sheet.name, sheet.hidden) for sheet in self.worksheets()],
                    self.calc_id, self.calc_mode, self.calc_on_load, self.defined_names))
        xml = _WORKBOOK_XML.get(key)
        if xml is not None:
            self._prepare_format_properties()
            self.fh.write(xml)
            return
        super()._assemble_xml_file()
        if " at 0x" not in key:
            if len(_WORKBOOK_XML) >= CACHED_ENTRIES:
                _WORKBOOK_XML.clear()
            _WORKBOOK_XML[key] = self.fh.getvalue()

    def _prepare_sst_string_data(self) -> None:
        # xlsxwriter's sorts the strings by index and drops the index, which a kept row's strings
        # are looked up in as the sheets are written (xlsxcells.kept_xml, kept_cells); the index is in insertion order.
        if not FAST:
            super()._prepare_sst_string_data()
            return
        self.str_table.string_array = list(self.str_table.string_table)

    def _get_packager(self) -> Packager:
        return FastPackager() if FAST else super()._get_packager()

    def _store_workbook(self) -> None:
        # xlsxwriter's own _store_workbook, its zip written by write_zip.
        if not FAST or not self.in_memory:
            super()._store_workbook()
            return
        packager = self._get_packager()
        if not self.worksheets():
            self.add_worksheet()
        if self.worksheet_meta.activesheet == 0:
            self.worksheets_objs[0].selected = 1
            self.worksheets_objs[0].hidden = 0
        for sheet in self.worksheets():
            if sheet.index == self.worksheet_meta.activesheet:
                sheet.active = 1
        if self.vba_project:
            for sheet in self.worksheets():
                if sheet.vba_codename is None:
                    sheet.set_vba_name()
        self._prepare_sst_string_data()
        self._prepare_vml()
        self._prepare_defined_names()
        self._prepare_drawings()
        self._add_chart_data()
        self._prepare_tables()
        self._prepare_metadata()
        packager._add_workbook(self)
        packager._set_tmpdir(self.tmpdir)
        packager._set_in_memory(self.in_memory)
        write_zip(self.filename, written_parts(packager._create_package()), self.allow_zip64)

    def close(self) -> None:
        super().close()
        for sheet in self.worksheets():  # xlsxwriter's link back to the book, a cycle: now every cell
            sheet.workbook_add_format = None  # is freed as the book is dropped, none left to the collector
        if not FAST and getattr(self, "_grow", None):
            let_rows_grow(Path(self.filename), self._grow)
