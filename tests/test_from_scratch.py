"""Issue 12's "done when": from an empty folder, init → ledger import 通知.docx → generate → two
units return their workbooks → merge → briefing, with no file copied by hand, every command
exiting 0 and every line it prints in Chinese (command names, option names, paths and the
period key aside)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import NOTICE
from tests.notice_fixtures import markdown_to_docx
from toolkit.cli.app import cli
from toolkit.demo.unitsim import fill

RETURNED = ("市商务局", "龙亭区")
ISSUED = 65  # units with a workbook in the bundled notice
CJK = re.compile(r"[\u4e00-\u9fff]")
# What may stay Latin in a Chinese line: text quoted from the notice (“…”), paths and file names, a [section] of ducha.toml, the
# workspace's folder names, ducha's command and option names, the period key.
ALLOWED = re.compile(r"(“[^”]*”|[^\s（）、]*/[^\s（）、，]*|\.[a-z_]+|\[[a-z]+\]|\b(ducha|init|ledger|import|template|doctor|"
                     r"generate|merge|briefing|outbox|drop|archive|reports|data)\b|--[a-z-]+|\d{4}Q\d)")


def run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), prog_name="ducha", catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def english_words(output: str) -> list[str]:
    """Latin words left in the output once paths, command and option names are taken out."""
    return re.findall(r"[A-Za-z]{2,}", ALLOWED.sub("", output))


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty folder the clerk works in, holding only the notice as received (.docx)."""
    root = tmp_path / "督查2024"
    root.mkdir()
    markdown_to_docx(NOTICE.read_text(encoding="utf-8"), root / "通知.docx")
    monkeypatch.chdir(root)
    return root


def test_a_quarter_from_an_empty_folder(folder: Path) -> None:
    outputs = [run("init", "--year", "2024")]
    assert (folder / "ducha.toml").is_file() and (folder / "drop").is_dir()

    outputs.append(out := run("ledger", "import", "通知.docx"))
    assert "识别出任务 153 项" in out
    assert (folder / "master_ledger.xlsx").is_file()

    outputs.append(out := run("generate", "--period", "2024Q1"))
    outbox = folder / "outbox" / "2024Q1"
    assert f"已生成 {ISSUED} 个填报表" in out
    assert len(list(outbox.glob("*.xlsx"))) == ISSUED

    for unit in RETURNED:  # two units fill in what they were sent and mail it back under their own name
        fill(outbox / f"2024Q1_{unit}.xlsx", folder / "drop" / f"{unit}一季度报送.xlsx")
    outputs.append(out := run("merge", "--period", "2024Q1"))
    assert "本次新处理文件 2 个；累计收到 2 个：采用 2" in out
    assert f"未报送 {ISSUED - 2}" in out
    reports = folder / "reports" / "2024Q1"
    assert sorted(p.name for p in (reports / "回执").iterdir()) == sorted(f"2024Q1_{u}_回执.xlsx" for u in RETURNED)
    summary = openpyxl.load_workbook(reports / "汇总表.xlsx", read_only=True)
    assert len(summary.sheetnames) >= 2
    summary.close()

    outputs.append(out := run("briefing", "--period", "2024Q1", "--date", "2024-03-29"))
    assert out.startswith("已生成2024年第一季度通报")
    for name in ("通报.html", "通报.md", "通报.docx"):
        assert (reports / name).stat().st_size > 0
    briefing = (reports / "通报.md").read_text(encoding="utf-8")
    assert all(unit in briefing for unit in RETURNED)

    for output in outputs:
        lines = [line for line in output.splitlines() if line.strip() and not set(line) <= set("┏┓┗┛━┃┡┩╇┳│└┘─┴ ")]
        assert all(CJK.search(line) for line in lines if not line.strip().startswith("/")), output
        assert english_words(output) == [], output
