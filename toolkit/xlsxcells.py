"""Cells and rows as fastxlsx writes them: which way a value is stored, a kept row's cells, a row's tag.

fastxlsx.Sheet keeps the rows of a long table written at once as their values (Sheet.write_values)
and writes them only as the sheet is written (kept_xml, or kept_cells when cells were written into
the row after it); both ends must store a value exactly as xlsx.write_value and xlsxwriter would,
so both ask kind_of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import isfinite
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple

from toolkit.xlsxparts import SHORT, column

# A kept row: its values, each one's kind_of, its formats and number formats.
Kept = tuple[tuple[Any, ...], bytes, Sequence[Format], Sequence[Format]]


def looks_rich(text: Any) -> bool:
    """A string xlsxwriter would copy into sharedStrings.xml as ready-made rich text."""
    return isinstance(text, str) and text.startswith("<r>") and text.endswith("</r>")


TEXT, NUMBER, BLANK, NUMBER_BLANK, OTHER = range(5)


def kind_of(value: Any) -> int:
    """How xlsx.write_value stores value, where the short way can tell: a shared string, a number,
    a blank in the cell's format, a blank in the number format (NaN, ∞); OTHER for anything else.
    Sheet.write_values applies the same rules inline to rows it makes cells of at once (every unit
    workbook's: a call a cell cost generate ~3%); tests/test_long_sheets.py holds both to stock bytes."""
    kind = value.__class__
    if kind is str:  # looks_rich written out: a million cells of 汇总表 at 10,000 units ask
        if not value:
            return BLANK
        return TEXT if len(value) <= SHORT and not (value.startswith("<r>") and value.endswith("</r>")) else OTHER
    if kind is int:
        return NUMBER
    if kind is float:
        return NUMBER if isfinite(value) else NUMBER_BLANK
    return BLANK if value is None else OTHER


def kept_cells(kept: Kept, cells: dict[int, Any] | None, sst: dict[str, int]) -> dict[int, Any]:
    """A row's values as the cell tuples xlsxwriter stores for them (those kind_of can tell), and
    cells written into the row after it was kept (or by write_value) over them. sst: the shared
    strings' index, every text already in it."""
    values, kinds, formats, number_formats = kept
    made = {col: CellStringTuple(sst[value], fmt) if kind == TEXT else CellNumberTuple(value, number_format)
            if kind == NUMBER else CellBlankTuple(number_format if kind == NUMBER_BLANK else fmt)
            for col, (value, kind, fmt, number_format) in enumerate(zip(values, kinds, formats, number_formats, strict=False))
            if kind != OTHER}
    if cells:
        made.update(cells)
    return made


def kept_xml(kept: Kept, number: str, sst: dict[str, int], row_format: Format | None,
             col_formats: dict[int, Format], style: Callable[[Format], str]) -> str:
    """A kept row's cells as the sheet XML xlsxwriter writes for them, when nothing was written into
    the row after it was kept (else kept_cells): number, the row as Excel numbers it; row_format and
    col_formats, for a cell without a format of its own; style(fmt), its ' s="…"'. Made from the
    values directly: a million cells of 汇总表 at 10,000 units made into tuples, sorted and looked
    at again took ~10% longer than the cells did when they were tuples from the start."""
    values, kinds, formats, number_formats = kept
    xml = []
    for col, kind in enumerate(kinds):
        if kind == TEXT:
            end, fmt = f' t="s"><v>{sst[values[col]]}</v></c>', formats[col]
        elif kind == NUMBER:
            end, fmt = f"><v>{values[col]:.16G}</v></c>", number_formats[col]
        elif kind == OTHER:  # never kept alone: write_value made it a cell
            continue
        else:
            end, fmt = "/>", number_formats[col] if kind == NUMBER_BLANK else formats[col]
        fmt = fmt or row_format or col_formats.get(col)
        xml.append(f'<c r="{column(col)}{number}"{"" if fmt is None else style(fmt)}{end}')
    return "".join(xml)


def row_tag(sheet: Any, row: int, span: str | None, end: str) -> str:
    """A row's <row …> tag as xlsxwriter writes it (end: ">" or "/>"), but without customHeight from
    the sheet's grow_from down (fastxlsx.Sheet: rows that open as set and grow as a unit types)."""
    info = sheet.row_info.get(row)
    height = info.height if info else None
    if height is None:
        height = sheet.default_row_height
    row_format = info.row_format if info else None
    tag = f'<row r="{row + 1}"'
    if span:
        tag += f' spans="{span}"'
    if row_format:
        if xf_index := row_format._get_xf_index():
            tag += f' s="{xf_index}"'
        tag += ' customFormat="1"'
    custom = height != sheet.original_row_height or height != sheet.default_row_height
    if custom:
        tag += f' ht="{height * 0.75:.16g}"'
    if info and info.hidden:
        tag += ' hidden="1"'
    if custom and (sheet.grow_from is None or row + 1 < sheet.grow_from):
        tag += ' customHeight="1"'
    if info and info.level:
        tag += f' outlineLevel="{info.level}"'
    if info and info.collapsed:
        tag += ' collapsed="1"'
    if sheet.excel_version == 2010:
        tag += ' x14ac:dyDescent="0.25"'
    return tag + end
