"""A returned workbook → Submission: the cells the checks need, located by header text.

python-calamine reads .xlsx, .xls and .ods fast and gives each formula's cached value, which is
what the unit saw; what it hides (formulas, percent formats, a sheet's true extent) comes from the
raw parts (parts.py). Units move columns and insert rows, so tables are found by their header
text, not by fixed positions; judging what was moved is the row checks' job. Work is bounded: a
sheet spanning more than Limits.max_cells cells is refused before calamine builds it, and only the
expected rows plus a margin are turned into Python values.
"""

from __future__ import annotations

import contextlib
import zipfile
from pathlib import Path
from typing import Any

from toolkit.forms import layout
from toolkit.intake.normalize import as_text, compact
from toolkit.intake.parts import XlsxParts, check_ods_extent
from toolkit.intake.sniff import Limits
from toolkit.intake.submission import Row, Submission, Table
from toolkit.problems import Cell

HEADER_SEARCH_ROWS = 20  # the header row is looked for in this many top rows
_MIN_HEADER_MATCHES = 3  # known headers a row needs to count as the table's header
_OTHER_SHEETS = (layout.SHEET_GUIDE, layout.SHEET_INDICATORS, layout.SHEET_PLAN, layout.SHEET_META, layout.SHEET_LISTS)
_PLAN_ROWS_PER_TASK = 10  # 节点计划 rows read per task of the ledger (forms.plan_sheet issues at most 7 blank)


def read(path: Path, fmt: str, limits: Limits, expected_rows: int, expected_indicators: int = 0,
         zipped: zipfile.ZipFile | None = None) -> Submission:
    """Read path (format as sniffed: xlsx, xls or ods; zipped: its zip, if the caller has it open).
    Raises on a file that cannot be parsed (calamine errors, bad zip members, XML with a DTD) and
    SheetTooLarge; the caller turns those into issues."""
    from python_calamine import CalamineWorkbook

    parts = XlsxParts(path, limits, zipped) if fmt == "xlsx" else None
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
            table = _table(name, grid, last, layout.PROGRESS_COLUMNS + layout.REQUEST_COLUMNS,
                           expected_rows + limits.row_margin)
            if table is not None:
                progress, top = table, grid[: table.header_row]
                break
        if layout.SHEET_INDICATORS in names:
            grid, last = load(layout.SHEET_INDICATORS, HEADER_SEARCH_ROWS + expected_indicators + limits.row_margin)
            indicators = _table(
                layout.SHEET_INDICATORS, grid, last, layout.INDICATOR_COLUMNS, expected_indicators + limits.row_margin
            )
        plan = None
        if layout.SHEET_PLAN in names:
            most = expected_rows * _PLAN_ROWS_PER_TASK + limits.row_margin
            grid, last = load(layout.SHEET_PLAN, HEADER_SEARCH_ROWS + most)
            plan = _table(layout.SHEET_PLAN, grid, last, layout.PLAN_COLUMNS, most)
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
        plan=plan,
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
