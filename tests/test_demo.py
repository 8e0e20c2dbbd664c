"""`make demo` plays a whole quarter; this runs it in a temporary folder and checks what it made."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path

from python_calamine import CalamineWorkbook

from toolkit.demo import play as demo


def test_demo_plays_a_whole_quarter(tmp_path: Path, capsys) -> None:
    target = tmp_path / "demo"
    assert demo.main(target) == 0
    out = capsys.readouterr().out
    reports = target / "reports" / "2024Q1"

    assert "生成 65 个单位的填报表" in out
    assert "下发填报表：发送 65 封" in out
    assert "应报单位 65 个：已报送 53，迟报 4，退回修改 4，未报送 4" in out
    assert out.rstrip().endswith(f"通报：{reports / '通报.docx'}")

    book = CalamineWorkbook.from_path(reports / "汇总表.xlsx")
    assert book.sheet_names[:5] == ["总览", "任务进展", "单位报送", "问题清单", "量化指标"]
    units = book.get_sheet_by_name("单位报送").to_python()
    standing = [row[2] for row in units[1:]]
    assert (standing.count("已报送"), standing.count("迟报"), standing.count("未报送")) == (53, 4, 4)
    assert len(list((reports / "回执").glob("*.xlsx"))) == 61

    messages = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted((target / "mailbox").glob("*.eml"))]
    attachments = [part.get_filename() for m in messages for part in m.iter_attachments()]
    assert "2024Q1_市商务局.xlsx" in attachments
    assert len(list((target / "outbox" / "2024Q2").glob("*.xlsx"))) == 65
    assert (target / "drop" / "扫描件.xlsx").read_bytes().startswith(b"%PDF")  # the drop is never touched
