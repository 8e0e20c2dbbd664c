"""Notices in the formats a bureau receives them, made in code for the import tests.

The bundled Markdown notice is turned into a Word file (headings as Word heading styles, bold runs,
line breaks inside a paragraph, no Markdown left) and a web page (h1–h6, <strong>, <br>) the way an
office or a government site would hold the same text; the PDF is printed from the Word file by
LibreOffice. A second notice, written here, is the same family of document worded differently: another
city and year, other units, no 责任领导 lines, item numbers written "1、", and a 责任单位 list cut by
a real page break.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.enum.text import WD_BREAK

_HEADING = re.compile(r"^(#{1,6})\s*(.*)$")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
PAGE_BREAK = "\f"  # in the second notice's text: where the printed page ends


def _paragraphs(markdown: str) -> list[list[str]]:
    """Blocks of the Markdown separated by blank lines, each a list of its lines."""
    blocks, current = [], []
    for line in markdown.split("\n"):  # not splitlines(): a form feed (PAGE_BREAK) stays in its line
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _runs(text: str) -> list[tuple[str, bool]]:
    """'**责任领导：**刘震' → [('责任领导：', True), ('刘震', False)]."""
    runs, last = [], 0
    for match in _BOLD.finditer(text):
        if match.start() > last:
            runs.append((text[last : match.start()], False))
        runs.append((match[1], True))
        last = match.end()
    if last < len(text):
        runs.append((text[last:], False))
    return runs


def markdown_to_docx(markdown: str, path: Path) -> Path:
    """Each Markdown block a Word paragraph (its lines joined by line breaks, a form feed a page
    break), # headings as Heading styles, ** as bold runs; a horizontal rule is left out, as Word
    has none in the text."""
    document = docx.Document()
    for block in _paragraphs(markdown):
        if block == ["---"]:
            continue
        heading = _HEADING.match(block[0])
        if heading and len(block) == 1:
            paragraph = document.add_heading(level=min(len(heading[1]), 9))
            lines = [heading[2]]
        else:
            paragraph = document.add_paragraph()
            lines = block
        for n, line in enumerate(lines):
            for k, piece in enumerate(line.split(PAGE_BREAK)):
                if k:
                    paragraph.add_run().add_break(WD_BREAK.PAGE)
                for text, bold in _runs(piece):
                    paragraph.add_run(text).bold = bold
            if n < len(lines) - 1:
                paragraph.add_run().add_break()
    document.save(str(path))
    return path


def markdown_to_html(markdown: str, path: Path, encoding: str = "utf-8") -> Path:
    """A web page as a government site serves it: a menu and a footer around the notice, headings
    as h1–h6, bold as <strong>, line breaks as <br>, rules as <hr>."""
    body = []
    for block in _paragraphs(markdown):
        if block == ["---"]:
            body.append("<hr>")
            continue
        heading = _HEADING.match(block[0])
        if heading and len(block) == 1:
            level = len(heading[1])
            body.append(f"<h{level}>{_inline(heading[2])}</h{level}>")
        else:
            body.append("<p>" + "<br>\n".join(_inline(line) for line in block) + "</p>")
    page = (
        f'<!DOCTYPE html><html><head><meta charset="{encoding}"><title>通知</title>'
        "<style>p { margin: 0 }</style><script>var x = '1. 不是任务';</script></head><body>"
        '<nav><ul><li>首页</li><li>政务公开</li></ul></nav><div class="article">'
        + "\n".join(body)
        + "</div><footer>网站标识码 4102000001 打印本页 关闭窗口</footer></body></html>"
    )
    path.write_bytes(page.encode(encoding, errors="xmlcharrefreplace"))  # &#160; where GBK has no character
    return path


def _inline(text: str) -> str:
    pieces = (f"<strong>{html.escape(t)}</strong>" if bold else html.escape(t) for t, bold in _runs(text))
    return "".join(pieces)


@dataclass(frozen=True)
class Expected:
    """One item of the second notice as its author meant it."""

    no: int
    category: str
    section: str
    content: str
    units_text: str


LUOYANG_CATEGORY_1 = "一、主要目标任务"
LUOYANG_CATEGORY_2 = "二、重点工作"
LUOYANG_SECTIONS = ("（一）建设现代化产业体系", "（二）持续改善城乡面貌")

# 洛阳市 2025: plain paragraphs (no Markdown), items numbered "1、", no 责任领导 anywhere, a
# covering letter with its own part heading and numbered rules before the 附件 line, a unit list
# cut by a page break in item 5, and the 版记 (主办/抄送) closing the attachment.
LUOYANG_2025 = f"""洛阳市人民政府办公室文件

洛政办〔2025〕5号

洛阳市人民政府办公室关于印发2025年市政府工作报告重点任务分解方案的通知

各县区人民政府，市人民政府各部门：

现将分解方案印发给你们，请认真抓好落实。

一、工作要求

1、每季度末月25日前报送进展情况。

2、报送材料须经单位主要负责同志签字。

附件

2025年市政府工作报告重点任务分解方案

{LUOYANG_CATEGORY_1}

1、全市生产总值增长6%以上。

责任单位：市发展改革委

2、一般公共预算收入增长5%。

责任单位：市财政局，各县区

{LUOYANG_CATEGORY_2}

{LUOYANG_SECTIONS[0]}

3、推进洛阳石化百万吨乙烯项目建设，打造先进制造业集群。

责任单位：市工业和信息化局、市发展改革委，孟津区、洛龙区

4、新增规模以上工业企业120家。

责任单位：市工业和信息化局，各县区

{LUOYANG_SECTIONS[1]}

5、完成老旧小区改造300个，新建城市绿道100公里。

责任单位：市住房城乡建设局、市城市管理局、市自然资源和规划局、市{PAGE_BREAK}园林绿化中心，涧西区、西工区、老城区、瀍河回族区

6、实施农村人居环境整治提升行动，创建美丽乡村示范村50个。

责任单位：市农业农村局、市乡村振兴局，偃师区、孟津区、新安县、宜阳县

主办：市政府督查室

抄送：市委办公室，市人大常委会办公室，市政协办公室。

洛阳市人民政府办公室 2025年1月20日印发
"""

LUOYANG_EXPECTED = [
    Expected(1, LUOYANG_CATEGORY_1, LUOYANG_CATEGORY_1, "全市生产总值增长6%以上。", "市发展改革委"),
    Expected(2, LUOYANG_CATEGORY_1, LUOYANG_CATEGORY_1, "一般公共预算收入增长5%。", "市财政局，各县区"),
    Expected(
        3,
        LUOYANG_CATEGORY_2,
        LUOYANG_SECTIONS[0],
        "推进洛阳石化百万吨乙烯项目建设，打造先进制造业集群。",
        "市工业和信息化局、市发展改革委，孟津区、洛龙区",
    ),
    Expected(
        4, LUOYANG_CATEGORY_2, LUOYANG_SECTIONS[0], "新增规模以上工业企业120家。", "市工业和信息化局，各县区"
    ),
    Expected(
        5,
        LUOYANG_CATEGORY_2,
        LUOYANG_SECTIONS[1],
        "完成老旧小区改造300个，新建城市绿道100公里。",
        "市住房城乡建设局、市城市管理局、市自然资源和规划局、市园林绿化中心，涧西区、西工区、老城区、瀍河回族区",
    ),
    Expected(
        6,
        LUOYANG_CATEGORY_2,
        LUOYANG_SECTIONS[1],
        "实施农村人居环境整治提升行动，创建美丽乡村示范村50个。",
        "市农业农村局、市乡村振兴局，偃师区、孟津区、新安县、宜阳县",
    ),
]


def blank_pdf(path: Path) -> Path:
    """A one-page PDF with no text at all, as a scanner makes (an image only, here not even that)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 0 >>\nstream\n\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))
    return path


TABLE_ROWS = [
    ["序号", "工作任务", "责任领导", "责任单位"],
    ["一、主要目标", "一、主要目标", "一、主要目标", "一、主要目标"],
    ["1", "全市生产总值增长6%以上。", "张三", "市发展改革委"],
    ["2", "新增城镇就业5万人。", "张三", "市人力资源社会保障局，各县区"],  # 张三 merged over both rows
    ["3", "新建5G基站1000个。", "", "市通信管理办公室"],
]


def table_docx(path: Path) -> Path:
    """The items as a Word table (序号 | 工作任务 | 责任领导 | 责任单位) after the 附件 line: the
    part heading a row merged across, one leader merged down over two items, one cell left empty."""
    document = docx.Document()
    document.add_paragraph("附件")
    table = document.add_table(rows=len(TABLE_ROWS), cols=4)
    for r, row in enumerate(TABLE_ROWS):
        if len(set(row)) == 1:
            table.cell(r, 0).merge(table.cell(r, 3)).text = row[0]
            continue
        for c, text in enumerate(row):
            if (r, c) != (3, 2):
                table.cell(r, c).text = text
    table.cell(2, 2).merge(table.cell(3, 2))
    document.save(str(path))
    return path


def table_html(path: Path) -> Path:
    """The same table on a web page: colspan for the heading row, rowspan for the shared leader."""
    rows = []
    for r, row in enumerate(TABLE_ROWS):
        if len(set(row)) == 1:
            rows.append(f'<tr><td colspan="4">{row[0]}</td></tr>')
            continue
        cells = [f"<td><p>{html.escape(cell)}</p></td>" for cell in row]
        if r == 2:
            cells[2] = cells[2].replace("<td>", '<td rowspan="2">')
        if r == 3:
            del cells[2]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    path.write_text(f"<html><body><p>附件</p><table><tbody>{''.join(rows)}</tbody></table></body></html>",
                    encoding="utf-8")
    return path


def numbered_docx(path: Path) -> Path:
    """Items typed as Word's automatic numbering (List Number style): "1." is not in the text."""
    document = docx.Document()
    document.add_paragraph("一、主要目标")
    for content, units in (("全市生产总值增长6%以上。", "市发展改革委"), ("新增城镇就业5万人。", "市人力资源社会保障局")):
        document.add_paragraph(content, style="List Number")
        document.add_paragraph(f"责任单位：{units}")
    document.save(str(path))
    return path
