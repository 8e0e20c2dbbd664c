"""The frames behind 汇总表 from hand-made file records: unit standing, duplicates, task rows,
indicators, issues."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tests.merge_fixtures import (
    COMMERCE,
    LONGTING,
    NDRC,
    SHUNHE,
    checked,
    error,
    file_records,
    small_ledger,
    warning,
)
from toolkit.period import Period
from toolkit.problems import Issue
from toolkit.quarter.frames import REPORT_COLUMNS, build_merged, file_entries

Q1 = Period.parse("2024Q1")
BEFORE = dt.date(2024, 3, 20)
AFTER = dt.date(2024, 3, 29)


def test_same_content_under_two_paths_is_counted_once() -> None:
    [record] = file_records(checked(NDRC, "2024-03-10T09:00:00", path="/drop/发改委.xlsx"))
    record.paths.append(("/drop/发改委(1).xlsx", "2024-03-11T09:00:00"))
    merged = build_merged(small_ledger(), [record], Q1, BEFORE)
    entries = file_entries(merged.files, Q1)
    assert [(e["path"], e["verdict"]) for e in entries] == [
        ("/drop/发改委.xlsx", "accepted"), ("/drop/发改委(1).xlsx", "duplicate")]
    assert merged.units.loc[0, "报送情况"] == "已报送"


@pytest.mark.parametrize(
    ("received", "standing"),
    [
        (["2024-03-28T23:59:59"], "已报送"),  # any time on the deadline day is on time
        (["2024-03-29T00:00:01"], "迟报"),
        (["2024-03-27T10:00:00", "2024-03-30T10:00:00"], "已报送"),  # on time, corrected later
        ([], "未报送"),
    ],
)
def test_unit_standing_on_time_late_missing(received: list[str], standing: str) -> None:
    records = file_records(*(checked(NDRC, r) for r in received))
    merged = build_merged(small_ledger(), records, Q1, AFTER)
    assert merged.unit_status[NDRC] == standing
    late = [e["late"] for e in file_entries(merged.files, Q1)]
    assert late == [r > "2024-03-29" for r in received]


def test_a_unit_whose_every_file_was_rejected_is_sent_back() -> None:
    records = file_records(checked(COMMERCE, "2024-03-20T10:00:00", issues=[error()]),
                           checked(COMMERCE, "2024-03-21T10:00:00", issues=[error(), warning()]))
    merged = build_merged(small_ledger(), records, Q1, BEFORE)
    assert merged.unit_status == {NDRC: "未报送", COMMERCE: "退回修改", LONGTING: "未报送", SHUNHE: "未报送"}
    row = merged.units.set_index("单位名称").loc[COMMERCE]
    assert (row["文件"], row["错误数"], row["提醒数"]) == (records[1].path.rsplit("/", 1)[1], 1, 1)
    assert merged.counts["units_rejected"] == [COMMERCE]
    assert merged.tasks["综合状态"].tolist() == ["未报送"] * 3
    assert merged.tasks["红黄绿灯"].tolist() == ["未亮灯"] * 3
    assert merged.tasks.loc[1, "未报送单位"] == f"{COMMERCE}、{NDRC}"


def test_task_rows_combine_units_lead_first() -> None:
    records = file_records(
        checked(LONGTING, "2024-03-20T10:00:00", {3: ("已完成", 100.0)}, done="已办3场"),
        checked(COMMERCE, "2024-03-21T10:00:00", {2: ("正常推进", 30.0), 3: ("进度滞后", 10.0)},
                problems="场地不足"),
        checked(NDRC, "2024-03-22T10:00:00", {1: ("已完成", 100.0), 2: ("正常推进", 50.0)}, done="=1+1"),
    )
    merged = build_merged(small_ledger(), records, Q1, AFTER)
    tasks = merged.tasks.set_index("任务编号")
    assert tasks.loc[1, ["综合状态", "红黄绿灯", "完成进度(%)"]].tolist() == ["已完成", "绿灯", 100.0]
    assert tasks.loc[2, "各单位进展"] == "【市商务局】正常推进，30%：按计划推进\n【市发展改革委】正常推进，50%：=1+1"
    assert tasks.loc[2, ["综合状态", "红黄绿灯", "完成进度(%)"]].tolist() == ["正常推进", "绿灯", 30.0]
    assert tasks.loc[3, "各单位进展"] == "【市商务局】进度滞后，10%：按计划推进\n【龙亭区】已完成，100%：已办3场"
    assert tasks.loc[3, "存在问题"] == "【市商务局】场地不足"
    assert tasks.loc[3, ["综合状态", "红黄绿灯", "未报送单位"]].tolist() == ["进度滞后", "黄灯", SHUNHE]
    assert merged.counts["tasks"] == {
        "total": 3,
        "status": {"未报送": 0, "牵头单位未报送": 0, "进度滞后": 1, "已完成": 1, "未启动": 0, "正常推进": 1},
        "light": {"绿灯": 2, "黄灯": 1, "红灯": 0, "未亮灯": 0},
    }
    units = merged.units.set_index("单位名称")
    assert units.loc[COMMERCE, ["任务数", "已完成", "进度滞后"]].tolist() == [2, 0, 1]
    assert merged.reports[["单位", "任务编号"]].values.tolist() == [
        [NDRC, 1], [NDRC, 2], [COMMERCE, 2], [COMMERCE, 3], [LONGTING, 3]]
    assert merged.leads == {1: (NDRC,), 2: (COMMERCE,), 3: (COMMERCE,)}
    assert merged.leads[2] is merged.leads[3]  # one tuple for every task a unit leads


def test_nobody_reporting_turns_red_only_after_the_deadline() -> None:
    before = build_merged(small_ledger(), [], Q1, dt.date(2024, 3, 28))
    after = build_merged(small_ledger(), [], Q1, AFTER)
    assert set(before.tasks["红黄绿灯"]) == {"未亮灯"}
    assert set(after.tasks["红黄绿灯"]) == {"红灯"}
    assert after.counts["units_missing"] == [NDRC, COMMERCE, LONGTING, SHUNHE]


def test_indicators_take_this_quarter_else_the_last_known_value() -> None:
    records = file_records(checked(NDRC, "2024-06-20T10:00:00", indicators={(1, "经济增长"): 6.2}))
    earlier = {(COMMERCE, 3, "促消费活动"): (40.0, "2024Q1"), (NDRC, 1, "经济增长"): (5.9, "2024Q1")}
    merged = build_merged(small_ledger(), records, Period.parse("2024Q2"), AFTER, earlier)
    rows = merged.indicators[["任务编号", "最新值", "数据期", "完成率(%)"]].values.tolist()
    assert rows == [[1, 6.2, "2024Q2", 95.4], [3, 40.0, "2024Q1", 40.0]]


def test_issue_frame_names_file_unit_verdict_and_cell() -> None:
    unknown = Issue("error", "unknown_unit", "", None, "无法识别报送单位")
    records = file_records(checked(COMMERCE, "2024-03-20T10:00:00", issues=[error()]),
                           checked(None, "2024-03-21T10:00:00", {}, issues=[unknown]))
    merged = build_merged(small_ledger(), records, Q1, BEFORE)
    assert merged.issues.values.tolist() == [
        [records[0].path.rsplit("/", 1)[1], COMMERCE, "2024-03-20 10:00:00", "退回修改", "错误",
         "progress_not_number", "进展填报!F7", "进展填报!F7 的完成进度应为数字"],
        [records[1].path.rsplit("/", 1)[1], "（无法识别）", "2024-03-21 10:00:00", "退回修改", "错误", "unknown_unit",
         "", "无法识别报送单位"],
    ]


@pytest.mark.parametrize("progress", [None, 30.0])
def test_the_reports_frame_types_its_columns_as_a_frame_of_its_rows_would(progress: float | None) -> None:
    # 各单位进展 is built a column at a time (less memory); a column of blanks stays blanks, numbers stay numbers.
    records = file_records(checked(NDRC, "2024-03-20T10:00:00", {1: ("未启动", progress), 2: ("未启动", None)}),
                           checked(COMMERCE, "2024-03-21T10:00:00", {2: ("未启动", None), 3: ("未启动", progress)}))
    reports = build_merged(small_ledger(), records, Q1, BEFORE).reports
    rows = [(t.unit, t.task_no, t.role, t.status, t.progress, t.done, t.problems, t.next, t.person, t.phone)
            for record in records for t in record.tasks]
    pd.testing.assert_frame_equal(reports, pd.DataFrame(rows, columns=list(REPORT_COLUMNS)), check_exact=True)
    assert str(reports["完成进度(%)"].dtype) == ("object" if progress is None else "float64")


def test_a_quarter_nobody_reported_has_an_empty_reports_frame_with_its_columns() -> None:
    reports = build_merged(small_ledger(), [], Q1, BEFORE).reports
    assert reports.columns.tolist() == list(REPORT_COLUMNS) and reports.empty
    assert set(reports.dtypes.astype(str)) == {"object"}
