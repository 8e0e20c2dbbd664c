"""申请事项 in 进展填报 (issue 15): the issued columns, and each request taken or refused at its cell."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from tests.return_fixtures import COMMERCE, PERIOD, SECRET, issue, small_ledger
from toolkit.demo import unitsim
from toolkit.intake.check import check_file
from toolkit.intake.codes import Strictness
from toolkit.intake.sniff import Limits
from toolkit.model import Ledger, Request
from toolkit.quarter.store import open_store

DEADLINES = {2: "6月底", 3: "2024年9月30日", 4: "年底前"}


def ledger() -> Ledger:
    """small_ledger with 时间节点: task 2 by 6月底, 3 by 2024-09-30, 4 by 年底前."""
    base = small_ledger()
    tasks = [dataclasses.replace(t, deadline=DEADLINES.get(t.no, "")) for t in base.tasks]
    return Ledger(tasks, base.units, base.indicators)


def returned(tmp_path: Path, *mutations, strictness: Strictness | None = None):
    path = unitsim.fill(issue(tmp_path / "outbox", COMMERCE), tmp_path / "drop" / "商务局.xlsx", mutate=mutations)
    return check_file(path, ledger=ledger(), period=PERIOD, secret=SECRET, limits=Limits(), strictness=strictness)


def found(checked) -> list[tuple[str, str, str]]:
    return [(i.code, str(i.cell or ""), i.message) for i in checked.issues]


def test_the_issued_workbook_has_the_request_columns_with_a_dropdown_and_a_date_check(tmp_path):
    ws = openpyxl.load_workbook(issue(tmp_path, COMMERCE))["进展填报"]
    assert [ws.cell(5, c).value for c in range(12, 16)] == ["申请事项", "申请完成时间", "理由", "佐证材料"]
    rules = {str(v.sqref): v for v in ws.data_validations.dataValidation}
    assert rules["L6:L8"].type == "list" and rules["L6:L8"].formula1 == '"无,申请延期,申请办结"'
    assert rules["M6:M8"].type == "date" and rules["M6:M8"].operator == "greaterThanOrEqual"
    assert "须晚于原时间节点" in rules["M6:M8"].prompt
    assert not ws.cell(6, 12).protection.locked and ws.cell(6, 13).number_format == "yyyy-mm-dd"


def test_a_complete_extension_and_a_complete_closing_are_taken_and_stored(tmp_path):
    checked = returned(
        tmp_path,
        unitsim.answer(2, request="申请延期", request_date=dt.datetime(2024, 9, 30), reason="征地手续未批复"),
        unitsim.answer(3, request="申请办结", reason="已全部完成", evidence="验收报告.pdf、现场照片.jpg"),
        unitsim.answer(4, request="无"),
    )
    assert checked.issues == []
    requests = {t.task_no: t.request for t in checked.tasks}
    assert requests == {
        2: Request("申请延期", "2024-09-30", "征地手续未批复", ()),
        3: Request("申请办结", "", "已全部完成", ("验收报告.pdf", "现场照片.jpg")),
        4: None,
    }
    with open_store(tmp_path / "store.sqlite") as store:
        store.record(checked, PERIOD.key, "archived")
        loaded = {t.task_no: t.request for t in store.load_period(PERIOD.key)[0].tasks}
    assert loaded == requests


@pytest.mark.parametrize(
    ("no", "values", "code", "cell", "text"),
    [
        (2, {"request": "延期吧"}, "request_invalid", "L6", "申请事项“延期吧”不是无、申请延期、申请办结之一，请从下拉列表选择"),
        (2, {"request": "申请延期", "reason": "征地"}, "extension_date_missing", "M6",
         "任务2申请延期，但申请完成时间未填写，请填写新的完成时间，如2024-12-31"),
        (2, {"request": "申请延期", "request_date": "下个月", "reason": "征地"}, "extension_date_missing", "M6",
         "申请完成时间“下个月”不是日期"),
        (2, {"request": "申请延期", "request_date": "2024-06-30", "reason": "征地"}, "extension_not_later", "M6",
         "任务2申请延期到2024-06-30，不晚于原时间节点2024-06-30，请填写更晚的日期"),
        (2, {"request": "申请延期", "request_date": "2024-09-30"}, "request_reason_missing", "N6",
         "任务2申请延期，请在“理由”中说明延期原因"),
        (2, {"request": "申请办结", "evidence": "报告.pdf"}, "close_not_done", "L6",
         "任务2申请办结，但完成状态不是“已完成”或完成进度不是100"),
        (3, {"request": "申请办结"}, "evidence_missing", "O7",
         "任务3申请办结，请在“佐证材料”写明随表报送的文件名"),
    ],
)
def test_an_incomplete_request_is_an_error_at_its_cell_and_no_request(tmp_path, no, values, code, cell, text):
    checked = returned(tmp_path, unitsim.answer(no, **values))
    [(got_code, got_cell, message)] = found(checked)
    assert (got_code, got_cell) == (code, cell) and text in message and message.startswith(f"进展填报!{cell}：")
    assert checked.rejected and all(t.request is None for t in checked.tasks)


def test_without_require_evidence_a_closing_needs_no_evidence(tmp_path):
    checked = returned(tmp_path, unitsim.answer(3, request="申请办结"),
                       strictness=Strictness(require_evidence=False))
    assert checked.issues == []
    assert checked.tasks[1].request == Request("申请办结", "", "", ())


def test_a_workbook_without_the_request_columns_is_read_as_before(tmp_path):
    def drop_request_columns(wb):
        wb["进展填报"].delete_cols(12, 4)

    checked = returned(tmp_path, drop_request_columns)
    assert checked.issues == [] and [t.request for t in checked.tasks] == [None, None, None]


def test_require_evidence_is_read_from_the_review_section(tmp_path):
    from toolkit.config import load_config

    (tmp_path / "ducha.toml").write_text("[review]\nrequire_evidence = false\n", encoding="utf-8")
    assert Strictness.from_config(load_config(tmp_path)).require_evidence is False
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    assert Strictness.from_config(load_config(tmp_path)).require_evidence is True


def test_the_guide_tells_how_to_ask(tmp_path):
    ws = openpyxl.load_workbook(issue(tmp_path, COMMERCE))["填报说明"]
    rows = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(2, ws.max_row + 1)}
    assert "“申请事项”选“申请延期”，填写“申请完成时间”（须晚于原时间节点）和“理由”" in rows["申请延期、办结"]
    assert "并把这些文件与本表放在同一封邮件中发送" in rows["申请延期、办结"]
