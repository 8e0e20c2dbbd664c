"""节点计划 (issue 14): milestones in the ledger, checked at their cells, surviving Excel and
LibreOffice, and the lights judged against them instead of the flat 25 % a quarter."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.conftest import BUILT, require_tool
from tests.merge_fixtures import checked, file_records
from toolkit.config import Bureau, load_config
from toolkit.errors import LedgerError
from toolkit.forms.guide import guide_rows
from toolkit.ledger.build import build_ledger, load_ledger, read_ledger
from toolkit.ledger.check import check_ledger
from toolkit.model import Ledger, Milestone, Task, Unit
from toolkit.outputs.receipts import receipt_bytes
from toolkit.outputs.summary_book import book_bytes
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.plans import PLAN_COLUMNS as PLAN_HEADER
from toolkit.quarter.rules import RULES_TEXT, light, planned_pace

HEADER = ["任务编号", "节点序号", "节点内容", "计划完成日期", "计划累计进度(%)", "责任单位", "具体责任人"]
PLAN_60 = [  # task 60: 市城管局 leads, 市重点办 co-operates, four counties carry it out
    [60, 1, "完成方案编制", dt.datetime(2024, 2, 20), 10, "", "张三"],
    [60, 2, "完成主体施工", dt.datetime(2024, 6, 30), 60, "市重点办", "李四"],
    [60, 3, "竣工验收", dt.datetime(2024, 10, 31), 100, "尉氏县", ""],
]


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    shutil.copy(built, workspace / "master_ledger.xlsx")
    return workspace


def plan(path: Path, rows: list[list[object]], tasks: dict[str, object] | None = None) -> None:
    """Fill 节点计划 (and change 任务台账 cells) as the clerk would in Excel."""
    book = openpyxl.load_workbook(path)
    for row in rows:
        book["节点计划"].append(row)
    for ref, value in (tasks or {}).items():
        book["任务台账"][ref] = value
    book.save(path)


def errors(path: Path) -> list[tuple[str, str, str]]:
    return [(i.code, i.where, i.message) for i in check_ledger(path, 2024).errors]


EXPECTED_60 = [
    Milestone(60, 1, "完成方案编制", dt.date(2024, 2, 20), 10.0, "", "张三"),
    Milestone(60, 2, "完成主体施工", dt.date(2024, 6, 30), 60.0, "市重点办", "李四"),
    Milestone(60, 3, "竣工验收", dt.date(2024, 10, 31), 100.0, "尉氏县", ""),
]


def test_the_bundled_ledger_has_an_empty_plan_sheet_with_validation_and_no_errors(built: Path) -> None:
    book = openpyxl.load_workbook(built)
    sheet = book["节点计划"]
    assert [c.value for c in sheet[1]] == HEADER
    kinds = {(str(dv.sqref).split(":")[0], dv.type, dv.formula1, dv.formula2)
             for dv in sheet.data_validations.dataValidation}
    assert ("D2", "date") in {k[:2] for k in kinds}
    assert ("E2", "decimal", "0", "100") in kinds
    assert check_ledger(built, 2024).errors == []
    assert read_ledger(built).milestones == []


def test_a_plan_typed_in_excel_reads_back_and_a_rebuild_keeps_it(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    plan(path, PLAN_60)
    assert errors(path) == []
    ledger = load_ledger(load_config(ws))
    assert ledger.milestones == EXPECTED_60
    assert ledger.plan(60) == EXPECTED_60 and ledger.plan(1) == []
    calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("节点计划").to_python()
    assert calamine[0] == HEADER and len(calamine) == 4
    with pytest.raises(LedgerError, match="节点计划!A2"):  # the clerk's plan is an edit like any other
        build_ledger(load_config(ws), now=BUILT)
    result = build_ledger(load_config(ws), force=True, now=BUILT)
    assert result.backup is not None and read_ledger(result.backup).milestones == EXPECTED_60


def test_a_plan_survives_a_libreoffice_round_trip(ws: Path, tmp_path: Path) -> None:
    require_tool("soffice", "libreoffice")
    from toolkit.office import convert

    path = ws / "master_ledger.xlsx"
    plan(path, PLAN_60)
    saved = convert(path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    assert check_ledger(saved, 2024).errors == []
    assert read_ledger(saved).milestones == EXPECTED_60
    ods = convert(path, "ods", tmp_path / "ods")
    assert read_ledger(ods).milestones == EXPECTED_60


def test_mistakes_in_a_plan_are_named_at_their_cells(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    plan(path, [
        [60, 1, "方案", "2月30日", 10, "", ""],  # not a date
        [60, 2, "施工", dt.datetime(2024, 6, 30), 50, "市财政局", ""],  # does not own task 60
        [61, 1, "方案", dt.datetime(2024, 3, 31), 40, "", ""],
        [61, 2, "施工", dt.datetime(2024, 6, 30), 30, "", ""],  # falls back
        [61, 3, "验收", dt.datetime(2024, 9, 30), 90, "", ""],  # ends short of 100
        [62, 1, "验收", dt.datetime(2025, 1, 31), 100, "", ""],  # outside the year
        [999, 1, "不存在", dt.datetime(2024, 3, 31), 100, "", ""],
    ])
    found = errors(path)
    assert [(code, where) for code, where, _ in found] == [
        ("plan_date_invalid", "节点计划!D2"),
        ("plan_unit_not_owner", "节点计划!F3"),
        ("plan_date_outside_year", "节点计划!D7"),
        ("plan_task_unknown", "节点计划!A8"),
        ("plan_progress_falling", "节点计划!E5"),
        ("plan_not_complete", "节点计划!E6"),
    ]
    messages = dict((where, message) for _, where, message in found)
    assert messages["节点计划!E5"] == ("节点计划!E5 第61项第2个节点的计划累计进度 30% 不高于第1个节点的 40%，"
                                   "累计进度应逐个节点上升")
    assert messages["节点计划!E6"].startswith("节点计划!E6 第61项最后一个节点（第3个）的计划累计进度为 90%，应为 100")
    assert "“市财政局”不承担该任务" in messages["节点计划!F3"]
    assert "不在 2024 年内" in messages["节点计划!D7"]
    with pytest.raises(LedgerError, match="节点计划!D2"):
        load_ledger(load_config(ws))


@pytest.mark.parametrize(
    ("text", "due"),
    [("6月底", dt.date(2024, 6, 30)), ("年底前", dt.date(2024, 12, 31)), ("2024年9月30日", dt.date(2024, 9, 30)),
     ("12月31日前", dt.date(2024, 12, 31)), ("10月", dt.date(2024, 10, 31)), ("2024-09-30", dt.date(2024, 9, 30)),
     ("三季度末", dt.date(2024, 9, 30)), ("上半年", dt.date(2024, 6, 30)), ("持续推进", dt.date(2024, 12, 31))],
)
def test_a_deadline_in_words_becomes_a_date_and_bounds_the_plan(ws: Path, text: str, due: dt.date) -> None:
    path = ws / "master_ledger.xlsx"
    late = due + dt.timedelta(days=1)
    plan(path, [[60, 1, "全部完成", dt.datetime.combine(due, dt.time()), 100, "", ""],
                [61, 1, "全部完成", dt.datetime.combine(late, dt.time()), 100, "", ""]] if late.year == 2024 else
         [[60, 1, "全部完成", dt.datetime.combine(due, dt.time()), 100, "", ""]],
         {"J61": text, "J62": text})  # tasks 60 and 61 are rows 61 and 62
    expected = [] if late.year != 2024 else [("plan_after_deadline", "节点计划!D3")]
    assert [(code, where) for code, where, _ in errors(path)] == expected


def test_an_unreadable_deadline_is_an_error_at_its_cell(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    plan(path, [], {"J61": "视情况而定"})
    [(code, where, message)] = errors(path)
    assert (code, where) == ("task_deadline_invalid", "任务台账!J61")
    assert message.startswith("任务台账!J61 第60项的时间节点“视情况而定”无法识别为日期")


# --- lights against the plan (2024Q1, deadline 2024-03-28) ------------------------------------------

ROADS, BUREAU_B, COUNTY = "市交通运输局", "市住房城乡建设局", "兰考县"
Q1 = Period.parse("2024Q1")
AS_OF = dt.date(2024, 4, 2)
ROAD_PLAN = [Milestone(1, 1, "完成立项", dt.date(2024, 3, 31), 10.0), Milestone(1, 2, "路基完工", dt.date(2024, 7, 31), 60.0),
             Milestone(1, 3, "通车", dt.date(2024, 10, 31), 100.0)]
SLIPPED_PLAN = [Milestone(2, 1, "完成征迁", dt.date(2024, 2, 20), 30.0, COUNTY, "王五"),
                Milestone(2, 2, "全部完成", dt.date(2024, 12, 31), 100.0)]


def plan_ledger(milestones: list[Milestone]) -> Ledger:
    units = [Unit(ROADS, "市直部门"), Unit(BUREAU_B, "市直部门"), Unit(COUNTY, "县区")]
    tasks = [Task(1, "二、全年重点工作", "（三）交通", "完成某道路改造。", ("甲",), ROADS, ROADS, deadline="10月底"),
             Task(2, "二、全年重点工作", "（四）城建", "完成某片区改造。", ("乙",), f"{BUREAU_B}，{COUNTY}", BUREAU_B,
                  county=(COUNTY,)),
             Task(3, "二、全年重点工作", "（四）城建", "完成某项整治。", ("乙",), BUREAU_B, BUREAU_B)]
    return Ledger(tasks, units, [], milestones)


def answered(unit: str, answers: dict[int, tuple[str, float]], role: str = "牵头") -> object:
    file = checked(unit, "2024-03-20T10:00:00", answers)
    file.tasks = [dataclasses.replace(r, role=role) for r in file.tasks]
    return file


def q1(milestones: list[Milestone], *files) -> MergedQuarter:
    return build_merged(plan_ledger(milestones), file_records(*files), Q1, AS_OF)


def test_planned_pace_interpolates_between_milestones() -> None:
    assert planned_pace(ROAD_PLAN, dt.date(2024, 1, 1)) == 0
    assert planned_pace(ROAD_PLAN, dt.date(2024, 3, 28)) == 9.7  # 87 of 90 days towards 10 %
    assert planned_pace(ROAD_PLAN, dt.date(2024, 5, 31)) == 35.0  # half-way (61 of 122 days) from 10 to 60
    assert planned_pace(ROAD_PLAN, dt.date(2024, 11, 30)) == 100


def test_a_road_due_in_october_is_green_at_12_percent_in_march() -> None:
    quarter = q1(ROAD_PLAN, answered(ROADS, {1: ("正常推进", 12.0)}), answered(BUREAU_B, {2: ("正常推进", 40.0),
                                                                                       3: ("正常推进", 12.0)}))
    tasks = quarter.tasks.set_index("任务编号")
    assert tasks.loc[1, ["红黄绿灯", "序时进度(%)", "序时依据", "逾期节点"]].tolist() == ["绿灯", 9.7, "节点计划", ""]
    # the same 12 % on a task without a plan: the flat 25 % a quarter, and said so
    assert tasks.loc[3, ["红黄绿灯", "序时进度(%)", "序时依据", "逾期节点"]].tolist() == ["黄灯", 25, "按季度平均", ""]


def test_a_milestone_due_in_february_and_not_done_is_red() -> None:
    quarter = q1(SLIPPED_PLAN, answered(BUREAU_B, {2: ("正常推进", 26.0)}),
                 answered(COUNTY, {2: ("正常推进", 50.0)}, role="县区落实"))
    row = quarter.tasks.set_index("任务编号").loc[2]
    assert light(row["综合状态"], 26.0, Q1.pace, False) == "绿灯"  # what the flat rule said
    assert row[["红黄绿灯", "序时依据"]].tolist() == ["红灯", "节点计划"]
    assert row["逾期节点"] == "第1个节点“完成征迁”（计划 2024-02-20 达到 30%）"
    plans = quarter.plans
    assert plans.iloc[0][["任务编号", "节点序号", "责任单位", "责任单位报送", "节点状态"]].tolist() == [
        2, 1, COUNTY, "正常推进", "逾期未完成"]
    assert plans.iloc[1][["节点序号", "责任单位", "节点状态"]].tolist() == [2, BUREAU_B, "未到期"]


def test_a_milestone_its_unit_reported_done_is_not_overdue() -> None:
    quarter = q1(SLIPPED_PLAN, answered(BUREAU_B, {2: ("正常推进", 26.0)}),
                 answered(COUNTY, {2: ("已完成", 100.0)}, role="县区落实"))
    row = quarter.tasks.set_index("任务编号").loc[2]
    assert row[["红黄绿灯", "逾期节点"]].tolist() == ["黄灯", ""]  # 26 % against 38.2 % planned
    assert quarter.plans.iloc[0]["节点状态"] == "已到期·已达到"


def test_the_rules_are_printed_as_applied() -> None:
    text = "".join(RULES_TEXT)
    assert "有节点计划的任务为“节点计划”，取计划在本季度截止日的计划累计进度（年初为0，相邻节点之间按日期线性折算" in text
    assert "其余为“按季度平均”，序时进度 = 25% × 季度数" in text
    assert "逾期节点：计划完成日期不晚于截止日" in text
    guide = dict(guide_rows(COUNTY, [], False, Q1, Bureau()))["序时进度"]
    assert "总台账中有节点计划的任务，序时进度取计划在本季度截止日的计划累计进度" in guide
    assert ("计划完成日期已到（不晚于截止时间）的节点，其责任单位未填报“已完成”且牵头单位完成进度低于该节点的计划累计进度"
            "或未填，为红灯") in guide


def test_the_summary_book_shows_the_plan_overdue_first() -> None:
    quarter = q1(SLIPPED_PLAN + ROAD_PLAN, answered(BUREAU_B, {2: ("正常推进", 26.0)}),
                 answered(ROADS, {1: ("正常推进", 12.0)}))
    book = openpyxl.load_workbook(io.BytesIO(book_bytes(quarter, Bureau())))
    sheet = book["节点计划"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index([*PLAN_HEADER])
    assert [r[0] for r in rows[header + 1:header + 6]] == [2, 1, 1, 1, 2]
    assert rows[header + 1][-1] == "逾期未完成"
    tasks = [[c.value for c in row] for row in book["任务进展"].iter_rows()]
    top = next(i for i, r in enumerate(tasks) if r[0] == "任务编号")
    assert tasks[top][-3:] == ["序时进度(%)", "序时依据", "逾期节点"]


def test_the_receipt_names_the_overdue_milestone_to_its_units() -> None:
    quarter = q1(SLIPPED_PLAN, answered(BUREAU_B, {2: ("正常推进", 26.0), 3: ("正常推进", 30.0)}),
                 answered(COUNTY, {2: ("正常推进", 50.0)}, role="县区落实"))
    line = ("节点逾期：第2项第1个节点“完成征迁”计划 2024-02-20 达到 30%，截至本期未完成（责任单位 兰考县），该任务为红灯。"
            "请加快推进，并在下次报送的“存在问题”中说明原因和补救措施。")
    for unit in (BUREAU_B, COUNTY):
        book = openpyxl.load_workbook(io.BytesIO(receipt_bytes(quarter, unit, Bureau())))
        texts = [c.value for row in book["回执"].iter_rows() for c in row if isinstance(c.value, str)]
        assert line in texts


def test_a_ledger_from_before_the_plan_sheet_still_loads_and_is_not_rebuilt(ws: Path) -> None:
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    del book["节点计划"]
    book.save(path)
    assert errors(path) == []
    assert load_ledger(load_config(ws)).milestones == []
    assert build_ledger(load_config(ws), now=BUILT).status == "unchanged"


def test_the_unit_workbook_does_not_promise_the_flat_pace_for_planned_tasks(generated) -> None:
    path = generated.workbooks[0].path
    line = openpyxl.load_workbook(path)["进展填报"]["A3"].value
    assert line.endswith("本季度序时进度：25%（有节点计划的任务按计划，见填报说明）")


def test_ledger_check_on_the_command_line_names_the_plan_cell(ws: Path) -> None:
    from click.testing import CliRunner

    from toolkit.cli.app import cli

    plan(ws / "master_ledger.xlsx", [[60, 1, "全部完成", dt.datetime(2024, 6, 30), 80, "", ""]])
    result = CliRunner().invoke(cli, ["--config", str(ws), "ledger", "check"])
    assert result.exit_code == 1
    assert "节点计划!E2 第60项最后一个节点（第1个）的计划累计进度为 80%，应为 100（任务完成）" in result.output


def test_a_task_done_has_no_overdue_milestone_even_without_a_number() -> None:
    quarter = q1(SLIPPED_PLAN, answered(BUREAU_B, {2: ("已完成", None)}))
    row = quarter.tasks.set_index("任务编号").loc[2]
    assert row[["综合状态", "红黄绿灯", "逾期节点"]].tolist() == ["已完成", "绿灯", ""]
