"""`make demo`, 考评: the league table after each quarter's final merge, top and bottom five of each
排名组, and where the last unit's points went, so the viewer sees a score is a sum of reasons.

It reads the quarter back from the store (load_merged) as `ducha briefing` does, so a report the
clerk confirmed untrue after the merge already counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from toolkit.config import Config
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.rules import figure
from toolkit.quarter.scores import RANK_NEW, RANK_SAME, RULE_BASE

SHOWN = 5


def _names(rows: list[dict]) -> str:
    """1.市商务局 100（上升3位）: rank, unit, score, and how it moved since last quarter."""
    return "、".join(f"{r['排名']}.{r['单位名称']} {figure(r['本季度得分'])}"
                    + (f"（{r['名次变化']}）" if r["名次变化"] not in (RANK_SAME, RANK_NEW) else "") for r in rows)


def show_league(config: Config, period: Period, as_of: dt.date, say: Callable[[str], None]) -> None:
    """Print 考评排名 of the period as of that day: per 排名组 the top and bottom five, then the
    lowest unit's deductions from 考评明细."""
    merged = load_merged(config, period, as_of)
    league, detail = merged.league, merged.score_details
    say(f"考评排名（汇总表“考评排名”“考评明细”，{period.full_label}）：")
    for group, rows in league.groupby("排名组", sort=False):
        listed = rows.to_dict("records")
        say(f"  {group}（{len(listed)} 个单位）前{min(SHOWN, len(listed))}名：{_names(listed[:SHOWN])}")
        if len(listed) > SHOWN:
            say(f"  {group}后{min(SHOWN, len(listed) - SHOWN)}名：{_names(listed[SHOWN:][-SHOWN:])}")
    last = league.sort_values("本季度得分", kind="stable").iloc[0]
    mine = detail[(detail["单位名称"] == last["单位名称"]) & (detail["季度"] == period.key)
                  & (detail["规则"] != RULE_BASE)]
    say(f"  得分最低的 {last['单位名称']}（{figure(last['本季度得分'])} 分，年度累计 "
        f"{figure(last['年度累计得分'])} 分）扣分明细：")
    for row in mine.head(4).to_dict("records"):
        say(f"    {row['规则']} {figure(row['分值'])}：{row['依据说明']}")
    if len(mine) > 4:
        say(f"    ……共 {len(mine)} 条，见汇总表“考评明细”")
