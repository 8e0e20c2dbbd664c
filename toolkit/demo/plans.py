"""`make demo`, 节点计划: a few lead units plan a task in the first quarter, the clerk copies the plans
into the ledger, and in the second quarter the units report each milestone; one slips.

The other units do not plan, so the year shows both rules side by side: a planned task judged
against its plan, every other task against the flat 25 % a quarter. The planners are the last
units of the list (all clean and on time), apart from those the other scenarios use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from toolkit.config import Config
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.ledger.plan_check import parse_deadline
from toolkit.model import ROLE_LEAD, Ledger
from toolkit.period import Period

PLANNERS = 3  # units that plan one task each
STEPS = (("制定实施方案并报批", dt.date(2024, 3, 15), 20), ("完成年度工作量的六成", dt.date(2024, 5, 31), 60),
         ("全面完成年度任务", dt.date(2024, 11, 30), 100))
DONE_ON = (dt.date(2024, 3, 12), dt.date(2024, 5, 28))  # when the milestones due by June were done

Planned = list[tuple[str, int]]  # (unit, task no), the first one slips in the second quarter


def plan_first_quarter(ledger: Ledger, units: list[str], answers: dict[str, list[unitsim.Mutation]],
                       taken: set[str]) -> Planned:
    """Choose the planners (from the end of the list, units not in `taken` that lead a task due by
    year end) and add to their first-quarter answers the three milestones of that task, reported
    at 25 % so the second quarter has room to slip."""
    leads = ledger.assignments()
    chosen: Planned = []
    for unit in reversed(units):
        tasks = [a.task for a in leads.get(unit, []) if a.role == ROLE_LEAD]
        fit = [t.no for t in tasks if (due := parse_deadline(t.deadline, 2024)) and due >= STEPS[-1][1]]
        if unit not in taken and fit and len(chosen) < PLANNERS:
            chosen.append((unit, fit[0]))
    for unit, no in chosen:
        answers[unit] += [unitsim.answer(no, status="正常推进", progress=25, done="已制定实施方案，正按节点计划推进。",
                                         problems="", next="按节点计划推进。"), _plan_rows(no, _planned)]
    return chosen


def _planned(i: int, _row: int) -> dict[str, Any]:
    if i >= len(STEPS):
        return {}
    content, due, progress = STEPS[i]
    return {"content": content, "due": dt.datetime.combine(due, dt.time()), "progress": progress, "person": "王主任"}


def _plan_rows(no: int, fill: Callable[[int, int], dict[str, Any]], issued_only: bool = False) -> unitsim.Mutation:
    """A unit's edit of its 节点计划: fill(i, row) gives the values of the task's i-th row (with
    issued_only, of its rows that came filled: the milestones of an accepted plan)."""
    cols = {c.key: i for i, c in enumerate(layout.PLAN_COLUMNS, start=1)}

    def edit(wb: Any) -> None:
        ws = wb[layout.SHEET_PLAN]
        rows = [r for r in range(layout.PLAN_FIRST_ROW, ws.max_row + 1) if ws.cell(r, 1).value == no
                and not (issued_only and ws.cell(r, cols["content"]).value is None)]
        for i, row in enumerate(rows):
            for key, value in fill(i, row).items():
                ws.cell(row, cols[key]).value = value

    return edit


def adopt(config: Config, say: Callable[[str], None]) -> None:
    """The clerk's `ducha ledger plans` then `--apply`, after the first quarter's merge."""
    from toolkit.cli.text import plans_lines
    from toolkit.quarter.plan_apply import apply_plans

    say("\n== 采用各单位报送的节点计划 (ducha ledger plans --apply)，2024-04-02 ==")
    result = apply_plans(config, apply=True, now=dt.datetime(2024, 4, 2, 9))
    for line in plans_lines(result.as_dict(), True):
        say(line)
    say("  其余任务没有节点计划，仍按季度平均（25%/季度）判定序时进度")


def follow_second_quarter(planned: Planned, answers: Mapping[str, list[unitsim.Mutation]]
                          ) -> dict[str, list[unitsim.Mutation]]:
    """The second quarter's answers with each planner's 完成情况: the first planner's second
    milestone is 未完成 (it slipped), every other milestone due so far 已完成."""
    followed = {unit: list(mutations) for unit, mutations in answers.items()}
    for n, (unit, no) in enumerate(planned):
        def state(i: int, _row: int, slips: bool = n == 0) -> dict[str, Any]:
            if slips and i == 1:
                return {"state": layout.MILESTONE_NOT_DONE}
            return {"state": layout.MILESTONE_DONE, "actual": dt.datetime.combine(DONE_ON[i], dt.time())}

        followed.setdefault(unit, []).append(_plan_rows(no, state, issued_only=True))
    return followed


def show_followed(config: Config, period: Period, planned: Planned, say: Callable[[str], None]) -> None:
    """How 汇总表 judged the planned tasks and one without a plan, after the second quarter's merge."""
    from toolkit.quarter.collect import load_merged

    tasks = load_merged(config, period, dt.date(2024, 7, 1)).tasks.set_index("任务编号")
    say("节点计划抽查（汇总表“任务进展”“节点计划”）：")
    unplanned = next(no for no in tasks.index if tasks.loc[no, "序时依据"] != "节点计划"
                     and tasks.loc[no, "完成进度(%)"] == tasks.loc[no, "完成进度(%)"])  # not NaN: its lead reported
    for no in [no for _, no in planned] + [unplanned]:
        row = tasks.loc[no]
        overdue = f"，逾期节点：{row['逾期节点']}" if row["逾期节点"] else ""
        say(f"  第{no}项：序时依据 {row['序时依据']}，序时进度 {row['序时进度(%)']:g}%，牵头单位完成进度 "
            f"{row['完成进度(%)']:g}%，{row['红黄绿灯']}{overdue}")
