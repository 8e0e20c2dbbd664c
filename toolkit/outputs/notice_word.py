"""One 提示单 / 督办单 / 通报 as a Word page: a colour band a unit's office sees at a glance (blue,
yellow, red: how serious it has become), the number, the cause, what to do and by when.

Written with python-docx rather than a template because the page is short and fixed; its fonts
are those of the 通报 (GB/T 9704: 小标宋 title, 仿宋 body), so LibreOffice prints it with the same
font fallbacks (briefing.publish.font_fallbacks).
"""

from __future__ import annotations

import datetime as dt
import io

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from toolkit.period import Period
from toolkit.quarter.notices import BLUE, RED, YELLOW, Notice, NoticeSettings, day_text

# The band's fill and its text colour (white on blue and red, black on yellow, for contrast).
BAND_COLOURS = {BLUE: ("1F5FBF", "FFFFFF"), YELLOW: ("F2C200", "000000"), RED: ("C00000", "FFFFFF")}
TITLES = {BLUE: "督查提示单", YELLOW: "督查督办单", RED: "督查通报"}
VERDICTS = {BLUE: "现予提示。", YELLOW: "现予督办。", RED: "现予通报，并将约谈你单位主要负责人。"}
TITLE_FONT, BODY_FONT, BOLD_FONT = "方正小标宋简体", "仿宋_GB2312", "黑体"


def _run(paragraph: Paragraph, text: str, font: str = BODY_FONT, size: float = 16, colour: str = "",
         bold: bool = False) -> None:
    run = paragraph.add_run(text)
    run.font.name, run.font.size, run.font.bold = font, Pt(size), bold
    run.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), font)
    if colour:
        run.font.color.rgb = RGBColor.from_string(colour)


def _paragraph(doc: Document, text: str = "", align: int | None = None, indent: bool = True, **style: object
               ) -> Paragraph:
    paragraph = doc.add_paragraph()
    paragraph.paragraph_format.line_spacing = Pt(28)
    paragraph.paragraph_format.space_after = Pt(0)
    if indent:
        paragraph.paragraph_format.first_line_indent = Pt(32)
    if align is not None:
        paragraph.alignment = align
    if text:
        _run(paragraph, text, **style)
    return paragraph


def _band(doc: Document, level: int, issuer: str) -> None:
    """The colour band: a full-width one-cell table filled with the level's colour."""
    fill, ink = BAND_COLOURS[level]
    table = doc.add_table(rows=1, cols=1)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    cell = table.cell(0, 0)
    cell.width = Mm(156)
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)
    first = cell.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(first, issuer, TITLE_FONT, 16, ink)
    title = cell.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _run(title, TITLES[level], TITLE_FONT, 26, ink)


def notice_docx(notice: Notice, earlier: Notice | None, settings: NoticeSettings, period: Period, issuer: str
                ) -> bytes:
    """The notice's Word file; earlier: the notice of the level before that it escalates."""
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    stamp = dt.datetime.combine(notice.issued, dt.time(9))
    doc.core_properties.created = doc.core_properties.modified = stamp  # the check's day, not the run's
    doc.core_properties.title = f"{TITLES[notice.level]} {notice.number_text(settings)}"
    _band(doc, notice.level, issuer)
    _paragraph(doc, notice.number_text(settings), WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, f"{notice.unit}：", indent=False)
    _paragraph(doc, f"经{period.full_label}督查检查（{day_text(notice.issued)}），你单位{notice.cause}。")
    if earlier is not None:
        _paragraph(doc, f"本局已于{day_text(earlier.issued)}发出{TITLES[earlier.level]}"
                        f"（{earlier.number_text(settings)}），要求你单位于{day_text(earlier.due)}前整改，"
                        "逾期仍未整改到位。")
    _paragraph(doc, VERDICTS[notice.level])
    _paragraph(doc, f"请你单位{notice.todo}，并于{day_text(notice.due)}前将整改情况书面报送本局。")
    deadline = _paragraph(doc)
    _run(deadline, "整改期限：", BOLD_FONT)
    _run(deadline, day_text(notice.due))
    _paragraph(doc)
    _paragraph(doc, issuer, WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    _paragraph(doc, day_text(notice.issued), WD_ALIGN_PARAGRAPH.RIGHT, indent=False)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
