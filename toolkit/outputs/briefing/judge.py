"""Which units the briefing praises and which it criticises. Naming a unit in a government
document has consequences, so the rules live in one place, follow [briefing] in ducha.toml
switch by switch, and give the reason printed next to every name.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from toolkit.forms import layout
from toolkit.model import ROLE_LEAD
from toolkit.outputs.briefing.settings import Rules
from toolkit.outputs.briefing.text import clean, number
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import LIGHT_RED, UNIT_LATE, UNIT_MISSING, UNIT_ON_TIME, UNIT_REJECTED

# Why a unit is criticised, as the Word 通报 groups the criticised units.
CRITICISM_LABELS = ("未报送", "迟报", "退回修改后未重新报送", "牵头任务亮红灯")


def _on_pace(reports: pd.DataFrame, paces: dict[int, float]) -> bool:
    """Every task the unit reported is 已完成, or at or above its own 序时进度 (paces: task → the
    pace 汇总表 judged it by, its plan's or the flat one) and not marked lagging."""
    for _, row in reports.iterrows():
        pace = paces[int(row["任务编号"])]
        progress = number(row["完成进度(%)"])
        if row["完成状态"] == layout.STATUS_DONE:
            continue
        if row["完成状态"] in (layout.STATUS_LAGGING, layout.STATUS_NOT_STARTED) or progress is None:
            return False
        if progress < pace:
            return False
    return True


def _red_led(merged: MergedQuarter, unit: str) -> list[int]:
    """Numbers of the red tasks this unit leads, by the ledger's lead or by the role it reported."""
    tasks, reports = merged.tasks, merged.reports
    led = set(tasks.loc[tasks["牵头单位"] == unit, "任务编号"])
    led |= set(reports.loc[(reports["单位"] == unit) & (reports["本单位职责"] == ROLE_LEAD), "任务编号"])
    red = tasks[(tasks["红黄绿灯"] == LIGHT_RED) & tasks["任务编号"].isin(led)]
    return [int(no) for no in red["任务编号"]]


def judge_units(merged: MergedQuarter, rules: Rules) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(praised, criticised) units in 单位名录 order, each with its kind and the reasons."""
    praise_flags = (rules.praise_on_time, rules.praise_no_errors, rules.praise_on_pace)
    praised, criticised = [], []
    paces = {int(no): float(pace) for no, pace in zip(merged.tasks["任务编号"], merged.tasks["序时进度(%)"], strict=True)}
    for _, unit in merged.units.iterrows():
        name, standing = unit["单位名称"], unit["报送情况"]
        had_errors = any(f.rejected for f in merged.files_of(name))
        own = merged.reports[merged.reports["单位"] == name]
        reported = standing in (UNIT_ON_TIME, UNIT_LATE)
        if (
            any(praise_flags)
            and reported
            and not (rules.praise_on_time and standing != UNIT_ON_TIME)
            and not (rules.praise_no_errors and had_errors)
            and not (rules.praise_on_pace and not _on_pace(own, paces))
        ):
            praised.append({"unit": clean(name), "kind": unit["类型"]})
        red = _red_led(merged, name)
        found = [
            (text, brief)
            for flag, text, brief in (
                (rules.criticize_missing and standing == UNIT_MISSING, "未报送", CRITICISM_LABELS[0]),
                (rules.criticize_late and standing == UNIT_LATE, "迟报", CRITICISM_LABELS[1]),
                (rules.criticize_rejected and standing == UNIT_REJECTED, "报送材料被退回修改，未重新报送合格材料",
                 CRITICISM_LABELS[2]),
                (rules.criticize_red and bool(red), f"牵头任务红灯 {len(red)} 项（第{'、'.join(map(str, red))}项）",
                 CRITICISM_LABELS[3]),
            )
            if flag
        ]
        if found:  # reasons in full (HTML, Markdown); labels to group units by in the Word 通报
            criticised.append({"unit": clean(name), "kind": unit["类型"], "reasons": "；".join(t for t, _ in found),
                               "labels": [label for _, label in found], "red": len(red)})
    return praised, criticised
