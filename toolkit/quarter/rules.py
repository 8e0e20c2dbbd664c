"""The quarter's rules, as pure functions: 综合状态, 红黄绿灯, late, verdicts, a unit's standing.

They are what the bureau argues about and changes, so they live apart from the code that feeds
them (the store, the drop folder) and the code that shows them (汇总表, the briefing): each rule
here can be read against RULES_TEXT, the wording printed in 汇总表, and tested on its own.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import PurePath

from toolkit.forms import layout
from toolkit.model import VERDICT_ACCEPTED, VERDICT_DUPLICATE, VERDICT_REJECTED, VERDICT_SUPERSEDED
from toolkit.period import Period
from toolkit.quarter.store import FileRecord

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

RULES_TEXT = (
    "综合状态：无单位报送为“未报送”；任一单位填“进度滞后”即为“进度滞后”；报送单位均填“已完成”为“已完成”；"
    "均填“未启动”为“未启动”；其余为“正常推进”。",
    "红黄绿灯：序时进度 = 25% × 季度数（一季度25%，二季度50%，三季度75%，四季度100%）。"
    "已完成，或牵头单位完成进度不低于序时进度，为绿灯；"
    "落后序时进度不足25个百分点、或有单位填“进度滞后”、或牵头单位未填完成进度，为黄灯；"
    "落后25个百分点及以上，或截止日后仍无单位报送，为红灯。",
    "截止日后收到的文件照常采用，标记为“迟报”；同一单位多次报送，以最后收到的合格文件为准。",
)


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


def file_order(record: FileRecord) -> tuple[str, str, str, str]:
    """The one order of a quarter's files, oldest first: received time, then the 填报日期 the unit
    wrote in the file (its own version, when two arrive in the same second), then the file name;
    the hash only makes it total. The verdicts, 汇总表 and the receipts all use it, so the file a
    receipt shows as latest is the one that was accepted."""
    return (record.received, str(record.filler.get("填报日期", "")), PurePath(record.path).name, record.sha256)


def decide_verdicts(records: list[FileRecord]) -> dict[str, str]:
    """{sha256: verdict}: errors reject; per unit the last accepted file in file_order wins and
    the earlier accepted ones are superseded. A rejected file stays rejected whatever follows."""
    verdicts: dict[str, str] = {}
    candidates: dict[str | None, list[FileRecord]] = defaultdict(list)
    for record in records:
        if record.rejected or record.unit is None:
            verdicts[record.sha256] = VERDICT_REJECTED
        else:
            candidates[record.unit].append(record)
    for files in candidates.values():
        files.sort(key=file_order)
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
