"""fastxlsx gives exactly the bytes stock xlsxwriter gives: every kind of workbook ducha writes is
built twice, with the fast layer and with it switched off (stock xlsxwriter, rows let grow by the
zip rewrite as before), and the two must be equal byte for byte, hostile text included."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from tests import forms_fixtures, test_review
from tests.merge_fixtures import COMMERCE, LONGTING, NDRC, checked, error, file_records, small_ledger, warning
from toolkit import fastxlsx, xlsxparts
from toolkit.config import Bureau, load_config
from toolkit.forms import layout
from toolkit.ledger.sheets import ledger_tables, write_tables
from toolkit.model import Milestone
from toolkit.outputs import receipts, sheets
from toolkit.outputs.receipts import receipt_bytes
from toolkit.outputs.review_book import write_review
from toolkit.outputs.summary_book import book_bytes
from toolkit.quarter.frames import build_merged

# Text a unit may type: formula and link starts, XML specials, control characters, xlsxwriter's own
# _xHHHH_ escape, rich-text look-alikes, whitespace at the ends, non-characters, astral characters,
# and more than a cell holds (xlsxwriter truncates it).
HOSTILE = [
    "=HYPERLINK(\"http://evil.example\",\"点我\")", "@SUM(A1:A9)", "+86 138 0000 0000", "-5%",
    "a & b < c > d \"q\" 'x'", "控制\x01字符\x07和\x1f结尾\x00", "_x0041_ 与 _X00e9_", "  前导空格", "尾随空格 ",
    "尾随换行\n", "<r>富文本</r>", "<r><t>x</t></r>", "非字符\ufffe\uffff", "制表\t符", "多行\n文本\r\n第三行",
    "表情😀𠀀", "长" * 40000, "", " ", "\n", "1e10", "0012", "TRUE", "#N/A", "&amp;", "甲&乙", "a]]>b",
]


base, ws = test_review.base, test_review.ws  # the review workspace with four pending requests


@pytest.fixture
def both(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], bytes]], tuple[bytes, bytes]]:
    """build() with the fast layer, then with stock xlsxwriter (strings kept inert as Book keeps them
    under another xlsxwriter version): (fast bytes, stock bytes)."""

    def run(build: Callable[[], bytes]) -> tuple[bytes, bytes]:
        assert fastxlsx.FAST
        fast = build()
        with monkeypatch.context() as m:
            m.setattr(fastxlsx, "FAST", False)
            m.setattr(fastxlsx.Book, "worksheet_class", fastxlsx.InertSheet)
            stock = build()
        return fast, stock

    return run


def test_the_fast_layer_is_written_against_the_installed_xlsxwriter():
    # Under another release Book is plain xlsxwriter (same bytes, slower): check the inner loops
    # of fastxlsx against the new release, then move PINNED.
    assert xlsxwriter.__version__ == fastxlsx.PINNED, "xlsxwriter changed: fastxlsx falls back to stock"


def _unit_workbooks(out: Path) -> dict[str, bytes]:
    ledger = forms_fixtures.small_ledger()
    ledger.milestones = [
        Milestone(3, 1, HOSTILE[0], dt.date(2024, 2, 20), 10.0, "", HOSTILE[5]),
        Milestone(3, 2, "完成主体施工 & <验收>", dt.date(2024, 6, 30), 60.0, "", "李四"),
        Milestone(2, 1, "_x0041_方案", dt.date(2024, 3, 1), 100.0, "", " "),
    ]
    cycle = iter(HOSTILE * 4)
    prefill = {no: {key: next(cycle) for key in ("done", "problems", "next", "person", "phone", "status")}
               | {"progress": 33.5} for no in (1, 2, 3, 4)}
    indicator_prefill = {(1, "经济增长"): {"value": 6.4, "note": HOSTILE[6]},
                         (2, "新增城镇就业"): {"value": HOSTILE[4], "note": HOSTILE[16]}}
    forms_fixtures.generate_from(ledger, forms_fixtures.Q1, Bureau(), forms_fixtures.SECRET, out,
                                 now=forms_fixtures.NOW, workers=1,
                                 answers=lambda unit: (prefill, indicator_prefill))
    return {path.name: path.read_bytes() for path in sorted(out.glob("*.xlsx"))}


def test_unit_workbooks_are_the_same_bytes(both, tmp_path: Path):
    runs = iter(("fast", "stock"))
    fast, stock = both(lambda: _unit_workbooks(tmp_path / next(runs)))
    assert len(fast) == len(forms_fixtures.EXPECTED)
    assert fast.keys() == stock.keys()
    for name in fast:
        assert fast[name] == stock[name], name
    # in 进展填报 the rows units answer in were let grow, the rows above kept their set heights
    sheet = zipfile.ZipFile(io.BytesIO(fast[next(iter(fast))])).read("xl/worksheets/sheet2.xml").decode()
    custom = [int(r) for r in re.findall(r'<row r="(\d+)"[^>]*customHeight="1"', sheet)]
    assert custom and max(custom) < layout.FIRST_DATA_ROW
    assert f'<row r="{layout.FIRST_DATA_ROW}"' in sheet


def _merged():
    hostile = iter(HOSTILE * 3)
    files = [
        checked(NDRC, "2024-03-20T09:00:00", done=next(hostile), problems=next(hostile),
                indicators={(1, "经济增长"): 6.4},
                issues=[error(message="=cmd|' /C calc'!A0 <b>&\x02"), error(cell="G6", message=HOSTILE[8]),
                        warning(cell="H7", message="多行\n提醒"),
                        *(warning(cell=f"L{7 + i}", message=text) for i, text in enumerate(HOSTILE))]),
        checked(COMMERCE, "2024-03-21T10:00:00", done=HOSTILE[16], problems=HOSTILE[10]),
        checked(LONGTING, "2024-03-22T11:00:00", issues=[warning(cell="K6", message=HOSTILE[12])],
                done=HOSTILE[6], problems=HOSTILE[5]),
        checked(LONGTING, "2024-03-29T11:00:00", done=HOSTILE[1]),  # late, the later file decides
    ]
    records = file_records(*files)
    records = [dataclasses.replace(r, filler={"填报人": HOSTILE[3], "联系电话": 13800000000.0}) for r in records]
    return build_merged(small_ledger(), records, forms_fixtures.Q1, dt.date(2024, 3, 30))


@pytest.mark.parametrize("unit", [NDRC, COMMERCE, LONGTING])  # 问题清单 and comments; clean; late and earlier
def test_receipts_are_the_same_bytes(both, unit: str, monkeypatch: pytest.MonkeyPatch):
    # receipts are written by leanxlsx; written by xlsxwriter they are its reference (test_leanxlsx)
    monkeypatch.setattr(receipts, "WRITER", fastxlsx.Book)
    merged = _merged()
    fast, stock = both(lambda: receipt_bytes(merged, unit, Bureau(), "fp"))
    assert fast == stock
    assert (b"xl/comments1.xml" in fast) == (unit == NDRC)  # comments at the cells of the latest file


def test_the_summary_book_is_the_same_bytes(both):
    merged = _merged()
    fast, stock = both(lambda: book_bytes(merged, Bureau(), "fp"))
    assert fast == stock


def test_the_ledger_workbook_is_the_same_bytes(both, tmp_path: Path):
    ledger = forms_fixtures.small_ledger()
    runs = iter(("fast.xlsx", "stock.xlsx"))

    def build() -> bytes:
        path = tmp_path / next(runs)
        write_tables(path, ledger_tables(ledger, [["说明", HOSTILE[4]], [HOSTILE[0], HOSTILE[5]]]),
                     dt.datetime(2024, 1, 2, 3, 4))
        return path.read_bytes()

    fast, stock = both(build)
    assert fast == stock


def test_the_review_book_is_the_same_bytes(both, ws: tuple[Path, dict], tmp_path: Path):
    config = load_config(ws[0])
    runs = iter(("fast.xlsx", "stock.xlsx"))

    def build() -> bytes:
        return write_review(config, test_review.Q2, tmp_path / next(runs))[0].read_bytes()

    fast, stock = both(build)
    assert fast == stock


def test_cells_of_every_kind_are_the_same_bytes(both, tmp_path: Path):
    """What ducha does not write today falls back to xlsxwriter's own code, still the same bytes."""
    path = tmp_path / "cells.xlsx"

    def build() -> bytes:
        wb = fastxlsx.Book(str(path), {"in_memory": True})
        wb.set_properties({"created": dt.datetime(2024, 1, 2)})  # else the two builds may straddle a second
        bold = wb.add_format({"bold": True})
        sheet = wb.add_worksheet()
        sheet.set_column(2, 2, 20, wb.add_format({"italic": True}))
        sheet.set_row(3, 40, wb.add_format({"font_color": "red"}))
        sheet.set_row(70, None, None, {"hidden": True, "level": 1, "collapsed": True})
        for row, text in enumerate(HOSTILE):
            sheet.write_string(row, 0, text, bold if row % 2 else None)
            sheet.write_number(row, 1, row / 7 if row % 3 else row * 1e20)
            sheet.write_blank(row, 2, None, bold)
            sheet.write_blank(row, 4, None)
        sheet.write_string("D1", "A1 notation", bold)
        sheet.write(3, 3, 1.5)
        sheet.write_formula(5, 5, "=SUM(B1:B3)", None, 7)
        sheet.write_boolean(6, 5, True)
        sheet.write_datetime(7, 5, dt.datetime(2024, 3, 1), wb.add_format({"num_format": "yyyy-mm-dd"}))
        sheet.write_rich_string(8, 5, "a", bold, "b & <c>")
        sheet.write_url(9, 5, "http://example.com/?a=1&b=2")
        sheet.write_comment(40, 9, HOSTILE[4])
        sheet.write_comment(2, 0, "comment")
        wb.let_rows_grow(sheet, 5)
        wb.add_worksheet("空").set_row(2, 30)
        wb.close()
        return path.read_bytes()

    fast, stock = both(build)
    assert fast == stock


def test_a_table_of_every_kind_of_value_is_the_same_bytes(both, monkeypatch: pytest.MonkeyPatch):
    """sheets.table stores a fast sheet's rows a row at a time (Sheet.write_values), stock
    xlsxwriter's a cell at a time through xlsx.write_value."""
    values = [*HOSTILE, None, float("nan"), float("inf"), -float("inf"), True, False, 0, -1.5, 10**20, 2.5e-9,
              dt.date(2024, 3, 1), "<r></t></r>"]
    rows = [values, values[::-1], ["只有一格"] + [None] * (len(values) - 1)]
    stored = []
    monkeypatch.setattr(fastxlsx.Sheet, "write_values",
                        lambda self, row, *args, write=fastxlsx.Sheet.write_values: stored.append(row) or write(self, row, *args))

    def build() -> bytes:
        buffer = io.BytesIO()
        wb = sheets.new_book(buffer, "表", "督查局", dt.datetime(2024, 3, 28), "fp")
        sheets.table(wb.add_worksheet("表"), [f"列{i}" for i in range(len(values))], rows, sheets.Formats(wb), "表")
        wb.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert stored == [1, 2, 3]  # the fast build took the row writer, the stock one could not
    assert fast == stock


def test_a_sheet_long_enough_to_be_written_in_pieces_is_the_same_bytes(both, monkeypatch: pytest.MonkeyPatch):
    """A long sheet's XML is handed on in pieces as its rows are made (Sheet._write_rows), and each
    part's text is dropped once deflated (xlsxparts.written_parts): the same bytes as stock."""
    pieces: list[str] = []
    real = fastxlsx.Sheet._write_rows

    def counted(self) -> None:  # the pieces each sheet's rows are written in
        write = self.fh.write
        self.fh.write = lambda text, name=self.name: pieces.append(name) or write(text)
        try:
            real(self)
        finally:
            del self.fh.write

    monkeypatch.setattr(fastxlsx.Sheet, "_write_rows", counted)
    rows = [[f"任务{r}", r, r / 7, None, "无" if r % 3 else "滞后", f"单位{r % 97}"] for r in range(12000)]

    def build() -> bytes:
        buffer = io.BytesIO()
        wb = sheets.new_book(buffer, "表", "督查局", dt.datetime(2024, 3, 28), "fp")
        sheets.table(wb.add_worksheet("表"), [f"列{i}" for i in range(6)], rows, sheets.Formats(wb), "表")
        wb.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert pieces.count("表") > 1  # the long sheet's rows went in more than one piece
    assert fast == stock


def test_the_row_writer_stores_nothing_beyond_the_sheet():
    """As xlsxwriter refuses a cell past the last row or column, so does a row written at once."""
    book = fastxlsx.Book(io.BytesIO(), {"in_memory": True})
    sheet, fmt = book.add_worksheet(), book.add_format()
    sheet.write_values(sheet.xls_rowmax, ["甲", 1, None], [fmt] * 3, [fmt] * 3)
    wide = sheet.xls_colmax + 1
    sheet.write_values(0, ["乙"] * wide, [fmt] * wide, [fmt] * wide)
    assert sheet.xls_rowmax not in sheet.table
    assert len(sheet.table[0]) == sheet.xls_colmax and sheet.xls_colmax not in sheet.table[0]
    assert (sheet.dim_rowmin, sheet.dim_rowmax, sheet.dim_colmin, sheet.dim_colmax) == (0, 0, 0, sheet.xls_colmax - 1)


@pytest.mark.parametrize("sheet_class", [fastxlsx.Sheet, fastxlsx.InertSheet], ids=["fast", "stock"])
def test_text_that_looks_like_rich_text_stays_text(sheet_class, monkeypatch: pytest.MonkeyPatch):
    """xlsxwriter copies "<r>…</r>" into sharedStrings.xml as raw XML: "<r></t></r>" typed by a unit
    made 汇总表 and its receipt unreadable (openpyxl: mismatched tag; calamine: unknown format)."""
    import openpyxl
    from python_calamine import CalamineWorkbook

    from toolkit.xlsx import write_value

    monkeypatch.setattr(fastxlsx.Book, "worksheet_class", sheet_class)
    typed = ["<r></t></r>", "<r>富文本</r>", "<r><t>x</t></r>", "<r><rPr><b/></rPr><t>粗</t></r>", "普通"]
    buffer = io.BytesIO()
    book = fastxlsx.Book(buffer, {"in_memory": True})
    sheet, bold = book.add_worksheet("进展填报"), book.add_format({"bold": True})
    assert isinstance(sheet, sheet_class)
    for row, text in enumerate(typed):
        write_value(sheet, row, 0, text, bold)
    sheet.write_string("B1", typed[0])  # A1 notation takes the same guard
    book.close()
    buffer.seek(0)
    read = openpyxl.load_workbook(buffer)["进展填报"]
    assert [read.cell(r + 1, 1).value for r in range(len(typed))] == typed
    assert read["B1"].value == typed[0]
    buffer.seek(0)
    grid = CalamineWorkbook.from_filelike(buffer).get_sheet_by_name("进展填报").to_python()
    assert [row[0] for row in grid] == typed and grid[0][1] == typed[0]


def _small_book(company: str, sheets: tuple[str, ...], formats: list[dict], hidden: str = "") -> bytes:
    """A workbook of a few sheets and formats, the first sheet's cells using the formats in order."""
    buffer = io.BytesIO()
    book = fastxlsx.Book(buffer, {"in_memory": True})
    book.set_properties({"title": sheets[0], "company": company, "created": dt.datetime(2024, 1, 2)})
    made = [book.add_format(props) for props in formats]
    for name in sheets:
        sheet = book.add_worksheet(name)
        if name == hidden:
            sheet.hide()
    first = book.get_worksheet_by_name(sheets[0])
    for col, fmt in enumerate(made):
        first.write_string(0, col, "格式", fmt)
    book.close()
    return buffer.getvalue()


# Each varies one input of a memoized part (app.xml, content types, rels, styles.xml) from the first.
SMALL_BOOKS = [
    ("局", ("甲", "乙"), [{"bold": True}, {"bg_color": "#FFC7CE", "border": 1}], ""),
    ("局", ("甲", "乙"), [{"bold": True}, {"bg_color": "#FFC7CE", "border": 1}], ""),  # the same again
    ("另一局 & <co>", ("甲", "乙"), [{"bold": True}, {"bg_color": "#FFC7CE", "border": 1}], ""),
    ("局", ("甲", "乙", "丙"), [{"bold": True}, {"bg_color": "#FFC7CE", "border": 1}], ""),
    ("局", ("甲", "乙"), [{"bold": True}, {"bg_color": "#FFC7CE", "border": 1}], "乙"),
    ("局", ("甲", "乙"), [{"bg_color": "#FFC7CE", "border": 1}, {"bold": True}], ""),  # xf order
    ("局", ("甲", "乙"), [{"bold": True}, {"bg_color": "#C6EFCE", "border": 1}], ""),  # a colour
    ("局", ("甲", "乙"), [{"bold": True}, {"border": 1, "bg_color": "#FFC7CE"}], ""),  # same bytes as the first
    ("局", ("甲", "乙"), [{"bold": True, "italic": True}], ""),
    ("局", ("甲", "乙"), [{"font_size": 12}], ""),
    ("局", ("甲", "乙"), [{"font_size": 12.0}], ""),  # equal to 12, written "12.0"
    ("局", ("甲",), [], ""),
]


def test_parts_remembered_from_earlier_workbooks_are_the_same_bytes(both):
    """app.xml, [Content_Types].xml, rels and styles.xml are remembered per process: built one after
    another, cache warm, each workbook still equals stock, and none takes another's parts."""
    xlsxparts._XML.clear()
    fast, stock = both(lambda: [_small_book(*args) for args in SMALL_BOOKS])
    remembered = len(xlsxparts._XML)
    again, _ = both(lambda: [_small_book(*args) for args in SMALL_BOOKS])
    assert len(xlsxparts._XML) == remembered  # the second round took every part from memory
    for n, args in enumerate(SMALL_BOOKS):
        assert fast[n] == stock[n] == again[n], args
    assert len(set(fast)) == len(SMALL_BOOKS) - 2  # the repeated one, and the properties reordered


def test_a_format_changed_after_it_was_made_is_written_as_changed(both):
    """Book.add_format copies an earlier format of the same properties; a set_* call on the copy
    changes that workbook's styles.xml only."""

    def build() -> bytes:
        out = []
        for italic in (False, True, False):
            buffer = io.BytesIO()
            book = fastxlsx.Book(buffer, {"in_memory": True})
            book.set_properties({"created": dt.datetime(2024, 1, 2)})
            fmt = book.add_format({"bold": True, "bg_color": "#FFEB9C"})
            if italic:
                fmt.set_italic()
                fmt.set_bg_color("#FFC7CE")
            book.add_worksheet().write_string(0, 0, "x", fmt)
            book.close()
            out.append(buffer.getvalue())
        assert out[0] == out[2] and out[0] != out[1]
        return b"".join(out)

    fast, stock = both(build)
    assert fast == stock


def test_a_copied_format_changed_beside_an_unchanged_one_keeps_its_own_style(both):
    """A copy's keys (xlsxformats.MadeFormat) are looked up under the properties it was made from only
    while it is as made: two copies of one format, one of them then made italic, are two styles,
    as in stock xlsxwriter, and the changed cell reads italic."""

    def build() -> bytes:
        for _ in range(2):  # the second workbook's formats are copies of the first's
            buffer = io.BytesIO()
            book = fastxlsx.Book(buffer, {"in_memory": True})
            book.set_properties({"created": dt.datetime(2024, 1, 2)})
            plain, changed = book.add_format({"bold": True}), book.add_format({"bold": True})
            changed.set_italic()
            sheet = book.add_worksheet()
            sheet.write_string(0, 0, "plain", plain)
            sheet.write_string(0, 1, "changed", changed)
            book.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert fast == stock
    cells = openpyxl.load_workbook(io.BytesIO(fast)).active
    assert (cells["A1"].font.b, cells["A1"].font.i, cells["B1"].font.b, cells["B1"].font.i) == (True, False, True, True)


def test_a_package_past_the_zip64_limit_is_the_same_bytes(both, monkeypatch: pytest.MonkeyPatch):
    """A package whose central directory starts past the zip64 limit (made small here) is written by
    zipfile, with zip64 records, as xlsxwriter writes it."""
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 8000)

    def build() -> bytes:
        buffer = io.BytesIO()
        book = fastxlsx.Book(buffer, {"in_memory": True})
        book.set_properties({"created": dt.datetime(2024, 1, 2)})  # else the two builds may straddle a second
        book.use_zip64()
        for n in range(6):
            sheet = book.add_worksheet()
            for row in range(60):
                sheet.write_number(row, 0, (row * 7919 + n * 104729) % 1000003 / 997)
        book.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert fast == stock and b"PK\x06\x06" in fast  # the zip64 end record


# Workbook settings that workbook.xml shows, each varied from the plain workbook once.
SETTINGS: list[Callable[[xlsxwriter.Workbook], object]] = [
    lambda book: None,
    lambda book: book.get_worksheet_by_name("乙").activate(),
    lambda book: book.get_worksheet_by_name("乙").set_first_sheet(),
    lambda book: book.get_worksheet_by_name("乙").hide(),
    lambda book: book.get_worksheet_by_name("乙").very_hidden(),
    lambda book: book.set_size(1600, 1000),
    lambda book: book.set_tab_ratio(40),
    lambda book: book.define_name("名称", "=甲!$A$1"),
    lambda book: book.get_worksheet_by_name("甲").repeat_rows(0),
    lambda book: book.get_worksheet_by_name("乙").autofilter(0, 0, 3, 2),
    lambda book: book.read_only_recommended(),
    lambda book: book.set_calc_mode("manual"),
    lambda book: book.set_calc_mode("auto_except_tables"),
    lambda book: book.set_calc_mode("auto", 191029),
    lambda book: book.set_vba_name("册"),
    lambda book: None,
]


@pytest.mark.parametrize("date_1904", [False, True])
def test_workbook_xml_remembered_is_the_same_bytes(both, date_1904: bool):
    def build() -> list[bytes]:
        out = []
        for setting in SETTINGS:
            buffer = io.BytesIO()
            book = fastxlsx.Book(buffer, {"in_memory": True, "date_1904": date_1904})
            book.set_properties({"created": dt.datetime(2024, 1, 2)})
            for name in ("甲", "乙"):
                book.add_worksheet(name).write_string(0, 0, name)
            setting(book)
            book.close()
            out.append(buffer.getvalue())
        return out

    fast, stock = both(build)
    assert fast == stock
    assert fast[0] == fast[-1] and len(set(fast)) == len(SETTINGS) - 1
