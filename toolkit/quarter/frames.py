"""The MergedQuarter: one quarter's files and the ledger turned into the frames everything shows.

汇总表, the receipts and the briefing must count the same things the same way, so they are all
written from one value built here, and building it is a pure function of (ledger, file records,
period, as-of date): the same store gives the same MergedQuarter, whether `ducha merge` just
wrote it or `ducha briefing` reads an earlier quarter back.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from statistics import fmean
from typing import Any

import pandas as pd

from toolkit.forms import layout
from toolkit.model import (
    ROLE_LEAD,
    ROLES,
    VERDICT_ACCEPTED,
    VERDICT_DUPLICATE,
    Indicator,
    Ledger,
    Task,
    TaskReport,
)
from toolkit.period import Period
from toolkit.problems import LEVEL_LABELS
from toolkit.quarter.indicator_frame import indicator_frame
from toolkit.quarter.ownership import judged_rows
from toolkit.quarter.plans import (
    Reported,
    judged_on,
    overdue_by_unit,
    overdue_text,
    plan_frame,
    reported_milestones,
    task_deadlines,
    task_pace,
)
from toolkit.quarter.rules import (
    LIGHT_RED,
    LIGHTS,
    OVERALL_STATUSES,
    STATUS_CLOSED,
    UNIT_LATE,
    UNIT_MISSING,
    UNIT_ON_TIME,
    UNIT_REJECTED,
    VERDICT_LABELS,
    IndicatorRules,
    decide_verdicts,
    file_order,
    is_late,
    light,
    overall_status,
    shown_name,
    unit_standing,
)
from toolkit.quarter.store import FileRecord

UNKNOWN_UNIT = "（无法识别）"

TASK_COLUMNS = ("任务编号", "板块", "任务内容", "责任领导", "牵头单位", "综合状态", "红黄绿灯", "完成进度(%)",
                "各单位进展", "存在问题", "未报送单位", "序时进度(%)", "序时依据", "逾期节点")
UNIT_COLUMNS = ("单位名称", "类型", "报送情况", "文件", "收到时间", "错误数", "提醒数", "任务数", "已完成",
                "进度滞后")
ISSUE_COLUMNS = ("文件", "单位", "收到时间", "判定", "级别", "代码", "位置", "说明")
REPORT_COLUMNS = ("单位", "任务编号", "本单位职责", "完成状态", "完成进度(%)", "本季度进展情况", "存在问题",
                  "下步计划", "具体责任人", "联系电话")
SUSPECT_COLUMNS = ("编号", "单位", "任务编号", "疑点类型", "疑点说明", "核实结果", "核实说明")
SCORE_DETAIL_COLUMNS = ("单位名称", "类型", "季度", "规则", "分值", "依据说明")  # 考评明细 (quarter/scores.py)
LEAGUE_COLUMNS = ("排名组", "排名", "单位名称", "类型", "本季度得分", "年度累计得分", "上季度排名", "名次变化")


@dataclass
class MergedQuarter:
    """A quarter merged: what 汇总表, the receipts and the briefing are written from.

    Frames use the Chinese column names of 汇总表 (the *_COLUMNS tuples above):
    - tasks: one row per ledger task, in task order: 综合状态 ∈ rules.OVERALL_STATUSES,
      红黄绿灯 ∈ rules.LIGHTS, 完成进度(%) is the lead unit's (mean of the leads when a group
      leads; NaN when not given), 各单位进展 / 存在问题 are "【单位】…" lines, 未报送单位 joined by "、".
    - units: one row per expected unit (every unit with a task), 报送情况 ∈ rules.UNIT_STATUSES,
      counts of its tasks and of those it reported 已完成 / 进度滞后.
    - issues: every issue of every file checked for the period (duplicates once).
    - indicators: one row per 量化指标 (one light each, so filters and counts see each target once):
      its kind, the lead's latest value (this period, else the last earlier one, named in 数据期),
      本期应达, 完成率(%) and 指标灯 judged by the kind (rules.indicator_light). When a group leads,
      各单位填报 lists every member's value as "【单位】…" lines (未报 when missing) and 最新值 rolls
      them up: the sum of an amount, of other kinds the mean if indicator_rules says so, else NaN and
      the worst member's light.
      序时进度(%) is what the task owes this quarter, 序时依据 says whether by its 节点计划, its
      时间节点 within the quarter or the flat 25 % a quarter (rules.PACE_PLAN / PACE_DUE /
      PACE_FLAT) and names an approved extension's 时间节点, 逾期节点 names a passed 时间节点 and
      the milestones past due and not met (each turns it red).
    - reports: every accepted task row, one per unit and task.
    - plans: 汇总表 节点计划, one row per milestone of the ledger (plans.PLAN_COLUMNS), overdue first.
    ledger: the ledger merged against; files: every file record of the period, oldest first, with
    its verdict decided; unit_status: {expected unit: rules.UNIT_STATUSES member}; counts: the
    JSON-ready summary (see summary_counts); as_of: the day the lights were judged on;
    indicator_rules: the [indicators] settings the 量化指标 were judged by.
    """

    period: Period
    as_of: dt.date
    ledger: Ledger
    tasks: pd.DataFrame
    units: pd.DataFrame
    issues: pd.DataFrame
    indicators: pd.DataFrame
    reports: pd.DataFrame
    files: list[FileRecord]
    unit_status: dict[str, str]
    counts: dict[str, Any]
    leads: dict[int, tuple[str, ...]]  # task no → the units that lead it (a lead group's members), 单位名录 order
    indicator_rules: IndicatorRules = field(default_factory=IndicatorRules)
    plans: pd.DataFrame = field(default_factory=pd.DataFrame)
    # 考评明细 (SCORE_DETAIL_COLUMNS) and 考评排名 (LEAGUE_COLUMNS): set by quarter/scores.py from the store
    score_details: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SCORE_DETAIL_COLUMNS)))
    league: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(LEAGUE_COLUMNS)))
    score_rules: str = ""  # [scoring] in words, for 汇总表 总览
    # 疑似不实 (SUSPECT_COLUMNS): set from the store by quarter/verify.py, which needs earlier quarters
    suspects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(SUSPECT_COLUMNS)))
    # 申请审核 (延期/办结 requests of the period and their decisions) and each unit's receipt lines
    # about them: set from the store by quarter/review.py
    requests: pd.DataFrame = field(default_factory=pd.DataFrame)
    evidence: pd.DataFrame = field(default_factory=pd.DataFrame)  # 佐证材料 (quarter/evidence.py)
    review_notes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def past_deadline(self) -> bool:
        return self.as_of > self.period.deadline

    def files_of(self, unit: str) -> list[FileRecord]:
        """The unit's files for the period, oldest first."""
        return self._by_unit.get(unit, [])

    @cached_property
    def _by_unit(self) -> dict[str | None, list[FileRecord]]:
        grouped: dict[str | None, list[FileRecord]] = defaultdict(list)
        for record in self.files:
            grouped[record.unit].append(record)
        return dict(grouped)

    @cached_property
    def task_by_no(self) -> dict[int, Task]:
        """The ledger's tasks by number: each receipt looks up its rows' tasks, and scanning the
        ledger per receipt made writing them O(units × tasks)."""
        return {t.no: t for t in reversed(self.ledger.tasks)}

    @cached_property
    def indicators_by_task(self) -> dict[int, list[Indicator]]:
        """The ledger's 量化指标 by task number, in ledger order (see task_by_no)."""
        grouped: dict[int, list[Indicator]] = defaultdict(list)
        for indicator in self.ledger.indicators:
            grouped[indicator.task_no].append(indicator)
        return dict(grouped)

    @cached_property
    def overdue_by_unit(self) -> dict[str, list[pd.Series]]:
        """plans.overdue_by_unit of this quarter, built once: each receipt looks up its own rows."""
        return overdue_by_unit(self.plans, self.ledger)


def _unit_line(report: TaskReport) -> str:
    head = report.status or "状态未填"
    if report.progress is not None:
        head += f"，{report.progress:g}%"
    return f"【{report.unit}】{head}" + (f"：{report.done}" if report.done else "")


def _task_frame(ledger: Ledger, owners: dict[int, list[tuple[str, str]]],
                accepted: dict[str, dict[int, TaskReport]], period: Period, as_of: dt.date, said: Reported,
                extensions: dict[int, dt.date]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """任务进展 and 节点计划 (the milestones judged with the same reports)."""
    rows = []
    deadlines = task_deadlines(ledger, period.year, extensions)
    # What 节点计划 reads, kept only for the tasks that have milestones: a dict of statuses and a
    # set of leads for every task were 22 MB at 10,000 units, held until the frame was built.
    planned = {m.task_no for m in ledger.milestones}
    judged, progress, statuses, lead_sets = {}, {}, {}, {}
    leaders: dict[tuple[str, ...], str] = {}  # one 责任领导 text for each list of leaders
    for task in sorted(ledger.tasks, key=lambda t: t.no):
        reports = [accepted[u][task.no] for u, _ in owners.get(task.no, []) if task.no in accepted.get(u, {})]
        reported = {r.unit for r in reports}
        leads = {u for u, role in owners.get(task.no, []) if role == ROLE_LEAD}  # by today's ledger
        status = overall_status([r.status for r in reports], bool(leads) and leads <= reported)
        lead_numbers = [r.progress for r in reports if r.unit in leads and r.progress is not None]
        lead_progress = round(fmean(lead_numbers), 1) if lead_numbers else None
        due, note = deadlines.get(task.no, (None, ""))
        owed = task_pace(ledger, task, leads, reports, period, as_of, lead_progress, status == layout.STATUS_DONE, said,
                         due)
        if task.no in planned:
            judged[task.no], progress[task.no], lead_sets[task.no] = owed, lead_progress, leads
            statuses[task.no] = {r.unit: r.status for r in reports}
        shown = LIGHT_RED if owed.overdue or owed.passed else light(status, lead_progress, owed.pace, as_of > period.deadline)
        rows.append((
            task.no, task.section, task.content, leaders.setdefault(task.leaders, task.leaders_text), task.lead,
            status, shown, lead_progress,
            "\n".join(_unit_line(r) for r in reports),
            "\n".join(f"【{r.unit}】{r.problems}" for r in reports if r.problems),
            "、".join(u for u, _ in owners.get(task.no, []) if u not in reported),
            owed.pace, owed.basis + note, overdue_text(owed),
        ))
    plans = plan_frame(ledger, judged, progress, statuses, lead_sets, judged_on(period, as_of), said)
    return pd.DataFrame(rows, columns=list(TASK_COLUMNS)), plans


def _deciding_file(files: list[FileRecord]) -> FileRecord | None:
    """The file that speaks for the unit: the accepted one, else the last received."""
    for record in files:
        if record.verdict == VERDICT_ACCEPTED:
            return record
    return files[-1] if files else None


def _unit_frame(ledger: Ledger, expected: dict[str, int], by_unit: dict[str, list[FileRecord]],
                standing: dict[str, str], accepted: dict[str, dict[int, TaskReport]]) -> pd.DataFrame:
    kinds = {u.name: u.kind for u in ledger.units}
    rows = []
    for name, task_count in expected.items():
        record = _deciding_file(by_unit.get(name, []))
        statuses = [r.status for r in accepted.get(name, {}).values()]
        rows.append((
            name, kinds.get(name, ""), standing[name],
            shown_name(record.path) if record else "", record.received.replace("T", " ") if record else "",
            sum(i.level == "error" for i in record.issues) if record else 0,
            sum(i.level == "warning" for i in record.issues) if record else 0,
            task_count, statuses.count(layout.STATUS_DONE), statuses.count(layout.STATUS_LAGGING),
        ))
    return pd.DataFrame(rows, columns=list(UNIT_COLUMNS))


def _issue_frame(files: list[FileRecord]) -> pd.DataFrame:
    rows = [(shown_name(f.path), f.unit or UNKNOWN_UNIT, f.received.replace("T", " "), VERDICT_LABELS[f.verdict],
             LEVEL_LABELS.get(i.level, i.level), i.code, i.where, i.message) for f in files for i in f.issues]
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))


def _leads(owners: dict[int, list[tuple[str, str]]]) -> dict[int, tuple[str, ...]]:
    """The units leading each task, equal tuples one object (10,000 units: 7 → 3 MB)."""
    same: dict[tuple[str, ...], tuple[str, ...]] = {}
    one = same.setdefault
    return {no: one(leads := tuple(u for u, role in entries if role == ROLE_LEAD), leads) for no, entries in owners.items()}


_REPORT_FIELDS = ("unit", "task_no", "role", "status", "progress", "done", "problems", "next", "person", "phone")


def _report_frame(accepted: dict[str, dict[int, TaskReport]]) -> pd.DataFrame:
    """各单位进展, built a column at a time: as row tuples (150,000 at 10,000 units) it took 38 MB
    at its height instead of 21, and that height was the quarter's."""
    reports = [r for unit_reports in accepted.values() for r in unit_reports.values()]
    if not reports:
        return pd.DataFrame([], columns=list(REPORT_COLUMNS))
    frame = pd.DataFrame(index=pd.RangeIndex(len(reports)))
    for name, attribute in zip(REPORT_COLUMNS, _REPORT_FIELDS, strict=True):
        frame[name] = list(map(attrgetter(attribute), reports))
    return frame


def summary_counts(period: Period, standing: dict[str, str], tasks: pd.DataFrame) -> dict[str, Any]:
    """The unit lists (a partition of units_expected) and the task counts of the JSON summary."""

    def units(status: str) -> list[str]:
        return [u for u, s in standing.items() if s == status]

    return {
        "period": period.key,
        "deadline": period.deadline.isoformat(),
        "pace": period.pace,
        "units_expected": list(standing),
        "units_reported": units(UNIT_ON_TIME),
        "units_late": units(UNIT_LATE),
        "units_missing": units(UNIT_MISSING),
        "units_rejected": units(UNIT_REJECTED),
        "tasks": {
            "total": len(tasks),
            # 已办结 is counted only when some task is closed: a year without one is told as before
            "status": {s: n for s in OVERALL_STATUSES if (n := int((tasks["综合状态"] == s).sum())) or s != STATUS_CLOSED},
            "light": {s: int((tasks["红黄绿灯"] == s).sum()) for s in LIGHTS},
        },
    }


def build_merged(ledger: Ledger, records: list[FileRecord], period: Period, as_of: dt.date,
                 earlier_indicators: dict[tuple[str, int, str], tuple[float, str]] | None = None,
                 indicator_rules: IndicatorRules | None = None,
                 extensions: dict[int, dt.date] | None = None) -> MergedQuarter:
    """The MergedQuarter from the ledger and the period's file records (verdicts are decided here,
    so the result does not depend on what an earlier run stored); indicator_rules: [indicators]
    of ducha.toml (default: its defaults); extensions: task no → the 时间节点 an approved
    extension moved it to (quarter/review.py), in force for this period."""
    indicator_rules = indicator_rules or IndicatorRules()
    verdicts = decide_verdicts(records)
    for record in records:
        record.verdict = verdicts[record.sha256]
    files = sorted(records, key=file_order)
    assignments = ledger.assignments()
    owners: dict[int, list[tuple[str, str]]] = defaultdict(list)
    pairs: dict[tuple[str, str], tuple[str, str]] = {}  # each (unit, role) one tuple (10,000 units: 15 → 6 MB)
    for unit, tasks in assignments.items():
        for a in tasks:
            owners[a.task.no].append(pairs.setdefault(pair := (unit, a.role), pair))
    for entries in owners.values():
        entries.sort(key=lambda e: ROLES.index(e[1]))  # stable: 单位名录 order within a role
    by_unit: dict[str, list[FileRecord]] = defaultdict(list)
    for record in files:
        if record.unit is not None:
            by_unit[record.unit].append(record)
    accepted = judged_rows(ledger, assignments, files)  # today's roles; what changed is told
    standing = {unit: unit_standing(by_unit.get(unit, []), period) for unit in assignments}
    tasks, plans = _task_frame(ledger, owners, accepted, period, as_of, reported_milestones(files), extensions or {})
    return MergedQuarter(
        period=period,
        as_of=as_of,
        ledger=ledger,
        tasks=tasks,
        units=_unit_frame(ledger, {u: len(t) for u, t in assignments.items()}, by_unit, standing, accepted),
        issues=_issue_frame(files),
        indicators=indicator_frame(ledger, period, files, earlier_indicators or {}, owners, indicator_rules),
        reports=_report_frame({u: accepted[u] for u in assignments if u in accepted}),
        files=files,
        unit_status=standing,
        counts=summary_counts(period, standing, tasks),
        leads=_leads(owners),
        indicator_rules=indicator_rules,
        plans=plans,
    )


def file_entries(files: list[FileRecord], period: Period) -> list[dict[str, Any]]:
    """One entry per path found: the first copy of a content carries its verdict, later copies
    (same SHA-256) are duplicates and are counted once."""
    entries = []
    for record in files:
        for n, (path, _received) in enumerate(record.paths or [(record.path, record.received)]):
            entries.append({
                "path": path,
                "sha256": record.sha256,
                "unit": record.unit,
                "claimed": record.claimed,
                "received": record.received,
                "verdict": record.verdict if n == 0 else VERDICT_DUPLICATE,
                "late": is_late(record.received, period),
                "issues": [i.as_dict() for i in record.issues],
            })
    return entries
