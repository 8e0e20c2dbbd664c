"""What the three pages of an official 通报 say about 153 tasks, and the 附件 that lists them all.

A leader reads three pages, not a spreadsheet: the body names units (who did not report, who is
criticised), lists only red tasks one line each with the lead unit's own words, and counts yellow
tasks by 板块; everything task by task goes into the 附件 table. These are the lists the Word
template lays out (GB/T 9704); they come from the same MergedQuarter as every other figure.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from toolkit.outputs.briefing.judge import CRITICISM_LABELS
from toolkit.outputs.briefing.text import clean, number, percent, shorten
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import LIGHT_RED, LIGHT_YELLOW, STATUS_LEAD_MISSING, STATUS_MISSING

RED_CONTENT_LIMIT = 13  # one line of the red table at 五号 on a 156 mm text block
RED_PROBLEM_LIMIT = 16
UNREPORTED = (STATUS_LEAD_MISSING, STATUS_MISSING)
_SECTION_NUMBER = re.compile(r"^(（[一二三四五六七八九十]+）|[一二三四五六七八九十]+、)")


def title_lines(period: Period) -> list[str]:
    """The title in two lines broken between phrases (GB/T 9704 7.3.1), never inside a word."""
    return [f"关于{period.full_label}市政府工作报告", "确定事项推进情况的通报"]


def section_name(name: object) -> str:
    """（一）坚持制造立市，壮大… → 制造立市: the 板块 as a short label."""
    return _SECTION_NUMBER.sub("", clean(name).split("，", 1)[0]).replace("坚持", "", 1)


def lead_problem(problems: object, lead: str) -> str:
    """The lead unit's own stated problem (its 【unit】 line), else the first one given."""
    lines = [clean(line) for line in str(problems).splitlines() if clean(line)]
    own = [line for line in lines if line.startswith(f"【{lead}】")]
    chosen = (own or lines or [""])[0]
    return chosen.split("】", 1)[1] if chosen.startswith("【") and "】" in chosen else chosen


def overdue_first(problem: str, overdue: object) -> str:
    """A task's problem led by the milestones it missed (汇总表 逾期节点): 逾期节点：第2个节点…；…"""
    missed = "；".join(clean(line) for line in str(overdue).splitlines() if clean(line))
    return "；".join(part for part in (f"逾期节点：{missed}" if missed else "", problem) if part)


def _red(tasks: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(red tasks whose lead reported, one row each; red tasks nobody reported, grouped by lead)."""
    red = tasks[tasks["红黄绿灯"] == LIGHT_RED]
    reported = red[~red["综合状态"].isin(UNREPORTED)]
    rows = [
        {"no": int(r["任务编号"]), "content": shorten(r["任务内容"], RED_CONTENT_LIMIT), "lead": clean(r["牵头单位"]),
         "problem": overdue_first(shorten(lead_problem(r["存在问题"], clean(r["牵头单位"])), RED_PROBLEM_LIMIT)
                                  or "未填写存在问题", r["逾期节点"])}
        for _, r in reported.iterrows()
    ]
    silent = red[red["综合状态"].isin(UNREPORTED)]
    groups = [
        {"lead": clean(lead), "nos": "、".join(str(int(n)) for n in group["任务编号"])}
        for lead, group in silent.groupby("牵头单位", sort=False)
    ]
    return rows, groups


def _yellow(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    yellow = tasks[tasks["红黄绿灯"] == LIGHT_YELLOW]
    return [{"name": section_name(name), "count": len(group)} for name, group in yellow.groupby("板块", sort=False)]


def _appendix(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    """Every task in ledger order with everything the body leaves out."""
    return [
        {"no": int(r["任务编号"]), "section": section_name(r["板块"]), "content": clean(r["任务内容"]),
         "lead": clean(r["牵头单位"]), "leaders": clean(r["责任领导"]), "status": r["综合状态"],
         "light": r["红黄绿灯"], "progress": percent(number(r["完成进度(%)"])),
         "problem": "；".join(clean(line) for line in str(r["存在问题"]).splitlines() if clean(line))}
        for _, r in tasks.iterrows()
    ]


def criticism_groups(criticised: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The criticised units by reason, each unit once per reason it has: the shortest way to name
    them and why. Red leads are not listed (listed: False): the red tasks table names them."""
    groups = []
    for label in CRITICISM_LABELS:
        units = [row["unit"] for row in criticised if label in row["labels"]]
        if units:
            groups.append({"label": label, "units": units, "listed": label != CRITICISM_LABELS[-1]})
    return groups


def official_context(merged: MergedQuarter, period: Period, criticised: list[dict[str, Any]],
                     stationed: list[dict[str, Any]]) -> dict[str, Any]:
    """The keys the GB/T 9704 Word template adds to the briefing context (criticised: the city's
    own units; stationed: 驻汴单位, asked to coordinate rather than criticised)."""
    red_rows, red_silent = _red(merged.tasks)
    counts = merged.counts
    return {
        "doc_number": "",  # 发文字号, given by render_briefing from the store
        "title_lines": title_lines(period),
        "criticism_groups": criticism_groups(criticised),
        "stationed_groups": criticism_groups(stationed),
        "not_reported": {"missing": counts["units_missing"], "late": counts["units_late"],
                         "rejected": counts["units_rejected"]},
        "red": {"total": len(red_rows) + sum(len(g["nos"].split("、")) for g in red_silent),
                "rows": red_rows, "silent": red_silent},
        "yellow": {"total": int((merged.tasks["红黄绿灯"] == LIGHT_YELLOW).sum()), "sections": _yellow(merged.tasks)},
        "appendix_title": f"{period.full_label}任务推进情况明细表",
        "appendix_rows": _appendix(merged.tasks),
    }
