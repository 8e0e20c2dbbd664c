"""Small hand-made ledgers and checked files for the store, rules, frames and publish tests: the
rules are easier to read against three tasks and four units than against the whole notice."""

from __future__ import annotations

import hashlib
import itertools

from toolkit.model import CheckedFile, Indicator, IndicatorReport, Ledger, Task, TaskReport, Unit
from toolkit.problems import Cell, Issue
from toolkit.quarter.store import FileRecord

NDRC = "市发展改革委"
COMMERCE = "市商务局"
LONGTING = "龙亭区"
SHUNHE = "顺河区"

_counter = itertools.count()


def small_ledger() -> Ledger:
    """Task 1 led by 发改委; task 2 led by 商务局 with 发改委; task 3 led by 商务局, 各县区 落实."""
    units = [
        Unit(NDRC, "市直部门"),
        Unit(COMMERCE, "市直部门"),
        Unit(LONGTING, "县区", groups=("各县区",)),
        Unit(SHUNHE, "县区", groups=("各县区",)),
        Unit("各县区", "分组"),
    ]
    tasks = [
        Task(1, "一、主要预期目标", "主要预期目标", "经济增长6.5%。", ("常务副市长",), NDRC, NDRC),
        Task(2, "二、全年重点工作", "（一）扩大有效需求", "社会消费品零售总额增长6%。", ("张三",),
             f"{COMMERCE}、{NDRC}", COMMERCE, co=(NDRC,)),
        Task(3, "二、全年重点工作", "（一）扩大有效需求", "开展促消费活动100场以上。", ("张三",),
             f"{COMMERCE}，各县区", COMMERCE, county=("各县区",)),
    ]
    indicators = [
        Indicator(1, "经济增长", 6.5, "%", "≈", "经济增长6.5%"),
        Indicator(3, "促消费活动", 100, "场", "≥", "开展促消费活动100场以上"),
    ]
    return Ledger(tasks, units, indicators)


ROLES_OF = {NDRC: {1: "牵头", 2: "配合"}, COMMERCE: {2: "牵头", 3: "牵头"}, LONGTING: {3: "县区落实"},
            SHUNHE: {3: "县区落实"}}


def checked(
    unit: str | None,
    received: str,
    answers: dict[int, tuple[str, float | None]] | None = None,
    issues: list[Issue] | None = None,
    indicators: dict[tuple[int, str], float] | None = None,
    period: str = "2024Q1",
    path: str | None = None,
    done: str = "按计划推进",
    problems: str = "",
) -> CheckedFile:
    """A CheckedFile as validate would return it; answers: {task_no: (status, progress)}. Each call
    gets a distinct content hash unless two calls are given the same path and answers."""
    n = next(_counter)
    path = path or f"/drop/{unit or 'unknown'}-{n}.xlsx"
    roles = ROLES_OF.get(unit or "", {})
    answers = answers if answers is not None else {no: ("正常推进", 30.0) for no in roles}
    tasks = [
        TaskReport(unit or "", no, roles.get(no, "配合"), status, progress, done, problems, "继续推进", "李四",
                   "13800000000", 6 + i)
        for i, (no, (status, progress)) in enumerate(sorted(answers.items()))
    ]
    inds = [
        IndicatorReport(unit or "", no, name, value, "", 2 + i)
        for i, ((no, name), value) in enumerate(sorted((indicators or {}).items()))
    ]
    sha = hashlib.sha256(f"{path}{answers}{issues}{n}".encode()).hexdigest()
    return CheckedFile(path=path, sha256=sha, size=1000 + n, received=received, format="xlsx", unit=unit,
                       period=period, signed=unit is not None, filler={"填报人": "李四"},
                       issues=list(issues or []), tasks=tasks, indicators=inds)


def error(code: str = "progress_not_number", cell: str = "F7", message: str = "进展填报!F7 的完成进度应为数字") -> Issue:
    return Issue("error", code, "进展填报", Cell.parse(cell), message)


def warning(code: str = "phone_malformed", cell: str = "K6", message: str = "进展填报!K6 联系电话格式不对") -> Issue:
    return Issue("warning", code, "进展填报", Cell.parse(cell), message)


def file_records(*files: CheckedFile) -> list[FileRecord]:
    """The checked files as the store gives them back for 2024Q1 (each found under its own path)."""
    return [
        FileRecord(f.sha256, "2024Q1", f.path, f.size, f.received, f.format, "/archive", f.unit, False, f.signed,
                   f.filler, "accepted", [(f.path, f.received)], f.issues, f.tasks, f.indicators, f.claimed)
        for f in files
    ]
