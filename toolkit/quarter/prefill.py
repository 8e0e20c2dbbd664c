"""`ducha generate` as the clerk runs it: each workbook starts from the unit's last accepted answers.

The forms package draws and writes workbooks but must not depend on the quarter's store, which
comes after it; the store lives here, so this is where last quarter's answers are fed into the run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from toolkit.config import Config
from toolkit.forms import generate as forms
from toolkit.forms.plan import IndicatorPrefill, Prefill
from toolkit.period import Period
from toolkit.quarter.decisions import closed_before
from toolkit.quarter.store import Store, open_store


def generate(
    config: Config,
    period: Period,
    units: list[str] | None = None,
    out: Path | None = None,
    now: dt.datetime | None = None,
) -> forms.GenerateResult:
    """Write outbox/<period>/<period>_<单位>.xlsx for every unit with an open task, pre-filled with
    what the unit reported in its last accepted file before this period (blank when there is none);
    a task whose 办结 was approved for an earlier quarter is in no workbook.

    The store is opened once for the run, on the first unit's question (asked under the workspace
    lock): opening it for each unit took ~1 s at 1,000 units."""
    with contextlib.ExitStack() as opened:
        stores: list[Store] = []

        def answers(unit: str) -> tuple[Prefill, IndicatorPrefill]:
            if not stores:
                if not config.paths.store.exists():
                    return {}, {}
                stores.append(opened.enter_context(open_store(config.paths.store)))
            return answers_in(stores[0], unit, period.key)

        return forms.generate(config, period, units, out, now, answers=answers, closed=closed_before(config, period))


def last_answers(config: Config, unit: str, before_period: str) -> tuple[Prefill, IndicatorPrefill]:
    """The unit's answers in its last accepted file before `before_period`, keyed as
    forms.writer.write_workbook's prefill (task_no → PROGRESS_COLUMNS keys) and indicator_prefill
    ((task_no, name) → INDICATOR_COLUMNS keys): next quarter's workbook starts from them, so the
    unit updates rather than retypes. Empty when there is no store or no earlier report."""
    if not config.paths.store.exists():
        return {}, {}
    with open_store(config.paths.store) as store:
        return answers_in(store, unit, before_period)


def answers_in(store: Store, unit: str, before_period: str) -> tuple[Prefill, IndicatorPrefill]:
    """last_answers on an open store."""
    found = store.accepted_file(unit, before_period)
    if found is None:
        return {}, {}
    tasks, indicators = store.reports_of(*found)
    return (
        {t.task_no: {"status": t.status, "progress": t.progress, "done": t.done, "problems": t.problems,
                     "next": t.next, "person": t.person, "phone": t.phone} for t in tasks},
        {(i.task_no, i.name): {"value": i.value, "note": i.note} for i in indicators},
    )
