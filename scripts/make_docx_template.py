"""Build templates/briefing.docx, the Word template of the briefing (通报), with python-docx.

The template is a Word document whose text holds Jinja2 tags that docxtpl fills in
(`{{ title }}`, `{%tr for row in lagging %}` for table rows, `{%p if … %}` for paragraphs). It is
generated rather than drawn by hand so its layout is reviewable as code and reproducible; the
clerk may still open the generated file in Word or WPS and restyle it, keeping the tags intact.
Layout follows GB/T 9704-2012 (党政机关公文格式): A4, margins top 37 mm and left 28 mm around a
156 × 225 mm text block of 22 lines; 版头 with the issuer in red, the 发文字号 and a red rule; title
in 2号 小标宋, body 3号 仿宋, headings 黑体 and 楷体; page numbers `— 1 —` in 4号 宋体, odd pages
right, even pages left; 版记 (抄送, 印发机关 and 印发日期 between rules) after the 落款; then the
附件, a landscape table whose header row repeats on every page. The fonts are those an office PC
has; where one is missing the PDF printer maps it to [briefing] serif_font / sans_font.

Run:  .venv/bin/python scripts/make_docx_template.py  [output path]
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.config import BUNDLED_TEMPLATES  # noqa: E402
from toolkit.fsutil import write_bytes_atomic  # noqa: E402
from toolkit.outputs.briefing.render import DOCX_TEMPLATE, stable_zip  # noqa: E402

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
KAI_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"
RED = RGBColor(0xFF, 0x00, 0x00)
FIXED_TIME = dt.datetime(2024, 1, 1)

BODY_SIZE = 16  # 3号
TITLE_SIZE = 22  # 2号
IMPRINT_SIZE = 14  # 4号
IMPRINT_LINE = 20  # the 版记's lines, tighter than the body's: 落款 and 版记 share the third page
RULE_LINE = 1  # the line a 版记 rule sits on, in points
TABLE_SIZE = 10.5  # 五号
SMALL_SIZE = 9  # 小五: the two tables of the body, one line a row
TABLE_LINE = 1.1  # a table row's line, times its font size: single spacing, as tables in 公文 are set
CELL_MARGIN_MM = 1  # a table cell's padding left and right
LINE = 28  # 固定值28磅: 22–23 lines in the 225 mm block (GB/T 9704 7.1: 一般每面22行), in points
TEXT_WIDTH = Mm(156)
CHAR_SPACING = -0.25  # points between 3号 characters: 28 × (16 − 0.25) pt = 441 pt fill the 156 mm (442 pt) line
CENTER, RIGHT, LEFT = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT, WD_ALIGN_PARAGRAPH.LEFT


def _font(target, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    """Set a run's or style's font for Latin and East Asian text (Word keeps them apart)."""
    target.font.name = name
    target.font.size = Pt(size)
    target.font.bold = bold
    if color is not None:
        target.font.color.rgb = color
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _para(doc, text: str = "", *, align=None, font: str = BODY_FONT, size: float = BODY_SIZE, bold: bool = False,
          color: RGBColor | None = None, indent: bool = False, before: float = 0, line: float | None = None):
    """One paragraph with one run, so docxtpl sees each tag whole."""
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    if before:
        paragraph.paragraph_format.space_before = Pt(before)
    if line:
        paragraph.paragraph_format.line_spacing = Pt(line)
    _font(paragraph.add_run(text), font, size, bold, color)
    return paragraph


def _lead_in(doc, lead: str, text: str) -> None:
    """A body paragraph starting with a （一） heading in 楷体, the rest in 仿宋; left-aligned, since
    it lists unit names kept whole and justifying would spread a short line across the page."""
    paragraph = _para(doc, lead, font=KAI_FONT, indent=True, align=LEFT)
    _font(paragraph.add_run(text), BODY_FONT, BODY_SIZE)


def _tag(doc, tag: str) -> None:
    """A paragraph holding only a {%p … %} tag: docxtpl removes the paragraph, keeps the logic."""
    _para(doc, tag)


def _border(paragraph, side: str, size: int, color: str = "000000", space: int = 1) -> None:
    """A rule above or below a paragraph, as wide as its indents (sz in eighths of a point)."""
    ppr = paragraph._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    edge = OxmlElement(f"w:{side}")
    for key, value in (("val", "single"), ("sz", str(size)), ("space", str(space)), ("color", color)):
        edge.set(qn(f"w:{key}"), value)
    borders.append(edge)


def _table(doc, headers: list[str], cells: list[str], loop: str, widths: list[float], *,
           size: float = TABLE_SIZE, header_repeats: bool = False) -> None:
    """A table: a header row, then one row per item of `loop` (`row in lagging`); widths in mm."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    contents = [headers, [f"{{%tr for {loop} %}}"] + [""] * (len(headers) - 1), cells,
                ["{%tr endfor %}"] + [""] * (len(headers) - 1)]
    for index, (row, texts) in enumerate(zip(table.rows, contents, strict=True)):
        for cell, text, width in zip(row.cells, texts, widths, strict=True):
            cell.width = Mm(width)
            paragraph = cell.paragraphs[0]
            paragraph.paragraph_format.line_spacing = Pt(size * TABLE_LINE)
            paragraph.paragraph_format.first_line_indent = Pt(0)
            if index == 0:
                paragraph.alignment = CENTER
            _font(paragraph.add_run(text), HEADING_FONT if index == 0 else BODY_FONT, size)
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Mm(width)  # the grid LibreOffice lays out by
    margins = OxmlElement("w:tblCellMar")  # 1 mm either side, not Word's 1.9: a row's texts fit on one line
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(round(Mm(CELL_MARGIN_MM).twips)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.append(margins)
    if header_repeats:
        marker = OxmlElement("w:tblHeader")
        table.rows[0]._tr.get_or_add_trPr().append(marker)


def _page_number(footer, align, indent: str) -> None:
    """`— 1 —` in 4号 宋体, one character in from the edge of the text block (GB/T 9704 7.5)."""
    paragraph = footer.paragraphs[0]
    paragraph.alignment = align
    setattr(paragraph.paragraph_format, indent, Pt(IMPRINT_SIZE))
    _font(paragraph.add_run("— "), NUMBER_FONT, IMPRINT_SIZE)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        run = paragraph.add_run()
        _font(run, NUMBER_FONT, IMPRINT_SIZE)
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            element = OxmlElement("w:instrText")
            element.text = " PAGE "
        else:
            element = OxmlElement("w:t")
            element.text = text
        run._r.append(element)
    _font(paragraph.add_run(" —"), NUMBER_FONT, IMPRINT_SIZE)


def _page_setup(doc) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.header_distance, section.footer_distance = Mm(15), Mm(21)
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, RIGHT, "right_indent")
    _page_number(section.even_page_footer, LEFT, "left_indent")
    normal = doc.styles["Normal"]
    _font(normal, BODY_FONT, BODY_SIZE)
    normal.paragraph_format.line_spacing = Pt(LINE)
    normal.paragraph_format.space_before = normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    spacing = OxmlElement("w:spacing")  # 28 characters to the line (GB/T 9704 7.1: 一般每行28个字)
    spacing.set(qn("w:val"), str(round(CHAR_SPACING * 20)))
    normal.element.get_or_add_rPr().insert_element_before(spacing, "w:w", "w:kern", "w:position", "w:sz")


def _masthead(doc) -> None:
    """版头: the issuer in red, two lines down the 发文字号, 4 mm below it the red rule."""
    _para(doc, "{{ issuer }}", align=CENTER, font=TITLE_FONT, size=36, color=RED, line=48)
    number = _para(doc, "{{ doc_number }}", align=CENTER, before=2 * LINE)
    _border(number, "bottom", 12, "FF0000", space=11)
    _para(doc, "{{ title_lines[0] }}", align=CENTER, font=TITLE_FONT, size=TITLE_SIZE, before=2 * LINE, line=36)
    _para(doc, "{{ title_lines[1] }}", align=CENTER, font=TITLE_FONT, size=TITLE_SIZE, line=36)
    _para(doc, "{{ addressee }}", before=LINE)
    _para(doc, "现将{{ period.full_label }}市政府工作报告确定事项推进情况（统计截至{{ date_label }}）通报如下：",
          indent=True)


def _body(doc) -> None:
    def heading(text: str) -> None:
        _para(doc, text, font=HEADING_FONT, indent=True).paragraph_format.keep_with_next = True

    heading("一、总体情况")
    _para(doc, "本期督查任务{{ overview.tasks_total }}项，序时进度{{ period.pace }}%。{% for r in overview.light_rows "
               "if r.count %}{{ r.name }}{{ r.count }}项{% if not loop.last %}，{% endif %}{% endfor %}；已完成"
               "{{ overview.status_rows[0].count }}项。应报送单位{{ overview.units.expected }}个，按时报送"
               "{{ overview.units.on_time }}个，迟报{{ overview.units.late }}个，未报送{{ overview.units.missing }}个，"
               "退回修改{{ overview.units.rejected }}个。{% if changes.available %}与{{ changes.previous_label }}相比，"
               "转为绿灯{{ changes.turned_green | length }}项，转为红灯{{ changes.turned_red | length }}项，新完成"
               "{{ changes.newly_completed | length }}项。{% endif %}", indent=True)
    _tag(doc, "{%p if trend %}")
    _para(doc, "本年度各季度对比如下：", indent=True)
    _table(doc, ["季度", "绿灯", "黄灯", "红灯", "按时报送单位"],
           ["{{ row.label }}", "{{ row.green }}", "{{ row.yellow }}", "{{ row.red }}",
            "{{ row.on_time }}/{{ row.expected }}（{{ row.on_time_rate }}）"], "row in trend", [30, 22, 22, 22, 50],
           size=SMALL_SIZE)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if chart_images %}")
    charts = _para(doc, "{{ chart_images.sections }} {{ chart_images.lights }}", align=CENTER)
    charts.paragraph_format.line_spacing = 1.0  # single: a fixed 28 pt line would cut the pictures
    _tag(doc, "{%p endif %}")

    heading("二、主要预期目标完成情况")
    _table(doc, ["序号", "指标", "类型", "目标", "截至本季度", "完成率", "灯"],
           ["{{ row.no }}", "{{ row.name }}", "{{ row.kind }}", "{{ row.target if row.kind != '—' else '—' }}", "{{ row.value }}",
            "{{ row.completion }}", "{{ row.light }}"], "row in headline", [9, 66, 17, 22, 18, 12, 12],
           size=SMALL_SIZE, header_repeats=True)

    heading("三、红灯任务")
    _para(doc, "红灯任务{{ red.total }}项{% if red.silent %}，其中未报送{{ red.total - red.rows | length }}项{% endif %}"
               "{% if red.rows %}{% if red.silent %}，已报送{{ red.rows | length }}项{% endif %}如下：{% else %}。{% endif %}",
          indent=True)  # one line: the unreported red tasks counted, the reported ones listed below
    _tag(doc, "{%p if red.rows %}")
    _table(doc, ["编号", "任务", "牵头单位", "存在问题"],
           ["{{ row.no }}", "{{ row.content }}", "{{ row.lead }}", "{{ row.problem }}"], "row in red.rows",
           [11, 50, 42, 53], size=SMALL_SIZE, header_repeats=True)
    _tag(doc, "{%p endif %}")

    heading("四、黄灯任务")
    _para(doc, "黄灯任务{{ yellow.total }}项{% if yellow.sections %}：{% for s in yellow.sections %}{{ s.name }}"
               "{{ s.count }}项{% if not loop.last %}，{% endif %}{% endfor %}{% endif %}。", indent=True)

    heading("五、表扬和批评")
    _lead_in(doc, "（一）表扬。", "{% if praise %}{{ praise | map(attribute='unit') | map('nobreak') | join('、') }}"
                               "（{{ praise | length }}个）。{% else %}本期没有符合表扬条件的单位。{% endif %}")
    _lead_in(doc, "（二）批评。", "{% for g in criticism_groups %}{{ g.label }}的{% if g.listed %}：{{ g.units | map('nobreak') "
                               "| join('、') }}{% else %}{{ g.units | length }}个单位见第三部分{% endif %}"
                               "{% if not loop.last %}；{% else %}。{% endif %}{% else %}本期没有需要批评的单位。{% endfor %}"
                               "{% if stationed_groups %}驻汴单位中{% for g in stationed_groups %}{{ g.label }}的："
                               "{{ g.units | map('nobreak') | join('、') }}{% if not loop.last %}；{% endif %}"
                               "{% endfor %}，请协调推进。{% endif %}")
    _tag(doc, "{%p if league %}")
    _para(doc, "考评：{% if league.deducted %}{{ league.deducted }}个单位被扣分，最低为{% for r in league.lowest %}"
               "{{ r.unit | nobreak }}{{ r.score }}分{% if not loop.last %}、{% endif %}{% endfor %}"
               "{% else %}各单位均未扣分{% endif %}（排名及扣分依据见汇总表）。", indent=True)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p if year_end is not none %}")
    _lead_in(doc, "（三）年底未完成任务的单位。", "{% if year_end %}{% for row in year_end %}{{ row.unit | nobreak }}"
                                       "（{{ row.tasks | length }}项）{% if not loop.last %}、{% endif %}{% endfor %}。"
                                       "{% else %}全部任务均已完成。{% endif %}")
    _tag(doc, "{%p endif %}")


def _closing(doc) -> None:
    """附件说明, 落款 and 成文日期, then the 版记 between its rules."""
    _tag(doc, "{%p if appendix_inline %}")
    _para(doc, "附件：{{ appendix_title }}", before=LINE, indent=True)
    _tag(doc, "{%p else %}")
    _para(doc, "附件：{{ appendix_title }}（另附）", before=LINE, indent=True)
    _tag(doc, "{%p endif %}")
    signature = _para(doc, "{{ issuer }}", align=RIGHT, before=LINE)
    signature.paragraph_format.right_indent = Pt(4 * BODY_SIZE)
    day = _para(doc, "{{ date_label }}", align=RIGHT)
    day.paragraph_format.right_indent = Pt(4 * BODY_SIZE)
    _imprint(doc)


def _rule(doc, thickness: float):
    """A black line as wide as the text block, drawn as a picture thickness mm high (see _imprint)."""
    from PIL import Image

    pixel = io.BytesIO()
    Image.new("1", (1, 1), 0).save(pixel, "PNG")
    paragraph = _para(doc, size=1, line=RULE_LINE)
    paragraph.runs[0].add_picture(pixel, width=TEXT_WIDTH, height=Mm(thickness))
    return paragraph


def _imprint(doc) -> None:
    """版记: 抄送, then 印发机关 and 印发日期, between the standard rules (first and last 0.35 mm,
    the middle 0.25 mm), in a frame at the foot of the last body page (GB/T 9704 7.4: 版记 sits at
    the bottom of the last page, wherever the 落款 ends). Paragraphs with the same frame properties
    are one frame in Word and in LibreOffice. The rules are pictures, not paragraph borders:
    LibreOffice 7.4 lays framed paragraphs with differing borders inline and merges alike ones
    into a single rule; a full-width floating table it lays inline too."""
    parts = [_rule(doc, 0.35)]
    parts.append(_para(doc, "抄送：{{ imprint.copy_to }}。", size=IMPRINT_SIZE, line=IMPRINT_LINE))
    parts.append(_rule(doc, 0.25))
    printed = _para(doc, "{{ imprint.printer }}\t{{ imprint.date }}印发", size=IMPRINT_SIZE, line=IMPRINT_LINE)
    printed.paragraph_format.tab_stops.add_tab_stop(TEXT_WIDTH - Pt(IMPRINT_SIZE), WD_TAB_ALIGNMENT.RIGHT)
    parts += [printed, _rule(doc, 0.35)]
    for paragraph in parts:
        if paragraph.text:
            paragraph.paragraph_format.first_line_indent = Pt(IMPRINT_SIZE)
        frame = OxmlElement("w:framePr")
        for key, value in (("w", str(round(TEXT_WIDTH.twips))), ("wrap", "notBeside"), ("hAnchor", "margin"),
                           ("xAlign", "center"), ("vAnchor", "margin"), ("yAlign", "bottom")):
            frame.set(qn(f"w:{key}"), value)
        ppr = paragraph._p.get_or_add_pPr()
        ppr.insert(1 if ppr.find(qn("w:pStyle")) is not None else 0, frame)


def _appendix(doc) -> None:
    """A landscape section: 附件, its title, every task in a table whose header row repeats, then the
    whole 考评排名 (the body names only the lowest scores)."""
    section = doc.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Mm(297), Mm(210)
    section.top_margin, section.bottom_margin = Mm(28), Mm(26)
    section.left_margin, section.right_margin = Mm(37), Mm(35)
    _para(doc, "附件", font=HEADING_FONT)
    _para(doc, "{{ appendix_title }}", align=CENTER, font=TITLE_FONT, size=18, line=36)
    _para(doc, "说明：{{ rules.praise }}{{ rules.criticism }}", size=TABLE_SIZE, line=TABLE_SIZE * 1.5)
    _table(doc, ["编号", "板块", "任务内容", "牵头单位", "责任领导", "综合状态", "灯", "进度", "存在问题"],
           ["{{ row.no }}", "{{ row.section }}", "{{ row.content }}", "{{ row.lead }}", "{{ row.leaders }}",
            "{{ row.status }}", "{{ row.light }}", "{{ row.progress }}", "{{ row.problem }}"],
           "row in appendix_rows", [11, 20, 58, 36, 20, 18, 12, 12, 38], size=SMALL_SIZE, header_repeats=True)
    _tag(doc, "{%p if league_rows %}")
    _para(doc, "考评排名（按本季度得分，同分同名次；名次变化与上季度比较）", align=CENTER, font=HEADING_FONT, before=LINE)
    _table(doc, ["排名组", "排名", "单位名称", "本季度得分", "年度累计得分", "名次变化"],
           ["{{ row.group }}", "{{ row.rank }}", "{{ row.unit }}", "{{ row.score }}", "{{ row.year }}", "{{ row.change }}"],
           "row in league_rows", [30, 16, 80, 30, 30, 24], size=SMALL_SIZE, header_repeats=True)
    _tag(doc, "{%p endif %}")


def build() -> bytes:
    doc = Document()
    _page_setup(doc)
    doc.core_properties.title = "{{ title }}"
    doc.core_properties.author = "{{ issuer }}"
    doc.core_properties.comments = "由 scripts/make_docx_template.py 生成的通报模板"
    doc.core_properties.created = doc.core_properties.modified = FIXED_TIME  # same script, same bytes
    doc.core_properties.last_modified_by = "ducha"
    _masthead(doc)
    _body(doc)
    _closing(doc)
    _appendix(doc)
    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue())


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BUNDLED_TEMPLATES / DOCX_TEMPLATE
    write_bytes_atomic(target, build())
    print(target)


if __name__ == "__main__":
    main()
