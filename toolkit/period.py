"""A reporting period (2024Q1): its deadline, pace (序时进度) and Chinese labels."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from toolkit.config import Deadlines

QUARTER_LABELS = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
_PERIOD = re.compile(r"^(\d{4})[Qq]([1-4])$")


@dataclass(frozen=True, order=True)
class Period:
    year: int
    quarter: int
    deadline: dt.date

    @classmethod
    def parse(cls, text: str, deadlines: Deadlines | None = None) -> Period:
        """Parse YYYYQn; raises ValueError with a Chinese message on anything else."""
        match = _PERIOD.match(text.strip())
        if not match:
            raise ValueError(f"报告期“{text}”格式不对，应为 年份+Q+季度，如 2024Q1")
        year, quarter = int(match[1]), int(match[2])
        deadlines = deadlines or Deadlines()
        key = f"{year}Q{quarter}"
        deadline = deadlines.overrides.get(key) or dt.date(year, quarter * 3, deadlines.day)
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
