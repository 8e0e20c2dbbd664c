"""Problems found in data are values, not exceptions: Issue(level, code, sheet, cell, message).

Codes are stable snake_case English slugs that tests and programs match on; messages are Chinese,
name the cell (进展填报!F7) and say what to do. A Report collects them in the order found; it is
the one collector every check uses (the ledger check, the notice parser, a returned file's check).
A cell is a position (row, column), not a string: "F7" is made only when it is printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"
LEVEL_LABELS = {ERROR: "错误", WARNING: "提醒"}
_A1 = re.compile(r"^([A-Z]{1,2}|[A-W][A-Z]{2}|X[A-E][A-Z]|XF[A-D])([1-9][0-9]{0,6})$")  # A1 … XFD1048576


@dataclass(frozen=True, order=True)
class Cell:
    """A cell's position, 1-based as Excel shows it: Cell(7, 6) prints as F7."""

    row: int
    col: int

    def __str__(self) -> str:
        return f"{column_letters(self.col)}{self.row}"

    @classmethod
    def parse(cls, a1: str) -> Cell | None:
        """"F7" → Cell(7, 6); None for anything that is not an A1 name inside Excel's grid (a
        range, a blank, a crafted file's column ZZZZZZ)."""
        found = _A1.match(a1.strip().upper())
        if found is None:
            return None
        return cls(int(found[2]), column_number(found[1]))


def column_number(letters: str) -> int:
    """A → 1, AA → 27, without an upper bound (a crafted sheet names columns past XFD to claim a
    huge extent: intake.parts measures it all the same)."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def column_letters(col: int) -> str:
    """A column's letters, 1-based: 1 → A, 28 → AB. Made here rather than by xlsxwriter.utility,
    whose import brings all of xlsxwriter (~40 ms) into every process that only reads: the
    reading workers' server and every command before it writes anything."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class Issue:
    level: str
    code: str
    sheet: str
    cell: Cell | None
    message: str

    @property
    def where(self) -> str:
        """进展填报!F7, or just the sheet, or empty for whole-file problems."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def as_dict(self) -> dict[str, str]:
        """The JSON form (--json): the cell as its A1 name, "" when there is none."""
        return {"level": self.level, "code": self.code, "sheet": self.sheet, "cell": str(self.cell or ""),
                "message": self.message}


@dataclass
class Report:
    """Issues in the order found. With `levels` (code → level), add() takes the level from the code,
    so a code can never change level by accident; error() and warning() name it outright."""

    issues: list[Issue] = field(default_factory=list)
    levels: Mapping[str, str] = field(default_factory=dict)

    def add(self, code: str, text: str, sheet: str = "", cell: Cell | None = None) -> None:
        """An issue at its level from `levels`, its message led by where it is (进展填报!F7：…)."""
        where = f"{sheet}!{cell}" if sheet and cell else sheet
        message = f"{where}：{text}" if where else text
        self.issues.append(Issue(self.levels[code], code, sheet, cell, message))

    def error(self, code: str, message: str, sheet: str = "", cell: Cell | None = None) -> None:
        self.issues.append(Issue(ERROR, code, sheet, cell, message))

    def warning(self, code: str, message: str, sheet: str = "", cell: Cell | None = None) -> None:
        self.issues.append(Issue(WARNING, code, sheet, cell, message))

    def extend(self, issues: Iterable[Issue]) -> None:
        self.issues.extend(issues)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.level == ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def codes(self) -> list[str]:
        return [i.code for i in self.issues]

    def __iter__(self) -> Iterator[Issue]:
        return iter(self.issues)

    def __len__(self) -> int:
        return len(self.issues)
