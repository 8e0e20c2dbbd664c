"""Each 量化指标 has a kind the ledger stores and the clerk can correct (issue 11.2, ledger side):
增速/比率 is compared with its target directly, 累计量 against target × 序时进度, 上限 and 约数 by
their own rules. Extraction infers kind and direction from the words; item 94's two targets are
two rows; the 指标类型 column round-trips, survives a rebuild, and an unknown kind is an error at
its cell."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import BUILT, NOTICE
from tests.forms_fixtures import path_of
from toolkit.config import load_config
from toolkit.errors import LedgerError
from toolkit.ledger.build import build_ledger, read_ledger
from toolkit.ledger.check import check_ledger
from toolkit.ledger.indicators import extract
from toolkit.ledger.notice import parse_notice
from toolkit.model import Indicator


@pytest.fixture(scope="module")
def texts() -> dict[int, str]:
    return {i.no: i.content for i in parse_notice(NOTICE.read_text(encoding="utf-8")).items}


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    shutil.copy(built, workspace / "master_ledger.xlsx")
    return workspace


def rows(no: int, text: str) -> list[tuple]:
    return [(i.name, i.target, i.unit, i.direction, i.kind) for i in extract(no, text)]


@pytest.mark.parametrize(
    ("no", "expected"),
    [
        (1, ("经济增长", 6.5, "%", "≥", "增速/比率")),  # 增长6.5% is a floor, not "exactly"
        (6, ("一般公共预算收入增长", 6, "%", "≥", "增速/比率")),
        (2, ("规模以上工业增加值增长", 7.5, "%", "≈", "约数")),
        (7, ("城镇调查失业率", 5.5, "%", "≈", "约数")),
        (8, ("城镇新增就业", 6.24, "万人", "≥", "累计量")),
        (11, ("粮食产量", 290, "万吨", "≥", "累计量")),
        (143, ("不良贷款率", 5, "%", "≤", "上限")),
        (61, ("信贷投放增幅", 10, "%", "≥", "增速/比率")),
    ],
)
def test_kind_and_direction_from_the_words(texts, no, expected) -> None:
    assert rows(no, texts[no]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("外贸进出口增长10%。", ("外贸进出口增长", 10, "%", "≥", "增速/比率")),
        ("青年专业技术人员占比达到40%以上。", ("青年专业技术人员占比", 40, "%", "≥", "增速/比率")),
        # a share of a job done by the year end (80%整治任务) accumulates like an amount
        ("完成80%整治任务。", ("完成整治任务", 80, "%", "=", "累计量")),
        # about a count is still a count to accumulate over the year
        ("引进人才1500人左右。", ("引进人才", 1500, "人", "≈", "累计量")),
        ("主城区每千人口床位数达到11.75张。", ("主城区每千人口床位数", 11.75, "张", "≥", "增速/比率")),
        ("能耗总量控制在30万吨标准煤以内。", ("能耗总量", 30, "万吨标准煤", "≤", "上限")),
    ],
)
def test_kind_rules_on_short_texts(text, expected) -> None:
    assert rows(1, text) == [expected]


def test_item_94_is_two_targets(texts) -> None:
    found = extract(94, texts[94])
    assert [(i.name, i.target, i.unit, i.direction, i.kind) for i in found] == [
        ("国资参与的战略性新兴产业规模增长", 100, "%", "≥", "增速/比率"),  # 翻番: doubled, i.e. +100%
        ("国资国企产业类营业收入增长", 10, "%", "≥", "增速/比率"),
    ]
    assert [i.source for i in found] == ["力争国资参与的战略性新兴产业规模实现翻番", "国资国企产业类营业收入增长10%"]


def test_a_blank_kind_is_inferred_from_unit_and_words() -> None:
    assert Indicator(1, "经济增长", 6.5, "%", "≥", "").kind == "增速/比率"
    assert Indicator(1, "新增城镇就业", 6.24, "万人", "≥", "").kind == "累计量"
    assert Indicator(1, "不良贷款率", 5, "%", "≤", "", "增速/比率").kind == "增速/比率"  # the clerk's word stands


# --- the ledger sheet -------------------------------------------------------------------------------


def _indicator_sheet(path: Path) -> openpyxl.worksheet.worksheet.Worksheet:
    return openpyxl.load_workbook(path)["量化指标"]


def _row_of(sheet, no: int, name: str) -> int:
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == no and row[1].value == name:
            return row[0].row
    raise KeyError((no, name))


def test_the_sheet_has_an_editable_kind_column_with_a_list(built) -> None:
    sheet = _indicator_sheet(built)
    assert [c.value for c in sheet[1]] == ["任务编号", "指标名称", "目标值", "计量单位", "方向", "指标类型", "原文"]
    r = _row_of(sheet, 2, "规模以上工业增加值增长")
    assert [c.value for c in sheet[r]][4:6] == ["≈", "约数"]
    lists = {str(dv.sqref): dv.formula1 for dv in sheet.data_validations.dataValidation}
    assert lists["F2:F1001"] == '"增速/比率,累计量,上限,约数"'
    assert len([r for r in sheet.iter_rows(min_row=2) if r[0].value == 94]) == 2


def test_a_kind_the_clerk_corrects_is_read_back_and_kept_on_rebuild(ws) -> None:
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["量化指标"]
    r = _row_of(sheet, 8, "城镇新增就业")
    sheet[f"F{r}"] = "增速/比率"
    book.save(path)
    assert check_ledger(path).errors == []
    ledger = read_ledger(path)
    assert [i.kind for i in ledger.indicators if i.task_no == 8] == ["增速/比率"]
    with pytest.raises(LedgerError, match=f"量化指标!F{r}"):
        build_ledger(load_config(ws), now=BUILT)
    assert _indicator_sheet(path)[f"F{r}"].value == "增速/比率"


def _set_kind(ws, task_no: int, name: str, kind: str) -> tuple:  # noqa: ANN001
    """The clerk types kind into 指标类型 of one indicator row; (ledger path, that row)."""
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    r = _row_of(book["量化指标"], task_no, name)
    book["量化指标"][f"F{r}"] = kind
    book.save(path)
    return path, r


def test_an_unknown_kind_is_an_error_at_its_cell(ws) -> None:
    path, r = _set_kind(ws, 1, "经济增长", "增量")
    [issue] = check_ledger(path).errors
    assert (issue.code, issue.sheet, str(issue.cell)) == ("indicator_kind_invalid", "量化指标", f"F{r}")
    assert issue.message == f"量化指标!F{r} 指标类型“增量”不对，应为 增速/比率、累计量、上限、约数 之一"


def test_a_kind_that_contradicts_its_direction_is_a_warning(ws) -> None:
    path, r = _set_kind(ws, 143, "不良贷款率", "增速/比率")
    report = check_ledger(path)
    assert report.errors == []
    [issue] = [i for i in report.issues if i.code == "indicator_kind_direction"]
    assert str(issue.cell) == f"F{r}"
    assert "方向“≤”" in issue.message and "上限" in issue.message


def test_an_older_ledger_without_the_column_loads_with_inferred_kinds(ws) -> None:
    path = ws / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    book["量化指标"].delete_cols(6)
    book.save(path)
    assert check_ledger(path).errors == []
    kinds = {(i.task_no, i.name): i.kind for i in read_ledger(path).indicators}
    assert kinds[(1, "经济增长")] == "增速/比率"
    assert kinds[(8, "城镇新增就业")] == "累计量"
    assert kinds[(143, "不良贷款率")] == "上限"
    assert kinds[(2, "规模以上工业增加值增长")] == "约数"


# --- what the unit is told to fill ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "kind", "words"),
    [("市发展改革委", "约数", "累计增速"), ("市人社局", "累计量", "自年初起截至本季度的累计完成量")],
)
def test_the_unit_workbook_says_what_to_fill_by_kind(generated, unit, kind, words) -> None:
    ws = openpyxl.load_workbook(path_of(generated, unit))["量化指标"]
    (dv,) = ws.data_validations.dataValidation
    assert (str(dv.sqref), dv.promptTitle) == ("F4", f"截至本季度完成值（{kind}）")
    assert words in dv.prompt and "只填写数字" in dv.prompt
