"""佐证材料 (issue 15): files beside a workbook are archived, attributed and linked, never opened;
hostile ones are refused with the reason; a loose PDF is still a wrong file."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import issued_workspace
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.intake.evidence import check_evidence
from toolkit.intake.sniff import Limits
from toolkit.ledger.build import load_ledger
from toolkit.outputs.publish import merge
from toolkit.period import Period
from toolkit.quarter.evidence import evidence_of
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
NOW = dt.datetime(2024, 3, 25, 10, 0)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "fmt", "problem"),
    [
        ("验收报告.pdf", PDF, "pdf", ""),
        ("现场.png", PNG, "image", ""),
        ("说明.docx", docx(), "docx", ""),
        ("材料.zip", zipped({"材料/验收.pdf": PDF, "照片.png": PNG}), "zip", ""),
        ("报告.pdf", b"MZ\x90\x00" + bytes(100), "unknown", "文件内容（无法识别的文件类型，不是 Excel 工作簿）与扩展名不符，不予接收"),
        ("照片.jpg", PDF, "pdf", "文件内容（PDF 文件）与扩展名不符"),
        ("..\\..\\evil.pdf", PDF, "unknown", "含路径分隔符或不是文件名，不予接收"),
        ("炸弹.zip", zipped({"a.pdf": bytes(5 * 1024 * 1024)}), "zip", "压缩比"),
        ("越界.zip", zipped({"../../etc/x.pdf": PDF}), "zip", "压缩包中的“../../etc/x.pdf”路径越出压缩包，不予接收"),
        ("程序.zip", zipped({"run.exe": b"MZ"}), "zip", "压缩包中的“run.exe”不是 PDF、JPG、PNG 或 DOCX，不予接收"),
        ("大.pdf", PDF + bytes(3 * 1024 * 1024), "unread", "超过上限 2 MB，不予接收，请压缩或拆分后重新报送"),
    ],
)
def test_each_evidence_file_is_judged_by_its_bytes_and_bounds(tmp_path, name, data, fmt, problem):
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    found = check_evidence(path, name, Limits(max_file_mb=2))
    assert found[0] == fmt and (problem in found[2] if problem else found[2] == "")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return issued_workspace(tmp_path_factory.mktemp("evidence"))


@pytest.fixture
def ws(base, tmp_path) -> tuple[Path, str, int]:
    """A workspace whose drop folder holds one unit's return in a sub-folder, asking to close a task
    it leads with two pieces of evidence beside it (one refused), and a loose PDF at the top."""
    root = Path(shutil.copytree(base, tmp_path / "ws"))
    ledger = load_ledger(load_config(root))
    unit, rows = next((u, rows) for u, rows in ledger.assignments().items() if len(rows) >= 2)
    no = rows[0].task.no
    folder = root / "drop" / "来件1"
    unitsim.fill(root / "outbox" / "2024Q1" / f"2024Q1_{unit}.xlsx", folder / "报表.xlsx", mutate=[unitsim.answer(
        no, status="已完成", progress=100, request="申请办结", reason="已完成", evidence="验收报告.pdf、照片.jpg")])
    (folder / "验收报告.pdf").write_bytes(PDF)
    (folder / "照片.jpg").write_bytes(PDF)  # not what its name says
    (root / "drop" / "乱放.pdf").write_bytes(PDF)
    return root, unit, no


def test_evidence_beside_a_workbook_is_archived_attributed_linked_and_listed(ws):
    root, unit, no = ws
    config = load_config(root)
    result = merge(config, Q1, now=NOW)
    record = next(f for f in result.merged.files if f.unit == unit)
    assert not record.rejected and [t.request.evidence for t in record.tasks if t.request] == [("验收报告.pdf", "照片.jpg")]
    loose = [f for f in result.merged.files if f.path.endswith("乱放.pdf")]
    assert [i.code for i in loose[0].issues] == ["not_workbook"]  # still a wrong file at the top
    assert not any(f.path.endswith(("验收报告.pdf", "照片.jpg")) for f in result.merged.files)
    with open_store(config.paths.store) as store:
        found = {f.name: (f.unit, f.format, f.problem) for f in evidence_of(store, Q1.key)}
        archived = [a for (a,) in store.conn.execute("SELECT archived FROM evidence WHERE name = '验收报告.pdf'")]
    assert found == {"验收报告.pdf": (unit, "pdf", ""),
                     "照片.jpg": (unit, "pdf", "文件内容（PDF 文件）与扩展名不符，不予接收；请报送 PDF、JPG、PNG、DOCX 或其压缩包")}
    assert Path(archived[0]).read_bytes() == PDF and Path(archived[0]).parent.name == "佐证材料"
    book = openpyxl.load_workbook(root / "reports" / "2024Q1" / next(
        p.name for p in (root / "reports" / "2024Q1").iterdir() if "汇总表" in p.name))
    listed = {r[1]: r for r in book["佐证材料"].iter_rows(min_row=2, values_only=True)}
    assert listed["验收报告.pdf"][0] == unit and listed["验收报告.pdf"][5:] == (f"第{no}项", "已接收")
    assert listed["照片.jpg"][6].startswith("文件内容（PDF 文件）与扩展名不符")
    requests = list(book["申请审核"].iter_rows(min_row=2, values_only=True))
    assert requests[0][5] == "验收报告.pdf（已收到）、照片.jpg（未收到）"
    receipt = next((root / "reports" / "2024Q1").rglob(f"*{unit}*回执.xlsx"))
    texts = [c.value for row in openpyxl.load_workbook(receipt)["回执"].iter_rows() for c in row if c.value]
    assert "佐证材料“照片.jpg”未接收：文件内容（PDF 文件）与扩展名不符，不予接收；请报送 PDF、JPG、PNG、DOCX 或其压缩包" in texts
    assert f"申请审核：第{no}项申请办结，已收到，待督查局审核。" in texts
    again = merge(config, Q1, now=NOW)  # a rerun takes nothing twice
    assert again.new_files == []
    with open_store(config.paths.store) as store:
        assert len(evidence_of(store, Q1.key)) == 2


def test_evidence_from_the_same_mail_as_a_workbook_is_that_units(ws):
    from toolkit.quarter.fetched import FetchedPart, record_message

    root, unit, no = ws
    drop = root / "drop"
    shutil.move(drop / "来件1" / "报表.xlsx", drop / "20240320-090000_aaaa1111_报表.xlsx")
    shutil.move(drop / "来件1" / "验收报告.pdf", drop / "20240320-090000_bbbb2222_验收报告.pdf")
    shutil.rmtree(drop / "来件1")
    config = load_config(root)
    with open_store(config.paths.store) as store:
        record_message(store, [
            FetchedPart("INBOX", 7, 42, seq, "<m@x>", "a@x.cn", "报表", "2024-03-20T09:00:00", unit, name, "", saved, "",
                        "2024-03-20T09:05:00")
            for seq, (name, saved) in enumerate([("报表.xlsx", "20240320-090000_aaaa1111_报表.xlsx"),
                                                 ("验收报告.pdf", "20240320-090000_bbbb2222_验收报告.pdf")])])
    merge(config, Q1, now=NOW)
    with open_store(config.paths.store) as store:
        assert [(f.name, f.unit, f.problem) for f in evidence_of(store, Q1.key)] == [("验收报告.pdf", unit, "")]
