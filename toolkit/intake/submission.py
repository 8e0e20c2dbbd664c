"""What the reader hands the checks: the cells of one returned workbook, located by header text.

The reader fills these and the part inspection adds the facts calamine hides (formulas, percent
formats), while identity and the row checks only read them; a module of their own keeps the three
from depending on each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.forms import layout
from toolkit.problems import Cell


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
    """One returned workbook as read: its sheets, the signed _meta, the lines above the table."""

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
    plan: Table | None = None  # 节点计划, when the workbook has one
