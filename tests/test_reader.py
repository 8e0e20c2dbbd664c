"""Reading a returned workbook into a Submission: cells by header, meta, filler, formulas, percent."""

from __future__ import annotations

import openpyxl
import pytest

from tests.return_fixtures import COMMERCE, NDRC, issue
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.intake import reader
from toolkit.intake.parts import SheetTooLarge
from toolkit.intake.sniff import Limits
from toolkit.problems import Cell


@pytest.fixture
def outbox(tmp_path):
    return tmp_path / "outbox"


def read(path, fmt="xlsx", limits=None):
    return reader.read(path, fmt, limits or Limits(), expected_rows=4, expected_indicators=1)


def test_reads_a_filled_workbook_as_the_unit_left_it(tmp_path, outbox):
    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "商务局(1).xlsx")
    sub = read(path)
    assert sub.sheet_names == ["填报说明", "进展填报", "节点计划", "_lists", "_meta"]
    assert sub.meta["unit"] == COMMERCE and sub.meta["period"] == "2024Q1" and len(sub.meta["signature"]) == 64
    assert sub.unit_line == "填报单位：市商务局"
    assert sub.period_line.startswith("报告期：2024年第一季度")
    assert sub.filler == {"填报人": (Cell.parse("B4"), "李明"), "联系电话": (Cell.parse("D4"), "0371-23859529"), "单位负责人": (Cell.parse("F4"), "王强"),
                          "填报日期": (Cell.parse("H4"), "2024-03-20")}
    table = sub.progress
    assert (table.sheet, table.header_row, table.renamed, table.extra_headers) == ("进展填报", 5, {}, {})
    columns = layout.PROGRESS_COLUMNS + layout.REQUEST_COLUMNS
    assert table.columns == {c.key: i for i, c in enumerate(columns, start=1)}
    assert [r.row for r in table.rows] == [6, 7, 8]
    first = table.rows[0].values
    assert (first["no"], first["role"], first["status"], first["progress"]) == (2, "牵头", "正常推进", 60)
    assert first["content"] == "社会消费品零售总额增长6%。"
    assert sub.indicators is None and sub.details_known
    assert table.formulas == set() and table.percent == set()


def test_reads_the_indicator_sheet_of_a_unit_that_owns_indicators(tmp_path, outbox):
    path = unitsim.fill(issue(outbox, NDRC), tmp_path / "ndrc.xlsx", indicators={(1, "地区生产总值增长"): "6.8"})
    table = read(path).indicators
    assert table.header_row == layout.INDICATOR_HEADER_ROW == 3 and [r.row for r in table.rows] == [4]
    assert (table.rows[0].values["name"], table.rows[0].values["value"]) == ("地区生产总值增长", "6.8")


def test_moved_and_renamed_columns_are_found_by_header(tmp_path, outbox):
    def rearrange(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.insert_cols(5)  # a new column before 完成状态 moves every input column one to the right
        ws.cell(5, 5).value = "备注"
        ws.cell(5, 8).value = "进展情况"  # renamed AND moved: its layout column G now holds 完成进度(%)

    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "moved.xlsx", mutate=[rearrange])
    table = read(path).progress
    assert table.columns["status"] == 6 and table.columns["progress"] == 7
    assert table.extra_headers[5] == "备注"
    assert "done" not in table.columns and table.extra_headers[8] == "进展情况"
    assert table.cell("status", 6) == Cell.parse("F6")


def test_a_renamed_header_in_its_own_column_is_read_by_position(tmp_path, outbox):
    def rename(wb):
        wb[layout.SHEET_PROGRESS].cell(5, 5).value = "状态"

    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "renamed.xlsx", mutate=[rename])
    table = read(path).progress
    assert table.columns["status"] == 5 and table.renamed == {"status": "状态"}
    assert table.rows[0].values["status"] == "正常推进"


def test_header_variants_in_full_width_or_with_spaces_are_the_same_header(tmp_path, outbox):
    def variants(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.cell(5, 6).value = "完成进度（％）"
        ws.cell(5, 5).value = " 完成 状态 "

    table = read(unitsim.fill(issue(outbox, COMMERCE), tmp_path / "v.xlsx", mutate=[variants])).progress
    assert table.renamed == {} and table.columns["progress"] == 6 and table.columns["status"] == 5


def test_formula_cells_and_percent_formats_are_visible_in_xlsx(tmp_path, outbox):
    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "f.xlsx", mutate=["formula"])
    table = read(path).progress
    assert table.formulas == {Cell.parse("F6")} and table.rows[0].values["progress"] == 60

    def percent_second_row(wb):
        cell = wb[layout.SHEET_PROGRESS].cell(7, 6)
        cell.value, cell.number_format = 1, "0.0%"

    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "p.xlsx", mutate=["progress_percent_format", percent_second_row])
    table = read(path).progress
    assert table.percent == {Cell.parse("F6"), Cell.parse("F7")} and table.formulas == set()


def test_rows_inserted_above_the_table_and_a_renamed_sheet_still_read(tmp_path, outbox):
    def shift(wb):
        ws = wb[layout.SHEET_PROGRESS]
        ws.insert_rows(1, 2)
        ws.title = "Sheet1"

    sub = read(unitsim.fill(issue(outbox, COMMERCE), tmp_path / "s.xlsx", mutate=[shift]))
    assert sub.progress.sheet == "Sheet1" and sub.progress.header_row == 7
    assert [r.row for r in sub.progress.rows] == [8, 9, 10]
    assert sub.unit_line == "填报单位：市商务局" and sub.filler["填报人"] == (Cell.parse("B6"), "李明")


def test_only_expected_rows_plus_margin_are_read_and_the_extent_is_reported(tmp_path, outbox):
    def far_rows(wb):
        ws = wb[layout.SHEET_PROGRESS]
        for row in range(20, 40):
            ws.cell(row, 7).value = f"第{row}行"

    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "r.xlsx", mutate=[far_rows])
    table = read(path, limits=Limits(row_margin=5)).progress
    assert table.last_row == 39
    assert table.read_to == 5 + 4 + 5 and max(r.row for r in table.rows) <= table.read_to


def test_a_sheet_spanning_too_many_cells_is_refused_before_loading(tmp_path, outbox):
    def far_cell(wb):
        wb[layout.SHEET_PROGRESS].cell(600_000, 11).value = "x"

    path = unitsim.fill(issue(outbox, COMMERCE), tmp_path / "far.xlsx", mutate=[far_cell])
    assert path.stat().st_size < 50_000
    with pytest.raises(SheetTooLarge) as caught:
        read(path)
    assert (caught.value.sheet, caught.value.rows, caught.value.cols) == ("进展填报", 600_000, 15)


def test_a_workbook_without_meta_or_table_reads_as_such(tmp_path):
    path = tmp_path / "blank.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "随便写的表"
    wb.save(path)
    sub = read(path)
    assert (sub.meta, sub.progress, sub.indicators, sub.unit_line) == (None, None, None, "")
