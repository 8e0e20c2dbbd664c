"""Build templates/briefing.docx, the Word template of the briefing (通报), with python-docx.

The template is a Word document whose text holds Jinja2 tags that docxtpl fills in
(`{{ title }}`, `{%tr for row in lagging %}` for table rows, `{%p if … %}` for paragraphs). It is
generated rather than drawn by hand so its layout is reviewable as code and reproducible; the
clerk may still open the generated file in Word or WPS and restyle it, keeping the tags intact.
Layout follows the usual government-document style (GB/T 9704): A4, 仿宋 body, 黑体 headings.

Run:  .venv/bin/python scripts/make_docx_template.py  [output path]
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.config import BUNDLED_TEMPLATES  # noqa: E402
from toolkit.fsutil import write_bytes_atomic  # noqa: E402
from toolkit.outputs.briefing.context import STATUS_ORDER  # noqa: E402
from toolkit.outputs.briefing.render import DOCX_TEMPLATE, stable_zip  # noqa: E402

BODY_FONT = "仿宋"
HEADING_FONT = "黑体"
TITLE_FONT = "宋体"
TABLE_FONT = "宋体"
RED = RGBColor(0xC6, 0x28, 0x28)
FIXED_TIME = dt.datetime(2024, 1, 1)


def _font(target, name: str, size: float, bold: bool = False, color: RGBColor | None = None) -> None:
    """Set a run's or style's font for Latin and East Asian text (Word keeps them apart)."""
    target.font.name = name
    target.font.size = Pt(size)
    target.font.bold = bold
    if color is not None:
        target.font.color.rgb = color
    target.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _para(doc, text: str, *, align=None, font: str = BODY_FONT, size: float = 16, bold: bool = False,
          color: RGBColor | None = None, indent: bool = False) -> None:
    """One paragraph with one run, so docxtpl sees each tag whole."""
    paragraph = doc.add_paragraph()
    if align is not None:
        paragraph.alignment = align
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(size * 2)
    _font(paragraph.add_run(text), font, size, bold, color)


def _tag(doc, tag: str) -> None:
    """A paragraph holding only a {%p … %} tag: docxtpl removes the paragraph, keeps the logic."""
    _para(doc, tag)


def _table(doc, headers: list[str], cells: list[str], loop: str) -> None:
    """A table: a header row, then one row per item of `loop` (`row in lagging`)."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    contents = [headers, [f"{{%tr for {loop} %}}"] + [""] * (len(headers) - 1), cells,
                ["{%tr endfor %}"] + [""] * (len(headers) - 1)]
    for row, texts in zip(table.rows, contents, strict=True):
        for cell, text in zip(row.cells, texts, strict=True):
            paragraph = cell.paragraphs[0]
            _font(paragraph.add_run(text), TABLE_FONT, 10.5, bold=row is table.rows[0])
    doc.add_paragraph()


def build() -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    _font(doc.styles["Normal"], BODY_FONT, 16)
    doc.core_properties.title = "{{ title }}"
    doc.core_properties.author = "{{ issuer }}"
    doc.core_properties.comments = "由 scripts/make_docx_template.py 生成的通报模板"
    doc.core_properties.created = doc.core_properties.modified = FIXED_TIME  # same script, same bytes
    doc.core_properties.last_modified_by = "ducha"

    center, right = WD_ALIGN_PARAGRAPH.CENTER, WD_ALIGN_PARAGRAPH.RIGHT
    _para(doc, "{{ issuer }}", align=center, font=TITLE_FONT, size=22, bold=True, color=RED)
    _para(doc, "{{ title }}", align=center, font=TITLE_FONT, size=22, bold=True)
    _para(doc, "{{ addressee }}")
    _para(doc, "{{ intro }}", indent=True)

    def heading(text: str) -> None:
        _para(doc, text, font=HEADING_FONT, indent=True)

    heading("一、总体情况")
    _para(doc, "本期纳入督查的任务共{{ overview.tasks_total }}项，{{ period.full_label }}序时进度为"
               "{{ period.pace }}%。按综合状态：{{ overview.status_text }}。按红黄绿灯：{{ overview.light_text }}。",
          indent=True)
    _para(doc, "应报送单位{{ overview.units.expected }}个，按时报送{{ overview.units.on_time }}个，迟报"
               "{{ overview.units.late }}个，未报送{{ overview.units.missing }}个，退回修改"
               "{{ overview.units.rejected }}个（截止时间{{ period.deadline_label }}）。", indent=True)
    statuses = range(len(STATUS_ORDER))
    _table(doc, ["板块", *[f"{{{{ status_names[{i}] }}}}" for i in statuses], "合计"],
           ["{{ row.name }}", *[f"{{{{ row.counts[{i}] }}}}" for i in statuses], "{{ row.total }}"],
           "row in sections")

    heading("二、主要预期目标完成情况")
    _table(doc, ["序号", "指标", "类型", "目标", "截至本季度", "完成率", "灯"],
           ["{{ row.no }}", "{{ row.name }}", "{{ row.kind }}", "{{ row.target }}", "{{ row.value }}",
            "{{ row.completion }}", "{{ row.light }}"], "row in headline")

    heading("三、进度滞后任务")
    _tag(doc, "{%p if lagging %}")
    _para(doc, "以下{{ lagging | length }}项任务未达到序时进度（红灯在前，黄灯在后），请责任领导督促牵头单位加快推进。",
          indent=True)
    _table(doc, ["编号", "灯", "任务内容", "牵头单位", "责任领导", "完成进度", "存在问题"],
           ["{{ row.no }}", "{{ row.light }}", "{{ row.content }}", "{{ row.lead }}", "{{ row.leaders }}",
            "{{ row.progress }}", "{{ row.problem }}"], "row in lagging")
    _tag(doc, "{%p else %}")
    _para(doc, "本期没有进度滞后的任务。", indent=True)
    _tag(doc, "{%p endif %}")

    heading("四、表扬和批评")
    _para(doc, "{{ rules.praise }}", indent=True)
    _para(doc, "{% if praise %}予以表扬的单位（{{ praise | length }}个）："
               "{{ praise | map(attribute='unit') | join('、') }}。{% else %}本期没有符合表扬条件的单位。{% endif %}",
          indent=True)
    _para(doc, "{{ rules.criticism }}", indent=True)
    _para(doc, "{% if criticism %}予以批评的单位（{{ criticism | length }}个）：{% else %}本期没有需要批评的单位。"
               "{% endif %}", indent=True)
    _tag(doc, "{%p for row in criticism %}")
    _para(doc, "{{ row.unit }}：{{ row.reasons }}。", indent=True)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p if criticism_stationed %}")
    _para(doc, "以下驻汴单位存在同类情况，请协调推进：", indent=True)
    _tag(doc, "{%p for row in criticism_stationed %}")
    _para(doc, "{{ row.unit }}：{{ row.reasons }}。", indent=True)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")

    heading("五、与上季度相比")
    _tag(doc, "{%p if changes.available %}")
    _para(doc, "与{{ changes.previous_label }}相比：转为绿灯{{ changes.turned_green | length }}项，转为红灯"
               "{{ changes.turned_red | length }}项，新完成{{ changes.newly_completed | length }}项。", indent=True)
    _tag(doc, "{%p for group in changes.groups if group.rows %}")
    _para(doc, "{{ group.name }}：{% for row in group.rows %}{{ row.no }}.{{ row.content }}（{{ row.lead }}）"
               "{% if not loop.last %}；{% endif %}{% endfor %}。", indent=True)
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p else %}")
    _para(doc, "{{ changes.previous_label }}没有汇总数据，本期不作比较。", indent=True)
    _tag(doc, "{%p endif %}")

    _tag(doc, "{%p if year_end is not none %}")
    heading("六、年底未完成任务的单位")
    _para(doc, "{% if year_end %}截至年底，以下{{ year_end | length }}个牵头单位仍有未完成的任务：{% else %}"
               "全部任务均已完成。{% endif %}", indent=True)
    _table(doc, ["牵头单位", "未完成任务", "项数"],
           ["{{ row.unit }}", "{% for t in row.tasks %}{{ t.no }}.{{ t.content }}（{{ t.status }}）"
            "{% if not loop.last %}；{% endif %}{% endfor %}", "{{ row.tasks | length }}"], "row in year_end")
    _tag(doc, "{%p endif %}")

    _para(doc, "")
    _para(doc, "{{ issuer }}", align=right)
    _para(doc, "{{ date_label }}", align=right)

    out = io.BytesIO()
    doc.save(out)
    return stable_zip(out.getvalue())


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else BUNDLED_TEMPLATES / DOCX_TEMPLATE
    write_bytes_atomic(target, build())
    print(target)


if __name__ == "__main__":
    main()
