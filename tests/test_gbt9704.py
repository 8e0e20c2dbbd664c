"""The 通报 as the office prints it (issue 13): the demo quarter's Word file, printed to PDF by
LibreOffice, read back with poppler the way a reader sees the pages — GB/T 9704 page size, 版头
with 文号, page numbers, 版记 on the last body page, a body of at most three pages before 附件,
serif CJK fonts embedded and no unit name broken across lines."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from tests.conftest import require_tool
from toolkit import office
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo.pictures import take_pictures
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.briefing.publish import render_briefing, write_briefing
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.docnumbers import allocate_doc_number
from toolkit.quarter.store import open_store

DOC_NUMBER = "汴督查〔2024〕1号"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def printed(played: tuple[Path, str]) -> Path:
    """`ducha briefing --pdf`: the Word file printed by LibreOffice."""
    require_tool("soffice", "libreoffice")
    require_tool("pdftotext")
    target, _ = played
    made = render_briefing(load_config(target / "ducha.toml"), Period.parse("2024Q1"), pdf=True,
                           now=dt.date(2024, 4, 1))
    [pdf] = [p for p in made.outputs if p.suffix == ".pdf"]
    return pdf


def page_text(pdf: Path, page: int) -> str:
    """One page's text as pdftotext -layout lays it out, lines kept."""
    command = ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"]
    return subprocess.run(command, check=True, capture_output=True).stdout.decode()


def squeezed(text: str) -> str:
    """Spaces pdftotext puts between Chinese and digits (2024 年) removed; line breaks kept."""
    return "\n".join(re.sub(r"\s+", "", line) for line in text.splitlines())


def body_pages(pdf: Path) -> int:
    """Pages before the one that starts with the 附件 heading (a line of its own: a body page
    starting with the 附件说明 `附件：…明细表` is still a body page)."""
    for page in range(1, office.page_count(pdf) + 1):
        if page_text(pdf, page).strip().splitlines()[0].strip() == "附件":
            return page - 1
    return office.page_count(pdf)


def test_the_printed_briefing_is_a4_with_at_most_three_body_pages(printed: Path) -> None:
    info = subprocess.run(["pdfinfo", str(printed)], check=True, capture_output=True).stdout.decode()
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)", info)
    assert 1 <= body_pages(printed) <= 3
    assert office.page_count(printed) > body_pages(printed)  # the 附件 follows


def test_the_first_page_has_the_issuer_the_doc_number_and_a_page_number(printed: Path, played: tuple[Path, str]) -> None:
    first = squeezed(page_text(printed, 1))
    assert "开封市政府督查局" in first
    assert DOC_NUMBER in first
    assert "—1—" in first  # "— 1 —", the page number
    assert "关于2024年第一季度市政府工作报告\n" in first  # the title's first line, whole
    assert f"文号：{DOC_NUMBER}" in played[1]


def test_the_imprint_is_on_the_last_body_page(printed: Path) -> None:
    last = squeezed(page_text(printed, body_pages(printed)))
    assert "抄送：" in last
    assert "2024年4月1日印发" in last
    appendix = page_text(printed, body_pages(printed) + 1)
    assert "任务推进情况明细表" in appendix


def test_the_appendix_is_landscape_with_its_header_row_on_every_page(printed: Path) -> None:
    pages = range(body_pages(printed) + 1, office.page_count(printed) + 1)
    info = subprocess.run(["pdfinfo", "-f", str(pages[0]), "-l", str(pages[-1]), str(printed)],
                          check=True, capture_output=True).stdout.decode()
    assert re.search(r"Page\s+\d+ size:\s+841\.\d+ x 595\.\d+ pts", info)
    assert len(pages) >= 2
    texts = [page_text(printed, page) for page in pages]
    tasks = [t for t in texts if "考评排名（按本季度得分" not in t and "排名组" not in t]
    assert len(tasks) >= 2 and all("牵头单位" in t for t in tasks)  # the task table's header on each of its pages
    assert all("排名组" in t for t in texts[len(tasks) :])  # then the league's, on each of its pages


def test_serif_cjk_fonts_are_embedded(printed: Path) -> None:
    fonts = subprocess.run(["pdffonts", str(printed)], check=True, capture_output=True).stdout.decode()
    assert "NotoSerifCJK" in fonts or "FangSong" in fonts or "Song" in fonts
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # emb column


def test_no_unit_name_is_broken_across_lines(printed: Path) -> None:
    text = "\n".join(squeezed(page_text(printed, p)) for p in range(1, office.page_count(printed) + 1))
    for name in ("国家金融监督管理总局开封监管分局", "市发展改革委", "市住房城乡建设局"):
        assert name in text


def test_a_page_image_can_be_looked_at(printed: Path, tmp_path: Path) -> None:
    require_tool("pdftoppm")
    [png] = office.pdf_pages(printed, tmp_path, dpi=40, first=1, last=1)
    assert png.read_bytes().startswith(b"\x89PNG")


def test_doc_numbers_count_per_year_and_never_change_for_a_period(tmp_path: Path) -> None:
    with open_store(tmp_path / "store.sqlite") as store:
        assert allocate_doc_number(store, "briefing", "2024Q1", 2024) == (2024, 1)
        assert allocate_doc_number(store, "briefing", "2024Q2", 2024) == (2024, 2)
        assert allocate_doc_number(store, "briefing", "2024Q1", 2024) == (2024, 1)
        assert allocate_doc_number(store, "briefing", "2024Q4", 2025) == (2025, 1)
        assert allocate_doc_number(store, "briefing", "2024Q4", 2025) == (2025, 1)


def test_rerendering_keeps_the_number(played: tuple[Path, str]) -> None:
    target, _ = played
    config = load_config(target / "ducha.toml")
    again = render_briefing(config, Period.parse("2024Q1"), now=dt.date(2024, 4, 2))
    assert again.doc_number == DOC_NUMBER
    paragraphs = [p.text for p in docx.Document(str(target / "reports" / "2024Q1" / "通报.docx")).paragraphs]
    assert DOC_NUMBER in paragraphs


def test_the_cli_shows_the_doc_number(played: tuple[Path, str]) -> None:
    target, _ = played
    result = CliRunner().invoke(cli, ["--config", str(target), "briefing", "--period", "2024Q1", "--date", "2024-04-01"])
    assert result.exit_code == 0, result.output
    assert f"已生成2024年第一季度通报，文号：{DOC_NUMBER}" in result.output


def test_the_body_lists_red_tasks_one_line_each_and_counts_yellow_by_section(played: tuple[Path, str]) -> None:
    target, _ = played
    config = load_config(target / "ducha.toml")
    merged = load_merged(config, Period.parse("2024Q1"), dt.date(2024, 4, 1))
    ctx = briefing_context(merged, None, config, merged.period)
    assert ctx["red"]["total"] == 58 and len(ctx["red"]["rows"]) == 27
    assert ctx["red"]["rows"][0] == {"no": 15, "content": "加快推进河南粮投大蒜产业…", "lead": "市工业和信息化局",
                                     "problem": "前期手续尚在办理。"}
    assert ctx["yellow"]["total"] == 57 == sum(s["count"] for s in ctx["yellow"]["sections"])
    assert ctx["yellow"]["sections"][0] == {"name": "制造立市", "count": 6}
    assert ctx["not_reported"]["missing"] == ["市发展改革委", "市农科院", "市卫生健康委", "市医保局"]
    assert [(g["label"], len(g["units"])) for g in ctx["criticism_groups"]] == [
        ("未报送", 4), ("迟报", 2), ("退回修改后未重新报送", 4), ("牵头任务亮红灯", 23)]
    assert len(ctx["appendix_rows"]) == 153


def test_the_appendix_can_be_a_separate_file(played: tuple[Path, str], tmp_path: Path) -> None:
    target, _ = played
    config = load_config(target / "ducha.toml")
    merged = load_merged(config, Period.parse("2024Q1"), dt.date(2024, 4, 1))
    toml = re.sub(r'(?m)^appendix\s*=\s*"after"', 'appendix = "separate"', (target / "ducha.toml").read_text("utf-8"))
    assert 'appendix = "separate"' in toml
    (tmp_path / "ducha.toml").write_text(toml, "utf-8")
    separate = load_config(tmp_path / "ducha.toml")
    paths = write_briefing(briefing_context(merged, None, separate, merged.period), separate, merged.period)
    assert [p.name for p in paths] == ["通报.html", "通报.md", "通报.docx", "通报附件.docx"]
    body, appendix = (docx.Document(str(p)) for p in paths[2:])
    assert "附件：2024年第一季度任务推进情况明细表（另附）" in [p.text for p in body.paragraphs]
    assert len(body.sections) == 1 and body.sections[0].page_height > body.sections[0].page_width
    texts = [p.text for p in body.paragraphs if p.text]
    assert texts[-2].startswith("抄送：") and texts[-1] == "开封市政府督查局\t2024年4月1日印发"  # 版记 last
    assert len(appendix.sections) == 1 and appendix.sections[0].page_width > appendix.sections[0].page_height
    table, league = appendix.tables
    assert len(table.rows) == 1 + 153
    assert len(league.rows) == 1 + len(merged.league) and [c.text for c in league.rows[0].cells][:3] == [
        "排名组", "排名", "单位名称"]
    assert appendix.sections[0].footer.paragraphs[0].text.startswith("— ")  # the page numbers came along


def test_demo_previews_show_the_briefing_a_receipt_and_the_summary(played: tuple[Path, str], tmp_path: Path) -> None:
    """`make demo` ends with scripts/manual_pictures.py: PNG pages a reviewer can look at."""
    require_tool("soffice", "libreoffice")
    require_tool("pdftoppm")
    target, _ = played
    made = take_pictures(target, tmp_path)
    first_pages = {p.stem.rsplit("-", 1)[0]: p for p in made if int(p.stem.rsplit("-", 1)[1]) == 1}
    for name in ("手册-通报", "手册-回执", "手册-汇总表"):
        assert first_pages[name].read_bytes().startswith(b"\x89PNG")
    assert "scripts/manual_pictures.py demo-workspace demo-workspace/预览" in (ROOT / "Makefile").read_text("utf-8")


# --- outputs that print (issue 13): receipts and 汇总表 ------------------------------------------------

def receipt(target: Path, unit: str) -> CalamineWorkbook:
    return CalamineWorkbook.from_path(target / "reports" / "2024Q1" / "回执" / f"2024Q1_{unit}_回执.xlsx")


def test_a_clean_files_receipt_has_no_empty_problem_sheet(played: tuple[Path, str]) -> None:
    target, _ = played
    assert "问题清单" not in receipt(target, "市工业和信息化局").sheet_names  # 错误 0，提醒 0
    rejected = receipt(target, "市人力资源社会保障局")
    assert "问题清单" in rejected.sheet_names
    assert len(rejected.get_sheet_by_name("问题清单").to_python()) > 1


def test_the_receipt_title_names_city_year_quarter_and_subject(played: tuple[Path, str]) -> None:
    target, _ = played
    front = receipt(target, "市工业和信息化局").get_sheet_by_name("回执").to_python()
    assert front[0][0] == "开封市2024年第一季度政府工作报告确定事项推进情况报表回执"


def test_the_summary_books_problem_list_shows_chinese_labels_not_codes(played: tuple[Path, str]) -> None:
    target, _ = played
    book = CalamineWorkbook.from_path(target / "reports" / "2024Q1" / "汇总表.xlsx")
    header, *rows = book.get_sheet_by_name("问题清单").to_python()
    assert "代码" not in header
    kinds = [row[header.index("问题类型")] for row in rows]
    assert kinds and not any(re.fullmatch(r"[a-z_]+", kind) for kind in kinds)
    assert "锁定的单元格（任务内容、责任领导、本单位职责）被改动" in kinds


def test_doctor_says_libreoffice_prints_the_briefing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from toolkit import doctor

    monkeypatch.setenv("PATH", str(tmp_path))
    assert "ducha briefing --pdf" in doctor._office().fix
    assert "ducha briefing --pdf" not in doctor._chromium(None).fix
