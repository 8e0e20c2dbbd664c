"""Cells as fastxlsx stores them: which way a value is stored, and a kept row's cells.

fastxlsx.Sheet keeps the rows of a long table written at once as their values (Sheet.write_values)
and makes them into cells only as the sheet is written (kept_cells); both ends must store a value
exactly as xlsx.write_value and xlsxwriter would, so both ask kind_of.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import isfinite
from typing import Any

from xlsxwriter.format import Format
from xlsxwriter.worksheet import CellBlankTuple, CellNumberTuple, CellStringTuple

from toolkit.xlsxparts import SHORT

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
