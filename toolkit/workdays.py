"""Working days on China's official calendar: statutory holidays and the weekend days made
working days in exchange (调休).

Units are offices: a workbook or a reminder that arrives on a Saturday or during 国庆 waits
unread, and a deadline on a day off is one nobody can meet on the day. The official calendar is
published each year by the State Council; chinese-calendar carries it for the years it knows
(2004–2026 in 1.11.0). For a year it does not know yet, only Saturdays and Sundays are days off:
`covered` says so, and `ducha calendar` and `ducha doctor` tell the clerk to update the package.
"""

from __future__ import annotations

import datetime as dt
import functools

import chinese_calendar

KEEP, PREVIOUS, NEXT = "keep", "previous_workday", "next_workday"
HOLIDAY_RULES = (KEEP, PREVIOUS, NEXT)  # [deadlines] holiday_rule
SEARCH_DAYS = 30  # no run of days off is longer (春节 is 8 or 9 days)


@functools.cache
def covered(year: int) -> bool:
    """Whether the official holidays of `year` are known (otherwise weekends only)."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def known_years() -> tuple[int, int]:
    """The first and last year chinese-calendar knows, for the clerk's note."""
    years = [d.year for d in chinese_calendar.holidays]
    return min(years), max(years)


def is_workday(day: dt.date) -> bool:
    """A working day: not a statutory holiday, and not a weekend unless it is a 调休 working day."""
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def _step(day: dt.date, step: int) -> dt.date:
    for _ in range(SEARCH_DAYS):
        if is_workday(day):
            return day
        day += dt.timedelta(days=step)
    raise ValueError(f"no working day within {SEARCH_DAYS} days of {day}")


def previous_workday(day: dt.date) -> dt.date:
    """day itself when it is a working day, else the last working day before it."""
    return _step(day, -1)


def next_workday(day: dt.date) -> dt.date:
    """day itself when it is a working day, else the first working day after it."""
    return _step(day, 1)


def apply_rule(day: dt.date, rule: str) -> dt.date:
    """A deadline falling on a day off under [deadlines] holiday_rule: kept, or moved."""
    if rule == PREVIOUS:
        return previous_workday(day)
    if rule == NEXT:
        return next_workday(day)
    return day
