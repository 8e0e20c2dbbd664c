"""量化指标 as 汇总表 and the briefing show it: each indicator with the value its lead reported (a lead
group's members rolled up as [indicators] says), what the quarter's pace asks, and its light."""

from __future__ import annotations

from statistics import fmean

import pandas as pd

from toolkit.model import ROLE_LEAD, VERDICT_ACCEPTED, Ledger
from toolkit.period import Period
from toolkit.quarter.rules import (
    GROUP_RATES_MEAN,
    IndicatorRules,
    adds_up,
    completion,
    figure,
    indicator_light,
    requirement,
    worst_light,
)
from toolkit.quarter.store import FileRecord

INDICATOR_COLUMNS = ("任务编号", "指标名称", "指标类型", "目标值", "计量单位", "方向", "牵头单位", "最新值",
                     "数据期", "本期应达", "完成率(%)", "指标灯", "各单位填报", "说明")


def _member_values(period: Period, files: list[FileRecord], earlier: dict[tuple[str, int, str], tuple[float, str]]
                   ) -> dict[tuple[str, int, str], tuple[float, str, str]]:
    """(unit, task no, name) → (value, 数据期, 说明): the unit's accepted value of this period, else
    its last earlier one."""
    values = {key: (value, when, "") for key, (value, when) in earlier.items()}
    for record in files:
        if record.verdict == VERDICT_ACCEPTED and record.unit:
            for r in record.indicators:
                if r.value is not None:
                    values[(record.unit, r.task_no, r.name)] = (r.value, period.key, r.note)
    return values


def _member_line(unit: str, found: tuple[float, str, str] | None, shown_light: str, period: Period) -> str:
    if found is None:
        return f"【{unit}】未报"
    when = "" if found[1] == period.key else f"（{found[1]}）"
    return f"【{unit}】{figure(found[0])}{when}" + (f"（{shown_light}）" if shown_light else "")


def _rolled_up(numbers: list[float], group: bool, kind: str, rules: IndicatorRules) -> float | None:
    """The one value judged: a lead unit's own; a lead group's sum of an amount, or the mean of
    another kind when [indicators] group_rates says so; else None (each member is judged)."""
    if not numbers:
        return None
    if not group:
        return numbers[0]
    if adds_up(kind):
        return round(sum(numbers), 10)
    return round(fmean(numbers), 10) if rules.group_rates == GROUP_RATES_MEAN else None


def indicator_frame(ledger: Ledger, period: Period, files: list[FileRecord],
                     earlier: dict[tuple[str, int, str], tuple[float, str]], owners: dict[int, list[tuple[str, str]]],
                     rules: IndicatorRules) -> pd.DataFrame:
    values = _member_values(period, files, earlier)
    leads = {t.no: t.lead for t in ledger.tasks}
    groups = {u.name for u in ledger.units if u.is_group}
    rows = []
    for ind in ledger.indicators:
        lead = leads.get(ind.task_no, "")
        group = lead in groups
        members = [u for u, role in owners.get(ind.task_no, []) if role == ROLE_LEAD]  # by today's ledger
        found = {u: values[(u, ind.task_no, ind.name)] for u in members if (u, ind.task_no, ind.name) in values}
        numbers = [v for v, _, _ in found.values()]
        value = _rolled_up(numbers, group, ind.kind, rules)
        each = {u: indicator_light(ind, v, period.pace, rules) for u, (v, _, _) in found.items()}
        by_member = value is None and bool(numbers)  # a group's rates, not rolled up: each member judged
        notes = [(u, note) for u, (_, _, note) in found.items() if note]
        rows.append((
            ind.task_no, ind.name, ind.kind, ind.target, ind.unit, ind.direction, lead, value,
            "、".join(sorted({when for _, when, _ in found.values()})), requirement(ind, period.pace, rules),
            completion(ind.kind, value, ind.target),
            worst_light(list(each.values())) if by_member else indicator_light(ind, value, period.pace, rules),
            "\n".join(_member_line(u, found.get(u), each.get(u, "") if by_member else "", period)
                      for u in members) if group else "",
            "\n".join(f"【{u}】{note}" for u, note in notes) if group else "".join(note for _, note in notes),
        ))
    return pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS))
