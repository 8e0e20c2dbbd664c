"""`ducha generate` as the clerk runs it: each workbook starts from the unit's last accepted answers.

The forms package draws and writes workbooks but must not depend on the quarter's store, which
comes after it; the store lives here, so this is where last quarter's answers are fed into the run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from toolkit.config import Config
from toolkit.forms import generate as forms
from toolkit.period import Period
from toolkit.quarter.store import last_answers


def generate(
    config: Config,
    period: Period,
    units: list[str] | None = None,
    out: Path | None = None,
    now: dt.datetime | None = None,
) -> forms.GenerateResult:
    """Write outbox/<period>/<period>_<单位>.xlsx for every unit with a task, pre-filled with what
    the unit reported in its last accepted file before this period (blank when there is none)."""
    return forms.generate(
        config, period, units, out, now, answers=lambda unit: last_answers(config, unit, period.key)
    )
