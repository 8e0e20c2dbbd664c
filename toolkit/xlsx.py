"""Cell-writing helpers shared by every workbook ducha writes (unit workbooks, 汇总表, receipts).

Two things every writer must get right the same way: user text goes in as an inert string (never
a formula or a link, whatever it starts with), and rows holding wrapped Chinese text get an explicit
height, because Excel and WPS do not agree on auto-fitting when a file is opened.
"""

from __future__ import annotations

import functools
import math
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the readers use these helpers too, and need no writer (problems.column_letters)
    from xlsxwriter.format import Format
    from xlsxwriter.worksheet import Worksheet


LINE_HEIGHT = 15.0  # points per wrapped line of 11pt 宋体
# East Asian wide and full-width characters (CJK, kana, hangul, full-width punctuation), which
# take two columns; a regex is ~50× faster than unicodedata per character on 15,000 rows, and
# removing runs of them then comparing lengths 6× faster again than listing each one.
_WIDE_RUNS = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\U00020000-\U0003fffd]+"
)


def _display_width(text: str) -> float:
    """Approximate width in Excel column units (a Calibri 11 "0"): a 宋体 11pt CJK character takes
    about 2.2, other characters about 1.1."""
    return 1.1 * (2 * len(text) - len(_WIDE_RUNS.sub("", text)))


def _line_count(text: str, width: float) -> int:
    usable = max(width - 1, 1)
    if 1.1 * (2 * len(text)) <= usable:  # one line even if every character were wide: skip the regex
        return text.count("\n") + 1
    return _wrapped_lines(text, usable)


@functools.lru_cache(maxsize=1 << 14)  # a few MB at most
def _wrapped_lines(text: str, usable: float) -> int:
    """Lines a long text wraps to. Cached: a task's content and leaders come back in the receipt
    and workbook of every unit that holds the task, and the regex pass over a long text is most of
    the cost of a row's height (a pure function of its arguments: the cache changes no byte)."""
    return sum(max(1, math.ceil(_display_width(part) / usable)) for part in text.split("\n"))


def row_height(cells: Sequence[tuple[object, float]], minimum_lines: int = 1) -> float:
    """A row tall enough for its wrapped text: clients do not agree on auto-fitting on open, so the
    height is set explicitly (units may still change it: row formatting is allowed)."""
    lines = max([minimum_lines] + [_line_count(str(v), w) for v, w in cells if v not in (None, "")])
    return lines * LINE_HEIGHT + 3


def table_heights(rows: Sequence[Sequence[object]], widths: Sequence[float]) -> list[float]:
    """row_height of each row of a table, column by column: a column whose every text fits on one
    line (most of them: numbers, names, lights) is passed over in one look at its longest text,
    where row by row each of 汇总表's million cells at 10,000 units took its own measure."""
    lines = [1] * len(rows)
    for col, width in enumerate(widths):
        texts = ["" if value is None else str(value) for value in (row[col] for row in rows)]
        usable = max(width - 1, 1)
        if not texts or (1.1 * (2 * max(map(len, texts))) <= usable and "\n" not in "".join(texts)):
            continue
        lines = list(map(max, lines, [_line_count(text, width) if text else 1 for text in texts]))
    return [count * LINE_HEIGHT + 3 for count in lines]


def is_number(value: object) -> bool:
    """Written as a number (a bool is not one)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def as_text(value: object) -> object:
    """A phone number read back as a number (13803780007 or 13803780007.0) as the digits a person
    typed, so it is written as text: never 1.38E+10, never right-aligned like a quantity."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


_CUSTOM_ROW = re.compile(rb'(<row r="(\d+)"[^>]*?) customHeight="1"')


def let_rows_grow(path: Path, first_rows: dict[int, int]) -> None:
    """Rewrite an xlsx so the rows from first_rows[sheet index] down keep their height but lose
    customHeight: they open as tall as row_height made them, and Excel, WPS and LibreOffice grow
    them again as the unit types a longer answer (a custom height would cut it off). xlsxwriter
    marks every row it sizes custom, hence the rewrite; entries keep their dates (same bytes).
    fastxlsx.Book writes such rows without customHeight in the first place: this rewrite is only
    its fallback under an xlsxwriter release it was not written against."""
    names = {f"xl/worksheets/sheet{index + 1}.xml": first for index, first in first_rows.items()}
    with zipfile.ZipFile(path) as src:
        entries = [(info, src.read(info)) for info in src.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info, data in entries:
            first = names.get(info.filename)
            if first is not None:
                data = _CUSTOM_ROW.sub(lambda m, first=first: m[1] if int(m[2]) >= first else m[0], data)
            dst.writestr(info, data)


def write_row(ws: Worksheet, row: int, values: Sequence[object], formats: Sequence[Format],
              number_formats: Sequence[Format] | None = None) -> None:
    """write_value for each value from column 0 in formats[col] (a number in number_formats[col]
    when given); a fastxlsx sheet stores the whole row in one call (Sheet.write_values)."""
    numbers = formats if number_formats is None else number_formats
    write = getattr(ws, "write_values", None)
    if write is not None:
        write(row, values, formats, numbers)
        return
    for col, value in enumerate(values):
        write_value(ws, row, col, value, numbers[col] if is_number(value) else formats[col])


def write_value(ws: Worksheet, row: int, col: int, value: object, fmt: Format) -> None:
    """Numbers as numbers; everything else as an inert string, never a formula or a link."""
    if type(value) is str and value:  # most cells: skip the checks below
        ws.write_string(row, col, value, fmt)
    elif value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    elif is_number(value):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)
