"""`ducha review` (issue 15): the 审核表 of pending requests out, decisions back in, all or nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import BUILT, ledger_workspace, require_tool
from toolkit import office
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.ledger.build import load_ledger
from toolkit.model import VERDICT_ACCEPTED, CheckedFile, Request, TaskReport
from toolkit.outputs.review_apply import apply_review
from toolkit.outputs.review_book import write_review
from toolkit.period import Period
from toolkit.quarter import decisions
from toolkit.quarter.store import open_store

Q1, Q2 = Period.parse("2024Q1"), Period.parse("2024Q2")
NOW = dt.datetime(2024, 7, 10, 15, 0)
EXTEND = Request("申请延期", "2025-03-31", "征地手续未批复", ())
CLOSE = Request("申请办结", "", "已全部完成", ("验收报告.pdf",))


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return ledger_workspace(tmp_path_factory.mktemp("review"), BUILT)


def report(unit: str, no: int, role: str, row: int, request: Request | None = None, done: str = "推进中") -> TaskReport:
    status, progress = ("已完成", 100.0) if request and request.kind == "申请办结" else ("正常推进", 60.0)
    return TaskReport(unit, no, role, status, progress, done, "", "下步", "张三", "13800000000", row, request)


def accepted(store, period: Period, unit: str, tasks: list[TaskReport], sha: str) -> None:
    store.record(CheckedFile(path=f"drop/{sha}.xlsx", sha256=sha, size=1, received=f"{period.deadline}T09:00:00",
                             format="xlsx", unit=unit, period=period.key, signed=True, tasks=tasks),
                 period.key, "archived", verdict=VERDICT_ACCEPTED)


@pytest.fixture
def ws(base, tmp_path) -> tuple[Path, dict]:
    """A workspace whose Q2 holds four requests from two units: (root, {name: (unit, task no)})."""
    root = Path(shutil.copytree(base, tmp_path / "ws"))
    config = load_config(root)
    assignments = load_ledger(config).assignments()
    (a, rows_a), (b, rows_b) = list(assignments.items())[:2]
    ta, tb = rows_a[:2], rows_b[:2]
    cases = {"extend_ok": (a, ta[0].task.no), "close_ok": (a, ta[1].task.no),
             "extend_no": (b, tb[0].task.no), "close_back": (b, tb[1].task.no)}
    with open_store(config.paths.store) as store:
        accepted(store, Q1, a, [report(a, x.task.no, x.role, 6 + i, done="一季度进展") for i, x in enumerate(ta)], "a1")
        accepted(store, Q2, a, [report(a, ta[0].task.no, ta[0].role, 6, EXTEND),
                                report(a, ta[1].task.no, ta[1].role, 7, CLOSE)], "a2")
        accepted(store, Q2, b, [report(b, tb[0].task.no, tb[0].role, 6, EXTEND),
                                report(b, tb[1].task.no, tb[1].role, 7, Request("申请办结", "", "完成", ("说明.docx",)))],
                 "b2")
    return root, cases


def rows_of(path: Path) -> dict[tuple[str, int], int]:
    ws = openpyxl.load_workbook(path)["审核表"]
    return {(ws.cell(r, 4).value, int(ws.cell(r, 2).value)): r for r in range(2, ws.max_row + 1) if ws.cell(r, 2).value}


def fill(path: Path, target: Path, decisions: dict[tuple[str, int], tuple], edit=None) -> Path:
    wb = openpyxl.load_workbook(path)
    ws = wb["审核表"]
    rows = rows_of(path)
    for key, values in decisions.items():
        for col, value in zip(range(11, 15), values, strict=False):
            ws.cell(rows[key], col).value = value
    if edit:
        edit(ws, rows)
    wb.save(target)
    return target


FOUR = {"extend_ok": ("同意", "", "王局长", dt.datetime(2024, 7, 9)), "close_ok": ("同意", "", "王局长"),
        "extend_no": ("不同意", "理由不充分", "王局长"), "close_back": ("退回补充", "缺少验收报告，请补充后重新申请", "王局长")}


def test_the_review_book_lists_each_pending_request_with_dropdowns_and_progress(ws, tmp_path):
    root, cases = ws
    path, count = write_review(load_config(root), Q2)
    assert count == 4 and path == root / "reports" / "2024Q2" / "2024Q2_审核表.xlsx"
    wb = openpyxl.load_workbook(path)
    sheet = wb["审核表"]
    assert [c.value for c in sheet[1]] == ["报告期", "任务编号", "任务内容", "责任单位", "申请事项", "申请完成时间", "理由",
                                           "佐证材料", "上季度进展", "本季度进展", "审核意见", "说明", "审核人", "审核日期"]
    unit, no = cases["extend_ok"]
    r = rows_of(path)[(unit, no)]
    values = [sheet.cell(r, c).value for c in range(1, 15)]
    assert values[:2] == ["2024Q2", no] and values[3:8] == [unit, "申请延期", "2025-03-31", "征地手续未批复", None]
    assert values[8] == "2024Q1 正常推进 60%：一季度进展" and values[9].startswith("2024Q2 正常推进 60%")
    assert values[10:] == [None] * 4
    assert sheet.cell(rows_of(path)[cases["close_ok"]], 8).value == "验收报告.pdf（未收到）"
    rules = {dv.type: dv for dv in sheet.data_validations.dataValidation}
    assert rules["list"].formula1 == '"同意,不同意,退回补充"' and str(rules["list"].sqref) == "K2:K5"
    assert sheet.protection.sheet and sheet.cell(2, 5).protection.locked and not sheet.cell(2, 11).protection.locked
    assert [c.value for c in wb["审核记录"][1]][:5] == ["报告期", "任务编号", "责任单位", "申请内容", "审核意见"]


def test_applying_records_each_decision_with_who_and_when_and_its_effects(ws, tmp_path):
    root, cases = ws
    config = load_config(root)
    path, _ = write_review(config, Q2)
    filled = fill(path, tmp_path / "审核表（已审）.xlsx", {cases[k]: v for k, v in FOUR.items()})
    applied = apply_review(config, filled, NOW)
    assert applied.problems == [] and len(applied.recorded) == 4
    with open_store(config.paths.store) as store:
        trail = decisions.trail(store)
        assert {(d.unit, d.task_no): (d.action, d.reviewer, d.decided_on) for d in trail} == {
            cases["extend_ok"]: ("同意", "王局长", "2024-07-09"),
            cases["close_ok"]: ("同意", "王局长", "2024-07-10"),
            cases["extend_no"]: ("不同意", "王局长", "2024-07-10"),
            cases["close_back"]: ("退回补充", "王局长", "2024-07-10"),
        }
        assert {d.recorded for d in trail} == {"2024-07-10T15:00:00"} and {d.source for d in trail} == {filled.name}
        assert decisions.pending(store, Q2.key) == []
        assert decisions.closed_tasks(store, "2024Q2") == {cases["close_ok"][1]: "2024Q2"}
        assert decisions.extended_deadlines(store, "2024Q2") == {cases["extend_ok"][1]: dt.date(2025, 3, 31)}
        assert decisions.sent_back(store, Q2.key)[cases["close_back"]].note == "缺少验收报告，请补充后重新申请"
    again = apply_review(config, filled, NOW)  # the same file twice changes nothing
    assert (again.problems, again.recorded, again.unchanged) == ([], [], 4)
    path, count = write_review(config, Q2)
    assert count == 0
    trail_sheet = openpyxl.load_workbook(path)["审核记录"]
    assert trail_sheet.max_row == 5 and trail_sheet.cell(2, 5).value == "同意"


def test_bad_review_input_gets_messages_naming_cells_and_records_nothing(ws, tmp_path):
    root, cases = ws
    config = load_config(root)
    path, _ = write_review(config, Q2)
    rows = rows_of(path)

    def edit(sheet, rows):
        sheet.cell(rows[cases["extend_ok"]], 7).value = "征地手续未批复，另需资金"
        sheet.cell(6, 1).value, sheet.cell(6, 2).value, sheet.cell(6, 4).value = "2024Q2", 999, "市某局"

    decisions = {cases["extend_ok"]: ("同意", "", "王局长"), cases["extend_no"]: ("不同意", "", "王局长"),
                 cases["close_ok"]: ("同意", "", "")}
    filled = fill(path, tmp_path / "bad.xlsx", decisions, edit)
    with open_store(config.paths.store) as store:
        before = store.dump()
    applied = apply_review(config, filled, NOW)
    assert applied.recorded == []
    assert sorted(applied.problems) == sorted([  # in row order
        f"审核表!G{rows[cases['extend_ok']]}：“理由”是单位的申请内容，不可修改（现为“征地手续未批复，另需资金”，应为“征地手续未批复”）",
        f"审核表!M{rows[cases['close_ok']]}：请填写审核人姓名",
        f"审核表!L{rows[cases['extend_no']]}：审核意见为“不同意”，请在“说明”中写明理由（退回补充时写明需补充什么）",
        "审核表!B6：第6行（2024Q2 任务999 市某局）不是待审核的申请，请勿增加行或改动报告期、任务编号、责任单位",
    ])
    with open_store(config.paths.store) as store:
        assert store.dump() == before
    result = CliRunner().invoke(cli, ["--config", str(root), "review", "apply", str(filled)])
    assert result.exit_code == 1
    assert "审核表!B6：第6行" in result.output and "错误：审核表有问题，未登记任何审核意见" in result.output


def test_a_decision_is_final_until_reopened(ws, tmp_path):
    root, cases = ws
    config = load_config(root)
    path, _ = write_review(config, Q2)
    apply_review(config, fill(path, tmp_path / "first.xlsx", {cases["extend_no"]: ("不同意", "理由不充分", "王局长")}), NOW)
    changed = fill(path, tmp_path / "second.xlsx", {cases["extend_no"]: ("同意", "", "李局长")})
    applied = apply_review(config, changed, NOW)
    assert applied.recorded == [] and applied.problems == [
        f"审核表!K{rows_of(path)[cases['extend_no']]}：该申请已于2024-07-10由王局长审核为“不同意”，审核决定已生效；"
        "如需改变，请先运行 ducha review reopen"]
    unit, no = cases["extend_no"]
    result = CliRunner().invoke(cli, ["--config", str(root), "review", "reopen", "--period", "2024Q2", "--task", str(no),
                                      "--unit", unit, "--by", "张科长", "--reason", "单位补充了材料"])
    assert result.exit_code == 0, result.output
    assert apply_review(config, changed, NOW).recorded[0].action == "同意"
    with open_store(config.paths.store) as store:
        assert [d.action for d in decisions.trail(store)] == ["不同意", "重新审核", "同意"]


def test_the_review_book_survives_a_libreoffice_round_trip(ws, tmp_path):
    require_tool("soffice", "libreoffice")
    root, cases = ws
    config = load_config(root)
    path, _ = write_review(config, Q2)
    filled = fill(path, tmp_path / "filled.xlsx", {cases[k]: v for k, v in FOUR.items()})
    through = office.convert(filled, "xlsx", tmp_path / "lo")
    applied = apply_review(config, through, NOW)
    assert applied.problems == [] and len(applied.recorded) == 4
    assert {(d.unit, d.task_no): d.action for d in applied.recorded} == {cases[k]: v[0] for k, v in FOUR.items()}


def decided(ws, tmp_path) -> tuple[Path, dict]:
    """The workspace after the four decisions of FOUR were applied."""
    root, cases = ws
    config = load_config(root)
    path, _ = write_review(config, Q2)
    assert apply_review(config, fill(path, tmp_path / "decided.xlsx", {cases[k]: v for k, v in FOUR.items()}),
                        NOW).problems == []
    return root, cases


def test_an_approved_closing_leaves_later_workbooks_and_counts_as_closed(ws, tmp_path):
    from toolkit.quarter.collect import load_merged
    from toolkit.quarter.prefill import generate

    root, cases = decided(ws, tmp_path)
    config = load_config(root)
    unit, closed_no = cases["close_ok"]
    q3 = generate(config, Period.parse("2024Q3"), units=[unit], now=NOW)
    rows = openpyxl.load_workbook(q3.workbooks[0].path)["进展填报"]
    numbers = [int(rows.cell(r, 1).value) for r in range(6, rows.max_row + 1) if rows.cell(r, 1).value]
    assert closed_no not in numbers and cases["extend_ok"][1] in numbers
    for period in (Q2, Period.parse("2024Q3")):
        merged = load_merged(config, period, as_of=dt.date(2024, 10, 1))
        row = merged.tasks.set_index("任务编号").loc[closed_no]
        assert (row["综合状态"], row["红黄绿灯"], row["未报送单位"]) == ("已办结", "绿灯", "")
        assert merged.counts["tasks"]["status"]["已办结"] == 1


def test_the_receipt_and_the_summary_tell_each_decision(ws, tmp_path):
    from toolkit.outputs.receipts import receipt_bytes
    from toolkit.outputs.summary_book import book_bytes
    from toolkit.quarter.collect import load_merged

    root, cases = decided(ws, tmp_path)
    config = load_config(root)
    merged = load_merged(config, Q2, as_of=dt.date(2024, 7, 10))
    unit, no = cases["close_back"]
    path = tmp_path / "receipt.xlsx"
    path.write_bytes(receipt_bytes(merged, unit, config.bureau))
    texts = [c.value for row in openpyxl.load_workbook(path)["回执"].iter_rows() for c in row if c.value]
    assert f"申请审核：第{no}项申请办结，退回补充（缺少验收报告，请补充后重新申请）。请按要求补充后，在下次报送时重新提出申请。" in texts
    assert f"申请审核：第{cases['extend_no'][1]}项申请延期，审核不同意（理由不充分），请按原时间节点推进。" in texts
    path.write_bytes(book_bytes(merged, config.bureau))
    sheet = openpyxl.load_workbook(path)["申请审核"]
    found = {(r[1], r[0]): (r[2], r[5], r[6], r[8]) for r in sheet.iter_rows(min_row=2, values_only=True)}
    assert found[cases["close_ok"]] == ("申请办结", "验收报告.pdf（未收到）", "同意", "王局长")
    assert found[cases["close_back"]] == ("申请办结", "说明.docx（未收到）", "退回补充", "王局长")


def test_the_demo_plays_the_four_cases(played):
    from toolkit.forms.plan import plan
    from toolkit.quarter.evidence import evidence_of

    root, printed = played
    config = load_config(root)
    with open_store(config.paths.store) as store:
        trail = decisions.trail(store)
        evidence = evidence_of(store, Q2.key)
    outcome = sorted((d.kind, d.action) for d in trail)
    assert outcome == [("申请办结", "同意"), ("申请办结", "退回补充"), ("申请延期", "不同意"), ("申请延期", "同意")]
    closed = next(d for d in trail if d.kind == "申请办结" and d.action == "同意")
    sent_back = next(d for d in trail if d.action == "退回补充")
    assert [(e.unit, e.name, e.problem) for e in evidence] == [(closed.unit, "验收报告.pdf", "")]
    assert "未收到佐证材料“验收照片.jpg”" in sent_back.note
    q3 = Period.parse("2024Q3")
    jobs = plan(load_ledger(config), None, decisions.closed_before(config, q3)).jobs
    assert not any(a.task.no == closed.task_no for job in jobs for a in job.assignments)
    receipt = next((root / "reports" / "2024Q2").rglob(f"*{sent_back.unit}*回执.xlsx"))
    texts = [c.value for row in openpyxl.load_workbook(receipt)["回执"].iter_rows() for c in row if c.value]
    assert any(t.startswith(f"申请审核：第{sent_back.task_no}项申请办结，退回补充（未收到佐证材料") for t in texts)
    assert f"第{closed.task_no}项已办结销号：2024年第三季度填报表不再包含该任务" in printed


def test_an_approved_extension_moves_the_deadline_later_checks_use(ws, tmp_path):
    from toolkit.intake.requests import task_deadline

    root, cases = decided(ws, tmp_path)
    config = load_config(root)
    ledger = load_ledger(config)
    moved, refused = cases["extend_ok"][1], cases["extend_no"][1]
    q3 = Period.parse("2024Q3")
    assert decisions.extensions_before(config, q3) == {moved: dt.date(2025, 3, 31)}
    assert decisions.extensions_before(config, Q2) == {}  # from the quarter after the request on
    later = decisions.with_extensions(ledger, decisions.extensions_before(config, q3))
    assert task_deadline(later, moved, 2024) == dt.date(2025, 3, 31)
    assert later.task(refused).deadline == ledger.task(refused).deadline
    assert load_ledger(config).task(moved).deadline == ledger.task(moved).deadline  # the ledger file keeps the original


def test_reopening_a_task_with_two_decided_requests_needs_the_kind(tmp_path):
    """A task may carry an extension and a plan change in one quarter; reopening must not guess."""
    from toolkit.errors import InputError

    at = dt.datetime(2024, 7, 10, 9)
    rows = [decisions.Decision("2024Q2", "市科技局", 28, kind, "……", "同意", "", "王局长", "2024-07-10",
                            at.isoformat(), "审核表.xlsx") for kind in ("申请延期", "申请调整计划")]
    with open_store(tmp_path / "ducha.db") as store:
        decisions.record(store, rows)
        with pytest.raises(InputError, match="有多项已审核的申请（申请延期、申请调整计划），请用 --kind 指明"):
            decisions.reopen(store, "2024Q2", "市科技局", 28, "张科长", "补充材料", at)
        again = decisions.reopen(store, "2024Q2", "市科技局", 28, "张科长", "补充材料", at, kind="申请调整计划")
        assert again.kind == "申请调整计划"
        assert [(k[3], d.action) for k, d in decisions.standing(store).items()] == [("申请延期", "同意")]
