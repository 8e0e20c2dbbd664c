"""Speed (issue 18, second round): the quarter's work after intake grows with the number of
units, not with its square. Each test builds a quarter far larger than the real one (66 units)
and counts the work where a quadratic pass would show (comparisons of keys), never the time."""

from __future__ import annotations

import datetime as dt
import gc
from types import SimpleNamespace

import pandas as pd

from toolkit import pool
from toolkit.model import Ledger, Task, Unit
from toolkit.period import Period
from toolkit.quarter import verify
from toolkit.quarter.rules import IndicatorRules

PASTED = "召开专题会议三次，协调解决项目用地和资金问题，完成阶段目标。"


def _pasting_quarter(n_units: int, tasks_each: int) -> tuple[SimpleNamespace, dict]:
    """Every unit pastes one paragraph into each of its tasks (pattern E) and sends last quarter's
    words again (pattern C): two suspects per answer."""
    units = [f"单位{i:05d}" for i in range(n_units)]
    rows = [(u, i * tasks_each + k + 1, "正常推进", 50.0, f"{u}{PASTED}")
            for i, u in enumerate(units) for k in range(tasks_each)]
    reports = pd.DataFrame(rows, columns=["单位", "任务编号", "完成状态", "完成进度(%)", "本季度进展情况"])
    tasks = [Task(no, "二", "（一）", f"{no}. 任务", ("张三",), "", u) for u, no, *_ in rows]
    ledger = Ledger(tasks, [Unit(u, "市直部门") for u in units])
    merged = SimpleNamespace(
        reports=reports, indicators=pd.DataFrame(columns=["任务编号", "指标名称", "最新值"]),
        indicators_by_task={}, task_by_no={t.no: t for t in tasks}, unit_status=dict.fromkeys(reversed(units), "已报送"),
        indicator_rules=IndicatorRules(), ledger=ledger, period=Period.parse("2024Q2"), as_of=dt.date(2024, 7, 1))
    earlier = {(u, no): verify.Earlier("2024Q1", "正常推进", 40.0, f"{u}{PASTED}") for u, no, *_ in rows}
    return merged, earlier


class _Key(str):
    """A suspect's key that counts how often it is compared with another key."""

    compared = 0

    def __eq__(self, other: object) -> bool:
        type(self).compared += 1
        return str.__eq__(self, other)

    __hash__ = str.__hash__


def test_suspects_of_many_units_are_found_in_one_pass(monkeypatch):
    merged, earlier = _pasting_quarter(300, 10)
    key = verify._key
    monkeypatch.setattr(verify, "_key", lambda *args: _Key(key(*args)))
    _Key.compared = 0
    found = verify.find_suspects(merged, earlier)
    assert len(found) == 300 * 10 * 2
    # 单位名录 order (here the reverse of the names), then task, then pattern
    assert [(s.unit, s.task_no, s.pattern) for s in found[:3]] == [
        ("单位00299", 2991, "C"), ("单位00299", 2991, "E"), ("单位00299", 2992, "C")]
    assert found[1].reason.startswith("与本单位第2992项、第2993项、")
    assert len({s.key for s in found}) == len(found)
    # Counting keys by comparing each with every other (keys.count) is 6,000² = 36 million comparisons.
    assert _Key.compared < 60_000, _Key.compared


def test_pasted_answers_are_found_whatever_the_order_of_the_rows():
    # Pattern E is compared one unit at a time; a unit's rows need not be next to each other.
    merged, earlier = _pasting_quarter(30, 4)
    in_order = verify.find_suspects(merged, earlier)
    merged.reports = merged.reports.sample(frac=1, random_state=7).reset_index(drop=True)
    assert merged.reports["单位"].iloc[0] != merged.reports["单位"].iloc[1]
    assert verify.find_suspects(merged, earlier) == in_order
    assert sum(s.pattern == verify.PATTERN_PASTED for s in in_order) == 30 * 4


def _frozen(shared: list, item: int) -> int:
    """In a pool worker: how many objects the cyclic collector leaves alone for good."""
    return gc.get_freeze_count()


def test_a_workers_shared_quarter_is_not_rescanned_by_the_collector():
    # A receipt or 汇总表 worker holds the whole quarter (~400,000 objects at 3,000 units) for its
    # life; every full collection walked all of it again: a fifth to a third of writing them.
    shared = [(f"单位{i}", [i]) for i in range(20_000)]
    assert all(frozen >= 40_000 for frozen in pool.parallel_map(_frozen, [1, 2], shared, workers=2))
