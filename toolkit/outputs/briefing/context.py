"""Everything the briefing shows, as one plain dict the templates lay out.

Leaders read this rather than the spreadsheet, so every number must be the one 汇总表.xlsx shows:
the context is a pure function of the same MergedQuarter 汇总表 is written from, and the
templates only lay it out (a clerk may edit them without being able to change a figure).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from markupsafe import Markup

from toolkit.config import Config
from toolkit.forms import layout
from toolkit.outputs.briefing import charts
from toolkit.outputs.briefing.judge import judge_units
from toolkit.outputs.briefing.official import official_context, overdue_first
from toolkit.outputs.briefing.settings import briefing_settings, issuer_name
from toolkit.outputs.briefing.text import clean, number, percent, shorten
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.rules import (
    LIGHT_GREEN,
    LIGHT_NONE,
    LIGHT_RED,
    LIGHT_YELLOW,
    LIGHTS,
    STATUS_CLOSED,
    STATUS_LEAD_MISSING,
    STATUS_MISSING,
)
from toolkit.quarter.scores import ScoringRules, league_lowest, league_rows

NUMERALS = "一二三四五六七八九十"
STATUS_ORDER = (
    layout.STATUS_DONE,
    layout.STATUS_ON_TRACK,
    layout.STATUS_LAGGING,
    layout.STATUS_NOT_STARTED,
    STATUS_LEAD_MISSING,
    STATUS_MISSING,
)
STATUS_COLORS = {
    layout.STATUS_DONE: "#2e7d32",
    layout.STATUS_ON_TRACK: "#1565c0",
    layout.STATUS_LAGGING: "#ef6c00",
    layout.STATUS_NOT_STARTED: "#9e9e9e",
    STATUS_LEAD_MISSING: "#ad1457",
    STATUS_MISSING: "#6a1b9a",
}
LIGHT_KEYS = {LIGHT_GREEN: "green", LIGHT_YELLOW: "yellow", LIGHT_RED: "red", LIGHT_NONE: "none"}
LIGHT_COLORS = {LIGHT_GREEN: "#2e7d32", LIGHT_YELLOW: "#f9a825", LIGHT_RED: "#c62828", LIGHT_NONE: "#9e9e9e"}
DIRECTION_TEXT = {"≥": "{}以上", "≈": "{}左右", "≤": "{}以内", "=": "{}"}
STATIONED_KIND = "驻汴单位"
CONTENT_LIMIT = 60
PROBLEM_LIMIT = 160


def date_label(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _task_row(row: pd.Series) -> dict[str, Any]:
    """One task as the lists of the briefing show it; a task whose lead has not reported says so
    where the lead's 完成进度 would be, rather than a bare dash."""
    progress = number(row["完成进度(%)"])
    return {
        "no": int(row["任务编号"]),
        "content": shorten(row["任务内容"], CONTENT_LIMIT),
        "lead": clean(row["牵头单位"]),
        "leaders": clean(row["责任领导"]),
        "status": row["综合状态"],
        "light": row["红黄绿灯"],
        "light_key": LIGHT_KEYS.get(row["红黄绿灯"], "none"),
        "progress": STATUS_LEAD_MISSING if progress is None and row["综合状态"] == STATUS_LEAD_MISSING
        else percent(progress),
        "problem": overdue_first(shorten("；".join(clean(line) for line in str(row["存在问题"]).splitlines()),
                                         PROBLEM_LIMIT) or "未填报", row["逾期节点"]),
    }


def _overview(merged: MergedQuarter) -> dict[str, Any]:
    counts = merged.counts
    status_rows = [{"name": s, "count": counts["tasks"]["status"][s]} for s in STATUS_ORDER]
    if closed := counts["tasks"]["status"].get(STATUS_CLOSED):  # 办结销号 (issue 15), told only when there are some
        status_rows.insert(0, {"name": STATUS_CLOSED, "count": closed})
    light_rows = [
        {"name": name, "key": LIGHT_KEYS[name], "count": counts["tasks"]["light"][name]} for name in LIGHTS
    ]
    names = {
        "on_time": counts["units_reported"],
        "late": counts["units_late"],
        "missing": counts["units_missing"],
        "rejected": counts["units_rejected"],
    }
    return {
        "tasks_total": counts["tasks"]["total"],
        "status_rows": status_rows,
        "light_rows": light_rows,
        "status_text": "，".join(f"{r['name']} {r['count']} 项" for r in status_rows),
        "light_text": "，".join(f"{r['name']} {r['count']} 项" for r in light_rows),
        "units": {"expected": len(counts["units_expected"])} | {k: len(v) for k, v in names.items()},
        "unit_names": names,
    }


def _sections(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for name, group in tasks.groupby("板块", sort=False):
        counts = [int((group["综合状态"] == s).sum()) for s in STATUS_ORDER]
        rows.append({"name": clean(name), "counts": counts, "total": len(group)})
    return rows


def _charts(sections: list[dict[str, Any]], overview: dict[str, Any]) -> dict[str, Markup]:
    series = [charts.Series(s, STATUS_COLORS[s]) for s in STATUS_ORDER]
    lights = [(charts.Series(r["name"], LIGHT_COLORS[r["name"]]), r["count"]) for r in overview["light_rows"]]
    return {
        "sections": charts.stacked_bars("各板块任务综合状态", [(r["name"], r["counts"]) for r in sections], series),
        "lights": charts.bars("任务红黄绿灯", lights),
    }


def _target_text(row: pd.Series) -> str:
    value = f"{number(row['目标值']):g}{clean(row['计量单位'])}"
    return DIRECTION_TEXT.get(row["方向"], "{}").format(value)


def _value_text(row: pd.Series, period: Period) -> str:
    """The latest value; a lead group's members one by one when they are not rolled up into one."""
    value = number(row["最新值"])
    if value is None:
        return "；".join(clean(line) for line in row["各单位填报"].splitlines()) or "未报"
    text = f"{value:g}{clean(row['计量单位'])}"
    return text if row["数据期"] in ("", period.key) else f"{text}（{row['数据期']}）"


def _headline(merged: MergedQuarter, section: str) -> list[dict[str, Any]]:
    """The headline targets: one row per 量化指标 of the section's tasks, with its kind and its own
    light (a growth rate is judged against the rate, not 序时进度); a task with no number
    (能耗与“十四五”目标统筹衔接) is one row with its own words as the target and the task's light."""
    rows = []
    for _, task in merged.tasks[merged.tasks["板块"] == section].iterrows():
        found = merged.indicators[merged.indicators["任务编号"] == task["任务编号"]]
        text = shorten(clean(task["任务内容"]).rstrip("。"), 40)
        if found.empty:
            rows.append({"no": int(task["任务编号"]), "name": text, "kind": "—", "target": text, "value": "—",
                         "completion": "—", "light": task["红黄绿灯"],
                         "light_key": LIGHT_KEYS.get(task["红黄绿灯"], "none")})
        for _, r in found.iterrows():
            rows.append({
                "no": int(task["任务编号"]),
                "name": text if len(found) == 1 else shorten(r["指标名称"], 40),
                "kind": r["指标类型"],
                "target": _target_text(r),
                "value": _value_text(r, merged.period),
                "completion": percent(r["完成率(%)"]),
                "light": r["指标灯"],
                "light_key": LIGHT_KEYS.get(r["指标灯"], "none"),
            })
    return rows


def _lagging(tasks: pd.DataFrame) -> list[dict[str, Any]]:
    """Red tasks first, then yellow, each in task order."""
    return [
        _task_row(row)
        for light in (LIGHT_RED, LIGHT_YELLOW)
        for _, row in tasks[tasks["红黄绿灯"] == light].iterrows()
    ]


def _changes(merged: MergedQuarter, previous: MergedQuarter | None) -> dict[str, Any]:
    label = (previous.period if previous else merged.period.previous()).full_label
    if previous is None:
        return {"available": False, "previous_label": label, "groups": [],
                "turned_green": [], "turned_red": [], "newly_completed": []}
    before = previous.tasks.set_index("任务编号")
    found: dict[str, list[dict[str, Any]]] = {"turned_green": [], "turned_red": [], "newly_completed": []}
    for _, row in merged.tasks.iterrows():
        no = row["任务编号"]
        old_light = before.at[no, "红黄绿灯"] if no in before.index else None
        old_status = before.at[no, "综合状态"] if no in before.index else None
        for key, now_value, old_value in (
            ("turned_green", row["红黄绿灯"] == LIGHT_GREEN, old_light == LIGHT_GREEN),
            ("turned_red", row["红黄绿灯"] == LIGHT_RED, old_light == LIGHT_RED),
            ("newly_completed", row["综合状态"] == layout.STATUS_DONE, old_status == layout.STATUS_DONE),
        ):
            if now_value and not old_value:
                found[key].append(_task_row(row))
    names = {"turned_green": "转为绿灯", "turned_red": "转为红灯", "newly_completed": "新完成"}
    return {
        "available": True,
        "previous_label": label,
        "groups": [{"name": names[k], "rows": rows} for k, rows in found.items()],
        **found,
    }


def _year_end(merged: MergedQuarter) -> list[dict[str, Any]] | None:
    """Q4 only: unfinished tasks grouped by lead unit, units in 单位名录 order, as the notice asks
    (年底未完成任务的单位予以批评)."""
    if merged.period.quarter != 4:
        return None
    unfinished = merged.tasks[merged.tasks["综合状态"] != layout.STATUS_DONE]
    order = {name: i for i, name in enumerate(merged.units["单位名称"])}
    leads = sorted(set(unfinished["牵头单位"]), key=lambda u: (order.get(u, len(order)), u))
    return [
        {"unit": clean(lead), "tasks": [_task_row(r) for _, r in unfinished[unfinished["牵头单位"] == lead].iterrows()]}
        for lead in leads
    ]


def briefing_context(
    merged: MergedQuarter, previous: MergedQuarter | None, config: Config, period: Period
) -> dict[str, Any]:
    """Everything the templates show, computed from the MergedQuarter behind 汇总表 (so the two
    agree) and dated by its as-of day (so a rerun reproduces the same document)."""
    settings = briefing_settings(config)
    overview = _overview(merged)
    sections = _sections(merged.tasks)
    praised, criticised = judge_units(merged, settings.rules)
    issuer = issuer_name(config, settings)
    day = date_label(merged.as_of)
    city = [r for r in criticised if r["kind"] != STATIONED_KIND]
    stationed = [r for r in criticised if r["kind"] == STATIONED_KIND]
    return {
        "title": f"关于{period.full_label}市政府工作报告确定事项推进情况的通报",
        "issuer": issuer,
        "addressee": settings.addressee,
        "intro": (
            f"{config.bureau.name}对各责任单位报送的{period.full_label}市政府工作报告确定事项推进情况"
            f"（截止时间{period.deadline_label}）进行了汇总分析，统计截至{day}。现将有关情况通报如下："
        ),
        "date_label": day,
        "numerals": NUMERALS,
        "period": {
            "key": period.key,
            "full_label": period.full_label,
            "quarter": period.quarter,
            "pace": period.pace,
            "deadline_label": period.deadline_label,
        },
        "status_names": list(STATUS_ORDER),
        "overview": overview,
        "sections": sections,
        "charts": _charts(sections, overview),
        "headline": _headline(merged, settings.headline_section),
        "lagging": _lagging(merged.tasks),
        "rules": {"praise": settings.rules.praise_text(), "criticism": settings.rules.criticism_text()},
        "praise": praised,
        "criticism": city,
        "criticism_stationed": stationed,
        "league": league_lowest(merged.league, ScoringRules.from_config(config).base) if len(merged.league) else None,
        "league_rows": league_rows(merged.league),
        "changes": _changes(merged, previous),
        "trend": None,  # the year's quarters so far (trend.py), filled in by publish.render_briefing
        "year_end": _year_end(merged),
        "imprint": {"copy_to": settings.copy_to, "printer": issuer, "date": day},
        "appendix_inline": settings.appendix == "after",
        **official_context(merged, period, city, stationed),
    }
