"""Receipts written by the lean writer (leanxlsx) are what xlsxwriter's receipts were to every reader.

Each receipt of a quarter is built twice, with the lean writer and with fastxlsx.Book (xlsxwriter's
bytes), and both are read back with openpyxl and python-calamine: the same sheets, cells (value,
type, font, fill, border, alignment, number format), column widths, row heights, merged ranges,
frozen rows, comments and the boxes they open in, print settings and document properties. The
bytes differ (shared strings and formats are numbered otherwise): what a reader sees must not."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import subprocess
import zipfile
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from tests import forms_fixtures
from tests.conftest import require_tool
from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, checked, error, file_records, small_ledger, warning
from tests.test_fastxlsx import HOSTILE
from toolkit import fastxlsx, leanxlsx, office
from toolkit.config import Bureau
from toolkit.forms import layout
from toolkit.outputs import receipts
from toolkit.outputs.receipts import receipt_bytes
from toolkit.outputs.sheets import FINGERPRINT
from toolkit.problems import Cell, Issue
from toolkit.quarter.frames import MergedQuarter, build_merged


def _quarter() -> MergedQuarter:
    """市发展改革委 rejected (errors and warnings on cells of both copied sheets, comments at A1
    and one too long for a comment), 市商务局 clean, 龙亭区 late after a file with a warning;
    answers, messages and the filler block taken from the hostile list."""
    hostile = iter(HOSTILE * 3)
    on_indicators = Issue("error", "indicator_not_number", layout.SHEET_INDICATORS, Cell.parse("F4"), HOSTILE[10])
    files = [
        checked(NDRC, "2024-03-20T09:00:00", done=next(hostile), problems=next(hostile),
                indicators={(1, "经济增长"): 6.4},
                issues=[error(message="=cmd|' /C calc'!A0 <b>&\x02"), error(cell="G6", message=HOSTILE[8]),
                        warning(cell="A1", message="  首行 _x0041_"), on_indicators,
                        warning(cell="H7", message="多行\n提醒"),
                        *(warning(cell=f"L{7 + i}", message=text) for i, text in enumerate(HOSTILE))]),
        checked(COMMERCE, "2024-03-21T10:00:00", done=HOSTILE[16], problems=HOSTILE[10]),
        checked(LONGTING, "2024-03-22T11:00:00", issues=[error(cell="K6", message=HOSTILE[12])],
                done=HOSTILE[6], problems=HOSTILE[5]),
        checked(LONGTING, "2024-03-29T11:00:00", done=HOSTILE[15]),
    ]
    records = [dataclasses.replace(r, filler={"填报人": HOSTILE[3], "联系电话": 13800000000.0, "填报日期": HOSTILE[0]})
               for r in file_records(*files)]
    return build_merged(small_ledger(), records, forms_fixtures.Q1, dt.date(2024, 3, 30))


def _colour(color: Any) -> Any:
    return None if color is None else (color.type, color.rgb, color.indexed, color.theme)


def _cell(cell: Any) -> tuple:
    font, fill, border, align = cell.font, cell.fill, cell.border, cell.alignment
    return (cell.value, cell.data_type, font.b, font.sz, font.name, _colour(font.color),
            fill.fill_type, _colour(fill.fgColor), tuple(getattr(border, side).style for side in
                                                        ("left", "right", "top", "bottom")),
            align.wrap_text, align.horizontal, align.vertical, cell.number_format,
            cell.comment.text if cell.comment else None)


def _widths(ws: Any) -> dict[int, float]:
    return {col: dim.width for dim in ws.column_dimensions.values() if dim.customWidth
            for col in range(dim.min, dim.max + 1)}


def _seen(data: bytes) -> dict[str, Any]:
    """Everything openpyxl and calamine read from a receipt, and where its comment boxes open."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    package = zipfile.ZipFile(io.BytesIO(data))
    seen: dict[str, Any] = {
        "properties": (wb.properties.title, wb.properties.creator, wb.properties.created),
        "company": re.findall(r"<Company>(.*)</Company>", package.read("docProps/app.xml").decode()),
        "custom": [(p.name, p.value) for p in wb.custom_doc_props],
        "sheets": [(ws.title, ws.sheet_state) for ws in wb.worksheets],
        "boxes": sorted(re.findall(r'margin-left:[^"]*|<x:Anchor>[^<]*|<x:Row>\d+</x:Row><x:Column>\d+', part)
                        for name in package.namelist() if name.endswith(".vml")
                        for part in [package.read(name).decode()]),
    }
    for ws in wb.worksheets:
        seen[ws.title] = {
            "cells": {cell.coordinate: _cell(cell) for row in ws.iter_rows() for cell in row},
            "widths": _widths(ws),
            "heights": {r: d.height for r, d in ws.row_dimensions.items() if d.height is not None},
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "frozen": ws.freeze_panes,
            "filter": ws.auto_filter.ref,
            "print": (ws.page_setup.orientation, ws.page_setup.paperSize, ws.page_setup.fitToWidth,
                      ws.page_setup.fitToHeight, ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage,
                      ws.print_title_rows, ws.print_title_cols, ws.print_area,
                      tuple(getattr(ws.page_margins, m) for m in ("left", "right", "top", "bottom", "header", "footer")),
                      ws.oddHeader.center.text, ws.oddFooter.center.text),
        }
    streamed = openpyxl.load_workbook(io.BytesIO(data), read_only=True)  # as pandas reads: by the stored dimension
    seen["dimensions"] = [(ws.title, ws.calculate_dimension(), ws.max_row, ws.max_column) for ws in streamed.worksheets]
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    seen["calamine"] = {name: book.get_sheet_by_name(name).to_python() for name in book.sheet_names}
    return seen


@pytest.fixture(scope="module")
def quarter() -> MergedQuarter:
    return _quarter()


def _both(quarter: MergedQuarter, unit: str, monkeypatch: pytest.MonkeyPatch) -> tuple[bytes, bytes]:
    assert receipts.WRITER is leanxlsx.Book
    lean = receipt_bytes(quarter, unit, Bureau(), "fp-" + unit)
    with monkeypatch.context() as m:
        m.setattr(receipts, "WRITER", fastxlsx.Book)
        reference = receipt_bytes(quarter, unit, Bureau(), "fp-" + unit)
    return lean, reference


@pytest.mark.parametrize("unit", [NDRC, COMMERCE, LONGTING])  # rejected, commented; clean; late
def test_a_lean_receipt_reads_as_the_xlsxwriter_receipt(quarter, unit: str, monkeypatch: pytest.MonkeyPatch):
    lean, reference = _both(quarter, unit, monkeypatch)
    assert lean != reference  # not the same bytes: the same workbook to a reader
    seen, expected = _seen(lean), _seen(reference)
    assert seen.keys() == expected.keys()
    for key in expected:
        assert seen[key] == expected[key], key
    assert ("fp-" + unit) in zipfile.ZipFile(io.BytesIO(lean)).read("docProps/custom.xml").decode()  # publish._holds
    assert seen["custom"] == [(FINGERPRINT, "fp-" + unit)]


def test_the_fixture_covers_what_a_receipt_holds(quarter, monkeypatch: pytest.MonkeyPatch):
    seen = {unit: _seen(_both(quarter, unit, monkeypatch)[0]) for unit in (NDRC, COMMERCE, LONGTING)}
    assert [name for name, _ in seen[NDRC]["sheets"]] == ["回执", "问题清单", "进展填报", "量化指标"]
    assert "问题清单" not in seen[COMMERCE]
    assert "迟报" in seen[LONGTING]["回执"]["cells"]["A4"][0]
    progress, indicators = seen[NDRC]["进展填报"]["cells"], seen[NDRC]["量化指标"]["cells"]
    assert progress["A1"][-1].startswith("  首行 _x") and indicators["F4"][-1] == HOSTILE[10]  # comments on both sheets
    fills = {cell[7][1] for cell in progress.values()}
    assert {"FFFFC7CE", "FFFFEB9C"} <= fills  # 红 error, 黄 warning
    texts = {cell[0] for cell in progress.values()} | {cell[-1] for cell in progress.values()}
    assert {HOSTILE[0], HOSTILE[6], HOSTILE[10], HOSTILE[11], "_x0041_ 与 _X00e9_"} & texts
    assert all(cell[1] != "f" for sheet in seen[NDRC].values() if isinstance(sheet, dict) and "cells" in sheet
               for cell in sheet["cells"].values())  # never a formula
    assert seen[COMMERCE]["进展填报"]["cells"]["G6"][0] == "长" * 32767  # cut where xlsxwriter cuts


def test_strings_are_escaped_as_xlsxwriter_escapes_them():
    texts = ["_x0041_", "a\x01b", "<r>x</r>", " lead", "a & <b>", "\ufffe", "😀" * 20000]
    books = []
    for writer in (leanxlsx.Book, fastxlsx.Book):
        buffer = io.BytesIO()
        wb = writer(buffer, {"in_memory": True})
        wb.set_properties({"created": dt.datetime(2024, 1, 1)})
        ws = wb.add_worksheet("表")
        for row, text in enumerate(texts):
            ws.write_string(row, 0, text)
        wb.close()
        books.append(buffer.getvalue())
    strings = zipfile.ZipFile(io.BytesIO(books[0])).read("xl/sharedStrings.xml").decode()
    for escaped in ("<t>_x005F_x0041_</t>", "<t>a_x0001_b</t>", "<t>&lt;r&gt;x&lt;/r&gt;</t>",
                    '<t xml:space="preserve"> lead</t>', "<t>a &amp; &lt;b&gt;</t>", "<t>_xFFFE_</t>"):
        assert escaped in strings
    lean, reference = (_seen_cells(data) for data in books)
    assert lean == reference
    assert lean[0][:3] == ["_x0041_", "a_x0001_b", "<r>x</r>"]  # openpyxl leaves a control character escaped
    assert len(lean[0][-1]) == 16383  # 32,767 UTF-16 units: half an emoji is not written


def _seen_cells(data: bytes) -> tuple[list, list]:
    values = [row[0].value for row in openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows()]
    return values, CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("表").to_python()


def test_libreoffice_prints_a_lean_receipt_as_the_xlsxwriter_receipt(quarter, monkeypatch, tmp_path):
    """The same pages with the same text; page pictures differ only in the cells holding "<r>…</r>",
    which xlsxwriter writes as rich text in its default font (see fastxlsx.InertSheet), lean as text."""
    require_tool("soffice", "libreoffice")
    require_tool("pdftotext")
    lean, reference = _both(quarter, NDRC, monkeypatch)
    printed = []
    for name, data in (("lean", lean), ("xlsxwriter", reference)):
        (tmp_path / f"{name}.xlsx").write_bytes(data)
        pdf = office.convert(tmp_path / f"{name}.xlsx", "pdf", tmp_path / name)
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout
        saved = office.convert(tmp_path / f"{name}.xlsx", "ods", tmp_path / name)
        book = CalamineWorkbook.from_path(str(saved))
        printed.append((office.page_count(pdf), text, [book.get_sheet_by_name(s).to_python() for s in book.sheet_names]))
    assert printed[0] == printed[1]
    assert printed[0][0] > 4  # every sheet printed, the copied rows over several pages
