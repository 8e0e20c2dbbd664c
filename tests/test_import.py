"""`ducha ledger import` and `ducha ledger template`: the ledger from a notice in any of its formats
(the bundled notice as Word, PDF and web page gives the Markdown's ledger cell for cell; a second
notice of another city parses as its author meant), the parse report, gaps refused, the clerk's
edits kept, and a blank ledger that reads back and passes the check."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from tests.conftest import NOTICE, require_tool
from tests.notice_fixtures import (
    LUOYANG_2025,
    LUOYANG_EXPECTED,
    PAGE_BREAK,
    blank_pdf,
    markdown_to_docx,
    markdown_to_html,
    numbered_docx,
    table_docx,
    table_html,
)
from toolkit import office
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.ledger.build import build_ledger, import_notice, load_ledger, read_ledger
from toolkit.ledger.check import check_ledger
from toolkit.ledger.notice import Line, parse_lines, parse_notice
from toolkit.ledger.sheets import COLUMNS, SHEET_ABOUT, read_tables
from toolkit.ledger.sources import read_source

NOW = dt.datetime(2025, 1, 10, 9, 0)
MARKDOWN = NOTICE.read_text(encoding="utf-8")


def workspace_at(root: Path, toml: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ducha.toml").write_text(toml, encoding="utf-8")
    return root


def ledger_sheets(path: Path) -> dict:
    """Every sheet but 说明 (which names the source file and its hash)."""
    return {name: rows for name, rows in read_tables(path).items() if name != SHEET_ABOUT}


def invoke(root: Path, *args: str):
    return CliRunner().invoke(cli, ["--config", str(root), "ledger", *args])


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The bundled notice as a Word file, a web page (UTF-8 and GBK), and a PDF printed by LibreOffice."""
    base = tmp_path_factory.mktemp("formats")
    return {
        "docx": markdown_to_docx(MARKDOWN, base / "通知.docx"),
        "html": markdown_to_html(MARKDOWN, base / "通知.html"),
        "gbk.html": markdown_to_html(MARKDOWN, base / "通知-gbk.htm", encoding="gbk"),
    }


@pytest.fixture(scope="module")
def pdf(formats: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("soffice", "libreoffice")
    return office.convert(formats["docx"], "pdf", tmp_path_factory.mktemp("pdf"))


@pytest.fixture(scope="module")
def from_markdown(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = workspace_at(tmp_path_factory.mktemp("md"))
    (root / "data").mkdir()
    shutil.copy(NOTICE, root / "data" / NOTICE.name)
    build_ledger(load_config(root), now=NOW)
    return root / "master_ledger.xlsx"


def fields(items) -> list[tuple]:
    return [(i.no, i.category, i.section, i.content, i.leaders, i.units_text) for i in items]


# --- the bundled notice in every format ------------------------------------------------------


def test_the_word_file_is_real_word_without_markdown(formats):
    with zipfile.ZipFile(formats["docx"]) as book:
        body = book.read("word/document.xml").decode()
    assert "**" not in body and "###" not in body
    assert 'w:val="Heading3"' in body and "<w:b/>" in body


@pytest.mark.parametrize("kind", ["docx", "html", "gbk.html"])
def test_each_format_gives_the_markdowns_153_items(formats, kind):
    parsed = parse_lines(read_source(formats[kind]).lines)
    assert fields(parsed.items) == fields(parse_notice(MARKDOWN).items)
    assert len(parsed.items) == 153 and parsed.unplaced == []
    assert [i.code for i in parsed.issues] == ["notice_stray_latin", "notice_stray_latin"]


def test_the_pdf_gives_the_markdowns_153_items(pdf):
    parsed = parse_lines(read_source(pdf).lines)
    assert fields(parsed.items) == fields(parse_notice(MARKDOWN).items)
    # The quotes LibreOffice sets in a Latin font come back in place, not before the sentence.
    assert parsed.items[11].content == "单位生产总值能耗与“十四五”目标统筹衔接。"
    assert parsed.issues[0].message.startswith("第33项（通知第")
    assert "页）" in parsed.issues[0].message


@pytest.mark.parametrize("kind", ["docx", "html", "pdf"])
def test_import_writes_the_markdowns_ledger_cell_for_cell(request, formats, from_markdown, tmp_path, kind):
    source = request.getfixturevalue("pdf") if kind == "pdf" else formats[kind]  # only the PDF needs LibreOffice
    root = workspace_at(tmp_path / "ws")
    result = import_notice(load_config(root), source, now=NOW)
    assert (result.status, result.errors) == ("created", [])
    assert ledger_sheets(root / "master_ledger.xlsx") == ledger_sheets(from_markdown)
    about = dict(read_tables(root / "master_ledger.xlsx")[SHEET_ABOUT][1:4])
    assert about["来源文件"] == str(source)
    assert len(about["来源SHA-256"]) == 64


def test_build_is_the_import_of_the_configured_notice(from_markdown, tmp_path):
    root = workspace_at(tmp_path / "ws")
    shutil.copy(NOTICE, root / "通知.md")
    import_notice(load_config(root), root / "通知.md", now=NOW)
    assert ledger_sheets(root / "master_ledger.xlsx") == ledger_sheets(from_markdown)
    assert dict(read_tables(root / "master_ledger.xlsx")[SHEET_ABOUT][1:3])["来源文件"] == "通知.md"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030", "utf-16"])
def test_a_text_copy_in_any_windows_encoding(tmp_path, encoding):
    path = tmp_path / "通知.txt"
    path.write_bytes(MARKDOWN.encode(encoding))
    assert fields(parse_lines(read_source(path).lines).items) == fields(parse_notice(MARKDOWN).items)


# --- a second notice, worded differently -------------------------------------------------------


def luoyang(kind: str, base: Path) -> Path:
    if kind == "txt":
        path = base / "洛阳.txt"
        path.write_text(LUOYANG_2025.replace(PAGE_BREAK, "\n\n"), encoding="utf-8")
        return path
    docx = markdown_to_docx(LUOYANG_2025, base / "洛阳.docx")
    if kind == "pdf":
        require_tool("soffice", "libreoffice")
        return office.convert(docx, "pdf", base / "pdf")
    return docx


def test_the_second_word_file_has_a_real_page_break_in_a_unit_list(tmp_path):
    with zipfile.ZipFile(luoyang("docx", tmp_path)) as book:
        body = book.read("word/document.xml").decode()
    assert '市自然资源和规划局、市</w:t></w:r><w:r><w:br w:type="page"/>' in body


@pytest.mark.parametrize("kind", ["docx", "pdf", "txt"])
def test_a_notice_of_another_city_parses_as_its_author_meant(tmp_path, kind):
    lines = read_source(luoyang(kind, tmp_path)).lines
    if kind == "pdf":  # the page break really cuts the unit list in two
        assert Line("园林绿化中心，涧西区、西工区、老城区、瀍河回族区", "第2页") in lines
    parsed = parse_lines(lines)
    assert [(i.no, i.category, i.section, i.content, i.units_text) for i in parsed.items] == [
        (e.no, e.category, e.section, e.content, e.units_text) for e in LUOYANG_EXPECTED
    ]
    # No 责任领导 anywhere: nothing to warn about; the covering letter's rules are not items.
    assert all(i.leaders == () for i in parsed.items)
    assert (parsed.issues, parsed.unplaced) == ([], [])


def test_its_ledger_loads_with_its_own_counties(tmp_path):
    root = workspace_at(tmp_path / "ws", '[bureau]\ncity = "洛阳市"\nyear = 2025\n')
    result = import_notice(load_config(root), luoyang("docx", tmp_path), now=NOW)
    assert result.errors == []
    ledger = load_ledger(load_config(root))
    assert ledger.task(5).deadline == "2025年12月31日" and ledger.task(5).leaders == ()
    assert ledger.members("各县区") == ["孟津区", "洛龙区", "涧西区", "西工区", "老城区", "瀍河回族区", "偃师区",
                                        "新安县", "宜阳县"]  # fmt: skip
    assert ledger.unit("杞县") is None  # 开封市's counties stay out of 洛阳市's ledger
    assert [a.role for a in ledger.assignments()["宜阳县"]] == ["县区落实", "县区落实", "县区落实"]


# --- what the parser decides on its own --------------------------------------------------------


def test_word_numbering_tables_and_web_tables_are_items(tmp_path):
    numbered = parse_lines(read_source(numbered_docx(tmp_path / "编号.docx")).lines)
    assert [(i.no, i.content, i.units_text) for i in numbered.items] == [
        (1, "全市生产总值增长6%以上。", "市发展改革委"),
        (2, "新增城镇就业5万人。", "市人力资源社会保障局"),
    ]
    expected = [
        (1, "一、主要目标", "全市生产总值增长6%以上。", ("张三",), "市发展改革委"),
        (2, "一、主要目标", "新增城镇就业5万人。", ("张三",), "市人力资源社会保障局，各县区"),
        (3, "一、主要目标", "新建5G基站1000个。", (), "市通信管理办公室"),
    ]
    places = {"表格.docx": "第2段（表格）", "表格.html": "第1行"}
    for path in (table_docx(tmp_path / "表格.docx"), table_html(tmp_path / "表格.html")):
        parsed = parse_lines(read_source(path).lines)
        assert [(i.no, i.section, i.content, i.leaders, i.units_text) for i in parsed.items] == expected
        assert [i.message for i in parsed.issues] == [f"第3项（通知{places[path.name]}）缺少“责任领导”，请在总台账中补上"]


def test_items_in_the_body_and_an_attachment_of_forms_after_them():
    parsed = parse_notice(
        "关于印发重点任务的通知\n一、主要目标\n1. 甲。\n责任单位：市水利局\n2. 乙。\n责任单位：市水利局\n"
        "附件\n1. 进展情况报表（样表）\n"
    )
    assert [(i.no, i.content, i.units_text) for i in parsed.items] == [(1, "甲。", "市水利局"), (2, "乙。", "市水利局")]


def test_a_heading_like_line_inside_a_sentence_is_the_sentence():
    parsed = parse_notice(
        "一、重点工作\n1. 开工建设综合管廊\n（三）期工程和配套道路。\n责任领导：刘震  责任单位：市水利局\n"
    )
    [item] = parsed.items
    assert (item.content, item.leaders, item.units_text) == ("开工建设综合管廊（三）期工程和配套道路。", ("刘震",), "市水利局")


def test_a_missing_leader_is_warned_only_where_the_notice_names_leaders():
    with_leaders = parse_notice("一、目标\n1. 甲。\n责任领导：刘震\n责任单位：市水利局\n2. 乙。\n责任单位：市水利局\n")
    assert [i.message for i in with_leaders.issues] == ["第2项（通知第5行）缺少“责任领导”，请在总台账中补上"]
    without = parse_notice("一、目标\n1. 甲。\n责任单位：市水利局\n2. 乙。\n责任单位：市水利局\n")
    assert without.issues == []


def test_text_that_belongs_to_no_item_is_reported_with_its_line(tmp_path):
    root = workspace_at(tmp_path / "ws")
    notice = root / "通知.txt"
    notice.write_text(
        "附件\n任务分解方案\n一、主要目标\n以下目标须逐月调度。\n1. 甲。\n责任领导：刘震\n责任单位：市水利局\n", encoding="utf-8"
    )
    result = invoke(root, "import", str(notice))
    assert result.exit_code == 0, result.output
    assert "识别出任务 1 项" in result.output
    assert "无法归入任何任务的文字 1 处（未写入总台账，请对照原文核对）：\n  第4行：以下目标须逐月调度。" in result.output
    assert "任务分解方案" not in result.output  # the attachment's title, before any heading


def test_unreadable_inputs_are_clear_chinese_errors(tmp_path):
    root = workspace_at(tmp_path / "ws")
    cases = {
        blank_pdf(tmp_path / "扫描.pdf"): "扫描件无文字层",
        tmp_path / "通知.doc": "不支持的通知格式“.doc”：请用 Word 或 WPS 另存为 .docx",
        tmp_path / "没有.docx": "找不到任务分解通知",
    }
    (tmp_path / "通知.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    for path, message in cases.items():
        result = invoke(root, "import", str(path))
        assert result.exit_code == 1
        assert result.stderr.startswith("错误：") and message in result.stderr, result.stderr
    empty = tmp_path / "空.txt"
    empty.write_text("各单位：请认真落实。\n", encoding="utf-8")
    assert "没有找到编号任务" in invoke(root, "import", str(empty)).stderr
    assert not (root / "master_ledger.xlsx").exists()


# --- gaps, edits, new units ----------------------------------------------------------------------


GAPPED = "一、目标\n1. 甲。\n责任领导：刘震\n责任单位：市水利局\n2. 乙。\n责任领导：刘震\n责任单位：市水利局\n" \
         "4. 丁。\n责任领导：刘震\n责任单位：市水利局\n"  # fmt: skip


def test_a_numbering_gap_writes_nothing_without_force(tmp_path):
    root = workspace_at(tmp_path / "ws")
    notice = root / "通知.txt"
    notice.write_text(GAPPED, encoding="utf-8")
    refused = invoke(root, "import", str(notice))
    assert refused.exit_code == 1
    assert "识别出任务 3 项\n  编号缺漏：第 3 项在通知中没有找到" in refused.output
    assert "任务编号不连续，未生成总台账" in refused.output
    assert not (root / "master_ledger.xlsx").exists()
    data = json.loads(invoke(root, "import", str(notice), "--json").stdout)
    assert (data["status"], data["notice"]["missing"], data["notice"]["in_order"]) == ("refused", [3], False)
    forced = invoke(root, "import", str(notice), "--force")
    assert "已生成总台账" in forced.output
    assert [i.code for i in check_ledger(root / "master_ledger.xlsx").errors] == ["task_number_missing"]


def test_a_repeated_number_is_refused_too(tmp_path):
    root = workspace_at(tmp_path / "ws")
    notice = root / "通知.txt"
    notice.write_text(GAPPED.replace("4. 丁", "2. 丁"), encoding="utf-8")
    refused = invoke(root, "import", str(notice))
    assert refused.exit_code == 1 and "编号重复：第 2 项出现不止一次" in refused.output


def test_reimport_keeps_the_clerks_edits(formats, tmp_path):
    root = workspace_at(tmp_path / "ws")
    assert invoke(root, "import", str(formats["docx"])).exit_code == 0
    again = invoke(root, "import", str(formats["docx"]))
    assert again.exit_code == 0 and "总台账与通知的内容一致，未改动" in again.output
    path = root / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    book["单位名录"]["F2"] = "fgw@kaifeng.gov.cn"
    book.save(path)
    data = path.read_bytes()
    refused = invoke(root, "import", str(formats["docx"]))
    assert refused.exit_code == 1
    assert "错误：总台账 master_ledger.xlsx 已被修改" in refused.stderr and "单位名录!F2" in refused.stderr
    assert path.read_bytes() == data
    forced = invoke(root, "import", str(formats["docx"]), "--force", "--json")
    backup = Path(json.loads(forced.stdout)["backup"])
    assert openpyxl.load_workbook(backup)["单位名录"]["F2"].value == "fgw@kaifeng.gov.cn"


def test_units_the_current_ledger_lacks_are_listed(from_markdown, tmp_path):
    root = workspace_at(tmp_path / "ws")
    shutil.copy(from_markdown, root / "master_ledger.xlsx")
    notice = root / "2025.txt"
    notice.write_text(
        "一、目标\n1. 甲。\n责任领导：刘震\n责任单位：市住房和城乡建设局、市数据局，兰考县、示范新区\n", encoding="utf-8"
    )
    result = import_notice(load_config(root), notice, force=True, now=NOW)
    # An alias (市住房和城乡建设局) and a known county are known; the two others are new.
    assert result.notice.new_units == ["市数据局", "示范新区"]
    fresh = workspace_at(tmp_path / "fresh")
    assert import_notice(load_config(fresh), notice, now=NOW).notice.new_units is None
    shown = invoke(root, "import", str(notice), "--force").output
    assert "单位名录中还没有的单位 0 个" not in shown and "通知中的单位都已在单位名录中" in shown


# --- the blank ledger ----------------------------------------------------------------------------


def test_template_is_a_blank_ledger_that_reads_back_and_passes_the_check(tmp_path):
    root = workspace_at(tmp_path / "ws", "[bureau]\nyear = 2025\n")
    result = invoke(root, "template")
    assert result.exit_code == 0, result.output
    assert "已生成总台账" in result.output and "任务 1 项" in result.output
    path = root / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["任务台账", "单位名录", "量化指标", "节点计划", "考评加分", "说明"]
    for sheet, columns in COLUMNS.items():
        assert [c.value for c in book[sheet][1]] == [c.header for c in columns]
    tasks = list(book["任务台账"].iter_rows(min_row=2, values_only=True))
    assert tasks == [(1, "一、重点工作", "（一）示例板块", "完成老旧小区改造100个以上。", "示例领导",
                      "市示例局、市示例办，各县区", "市示例局", "市示例办", "各县区", "2025年12月31日", None,
                      "示例行：请改为本局的任务，或删除此行（量化指标、单位名录中的示例行一并改写或删除）")]  # fmt: skip
    units = [row[:4] for row in book["单位名录"].iter_rows(min_row=2, values_only=True)]
    assert units == [("市示例局", "示例局", "市直部门", None), ("市示例办", None, "市直部门", None),
                     ("示例县", None, "县区", "各县区"), ("各县区", None, "分组", None)]  # fmt: skip
    assert [row[:5] for row in book["量化指标"].iter_rows(min_row=2, values_only=True)] == [
        (1, "完成老旧小区改造", 100, "个", "≥")
    ]
    dropdowns = {
        sheet: {(str(dv.sqref).split(":")[0], dv.type) for dv in book[sheet].data_validations.dataValidation}
        for sheet in ("单位名录", "量化指标")
    }
    assert ("C2", "list") in dropdowns["单位名录"] and ("E2", "list") in dropdowns["量化指标"]
    calamine = CalamineWorkbook.from_path(str(path))
    assert calamine.sheet_names == book.sheetnames
    assert calamine.get_sheet_by_name("任务台账").to_python()[1][:4] == [1.0, "一、重点工作", "（一）示例板块",
                                                                      "完成老旧小区改造100个以上。"]  # fmt: skip
    assert dict(read_tables(path)[SHEET_ABOUT][1:3])["来源文件"].startswith("无（空白模板")
    checked = invoke(root, "check")
    assert checked.exit_code == 0 and "检查完毕：0 处错误" in checked.output
    assert len(load_ledger(load_config(root)).tasks) == 1


def test_the_clerk_replaces_the_example_and_the_ledger_still_loads(tmp_path):
    root = workspace_at(tmp_path / "ws")
    assert invoke(root, "template").exit_code == 0
    path = root / "master_ledger.xlsx"
    book = openpyxl.load_workbook(path)
    book["量化指标"].delete_rows(2)
    tasks = book["任务台账"]
    for ref, value in {"B2": "一、市委市政府交办事项", "C2": "（一）城市更新", "D2": "年内完成12条背街小巷改造。",
                       "E2": "王五", "G2": "市城管局", "H2": None, "I2": "各县区", "L2": None}.items():  # fmt: skip
        tasks[ref] = value
    book["单位名录"]["A2"], book["单位名录"]["B2"] = "市城管局", None
    book.save(path)
    assert check_ledger(path).errors == []
    ledger = read_ledger(path)
    assert [(t.no, t.content, t.lead, ledger.expand(t.county[0])) for t in ledger.tasks] == [
        (1, "年内完成12条背街小巷改造。", "市城管局", ["示例县"])
    ]
    refused = invoke(root, "template")
    assert refused.exit_code == 1 and "与空白模板的内容不同" in refused.stderr
    # All examples deleted: an empty ledger is still a valid one to fill in.
    book = openpyxl.load_workbook(path)
    book["任务台账"].delete_rows(2)
    book.save(path)
    assert check_ledger(path).errors == []
