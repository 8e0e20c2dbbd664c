"""The rest of issue 13, checked the way a reader sees it: the two charts as pictures in the Word
通报 and on its printed first pages, the 版记 at the foot of the last body page, a one-page
digest per 责任领导, the four-quarter trend table, and receipts and unit workbooks whose long
answers and phone numbers print whole."""

from __future__ import annotations

import datetime as dt
import io
import re
import subprocess
import zipfile
from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.conftest import require_tool
from tests.return_fixtures import NDRC, SECRET, check, issue
from toolkit import office
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms import layout, meta
from toolkit.outputs.briefing import chart_images
from toolkit.outputs.briefing.publish import render_briefing
from toolkit.outputs.receipts import receipt_bytes
from toolkit.period import Period
from toolkit.quarter.collect import load_merged

Q1 = Period.parse("2024Q1")
DAY = dt.date(2024, 4, 1)


@pytest.fixture(scope="module")
def printed(played: tuple[Path, str]) -> Path:
    """`ducha briefing --pdf` for the demo quarter: the Word file printed by LibreOffice."""
    require_tool("soffice", "libreoffice")
    require_tool("pdfimages")
    target, _ = played
    made = render_briefing(load_config(target / "ducha.toml"), Q1, pdf=True, now=DAY)
    [pdf] = [p for p in made.outputs if p.suffix == ".pdf"]
    return pdf


def charts_in(docx_path: Path) -> list[str]:
    """The pictures in a Word file larger than the one-pixel 版记 rules: the charts."""
    with zipfile.ZipFile(docx_path) as z:
        return sorted(n for n in z.namelist()
                      if n.startswith("word/media/") and Image.open(io.BytesIO(z.read(n))).width > 100)


def charts_on_pages(pdf: Path) -> list[int]:
    """The page of each chart-sized picture in the PDF, as poppler's pdfimages lists them."""
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], check=True, capture_output=True).stdout.decode()
    rows = [line.split() for line in listing.splitlines()[2:]]
    return [int(row[0]) for row in rows if row[2] == "image" and int(row[3]) > 100]


def words(pdf: Path) -> list[tuple[int, float, float, str]]:
    """(page, top y, page height, word) for every word pdftotext -bbox finds."""
    html = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], check=True, capture_output=True).stdout.decode()
    found, page, height = [], 0, 0.0
    for line in html.splitlines():
        if match := re.search(r'<page width="[\d.]+" height="([\d.]+)"', line):
            page, height = page + 1, float(match[1])
        elif match := re.search(r'<word xMin="[\d.]+" yMin="([\d.]+)"[^>]*>([^<]*)</word>', line):
            found.append((page, float(match[1]), height, match[2]))
    return found


# --- 1. the two charts as pictures in Word -------------------------------------------------------

def test_the_word_briefing_carries_the_two_charts_as_pictures(played: tuple[Path, str]) -> None:
    target, _ = played
    made = render_briefing(load_config(target / "ducha.toml"), Q1, now=DAY)
    assert made.warnings == []
    pictures = charts_in(target / "reports" / "2024Q1" / "通报.docx")
    assert len(pictures) == 2 and all(name.endswith(".png") for name in pictures)


def test_the_printed_charts_are_on_the_first_two_pages(printed: Path) -> None:
    pages = charts_on_pages(printed)
    assert len(pages) == 2 and all(page in (1, 2) for page in pages)


def test_without_a_cjk_font_the_word_file_has_no_charts_and_the_clerk_is_told(
        played: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    target, _ = played
    monkeypatch.setattr(chart_images, "find_font_file", lambda _settings: None)
    result = CliRunner().invoke(cli, ["--config", str(target), "briefing", "--period", "2024Q1", "--date", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert "提示：未找到中文字体文件，Word 版通报不含两幅图表（HTML 版照常有图）" in result.output
    assert charts_in(target / "reports" / "2024Q1" / "通报.docx") == []
    assert "<svg" in (target / "reports" / "2024Q1" / "通报.html").read_text("utf-8")


# --- 2. the 版记 at the foot of the last body page -------------------------------------------------

def test_the_imprint_sits_at_the_foot_of_its_page(printed: Path) -> None:
    """GB/T 9704 7.4: 版记 at the bottom of the last page, below whatever space the 落款 leaves."""
    found = words(printed)
    [(page, top, height)] = [(p, y, h) for p, y, h, w in found if w.startswith("抄送：")]
    [(day_page, day_top)] = [(p, y) for p, y, _, w in found if w.endswith("印发")]
    assert day_page == page and top > 0.75 * height and day_top > top
    signature = [y for p, y, _, w in found if p == page and w == "开封市政府督查局"]
    assert signature and min(signature) < top  # the 落款 above it on the same page
    assert any(p == page + 1 and w == "附件" for p, _, _, w in found)  # the 附件 starts on the next page


# --- 3. a one-page digest per 责任领导 --------------------------------------------------------------

def test_briefing_leaders_writes_one_page_per_leader(played: tuple[Path, str]) -> None:
    require_tool("soffice", "libreoffice")
    require_tool("pdftotext")
    target, _ = played
    result = CliRunner().invoke(cli, ["--config", str(target), "briefing", "--period", "2024Q1", "--date", "2024-04-01",
                                      "--leaders", "--pdf"])
    assert result.exit_code == 0, result.output
    pdf = target / "reports" / "2024Q1" / "领导摘要.pdf"
    assert str(pdf.with_suffix(".docx")) in result.output and str(pdf) in result.output
    assert office.page_count(pdf) == 21  # the 21 leaders of the notice, one page each
    first_lines = [page_text(pdf, page).splitlines()[0].strip() for page in range(1, 22)]
    assert first_lines[0] == "常务副市长分管任务推进情况摘要"
    assert "刘震同志分管任务推进情况摘要" in first_lines and len(set(first_lines)) == 21
    liu = page_text(pdf, first_lines.index("刘震同志分管任务推进情况摘要") + 1)
    assert "分管（含协管）任务56项" in liu and "一、红灯任务（25项）" in liu and "二、黄灯任务（18项）" in liu
    assert "市人力资源社会保障局" in liu  # a unit concerned


def page_text(pdf: Path, page: int) -> str:
    """One page's text with the spaces pdftotext puts between Chinese and digits removed."""
    text = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), str(pdf), "-"], check=True,
                          capture_output=True).stdout.decode()
    return "\n".join(re.sub(r"\s+", "", line) for line in text.splitlines() if line.strip())


# --- 4. the year's trend in Q2–Q4 ------------------------------------------------------------------

def trend_table(docx_path: Path) -> list[list[str]]:
    tables = [t for t in docx.Document(str(docx_path)).tables if t.rows[0].cells[0].text == "季度"]
    return [[cell.text for cell in row.cells] for table in tables for row in table.rows]


def test_the_second_quarter_shows_the_years_trend_and_the_first_none(played: tuple[Path, str]) -> None:
    """The demo merged two quarters: Q2's 通报 has a row for each, Q1's row repeating Q1's own figures."""
    target, _ = played
    config = load_config(target / "ducha.toml")
    render_briefing(config, Q1, now=DAY)
    q1 = target / "reports" / "2024Q1"
    assert trend_table(q1 / "通报.docx") == [] and "各季度对比" not in (q1 / "通报.md").read_text("utf-8")
    first = load_merged(config, Q1, DAY).counts
    render_briefing(config, Period.parse("2024Q2"), now=dt.date(2024, 7, 1))
    rows = trend_table(target / "reports" / "2024Q2" / "通报.docx")
    assert rows[0] == ["季度", "绿灯", "黄灯", "红灯", "按时报送单位"]
    assert [row[0] for row in rows[1:]] == ["第一季度", "第二季度"]
    lights = first["tasks"]["light"]
    on_time, expected = len(first["units_reported"]), len(first["units_expected"])
    assert rows[1][1:] == [str(lights["绿灯"]), str(lights["黄灯"]), str(lights["红灯"]),
                           f"{on_time}/{expected}（{on_time / expected:.0%}）"]
    html = (target / "reports" / "2024Q2" / "通报.html").read_text("utf-8")
    assert "本年度各季度对比" in html and "<td>第一季度</td>" in html


# --- 5. receipts that print whole ----------------------------------------------------------------

def test_a_receipt_prints_comments_in_a_note_column_and_never_cuts_phones_or_answers(
        played: tuple[Path, str]) -> None:
    target, _ = played
    config = load_config(target / "ducha.toml")
    merged = load_merged(config, Q1, DAY)
    unit = "市人力资源社会保障局"  # its file was sent back: 进展填报 has a marked cell
    book = openpyxl.load_workbook(io.BytesIO(receipt_bytes(merged, unit, config.bureau)))
    ws = book[layout.SHEET_PROGRESS]
    columns = [c.key for c in layout.PROGRESS_COLUMNS]
    note_col = len(columns) + 1
    assert ws.cell(layout.HEADER_ROW, note_col).value == "说明"
    [issue] = [i for i in merged.files_of(unit)[-1].issues if i.sheet == layout.SHEET_PROGRESS and i.cell][:1]
    assert issue.message in ws.cell(issue.cell.row, note_col).value
    assert ws.cell(issue.cell.row, note_col).alignment.wrap_text
    phone = ws.cell(layout.HEADER_ROW + 1, columns.index("phone") + 1)
    assert phone.data_type == "s" and phone.value.isdigit() and len(phone.value) == 11
    filler = [c for c in ws[layout.FILLER_ROW] if c.value and str(c.value).startswith("0371-")]
    assert filler and all(c.alignment.wrap_text for c in filler)
    assert ws.row_dimensions[layout.FILLER_ROW].height is not None
    long = max(range(layout.HEADER_ROW + 1, ws.max_row + 1),
               key=lambda r: len(str(ws.cell(r, columns.index("content") + 1).value or "")))
    content = str(ws.cell(long, columns.index("content") + 1).value)
    assert len(content) > 50 and ws.row_dimensions[long].height >= 2 * 15  # a long task grows its row


def sheet_rows(path: Path, sheet: str) -> dict[int, str]:
    """Row number → the attributes of its <row> element in the sheet's XML."""
    book = openpyxl.load_workbook(path)
    index = book.sheetnames.index(sheet) + 1
    with zipfile.ZipFile(path) as z:
        xml = z.read(f"xl/worksheets/sheet{index}.xml").decode()
    return {int(m[1]): m[0] for m in re.finditer(r'<row r="(\d+)"[^>]*>', xml)}


def test_the_unit_workbooks_answer_rows_open_sized_and_grow_as_the_unit_types(generated) -> None:
    """The task rows open tall enough for their text (and three lines to write in) but carry no
    custom height, so Excel, WPS and LibreOffice grow them for a long answer instead of cutting it."""
    path = next(w.path for w in generated.workbooks if w.indicators)
    rows = sheet_rows(path, layout.SHEET_PROGRESS)
    data = [r for r in rows if r >= layout.FIRST_DATA_ROW]
    assert data and all('ht="' in rows[r] and "customHeight" not in rows[r] for r in data)
    assert 'customHeight="1"' in rows[layout.HEADER_ROW]  # the header keeps its set height
    indicators = sheet_rows(path, layout.SHEET_INDICATORS)
    assert all("customHeight" not in indicators[r] for r in indicators if r >= layout.INDICATOR_FIRST_ROW)
    again = openpyxl.load_workbook(path)[layout.SHEET_PROGRESS]
    assert again.row_dimensions[layout.FIRST_DATA_ROW].height >= 3 * 15  # still opens with room to write


# --- 6. three pages of body: every row of the two body tables on one printed line ------------------

def test_each_headline_indicator_and_the_red_count_print_on_one_line(printed: Path) -> None:
    """The 主要预期目标 names whole in their column and the red tasks' count in one sentence of one
    line, so the body, its 落款 and its 版记 fit three pages (see tests/test_gbt9704.py)."""
    lines = [line for page in (1, 2, 3) for line in page_text(printed, page).splitlines()]
    for name in ("规模以上工业增加值增长7.5%左右", "社会消费品零售总额增长8%左右", "居民收入增长和经济增长基本同步",
                 "单位生产总值能耗与“十四五”目标统筹衔接"):
        assert name in lines
    assert "红灯任务58项，其中未报送31项，已报送27项如下：" in lines
    assert not any(line.startswith("另有") for line in lines)


# --- 7. the unit workbook's 量化指标 sheet names what it is and whose it is -------------------------

def test_the_indicator_sheet_has_a_title_and_the_units_name(generated) -> None:
    ws = openpyxl.load_workbook(next(w.path for w in generated.workbooks if w.unit == "市发展改革委"))[
        layout.SHEET_INDICATORS]
    assert ws["A1"].value == "开封市2024年政府工作报告确定事项第一季度推进情况表（量化指标）"
    assert ws["A2"].value == "填报单位：市发展改革委"
    assert {"A1:G1", "A2:G2"} <= {str(r) for r in ws.merged_cells.ranges}
    assert [c.value for c in ws[3]] == [c.header for c in layout.INDICATOR_COLUMNS]
    assert (ws["A4"].value, ws["B4"].value) == (1, "经济增长")
    assert ws.freeze_panes == "A4" and ws.print_title_rows == "$3:$3"  # the header repeats on every page


def _as_issued_before(version: str | None):
    """A unit file whose 量化指标 has the table from row 1, as workbooks issued before the title
    rows had it; version: the template_version its _meta is re-signed with (None: left as issued)."""
    def mutate(wb: openpyxl.Workbook) -> None:
        wb[layout.SHEET_INDICATORS].delete_rows(1, 2)
        if version is not None:
            ws = wb[layout.SHEET_META]
            fields = {str(row[0].value): str(row[1].value) for row in ws.iter_rows()}
            fields["template_version"] = version
            for row in ws.iter_rows():
                key = str(row[0].value)
                row[1].value = meta.sign(fields, SECRET) if key == layout.META_SIGNATURE_KEY else fields[key]
    return mutate


def test_a_workbook_issued_before_the_title_rows_still_reads_cleanly(tmp_path: Path) -> None:
    key = (1, "地区生产总值增长")
    new = check(unitsim.fill(issue(tmp_path / "outbox", NDRC), tmp_path / "new.xlsx", indicators={key: 6.8}))
    assert new.issues == [] and [(i.name, i.value, i.row) for i in new.indicators] == [(key[1], 6.8, 4)]
    old = check(unitsim.fill(issue(tmp_path / "outbox", NDRC), tmp_path / "old.xlsx", indicators={key: 6.8},
                             mutate=[_as_issued_before("1")]))
    assert old.issues == [] and [(i.name, i.value, i.row) for i in old.indicators] == [(key[1], 6.8, 2)]
    moved = check(unitsim.fill(issue(tmp_path / "outbox", NDRC), tmp_path / "moved.xlsx", indicators={key: 6.8},
                               mutate=[_as_issued_before(None)]))  # today's workbook, its title rows deleted
    assert [(i.code, i.sheet, str(i.cell)) for i in moved.issues] == [("table_moved", "量化指标", "A1")]
    assert moved.issues[0].message == "量化指标!A1：表头应在第3行，现在第1行（表头上方的行被插入或删除），已按表头读取"
