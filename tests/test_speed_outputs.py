"""Speed (issue 18, round 5): the code above xlsxwriter that writes receipts, 汇总表 and unit
workbooks, and rebuilds the quarter from the store, was made faster without changing a byte.

Each test builds the output twice, once with today's code and once with the straightforward
reference kept here (the code as it was before it was made faster), and compares the bytes or
the frames: any difference, however small (a row height, a line of a receipt), fails. Receipts are
written by leanxlsx on both sides (their xlsxwriter equivalence is tests/test_leanxlsx.py's)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from tests import forms_fixtures
from tests.conftest import ledger_workspace
from tests.merge_fixtures import checked, error, file_records, warning
from tests.test_milestones import BUREAU_B, COUNTY, ROADS, SLIPPED_PLAN, answered, plan_ledger
from toolkit import collector, fastxlsx, xlsx
from toolkit.config import Bureau, load_config
from toolkit.forms.generate import generate_from
from toolkit.forms.meta import load_secret
from toolkit.forms.plan import plan
from toolkit.ledger.build import load_ledger
from toolkit.model import Milestone
from toolkit.outputs import receipts, sheets, summary_book
from toolkit.outputs.receipts import receipt_bytes
from toolkit.outputs.summary_book import book_bytes
from toolkit.period import Period
from toolkit.quarter import frames, ownership, prefill
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.plans import MILESTONE_OVERDUE
from toolkit.quarter.rules import figure
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
NOW = dt.datetime(2024, 6, 1, 9, 0)
LONG = "召开专题会议三次，协调解决项目用地和资金问题，完成阶段目标；" * 6 + "\nSecond line, ASCII only. " * 3


# --- the reference: the per-cell and per-row code as it was --------------------------------------

_WIDE = re.compile(xlsx._WIDE_RUNS.pattern.removesuffix("+"))  # one wide character


def _display_width(text: str) -> float:
    return 1.1 * (len(text) + len(_WIDE.findall(text)))


def _line_count(text: str, width: float) -> int:
    usable = max(width - 1, 1)
    if 1.1 * (2 * len(text)) <= usable:
        return text.count("\n") + 1
    return sum(max(1, math.ceil(_display_width(part) / usable)) for part in text.split("\n"))


def _table_heights(rows, widths) -> list[float]:
    return [xlsx.row_height(list(zip(values, widths, strict=True))) for values in rows]


def _write_value(ws, row: int, col: int, value: object, fmt) -> None:
    if value is None or value == "" or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        ws.write_number(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _write_cell(ws, row: int, col: int, value: object, formats, fmt=None) -> None:
    number = isinstance(value, int | float) and not isinstance(value, bool)
    _write_value(ws, row, col, value, fmt or (formats.number if number else formats.cell))


def _overdue_lines(merged: MergedQuarter, unit: str) -> list[str]:
    plans, ledger = merged.plans, merged.ledger
    if plans.empty:
        return []
    overdue = plans[plans["节点状态"] == MILESTONE_OVERDUE]
    return [
        f"节点逾期：第{row['任务编号']}项第{row['节点序号']}个节点“{row['节点内容']}”计划 {row['计划完成日期']} 达到 "
        f"{figure(row['计划累计进度(%)'])}%，截至本期未完成（责任单位 {row['责任单位']}），该任务为红灯。"
        "请加快推进，并在下次报送的“存在问题”中说明原因和补救措施。"
        for _, row in overdue.iterrows()
        if unit in ledger.expand(row["责任单位"]) or unit in ledger.expand(row["牵头单位"])
    ]


def _judged_rows(ledger, assignments, files):
    """ownership.judged_rows as it was: every kept row copied with today's role."""
    judged = {}
    for record in files:
        if record.verdict != "accepted" or not record.unit:
            continue
        today = {a.task.no: a.role for a in assignments.get(record.unit, [])}
        judged[record.unit] = {r.task_no: dataclasses.replace(r, role=today[r.task_no])
                               for r in record.tasks if today.get(r.task_no) is not None}
    return judged


@pytest.fixture
def reference(monkeypatch: pytest.MonkeyPatch):
    """Switch the writers to the reference code while the test builds its second copy."""

    def use() -> None:
        monkeypatch.setattr(xlsx, "_line_count", _line_count)
        monkeypatch.setattr(sheets, "table_heights", _table_heights)
        monkeypatch.delattr(fastxlsx.Sheet, "write_values")  # rows written a cell at a time
        monkeypatch.setattr(summary_book, "_rows", lambda frame: list(frame.itertuples(index=False)))
        for module in (sheets, xlsx):  # xlsx: write_row's (节点计划 too), a cell at a time without write_values
            monkeypatch.setattr(module, "write_value", _write_value)
        for module in (sheets, receipts, summary_book):
            if hasattr(module, "write_cell"):
                monkeypatch.setattr(module, "write_cell", _write_cell)
        monkeypatch.setattr(receipts, "_overdue_lines", _overdue_lines)

    return use


# --- a quarter with everything the writers draw -------------------------------------------------

GROUP_PLAN = [*SLIPPED_PLAN, Milestone(3, 1, "完成排查", dt.date(2024, 1, 31), 50.0, "各县区"),
              Milestone(1, 1, "完成立项", dt.date(2024, 3, 1), 20.0)]


def _ledger():
    ledger = plan_ledger(GROUP_PLAN)
    ledger.units[2] = dataclasses.replace(ledger.units[2], groups=("各县区",))
    ledger.units.append(dataclasses.replace(ledger.units[0], name="各县区", kind="分组", groups=()))
    return ledger


def _quarter() -> MergedQuarter:
    """Overdue milestones (one owned through a group), a rejected file with a comment on a cell,
    a warning, long answers that wrap, a missing and a non-finite number, a task whose lead moved
    since issue and one the unit no longer holds."""
    ledger = _ledger()
    road = answered(ROADS, {1: ("正常推进", 5.0), 3: ("正常推进", 50.0)}, role="配合")
    late = checked(BUREAU_B, "2024-03-29T09:00:00", {2: ("正常推进", 26.0), 3: ("进度滞后", None)},
                   issues=[warning()], done=LONG, problems=LONG[:40])
    late.tasks = [dataclasses.replace(r, role="牵头") for r in late.tasks]
    bad = checked(COUNTY, "2024-03-20T10:00:00", {2: ("正常推进", float("nan"))}, issues=[error(), warning()],
                  done=LONG)
    bad.tasks = [dataclasses.replace(r, role="县区落实") for r in bad.tasks]
    return build_merged(ledger, file_records(road, late, bad), Q1, dt.date(2024, 4, 2))


def _outputs(quarter: MergedQuarter) -> list[bytes]:
    units = sorted({f.unit for f in quarter.files if f.unit})
    return [book_bytes(quarter, Bureau(), "fp")] + [receipt_bytes(quarter, u, Bureau(), "fp") for u in units]


def test_receipts_and_the_summary_book_are_the_bytes_of_the_reference_code(reference) -> None:
    quarter = _quarter()
    assert set(quarter.overdue_by_unit) == {BUREAU_B, COUNTY, ROADS}  # the test covers each kind of owner
    assert any(i.code == ownership.REASSIGNED for f in quarter.files for i in f.issues)
    now = _outputs(quarter)
    reference()
    assert _outputs(quarter) == now


def test_table_heights_are_those_of_each_row_measured_alone() -> None:
    widths = [9, 48, 60, 10, 1, 20]  # the last column's texts are short, one of them on four lines
    rows = [[1, LONG, "短", 12.5, None, "a"], ["12", "", None, float("nan"), "", "一\n二\n三\n四"],
            [3, "行一\n行二\n行三", LONG[:30], 0, "x", None], [4, "Ａ" * 23, "ascii " * 30, True, "宽", "b"],
            [5, None, "", -1, None, ""]]
    heights = xlsx.table_heights(rows, widths)
    assert heights == _table_heights(rows, widths)
    assert heights[1] == 4 * xlsx.LINE_HEIGHT + 3 and heights[2] == 3 * xlsx.LINE_HEIGHT + 3
    assert heights[4] == xlsx.LINE_HEIGHT + 3 and max(heights) == heights[0]
    assert xlsx.table_heights([], widths) == []


def test_each_unit_gets_the_overdue_rows_a_scan_of_the_whole_plan_finds() -> None:
    quarter = _quarter()
    for unit in [u.name for u in quarter.ledger.units] + ["别的单位"]:
        assert receipts._overdue_lines(quarter, unit) == _overdue_lines(quarter, unit)


def test_a_unit_workbook_is_the_bytes_of_the_reference_code(reference, tmp_path: Path) -> None:
    now = forms_fixtures.generate_small(tmp_path / "now")
    reference()
    then = forms_fixtures.generate_small(tmp_path / "then")
    assert [w.path.name for w in now.workbooks] == [w.path.name for w in then.workbooks]
    for a, b in zip(now.workbooks, then.workbooks, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.unit


def _frames(quarter: MergedQuarter) -> list[pd.DataFrame]:
    return [quarter.tasks, quarter.units, quarter.issues, quarter.indicators, quarter.reports, quarter.plans]


def test_the_merged_frames_are_those_of_the_reference_code(monkeypatch: pytest.MonkeyPatch) -> None:
    records = _quarter().files
    now = build_merged(_ledger(), records, Q1, dt.date(2024, 4, 2))
    monkeypatch.setattr(frames, "judged_rows", lambda *a: (ownership.judged_rows(*a), _judged_rows(*a))[1])
    then = build_merged(_ledger(), records, Q1, dt.date(2024, 4, 2))
    for a, b in zip(_frames(now), _frames(then), strict=True):
        assert a.equals(b) and a.dtypes.equals(b.dtypes)
    assert [f.issues for f in now.files] == [f.issues for f in then.files]


def test_generate_asks_one_open_store_for_every_units_last_answers(tmp_path: Path) -> None:
    """The store is opened once for the run; the workbooks are those of asking it unit by unit."""
    root = ledger_workspace(tmp_path / "ws", NOW)
    config = load_config(root)
    ledger = load_ledger(config)
    units = list(ledger.assignments())[:3]
    with open_store(config.paths.store) as store:
        for unit in units[:2]:
            answers = {a.task.no: ("正常推进", 40.0) for a in ledger.assignments()[unit]}
            store.record(checked(unit, "2024-03-20T10:00:00", answers, done=LONG), "2024Q1", "/a", "accepted")
    Q2 = Period.parse("2024Q2")
    now = prefill.generate(config, Q2, units, tmp_path / "now", NOW)
    then = generate_from(ledger, Q2, config.bureau, load_secret(config.paths.secret), tmp_path / "then", units, NOW,
                         answers=lambda unit: prefill.last_answers(config, unit, Q2.key))
    assert prefill.last_answers(config, units[0], Q2.key)[0] and not prefill.last_answers(config, units[2], Q2.key)[0]
    for a, b in zip(now.workbooks, then.workbooks, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes(), a.unit


def test_each_job_gets_the_indicators_and_milestones_of_the_tasks_it_leads() -> None:
    """plan() indexes the ledger once; each job is what Ledger.indicators_for and a scan of the
    milestones give that unit (in ledger order), with a closed task left out."""
    for ledger in (forms_fixtures.small_ledger(), _ledger()):
        for closed in ((), (2,)):
            for job in plan(ledger, closed=closed).jobs:
                rows = [a for a in ledger.assignments()[job.unit] if a.task.no not in closed]
                led = {a.task.no for a in rows if a.role == "牵头"}
                assert job.indicators == tuple(ledger.indicators_for(job.unit, rows))
                assert job.milestones == tuple(m for m in ledger.milestones if m.task_no in led)
    assert any(job.milestones for job in plan(_ledger()).jobs)
    assert any(job.indicators for job in plan(forms_fixtures.small_ledger()).jobs)


def test_each_unit_workbook_is_built_with_the_collector_paused(tmp_path, monkeypatch) -> None:
    """A unit workbook is thousands of short-lived objects: no cyclic collection walks them while
    it is built (4% of `ducha generate` at 1,000 units), and collection is on again between them."""
    from toolkit.forms import generate

    seen: list[bool] = []

    def write_workbook(path: Path, **kwargs: object) -> None:
        seen.append(gc.isenabled())
        path.write_bytes(b"")

    monkeypatch.setattr(generate, "write_workbook", write_workbook)
    made = generate_from(forms_fixtures.small_ledger(), forms_fixtures.Q1, Bureau(), forms_fixtures.SECRET,
                         tmp_path, now=forms_fixtures.NOW, workers=1)
    assert len(seen) == len(made.workbooks) > 1
    assert not any(seen)
    assert gc.isenabled()


def test_a_written_workbook_is_freed_when_dropped_leaving_the_collector_nothing(tmp_path) -> None:
    """xlsxwriter's sheets hold a method of their book, a cycle that kept every cell of a workbook
    alive until the cyclic collector came by (~1,100 objects a unit workbook); fastxlsx.Book cuts
    it on closing, so the workbook is freed as soon as it is dropped."""
    ledger = forms_fixtures.small_ledger()
    generate_from(ledger, forms_fixtures.Q1, Bureau(), forms_fixtures.SECRET, tmp_path / "warm",
                  now=forms_fixtures.NOW, workers=1)
    gc.collect()
    with collector.paused():
        made = generate_from(ledger, forms_fixtures.Q1, Bureau(), forms_fixtures.SECRET, tmp_path / "out",
                             now=forms_fixtures.NOW, workers=1)
        assert len(made.workbooks) > 1
        assert gc.collect() == 0


def test_the_collector_is_paused_only_while_the_quarter_is_built() -> None:
    assert gc.isenabled()
    with pytest.raises(KeyError), collector.paused():
        assert not gc.isenabled()
        raise KeyError("a failure while building")
    assert gc.isenabled()  # back on, even after a failure
    gc.disable()
    try:
        with collector.paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()
