"""The ledger's data model: tasks, units, indicators, and who owns what.

Every step after `ledger build` (generate, validate, merge, briefing, mail) reads these types, so
they live apart from the Excel layout that stores them (ledger.py) and the parser that first
produces them (notice.py).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROLE_LEAD = "牵头"
ROLE_CO = "配合"
ROLE_COUNTY = "县区落实"
ROLES = (ROLE_LEAD, ROLE_CO, ROLE_COUNTY)


def _by_init(self: Any) -> tuple[type, tuple]:
    """Pickle a frozen record as a call of its class with its fields: unpickling then runs the
    dataclass __init__, not the field-by-field __setstate__ of a frozen class with slots (the
    10,000-unit ledger cache loads in 0.47 instead of 0.60 s, a reading worker's check of a file
    in 0.06 instead of 0.09 ms). Every field is an __init__ argument: __match_args__ names all."""
    return type(self), tuple(getattr(self, name) for name in self.__match_args__)


UNIT_KINDS = ("市直部门", "县区", "开发区", "驻汴单位", "分组")
GROUP_KIND = "分组"


@dataclass(frozen=True, slots=True)
class Task:
    no: int
    category: str  # 类别: 一、主要预期目标 / 二、全年重点工作
    section: str  # 板块
    content: str  # 任务内容
    leaders: tuple[str, ...]  # 责任领导
    units_text: str  # 责任单位, the notice's wording (repaired)
    lead: str  # 牵头单位 (canonical)
    co: tuple[str, ...] = ()  # 配合单位 (canonical)
    county: tuple[str, ...] = ()  # 县区单位 (canonical; group names such as 各县区 kept)
    deadline: str = ""  # 时间节点
    person: str = ""  # 具体责任人
    note: str = ""  # 备注

    @property
    def leaders_text(self) -> str:
        return "、".join(self.leaders)

    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class Unit:
    name: str  # 单位名称 (canonical)
    kind: str  # 类型, one of UNIT_KINDS
    aliases: tuple[str, ...] = ()  # 别名
    groups: tuple[str, ...] = ()  # 所属分组
    contact: str = ""  # 联系人
    email: str = ""  # 邮箱
    phone: str = ""  # 联系电话
    # Where the 邮箱 cell is (单位名录!F5), so a mail run can point at a bad address; not part of the unit.
    email_at: str = field(default="", compare=False, repr=False)

    @property
    def is_group(self) -> bool:
        return self.kind == GROUP_KIND

    __reduce__ = _by_init


# 指标类型 of a 量化指标: how its reported year-to-date value is judged (quarter.rules).
KIND_RATE = "增速/比率"  # a growth rate or ratio: the value itself is compared with the target
KIND_AMOUNT = "累计量"  # an amount accumulated over the year: compared with target × 序时进度
KIND_CAP = "上限"  # an upper bound (≤): on track while within it
KIND_APPROX = "约数"  # about the target (≈): on track within a tolerance ([indicators] in ducha.toml)
INDICATOR_KINDS = (KIND_RATE, KIND_AMOUNT, KIND_CAP, KIND_APPROX)
# Words that make a percentage a rate (增长6%, 失业率, 占比) rather than a share of a job to finish
# by the year end (完成80%整治任务).
RATE_WORDS = ("增长", "增速", "增幅", "涨幅", "率", "占比", "比重", "比例")
PER_WORDS = ("每千", "每万", "人均")  # a level per head is a ratio whatever its unit (每千人口床位数11.75张)


def default_kind(name: str, unit: str, direction: str) -> str:
    """The kind the words imply, for a ledger that does not say: ≤ is an upper bound; a percentage
    named as a rate, or a level per head, is a rate (about it, ≈, when 左右); anything else —
    counts, money, a share of a job — accumulates over the year, even "about" (1500人左右)."""
    if direction == "≤":
        return KIND_CAP
    per_head = any(word in name for word in PER_WORDS)
    if not per_head and (unit != "%" or not any(word in name for word in RATE_WORDS)):
        return KIND_AMOUNT
    return KIND_APPROX if direction == "≈" else KIND_RATE


@dataclass(frozen=True, slots=True)
class Indicator:
    task_no: int
    name: str  # 指标名称
    target: float  # 目标值
    unit: str  # 计量单位
    direction: str  # 方向: ≥ ≈ ≤ =
    source: str  # 原文
    kind: str = ""  # 指标类型, one of INDICATOR_KINDS; blank: default_kind of the other fields

    def __post_init__(self) -> None:
        if not self.kind:
            object.__setattr__(self, "kind", default_kind(self.name, self.unit, self.direction))

    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class Milestone:
    """One row of 节点计划: by `due` the task should stand at `progress` percent (cumulative); the
    unit that owns this step and its person. Lights are judged against these (quarter.rules)."""

    task_no: int
    seq: int  # 节点序号
    content: str  # 节点内容
    due: dt.date  # 计划完成日期
    progress: float  # 计划累计进度(%), 0–100, rising along a task's plan
    unit: str = ""  # 责任单位 (canonical); blank: the task's lead
    person: str = ""  # 具体责任人

    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class Bonus:
    """One row of 考评加分: points the clerk grants a unit for a quarter (a leader's written praise),
    with the reason and the document it rests on; quarter.scores adds them to the unit's score."""

    period: str  # 季度, as 2024Q1
    unit: str  # 单位 (canonical)
    points: float  # 分值, > 0
    reason: str  # 事由
    basis: str = ""  # 依据 (批示、文件的文号)

    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class Assignment:
    """One task as one unit sees it: the row in that unit's workbook."""

    task: Task
    role: str

    __reduce__ = _by_init


@dataclass
class Ledger:
    tasks: list[Task]
    units: list[Unit]
    indicators: list[Indicator] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)  # 节点计划; empty in a ledger without one
    bonuses: list[Bonus] = field(default_factory=list)  # 考评加分; empty in a ledger without one

    # Lookup indexes, built on first use: a scan per lookup made reading a 1,000-unit ledger
    # (30,000 names) take 2 s. Not data: no part of equality, repr or a copy.
    _indexes: dict[str, tuple[Any, int, dict]] = field(default_factory=dict, init=False, repr=False,
                                                        compare=False)

    def _find(self, kind: str, items: list, keys: Callable[[Any], tuple], key: Any) -> Any | None:
        """The first item one of whose keys is key, as a scan in order finds it, by an index of
        positions. The lists are public and sometimes replaced or edited in place, so the index is
        rebuilt when the list or its length changed, a hit is checked against the item now at its
        position, and a miss is confirmed by a scan (misses are rare: unknown names)."""
        built = self._indexes.get(kind)
        if built is None or built[:2] != (id(items), len(items)):
            positions: dict = {}
            for i, item in enumerate(items):
                for k in keys(item):
                    positions.setdefault(k, i)
            built = self._indexes[kind] = (id(items), len(items), positions)
        at = built[2].get(key)
        if at is not None and key in keys(items[at]):
            return items[at]
        found = next((item for item in items if key in keys(item)), None)
        if found is not None:
            del self._indexes[kind]  # edited in place: rebuilt on the next lookup
        return found

    def plan(self, no: int) -> list[Milestone]:
        """The task's milestones by date (then 节点序号); [] when the task has no plan. From an index
        by task, built once per list: a scan per task made rebuilding a quarter O(tasks ×
        milestones), 1.8 s at 1,000 units with three milestones a task, ~210 s at 10,000, and each
        returned file's check scanned them once per task its unit leads. The index follows the list
        being replaced or resized; milestones are frozen and their lists replaced whole (the
        ledger check, decisions), never edited in place at the same length."""
        built = self._indexes.get("plan")
        if built is None or built[0] is not self.milestones or built[1] != len(self.milestones):
            plans: dict[int, list[Milestone]] = defaultdict(list)
            for m in self.milestones:
                plans[m.task_no].append(m)
            for plan in plans.values():
                plan.sort(key=lambda m: (m.due, m.seq))
            built = self._indexes["plan"] = (self.milestones, len(self.milestones), plans)
        return list(built[2].get(no, ()))

    def task(self, no: int) -> Task:
        found = self.find_task(no)
        if found is None:
            raise KeyError(no)
        return found

    def find_task(self, no: object) -> Task | None:
        """The task numbered no, or None (no may be anything a unit typed)."""
        return self._find("task", self.tasks, lambda t: (t.no,), no)

    def unit(self, name: str) -> Unit | None:
        """Find a unit or group by canonical name or alias. A blank is no unit's (the ledger check
        refuses a blank name and drops empty aliases), answered without the scan that confirms a
        miss: a 节点计划 row left to its lead, as most are, asked this once per row of every file."""
        return self._find("unit", self.units, lambda u: (u.name, *u.aliases), name) if name else None

    def members(self, group: str) -> list[str]:
        """Canonical names of the units that belong to a group, in 单位名录 order: directly, or
        through a group whose 所属分组 names it (各开发区管委会 inside 各县区). A cycle of groups
        (the ledger check's group_cycle error) ends where it started instead of looping."""
        inside = {group}
        frontier = [group]
        while frontier:
            outer = frontier.pop()
            for unit in self.units:
                if unit.is_group and outer in unit.groups and unit.name not in inside:
                    inside.add(unit.name)
                    frontier.append(unit.name)
        return [u.name for u in self.units if not u.is_group and not inside.isdisjoint(u.groups)]

    def group_cycle(self, group: str) -> list[str]:
        """The chain of 所属分组 that leads from a group back to itself (各县区 → 各开发区管委会
        → 各县区), or [] when there is none."""
        outer_of = {u.name: u.groups for u in self.units if u.is_group}
        seen = {group}

        def walk(path: list[str]) -> list[str]:
            for outer in outer_of.get(path[-1], ()):
                if outer == group:
                    return [*path, outer]
                if outer not in seen:
                    seen.add(outer)
                    if found := walk([*path, outer]):
                        return found
            return []

        return walk([group])

    def expand(self, name: str) -> list[str]:
        """A unit name stays itself; a group name becomes its members."""
        return self._expanded(name, self.unit(name))

    def _expanded(self, name: str, unit: Unit | None) -> list[str]:
        if unit is not None and unit.is_group:
            return self.members(unit.name)
        return [unit.name if unit else name]

    def assignments(self) -> dict[str, list[Assignment]]:
        """Every unit's tasks in task order, groups expanded; a unit gets each task once, in its
        strongest role (牵头 over 配合 over 县区落实)."""
        roles: dict[str, dict[int, str]] = defaultdict(dict)
        # expand() and unit() scan the units: over every task's names that is O(units²), 4 s at
        # 10,000 units. The same lookup by dict: the first unit with that name or alias wins.
        known: dict[str, Unit] = {}
        for u in self.units:
            for key in (u.name, *u.aliases):
                known.setdefault(key, u)
        expanded: dict[str, list[str]] = {}
        for task in sorted(self.tasks, key=lambda t: t.no):
            named = [(task.lead, ROLE_LEAD)] + [(u, ROLE_CO) for u in task.co]
            named += [(u, ROLE_COUNTY) for u in task.county]
            for name, role in named:
                if name not in expanded:
                    expanded[name] = self._expanded(name, known.get(name))
                for unit in expanded[name]:
                    held = roles[unit].get(task.no)
                    if held is None or ROLES.index(role) < ROLES.index(held):
                        roles[unit][task.no] = role
        by_no = {t.no: t for t in self.tasks}
        order = {u.name: i for i, u in enumerate(self.units)}
        return {
            unit: [Assignment(by_no[no], role) for no, role in sorted(tasks.items())]
            for unit, tasks in sorted(roles.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        }

    def indicators_for(self, unit: str, assignments: list[Assignment] | None = None) -> list[Indicator]:
        """Indicators of the tasks this unit leads: the lead reports the number. Pass the unit's
        rows from assignments() when looping over many units, to avoid recomputing them."""
        rows = self.assignments().get(unit, []) if assignments is None else assignments
        led = {a.task.no for a in rows if a.role == ROLE_LEAD}
        return [i for i in self.indicators if i.task_no in led]


# --- What comes back: one returned file, checked (intake/reader/validate → store/merge) ---

VERDICT_ACCEPTED = "accepted"
VERDICT_SUPERSEDED = "superseded"
VERDICT_DUPLICATE = "duplicate"
VERDICT_REJECTED = "rejected"
VERDICTS = (VERDICT_ACCEPTED, VERDICT_SUPERSEDED, VERDICT_DUPLICATE, VERDICT_REJECTED)


@dataclass(frozen=True, slots=True)
class Request:
    """What a unit asked for one task in its 进展填报: 申请延期 (to `date`) or 申请办结."""

    kind: str  # forms.layout.REQUEST_EXTEND or REQUEST_CLOSE
    date: str  # 申请完成时间, ISO; "" for 办结
    reason: str  # 理由
    evidence: tuple[str, ...] = ()  # 佐证材料: file names as the unit wrote them
    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class TaskReport:
    """One row of 进展填报 as a unit filled it, values already normalised."""

    unit: str
    task_no: int
    role: str
    status: str  # one of layout.STATUSES, or "" when unusable
    progress: float | None  # 0–100, None when missing or unusable
    done: str  # 本季度进展情况
    problems: str  # 存在问题
    next: str  # 下步计划
    person: str  # 具体责任人
    phone: str  # 联系电话
    row: int  # the Excel row it came from
    request: Request | None = None  # 申请事项 other than 无, when valid
    __reduce__ = _by_init


@dataclass(frozen=True, slots=True)
class IndicatorReport:
    """One row of 量化指标 as a unit filled it."""

    unit: str
    task_no: int
    name: str
    value: float | None  # 截至本季度完成值
    note: str  # 说明
    row: int
    __reduce__ = _by_init


PLAN_NEW = "plan"  # a milestone the unit planned for a task without an accepted plan
PLAN_FOLLOW = "follow"  # a milestone of the ledger's plan the unit reports on
PLAN_CHANGE = "change"  # a milestone of the ledger's plan the unit changed: a request, not an edit
REQUEST_PLAN = "申请调整计划"  # the PLAN_CHANGE rows of one task, as one request in the review


@dataclass(frozen=True, slots=True)
class PlanRow:
    """One row of a returned 节点计划, checked. For PLAN_FOLLOW the plan columns are the ledger's;
    for PLAN_NEW and PLAN_CHANGE what the unit wrote."""

    unit: str
    task_no: int
    kind: str  # PLAN_NEW / PLAN_FOLLOW / PLAN_CHANGE
    seq: int  # 节点序号
    content: str  # 节点内容
    due: str  # 计划完成日期, ISO ("" when not a date: only in a change request)
    progress: float | None  # 计划累计进度(%)
    person: str  # 具体责任人
    state: str  # 完成情况: 已完成 / 未完成 / ""
    actual: str  # 实际完成日期, ISO or ""
    row: int  # the Excel row it came from
    was: str = ""  # PLAN_CHANGE: the accepted milestone it changes, as the 审核表 shows it ("" when new)
    __reduce__ = _by_init


@dataclass
class CheckedFile:
    """A returned file after intake, reading and validation; the store records all of it."""

    path: str  # where it was found in the drop folder
    sha256: str
    size: int
    received: str  # ISO local time: the file's modification time
    format: str  # xlsx / xlsm / xls / ods / html / encrypted / pdf / zip / empty / unknown …
    unit: str | None = None
    period: str | None = None
    signed: bool = False
    # The signature failed, so the unit is only what the visible 填报单位 line and task rows claim:
    # the file is that unit's to be told about, never its report.
    claimed: bool = False
    filler: dict[str, str] = field(default_factory=dict)  # 填报人 / 联系电话 / 单位负责人 / 填报日期
    issues: list = field(default_factory=list)  # list[problems.Issue]
    tasks: list[TaskReport] = field(default_factory=list)
    indicators: list[IndicatorReport] = field(default_factory=list)
    plans: list[PlanRow] = field(default_factory=list)  # 节点计划

    @property
    def rejected(self) -> bool:
        return any(issue.level == "error" for issue in self.issues)
