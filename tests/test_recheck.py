"""`ducha merge --recheck` (issue 11.9): a file rejected because of the ledger is checked again
once the clerk has fixed the ledger, from its archived copy; the earlier check is kept as history,
the verdicts are decided anew, and the clerk is told which files changed verdict. A plain merge
never re-reads a file; a recheck with nothing changed changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms import layout
from toolkit.forms.plan import file_name
from toolkit.ledger.sheets import SHEET_UNITS
from toolkit.outputs.receipts import receipt_name
from toolkit.period import Period
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
NDRC = "市发展改革委"
NEW_NAME = "开封市发展和改革委员会"  # how the unit now writes its name; not yet an alias in the ledger


@pytest.fixture
def ws(issued: Path, tmp_path: Path) -> Path:
    shutil.copytree(issued, tmp_path / "ws")
    return tmp_path / "ws"


def _touch(path: Path, when: str) -> Path:
    stamp = dt.datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _pasted(ws: Path) -> Path:
    """发改委's answers pasted into a new workbook (no _meta) under its new name, in a file whose
    name names nobody: no unit in today's ledger can be found, so it is unknown_unit."""

    def new_workbook(wb: openpyxl.Workbook) -> None:
        del wb[layout.SHEET_META]
        wb[layout.SHEET_PROGRESS].cell(layout.UNIT_ROW, 1).value = f"填报单位：{NEW_NAME}"

    src = ws / "outbox" / Q1.key / file_name(Q1, NDRC)
    return _touch(unitsim.fill(src, ws / "drop" / "一季度报表.xlsx", mutate=[new_workbook]), "2024-03-20T09:00:00")


def _add_alias(ws: Path, unit: str, alias: str) -> None:
    """The clerk types the unit's new name into 单位名录's 别名 column."""
    path = load_config(ws).paths.ledger
    book = openpyxl.load_workbook(path)
    sheet = book[SHEET_UNITS]
    header = [c.value for c in sheet[1]]
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[header.index("单位名称")].value == unit]
    row[header.index("别名")].value = alias
    book.save(path)


def _merge(ws: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", Q1.key, *args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result.output


def _files(ws: Path) -> dict[str, tuple[str | None, str, list[str]]]:
    data = json.loads(_merge(ws, "--json"))
    return {Path(f["path"]).name: (f["unit"], f["verdict"], [i["code"] for i in f["issues"]]) for f in data["files"]}


def _outputs(ws: Path) -> dict[str, bytes]:
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted((ws / "reports").rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_a_file_rejected_for_an_unknown_unit_is_accepted_after_the_ledger_is_fixed(ws: Path) -> None:
    _pasted(ws)
    assert _files(ws) == {"一季度报表.xlsx": (None, "rejected", ["unknown_unit"])}
    _add_alias(ws, NDRC, NEW_NAME)
    assert _files(ws)["一季度报表.xlsx"][1] == "rejected"  # a plain merge does not read it again

    text = _merge(ws, "--recheck")
    assert "重新审核本期已收文件 1 个（按当前总台账和 [checks] 设置），判定改变 1 个" in text
    assert f"  {ws / 'drop' / '一季度报表.xlsx'}（{NDRC}）：退回修改 → 采用" in text
    assert _files(ws) == {"一季度报表.xlsx": (NDRC, "accepted", ["unsigned"])}
    receipt = openpyxl.load_workbook(ws / "reports" / Q1.key / "回执" / receipt_name(Q1.key, NDRC))
    assert receipt["回执"]["A4"].value == "结论：已收到，报表合格，已采用。"

    config = load_config(ws)
    with open_store(config.paths.store) as store:
        [earlier] = store.earlier_checks(Q1.key)
        [record] = store.load_period(Q1.key)
    assert (earlier.sha256, earlier.verdict, earlier.unit) == (record.sha256, "rejected", None)
    assert [i.code for i in earlier.issues] == ["unknown_unit"]
    assert f"无法从“填报单位”（{NEW_NAME}）和文件名“一季度报表.xlsx”确定报送单位" in earlier.issues[0].message
    assert record.unit == NDRC and record.tasks  # its rows are read now


def test_rechecking_again_with_the_same_inputs_changes_nothing(ws: Path) -> None:
    _pasted(ws)
    _merge(ws)
    _add_alias(ws, NDRC, NEW_NAME)
    first = json.loads(_merge(ws, "--recheck", "--json"))
    assert [(Path(c["path"]).name, c["unit"], c["before"], c["after"]) for c in first["rechecked"]["changed"]] == [
        ("一季度报表.xlsx", NDRC, "rejected", "accepted")]
    outputs = _outputs(ws)
    with open_store(load_config(ws).paths.store) as store:
        dump = store.dump()
    again = json.loads(_merge(ws, "--recheck", "--json"))
    assert again["rechecked"] == {"files": 1, "changed": []}
    assert _outputs(ws) == outputs
    with open_store(load_config(ws).paths.store) as store:
        assert store.dump() == dump
    assert "重新审核本期已收文件 1 个（按当前总台账和 [checks] 设置），判定改变 0 个" in _merge(ws, "--recheck")


def test_a_recheck_applies_todays_checks_settings_and_tells_the_superseded_file_too(ws: Path) -> None:
    """Two good files of one unit, the later with a blank 具体责任人; the bureau then makes that an
    error: the later file is rejected and the earlier one is accepted again — two files change."""
    src = ws / "outbox" / Q1.key / file_name(Q1, NDRC)
    _touch(unitsim.fill(src, ws / "drop" / "first.xlsx"), "2024-03-19T09:00:00")
    _touch(unitsim.fill(src, ws / "drop" / "second.xlsx", mutate=["no_person"], seed=1), "2024-03-20T09:00:00")
    assert {name: verdict for name, (_, verdict, _) in _files(ws).items()} == {
        "first.xlsx": "superseded", "second.xlsx": "accepted"}
    (ws / "ducha.toml").write_text('[checks]\nperson_missing = "error"\n', encoding="utf-8")
    changed = json.loads(_merge(ws, "--recheck", "--json"))["rechecked"]["changed"]
    assert sorted((Path(c["path"]).name, c["before"], c["after"]) for c in changed) == [
        ("first.xlsx", "superseded", "accepted"), ("second.xlsx", "accepted", "rejected")]
    with open_store(load_config(ws).paths.store) as store:
        [earlier] = store.earlier_checks(Q1.key)
    assert (earlier.verdict, [(i.level, i.code) for i in earlier.issues]) == ("accepted", [("warning", "person_missing")])


def test_a_file_whose_archived_copy_is_gone_keeps_its_check_and_is_named(ws: Path) -> None:
    _pasted(ws)
    _merge(ws)
    _add_alias(ws, NDRC, NEW_NAME)
    shutil.rmtree(ws / "archive")
    data = json.loads(_merge(ws, "--recheck", "--json"))
    assert data["rechecked"] == {"files": 0, "changed": []}
    [unread] = data["unread"]
    assert unread["path"] == str(ws / "drop" / "一季度报表.xlsx")
    assert unread["reason"].startswith("归档副本") and "不存在，本次未重新审核，沿用此前的审核结果" in unread["reason"]
    assert [f["verdict"] for f in data["files"]] == ["rejected"]
