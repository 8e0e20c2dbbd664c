"""Problems found in data are values, not exceptions: Issue(level, code, sheet, cell, message).

Codes are stable English slugs that tests and programs match on; messages are Chinese, name the
cell (进展填报!F7) and say what to do. A Report collects them in the order found.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field

ERROR = "error"
WARNING = "warning"
LEVEL_LABELS = {ERROR: "错误", WARNING: "提醒"}


@dataclass(frozen=True)
class Issue:
    level: str
    code: str
    sheet: str
    cell: str
    message: str

    @property
    def where(self) -> str:
        """进展填报!F7, or just the sheet, or empty for whole-file problems."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)

    def error(self, code: str, message: str, sheet: str = "", cell: str = "") -> None:
        self.issues.append(Issue(ERROR, code, sheet, cell, message))

    def warning(self, code: str, message: str, sheet: str = "", cell: str = "") -> None:
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
