"""Units plan their own tasks (issue 14): the 节点计划 sheet of a unit's workbook, returned plans
checked at their cells and stored, `ducha ledger plans --apply`, and milestones followed later."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from tests import merge_fixtures as mf
from tests.return_fixtures import COMMERCE, NDRC, SECRET, small_ledger
from toolkit.cli.app import cli
from toolkit.config import Bureau, load_config
from toolkit.demo.unitsim import fill
from toolkit.forms import layout
from toolkit.forms.writer import write_workbook
from toolkit.intake.check import check_file
from toolkit.intake.sniff import Limits
from toolkit.ledger.build import load_ledger
from toolkit.ledger.check import check_ledger
from toolkit.model import CheckedFile, Ledger, Milestone, PlanRow
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.briefing.judge import judge_units
from toolkit.outputs.briefing.settings import Rules
from toolkit.outputs.receipts import receipt_bytes
from toolkit.period import Period
from toolkit.quarter import plan_store
from toolkit.quarter.frames import build_merged
from toolkit.quarter.plans import task_pace
from toolkit.quarter.rules import PACE_PLAN
from toolkit.quarter.store import open_store

Q1, Q2 = Period.parse("2024Q1"), Period.parse("2024Q2")
PLAN_HEADER = ["任务编号", "节点序号", "节点内容", "计划完成日期", "计划累计进度(%)", "具体责任人", "完成情况", "实际完成日期"]
# The bureau planned task 2 (商务局 leads it); tasks 1, 3 and 4 have no plan.
BUREAU_2 = [
    Milestone(2, 1, "制定促消费方案", dt.date(2024, 2, 20), 20.0, "", "王五"),
    Milestone(2, 2, "开展春季促消费活动", dt.date(2024, 5, 31), 60.0, "", "王五"),
    Milestone(2, 3, "全年目标完成", dt.date(2024, 12, 31), 100.0, "", "王五"),
]


def planned_ledger(milestones: list[Milestone] = BUREAU_2) -> Ledger:
    ledger = small_ledger()
    tasks = [dataclasses.replace(t, deadline="年底前") for t in ledger.tasks]
    return dataclasses.replace(ledger, tasks=tasks, milestones=list(milestones))


def issue(folder: Path, unit: str, period: Period = Q1, ledger: Ledger | None = None) -> Path:
    ledger = ledger or planned_ledger()
    rows = ledger.assignments()[unit]
    led = {a.task.no for a in rows if a.role == "牵头"}
    path = folder / f"{period.key}_{unit}.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(path, unit=unit, assignments=rows, indicators=ledger.indicators_for(unit), period=period,
                   bureau=Bureau(), secret=SECRET, generated_at="2024-03-01T09:00:00",
                   milestones=[m for m in ledger.milestones if m.task_no in led])
    return path


def sheet_values(path: Path, name: str = layout.SHEET_PLAN) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path)[name]
    return [[c.value for c in row] for row in ws.iter_rows()]


def plan_rows(*rows: tuple[Any, ...], clear: bool = False):
    """A unit's edit of 节点计划: each row (Excel row, values from 任务编号 on; None leaves a cell)."""

    def edit(wb: openpyxl.Workbook) -> None:
        ws = wb[layout.SHEET_PLAN]
        for r, *values in rows:
            for c, value in enumerate(values, start=1):
                if value is not None:
                    ws.cell(r, c).value = value

    return edit


def returned(tmp_path: Path, unit: str, *edits: Any, period: Period = Q1, ledger: Ledger | None = None) -> CheckedFile:
    ledger = ledger or planned_ledger()
    src = issue(tmp_path / "out", unit, period, ledger)
    dst = fill(src, tmp_path / "back" / src.name, mutate=list(edits))
    return check_file(dst, ledger=ledger, period=period, secret=SECRET, limits=Limits())


# --- 1. the sheet ------------------------------------------------------------------------------


def test_the_first_quarter_workbook_asks_the_lead_unit_to_plan_every_task_it_leads(tmp_path: Path) -> None:
    path = issue(tmp_path, COMMERCE)
    rows = sheet_values(path)
    assert rows[0] == PLAN_HEADER
    # task 2: the bureau's three milestones, then two blank rows; tasks 3 and 4: five blank rows each
    assert rows[1] == [2, 1, "制定促消费方案", dt.datetime(2024, 2, 20), 20, "王五", None, None]
    assert rows[3][:5] == [2, 3, "全年目标完成", dt.datetime(2024, 12, 31), 100]
    assert rows[4] == [2, 4, None, None, None, None, None, None]
    assert [r[:2] for r in rows[6:]] == [[3, i] for i in range(1, 6)] + [[4, i] for i in range(1, 6)]
    ws = openpyxl.load_workbook(path)[layout.SHEET_PLAN]
    assert ws.protection.sheet and ws["A2"].protection.locked and not ws["C2"].protection.locked
    kinds = {str(dv.sqref): (dv.type, dv.formula1, dv.formula2) for dv in ws.data_validations.dataValidation}
    assert kinds["D2:D16"][0] == "date" and kinds["H2:H16"][0] == "date"
    assert kinds["E2:E16"] == ("decimal", "0", "100")
    assert kinds["G2:G16"] == ("list", '"已完成,未完成"', None)


def test_a_unit_that_leads_nothing_gets_no_plan_sheet(tmp_path: Path) -> None:
    county = issue(tmp_path, "龙亭区")
    assert layout.SHEET_PLAN not in openpyxl.load_workbook(county).sheetnames


def test_later_quarters_list_the_milestones_due_and_plan_only_tasks_without_one(tmp_path: Path) -> None:
    rows = sheet_values(issue(tmp_path, COMMERCE, Q2))
    # task 2 is followed: the two milestones due by 2024-06-28 (not the December one); 3 and 4 planned
    assert rows[1][:6] == [2, 1, "制定促消费方案", dt.datetime(2024, 2, 20), 20, "王五"]
    assert rows[2][:3] == [2, 2, "开展春季促消费活动"]
    assert [r[:2] for r in rows[3:]] == [[3, i] for i in range(1, 6)] + [[4, i] for i in range(1, 6)]
    everything_planned = planned_ledger([*BUREAU_2, Milestone(3, 1, "活动", dt.date(2024, 9, 30), 100.0),
                                         Milestone(4, 1, "建成", dt.date(2024, 11, 30), 100.0)])
    rows = sheet_values(issue(tmp_path / "all", COMMERCE, Q2, everything_planned))
    assert [r[:2] for r in rows[1:]] == [[2, 1], [2, 2]]


# --- 2. intake of returned plans ------------------------------------------------------------------


def found(checked: CheckedFile) -> list[tuple[str, str, str]]:
    return [(i.level, i.code, i.where) for i in checked.issues]


def test_a_returned_plan_is_read_with_the_bureaus_rows_and_the_units_own(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows(
        (7, None, None, "完成活动方案", dt.datetime(2024, 4, 30), 30, "赵六"),
        (8, None, None, "开展系列活动", "2024-11-30", "100", "赵六"),
    ))
    assert found(checked) == []
    assert [(p.task_no, p.kind, p.seq, p.content, p.due, p.progress, p.person, p.row) for p in checked.plans] == [
        (2, "plan", 1, "制定促消费方案", "2024-02-20", 20.0, "王五", 2),
        (2, "plan", 2, "开展春季促消费活动", "2024-05-31", 60.0, "王五", 3),
        (2, "plan", 3, "全年目标完成", "2024-12-31", 100.0, "王五", 4),
        (3, "plan", 1, "完成活动方案", "2024-04-30", 30.0, "赵六", 7),
        (3, "plan", 2, "开展系列活动", "2024-11-30", 100.0, "赵六", 8),
    ]


def test_mistakes_in_a_returned_plan_are_refused_at_their_cells(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows(
        (7, None, None, "方案", dt.datetime(2024, 4, 30), 60, ""),
        (8, None, None, "活动", dt.datetime(2024, 6, 30), 40, ""),  # falls back
        (9, None, None, "验收", dt.datetime(2024, 9, 30), 90, ""),  # ends short of 100
        (12, None, None, "建设", dt.datetime(2025, 1, 31), 100, ""),  # outside the year
        (13, None, None, "验收", "下旬", "一半", ""),  # neither a date nor a number
        (14, 1, 1, "不是本单位牵头的任务", dt.datetime(2024, 3, 31), 100, ""),
    ))
    assert found(checked) == [
        ("error", "plan_task_not_led", "节点计划!A14"),
        ("error", "plan_date_outside_year", "节点计划!D12"),
        ("error", "plan_date_invalid", "节点计划!D13"),
        ("error", "plan_progress_invalid", "节点计划!E13"),
        ("error", "plan_progress_falling", "节点计划!E8"),
        ("error", "plan_not_complete", "节点计划!E9"),
    ]
    messages = {i.where: i.message for i in checked.issues}
    assert messages["节点计划!E8"] == ("节点计划!E8：第3项第2个节点的计划累计进度 40% 不高于第1个节点的 60%，"
                                    "累计进度应逐个节点上升")
    assert messages["节点计划!A14"] == ("节点计划!A14：任务编号“1”不是本单位牵头的任务，节点计划只填写本单位牵头的任务，"
                                     "请删除该行")
    assert "不在 2024 年内" in messages["节点计划!D12"]
    assert checked.rejected


def test_a_plan_ending_after_the_tasks_deadline_is_refused(tmp_path: Path) -> None:
    ledger = planned_ledger()
    ledger.tasks[2] = dataclasses.replace(ledger.tasks[2], deadline="6月底")  # task 3
    checked = returned(tmp_path, COMMERCE, plan_rows((7, None, None, "全部完成", dt.datetime(2024, 9, 30), 100, "")),
                       ledger=ledger)
    assert found(checked) == [("error", "plan_after_deadline", "节点计划!D7")]
    assert "晚于任务台账的时间节点（2024-06-30）" in checked.issues[0].message


def test_later_a_unit_reports_each_milestone_and_a_changed_plan_is_a_request(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows(
        (2, None, None, None, None, None, None, "已完成", dt.datetime(2024, 2, 18)),
        (3, None, None, None, dt.datetime(2024, 7, 31), None, None, "未完成"),
    ), period=Q2)
    assert found(checked) == [("warning", "plan_change_requested", "节点计划!D3")]
    assert checked.issues[0].message == (
        "节点计划!D3：第2项第2个节点已采用的节点计划被改动（原计划为“开展春季促消费活动”（2024-05-31 达到 60%）），"
        "计划调整作为申请报督查局审核，审核同意前仍按原计划考核")
    assert [(p.kind, p.seq, p.due, p.state, p.actual) for p in checked.plans] == [
        ("follow", 1, "2024-02-20", "已完成", "2024-02-18"),
        ("change", 2, "2024-07-31", "未完成", ""),
    ]


def test_a_milestone_state_outside_the_list_or_a_bad_date_is_named(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows(
        (2, None, None, None, None, None, None, "差不多", None),
        (3, None, None, None, None, None, None, "已完成", "上周"),
    ), period=Q2)
    assert found(checked) == [("error", "milestone_state_invalid", "节点计划!G2"),
                              ("error", "milestone_date_invalid", "节点计划!H3")]
    assert checked.issues[0].message == "节点计划!G2：完成情况“差不多”应为已完成或未完成，请从下拉列表中选择"


def test_the_store_keeps_accepted_plans_per_unit_task_and_period(tmp_path: Path) -> None:
    good = returned(tmp_path / "a", COMMERCE, plan_rows((7, None, None, "全部完成", dt.datetime(2024, 9, 30), 100, "")))
    bad = returned(tmp_path / "b", NDRC, plan_rows((2, None, None, "方案", "不知道", 100, "")))
    assert found(bad) == [("error", "plan_date_invalid", "节点计划!D2")]
    with open_store(tmp_path / "store.sqlite") as store:
        for checked, verdict in ((good, "accepted"), (bad, "rejected")):
            store.record(checked, "2024Q1", "archive")
            store.set_verdicts("2024Q1", {checked.sha256: verdict})
        plans = plan_store.accepted_plans(store.conn)
        assert sorted(plans) == [(2, COMMERCE), (3, COMMERCE)]
        period, rows = plans[(3, COMMERCE)]
        assert (period, [(r.seq, r.content, r.due, r.progress) for r in rows]) == (
            "2024Q1", [(1, "全部完成", "2024-09-30", 100.0)])
        (record,) = [r for r in store.load_period("2024Q1") if r.unit == NDRC]
        assert [(p.task_no, p.row) for p in record.plans] == []  # a refused plan is not kept as one


# --- 3. ducha ledger plans --------------------------------------------------------------------------


def unit_plan(unit: str, no: int, *steps: tuple[int, str, str, float]) -> CheckedFile:
    """An accepted file of `unit` whose 节点计划 planned task `no` (steps: seq, content, date, progress)."""
    rows = [PlanRow(unit, no, "plan", seq, content, due, progress, "", "", "", 1 + seq) for seq, content, due, progress in steps]
    return CheckedFile(path=f"{unit}.xlsx", sha256=f"{unit}{no}".encode().hex(), size=1, received="2024-03-20T10:00:00",
                       format="xlsx", unit=unit, period="2024Q1", signed=True, plans=rows)


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    shutil.copy(built, workspace / "master_ledger.xlsx")
    book = openpyxl.load_workbook(workspace / "master_ledger.xlsx")  # the bureau planned tasks 61 and 62
    for row in ([61, 1, "完成方案", dt.datetime(2024, 6, 30), 50, "", ""], [61, 2, "完成", dt.datetime(2024, 12, 31), 100, "", ""],
                [62, 1, "完成", dt.datetime(2024, 9, 30), 100, "", ""]):
        book["节点计划"].append(row)
    book.save(workspace / "master_ledger.xlsx")
    with open_store(load_config(workspace).paths.store) as store:
        for checked in (unit_plan("市城管局", 60, (1, "完成方案", "2024-03-31", 20.0), (2, "竣工", "2024-10-31", 100.0)),
                        unit_plan("中国人民银行开封市分行", 61, (1, "全部完成", "2024-11-30", 100.0)),
                        unit_plan("市资源规划局", 62, (1, "完成", "2024-09-30", 100.0))):
            store.record(checked, "2024Q1", "archive")
            store.set_verdicts("2024Q1", {checked.sha256: "accepted"})
        change = PlanRow("市资源规划局", 62, "change", 1, "完成", "2024-11-30", 100.0, "", "未完成", "", 2)
        asked = dataclasses.replace(unit_plan("市资源规划局", 62), sha256="ab" * 32, period="2024Q2", plans=[change])
        store.record(asked, "2024Q2", "archive")
        store.set_verdicts("2024Q2", {asked.sha256: "accepted"})
    return workspace


def test_ledger_plans_lists_what_it_would_copy_and_changes_nothing(ws: Path) -> None:
    before = (ws / "master_ledger.xlsx").read_bytes()
    result = CliRunner().invoke(cli, ["--config", str(ws), "ledger", "plans"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "  第60项  市城管局（2024Q1，2 个节点）：写入",
        "  第61项  中国人民银行开封市分行（2024Q1，1 个节点）：冲突：总台账已有不同的节点，未覆盖，请人工核对",
        "  第62项  市资源规划局（2024Q1，1 个节点）：总台账已有相同计划",
        "  第62项  市资源规划局（2024Q2，1 个节点）：申请调整已采用的节点计划，待审核：请用 ducha review 生成的审核表审核，同意后自动写入总台账",
        "将写入 1 项任务的节点计划，冲突 1 项不改动。确认后运行 ducha ledger plans --apply",
    ]
    assert (ws / "master_ledger.xlsx").read_bytes() == before


def test_ledger_plans_apply_copies_new_plans_keeps_the_bureaus_and_lights_follow(ws: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(ws), "ledger", "plans", "--apply"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == f"已写入总台账 {ws / 'master_ledger.xlsx'}：1 项任务的节点计划；冲突 1 项未改动"
    ledger = load_ledger(load_config(ws))
    assert [(m.seq, m.content, m.due, m.progress) for m in ledger.plan(60)] == [
        (1, "完成方案", dt.date(2024, 3, 31), 20.0), (2, "竣工", dt.date(2024, 10, 31), 100.0)]
    assert [(m.seq, m.content) for m in ledger.plan(61)] == [(1, "完成方案"), (2, "完成")]  # the bureau's stay
    assert check_ledger(ws / "master_ledger.xlsx", 2024).errors == []
    pace = task_pace(ledger, ledger.task(60), {"市城管局"}, [], Q2, dt.date(2024, 7, 1), 40.0, False)
    assert (pace.basis, round(pace.pace, 1)) == (PACE_PLAN, 53.3)  # on 6-28: 20 % on 3-31, 100 % on 10-31
    again = CliRunner().invoke(cli, ["--config", str(ws), "ledger", "plans", "--apply"])
    assert "第60项  市城管局（2024Q1，2 个节点）：总台账已有相同计划" in again.output


# --- 4. later quarters follow the plan ----------------------------------------------------------------


def q2_merged(plans: list[PlanRow]):
    ledger = mf.small_ledger()
    ledger.milestones = [dataclasses.replace(m, unit="") for m in BUREAU_2]
    files = [mf.checked(mf.COMMERCE, "2024-06-20T10:00:00", {2: ("正常推进", 70.0), 3: ("正常推进", 50.0)}, period="2024Q2"),
             mf.checked(mf.NDRC, "2024-06-20T10:00:00", {1: ("正常推进", 50.0), 2: ("正常推进", 60.0)}, period="2024Q2")]
    records = mf.file_records(*files)
    records[0].plans = plans
    return build_merged(ledger, records, Q2, dt.date(2024, 7, 1))


def said(seq: int, state: str, actual: str = "") -> PlanRow:
    m = BUREAU_2[seq - 1]
    return PlanRow(COMMERCE, 2, "follow", seq, m.content, m.due.isoformat(), m.progress, m.person, state, actual, 1 + seq)


def test_a_milestone_reported_not_done_is_overdue_whatever_the_progress() -> None:
    before = q2_merged([]).tasks.set_index("任务编号").loc[2]
    assert before[["红黄绿灯", "逾期节点"]].tolist() == ["绿灯", ""]  # 70 % is past the 60 % due on 5-31
    quarter = q2_merged([said(1, "已完成", "2024-02-18"), said(2, "未完成")])
    row = quarter.tasks.set_index("任务编号").loc[2]
    assert row[["红黄绿灯", "逾期节点"]].tolist() == ["红灯", "第2个节点“开展春季促消费活动”（计划 2024-05-31 达到 60%）"]
    plans = quarter.plans.set_index("节点序号")
    assert plans.loc[2, ["完成情况", "实际完成日期", "节点状态"]].tolist() == ["未完成", "", "逾期未完成"]
    assert plans.loc[1, ["完成情况", "实际完成日期", "节点状态"]].tolist() == ["已完成", "2024-02-18", "已到期·已达到"]
    book = openpyxl.load_workbook(io.BytesIO(receipt_bytes(quarter, COMMERCE, Bureau())))
    texts = [c.value for r in book["回执"].iter_rows() for c in r if isinstance(c.value, str)]
    assert any(t.startswith("节点逾期：第2项第2个节点“开展春季促消费活动”计划 2024-05-31 达到 60%") for t in texts)


def test_a_milestone_reported_done_is_met_even_below_its_planned_progress() -> None:
    files_said = [said(1, "已完成", "2024-02-18"), said(2, "已完成", "2024-05-30")]
    ledger = mf.small_ledger()
    ledger.milestones = list(BUREAU_2)
    records = mf.file_records(mf.checked(mf.COMMERCE, "2024-06-20T10:00:00", {2: ("正常推进", 50.0), 3: ("正常推进", 50.0)}))
    assert build_merged(ledger, records, Q2, dt.date(2024, 7, 1)).tasks.set_index("任务编号").loc[2, "逾期节点"] != ""
    records[0].plans = files_said
    row = build_merged(ledger, records, Q2, dt.date(2024, 7, 1)).tasks.set_index("任务编号").loc[2]
    assert row["逾期节点"] == "" and row["红黄绿灯"] != "红灯"


def test_the_merge_stores_milestone_reports_and_change_requests(tmp_path: Path) -> None:
    checked = returned(tmp_path, COMMERCE, plan_rows(
        (2, None, None, None, None, None, None, "已完成", dt.datetime(2024, 2, 18)),
        (3, None, None, None, dt.datetime(2024, 7, 31), None, None, "未完成"),
    ), period=Q2)
    with open_store(tmp_path / "store.sqlite") as store:
        store.record(checked, "2024Q2", "archive")
        store.set_verdicts("2024Q2", {checked.sha256: "accepted"})
        states = plan_store.milestone_states(store.conn, "2024Q2")
        assert {k: (r.state, r.actual) for k, r in states.items()} == {
            (2, 1): ("已完成", "2024-02-18"), (2, 2): ("未完成", "")}
        ((period, change),) = plan_store.change_requests(store.conn, "2024Q2")
        assert period == "2024Q2"
        assert (change.unit, change.task_no, change.seq, change.due, change.content) == (
            COMMERCE, 2, 2, "2024-07-31", "开展春季促消费活动")
        assert plan_store.accepted_plans(store.conn) == {}  # a change is not a plan: the ledger's stands


# --- 5. the briefing ------------------------------------------------------------------------------


def test_the_briefings_lagging_list_names_the_overdue_milestone(workspace: Path) -> None:
    quarter = q2_merged([said(1, "已完成", "2024-02-18"), said(2, "未完成")])
    context = briefing_context(quarter, None, load_config(workspace), Q2)
    (row,) = [r for r in context["lagging"] if r["no"] == 2]
    assert row["light"] == "红灯"
    assert row["problem"].startswith("逾期节点：第2个节点“开展春季促消费活动”（计划 2024-05-31 达到 60%）")
    assert "逾期节点：第2个节点“开展春季促消费活动”" in str(context)  # the official 通报's red list too


@pytest.mark.parametrize(("plan", "progress", "praised"), [
    # plan: 50 % by 9-30, so 32.8 % owed on 6-28: 40 % is on pace though below the flat 50 %
    ([Milestone(2, 1, "过半", dt.date(2024, 9, 30), 50.0), Milestone(2, 2, "完成", dt.date(2024, 12, 31), 100.0)], 40.0, True),
    (BUREAU_2, 62.0, False),  # 65.2 % owed on 6-28: 62 % is behind though above the flat 50 %
    ([], 55.0, True),  # no plan: the flat 50 %
])
def test_praise_judges_each_task_against_its_own_pace(plan: list[Milestone], progress: float, praised: bool) -> None:
    ledger = mf.small_ledger()
    ledger.milestones = list(plan)
    files = [mf.checked(mf.COMMERCE, "2024-06-20T10:00:00", {2: ("正常推进", progress), 3: ("正常推进", 60.0)})]
    quarter = build_merged(ledger, mf.file_records(*files), Q2, dt.date(2024, 7, 1))
    assert quarter.tasks.set_index("任务编号").loc[2, "红黄绿灯"] != "红灯"
    assert (COMMERCE in [r["unit"] for r in judge_units(quarter, Rules())[0]]) is praised


def test_the_rules_printed_say_how_a_reported_milestone_is_judged() -> None:
    from toolkit.forms.guide import guide_rows
    from toolkit.quarter.rules import RULES_TEXT

    assert "填报了完成情况的节点，按所填判定：“已完成”为已达到，“未完成”且计划完成日期已到为逾期（不论完成进度）" in "".join(RULES_TEXT)
    guide = dict(guide_rows(COMMERCE, small_ledger().assignments()[COMMERCE], False, Q2, Bureau()))
    assert "在“节点计划”表中填报了完成情况的节点按所填判定（已完成为达到，到期仍未完成为逾期、红灯）" in guide["序时进度"]
    assert guide["节点计划"].startswith("本单位牵头的任务请在“节点计划”表中制定节点计划")
