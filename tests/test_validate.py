"""check_file: every mistake a unit makes → exact code, level, sheet, cell and Chinese message."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import require_tool
from tests.return_fixtures import COMMERCE, NDRC, PERIOD, SECRET, check, compound_file, issue, small_ledger
from toolkit import office
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.intake import archive
from toolkit.intake.check import check_file
from toolkit.intake.codes import CODES
from toolkit.intake.sniff import Limits
from toolkit.model import Ledger, Task, Unit
from toolkit.period import Period

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def outbox(tmp_path) -> Path:
    return tmp_path / "outbox"


def returned(tmp_path: Path, outbox: Path, unit: str = COMMERCE, name: str = "商务局(1).xlsx", **kwargs) -> Path:
    return unitsim.fill(issue(outbox, unit), tmp_path / "drop" / name, **kwargs)


def found(checked) -> list[tuple[str, str, str, str]]:
    return [(i.level, i.code, i.sheet, str(i.cell or "")) for i in checked.issues]


def test_a_correct_return_is_accepted_with_every_answer(tmp_path, outbox):
    dropped = returned(tmp_path, outbox)
    os.utime(dropped, (1711000000, 1711000000))
    archived = archive.archive(dropped, tmp_path / "archive", archive.file_facts(dropped)[0])
    before = archived.read_bytes()
    checked = check(archived, original=dropped)
    assert checked.issues == [] and not checked.rejected
    assert (checked.unit, checked.period, checked.signed, checked.format) == (COMMERCE, "2024Q1", True, "xlsx")
    assert checked.path == str(dropped) and checked.received == archive.file_facts(dropped)[2]
    assert checked.sha256 == archive.file_facts(dropped)[0] and archived.read_bytes() == before
    assert checked.filler == {"填报人": "李明", "联系电话": "0371-23859529", "单位负责人": "王强", "填报日期": "2024-03-20"}
    assert [(t.task_no, t.role, t.status, t.progress, t.row) for t in checked.tasks] == [
        (2, "牵头", "正常推进", 60.0, 6),
        (3, "牵头", "已完成", 100.0, 7),
        (4, "牵头", "进度滞后", 10.0, 8),
    ]
    lagging = checked.tasks[2]
    assert (lagging.problems, lagging.person, lagging.phone) == ("资金到位较慢，影响施工进度。", "责任人4", "13803780004")


MUTATION_CELLS = {
    "wrong_status": ("进展填报", "E6", "进展填报!E6：完成状态“差不多了”不是已完成、正常推进、进度滞后、未启动之一，请从下拉列表选择"),
    "synonym_status": ("进展填报", "E6", "完成状态“推进中”已按“正常推进”读取"),
    "progress_120": ("进展填报", "F6", "进展填报!F6：完成进度“120”超出0–100，请填写0到100之间的整数"),
    "progress_text": ("进展填报", "F6", "完成进度“八成”不是数字"),
    "no_person": ("进展填报", "J6", "任务2的具体责任人未填写"),
    "bad_phone": ("进展填报", "K6", "联系电话“12345”格式不对"),
    "edit_locked": ("进展填报", "B6", "“任务内容”是下发内容，不可修改（现为“社会消费品零售总额增长6%。（已调整）”"),
    "delete_row": ("进展填报", "", "进展填报：缺少任务2的行，请勿删除下发的任务行"),
    "duplicate_row": ("进展填报", "A9", "任务编号2重复（第6行已有）"),
    "swap_rows": ("进展填报", "", "任务行的顺序被调整"),
    "renumber": ("进展填报", "A6", "任务编号应为2，现为“999”"),
    "rename_sheet": ("Sheet1", "", "工作表“进展填报”被改名为“Sheet1”"),
    "remove_meta": ("", "", "已按“填报单位”和文件名认定为市商务局"),
    "formula": ("进展填报", "F6", "单元格中是公式，已按其计算结果“60”读取"),
}


@pytest.mark.parametrize("mutation", sorted(unitsim.MUTATIONS))
def test_each_unit_mistake_gets_its_code_cell_and_message(tmp_path, outbox, mutation):
    checked = check(returned(tmp_path, outbox, mutate=[mutation]))
    expected = unitsim.EXPECTED_CODES[mutation]
    if expected is None:
        assert checked.issues == [] and checked.tasks[0].progress == 60.0
        return
    sheet, cell, fragment = MUTATION_CELLS[mutation]
    assert found(checked) == [(*expected, sheet, cell)]
    assert fragment in checked.issues[0].message
    assert checked.rejected == (expected[0] == "error")
    assert checked.unit == COMMERCE


def test_answers_that_contradict_or_leave_out_what_the_status_needs(tmp_path, outbox):
    answers = unitsim.good_answers([2, 3, 4])
    answers[2] |= {"status": "已完成", "progress": 80}
    answers[3] |= {"status": "未启动", "progress": 30, "done": "", "next": "尽快启动"}
    answers[4] |= {"status": "进度滞后", "problems": None, "done": None, "next": None, "phone": None}
    checked = check(returned(tmp_path, outbox, answers=answers))
    assert found(checked) == [
        ("error", "status_progress_conflict", "进展填报", "F6"),
        ("error", "status_progress_conflict", "进展填报", "F7"),
        ("error", "done_missing", "进展填报", "G8"),
        ("error", "problems_missing", "进展填报", "H8"),
        ("warning", "next_missing", "进展填报", "I8"),
        ("warning", "phone_missing", "进展填报", "K8"),
    ]
    assert "完成状态为“已完成”，但完成进度为80" in checked.issues[0].message
    assert "完成状态为“未启动”，但完成进度为30" in checked.issues[1].message


def test_blank_status_and_progress_are_missing_except_progress_of_not_started(tmp_path, outbox):
    answers = unitsim.good_answers([2, 3, 4])
    answers[2] |= {"status": None, "progress": None}
    answers[3] |= {"status": "未启动", "progress": None, "done": None}
    checked = check(returned(tmp_path, outbox, answers=answers))
    assert found(checked) == [
        ("error", "status_missing", "进展填报", "E6"),
        ("error", "progress_missing", "进展填报", "F6"),
    ]
    assert checked.tasks[1].progress == 0.0


def test_text_over_2000_characters_is_refused_not_cut(tmp_path, outbox):
    answers = unitsim.good_answers([2, 3, 4])
    answers[3]["done"] = "推" * 2001
    checked = check(returned(tmp_path, outbox, answers=answers))
    assert found(checked) == [("error", "text_too_long", "进展填报", "G7")]
    assert "内容有2001字，超过2000字" in checked.issues[0].message


def test_a_share_in_a_plain_cell_is_read_as_percent_with_a_warning(tmp_path, outbox):
    answers = unitsim.good_answers([2, 3, 4])
    answers[2]["progress"] = 0.6
    checked = check(returned(tmp_path, outbox, answers=answers))
    assert found(checked) == [("warning", "progress_normalised", "进展填报", "F6")]
    assert "完成进度“0.6”已按60%读取" in checked.issues[0].message and checked.tasks[0].progress == 60.0


def test_filler_block_problems_are_warnings(tmp_path, outbox):
    filler = {"填报人": None, "联系电话": "123", "单位负责人": "王强", "填报日期": "三月底"}
    checked = check(returned(tmp_path, outbox, filler=filler))
    assert found(checked) == [
        ("warning", "filler_missing", "进展填报", "B4"),
        ("warning", "phone_invalid", "进展填报", "D4"),
        ("warning", "date_invalid", "进展填报", "H4"),
    ]
    assert not checked.rejected


def test_indicator_values_must_be_numbers(tmp_path, outbox):
    key = (1, "地区生产总值增长")
    ok = check(returned(tmp_path, outbox, NDRC, "ndrc.xlsx", indicators={key: "６.８"}))
    assert ok.issues == [] and [(i.task_no, i.name, i.value, i.row) for i in ok.indicators] == [(1, key[1], 6.8, 4)]
    words = check(returned(tmp_path, outbox, NDRC, "ndrc2.xlsx", indicators={key: "约6万"}))
    assert found(words) == [("error", "indicator_not_number", "量化指标", "F4")]
    assert "完成值“约6万”不是数字" in words.issues[0].message
    blank = check(returned(tmp_path, outbox, NDRC, "ndrc3.xlsx", indicators={}))
    assert found(blank) == [("warning", "indicator_missing", "量化指标", "F4")]


def test_deleted_indicator_sheet_or_row_is_an_error(tmp_path, outbox):
    def drop_sheet(wb):
        del wb[layout.SHEET_INDICATORS]

    def drop_row(wb):
        wb[layout.SHEET_INDICATORS].delete_rows(layout.INDICATOR_FIRST_ROW)

    no_sheet = check(returned(tmp_path, outbox, NDRC, "a.xlsx", mutate=[drop_sheet]))
    assert found(no_sheet) == [("error", "sheet_missing", "量化指标", "")]
    no_row = check(returned(tmp_path, outbox, NDRC, "b.xlsx", mutate=[drop_row]))
    assert found(no_row) == [("error", "indicator_row_missing", "量化指标", "")]
    assert "缺少任务1“地区生产总值增长”的指标行" in no_row.issues[0].message


# --- identity --------------------------------------------------------------------------------


def edit_meta(key: str, value: str):
    def mutate(wb):
        ws = wb[layout.SHEET_META]
        for row in ws.iter_rows():
            if row[0].value == key:
                row[1].value = value

    return mutate


def test_edited_meta_or_another_workspace_secret_fails_the_signature(tmp_path, outbox):
    edited = check(returned(tmp_path, outbox, mutate=[edit_meta("unit", NDRC)]))
    assert found(edited) == [("error", "signature_invalid", "_meta", "")]
    # Attributed to the unit its visible table names, never to the one its _meta names (test_identity_claims).
    assert (edited.unit, edited.claimed, edited.tasks) == (COMMERCE, True, [])
    path = returned(tmp_path, outbox, name="ok.xlsx")
    other = check_file(path, ledger=small_ledger(), period=PERIOD, secret=b"x" * 32, limits=Limits())
    assert [i.code for i in other.issues] == ["signature_invalid"]


def test_a_template_of_another_quarter_is_rejected_but_attributed(tmp_path, outbox):
    old = issue(outbox, COMMERCE, period=Period.parse("2023Q4"))
    checked = check(unitsim.fill(old, tmp_path / "drop" / "old.xlsx"))
    assert found(checked) == [("error", "wrong_period", "", "")]
    assert checked.issues[0].message.startswith("这是2023年第四季度的填报表，本次收取的是2024年第一季度")
    assert checked.unit == COMMERCE and checked.rejected and checked.tasks == []


def test_a_signed_unit_missing_from_the_ledger_is_unknown(tmp_path, outbox):
    bigger = small_ledger()
    bigger = Ledger(bigger.tasks + [Task(5, "二", "（二）", "新任务。", ("王五",), "市教育局", "市教育局")],
                    bigger.units + [Unit("市教育局", "市直部门")], bigger.indicators)
    path = unitsim.fill(issue(outbox, "市教育局", ledger=bigger), tmp_path / "edu.xlsx")
    checked = check(path)
    assert found(checked) == [("error", "unknown_unit", "_meta", "")]
    assert "“市教育局”不在总台账的单位名录中" in checked.issues[0].message


def test_meta_copied_from_another_units_workbook_is_caught_by_the_unit_line(tmp_path, outbox):
    donor = openpyxl.load_workbook(issue(outbox, NDRC))[layout.SHEET_META]
    donor_values = {row[0].value: row[1].value for row in donor.iter_rows()}

    def transplant(wb):
        for key, value in donor_values.items():
            edit_meta(key, value)(wb)

    checked = check(returned(tmp_path, outbox, mutate=[transplant]))
    assert found(checked) == [("error", "unit_mismatch", "进展填报", "A2")]
    assert "填报单位写的是“市商务局”，但这是下发给“市发展改革委”的填报表" in checked.issues[0].message


def without_meta(unit_line: str | None = None, period_line: str | None = None):
    def mutate(wb):
        del wb[layout.SHEET_META]
        ws = wb[layout.SHEET_PROGRESS]
        if unit_line is not None:
            ws.cell(layout.UNIT_ROW, 1).value = unit_line
        if period_line is not None:
            ws.cell(layout.PERIOD_ROW, 1).value = period_line

    return mutate


def archived_check(tmp_path: Path, dropped: Path):
    """As the merge does: check the archived copy, whose name is a hash, with the dropped path."""
    archived = archive.archive(dropped, tmp_path / "archive", archive.file_facts(dropped)[0])
    return check(archived, original=dropped)


def test_without_meta_the_unit_comes_from_the_unit_line_or_the_file_name(tmp_path, outbox):
    by_name = returned(tmp_path, outbox, name="2024Q1_市商务局(1).xlsx", mutate=[without_meta(unit_line="")])
    checked = archived_check(tmp_path, by_name)
    assert found(checked) == [("warning", "unsigned", "", "")]
    assert (checked.unit, checked.signed, len(checked.tasks)) == (COMMERCE, False, 3)

    alias = returned(tmp_path, outbox, NDRC, "报表.xlsx", mutate=[without_meta(unit_line="填报单位：市发改委")])
    assert archived_check(tmp_path, alias).unit == NDRC


def test_without_meta_two_or_no_candidate_units_reject_the_file(tmp_path, outbox):
    two = returned(tmp_path, outbox, name="市发改委报表.xlsx", mutate=[without_meta()])
    checked = archived_check(tmp_path, two)
    assert found(checked) == [("error", "unit_ambiguous", "", "")]
    assert "（市发展改革委、市商务局）" in checked.issues[0].message
    none = returned(tmp_path, outbox, name="一季度报表-最终版.xlsx", mutate=[without_meta(unit_line="填报单位：")])
    checked = archived_check(tmp_path, none)
    assert found(checked) == [("error", "unknown_unit", "", "")]
    assert "文件名“一季度报表-最终版.xlsx”" in checked.issues[0].message


def test_without_meta_the_period_line_still_catches_another_quarter(tmp_path, outbox):
    path = returned(tmp_path, outbox, mutate=[without_meta(period_line="报告期：2023年第四季度")])
    assert [i.code for i in check(path).issues] == ["unsigned", "wrong_period"]


# --- structure -------------------------------------------------------------------------------


def test_moved_columns_are_read_with_a_warning_and_a_lost_header_is_an_error(tmp_path, outbox):
    def insert_column(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.insert_cols(5)
        ws.cell(5, 5).value = "备注"

    moved = check(returned(tmp_path, outbox, mutate=[insert_column]))
    assert found(moved) == [("warning", "header_moved", "进展填报", "F5"), ("warning", "extra_column", "进展填报", "E5")]
    assert "“完成状态”E→F" in moved.issues[0].message and moved.tasks[0].status == "正常推进"

    def rename(wb):
        wb[layout.SHEET_PROGRESS].cell(5, 5).value = "状态"

    renamed = check(returned(tmp_path, outbox, name="r.xlsx", mutate=[rename]))
    assert found(renamed) == [("warning", "header_renamed", "进展填报", "E5")]
    assert "表头应为“完成状态”，现为“状态”" in renamed.issues[0].message

    def lose(wb):
        wb[layout.SHEET_PROGRESS].cell(5, 7).value = None

    lost = check(returned(tmp_path, outbox, name="l.xlsx", mutate=[lose]))
    assert found(lost) == [("error", "header_missing", "进展填报", "G5")]
    assert "找不到“本季度进展情况”列" in lost.issues[0].message


def test_rows_inserted_above_the_table_are_read_with_a_warning(tmp_path, outbox):
    def shift(wb):
        wb[layout.SHEET_PROGRESS].insert_rows(1)

    checked = check(returned(tmp_path, outbox, mutate=[shift]))
    assert found(checked) == [("warning", "table_moved", "进展填报", "A6")]
    assert [t.row for t in checked.tasks] == [7, 8, 9]


def test_added_task_rows_and_notes_below_the_table(tmp_path, outbox):
    def add(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.cell(9, 1).value = 1
        ws.cell(9, 2).value = "地区生产总值增长6.5%。"
        ws.cell(11, 1).value = "备注：以上数据截至3月20日"

    checked = check(returned(tmp_path, outbox, mutate=[add]))
    assert found(checked) == [("error", "task_added", "进展填报", "A9"), ("warning", "extra_row", "进展填报", "A11")]
    assert "任务1不是下发给本单位的任务" in checked.issues[0].message


def test_content_far_below_the_table_is_not_read(tmp_path, outbox):
    def far(wb):
        wb[layout.SHEET_PROGRESS].cell(400, 7).value = "很远的一行"

    checked = check(returned(tmp_path, outbox, mutate=[far]), limits=Limits(row_margin=50))
    assert found(checked) == [("warning", "too_many_rows", "进展填报", "")]
    assert "一直到第400行" in checked.issues[0].message and "只读取到第59行" in checked.issues[0].message


def test_a_missing_progress_sheet_is_an_error_naming_the_sheets_found(tmp_path, outbox):
    def wreck(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.title = "汇总"
        ws.delete_rows(5)

    checked = check(returned(tmp_path, outbox, mutate=[wreck]))
    assert found(checked) == [("error", "sheet_missing", "", "")]
    assert "找不到工作表“进展填报”（现有：填报说明、汇总、节点计划、_lists、_meta）" in checked.issues[0].message


# --- files that are not usable workbooks --------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "fragment"),
    [
        (b"", "empty_file", "文件为空"),
        (b"%PDF-1.7\n", "not_workbook", "这是 PDF 文件"),
        (b"\x89PNG\r\n\x1a\n....", "not_workbook", "这是图片文件"),
        (b"<html><body><table></table></body></html>", "not_workbook", "这是网页（HTML）文件"),
        (compound_file(("EncryptionInfo", "EncryptedPackage")), "encrypted", "设置了打开密码"),
        (compound_file(("Workbook",), cut=600), "damaged_file", "文件已损坏或不完整"),
    ],
)
def test_files_that_are_not_workbooks_are_rejected_with_the_reason(tmp_path, data, code, fragment):
    path = tmp_path / "市商务局.xlsx"
    path.write_bytes(data)
    checked = check(path)
    assert found(checked) == [("error", code, "", "")]
    assert fragment in checked.issues[0].message and "以 .xlsx 格式保存后重新报送" in checked.issues[0].message
    assert checked.unit is None and checked.tasks == []


def test_macro_truncated_broken_and_oversized_workbooks(tmp_path, outbox):
    good = returned(tmp_path, outbox)
    half = tmp_path / "half.xlsx"
    half.write_bytes(good.read_bytes()[:4000])
    macro, broken = tmp_path / "m.xlsm", tmp_path / "broken.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(macro, "w") as dst, zipfile.ZipFile(broken, "w") as bad:
        for name in src.namelist():
            data = src.read(name)
            if name != "xl/workbook.xml":
                bad.writestr(name, data)
            if name == "[Content_Types].xml":
                data = data.replace(b"spreadsheetml.sheet.main", b"ms-excel.sheet.macroEnabled.main")
            dst.writestr(name, data)
    assert [i.code for i in check(half).issues] == ["damaged_file"]
    assert [i.code for i in check(macro).issues] == ["macro_workbook"]
    assert [i.code for i in check(broken).issues] == ["unreadable"]
    big = check(good, limits=Limits(max_file_mb=0.001))
    assert found(big) == [("error", "over_limits", "", "")] and "超过上限 0.001 MB" in big.issues[0].message

    def far_cell(wb):
        wb[layout.SHEET_PROGRESS].cell(600_000, 11).value = "x"

    huge = check(returned(tmp_path, outbox, name="huge.xlsx", mutate=[far_cell]))
    assert found(huge) == [("error", "over_limits", "", "")]
    assert "工作表“进展填报”的数据范围达 600000 行 × 15 列" in huge.issues[0].message


def test_the_intake_guide_lists_every_issue_code_with_its_level():
    guide = (ROOT / "docs" / "填报与收件.md").read_text(encoding="utf-8")
    section = guide.split("## 收件与校验", 1)[1].split("\n## ", 1)[0]
    listed = dict(re.findall(r"^\| `([a-z_]+)` \| (错误|提醒) \|", section, re.MULTILINE))
    assert listed == {code: ("错误" if level == "error" else "提醒") for code, (level, _) in CODES.items()}


def test_real_office_round_trip_to_xls_and_ods_is_read_and_accepted(tmp_path, outbox):
    require_tool("soffice", "libreoffice")
    filled = returned(tmp_path, outbox, name="filled.xlsx")
    for target in ("xls", "ods"):
        path = office.convert(filled, target, tmp_path / "converted")
        renamed = shutil.copy(path, tmp_path / f"报表{target}.xlsx")  # the name must not matter
        checked = check(Path(renamed))
        assert checked.format == target
        assert [i.code for i in checked.issues] == [], checked.issues
        assert (checked.unit, checked.signed) == (COMMERCE, True)
        assert [(t.task_no, t.status, t.progress) for t in checked.tasks] == [
            (2, "正常推进", 60.0), (3, "已完成", 100.0), (4, "进度滞后", 10.0)]


def test_an_entity_expansion_bomb_in_the_sheet_is_refused_without_expanding(tmp_path, outbox):
    good = returned(tmp_path, outbox)
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 10))
    doctype = f'<!DOCTYPE x [<!ENTITY e0 "boom">{entities}<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'.encode()
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "xl/worksheets/sheet2.xml":
                head, declared, body = data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
                data = head + declared + doctype + body.replace(b"<v>", b"<v>&e9;&xxe;", 1)
            dst.writestr(name, data)
    checked = check(bomb)
    assert found(checked) == [("error", "unreadable", "", "")] and checked.tasks == []


def test_edit_at_the_end_of_a_long_task_text_is_shown_where_it_differs(tmp_path) -> None:
    """A 30-character excerpt of the start would show the same text twice; the message shows the
    place where the unit's text departs from the issued one."""
    long_task = "加快推进" + "重点项目建设" * 8 + "。"

    def edit_end(wb) -> None:
        cell = wb[layout.SHEET_PROGRESS]["B6"]
        cell.value = long_task + "（本单位已调整）"

    ledger = small_ledger()
    first = ledger.tasks[0]
    ledger.tasks[0] = dataclasses.replace(first, content=long_task)
    src = issue(tmp_path / "out", first.lead, ledger=ledger)
    dst = unitsim.fill(src, tmp_path / "drop" / "x.xlsx", mutate=[edit_end])
    checked = check_file(dst, ledger=ledger, period=PERIOD, secret=SECRET, limits=Limits())
    [found] = [i for i in checked.issues if i.code == "locked_cell_changed"]
    assert str(found.cell) == "B6"
    assert "现为“…设重点项目建设。（本单位已调整）”，应为“…设重点项目建设。”" in found.message


def test_a_formula_error_in_progress_is_named_not_called_empty(tmp_path) -> None:
    """=1/0 shows #DIV/0! in Excel; calamine reads such a cell as empty, but the unit must be told
    what its cell shows, not that it left it blank."""
    from tests.hostile import replace_cell, rezip, sheet_member

    filled = unitsim.fill(issue(tmp_path / "out", COMMERCE), tmp_path / "filled.xlsx")
    member = sheet_member(filled, layout.SHEET_PROGRESS)
    broken = rezip(filled, tmp_path / "drop" / "除零.xlsx",
                   edit={member: replace_cell("F6", '<c r="F6" t="e"><f>1/0</f><v>#DIV/0!</v></c>')})
    checked = check(broken)
    found = {(i.code, str(i.cell or "")): i for i in checked.issues}
    assert ("progress_missing", "F6") not in found
    assert "完成进度“#DIV/0!”不是数字" in found[("progress_invalid", "F6")].message
    assert found[("formula_used", "F6")].level == "warning"
    assert checked.rejected
