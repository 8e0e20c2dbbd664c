"""Merge a quarter: take in what units returned, decide verdicts, and build the MergedQuarter.

`merge()` is the only step that changes the store: under the workspace lock it archives every new
file in the drop folder before reading it, checks it, and records the result one file per
transaction, so a killed run resumes where it stopped. Everything after that — verdicts,
综合状态, lights, the frames behind 汇总表, receipts and the briefing — is a pure function of
(ledger, store, period, as-of date): `load_merged()` gives the briefing the same MergedQuarter
the merge wrote, for this quarter or an earlier one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePath
from statistics import fmean
from typing import Any

import pandas as pd

from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.forms import layout
from toolkit.fsutil import remove_stale_temps, workspace_lock
from toolkit.model import (
    ROLE_LEAD,
    ROLES,
    VERDICT_ACCEPTED,
    VERDICT_DUPLICATE,
    VERDICT_REJECTED,
    VERDICT_SUPERSEDED,
    Indicator,
    Ledger,
    Task,
    TaskReport,
)
from toolkit.period import Period
from toolkit.problems import LEVEL_LABELS
from toolkit.quarter.store import FileRecord, Store, open_store

# 综合状态 of a task: the four unit statuses plus "nobody has reported".
STATUS_MISSING = "未报送"
OVERALL_STATUSES = (STATUS_MISSING, layout.STATUS_LAGGING, layout.STATUS_DONE, layout.STATUS_NOT_STARTED,
                    layout.STATUS_ON_TRACK)

LIGHT_GREEN = "绿灯"
LIGHT_YELLOW = "黄灯"
LIGHT_RED = "红灯"
LIGHT_NONE = "未亮灯"  # nobody has reported yet and the deadline has not passed
LIGHTS = (LIGHT_GREEN, LIGHT_YELLOW, LIGHT_RED, LIGHT_NONE)
RED_GAP = 25  # points behind 序时进度 that turn a light red

# A unit's standing for the period (单位报送), mutually exclusive.
UNIT_ON_TIME = "已报送"
UNIT_LATE = "迟报"
UNIT_REJECTED = "退回修改"
UNIT_MISSING = "未报送"
UNIT_STATUSES = (UNIT_ON_TIME, UNIT_LATE, UNIT_REJECTED, UNIT_MISSING)

VERDICT_LABELS = {
    VERDICT_ACCEPTED: "采用",
    VERDICT_SUPERSEDED: "已被新文件替代",
    VERDICT_DUPLICATE: "重复文件",
    VERDICT_REJECTED: "退回修改",
}
UNKNOWN_UNIT = "（无法识别）"
WRONG_PERIOD = "wrong_period"  # validate's issue code for a workbook issued for another period

RULES_TEXT = (
    "综合状态：无单位报送为“未报送”；任一单位填“进度滞后”即为“进度滞后”；报送单位均填“已完成”为“已完成”；"
    "均填“未启动”为“未启动”；其余为“正常推进”。",
    "红黄绿灯：序时进度 = 25% × 季度数（一季度25%，二季度50%，三季度75%，四季度100%）。"
    "已完成，或牵头单位完成进度不低于序时进度，为绿灯；"
    "落后序时进度不足25个百分点、或有单位填“进度滞后”、或牵头单位未填完成进度，为黄灯；"
    "落后25个百分点及以上，或截止日后仍无单位报送，为红灯。",
    "截止日后收到的文件照常采用，标记为“迟报”；同一单位多次报送，以最后收到的合格文件为准。",
)

TASK_COLUMNS = ("任务编号", "板块", "任务内容", "责任领导", "牵头单位", "综合状态", "红黄绿灯", "完成进度(%)",
                "各单位进展", "存在问题", "未报送单位")
UNIT_COLUMNS = ("单位名称", "类型", "报送情况", "文件", "收到时间", "错误数", "提醒数", "任务数", "已完成",
                "进度滞后")
ISSUE_COLUMNS = ("文件", "单位", "收到时间", "判定", "级别", "代码", "位置", "说明")
INDICATOR_COLUMNS = ("任务编号", "指标名称", "目标值", "计量单位", "方向", "牵头单位", "最新值", "数据期",
                     "完成率(%)", "说明")
REPORT_COLUMNS = ("单位", "任务编号", "本单位职责", "完成状态", "完成进度(%)", "本季度进展情况", "存在问题",
                  "下步计划", "具体责任人", "联系电话")


@dataclass
class MergedQuarter:
    """A quarter merged: what 汇总表, the receipts and the briefing are written from.

    Frames use the Chinese column names of 汇总表 (the *_COLUMNS tuples above):
    - tasks: one row per ledger task, in task order: 综合状态 ∈ OVERALL_STATUSES, 红黄绿灯 ∈ LIGHTS,
      完成进度(%) is the lead unit's (mean of the leads when a group leads; NaN when not given),
      各单位进展 / 存在问题 are "【单位】…" lines, 未报送单位 joined by "、".
    - units: one row per expected unit (every unit with a task), 报送情况 ∈ UNIT_STATUSES, counts
      of its tasks and of those it reported 已完成 / 进度滞后.
    - issues: every issue of every file checked for the period (duplicates once).
    - indicators: every 量化指标 with its latest value (this period, else the last earlier one,
      named in 数据期) and 完成率(%).
    - reports: every accepted task row, one per unit and task.
    ledger: the ledger merged against; files: every file record of the period, oldest first, with
    its verdict decided; unit_status: {expected unit: UNIT_STATUSES member}; counts: the JSON-ready
    summary (see summary_counts); as_of: the day the lights were judged on.
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


@dataclass
class MergeResult:
    merged: MergedQuarter
    new_files: list[str]  # paths checked in this run
    skipped: list[str]  # paths of files that belong to another period
    outputs: list[Path] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The `ducha merge --json` document."""
        return {
            **self.merged.counts,
            "files": file_entries(self.merged.files, self.merged.period),
            "new_files": self.new_files,
            "skipped": self.skipped,
            "outputs": [str(p) for p in self.outputs],
        }


# --- rules (pure) --------------------------------------------------------------------------


def overall_status(statuses: list[str]) -> str:
    """综合状态 of a task from the statuses its reporting units gave."""
    if not statuses:
        return STATUS_MISSING
    if layout.STATUS_LAGGING in statuses:
        return layout.STATUS_LAGGING
    if all(s == layout.STATUS_DONE for s in statuses):
        return layout.STATUS_DONE
    if all(s == layout.STATUS_NOT_STARTED for s in statuses):
        return layout.STATUS_NOT_STARTED
    return layout.STATUS_ON_TRACK


def light(status: str, lead_progress: float | None, pace: int, past_deadline: bool) -> str:
    """红黄绿灯 of a task (see RULES_TEXT). The worse light wins when two rules apply: a unit that
    says 进度滞后 keeps the task yellow even when the lead's number is on pace."""
    if status == STATUS_MISSING:
        return LIGHT_RED if past_deadline else LIGHT_NONE
    if status == layout.STATUS_DONE:
        return LIGHT_GREEN
    if lead_progress is None:
        return LIGHT_YELLOW
    gap = pace - lead_progress
    if gap >= RED_GAP:
        return LIGHT_RED
    if gap > 0 or status == layout.STATUS_LAGGING:
        return LIGHT_YELLOW
    return LIGHT_GREEN


def is_late(received: str, period: Period) -> bool:
    """A file received after the deadline day (any time on the 28th is on time)."""
    return dt.date.fromisoformat(received[:10]) > period.deadline


def decide_verdicts(records: list[FileRecord]) -> dict[str, str]:
    """{sha256: verdict}: errors reject; per unit the last accepted file by received time wins and
    the earlier accepted ones are superseded. A rejected file stays rejected whatever follows."""
    verdicts: dict[str, str] = {}
    candidates: dict[str | None, list[FileRecord]] = defaultdict(list)
    for record in records:
        if record.rejected or record.unit is None:
            verdicts[record.sha256] = VERDICT_REJECTED
        else:
            candidates[record.unit].append(record)
    for files in candidates.values():
        files.sort(key=lambda r: (r.received, r.sha256))
        for record in files[:-1]:
            verdicts[record.sha256] = VERDICT_SUPERSEDED
        verdicts[files[-1].sha256] = VERDICT_ACCEPTED
    return verdicts


def unit_standing(files: list[FileRecord], period: Period) -> str:
    """已报送 if an accepted (or since superseded) file arrived by the deadline, 迟报 if only later,
    退回修改 if every file was rejected, 未报送 if nothing came."""
    usable = [f for f in files if f.verdict in (VERDICT_ACCEPTED, VERDICT_SUPERSEDED)]
    if usable:
        return UNIT_LATE if all(is_late(f.received, period) for f in usable) else UNIT_ON_TIME
    return UNIT_REJECTED if files else UNIT_MISSING


def completion(value: float | None, target: float, direction: str) -> float | None:
    """完成率(%) of a 量化指标: value / target, or for an upper bound (≤, 以内) 100 when within it."""
    if value is None or not target:
        return None
    if direction == "≤":
        return 100.0 if value <= target else round(target / value * 100, 1)
    return round(value / target * 100, 1)


# --- building the MergedQuarter (pure) -----------------------------------------------------


def _unit_line(report: TaskReport) -> str:
    head = report.status or "状态未填"
    if report.progress is not None:
        head += f"，{report.progress:g}%"
    return f"【{report.unit}】{head}" + (f"：{report.done}" if report.done else "")


def _task_frame(ledger: Ledger, owners: dict[int, list[tuple[str, str]]],
                accepted: dict[str, dict[int, TaskReport]], period: Period, past_deadline: bool) -> pd.DataFrame:
    rows = []
    for task in sorted(ledger.tasks, key=lambda t: t.no):
        reports = [accepted[u][task.no] for u, _ in owners.get(task.no, []) if task.no in accepted.get(u, {})]
        status = overall_status([r.status for r in reports])
        lead_numbers = [r.progress for r in reports if r.role == ROLE_LEAD and r.progress is not None]
        lead_progress = round(fmean(lead_numbers), 1) if lead_numbers else None
        reported = {r.unit for r in reports}
        rows.append((
            task.no, task.section, task.content, task.leaders_text, task.lead, status,
            light(status, lead_progress, period.pace, past_deadline), lead_progress,
            "\n".join(_unit_line(r) for r in reports),
            "\n".join(f"【{r.unit}】{r.problems}" for r in reports if r.problems),
            "、".join(u for u, _ in owners.get(task.no, []) if u not in reported),
        ))
    return pd.DataFrame(rows, columns=list(TASK_COLUMNS))


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
            PurePath(record.path).name if record else "", record.received.replace("T", " ") if record else "",
            sum(i.level == "error" for i in record.issues) if record else 0,
            sum(i.level == "warning" for i in record.issues) if record else 0,
            task_count, statuses.count(layout.STATUS_DONE), statuses.count(layout.STATUS_LAGGING),
        ))
    return pd.DataFrame(rows, columns=list(UNIT_COLUMNS))


def _issue_frame(files: list[FileRecord]) -> pd.DataFrame:
    rows = [
        (PurePath(f.path).name, f.unit or UNKNOWN_UNIT, f.received.replace("T", " "), VERDICT_LABELS[f.verdict],
         LEVEL_LABELS.get(i.level, i.level), i.code, i.where, i.message)
        for f in files
        for i in f.issues
    ]
    return pd.DataFrame(rows, columns=list(ISSUE_COLUMNS))


def _indicator_frame(ledger: Ledger, period: Period, files: list[FileRecord],
                     earlier: dict[tuple[str, int, str], tuple[float, str]]) -> pd.DataFrame:
    current: dict[tuple[int, str], tuple[float, str, str]] = {}
    for record in files:
        if record.verdict == VERDICT_ACCEPTED:
            for r in record.indicators:
                if r.value is not None:
                    current.setdefault((r.task_no, r.name), (r.value, period.key, r.note))
    previous: dict[tuple[int, str], tuple[float, str, str]] = {}
    for (_unit, no, name), (value, key) in sorted(earlier.items(), key=lambda kv: kv[1][1]):
        previous[(no, name)] = (value, key, "")
    leads = {t.no: t.lead for t in ledger.tasks}
    rows = []
    for ind in ledger.indicators:
        value, key, note = current.get((ind.task_no, ind.name)) or previous.get((ind.task_no, ind.name)) or (
            None, "", "")
        rows.append((ind.task_no, ind.name, ind.target, ind.unit, ind.direction, leads.get(ind.task_no, ""),
                     value, key, completion(value, ind.target, ind.direction), note))
    return pd.DataFrame(rows, columns=list(INDICATOR_COLUMNS))


def _report_frame(accepted: dict[str, dict[int, TaskReport]]) -> pd.DataFrame:
    rows = [
        (r.unit, r.task_no, r.role, r.status, r.progress, r.done, r.problems, r.next, r.person, r.phone)
        for reports in accepted.values()
        for r in reports.values()
    ]
    return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


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
            "status": {s: int((tasks["综合状态"] == s).sum()) for s in OVERALL_STATUSES},
            "light": {s: int((tasks["红黄绿灯"] == s).sum()) for s in LIGHTS},
        },
    }


def build_merged(ledger: Ledger, records: list[FileRecord], period: Period, as_of: dt.date,
                 earlier_indicators: dict[tuple[str, int, str], tuple[float, str]] | None = None) -> MergedQuarter:
    """The MergedQuarter from the ledger and the period's file records (verdicts are decided here,
    so the result does not depend on what an earlier run stored)."""
    verdicts = decide_verdicts(records)
    for record in records:
        record.verdict = verdicts[record.sha256]
    files = sorted(records, key=lambda r: (r.received, r.path, r.sha256))
    assignments = ledger.assignments()
    owners: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for unit, tasks in assignments.items():
        for a in tasks:
            owners[a.task.no].append((unit, a.role))
    for entries in owners.values():
        entries.sort(key=lambda e: ROLES.index(e[1]))  # stable: 单位名录 order within a role
    by_unit: dict[str, list[FileRecord]] = defaultdict(list)
    for record in files:
        if record.unit is not None:
            by_unit[record.unit].append(record)
    accepted = {
        r.unit: {t.task_no: t for t in r.tasks} for r in files if r.verdict == VERDICT_ACCEPTED and r.unit
    }
    standing = {unit: unit_standing(by_unit.get(unit, []), period) for unit in assignments}
    past = as_of > period.deadline
    tasks = _task_frame(ledger, owners, accepted, period, past)
    return MergedQuarter(
        period=period,
        as_of=as_of,
        ledger=ledger,
        tasks=tasks,
        units=_unit_frame(ledger, {u: len(t) for u, t in assignments.items()}, by_unit, standing, accepted),
        issues=_issue_frame(files),
        indicators=_indicator_frame(ledger, period, files, earlier_indicators or {}),
        reports=_report_frame({u: accepted[u] for u in assignments if u in accepted}),
        files=files,
        unit_status=standing,
        counts=summary_counts(period, standing, tasks),
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
                "received": record.received,
                "verdict": record.verdict if n == 0 else VERDICT_DUPLICATE,
                "late": is_late(record.received, period),
                "issues": [i.as_dict() for i in record.issues],
            })
    return entries


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The clerk's short Chinese summary of a `merge --json` document."""
    units = {key: summary[key] for key in ("units_expected", "units_reported", "units_late", "units_rejected",
                                            "units_missing")}
    tasks = summary["tasks"]
    verdicts = defaultdict(int)
    for entry in summary["files"]:
        verdicts[entry["verdict"]] += 1
    lines = [
        f"{summary['period']} 汇总完成（截止 {summary['deadline']}，序时进度 {summary['pace']}%）",
        f"本次新处理文件 {len(summary['new_files'])} 个；累计收到 {len(summary['files'])} 个："
        + "，".join(f"{VERDICT_LABELS[v]} {verdicts[v]}" for v in (VERDICT_ACCEPTED, VERDICT_SUPERSEDED,
                                                               VERDICT_DUPLICATE, VERDICT_REJECTED)),
        f"应报单位 {len(units['units_expected'])} 个：已报送 {len(units['units_reported'])}，"
        f"迟报 {len(units['units_late'])}，退回修改 {len(units['units_rejected'])}，"
        f"未报送 {len(units['units_missing'])}",
        "任务综合状态：" + "，".join(f"{k} {v}" for k, v in tasks["status"].items()),
        "红黄绿灯：" + "，".join(f"{k} {v}" for k, v in tasks["light"].items()),
    ]
    if units["units_rejected"]:
        lines.append("退回修改：" + "、".join(units["units_rejected"]))
    for entry in summary["files"]:
        if entry["verdict"] == VERDICT_REJECTED and entry["path"] in summary["new_files"]:
            errors = [i for i in entry["issues"] if i["level"] == "error"]
            lines.append(f"  新退回 {entry['path']}（{entry['unit'] or '单位不明'}）：错误 {len(errors)} 处，"
                         f"如 {errors[0]['message']}")
    if units["units_missing"]:
        lines.append("未报送：" + "、".join(units["units_missing"]))
    if summary["skipped"]:
        lines.append(f"属于其他报告期、本次未汇总的文件 {len(summary['skipped'])} 个")
    book, *receipts = summary["outputs"]
    lines.append(f"汇总表：{book}")
    if receipts:
        lines.append(f"回执 {len(receipts)} 份：{Path(receipts[0]).parent}")
    return lines


# --- the merge run (the only part with side effects) -------------------------------------------


def _needs_check(checked: dict[str, bool], period: str) -> bool:
    """A file is checked against the period being merged unless it already was, or it was checked
    for another period and belonged there (a drop folder kept across quarters). A workbook issued
    for another quarter (sent early, or last quarter's reused) is checked again in each merge."""
    if period in checked:
        return False
    return all(checked.values())


def _facts(path: Path) -> tuple[str, int, str]:
    from toolkit.intake import files as intake

    try:
        return intake.file_facts(path)
    except OSError as exc:  # deleted since the scan, or not readable by the clerk's account
        raise DuchaError(f"无法读取收件夹中的文件 {intake.shown_path(path)}（{exc.strerror or exc}），"
                         "请检查该文件后重新运行") from exc


def _take_in(store: Store, files: list[Path], ledger: Ledger, period: Period, config: Config,
             secret: bytes) -> tuple[list[str], list[str]]:
    """Archive every file not yet checked for the period, then check and record each (one
    transaction per file, in the parent, in a fixed order); returns (paths checked, paths skipped
    as another period's). Files are read in sandbox workers: a file that exhausts a worker's time
    or memory, or crashes it, is recorded as rejected and the others go on."""
    from toolkit import pool
    from toolkit.intake import files as intake
    from toolkit.intake import validate

    new: dict[str, tuple[Path, int, str]] = {}  # sha256 → (path, size, received)
    copies, skipped = [], []
    # Earliest first, so a content found under several paths is received when its first copy was.
    facts = sorted(((_facts(path), path) for path in files), key=lambda f: (f[0][2], str(f[1])))
    for (sha256, size, received), path in facts:
        checked = store.checked_periods(sha256)
        if sha256 in new or not _needs_check(checked, period.key):
            copies.append((sha256, intake.shown_path(path), received))
            if sha256 not in new and period.key not in checked:
                skipped.append(intake.shown_path(path))
        else:
            new[sha256] = (path, size, received)
    limits = intake.Limits.from_config(config)
    archive_dir = config.paths.archive / period.key
    jobs = [(path, sha256) for sha256, (path, _size, _received) in new.items()]
    outcomes = pool.guarded_map(validate.check_dropped, jobs, (ledger, period, secret, limits, archive_dir),
                                   seconds=limits.max_seconds, memory_mb=limits.max_memory_mb)
    with contextlib.closing(outcomes):
        for (sha256, (path, size, received)), outcome in zip(new.items(), outcomes, strict=True):
            shown = intake.shown_path(path)
            if isinstance(outcome, pool.WorkerFailure):
                archived = intake.archive(path, archive_dir, sha256)  # a copy, not a parse: safe here
                result = validate.unread_file(shown, sha256, size, received,
                                              *validate.worker_failure(outcome, limits))
            else:
                archived, result = outcome
            result.path, result.sha256, result.received = shown, sha256, received
            store.record(result, period.key, str(archived),
                         VERDICT_REJECTED if result.rejected else VERDICT_ACCEPTED,
                         other_period=any(i.code == WRONG_PERIOD for i in result.issues))
    for copy in copies:
        store.add_path(*copy)
    return [intake.shown_path(path) for path, _size, _received in new.values()], skipped


def merge(config: Config, period: Period, drop: Path | None = None,
          now: dt.datetime | None = None) -> MergeResult:
    """`ducha merge`: take in the drop folder, decide verdicts, write 汇总表 and the receipts.

    Holds the workspace lock throughout. Rerunning with no new files re-reads nothing and
    rewrites no output byte; a run killed at any point leaves the store and the previous outputs
    intact, and the next run completes the work."""
    from toolkit.ledger.book import load_ledger

    with workspace_lock(config.paths.lock):
        return merge_with(config, load_ledger(config), period, drop, now)


def merge_with(config: Config, ledger: Ledger, period: Period, drop: Path | None = None,
               now: dt.datetime | None = None) -> MergeResult:
    """merge() on a Ledger already in memory (the bench, tests); the caller holds the lock."""
    from toolkit.forms import meta
    from toolkit.intake import files as intake
    from toolkit.outputs import report_book

    now = now or dt.datetime.now()
    secret = meta.load_secret(config.paths.secret)
    files = intake.scan(drop or config.paths.drop)
    with open_store(config.paths.store) as store:
        checked, skipped = _take_in(store, files, ledger, period, config, secret)
        # Every reading worker has stopped: a temporary copy left in the archive is a killed run's.
        remove_stale_temps(*(p for p in config.paths.archive.glob("*") if p.is_dir()))
        merged = _from_store(store, ledger, period, now.date())
        store.set_verdicts(period.key, {f.sha256: f.verdict for f in merged.files})
    outputs = report_book.write_outputs(merged, config.paths.reports, config.bureau)
    return MergeResult(merged, checked, skipped, outputs)


def _from_store(store: Store, ledger: Ledger, period: Period, as_of: dt.date) -> MergedQuarter:
    return build_merged(ledger, store.load_period(period.key), period, as_of,
                        store.latest_indicator_values(period.key))


def load_merged(config: Config, period: Period, as_of: dt.date | None = None) -> MergedQuarter:
    """The MergedQuarter of any period already merged, read from the ledger and the store only.

    as_of decides whether the deadline has passed (for red lights); default today."""
    from toolkit.ledger.book import load_ledger

    if not config.paths.store.exists():
        raise DuchaError(f"数据库 {config.paths.store} 不存在：请先运行 ducha merge --period {period.key}")
    with open_store(config.paths.store) as store:
        return _from_store(store, load_ledger(config), period, as_of or dt.date.today())
