"""toolkit.office: the real LibreOffice and poppler print what ducha writes, page by page."""

from __future__ import annotations

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from tests.conftest import require_tool
from toolkit import office
from toolkit.errors import DuchaError


def _book(path, rows: int, page_break: int | None = None) -> None:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("进展填报")
    sheet.set_paper(9)  # A4, whatever the machine's locale prefers
    if page_break:
        sheet.set_h_pagebreaks([page_break])
    for n in range(rows):
        sheet.write(n, 0, f"第{n + 1}行")
    book.close()


def test_a_two_page_workbook_prints_to_two_pages_and_two_pictures(tmp_path):
    require_tool("soffice", "libreoffice")
    require_tool("pdftoppm")
    source = tmp_path / "填报.xlsx"
    _book(source, rows=40, page_break=20)
    pdf = office.convert(source, "pdf", tmp_path / "pdf")
    assert pdf == tmp_path / "pdf" / "填报.pdf"
    assert office.page_count(pdf) == 2
    pictures = office.pdf_pages(pdf, tmp_path / "png", dpi=30)
    assert [p.name for p in pictures] == ["填报-1.png", "填报-2.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pictures)


def test_a_round_trip_through_libreoffice_keeps_the_cells(tmp_path):
    require_tool("soffice", "libreoffice")
    source = tmp_path / "报表.xlsx"
    _book(source, rows=3)
    saved = office.convert(source, "ods", tmp_path / "saved")
    assert CalamineWorkbook.from_path(str(saved)).get_sheet_by_name("进展填报").to_python() == [
        ["第1行"], ["第2行"], ["第3行"]]


def test_without_libreoffice_the_message_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(office.shutil, "which", lambda name: None)
    with pytest.raises(DuchaError, match="需要 LibreOffice（soffice）但本机未找到"):
        office.convert(tmp_path / "x.xlsx", "pdf", tmp_path)
    with pytest.raises(DuchaError, match="pdftoppm"):
        office.pdf_pages(tmp_path / "x.pdf", tmp_path)


def test_a_file_libreoffice_cannot_read_is_a_chinese_error(tmp_path):
    require_tool("soffice", "libreoffice")
    missing = tmp_path / "不存在.xlsx"
    with pytest.raises(DuchaError, match="LibreOffice 未能把 不存在.xlsx 转换为 pdf"):
        office.convert(missing, "pdf", tmp_path / "out")
