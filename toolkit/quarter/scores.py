"""Unit scores (考评): a base, deductions for each lapse the quarter shows, the clerk's bonuses, and
a league table per quarter and for the year so far.

A score is only as good as its explanation: a unit that lost points will ask which and why, so every
point is one ScoreItem (unit, quarter, rule, points, evidence naming the file or task) and the scores
are nothing but sums of those items (league_frame reads only the 考评明细 frame). The items come from the same MergedQuarter that
汇总表 and the briefing show, so a score never disagrees with the lights and lists beside it.
The rules and their points are the bureau's to set, in [scoring] of ducha.toml (ScoringRules).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from toolkit.config import Config, Deadlines, option
from toolkit.model import GROUP_KIND, UNIT_KINDS, VERDICT_ACCEPTED, VERDICT_SUPERSEDED, Ledger
from toolkit.period import Period
from toolkit.quarter.decisions import extended_deadlines
from toolkit.quarter.frames import LEAGUE_COLUMNS, SCORE_DETAIL_COLUMNS, MergedQuarter, build_merged
from toolkit.quarter.plans import MILESTONE_OVERDUE
from toolkit.quarter.rules import LIGHT_RED, UNIT_LATE, UNIT_MISSING, UNIT_REJECTED, figure, shown_name
from toolkit.quarter.store import Store
from toolkit.quarter.verify import confirmed_untrue

RULE_BASE = "基础分"
RULE_LATE = "迟报"
RULE_MISSING = "未报送"
RULE_REJECTED = "退回未改"
RULE_RED = "牵头任务红灯"
RULE_OVERDUE = "逾期节点"
RULE_UNTRUE = "填报不实"
RULE_BONUS = "加分"
RULES = (RULE_BASE, RULE_LATE, RULE_MISSING, RULE_REJECTED, RULE_RED, RULE_OVERDUE, RULE_UNTRUE, RULE_BONUS)

SCORED_KINDS = tuple(k for k in UNIT_KINDS if k != GROUP_KIND)
RANK_NEW = "新列入"
RANK_SAME = "持平"
COMBINED = "综合"  # the 排名组 of the kinds not ranked apart


def _kinds(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or any(k not in SCORED_KINDS for k in value):
        raise ValueError(value)
    return tuple(value)


def _weights(value: Any) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, dict):
        raise TypeError(value)
    found = []
    for kind, factor in value.items():
        if kind not in SCORED_KINDS or isinstance(factor, bool) or not isinstance(factor, int | float) or factor < 0:
            raise ValueError(kind)
        found.append((kind, float(factor)))
    return tuple(found)


def _points(default: float) -> Any:
    def parse(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(value)
        return float(value)

    return option(default, parse=parse, hint=f"应为不小于 0 的数字，如 {figure(default)}")


_KINDS_HINT = f"应为单位类型的列表，取自 {'、'.join(SCORED_KINDS)}，如 [\"驻汴单位\"]"


@dataclass(frozen=True)
class ScoringRules:
    """[scoring] in ducha.toml: the base, the points each lapse costs, and which unit kinds are
    scored, ranked apart, or weighted."""

    base: float = _points(100.0)  # every scored unit starts each quarter here
    late: float = _points(2.0)  # 迟报: reported only after the deadline
    missing: float = _points(5.0)  # 未报送 after the deadline
    rejected: float = _points(3.0)  # 退回未改: every file rejected, none corrected, after the deadline
    red_task: float = _points(1.0)  # per task the unit leads (or is a lead group's member of) in 红灯
    overdue_milestone: float = _points(1.0)  # per 逾期节点 the unit answers for
    untrue: float = _points(2.0)  # per report the clerk confirmed untrue (quarter.verify)
    exclude_kinds: tuple[str, ...] = option((), parse=_kinds, hint=_KINDS_HINT)  # not scored at all
    # ranked each in a table of its own; the other kinds are ranked together (综合)
    separate_kinds: tuple[str, ...] = option(SCORED_KINDS, parse=_kinds, hint=_KINDS_HINT)
    # deductions of a kind multiplied by its factor (1 when not named); bonuses are not weighted
    weights: tuple[tuple[str, float], ...] = option(
        (), parse=_weights, hint='应为 { "单位类型" = 系数 } 的表，系数不小于 0，如 { "驻汴单位" = 0.5 }')

    @classmethod
    def from_config(cls, config: Config) -> ScoringRules:
        """Typed [scoring]; a wrong key or value is a ConfigError naming it."""
        return config.read("scoring", cls)

    def weight(self, kind: str) -> float:
        return dict(self.weights).get(kind, 1.0)

    def group(self, kind: str) -> str:
        """The 排名组 of a unit kind: itself when ranked apart, else 综合."""
        return kind if kind in self.separate_kinds else COMBINED

    def text(self) -> str:
        """The rules as 汇总表 总览 prints them under the other 统计规则."""
        f = figure
        weights = "".join(f"{kind}扣分乘以{f(w)}；" for kind, w in self.weights)
        left_out = f"{'、'.join(self.exclude_kinds)}不参加考评；" if self.exclude_kinds else ""
        apart = [k for k in SCORED_KINDS if k in self.separate_kinds and k not in self.exclude_kinds]
        together = [k for k in SCORED_KINDS if k not in self.separate_kinds and k not in self.exclude_kinds]
        groups = (f"{'、'.join(apart)}{'分别' if len(apart) > 1 else '单独'}排名" if apart else "") + ("，" if apart and together else "") + (
            f"{'、'.join(together)}合并为“{COMBINED}”一组排名" if together else "")
        return (f"考评：各单位每季度以基础分{f(self.base)}分起算，迟报扣{f(self.late)}分；截止日后仍未报送扣{f(self.missing)}分，"
                f"报送文件被退回修改且未重新报送合格文件扣{f(self.rejected)}分；牵头的任务每亮一个红灯扣{f(self.red_task)}分"
                f"（分组牵头时各成员都扣），负责的节点每逾期一个扣{f(self.overdue_milestone)}分，填报经核实不实（疑似不实中"
                f"确认的）每条扣{f(self.untrue)}分；再加上总台账“考评加分”表中本季度的加分。{weights}{left_out}"
                f"排名按本季度得分由高到低，同分同名次：{groups}。年度累计得分 = 基础分 + 本年度已汇总各季度的全部扣分和加分。"
                "每一分的规则和依据见“考评明细”。")


@dataclass(frozen=True)
class ScoreItem:
    """One line of 考评明细: points (negative for a deduction) and why."""

    unit: str
    kind: str
    period: str
    rule: str
    points: float
    evidence: str


Untrue = tuple[str, int, str]  # (unit, task no, why): a report the clerk confirmed untrue


def quarter_items(merged: MergedQuarter, rules: ScoringRules, untrue: Iterable[Untrue] = ()) -> list[ScoreItem]:
    """Every point of every scored unit for merged's quarter, in unit order. Before the deadline
    has passed, 未报送 and 退回未改 are not yet lapses and cost nothing."""
    ledger, period = merged.ledger, merged.period
    kinds = {u.name: u.kind for u in ledger.units}
    scored = [u for u in merged.unit_status if kinds.get(u, "") in SCORED_KINDS
              and kinds[u] not in rules.exclude_kinds]
    found: dict[str, list[tuple[str, float, str]]] = {u: [] for u in scored}

    def lapse(unit: str, rule: str, cost: float, evidence: str) -> None:
        if unit in found and cost:
            found[unit].append((rule, -cost, evidence))

    deadline = period.deadline.isoformat()
    for unit in scored:
        standing, files = merged.unit_status[unit], merged.files_of(unit)
        if standing == UNIT_LATE:
            first = min((f for f in files if f.verdict in (VERDICT_ACCEPTED, VERDICT_SUPERSEDED)),
                        key=lambda f: f.received)
            lapse(unit, RULE_LATE, rules.late, f"文件 {shown_name(first.path)} 于 {first.received[:10]} 收到，"
                                               f"截止日为 {deadline}")
        elif standing == UNIT_MISSING and merged.past_deadline:
            lapse(unit, RULE_MISSING, rules.missing, f"截止日 {deadline} 已过，未收到报送文件")
        elif standing == UNIT_REJECTED and merged.past_deadline:
            names = "、".join(shown_name(f.path) for f in files)
            lapse(unit, RULE_REJECTED, rules.rejected, f"文件 {names} 被退回修改，截止日 {deadline} 后仍未报送合格文件")
    for task in merged.tasks[merged.tasks["红黄绿灯"] == LIGHT_RED].to_dict("records"):
        progress = task["完成进度(%)"]
        shown = "未填" if pd.isna(progress) else f"{figure(progress)}%"
        for unit in merged.leads.get(task["任务编号"], []):
            lapse(unit, RULE_RED, rules.red_task, f"第{task['任务编号']}项（牵头）亮红灯：综合状态{task['综合状态']}，"
                                                  f"完成进度{shown}，序时进度{figure(task['序时进度(%)'])}%")
    plans = merged.plans
    for m in (plans[plans["节点状态"] == MILESTONE_OVERDUE].to_dict("records") if not plans.empty else []):
        for unit in ledger.expand(m["责任单位"]):
            lapse(unit, RULE_OVERDUE, rules.overdue_milestone,
                  f"第{m['任务编号']}项第{m['节点序号']}个节点“{m['节点内容']}”（计划 {m['计划完成日期']} 达到 "
                  f"{figure(m['计划累计进度(%)'])}%）逾期未完成")
    for unit, task_no, why in untrue:
        lapse(unit, RULE_UNTRUE, rules.untrue, f"第{task_no}项填报经核实不实：{why}")
    for bonus in ledger.bonuses:
        if bonus.period == period.key and bonus.unit in found:
            basis = f"（依据：{bonus.basis}）" if bonus.basis else ""
            found[bonus.unit].append((RULE_BONUS, bonus.points, f"{bonus.reason}{basis}"))
    items = []
    for unit in scored:
        kind = kinds[unit]
        items.append(ScoreItem(unit, kind, period.key, RULE_BASE, rules.base, "每季度基础分"))
        weight = rules.weight(kind)
        for rule, points, evidence in found[unit]:
            if points < 0 and weight != 1:
                points, evidence = points * weight, f"{evidence}（{kind}扣分系数 {figure(weight)}）"
            items.append(ScoreItem(unit, kind, period.key, rule, round(points, 2) + 0.0, evidence))  # no -0.0
    return items


def detail_frame(items: Iterable[ScoreItem]) -> pd.DataFrame:
    """考评明细 as 汇总表 shows it: one row per item."""
    rows = [(i.unit, i.kind, i.period, i.rule, i.points, i.evidence) for i in items]
    return pd.DataFrame(rows, columns=list(SCORE_DETAIL_COLUMNS))


def _totals(detail: pd.DataFrame, period: str) -> dict[str, tuple[float, float]]:
    """{unit: (the quarter's score, the year's so far)} from 考评明细 alone: a quarter's score is the
    sum of its rows (基础分 included); the year's is one 基础分 plus every other row up to period."""
    upto = detail[detail["季度"] <= period]
    now, base = upto["季度"] == period, upto["规则"] == RULE_BASE

    def summed(rows: pd.DataFrame) -> pd.Series:
        return rows.groupby("单位名称", sort=False)["分值"].sum()

    quarter, bases, others = summed(upto[now]), summed(upto[now & base]), summed(upto[~base])
    return {str(unit): (round(float(score), 2), round(float(bases.get(unit, 0) + others.get(unit, 0)), 2))
            for unit, score in quarter.items()}


def _ranks(scores: dict[str, float], groups: dict[str, str]) -> dict[str, int]:
    """Competition ranking (1, 1, 3) of each unit within its 排名组, highest score first."""
    ordered: dict[str, list[float]] = {}  # each group's scores, ascending (counting by bisect, not O(n²))
    for unit, score in scores.items():
        ordered.setdefault(groups[unit], []).append(score)
    for group_scores in ordered.values():
        group_scores.sort()
    return {unit: 1 + len(ordered[groups[unit]]) - bisect_right(ordered[groups[unit]], score)
            for unit, score in scores.items()}


def _change(now: int, before: int | None) -> str:
    if before is None:
        return RANK_NEW
    if before == now:
        return RANK_SAME
    return f"上升{before - now}位" if now < before else f"下降{now - before}位"


def league_frame(detail: pd.DataFrame, period: Period, previous: Period | None, rules: ScoringRules,
                 ledger: Ledger) -> pd.DataFrame:
    """考评排名: each unit's quarter and year scores and its rank in its 排名组 (ScoringRules.group),
    beside its rank in the previous quarter of the year (from the same 考评明细)."""
    kinds = dict(zip(detail["单位名称"], detail["类型"], strict=False))
    groups = {u: rules.group(k) for u, k in kinds.items()}
    totals = _totals(detail, period.key)
    ranks = _ranks({u: t[0] for u, t in totals.items()}, groups)
    before_totals = _totals(detail, previous.key) if previous else {}
    before = _ranks({u: t[0] for u, t in before_totals.items()}, groups)
    order = {u.name: i for i, u in enumerate(ledger.units)}
    group_order = [COMBINED, *SCORED_KINDS]
    rows = sorted(
        ((groups[u], ranks[u], u, kinds[u], score, year, before.get(u, ""), _change(ranks[u], before.get(u)))
         for u, (score, year) in totals.items()),
        key=lambda r: (group_order.index(r[0]), r[1], order.get(r[2], len(order)), r[2]))
    return pd.DataFrame(rows, columns=list(LEAGUE_COLUMNS))


def attach_scores(store: Store, merged: MergedQuarter, rules: ScoringRules, deadlines: Deadlines) -> None:
    """Set merged.score_details (考评明细 of every quarter of the year so far) and merged.league
    (考评排名). An earlier quarter is scored from the store as it stands on merged.as_of, with
    today's ledger; a quarter nothing was ever received for was not run and is left out."""
    items: list[ScoreItem] = []
    period, quarters = merged.period, [merged.period]
    while quarters[0].quarter > 1:
        quarters.insert(0, quarters[0].previous(deadlines))
    for quarter in quarters[:-1]:
        records = store.load_period(quarter.key)
        if records:
            earlier = build_merged(merged.ledger, records, quarter, merged.as_of,
                                   extensions=extended_deadlines(store, quarter.previous(deadlines).key))
            items += quarter_items(earlier, rules, confirmed_untrue(store, quarter.key))
    items += quarter_items(merged, rules, confirmed_untrue(store, period.key))
    merged.score_details = detail_frame(items)
    merged.score_rules = rules.text()
    previous = quarters[-2] if len(quarters) > 1 else None
    merged.league = league_frame(merged.score_details, period, previous, rules, merged.ledger)


def league_rows(league: pd.DataFrame) -> list[dict[str, str]]:
    """考评排名 as the 通报's 附件 prints it: every scored unit by 排名组 and rank, with its change
    of rank since last quarter, each value as text."""
    return [{"group": str(r["排名组"]), "rank": figure(r["排名"]), "unit": str(r["单位名称"]),
             "score": figure(r["本季度得分"]), "year": figure(r["年度累计得分"]), "change": str(r["名次变化"] or "")}
            for r in league.to_dict("records")]


def league_lowest(league: pd.DataFrame, base: float, most: int = 3) -> dict[str, Any]:
    """What the 通报 says of the scores: how many units lost points this quarter and the lowest
    `most` of them. Only units below the base are named: in a quarter where
    most units keep full marks, a "bottom of the table" at 100 points would blame the blameless."""
    below = league[league["本季度得分"] < base].sort_values(["本季度得分", "排名组", "单位名称"], kind="stable")
    return {"deducted": len(below),
            "lowest": [{"unit": r["单位名称"], "score": figure(r["本季度得分"])}
                       for r in below.head(most).to_dict("records")]}
