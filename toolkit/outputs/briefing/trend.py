"""The four-quarter trend of the 通报 (Q2–Q4): lights and on-time reporting quarter by quarter.

A leader asks first whether things are getting better; one small table of the year's quarters
so far answers it. An earlier quarter is read from the store as it stood when it ended (on the
first day of the next quarter, when its 通报 is made), the same way its own 汇总表 was
(load_merged), so the row repeats that 通报's figures rather than what later returns changed.
Q1 has nothing to compare with and shows no table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from toolkit.config import Config
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import LIGHT_GREEN, LIGHT_RED, LIGHT_YELLOW


def trend_row(merged: MergedQuarter) -> dict[str, Any]:
    """One quarter's line: its label, the lights and how many units reported on time."""
    counts = merged.counts
    lights = counts["tasks"]["light"]
    expected, on_time = len(counts["units_expected"]), len(counts["units_reported"])
    return {"label": merged.period.label, "green": lights[LIGHT_GREEN], "yellow": lights[LIGHT_YELLOW],
            "red": lights[LIGHT_RED], "on_time": on_time, "expected": expected,
            "on_time_rate": f"{on_time / expected:.0%}" if expected else "—"}


def trend_rows(config: Config, merged: MergedQuarter, as_of: dt.date) -> list[dict[str, Any]] | None:
    """This year's quarters up to this one that have returns in the store, oldest first; None in
    Q1 or when no earlier quarter of the year was merged (a table of one row shows no trend)."""
    period = merged.period
    earlier = [load_merged(config, Period.parse(f"{period.year}Q{q}", config.deadlines),
                           min(as_of, dt.date(period.year, 3 * q + 1, 1)))
               for q in range(1, period.quarter)]
    rows = [trend_row(m) for m in earlier if m.files]
    return [*rows, trend_row(merged)] if rows else None
