"""A long sheet (汇总表's tables at 10,000 units are a million cells) is held as its rows until the
workbook is written and its XML is deflated as it is made: the same bytes as stock xlsxwriter, in
a fraction of the memory. `both` builds each workbook with the fast layer and with stock xlsxwriter."""

from __future__ import annotations

import datetime as dt
import io
import tracemalloc
import zlib

import pytest

from tests.test_fastxlsx import HOSTILE, both  # noqa: F401 (both is a fixture)
from toolkit import fastxlsx, xlsxparts
from toolkit.outputs import sheets

COLUMNS = ["单位名称", "任务内容", "完成进度(%)", "存在问题", "综合状态", "说明", "序号"]


def _long_rows(count: int) -> list[tuple]:
    """Rows like 汇总表's: repeated names and states, a long text of its own in every row."""
    return [(f"单位{r % 500:05d}", f"第{r}项任务：推进重点项目建设，完成年度投资计划的{r % 100}%并形成实物工作量",
             r / 7, None if r % 4 else "资金到位滞后", "滞后" if r % 3 else "正常", HOSTILE[r % 6], r)
            for r in range(count)]


def _table_book(rows: list[tuple]) -> tuple[bytes, int]:
    """The workbook's bytes, and the memory the table held once written and before the book closed."""
    buffer = io.BytesIO()
    wb = sheets.new_book(buffer, "表", "督查局", dt.datetime(2024, 3, 28), "fp")
    formats, ws = sheets.Formats(wb), wb.add_worksheet("任务进展")
    tracemalloc.start()
    try:
        sheets.table(ws, COLUMNS, rows, formats, "表")
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    wb.close()
    return buffer.getvalue(), held


def test_a_long_table_is_held_as_its_rows_not_as_cells(both):  # noqa: F811
    rows = _long_rows(20000)
    (fast, fast_held), (stock, stock_held) = both(lambda: _table_book(rows))
    assert fast == stock
    # Stock xlsxwriter holds a tuple a cell, a dict a row and a row's height twice (25 MB here);
    # the fast sheet the row it was given, its cells' kinds and a height shared by rows alike (10 MB).
    assert fast_held < stock_held / 2, (fast_held, stock_held)


def test_rows_written_over_are_the_same_bytes(both):  # noqa: F811
    """Rows kept as their values (from fastxlsx.KEEP_FROM down; those above are cells at once) and
    then written into (a date over a blank, as the plan sheet does), written twice, or written into
    before: each cell is the last one written, as in xlsxwriter."""
    first = fastxlsx.KEEP_FROM - 5

    def build() -> bytes:
        buffer = io.BytesIO()
        wb = sheets.new_book(buffer, "表", "督查局", dt.datetime(2024, 3, 28), "fp")
        formats, ws = sheets.Formats(wb), wb.add_worksheet("表")
        cell, number, day = formats.cell, formats.number, wb.add_format({"num_format": "yyyy-mm-dd"})
        mixed = ["甲", 1.5, None, "<r>富文本</r>", True, "长" * 20000, "", float("nan"), "乙"]
        plain = ["丙", 2.5, None, "", float("inf"), "丁", 3]  # only what a kept row holds as values
        texts, numbers = [cell] * len(mixed), [number] * len(mixed)
        for row in range(first, first + 40):
            if row % 5 == 0:
                ws.write_string(row, 1, f"先写{row}", cell)  # then written over by the row
            sheets.write_row(ws, row, (mixed if row % 2 else plain)[row % 3:], texts, numbers)
            ws.set_row(row, 15 * (row % 3 + 1) + 3, None, {"hidden": True} if row % 7 == 0 else None)
        for row in range(first, first + 12):
            sheets.write_row(ws, row, ["再写", 2], texts, numbers)  # the row written again, shorter
        ws.write_datetime(first + 7, 2, dt.datetime(2024, 6, 30), day)
        ws.write_number(first + 8, 0, 7, number)
        ws.write_blank(first + 9, 1, None, cell)
        ws.merge_range(first + 11, 0, first + 11, 2, "合并", cell)
        ws.write_comment(first + 13, 1, "批注")
        ws.set_row(first + 15, 40, formats.bold)
        wb.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert fast == stock


def test_a_long_part_is_deflated_as_it_is_written():
    """Past a quarter of a million characters a sheet's XML is no longer held: it is deflated as it
    comes, giving the bytes deflating it whole gives; a short part stays text for the caches."""
    text = "".join(f'<c r="B{n}" t="s"><v>{n % 977}</v></c>进展{n}' for n in range(120000))
    stream = xlsxparts.DeflatingText()
    for start in range(0, len(text), 1000):  # as Sheet._write_rows writes it
        stream.write(text[start:start + 1000])
        xlsxparts.spill(stream)
        assert stream.tell() <= xlsxparts._STREAM_AFTER  # never more of it held as text
    part = stream.part()
    data = text.encode("utf-8")
    whole = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    assert part == xlsxparts.Deflated(zlib.crc32(data), whole.compress(data) + whole.flush(), len(data))
    short = xlsxparts.DeflatingText()
    short.write("<row/>")
    xlsxparts.spill(short)
    assert short.part() == b"<row/>"


def test_the_shared_strings_of_a_long_table_are_written_in_pieces(both, monkeypatch):  # noqa: F811
    """More unique strings than one piece holds, hostile ones among them: the same bytes."""
    pieces: list[int] = []  # the strings in each piece written
    real = xlsxparts._Strings._write_sst_strings

    def counted(self) -> None:
        write = self.fh.write
        self.fh.write = lambda text: pieces.append(text.count("<si>")) or write(text)
        try:
            real(self)
        finally:
            del self.fh.write

    monkeypatch.setattr(xlsxparts._Strings, "_write_sst_strings", counted)
    rows = _long_rows(3 * xlsxparts.PIECES)
    fast, stock = both(lambda: _table_book(rows)[0])
    assert fast == stock
    assert sum(pieces) > 3 * xlsxparts.PIECES and max(pieces) <= xlsxparts.PIECES + 1


@pytest.mark.parametrize("reader", ["chart", "autofit"])
def test_what_reads_the_cells_before_the_sheet_is_written_sees_kept_rows(both, reader: str):  # noqa: F811
    """A chart over a long table's last rows caches their values, and autofit measures the widest
    text, here in a kept row: both read xlsxwriter's cells, so kept rows are made cells first."""

    def build() -> bytes:
        buffer = io.BytesIO()
        wb = sheets.new_book(buffer, "表", "督查局", dt.datetime(2024, 3, 28), "fp")
        formats, ws = sheets.Formats(wb), wb.add_worksheet("表")
        count = fastxlsx.KEEP_FROM + 40
        for r in range(count):
            text = "最宽的一行文字" * 6 if r == count - 3 else f"第{r}行"
            sheets.write_row(ws, r, (f"单位{r}", r * 1.5, text), [formats.cell] * 3, [formats.number] * 3)
        if reader == "chart":
            chart = wb.add_chart({"type": "column"})
            chart.add_series({"categories": ["表", count - 20, 0, count - 1, 0],
                              "values": ["表", count - 20, 1, count - 1, 1]})
            ws.insert_chart(0, 4, chart)
        else:
            ws.autofit()
        wb.close()
        return buffer.getvalue()

    fast, stock = both(build)
    assert fast == stock
