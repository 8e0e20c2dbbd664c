"""The extent check before python-calamine builds a sheet: it must measure the sheet as calamine
will place its cells, however the sheet XML is written, or a few bytes make calamine allocate
gigabytes (it aborts the reading worker: the file is refused, but as "too complex" rather than
with the sheet's size, and after the worker died).

Each sheet below is written into a real workbook and read by calamine itself; the check's measure
must be calamine's."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from toolkit.intake import parts
from toolkit.intake.sniff import Limits
from toolkit.problems import column_letters


def _workbook(sheet_data: bytes) -> bytes:
    """A one-sheet workbook (sheet S) whose <sheetData> is sheet_data."""
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    wb.add_worksheet("S").write(0, 0, "x")
    wb.close()
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                start, end = data.index(b"<sheetData>"), data.index(b"</sheetData>") + len(b"</sheetData>")
                data = data[:start] + b"<sheetData>" + sheet_data + b"</sheetData>" + data[end:]
            dst.writestr(info, data)
    return out.getvalue()


def _calamine(book: bytes) -> tuple[int, int] | None:
    """(rows, columns) of the grid calamine builds, None when it cannot read the sheet."""
    try:
        sheet = CalamineWorkbook.from_filelike(io.BytesIO(book)).get_sheet_by_name("S")
    except Exception:  # noqa: BLE001 — a reference calamine refuses: nothing is allocated
        return None
    return (sheet.end[0] + 1, sheet.end[1] + 1) if sheet.end else (0, 0)


def _measured(book: bytes) -> tuple[int, int]:
    with zipfile.ZipFile(io.BytesIO(book)) as zf:
        return parts._placed_extent(zf.read("xl/worksheets/sheet1.xml"))


def _attr(draw, name: str, value: str) -> str:
    """An attribute as any XML writer may write it."""
    return draw(st.sampled_from([f' {name}="{value}"', f" {name}='{value}'", f' {name} = "{value}"',
                                 f'\n{name}=\t"{value}"']))


@st.composite
def sheet_data(draw) -> bytes:
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        row_attrs = draw(st.sampled_from(["", "r", "r", "spans", "twice"]))
        row = "<row"
        if row_attrs == "spans":
            row += ' spans="1:3"'
        if row_attrs:
            row += _attr(draw, "r", str(draw(st.integers(1, 3000))))
        if row_attrs == "twice":  # a row's first r= counts, a cell's last
            row += f' r="{draw(st.integers(1, 3000))}"'
        cells = []
        for _ in range(draw(st.integers(0, 4))):
            cell = "<c"
            kind = draw(st.sampled_from(["ref", "ref", "none", "after", "prefixed", "twice", "quoted-gt"]))
            ref = f"{column_letters(draw(st.integers(1, 200)))}{draw(st.integers(1, 3000))}"
            if draw(st.booleans()):
                ref = ref.lower()
            if kind == "ref":
                cell += _attr(draw, "r", ref)
            elif kind == "after":  # r= not the first attribute
                cell += ' s="1"' + _attr(draw, "r", ref)
            elif kind == "prefixed":  # x:r is not r
                cell += f' xmlns:x="urn:x" x:r="{ref}"'
            elif kind == "twice":  # the last r= counts, whichever way either is written
                first, last = _attr(draw, "r", ref), f' r="A{draw(st.integers(1, 9))}"'
                cell += first + last if draw(st.booleans()) else last + first
            elif kind == "quoted-gt":  # a value holding ">" does not end the tag
                cell += ' t="s" foo="a>b"' + _attr(draw, "r", ref)
            cell += ' t="n"/>' if draw(st.booleans()) else ' t="n"><v>1</v></c>'
            cells.append(cell)
        rows.append(f"{row}>{''.join(cells)}</row>")
    return "".join(rows).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheet_data())
@example(b'<row r="2000"><c t="n"><v>1</v></c></row>')  # a row's r= places a cell without one
@example(b"<row><c r='CV2000' t=\"n\"><v>1</v></c></row>")  # single quotes
@example(b'<row><c foo="a>b" r="CV2000" t="n"><v>1</v></c></row>')  # ">" inside a value
@example(b'<row r="5"><c r="B9" t="n"><v>1</v></c><c t="n"><v>1</v></c></row><row><c t="n"><v>1</v></c></row>')
def test_the_check_measures_a_sheet_as_calamine_places_it(data: bytes) -> None:
    book = _workbook(data)
    grid = _calamine(book)
    if grid is not None:
        assert _measured(book) == grid


@settings(max_examples=150, deadline=None)
@given(sheet_data())
def test_a_sheet_passes_on_the_quick_look_only_when_it_is_small(data: bytes) -> None:
    """_near never clears a sheet the full measure would find larger than it allows."""
    sheet = _workbook(data)
    with zipfile.ZipFile(io.BytesIO(sheet)) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    if parts._near(xml):
        rows, cols = parts._placed_extent(xml)
        assert rows * cols <= parts._NEAR_SPAN


@pytest.mark.parametrize("sheet", [
    b'<row r="1000"><c r="A1000" t="n"><v>1</v></c></row>',  # past row 999
    b'<row r="1"><c r="AA1" t="n"><v>1</v></c></row>',  # past column Z
    b'<row><c t="n"><v>1</v></c></row>' * 1000,  # rows counted past 999
    b'<row r="1"><c r="A1" t="n"><v>1</v></c><c t="n"><v>1</v></c></row>',  # a cell placed by counting
    b'<row r="1"><c r="A1" t="n"><v>1</v></c></row><x:row r="2"/>',  # a prefixed tag
    b"<row r=\"1\"><c r=\"A1\" r='B1' t=\"n\"><v>1</v></c></row>",  # a second r=, written otherwise
], ids=["far-row", "far-column", "counted-rows", "counted-cell", "prefixed", "second-reference"])
def test_the_quick_look_leaves_any_unusual_or_far_sheet_to_the_full_measure(sheet: bytes) -> None:
    assert not parts._near(sheet)
    assert parts._near(b'<row r="999"><c r="Z999" t="n"><v>1</v></c></row>')  # the farthest it clears


@pytest.mark.parametrize("sheet", [
    b'<row r="99999999999"><c t="n"><v>1</v></c></row>',  # calamine would ask for 38 GB
    b"<row><c r='XFD1048576' t=\"n\"><v>1</v></c></row>",
    b'<row><c r = "XFD1048576" t="n"><v>1</v></c></row>',
    b'<row><c s="1" foo="a>b" r="XFD1048576" t="n"><v>1</v></c></row>',
    b'<row r="1048576">' + b'<c t="n"><v>1</v></c>' * 600 + b"</row>",
    b"<row r=\"1\"><c r=\"A1\" r='XFD1048576' t=\"n\"><v>1</v></c></row>",  # a plain first r=; the last counts
], ids=["row-reference", "single-quotes", "spaced", "after-a-quoted-gt", "counted-columns", "second-reference"])
def test_a_far_cell_written_any_way_is_refused_before_calamine_builds_it(tmp_path: Path, sheet: bytes) -> None:
    path = tmp_path / "far.xlsx"
    path.write_bytes(_workbook(sheet))
    with pytest.raises(parts.SheetTooLarge) as refused:
        parts.XlsxParts(path, Limits()).check_extent("S")
    assert refused.value.rows * refused.value.cols > Limits().max_cells


def test_an_issued_workbook_passes_on_the_quick_look(tmp_path: Path) -> None:
    """Every sheet of a filled return ends at _near: the full measure runs only for odd sheets."""
    from tests.return_fixtures import COMMERCE, issue
    from toolkit.demo import unitsim

    filled = unitsim.fill(issue(tmp_path / "outbox", COMMERCE), tmp_path / "filled.xlsx")
    with zipfile.ZipFile(filled) as zf:
        sheets = [zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    assert sheets and all(parts._near(xml) for xml in sheets)
