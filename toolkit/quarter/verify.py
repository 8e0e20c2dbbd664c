"""疑似不实: the answers a supervisor should check by phone or on site, found by five patterns.

A bureau cannot check 150 tasks × every unit on site; it checks the answers that look wrong against
the unit's own earlier report or its other answers. Each pattern compares what a unit reported this
quarter (the accepted rows of the MergedQuarter) with its last accepted report before it (the
store) or with the 量化指标 judged for the task:

- A 进度倒退: progress lower than the unit's last accepted report for the task.
- B 跃升无佐证: 100 % (or 已完成) after at most 100 − JUMP_POINTS % last time, with no 佐证材料
  named for the task in this quarter's accepted file (the evidence of a 申请办结, intake/requests.py).
  A smaller last step to completion is ordinary progress and is not listed.
- C 文字照搬: this quarter's 完成情况 the same as last quarter's once blanks are removed; not when
  the task was already 已完成 both times (a finished task has nothing new to say).
- D 完成但未达标: the task's lead unit reports 已完成 while a 量化指标 of the task, as 汇总表 judged
  its latest value, is below the whole target (rules.indicator_light at 100 % 序时进度). Only a lead
  that is one unit: a co-unit's 已完成, or a member's of a lead group (各县区), is its own part,
  while the figure is the whole task's.
- E 一文多用: the same 完成情况 on two or more different tasks of one unit. Within one unit only: a
  unit pasting one paragraph into its tasks has not reported on each, while the same sentence
  from different units is mostly shared wording of a joint task or a template, which would bury
  the list.
Short text (under MIN_TEXT characters once blanks are removed: 无, 暂无, 同上, 按计划推进) is never
compared. Each line has a key (pattern letter, task number and four hex digits of a digest of
pattern, unit and task) that is the same on every run, so the clerk confirms it by that key
(`ducha verify confirm`); confirmations are kept per period in the store and count in the score.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass

import pandas as pd

from toolkit.forms import layout
from toolkit.model import VERDICT_ACCEPTED
from toolkit.quarter.frames import SUSPECT_COLUMNS, MergedQuarter
from toolkit.quarter.rules import LIGHT_GREEN, figure, indicator_light
from toolkit.quarter.store import Store

JUMP_POINTS = 50  # a rise to 100 % of at least this many points in one quarter is a jump
MIN_TEXT = 12  # characters of 完成情况 (blanks removed) below which text is not compared

PATTERN_DROP, PATTERN_JUMP, PATTERN_SAME, PATTERN_SHORT, PATTERN_PASTED = "A", "B", "C", "D", "E"
PATTERN_LABELS = {
    PATTERN_DROP: "进度低于上季度",
    PATTERN_JUMP: "跃升至100%无佐证材料",
    PATTERN_SAME: "完成情况与上季度相同",
    PATTERN_SHORT: "已完成但指标未达目标",
    PATTERN_PASTED: "多项任务填报相同内容",
}
PENDING, UNTRUE = "待核实", "确认不实"


@dataclass(frozen=True)
class Suspect:
    """One answer to check: which unit and task, the pattern (PATTERN_LABELS key), and why."""

    key: str
    unit: str
    task_no: int
    pattern: str
    reason: str

    @property
    def label(self) -> str:
        return PATTERN_LABELS[self.pattern]


@dataclass(frozen=True)
class Earlier:
    """A unit's last accepted answer to a task before this quarter, and the period it was in."""

    period: str
    status: str
    progress: float | None
    done: str


_BLANKS = re.compile(r"\s+")  # compiled once: normalised runs on every answer of the quarter


def normalised(text: str) -> str:
    """完成情况 as compared: every blank (spaces, full-width spaces, line breaks) removed."""
    return _BLANKS.sub("", text or "")


def _key(pattern: str, unit: str, task_no: int, digits: int = 4) -> str:
    digest = hashlib.sha256(f"{pattern}|{unit}|{task_no}".encode()).hexdigest()
    return f"{pattern}{task_no}-{digest[:digits]}"


def _pct(value: float | None) -> str:
    return "未填" if value is None or pd.isna(value) else f"{figure(value)}%"


def _done(status: str, progress: float | None) -> bool:
    return status == layout.STATUS_DONE or (progress is not None and not pd.isna(progress) and progress >= 100)


def _against_earlier(unit: str, no: int, answer: tuple, before: Earlier,
                     evidenced: set[tuple[str, int]]) -> list[tuple[str, str]]:
    """Patterns A, B and C of one answer (完成状态, 完成进度(%), 本季度进展情况): (pattern, reason)
    for each that holds."""
    found = []
    progress = None if pd.isna(answer[1]) else float(answer[1])
    status, done = str(answer[0]), str(answer[2])
    if progress is not None and before.progress is not None and progress < before.progress:
        found.append((PATTERN_DROP, f"本季度完成进度{_pct(progress)}，低于{before.period}已采用报告的"
                                    f"{_pct(before.progress)}"))
    was = before.progress if before.progress is not None else 0.0
    if (_done(status, progress) and not _done(before.status, before.progress) and was <= 100 - JUMP_POINTS
            and (unit, no) not in evidenced):
        found.append((PATTERN_JUMP, f"{before.period}完成进度{_pct(before.progress)}，本季度报“{status}”"
                                    f"{_pct(progress)}，一个季度提高{figure(100 - was)}个百分点，未见佐证材料"))
    text = normalised(done)
    if (len(text) >= MIN_TEXT and text == normalised(before.done)
            and not (status == layout.STATUS_DONE and before.status == layout.STATUS_DONE)):
        found.append((PATTERN_SAME, f"本季度完成情况与{before.period}一字不差：“{_clip(done)}”"))
    return found


def _clip(text: str, length: int = 40) -> str:
    text = normalised(text)
    return text if len(text) <= length else text[:length] + "…"


def _below_target(merged: MergedQuarter) -> dict[int, list[str]]:
    """task no → why each 量化指标 judged below its whole target: “名称：最新值/目标值计量单位”."""
    below: dict[int, list[str]] = defaultdict(list)
    table = merged.indicators
    for no, name, value in zip(table["任务编号"], table["指标名称"], table["最新值"], strict=True):
        if pd.isna(value):
            continue
        ind = next((i for i in merged.indicators_by_task.get(int(no), []) if i.name == name), None)
        if ind is not None and indicator_light(ind, float(value), 100, merged.indicator_rules) != LIGHT_GREEN:
            below[ind.task_no].append(f"“{ind.name}”最新值{figure(float(value))}{ind.unit}，"
                                      f"目标{ind.direction}{figure(ind.target)}{ind.unit}")
    return dict(below)


def find_suspects(merged: MergedQuarter, earlier: dict[tuple[str, int], Earlier],
                  evidenced: set[tuple[str, int]] | None = None) -> list[Suspect]:
    """The five patterns over the quarter's accepted answers. earlier: (unit, task no) → the
    unit's last accepted answer before this quarter; evidenced: (unit, task no) with 佐证材料.
    Sorted by unit (单位名录 order), task and pattern; the same inputs give the same list."""
    evidenced = evidenced or set()
    below = _below_target(merged)
    found: list[tuple[str, int, str, str]] = []
    # One pass over plain column values: a pandas row per answer cost ~0.1 ms, 1.5 s at 1,000 units.
    reports = merged.reports
    columns = [reports[c].tolist() for c in ("单位", "任务编号", "完成状态", "完成进度(%)", "本季度进展情况")]
    for unit, no, *answer in zip(*columns, strict=True):
        unit, no = str(unit), int(no)
        if (unit, no) in earlier:
            found += [(unit, no, p, why) for p, why in _against_earlier(unit, no, answer, earlier[(unit, no)], evidenced)]
        task = merged.task_by_no.get(no)
        if task is not None and task.lead == unit and answer[0] == layout.STATUS_DONE and no in below:
            found.append((unit, no, PATTERN_SHORT, "报“已完成”，但" + "；".join(below[no])))
    found += _pasted(columns[0], columns[1], columns[4])
    order = {u: i for i, u in enumerate(merged.unit_status)}
    found.sort(key=lambda f: (order.get(f[0], len(order)), f[0], f[1], f[2]))
    keys = [_key(p, u, n) for u, n, p, _ in found]
    clash = {k for k, times in Counter(keys).items() if times > 1}  # keys.count per key: O(n²)
    return [Suspect(_key(p, u, n, 8) if k in clash else k, u, n, p, why)
            for k, (u, n, p, why) in zip(keys, found, strict=True)]


def _pasted(units: list, nos: list, texts: list) -> list[tuple[str, int, str, str]]:
    """Pattern E, one unit at a time: every answer's normalised text held at once, to compare
    within each unit, took 41 MB at 10,000 units, more than the rest of the quarter's rebuild."""
    rows: dict[str, list[int]] = defaultdict(list)
    for i, unit in enumerate(units):
        rows[str(unit)].append(i)
    found = []
    for unit, positions in rows.items():
        tasks_of: dict[str, list[int]] = defaultdict(list)
        for i in positions:
            if len(text := normalised(str(texts[i]))) >= MIN_TEXT:
                tasks_of[text].append(int(nos[i]))
        for text, same in tasks_of.items():
            for no in same if len(set(same)) > 1 else []:
                others = "、".join(f"第{n}项" for n in sorted(set(same) - {no}))
                found.append((unit, no, PATTERN_PASTED, f"与本单位{others}的完成情况完全相同：“{_clip(text)}”"))
    return found


# --- the store: last quarter's answers, the clerk's confirmations ------------------------------------


def earlier_answers(store: Store, merged: MergedQuarter) -> dict[tuple[str, int], Earlier]:
    """(unit, task no) → each reporting unit's answer in its last accepted file before the quarter."""
    answers = {}
    for unit in sorted(set(merged.reports["单位"])):
        found = store.accepted_file(unit, merged.period.key)
        if found is None:
            continue
        for t in store.reports_of(*found)[0]:
            answers[(unit, t.task_no)] = Earlier(found[1], t.status, t.progress, t.done)
    return answers


def evidenced(merged: MergedQuarter) -> set[tuple[str, int]]:
    """(unit, task no) of every task whose row in an accepted file this quarter names 佐证材料."""
    return {(t.unit, t.task_no) for f in merged.files if f.verdict == VERDICT_ACCEPTED
            for t in f.tasks if t.request is not None and t.request.evidence}


def suspects_of(store: Store, merged: MergedQuarter) -> list[Suspect]:
    """find_suspects on the quarter, the units' earlier answers in the store and their 佐证材料."""
    return find_suspects(merged, earlier_answers(store, merged), evidenced(merged))


def record_confirmations(store: Store, period: str, suspects: list[Suspect], note: str,
                         when: dt.datetime) -> tuple[list[Suspect], list[Suspect]]:
    """Store the clerk's 确认不实 for the given lines of the period (with the line's unit, task and
    reason as they read now); returns (newly confirmed, confirmed before: left as they were)."""
    with store.transaction() as conn:
        before = {k for (k,) in conn.execute("SELECT key FROM verify_confirmations WHERE period = ?", (period,))}
        conn.executemany(
            "INSERT OR IGNORE INTO verify_confirmations VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(period, s.key, s.unit, s.task_no, s.pattern, s.reason, note, when.isoformat(timespec="seconds"))
             for s in suspects])
    return [s for s in suspects if s.key not in before], [s for s in suspects if s.key in before]


def _confirmations(conn: sqlite3.Connection, period: str) -> list[tuple]:
    return conn.execute("SELECT key, unit, task_no, pattern, reason, note, confirmed FROM verify_confirmations "
                        "WHERE period = ? ORDER BY key", (period,)).fetchall()


def confirmed_untrue(store: Store, period: str) -> list[tuple[str, int, str]]:
    """(unit, task no, reason) of every line the clerk confirmed untrue for the period, by key: what
    the score deducts for. The reason is the line's as it read when confirmed, with the clerk's note."""
    return [(unit, no, f"{PATTERN_LABELS[pattern]}：{reason}" + (f"（核实：{note}）" if note else ""))
            for _key, unit, no, pattern, reason, note, _when in _confirmations(store.conn, period)]


def suspect_frame(store: Store, merged: MergedQuarter) -> pd.DataFrame:
    """汇总表 疑似不实: this quarter's lines, each 待核实 or 确认不实 with the clerk's note, then any
    line confirmed earlier that the unit's later file no longer shows (it still counts)."""
    confirmed = {row[0]: row for row in _confirmations(store.conn, merged.period.key)}
    rows = []
    for s in suspects_of(store, merged):
        found = confirmed.pop(s.key, None)
        rows.append((s.key, s.unit, s.task_no, s.label, s.reason, UNTRUE if found else PENDING,
                     _note(found) if found else ""))
    for key, unit, no, pattern, reason, note, when in confirmed.values():
        rows.append((key, unit, no, PATTERN_LABELS[pattern], reason, UNTRUE,
                     _note((key, unit, no, pattern, reason, note, when)) + "（本季度后来的报送已无此疑点）"))
    return pd.DataFrame(rows, columns=list(SUSPECT_COLUMNS))


def _note(row: tuple) -> str:
    note, when = row[5], row[6]
    return f"{when.replace('T', ' ')[:16]} 确认" + (f"：{note}" if note else "")
