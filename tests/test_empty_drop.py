"""An empty drop folder is said plainly in the merge summary (and flagged in --json), instead of
a quarter that silently reads 65 未报送."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from toolkit.cli.app import cli
from toolkit.demo.unitsim import fill

UNITS = 65


@pytest.fixture
def ws(issued: Path, tmp_path: Path) -> Path:
    """A copy of the issued 2024Q1 workspace (real ledger, 65 workbooks), nothing returned yet."""
    root = shutil.copytree(issued, tmp_path / "ws")
    (root / "drop").mkdir(exist_ok=True)
    return root


def merge(root: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--config", str(root), "merge", "--period", "2024Q1", *args],
                                prog_name="ducha", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_an_empty_drop_folder_is_a_warning_not_a_silent_quarter_of_missing_units(ws: Path) -> None:
    lines = merge(ws).splitlines()
    assert lines[1] == (f"注意：收件夹 {ws / 'drop'} 中没有任何文件，本期还没有收到填报表，下面的“未报送 {UNITS}”"
                        "只是因为收件夹是空的。请把各单位报回的填报表（邮件附件）保存到收件夹后再运行 ducha merge；"
                        "填报表放在别的文件夹时，用 --drop 指定")
    data = json.loads(merge(ws, "--json"))
    assert data["drop"] == {"path": str(ws / "drop"), "files": 0, "empty": True}


def test_an_empty_drop_folder_after_earlier_returns_says_what_the_summary_rests_on(ws: Path) -> None:
    fill(ws / "outbox" / "2024Q1" / "2024Q1_市商务局.xlsx", ws / "drop" / "商务局.xlsx")
    first = merge(ws)
    assert "注意" not in first
    assert json.loads(merge(ws, "--json"))["drop"] == {"path": str(ws / "drop"), "files": 1, "empty": False}
    (ws / "drop" / "商务局.xlsx").unlink()  # the clerk tidied the drop folder
    lines = merge(ws).splitlines()
    assert lines[1] == (f"注意：收件夹 {ws / 'drop'} 中没有任何文件，本次按此前收到的 1 个文件汇总；"
                        "有新报回的填报表时，请保存到收件夹后再运行 ducha merge")
