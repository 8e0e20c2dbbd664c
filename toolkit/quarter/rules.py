"""The quarter's rules, as pure functions: 综合状态, 红黄绿灯, late, verdicts, a unit's standing,
and how a 量化指标 is judged by its kind.

They are what the bureau argues about and changes, so they live apart from the code that feeds
them (the store, the drop folder) and the code that shows them (汇总表, the briefing): each rule
here can be read against RULES_TEXT, the wording printed in 汇总表, and tested on its own.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from toolkit.config import Config, option
from toolkit.forms import layout
from toolkit.model import (
    KIND_AMOUNT,
    KIND_APPROX,
    KIND_CAP,
    VERDICT_ACCEPTED,
    VERDICT_DUPLICATE,
    VERDICT_REJECTED,
    VERDICT_SUPERSEDED,
    Indicator,
    Milestone,
)
from toolkit.period import Period
from toolkit.quarter.store import FileRecord

# 综合状态 of a task: the four unit statuses plus "nobody has reported" and "others reported, the
# lead did not" (a county's 已完成 is its own part only, so the task is not done without the lead).
STATUS_MISSING = "未报送"
STATUS_LEAD_MISSING = "牵头单位未报送"
STATUS_CLOSED = "已办结"  # the bureau approved the task's 申请办结 (quarter/review.py): closed for good
OVERALL_STATUSES = (STATUS_MISSING, STATUS_LEAD_MISSING, layout.STATUS_LAGGING, layout.STATUS_DONE,
                    layout.STATUS_NOT_STARTED, layout.STATUS_ON_TRACK, STATUS_CLOSED)

LIGHT_GREEN = "绿灯"
LIGHT_YELLOW = "黄灯"
LIGHT_RED = "红灯"
LIGHT_NONE = "未亮灯"  # nobody has reported yet and the deadline has not passed
LIGHTS = (LIGHT_GREEN, LIGHT_YELLOW, LIGHT_RED, LIGHT_NONE)
RED_GAP = 25  # points behind 序时进度 that turn a light red
PACE_PLAN = "节点计划"  # 序时依据: the task's own plan in the ledger
PACE_FLAT = "按季度平均"  # 序时依据: no plan, 25 % a quarter
PACE_DUE = "时间节点"  # 序时依据: no plan, the 时间节点 falls within the quarter: 100 % is owed

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
    "综合状态（按各单位已采用的文件）：无单位报送为“未报送”；有单位报送但牵头单位（分组牵头时为其任一应报成员）"
    "未报送，为“牵头单位未报送”，配合单位、县区填“已完成”只表示本单位承担的部分完成；牵头单位已报送时，"
    "任一报送单位填“进度滞后”为“进度滞后”，报送单位均填“已完成”为“已完成”，均填“未启动”为“未启动”，"
    "其余为“正常推进”。",
    "序时进度（“序时依据”列）：总台账中有节点计划的任务为“节点计划”，取计划在本季度截止日的计划累计进度"
    "（年初为0，相邻节点之间按日期线性折算，最后一个节点之后为100）；没有节点计划的，"
    "时间节点不晚于本季度末（如“6月底”在二季度）的任务为“时间节点”，序时进度为100%，"
    "其余为“按季度平均”，序时进度 = 25% × 季度数（一季度25%，二季度50%，三季度75%，四季度100%）。"
    "经审核同意延期的任务，自申请的下一季度起按新的时间节点判定（“序时依据”列注明延期后的时间节点和原时间节点）。",
    "红黄绿灯：完成进度为牵头单位所填（分组牵头时取已报送成员所填的平均值）。“已完成”为绿灯；截止日前无单位报送为“未亮灯”；"
    "截止日后仍无单位报送或牵头单位仍未报送，为红灯。其余按完成进度：牵头单位未填完成进度为黄灯；"
    "落后序时进度25个百分点及以上为红灯；落后不足25个百分点、或为“进度滞后”或“牵头单位未报送”，为黄灯；"
    "其余为绿灯。逾期节点：计划完成日期不晚于截止日（统计日在截止日前时为统计日）的节点，其责任单位（未填为牵头单位）"
    "未填报“已完成”，且牵头单位的完成进度低于该节点的计划累计进度（或未填），该任务为红灯（综合状态为“已完成”的除外），"
    "节点写入“逾期节点”列。牵头单位在填报表“节点计划”表中填报了完成情况的节点，按所填判定："
    "“已完成”为已达到，“未完成”且计划完成日期已到为逾期（不论完成进度）。"
    "时间节点已过（不晚于截止日，统计日在截止日前时为统计日）而综合状态不是“已完成”的任务为红灯，"
    "“逾期节点”列写明“时间节点已过（日期）”。",
    "截止日后收到的文件照常采用，标记为“迟报”；同一单位多次报送，以最后收到的合格文件为准。",
)


def overall_status(statuses: list[str], lead_reported: bool) -> str:
    """综合状态 of a task from the statuses its reporting units gave; lead_reported: the lead
    (every member of a lead group) is among them. Without the lead the others' statuses speak for
    their own parts only, so the task is 牵头单位未报送 whatever they say."""
    if not statuses:
        return STATUS_MISSING
    if not lead_reported:
        return STATUS_LEAD_MISSING
    if layout.STATUS_LAGGING in statuses:
        return layout.STATUS_LAGGING
    if all(s == layout.STATUS_DONE for s in statuses):
        return layout.STATUS_DONE
    if all(s == layout.STATUS_NOT_STARTED for s in statuses):
        return layout.STATUS_NOT_STARTED
    return layout.STATUS_ON_TRACK


def light(status: str, lead_progress: float | None, pace: float, past_deadline: bool) -> str:
    """红黄绿灯 of a task (see RULES_TEXT). The worse light wins when two rules apply: a unit that
    says 进度滞后 keeps the task yellow even when the lead's number is on pace, and a lead that has
    not reported keeps it from green (red once the deadline has passed)."""
    if status == STATUS_MISSING:
        return LIGHT_RED if past_deadline else LIGHT_NONE
    if status == STATUS_LEAD_MISSING and past_deadline:
        return LIGHT_RED
    if status == layout.STATUS_DONE:
        return LIGHT_GREEN
    if lead_progress is None:
        return LIGHT_YELLOW
    gap = pace - lead_progress
    if gap >= RED_GAP:
        return LIGHT_RED
    if gap > 0 or status in (layout.STATUS_LAGGING, STATUS_LEAD_MISSING):
        return LIGHT_YELLOW
    return LIGHT_GREEN


def planned_pace(milestones: list[Milestone], on: dt.date) -> float:
    """序时进度 of a task with a plan: its planned cumulative progress on `on`, 0 on 1 January,
    linear by days between milestones (sorted by date), the last milestone's after it."""
    before_date, before = dt.date(on.year, 1, 1), 0.0
    for m in sorted(milestones, key=lambda m: (m.due, m.seq)):
        if on < m.due:
            span = (m.due - before_date).days
            share = (on - before_date).days / span if span > 0 else 1.0
            return round(before + (m.progress - before) * max(share, 0.0), 1)
        before_date, before = m.due, m.progress
    return before


def quarter_end(period: Period) -> dt.date:
    """The last day of the quarter (6-30 for Q2): a 时间节点 by then is owed in full this quarter."""
    return dt.date(period.year + period.quarter // 4, period.quarter * 3 % 12 + 1, 1) - dt.timedelta(days=1)


def day_label(day: dt.date) -> str:
    """2024年6月30日: how 汇总表, the receipts and the mail name a 时间节点."""
    return f"{day.year}年{day.month}月{day.day}日"


def deadline_passed(due: dt.date) -> str:
    """逾期节点's line for a task past its 时间节点 and not 已完成."""
    return f"时间节点已过（{day_label(due)}）"


def overdue_milestones(milestones: list[Milestone], on: dt.date, lead_progress: float | None,
                       done: Callable[[str], bool]) -> list[Milestone]:
    """The milestones past due on `on` and not met: their unit (blank: the lead, passed as "") did
    not report the task 已完成 (done(unit) is False) and the lead's progress is below the
    milestone's planned progress, or not given."""
    return [m for m in sorted(milestones, key=lambda m: (m.due, m.seq))
            if m.due <= on and not done(m.unit) and (lead_progress is None or lead_progress < m.progress)]


def milestone_label(m: Milestone) -> str:
    """第2个节点“完成主体施工”（计划 2024-06-30 达到 60%）: how 汇总表 and receipts name a milestone."""
    return f"第{m.seq}个节点“{m.content}”（计划 {m.due.isoformat()} 达到 {figure(m.progress)}%）"


def is_late(received: str, period: Period) -> bool:
    """A file received after the deadline day (any time on the 28th is on time)."""
    return dt.date.fromisoformat(received[:10]) > period.deadline


@functools.lru_cache(maxsize=1 << 16)
def shown_name(path: str) -> str:
    """A file's name as the clerk sees it, from its shown path (kept: a quarter's build asks for
    each file's name several times, 40,000 path parses at 10,000 units)."""
    return PurePath(path).name


def file_order(record: FileRecord) -> tuple[str, str, str, str]:
    """The one order of a quarter's files, oldest first: received time, then the 填报日期 the unit
    wrote in the file (its own version, when two arrive in the same second), then the file name;
    the hash only makes it total. The verdicts, 汇总表 and the receipts all use it, so the file a
    receipt shows as latest is the one that was accepted."""
    return (record.received, str(record.filler.get("填报日期", "")), shown_name(record.path), record.sha256)


def decide_verdicts(records: list[FileRecord]) -> dict[str, str]:
    """{sha256: verdict}: errors reject, and so does a claim (a file whose unit only its visible
    table names: never a report, so never the unit's accepted file); per unit the last accepted
    file in file_order wins and the earlier accepted ones are superseded. A rejected file stays
    rejected whatever follows."""
    verdicts: dict[str, str] = {}
    candidates: dict[str | None, list[FileRecord]] = defaultdict(list)
    for record in records:
        if record.rejected or record.unit is None or record.claimed:
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
    退回修改 if every file was rejected (a claimed file included), 未报送 if nothing came."""
    usable = [f for f in files if f.verdict in (VERDICT_ACCEPTED, VERDICT_SUPERSEDED)]
    if usable:
        return UNIT_LATE if all(is_late(f.received, period) for f in usable) else UNIT_ON_TIME
    return UNIT_REJECTED if files else UNIT_MISSING


# --- 量化指标: judged by kind (model.INDICATOR_KINDS) -------------------------------------------------

GROUP_RATES_NONE, GROUP_RATES_MEAN = "none", "mean"


def _tolerance(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 100:
        raise ValueError(value)
    return float(value)


@dataclass(frozen=True)
class IndicatorRules:
    """[indicators] in ducha.toml: the two choices the bureau makes in judging a 量化指标."""

    # 约数 (≈) is on track while within this percentage of the target, either way
    approx_tolerance: float = option(10.0, parse=_tolerance, hint="应为 0 到 100 之间（不含 100）的数字，如 10")
    # what a lead group's members' values of a kind other than 累计量 make: none (each member is
    # judged, the worst light counts) or mean (their average is judged); amounts always add up
    group_rates: str = option(GROUP_RATES_NONE, choices=(GROUP_RATES_NONE, GROUP_RATES_MEAN))

    @classmethod
    def from_config(cls, config: Config) -> IndicatorRules:
        """Typed [indicators]; a wrong key or value is a ConfigError naming it."""
        return config.read("indicators", cls)

    def text(self) -> tuple[str, ...]:
        """The rules as 汇总表 prints them under RULES_TEXT."""
        groups = ("取各成员的平均值评判" if self.group_rates == GROUP_RATES_MEAN
                  else "不汇总：逐个成员与目标值比较，取其中最差的灯")
        return (
            "量化指标：按指标类型亮灯，无填报值为“未亮灯”。增速/比率：截至本季度的数值直接与目标值比较（不按序时进度折算），"
            f"达到为绿灯，差距不足目标值的{RED_GAP}%为黄灯，{RED_GAP}%及以上为红灯；累计量：与“目标值×序时进度”比较，"
            f"达到为绿灯，完成率落后序时进度不足{RED_GAP}个百分点为黄灯，{RED_GAP}个百分点及以上为红灯；"
            "上限：不超过目标值为绿灯，超过为红灯；"
            f"约数：与目标值相差不超过目标值的{figure(self.approx_tolerance)}%为绿灯，不足{RED_GAP}%为黄灯，"
            f"{RED_GAP}%及以上为红灯。完成率 = 完成值 ÷ 目标值（上限不超过时为100%）。",
            "分组（如 各县区）牵头的指标：逐一列出各成员的填报值（未报的写“未报”）；累计量取各成员之和评判，"
            f"其余类型{groups}。",
        )


def figure(value: float) -> str:
    """A number as 汇总表 and the briefing print it: no float noise (0.1 + 0.2), no exponent."""
    return f"{value:.10g}"


def adds_up(kind: str) -> bool:
    """A group's members' amounts add up; their rates, bounds and approximate levels do not."""
    return kind == KIND_AMOUNT


def requirement(ind: Indicator, pace: int, rules: IndicatorRules) -> str:
    """本期应达: the value that is on track now (≥3.12 for 6.24万人 at 序时进度 50%)."""
    if ind.kind == KIND_AMOUNT:
        return f"≥{figure(ind.target * pace / 100)}"
    if ind.kind == KIND_CAP:
        return f"≤{figure(ind.target)}"
    if ind.kind == KIND_APPROX:
        margin = abs(ind.target) * rules.approx_tolerance / 100
        return f"{figure(ind.target - margin)}–{figure(ind.target + margin)}"
    return f"≥{figure(ind.target)}"


def completion(kind: str, value: float | None, target: float) -> float | None:
    """完成率(%) of a 量化指标: value / target; for an upper bound 100 while within it."""
    if value is None or not target:
        return None
    if kind == KIND_CAP:
        return 100.0 if value <= target else round(target / value * 100, 1)
    return round(value / target * 100, 1)


def indicator_light(ind: Indicator, value: float | None, pace: int, rules: IndicatorRules) -> str:
    """红黄绿灯 of a 量化指标 by its kind (see IndicatorRules.text): a rate against the target
    itself, an amount against target × 序时进度, a bound while within, ≈ within the tolerance."""
    if value is None:
        return LIGHT_NONE
    target = ind.target
    if ind.kind == KIND_CAP:
        return LIGHT_GREEN if value <= target else LIGHT_RED
    if ind.kind == KIND_APPROX:
        off = abs(value - target) / abs(target) * 100 if target else (0.0 if value == target else float(RED_GAP))
        if off <= rules.approx_tolerance:
            return LIGHT_GREEN
        return LIGHT_YELLOW if off < RED_GAP else LIGHT_RED
    share = pace if ind.kind == KIND_AMOUNT else 100  # what part of the target is due now
    if round(value - target * share / 100, 9) >= 0:
        return LIGHT_GREEN
    behind = share - value / target * 100 if target > 0 else RED_GAP
    return LIGHT_RED if behind >= RED_GAP else LIGHT_YELLOW


def worst_light(lights: list[str]) -> str:
    """The worst of several lights (red, then yellow, then green); 未亮灯 when none is lit."""
    for candidate in (LIGHT_RED, LIGHT_YELLOW, LIGHT_GREEN):
        if candidate in lights:
            return candidate
    return LIGHT_NONE
