"""A malformed 邮箱 in 单位名录 is a warning for the ledger as a whole and an error only where
mail is sent: `generate` and `merge` run, `send` leaves that unit out and names its cell."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo.unitsim import fill
from toolkit.ledger.check import check_ledger
from toolkit.mail.runs import send_workbooks
from toolkit.period import Period

UNIT = "市商务局"
BAD = "swj@kaifeng..cn"


def invoke(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(root), *args], prog_name="ducha", catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def ws(issued: Path, tmp_path: Path) -> tuple[Path, str]:
    """The issued 2024Q1 workspace with 市商务局's 邮箱 mistyped; returns it and the cell."""
    root = shutil.copytree(issued, tmp_path / "ws")
    (root / "drop").mkdir(exist_ok=True)
    book = openpyxl.load_workbook(root / "master_ledger.xlsx")
    sheet = book["单位名录"]
    headers = [c.value for c in sheet[1]]
    row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == UNIT)
    cell = sheet.cell(row, headers.index("邮箱") + 1)
    cell.value = BAD
    book.save(root / "master_ledger.xlsx")
    return root, cell.coordinate


def test_a_bad_address_is_a_warning_in_the_ledger_at_its_cell(ws: tuple[Path, str]) -> None:
    root, cell = ws
    report = check_ledger(root / "master_ledger.xlsx")
    assert not report.errors
    [issue] = [i for i in report.warnings if i.code == "unit_email_invalid"]
    assert (issue.sheet, str(issue.cell)) == ("单位名录", cell)
    code, out = invoke(root, "ledger", "check")
    assert code == 0, out
    assert f"[提醒] 单位名录!{cell} 邮箱“{BAD}”格式不对" in out


def test_generate_and_merge_run_with_a_bad_address(ws: tuple[Path, str]) -> None:
    root, _ = ws
    code, out = invoke(root, "generate", "--period", "2024Q1", "--units", UNIT)
    assert code == 0, out
    assert "已生成 1 个填报表" in out
    fill(root / "outbox" / "2024Q1" / f"2024Q1_{UNIT}.xlsx", root / "drop" / "商务局.xlsx")
    code, out = invoke(root, "merge", "--period", "2024Q1")
    assert code == 0, out
    assert "采用 1" in out


def test_send_leaves_out_the_unit_and_names_its_cell(ws: tuple[Path, str]) -> None:
    root, cell = ws
    run = send_workbooks(load_config(root), Period.parse("2024Q1"), [UNIT], dry_run=True)
    assert run.deliveries == []
    assert run.undelivered == {UNIT: f"邮箱无效：单位名录!{cell}“{BAD}”，请在总台账中改正"}
    code, out = invoke(root, "send", "--period", "2024Q1", "--units", UNIT, "--dry-run")
    assert code == 0, out
    assert (f"没有有效邮箱、未发送（请在总台账“单位名录”的“邮箱”列填写或改正）：{UNIT}（单位名录!{cell}“{BAD}”）"
            in out.splitlines())
