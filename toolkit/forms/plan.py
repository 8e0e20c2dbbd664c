"""Who gets a workbook this quarter, and what it and its file are called.

Generating, mailing and the receipts all have to agree on which units are issued a workbook, with
which rows, and under which file name; deciding that here, apart from how a workbook is drawn,
keeps the mail runs from depending on the sheet writer.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from toolkit.config import Bureau
from toolkit.errors import InputError
from toolkit.model import ROLE_CO, ROLE_COUNTY, ROLE_LEAD, Assignment, Indicator, Ledger, Milestone
from toolkit.period import Period

_Led = TypeVar("_Led", Indicator, Milestone)
_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# A unit's last answers: task_no → {PROGRESS_COLUMNS key: value}, (task_no, name) → {INDICATOR_COLUMNS key: value}
Prefill = Mapping[int, Mapping[str, object]]
IndicatorPrefill = Mapping[tuple[int, str], Mapping[str, object]]


def workbook_title(bureau: Bureau, period: Period) -> str:
    """开封市2024年政府工作报告确定事项第一季度推进情况表 (the quarter's year is named only when it
    differs from the report's year, e.g. a 2025Q1 follow-up of the 2024 report)."""
    quarter = period.label if period.year == bureau.year else period.full_label
    return f"{bureau.city}{bureau.year}年政府工作报告确定事项{quarter}推进情况表"


def file_name(period: Period, unit: str) -> str:
    """2024Q1_市商务局.xlsx; characters Windows forbids in file names become _."""
    return f"{period.key}_{_UNSAFE_FILENAME.sub('_', unit)}.xlsx"


def role_counts(assignments: Sequence[Assignment]) -> dict[str, int]:
    """How many of a unit's rows it leads, supports and carries out as a county."""
    return {role: sum(1 for a in assignments if a.role == role) for role in (ROLE_LEAD, ROLE_CO, ROLE_COUNTY)}


@dataclass(frozen=True)
class UnitJob:
    """One workbook to write: a unit, its rows and the indicators it reports."""

    unit: str
    assignments: tuple[Assignment, ...]
    indicators: tuple[Indicator, ...]
    prefill: Prefill = field(default_factory=dict)  # the unit's last accepted answers
    indicator_prefill: IndicatorPrefill = field(default_factory=dict)
    milestones: tuple[Milestone, ...] = ()  # the ledger's 节点计划 of the tasks it leads


@dataclass(frozen=True)
class Plan:
    """Who gets a workbook, and who does not and why (reported, never silently skipped)."""

    jobs: list[UnitJob]
    units_without_tasks: list[str]
    empty_groups: dict[str, list[int]]  # group → task numbers naming it, which reach nobody through it


def _selected(ledger: Ledger, names: Sequence[str]) -> set[str]:
    """Canonical unit names for --units (aliases and groups accepted); unknown names are an
    InputError naming the closest names in the 单位名录 (市财政厅 → 市财政局)."""
    unknown = [name for name in names if ledger.unit(name) is None]
    if unknown:
        shown = "、".join(_with_suggestion(ledger, name) for name in unknown)
        raise InputError(f"总台账“单位名录”中没有这些单位：{shown}。请检查拼写（可用单位名称、别名或分组名）。")
    return {member for name in names for member in ledger.expand(name)}


def _with_suggestion(ledger: Ledger, name: str) -> str:
    """市财政厅（是不是“市财政局”？）: the closest names and aliases, one per unit, as written."""
    written = {known: unit.name for unit in ledger.units for known in (unit.name, *unit.aliases)}
    close = difflib.get_close_matches(name, written, n=6)
    best = {written[known]: known for known in reversed(close)}  # the closest spelling of each unit
    picks = [f"“{known}”" for known in close if best[written[known]] == known][:3]
    return f"{name}（是不是{'、'.join(picks)}？）" if picks else name


def _led_items(items: Sequence[_Led], assignments: Mapping[str, Sequence[Assignment]]) -> dict[str, tuple[_Led, ...]]:
    """{unit: the items (量化指标 or 节点计划) of the tasks it leads, in ledger order}, in one pass
    for every unit: Ledger.indicators_for scans the whole ledger per unit, O(units²) over a run."""
    leads: dict[int, list[str]] = {}
    for unit, rows in assignments.items():
        for a in rows:
            if a.role == ROLE_LEAD:
                leads.setdefault(a.task.no, []).append(unit)
    found: dict[str, list[_Led]] = {}
    for item in items:
        for unit in leads.get(item.task_no, ()):
            found.setdefault(unit, []).append(item)
    return {unit: tuple(led) for unit, led in found.items()}


def plan(ledger: Ledger, units: Sequence[str] | None = None, closed: Collection[int] = ()) -> Plan:
    """Decide which units get a workbook (those with ≥1 task, groups expanded), in 单位名录 order.
    closed: tasks whose 办结 the bureau approved before this quarter; they leave every workbook, and
    a unit left with none gets no workbook (and is not chased for one)."""
    chosen = _selected(ledger, units) if units else None
    assignments = {unit: kept for unit, rows in ledger.assignments().items()
                   if (kept := [a for a in rows if a.task.no not in closed])}
    indicators, milestones = _led_items(ledger.indicators, assignments), _led_items(ledger.milestones, assignments)
    jobs = [
        UnitJob(unit, tuple(rows), indicators.get(unit, ()), milestones=milestones.get(unit, ()))
        for unit, rows in assignments.items()
        if chosen is None or unit in chosen
    ]
    without = [
        u.name
        for u in ledger.units
        if not u.is_group and u.name not in assignments and (chosen is None or u.name in chosen)
    ]
    empty = {
        g.name: [t.no for t in ledger.tasks if g.name in (t.lead, *t.co, *t.county)]
        for g in ledger.units
        if g.is_group and not ledger.members(g.name)
    }
    return Plan(jobs, without, empty)
