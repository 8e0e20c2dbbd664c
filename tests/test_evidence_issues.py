"""A refused 佐证材料 is a problem like any other (issue 15): a registered code, a Chinese message
naming the file, on the unit's workbook, so the receipt's and 汇总表's 问题清单 list it."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import issued_workspace
from tests.test_evidence import PDF, docx, zipped
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.intake.codes import CODES
from toolkit.intake.evidence import check_evidence
from toolkit.intake.sniff import Limits
from toolkit.ledger.build import load_ledger
from toolkit.outputs.publish import merge
from toolkit.period import Period

Q1 = Period.parse("2024Q1")
NOW = dt.datetime(2024, 3, 25, 10, 0)
KIND = "佐证材料的内容与扩展名不符，或压缩包中有 PDF、JPG、PNG、DOCX 以外的文件，未接收"
TYPE = "文件内容（PDF 文件）与扩展名不符，不予接收；请报送 PDF、JPG、PNG、DOCX 或其压缩包"


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("验收报告.pdf", PDF, ""),
        ("说明.docx", docx(), ""),
        ("照片.jpg", PDF, "evidence_refused_type"),
        ("程序.zip", zipped({"run.exe": b"MZ"}), "evidence_refused_type"),
        ("..\\..\\evil.pdf", PDF, "evidence_bad_name"),
        ("越界.zip", zipped({"../../etc/x.pdf": PDF}), "evidence_bad_name"),
        ("炸弹.zip", zipped({"a.pdf": bytes(5 * 1024 * 1024)}), "evidence_zip_bomb"),
        ("大.pdf", PDF + bytes(3 * 1024 * 1024), "evidence_too_big"),
    ],
)
def test_each_refusal_has_its_registered_code(tmp_path, name, data, code):
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    _fmt, found, problem = check_evidence(path, name, Limits(max_file_mb=2))
    assert found == code and bool(problem) == bool(code)
    assert not code or CODES[code][0] == "warning"


def test_the_intake_guide_lists_the_evidence_codes():
    guide = (Path(__file__).parent.parent / "docs" / "填报与收件.md").read_text(encoding="utf-8")
    for code in ("evidence_refused_type", "evidence_too_big", "evidence_zip_bomb", "evidence_bad_name"):
        assert f"| `{code}` | 提醒 |" in guide


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    return issued_workspace(tmp_path_factory.mktemp("evidence_issues"))


def test_a_refused_file_is_on_the_units_problem_lists_and_the_workbook_is_still_taken(base, tmp_path):
    root = Path(shutil.copytree(base, tmp_path / "ws"))
    config = load_config(root)
    unit, rows = next((u, rows) for u, rows in load_ledger(config).assignments().items() if len(rows) >= 2)
    folder = root / "drop" / "来件1"
    unitsim.fill(root / "outbox" / "2024Q1" / f"2024Q1_{unit}.xlsx", folder / "报表.xlsx", mutate=[unitsim.answer(
        rows[0].task.no, status="已完成", progress=100, request="申请办结", reason="已完成", evidence="照片.jpg")])
    (folder / "照片.jpg").write_bytes(PDF)  # not what its name says
    result = merge(config, Q1, now=NOW)
    message = f"佐证材料“照片.jpg”未接收：{TYPE}"
    record = next(f for f in result.merged.files if f.unit == unit)
    assert not record.rejected and [(i.level, i.code, i.message) for i in record.issues] == [
        ("warning", "evidence_refused_type", message)]
    reports = root / "reports" / "2024Q1"
    book = openpyxl.load_workbook(next(p for p in reports.iterdir() if "汇总表" in p.name))
    issues = [r for r in book["问题清单"].iter_rows(min_row=2, values_only=True) if r[7] == message]
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in issues] == [("报表.xlsx", unit, "采用", "提醒", KIND)]
    receipt = openpyxl.load_workbook(next(reports.rglob(f"*{unit}*回执.xlsx")))
    assert ("报表.xlsx", "提醒", None, message) in list(receipt["问题清单"].iter_rows(min_row=2, values_only=True))
    again = merge(config, Q1, now=NOW)  # the stored check of the workbook is not changed by it
    assert again.new_files == [] and [i.code for f in again.merged.files if f.unit == unit for i in f.issues] == [
        "evidence_refused_type"]
