"""A reporting period (2024Q1): its deadline, pace (序时进度) and Chinese labels.

A clerk writes a quarter the way the bureau's papers do (2024年第二季度, 二季度) as often as the way
ducha prints it (2024Q2), so every one of those spellings is read here, once, for every command.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from toolkit.config import Deadlines
from toolkit.workdays import apply_rule

QUARTER_LABELS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
# After NFKC (full-width digits and Ｑ become ASCII) and without spaces: an optional year
# (2024, 2024年, 2024-), then Q2 or 第二季度 / 二季度 / 2季度 / 二季.
_PERIOD = re.compile(r"^(?:(?P<year>\d{4})年?[-/.]?)?(?:[Qq](?P<q>[1-4])|第?(?P<n>[1-4一二三四])季度?)$")
_NUMERALS = {"一": 1, "二": 2, "三": 3, "四": 4}
FORMS_HINT = "可写 2024Q2、2024-Q2、2024年第二季度，或只写 二季度（指今年）"


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int
    deadline: dt.date

    @classmethod
    def parse(cls, text: str, deadlines: Deadlines | None = None, year: int | None = None) -> Period:
        """Parse 2024Q2, 2024-Q2, 2024年第二季度 and the like; a quarter written without a year
        (二季度, Q2) is in `year` (the caller's "this year"). Raises ValueError with a Chinese
        message on anything else."""
        match = _PERIOD.match(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))
        if not match:
            raise ValueError(f"报告期“{text}”格式不对，{FORMS_HINT}")
        if match["year"] is None and year is None:
            raise ValueError(f"报告期“{text}”没有写年份，请写成 2024Q2 或 2024年第二季度")
        year = int(match["year"]) if match["year"] else year
        numeral = match["q"] or match["n"]
        quarter = _NUMERALS.get(numeral) or int(numeral)
        deadlines = deadlines or Deadlines()
        key = f"{year}Q{quarter}"
        # A date set by hand is the bureau's decision; the usual day follows [deadlines] holiday_rule.
        deadline = deadlines.overrides.get(key) or apply_rule(dt.date(year, quarter * 3, deadlines.day),
                                                              deadlines.holiday_rule)
        return cls(year, quarter, deadline)

    @property
    def key(self) -> str:
        return f"{self.year}Q{self.quarter}"

    @property
    def label(self) -> str:
        """第一季度…"""
        return QUARTER_LABELS[self.quarter]

    @property
    def full_label(self) -> str:
        """2024年第一季度"""
        return f"{self.year}年{self.label}"

    @property
    def pace(self) -> int:
        """序时进度 in percent: 25 per elapsed quarter."""
        return 25 * self.quarter

    @property
    def deadline_label(self) -> str:
        """2024年3月28日"""
        return f"{self.deadline.year}年{self.deadline.month}月{self.deadline.day}日"

    def previous(self, deadlines: Deadlines | None = None) -> Period:
        if self.quarter == 1:
            return Period.parse(f"{self.year - 1}Q4", deadlines)
        return Period.parse(f"{self.year}Q{self.quarter - 1}", deadlines)

    def next(self, deadlines: Deadlines | None = None) -> Period:
        if self.quarter == 4:
            return Period.parse(f"{self.year + 1}Q1", deadlines)
        return Period.parse(f"{self.year}Q{self.quarter + 1}", deadlines)

    def __str__(self) -> str:
        return self.key


def current_period(today: dt.date, deadlines: Deadlines | None = None) -> Period:
    """The quarter a clerk is working on `today` (on the bureau's clock): the one whose deadline is
    nearest. Before a deadline that is the coming one; in the days after it (the final merge, the
    briefing, late files, reminders) it stays the quarter just due, until today is nearer the next
    deadline than the last (a tie goes to the coming one)."""
    around = Period.parse(f"{today.year}Q{(today.month - 1) // 3 + 1}", deadlines)
    candidates = [around.previous(deadlines), around, around.next(deadlines)]
    coming = min((p for p in candidates if p.deadline >= today), key=lambda p: p.deadline)
    passed = [p for p in candidates if p.deadline < today]
    if passed:
        last = max(passed, key=lambda p: p.deadline)
        if (today - last.deadline) < (coming.deadline - today):
            return last
    return coming
