"""汇总表 and receipts as the clerk and the units open them: sheets, cells, colours, comments."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, SHUNHE, checked, error, small_ledger, warning
from toolkit import pool
from toolkit.config import Bureau
from toolkit.outputs.publish import write_outputs
from toolkit.outputs.receipts import receipt_name
from toolkit.period import Period
from toolkit.problems import Cell, Issue
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")


def _merged(tmp_path: Path) -> MergedQuarter:
    """Four files, one rejected; built from a store as merge does."""
    store_path = tmp_path / "ducha.db"
    if not store_path.exists():
        _fill(store_path)
    with open_store(store_path) as store:
        records = store.load_period("2024Q1")
    return build_merged(small_ledger(), records, Q1, dt.date(2024, 3, 30))


def _fill(store_path: Path) -> None:
    files = [
        checked(NDRC, "2024-03-20T10:00:00", {1: ("正常推进", 30.0), 2: ("进度滞后", 10.0)},
                indicators={(1, "经济增长"): 6.1}, done="=HYPERLINK(\"http://x\")", problems="+资金未到位"),
        checked(COMMERCE, "2024-03-21T10:00:00", {2: ("正常推进", None), 3: ("正常推进", 50.0)},
                issues=[error(cell="F7"), warning(cell="K7"), error("unit_line", "B4", "进展填报!B4 填报人为空"),
                        Issue("warning", "sheet_extra", "统计", None, "多了一个工作表“统计”")],
                path="/drop/sub/商务局 一季度.xlsx"),
        checked(COMMERCE, "2024-03-22T10:00:00", {2: ("正常推进", 30.0), 3: ("正常推进", 50.0)},
                issues=[warning(cell="K6")]),
        checked(LONGTING, "2024-03-29T10:00:00", {3: ("已完成", 100.0)}, done="@SUM(1)"),
    ]
    with open_store(store_path) as store:
        for f in files:
            store.record(f, "2024Q1", "/archive", "accepted")


@pytest.fixture
def outputs(tmp_path: Path) -> list[Path]:
    return write_outputs(_merged(tmp_path), tmp_path / "reports", Bureau())


def test_outputs_are_the_book_and_one_receipt_per_sender(outputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "reports" / "2024Q1"
    assert outputs == [
        out / "汇总表.xlsx",
        out / "回执" / "2024Q1_市发展改革委_回执.xlsx",
        out / "回执" / "2024Q1_市商务局_回执.xlsx",
        out / "回执" / "2024Q1_龙亭区_回执.xlsx",
    ]
    assert not (out / "回执" / f"2024Q1_{SHUNHE}_回执.xlsx").exists()


def test_book_sheets_read_back_with_openpyxl(outputs: list[Path]) -> None:
    wb = openpyxl.load_workbook(outputs[0])
    assert wb.sheetnames == ["总览", "任务进展", "单位报送", "问题清单", "量化指标", "节点计划", "疑似不实", "考评排名",
                             "考评明细"]
    tasks = wb["任务进展"]
    assert [c.value for c in tasks[1]] == ["任务编号", "板块", "任务内容", "责任领导", "牵头单位", "综合状态", "红黄绿灯",
                                          "完成进度(%)", "各单位进展", "存在问题", "未报送单位", "序时进度(%)",
                                          "序时依据", "逾期节点"]
    assert [c.value for c in tasks[3]][:8] == [2, "（一）扩大有效需求", "社会消费品零售总额增长6%。", "张三", COMMERCE,
                                              "进度滞后", "黄灯", 30]
    assert tasks["I3"].value == "【市商务局】正常推进，30%：按计划推进\n【市发展改革委】进度滞后，10%：=HYPERLINK(\"http://x\")"
    assert tasks["J3"].value == "【市发展改革委】+资金未到位"
    assert tasks.freeze_panes == "A2"
    assert tasks.auto_filter.ref == "A1:N4"
    assert tasks.page_setup.orientation == "landscape"
    assert tasks.print_title_rows == "$1:$1"
    rules = [(r.formula, r.dxf.fill.bgColor.rgb) for cf in tasks.conditional_formatting for r in cf.rules]
    assert ('"红灯"',) in [tuple(f) for f, _ in rules]
    assert all(rgb in ("FFC6EFCE", "FFFFEB9C", "FFFFC7CE", "FFEDEDED") for _, rgb in rules)
    units = wb["单位报送"]
    assert [[c.value for c in row][:3] for row in units.iter_rows(min_row=2)] == [
        [NDRC, "市直部门", "已报送"], [COMMERCE, "市直部门", "已报送"], [LONGTING, "县区", "迟报"], [SHUNHE, "县区", "未报送"]]
    issues = wb["问题清单"]
    assert [c.value for c in issues[2]] == ["商务局 一季度.xlsx", COMMERCE, "2024-03-21 10:00:00", "退回修改", "错误",
                                           "progress_not_number", "进展填报!F7", "进展填报!F7 的完成进度应为数字"]
    indicators = wb["量化指标"]
    assert [c.value for c in indicators[2]][:12] == [1, "经济增长", "约数", 6.5, "%", "≈", NDRC, 6.1, "2024Q1",
                                                      "5.85–7.15", 93.8, "绿灯"]
    overview = wb["总览"]
    values = [[c.value for c in row][:2] for row in overview.iter_rows(min_row=4, max_row=9)]
    assert values == [["单位报送", "数量"], ["应报单位", 4], ["已报送", 2], ["迟报", 1], ["退回修改", 0], ["未报送", 1]]
    assert overview.page_setup.orientation == "portrait"


def test_book_has_a_native_chart(outputs: list[Path]) -> None:
    with zipfile.ZipFile(outputs[0]) as zf:
        chart = zf.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "总览!$A$" in chart


def test_unit_text_stays_inert_text(outputs: list[Path]) -> None:
    with zipfile.ZipFile(outputs[0]) as zf:
        sheets = [zf.read(n).decode() for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert not any("<f>" in xml for xml in sheets)
    rows = CalamineWorkbook.from_path(str(outputs[0])).get_sheet_by_name("任务进展").to_python()
    assert rows[3][8] == "【市商务局】正常推进，50%：按计划推进\n【龙亭区】已完成，100%：@SUM(1)"
    assert rows[1][9] == "【市发展改革委】+资金未到位"


def test_book_reads_back_with_calamine(outputs: list[Path]) -> None:
    book = CalamineWorkbook.from_path(str(outputs[0]))
    assert book.sheet_names == ["总览", "任务进展", "单位报送", "问题清单", "量化指标", "节点计划", "疑似不实",
                                "考评排名", "考评明细"]
    units = book.get_sheet_by_name("单位报送").to_python()
    assert [row[2] for row in units[1:]] == ["已报送", "已报送", "迟报", "未报送"]
    issues = book.get_sheet_by_name("问题清单").to_python()
    assert len(issues) == 1 + 5  # four issues of the superseded file, one of the accepted one


def test_receipt_shows_verdict_problems_and_marks_cells(outputs: list[Path]) -> None:
    wb = openpyxl.load_workbook(outputs[2])
    assert wb.sheetnames == ["回执", "问题清单", "进展填报"]
    front = wb["回执"]
    assert front["A3"].value == f"填报单位：{COMMERCE}"
    assert front["A4"].value == "结论：已收到，报表合格，已采用。"
    assert [[c.value for c in row] for row in front.iter_rows(min_row=7, max_row=8)] == [
        ["商务局 一季度.xlsx", "2024-03-21 10:00:00", "退回修改", 2, 2],
        [outputs[2].name and f"{COMMERCE}-{_n(front['A8'].value)}.xlsx", "2024-03-22 10:00:00", "采用", 0, 1],
    ]
    problems = [[c.value for c in row] for row in wb["问题清单"].iter_rows(min_row=2)]
    assert problems[0] == [front["A8"].value, "提醒", "进展填报!K6", "进展填报!K6 联系电话格式不对"]
    assert [p[2] for p in problems[1:]] == ["进展填报!F7", "进展填报!K7", "进展填报!B4", "统计"]
    rows = wb["进展填报"]
    assert (rows["A2"].value, rows["A4"].value, rows["B4"].value) == (f"填报单位：{COMMERCE}", "填报人", "李四")
    assert rows["A6"].value == 2 and rows["B6"].value == "社会消费品零售总额增长6%。" and rows["F6"].value == 30
    assert rows["K6"].comment.text == "进展填报!K6 联系电话格式不对"
    assert rows["K6"].fill.fgColor.rgb == "FFFFEB9C"
    assert rows["F7"].comment is None  # problems of an earlier file are listed, not marked
    # 说明 repeats a row's messages, since comments do not print; a row without any is bordered all the same
    assert (rows["L5"].value, rows["L6"].value, rows["L7"].value) == ("说明", "进展填报!K6 联系电话格式不对", None)
    assert [rows[ref].border.left.style for ref in ("L6", "L7", "L8")] == ["thin", "thin", None]


def _n(name: str) -> str:
    return name.rsplit("-", 1)[1].split(".")[0]


def test_rejected_receipt_marks_errors_red_and_says_what_to_do(tmp_path: Path) -> None:
    bad = checked(COMMERCE, "2024-03-21T10:00:00", {2: ("正常推进", None), 3: ("正常推进", 50.0)},
                  issues=[error(cell="F6"), warning(cell="F6", message="进展填报!F6 另一条提醒"),
                          Issue("error", "value_not_number", "量化指标", Cell(2, 6), "量化指标!F2 应为数字")],
                  indicators={(3, "促消费活动"): None})
    with open_store(tmp_path / "ducha.db") as store:
        store.record(bad, "2024Q1", "/archive", "rejected")
        merged = build_merged(small_ledger(), store.load_period("2024Q1"), Q1, dt.date(2024, 3, 20))
    path = write_outputs(merged, tmp_path, Bureau())[1]
    wb = openpyxl.load_workbook(path)
    assert wb["回执"]["A4"].value == "结论：报表有错误，未能采用，请按“问题清单”逐项修改后重新报送。"
    cell = wb["进展填报"]["F6"]
    assert cell.value is None
    assert cell.fill.fgColor.rgb == "FFFFC7CE"
    assert cell.comment.text == "进展填报!F7 的完成进度应为数字\n进展填报!F6 另一条提醒"
    indicator = wb["量化指标"]
    assert [c.value for c in indicator[2]][:5] == [3, "促消费活动", 100, "场", "≥"]
    assert indicator["F2"].comment.text == "量化指标!F2 应为数字"


def test_rewriting_the_same_merge_changes_no_byte(tmp_path: Path) -> None:
    first = write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in first}
    (tmp_path / "elsewhere").mkdir()
    again = write_outputs(_merged(tmp_path), tmp_path / "elsewhere", Bureau())
    assert [p.read_bytes() for p in again] == [b for b, _ in before.values()]
    second = write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    assert second == first
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in second} == before


def test_a_rerun_rebuilds_a_receipt_the_clerk_deleted_or_replaced(tmp_path: Path) -> None:
    """The rerun trusts its index of fingerprints only for files that are still the ones it wrote."""
    book, receipt, *_ = write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    good = receipt.read_bytes()
    receipt.unlink()
    write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    assert receipt.read_bytes() == good
    receipt.write_bytes(book.read_bytes())  # another workbook saved over it (a new size and time)
    write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    assert receipt.read_bytes() == good


@pytest.mark.skipif(not pool.OWN_WORK_FORKS, reason="the fingerprints go to workers only where they are forked")
def test_fingerprints_taken_in_workers_are_those_taken_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With the pool used from 2 outputs on, each output's fingerprint is taken in the forked worker
    that writes it: written outputs carry it, and a rerun taking them here (as where workers are
    not forked) rewrites nothing."""
    from toolkit.outputs import publish

    with monkeypatch.context() as patched:
        patched.setattr(pool, "POOL_THRESHOLD", 2)
        told: list[tuple[str, int, int]] = []
        with pool.watch(lambda *progress: told.append(progress)):
            first = write_outputs(_merged(tmp_path), tmp_path / "out", Bureau())
    assert ("_fresh_output", len(first), len(first)) in told  # one job for 汇总表, one a receipt
    stamps = {p: p.stat().st_mtime_ns for p in first}
    with monkeypatch.context() as patched:
        patched.setattr(publish, "OWN_WORK_FORKS", False)
        assert write_outputs(_merged(tmp_path), tmp_path / "out", Bureau()) == first
    assert {p: p.stat().st_mtime_ns for p in first} == stamps


def test_unsafe_unit_names_make_safe_receipt_names() -> None:
    assert receipt_name("2024Q1", "市委/市政府:督查") == "2024Q1_市委_市政府_督查_回执.xlsx"


@pytest.mark.parametrize("frame", ["tasks", "units", "issues", "indicators", "suspects", "league", "score_details",
                                   "requests", "evidence"])
def test_the_book_is_rebuilt_when_any_frame_it_shows_changes(tmp_path: Path, frame: str) -> None:
    """汇总表's fingerprint digests each frame's CSV as pandas writes it, chunk by chunk (no frame's
    whole text held): a change anywhere in any of them, even a frame with no rows, rebuilds it."""
    import dataclasses

    from toolkit.outputs import publish

    merged = _merged(tmp_path)
    changed = dataclasses.replace(merged, **{frame: getattr(merged, frame).assign(changed=1)})
    assert publish._book_inputs(changed, Bureau()) != publish._book_inputs(merged, Bureau())
    tasks = merged.tasks
    assert publish._frame_digest(tasks) == hashlib.sha256(tasks.to_csv().encode("utf-8")).hexdigest()
    book = write_outputs(merged, tmp_path / "out", Bureau())[0]
    before = book.read_bytes()
    write_outputs(changed, tmp_path / "out", Bureau())
    assert book.read_bytes() != before
