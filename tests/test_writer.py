"""One unit's report workbook, read back as the merge and a unit's client would read it."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook, SheetVisibleEnum

from tests.conftest import require_tool
from tests.forms_fixtures import (
    EXPECTED,
    EXPECTED_INDICATORS,
    FORMULA_TEXT,
    HEADER,
    SECRET,
    URL_TEXT,
    calamine_rows,
    meta_from,
    path_of,
    small_ledger,
)
from toolkit import office
from toolkit.config import Bureau
from toolkit.forms import layout, meta
from toolkit.forms.guide import guide_rows
from toolkit.forms.writer import INPUT_FILL, write_workbook
from toolkit.model import Assignment
from toolkit.period import Period


@pytest.mark.parametrize("unit", list(EXPECTED))
def test_progress_sheet_reads_back_with_calamine(generated, unit):
    rows = calamine_rows(path_of(generated, unit), layout.SHEET_PROGRESS)
    assert rows[layout.TITLE_ROW - 1][0] == "开封市2024年政府工作报告确定事项第一季度推进情况表"
    assert rows[layout.UNIT_ROW - 1][0] == f"填报单位：{unit}"
    assert "2024年3月28日" in rows[layout.PERIOD_ROW - 1][0]
    assert rows[layout.FILLER_ROW - 1][:8] == ["填报人", "", "联系电话", "", "单位负责人", "", "填报日期", ""]
    assert rows[layout.HEADER_ROW - 1] == HEADER
    data = rows[layout.FIRST_DATA_ROW - 1 :]
    assert [(int(r[0]), r[3]) for r in data] == EXPECTED[unit]
    assert all(r[4:] == [""] * 11 for r in data)


@pytest.mark.parametrize("unit", list(EXPECTED))
def test_locked_columns_inputs_and_protection_with_openpyxl(generated, unit):
    ws = openpyxl.load_workbook(path_of(generated, unit))[layout.SHEET_PROGRESS]
    assert ws.protection.sheet is True
    # In OOXML formatRows="0" means "not protected": units may resize rows and columns.
    assert ws.protection.formatRows is False and ws.protection.formatColumns is False
    assert ws.protection.deleteRows is True and ws.protection.insertColumns is True
    last = layout.FIRST_DATA_ROW + len(EXPECTED[unit]) - 1
    for row in range(layout.FIRST_DATA_ROW, last + 1):
        for col, column in enumerate(layout.PROGRESS_COLUMNS, start=1):
            c = ws.cell(row, col)
            assert c.protection.locked is column.locked, c.coordinate
            assert (c.fill.fgColor.rgb == "FF" + INPUT_FILL[1:]) is not column.locked, c.coordinate
    assert [ws.cell(row, 4).value for row in range(layout.FIRST_DATA_ROW, last + 1)] == [
        r for _, r in EXPECTED[unit]
    ]
    for _, label_col, value_col in layout.FILLER_FIELDS:
        assert ws.cell(layout.FILLER_ROW, label_col).protection.locked is True
        assert ws.cell(layout.FILLER_ROW, value_col).protection.locked is False
    assert ws.freeze_panes == f"A{layout.FIRST_DATA_ROW}"
    assert ws.print_title_rows == f"${layout.HEADER_ROW}:${layout.HEADER_ROW}"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True and ws.page_setup.fitToHeight == 0
    assert ws.column_dimensions["B"].width == pytest.approx(50, abs=1)
    assert ws["B6"].alignment.wrap_text is True


def test_status_dropdown_and_progress_validation(generated):
    wb = openpyxl.load_workbook(path_of(generated, "兰考县"))
    validations = {str(dv.sqref): dv for dv in wb[layout.SHEET_PROGRESS].data_validations.dataValidation}
    assert set(validations) == {"E6:E8", "F6:F8", "L6:L8", "M6:M8"}  # L, M: tests/test_requests.py
    status, progress = validations["E6:E8"], validations["F6:F8"]
    assert (status.type, status.formula1) == ("list", layout.STATUS_LIST_NAME)
    assert (progress.type, progress.formula1, progress.formula2) == ("whole", "0", "100")
    assert progress.operator in (None, "between")  # absent means between
    for dv in (status, progress):
        assert dv.showInputMessage and dv.showErrorMessage
        assert dv.errorStyle in (None, "stop")  # absent means stop
        assert dv.promptTitle and dv.errorTitle and "请" in dv.prompt and dv.error
    assert "已完成、正常推进、进度滞后、未启动" in status.prompt
    assert "0 到 100 之间的整数" in progress.error
    assert wb.defined_names[layout.STATUS_LIST_NAME].attr_text == "_lists!$A$1:$A$4"
    assert [c.value for c in wb[layout.SHEET_LISTS]["A"]] == list(layout.STATUSES)


def test_sheet_order_visibility_and_active_sheet(generated):
    with_indicators = openpyxl.load_workbook(path_of(generated, "市人社局"))
    assert with_indicators.sheetnames == ["填报说明", "进展填报", "量化指标", "节点计划", "_lists", "_meta"]
    assert [ws.sheet_state for ws in with_indicators.worksheets] == ["visible"] * 4 + ["hidden", "veryHidden"]
    assert with_indicators.active.title == "填报说明"
    meta_sheets = CalamineWorkbook.from_path(str(path_of(generated, "杞县"))).sheets_metadata
    assert [(m.name, m.visible) for m in meta_sheets] == [
        ("填报说明", SheetVisibleEnum.Visible),
        ("进展填报", SheetVisibleEnum.Visible),
        ("_lists", SheetVisibleEnum.Hidden),
        ("_meta", SheetVisibleEnum.VeryHidden),
    ]


def test_indicator_sheet_locks_issued_cells_and_validates_the_value(generated):
    path = path_of(generated, "市发展改革委")
    rows = calamine_rows(path, layout.SHEET_INDICATORS)[layout.INDICATOR_HEADER_ROW - 1:]
    assert rows == [
        ["任务编号", "指标名称", "目标值", "计量单位", "方向", "截至本季度完成值", "说明"],
        [1.0, "经济增长", 6.5, "%", "≈", "", ""],
    ]
    ws = openpyxl.load_workbook(path)[layout.SHEET_INDICATORS]
    assert [ws.cell(4, c).protection.locked for c in range(1, 8)] == [True] * 5 + [False] * 2
    (dv,) = ws.data_validations.dataValidation
    assert (str(dv.sqref), dv.type) == ("F4", "decimal")
    assert "只填写数字" in dv.prompt and dv.showErrorMessage
    assert ws.protection.sheet is True and ws.freeze_panes == "A4"


@pytest.mark.parametrize("unit", list(EXPECTED))
def test_meta_is_signed_and_lists_what_was_issued(generated, unit):
    fields = meta_from(path_of(generated, unit))
    assert list(fields) == [*layout.META_KEYS, layout.META_SIGNATURE_KEY]
    assert meta.verify(fields, SECRET)
    assert not meta.verify(fields, b"x" * 32)
    assert fields["unit"] == unit and fields["period"] == "2024Q1" and fields["deadline"] == "2024-03-28"
    assert fields["template_version"] == layout.TEMPLATE_VERSION
    assert fields["generated_at"] == "2024-03-01T09:30:00"
    ledger = small_ledger()
    expected = [
        [no, role, meta.task_hash(ledger.task(no).content, ledger.task(no).leaders_text, role)]
        for no, role in EXPECTED[unit]
    ]
    assert json.loads(fields["tasks"]) == expected
    assert json.loads(fields["indicators"]) == [list(i) for i in EXPECTED_INDICATORS.get(unit, [])]
    assert not meta.verify(fields | {"unit": "市教育局"}, SECRET)


def test_meta_never_contains_the_secret(generated):
    for w in generated.workbooks:
        with zipfile.ZipFile(w.path) as z:
            blob = b"".join(z.read(n) for n in z.namelist())
        assert SECRET not in blob and SECRET.hex().encode() not in blob


def test_ledger_text_stays_text_never_formula_or_link(generated):
    path = path_of(generated, "兰考县")
    ws = openpyxl.load_workbook(path)[layout.SHEET_PROGRESS]
    contents = {ws.cell(r, 1).value: ws.cell(r, 2) for r in range(6, 9)}
    assert contents[1].value == FORMULA_TEXT and contents[1].data_type == "s"
    assert contents[3].value == URL_TEXT and contents[3].data_type == "s"
    assert contents[4].value == "@统计监测" and contents[4].data_type == "s"
    with zipfile.ZipFile(path) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert not any("<f>" in s or "<hyperlink" in s for s in sheets)
        assert not any("hyperlink" in z.read(n).decode() for n in z.namelist() if n.endswith(".rels"))


def test_prefill_carries_last_answers_into_input_cells_only(tmp_path):
    ledger = small_ledger()
    rows = [Assignment(ledger.task(1), "牵头"), Assignment(ledger.task(2), "配合")]
    path = tmp_path / "pre.xlsx"
    write_workbook(
        path,
        unit="市发展改革委",
        assignments=rows,
        indicators=[ledger.indicators[0]],
        period=Period.parse("2024Q2"),
        bureau=Bureau(),
        secret=SECRET,
        generated_at="2024-06-01T08:00:00",
        prefill={
            1: {
                "status": "正常推进",
                "progress": 25,
                "done": "=已开工",
                "content": "篡改",
                "phone": "0371-1234",
            }
        },
        indicator_prefill={(1, "经济增长"): {"value": 6.1, "note": "一季度数据"}},
    )
    data = calamine_rows(path, layout.SHEET_PROGRESS)[layout.FIRST_DATA_ROW - 1 :]
    assert data[0] == [
        1.0,
        FORMULA_TEXT,
        "袁钢",
        "牵头",
        "正常推进",
        25.0,
        "=已开工",
        "",
        "",
        "",
        "0371-1234",
        "",
        "",
        "",
        "",
    ]
    assert data[1][4:] == [""] * 11
    assert calamine_rows(path, layout.SHEET_INDICATORS)[layout.INDICATOR_FIRST_ROW - 1][5:] == [6.1, "一季度数据"]
    assert "第二季度推进情况表" in calamine_rows(path, layout.SHEET_PROGRESS)[0][0]
    assert meta.verify(meta_from(path), SECRET)


def test_guide_says_what_to_fill_when_how_and_whom_to_ask(generated):
    text = "\n".join(
        f"{r[0]}|{r[1]}" for r in calamine_rows(path_of(generated, "兰考县"), layout.SHEET_GUIDE)[1:]
    )
    assert "填报单位|兰考县" in text
    assert "报送截止时间|2024年3月28日" in text
    assert "本单位共 3 项任务（牵头 0 项、配合 1 项、县区落实 2 项）" in text
    assert "第一季度为 25%" in text and "红灯：落后序时进度 25 个百分点及以上" in text
    for status in layout.STATUSES:
        assert f"{status}：" in text
    assert "请勿重命名工作表、移动列或删除行" in text
    assert "ducha@example.com" in text and "联系人：（请填写联系人）" in text and "电话：（请填写联系电话）" in text
    assert "量化指标|" not in text  # 兰考县 reports no indicator
    q3 = guide_rows("市人社局", [], True, Period.parse("2024Q3"), Bureau())
    assert any(k == "量化指标" for k, _ in q3)
    assert any("第三季度为 75%" in v for _, v in q3)


@pytest.fixture(scope="module")
def libreoffice_copies(generated, tmp_path_factory) -> dict[str, Path]:
    """The 市发展改革委 workbook saved again by LibreOffice as .xlsx and as .ods."""
    require_tool("soffice", "libreoffice")
    base = tmp_path_factory.mktemp("lo")
    source = path_of(generated, "市发展改革委")
    copies = {}
    for ext, target in (("xlsx", "xlsx:Calc MS Excel 2007 XML"), ("ods", "ods")):
        copies[ext] = office.convert(source, target, base / ext)
    return copies


@pytest.mark.parametrize("ext", ["xlsx", "ods"])
def test_libreoffice_round_trip_keeps_sheets_signature_and_rows(libreoffice_copies, generated, ext):
    path = libreoffice_copies[ext]
    sheets = CalamineWorkbook.from_path(str(path)).sheets_metadata
    assert [m.name for m in sheets] == ["填报说明", "进展填报", "量化指标", "节点计划", "_lists", "_meta"]
    # LibreOffice has no "very hidden": it keeps _meta hidden, not very hidden.
    assert [m.visible for m in sheets[4:]] == [SheetVisibleEnum.Hidden, SheetVisibleEnum.Hidden]
    assert meta.verify(meta_from(path), SECRET)
    original = path_of(generated, "市发展改革委")
    assert (
        calamine_rows(path, layout.SHEET_PROGRESS)[:7] == calamine_rows(original, layout.SHEET_PROGRESS)[:7]
    )


def test_libreoffice_xlsx_keeps_dropdown_validation_and_protection(libreoffice_copies):
    wb = openpyxl.load_workbook(libreoffice_copies["xlsx"])
    ws = wb[layout.SHEET_PROGRESS]
    kinds = {dv.type: (dv.formula1, str(dv.sqref)) for dv in ws.data_validations.dataValidation
             if str(dv.sqref) < "L"}  # the request columns L, M have their own (tests/test_requests.py)
    assert kinds["list"] == (layout.STATUS_LIST_NAME, "E6:E7")
    assert kinds["whole"] == ("0", "F6:F7")
    assert wb.defined_names[layout.STATUS_LIST_NAME].attr_text == "_lists!$A$1:$A$4"
    assert ws.protection.sheet is True and ws["B6"].protection.locked and not ws["E6"].protection.locked


def test_libreoffice_ods_keeps_dropdown_bound_to_the_named_list_and_the_0_100_rule(libreoffice_copies):
    with zipfile.ZipFile(libreoffice_copies["ods"]) as z:
        content = z.read("content.xml").decode()
    validation = re.search(
        r'table:name="(\w+)" table:condition="of:cell-content-is-in-list\(([^)]*)\)', content
    )
    assert validation and validation[2] == layout.STATUS_LIST_NAME
    assert f'table:content-validation-name="{validation[1]}"' in content
    assert f'table:name="{layout.STATUS_LIST_NAME}"' in content and "$_lists.$A$1:.$A$4" in content
    assert "of:cell-content-is-whole-number() and cell-content-is-between(0,100)" in content
