"""综合状态 and 红黄绿灯 when the lead has not reported (issue 11.1): a co-unit's or county's
已完成 is that unit's part only, so a task is 已完成 only when its lead (every member of a lead
group) reported it done, and a task whose lead has not reported is never green."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.merge_fixtures import checked, file_records
from toolkit.config import Bureau, load_config
from toolkit.forms.guide import guide_rows
from toolkit.model import Ledger, Task, Unit
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.summary_book import book_bytes
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.rules import LIGHTS, OVERALL_STATUSES, RULES_TEXT, light, overall_status

MIIT, LANKAO, WEISHI, QIXIAN = "市工业和信息化局", "兰考县", "尉氏县", "杞县"
Q2 = Period.parse("2024Q2")
BEFORE, AFTER = dt.date(2024, 6, 25), dt.date(2024, 7, 1)
TASK_20 = "加快推进弘辉医疗高分子医用材料制造产业园、尉氏县大健康产业园、杞县华兰生物等项目建设，打造百亿级产业链。"
GROUP = "各开发区"


@pytest.mark.parametrize(
    ("statuses", "lead_reported", "expected"),
    [
        ([], False, "未报送"),
        (["已完成"], False, "牵头单位未报送"),  # only a county, as done: its part only
        (["已完成", "已完成"], False, "牵头单位未报送"),
        (["进度滞后"], False, "牵头单位未报送"),
        (["已完成"], True, "已完成"),
        (["已完成", "已完成"], True, "已完成"),
        (["已完成", "正常推进"], True, "正常推进"),  # the lead done, a co-unit's part still going
        (["已完成", "进度滞后"], True, "进度滞后"),
    ],
)
def test_status_needs_the_lead(statuses: list[str], lead_reported: bool, expected: str) -> None:
    assert overall_status(statuses, lead_reported) == expected


@pytest.mark.parametrize(
    ("lead", "past", "expected"),
    [
        (None, False, "黄灯"),  # before the deadline the lead may still report
        (None, True, "红灯"),  # the lead missing at the deadline
        (80.0, False, "黄灯"),  # a lead group's members that reported are on pace, one is missing
        (80.0, True, "红灯"),
        (20.0, False, "红灯"),  # 30 points behind 序时进度 50%
    ],
)
def test_lead_missing_is_never_green(lead: float | None, past: bool, expected: str) -> None:
    assert light("牵头单位未报送", lead, Q2.pace, past) == expected


def test_the_new_status_is_counted_and_printed() -> None:
    assert "牵头单位未报送" in OVERALL_STATUSES
    assert LIGHTS == ("绿灯", "黄灯", "红灯", "未亮灯")
    text = "".join(RULES_TEXT)
    assert "有单位报送但牵头单位（分组牵头时为其任一应报成员）未报送，为“牵头单位未报送”" in text
    assert "配合单位、县区填“已完成”只表示本单位承担的部分完成" in text
    assert "截止日后仍无单位报送或牵头单位仍未报送，为红灯" in text



def test_units_read_the_same_rule_in_their_guide() -> None:
    guide = dict(guide_rows(LANKAO, [], False, Q2, Bureau()))["序时进度"]
    assert "配合单位、县区填报“已完成”只表示本单位承担的部分完成；牵头单位未报送的任务不亮绿灯。" in guide
    assert "红灯：落后序时进度 25 个百分点及以上，或截止时间后牵头单位仍未报送" in guide

# --- the task-20 scenario of 2024Q2, through 汇总表 and the briefing ---------------------------------


def task_20_ledger() -> Ledger:
    """Task 20 as the notice has it: 市工业和信息化局 leads, 兰考县、尉氏县、杞县 落实; task 21 is
    led by a group (各开发区, two members)."""
    units = [Unit(MIIT, "市直部门"), Unit(LANKAO, "县区"), Unit(WEISHI, "县区"), Unit(QIXIAN, "县区"),
             Unit("开封经济技术开发区", "开发区", groups=(GROUP,)), Unit("开封综合保税区", "开发区", groups=(GROUP,)),
             Unit(GROUP, "分组")]
    tasks = [
        Task(20, "二、全年重点工作", "（一）坚持制造立市", TASK_20, ("薛志勇",), f"{MIIT}，{LANKAO}、{WEISHI}、{QIXIAN}",
             MIIT, county=(LANKAO, WEISHI, QIXIAN)),
        Task(21, "二、全年重点工作", "（一）坚持制造立市", "开发区提质升级。", ("薛志勇",), GROUP, GROUP),
    ]
    return Ledger(tasks, units)


def county_done(unit: str, task: int = 20, role: str = "县区落实", status: str = "已完成") -> object:
    """The unit's file for 2024Q2 answering one task (as the role its workbook gave it)."""
    file = checked(unit, "2024-06-20T10:00:00", {task: (status, 100.0)}, period="2024Q2")
    file.tasks = [dataclasses.replace(r, role=role) for r in file.tasks]
    return file


def merged(as_of: dt.date, *files) -> MergedQuarter:
    return build_merged(task_20_ledger(), file_records(*files), Q2, as_of)


def test_only_a_county_done_is_not_done_and_never_green() -> None:
    before, after = merged(BEFORE, county_done(LANKAO)), merged(AFTER, county_done(LANKAO))
    for quarter, expected_light in ((before, "黄灯"), (after, "红灯")):
        row = quarter.tasks.set_index("任务编号").loc[20]
        assert row["综合状态"] == "牵头单位未报送"
        assert row["红黄绿灯"] == expected_light
        assert pd.isna(row["完成进度(%)"])  # the lead gave no number
        assert row["未报送单位"] == f"{MIIT}、{WEISHI}、{QIXIAN}"
        assert row["各单位进展"] == f"【{LANKAO}】已完成，100%：按计划推进"
        assert quarter.counts["tasks"]["status"]["已完成"] == 0
        assert quarter.counts["tasks"]["status"]["牵头单位未报送"] == 1
        assert quarter.counts["tasks"]["light"]["绿灯"] == 0


def test_the_lead_reporting_done_completes_the_task() -> None:
    row = merged(AFTER, county_done(LANKAO), county_done(MIIT, role="牵头")).tasks.set_index("任务编号").loc[20]
    assert row[["综合状态", "红黄绿灯", "完成进度(%)"]].tolist() == ["已完成", "绿灯", 100.0]


def test_a_group_lead_is_done_only_when_every_member_is() -> None:
    one = merged(BEFORE, county_done("开封经济技术开发区", 21, "牵头")).tasks.set_index("任务编号").loc[21]
    assert one[["综合状态", "红黄绿灯", "完成进度(%)", "未报送单位"]].tolist() == [
        "牵头单位未报送", "黄灯", 100.0, "开封综合保税区"]
    both = merged(BEFORE, county_done("开封经济技术开发区", 21, "牵头"), county_done("开封综合保税区", 21, "牵头"))
    assert both.tasks.set_index("任务编号").loc[21, ["综合状态", "红黄绿灯"]].tolist() == ["已完成", "绿灯"]


def test_summary_book_and_briefing_do_not_count_it_done(tmp_path: Path, workspace: Path) -> None:
    quarter = merged(AFTER, county_done(LANKAO))
    book = openpyxl.load_workbook(io.BytesIO(book_bytes(quarter, Bureau())), read_only=True)
    rows = list(book["任务进展"].iter_rows(values_only=True))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["任务编号"], row["综合状态"], row["红黄绿灯"], row["完成进度(%)"]) == (20, "牵头单位未报送", "红灯", None)
    overview = {r[0]: r[1] for r in book["总览"].iter_rows(min_row=4, max_col=2, values_only=True) if r[0]}
    assert (overview["已完成"], overview["牵头单位未报送"], overview["绿灯"], overview["红灯"]) == (0, 1, 0, 2)

    ctx = briefing_context(quarter, None, load_config(workspace), Q2)
    assert ctx["overview"]["status_text"] == (
        "已完成 0 项，正常推进 0 项，进度滞后 0 项，未启动 0 项，牵头单位未报送 1 项，未报送 1 项")
    assert ctx["overview"]["light_text"] == "绿灯 0 项，黄灯 0 项，红灯 2 项，未亮灯 0 项"
    lagging = {r["no"]: r for r in ctx["lagging"]}
    assert (lagging[20]["light"], lagging[20]["status"], lagging[20]["progress"]) == ("红灯", "牵头单位未报送",
                                                                                     "牵头单位未报送")
