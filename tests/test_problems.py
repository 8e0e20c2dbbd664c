"""problems: a cell is a position printed as F7 only when shown; Report is the one collector."""

from __future__ import annotations

import pytest

from toolkit.problems import Cell, Issue, Report, column_letters, column_number


@pytest.mark.parametrize(("cell", "a1"), [(Cell(1, 1), "A1"), (Cell(7, 6), "F7"), (Cell(10, 27), "AA10"),
                                          (Cell(1048576, 16384), "XFD1048576")])
def test_a_cell_prints_as_its_a1_name_and_parses_back(cell, a1):
    assert str(cell) == a1
    assert Cell.parse(a1) == cell
    assert Cell.parse(a1.lower()) == cell


def test_every_column_is_named_as_excel_and_xlsxwriter_name_it():
    """problems names columns itself (the readers need no writer); xlsxwriter is the reference."""
    from xlsxwriter.utility import xl_col_to_name

    for col in range(1, 16385):
        letters = column_letters(col)
        assert letters == xl_col_to_name(col - 1)
        assert column_number(letters) == col
        assert Cell.parse(f"{letters}9") == Cell(9, col)
    assert column_number("ZZZZ") == 475254  # past XFD, as a crafted sheet names them: counted all the same


@pytest.mark.parametrize("text", ["", "A1:B2", "ZZZZZZ1", "XFE1", "A0", "7F", "A1048577x"])
def test_anything_but_a_cell_inside_the_grid_parses_to_none(text):
    assert Cell.parse(text) is None


def test_report_add_takes_the_level_from_the_code_and_leads_with_the_place():
    report = Report(levels={"status_missing": "error", "phone_missing": "warning"})
    report.add("status_missing", "完成状态未填写", "进展填报", Cell(6, 6))
    report.add("phone_missing", "联系电话未填写", "进展填报")
    assert [(i.level, i.where, i.message) for i in report] == [
        ("error", "进展填报!F6", "进展填报!F6：完成状态未填写"),
        ("warning", "进展填报", "进展填报：联系电话未填写"),
    ]
    assert not report.ok and len(report.errors) == 1 and report.codes() == ["status_missing", "phone_missing"]
    with pytest.raises(KeyError):
        report.add("no_such_code", "…")


def test_an_issue_as_json_names_its_cell_as_text():
    issue = Issue("error", "status_missing", "进展填报", Cell(6, 6), "…")
    assert issue.as_dict() == {"level": "error", "code": "status_missing", "sheet": "进展填报", "cell": "F6",
                               "message": "…"}
    assert Issue("warning", "unsigned", "", None, "…").as_dict()["cell"] == ""
