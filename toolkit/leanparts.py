"""The parts of a lean receipt around its sheets (leanxlsx): package, properties, comments and their boxes.

Written as xlsxwriter writes them for the same workbook, so that a reader finds the same document
properties, defined names (print titles, the autofilter) and comment boxes where xlsxwriter puts
them (its pixel arithmetic, _position). The parts that depend only on the sheet names, their
defined names and which sheets have comments are the same from receipt to receipt: made once per
process for each such set (package_parts).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any

from xlsxwriter.utility import _preserve_whitespace
from xlsxwriter.xmlwriter import XMLwriter

from toolkit.xlsxparts import SPECIAL, column

HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
COL_PX, ROW_PX = 64, 20  # xlsxwriter's default column width and row height, in pixels
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument."
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_HIDDEN = ' hidden="1"'
_COMMENT_RUN = ('<r><rPr><sz val="8"/><color indexed="81"/><rFont val="Tahoma"/><family val="2"/></rPr>'
                '<t{space}>{text}</t></r>')
_SHAPE = ('<v:shape id="_x0000_s{id}" type="#_x0000_t202" style="position:absolute;margin-left:{left:.15g}pt;'
          'margin-top:{top:.15g}pt;width:{width:.15g}pt;height:{height:.15g}pt;z-index:{z};visibility:hidden" '
          'fillcolor="#ffffe1" o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" '
          'obscured="t"/><v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto"><div '
          'style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note"><x:MoveWithCells/>'
          '<x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill><x:Row>{row}</x:Row>'
          '<x:Column>{col}</x:Column></x:ClientData></v:shape>')

DefinedName = tuple[str, int, str, bool]  # name, sheet index, formula, hidden
Comments = Mapping[tuple[int, int], tuple[str, float, float]]  # (row, col) → text, x_scale, y_scale


def escape(text: str) -> str:
    """Element text as xlsxwriter writes it: XML specials, then its _xHHHH_ escapes."""
    if not SPECIAL.search(text):
        return text
    return XMLwriter._escape_control_characters(text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


def _attribute(text: str) -> str:
    return escape(text).replace('"', "&quot;").replace("\n", "&#xA;")


def rels(targets: list[tuple[str, str]]) -> str:
    return (f'{HEAD}<Relationships xmlns="{_PKG_REL}">'
            + "".join(f'<Relationship Id="rId{i}" Type="{REL}/{kind}" Target="{target}"/>'
                      for i, (kind, target) in enumerate(targets, start=1)) + "</Relationships>")


_ROOT_RELS = (f'{HEAD}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
              'Target="xl/workbook.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
              'relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" '
              f'Type="{REL}/extended-properties" Target="docProps/app.xml"/><Relationship Id="rId4" '
              f'Type="{REL}/custom-properties" Target="docProps/custom.xml"/></Relationships>')


@functools.lru_cache(maxsize=256)
def package_parts(sheets: tuple[str, ...], names: tuple[DefinedName, ...], comments: int,
                  company: str) -> tuple[tuple[str, bytes], ...]:
    """[Content_Types].xml, the rels, app.xml and workbook.xml of a workbook of these sheets, defined
    names (in xlsxwriter's order) and number of sheets with comments."""
    overrides = [("/docProps/app.xml", _CT + "extended-properties+xml"),
                 ("/docProps/core.xml", "application/vnd.openxmlformats-package.core-properties+xml"),
                 ("/xl/styles.xml", _CT + "spreadsheetml.styles+xml"), ("/xl/theme/theme1.xml", _CT + "theme+xml"),
                 ("/xl/workbook.xml", _CT + "spreadsheetml.sheet.main+xml"),
                 *((f"/xl/worksheets/sheet{i}.xml", _CT + "spreadsheetml.worksheet+xml")
                   for i in range(1, len(sheets) + 1)),
                 *((f"/xl/comments{i}.xml", _CT + "spreadsheetml.comments+xml") for i in range(1, comments + 1)),
                 ("/xl/sharedStrings.xml", _CT + "spreadsheetml.sharedStrings+xml"),
                 ("/docProps/custom.xml", _CT + "custom-properties+xml")]
    vml = f'<Default Extension="vml" ContentType="{_CT}vmlDrawing"/>' if comments else ""
    types = (f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             f'<Default Extension="xml" ContentType="application/xml"/>{vml}'
             + "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides) + "</Types>")
    listed = "".join(f'<sheet name="{_attribute(name)}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, name in enumerate(sheets, start=1))
    defined = "".join(f'<definedName name="{name}" localSheetId="{index}"{_HIDDEN if hidden else ""}>'
                      f"{escape(formula)}</definedName>" for name, index, formula, hidden in names)
    workbook = (f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{REL}"><fileVersion appName="xl" lastEdited="4" '
                'lowestEdited="4" rupBuild="4505"/><workbookPr defaultThemeVersion="124226"/><bookViews><workbookView '
                f'xWindow="240" yWindow="15" windowWidth="16095" windowHeight="9660"/></bookViews><sheets>{listed}</sheets>'
                + (f"<definedNames>{defined}</definedNames>" if defined else "")
                + '<calcPr calcId="124519" fullCalcOnLoad="1"/></workbook>')
    workbook_rels = rels([*(("worksheet", f"worksheets/sheet{i}.xml") for i in range(1, len(sheets) + 1)),
                          ("theme", "theme/theme1.xml"), ("styles", "styles.xml"), ("sharedStrings", "sharedStrings.xml")])
    parts = {"[Content_Types].xml": types, "_rels/.rels": _ROOT_RELS, "docProps/app.xml": _app(sheets, names, company),
             "xl/workbook.xml": workbook, "xl/_rels/workbook.xml.rels": workbook_rels}
    return tuple((name, xml.encode("utf-8")) for name, xml in parts.items())


def _app(sheets: tuple[str, ...], names: tuple[DefinedName, ...], company: str) -> str:
    titles = [*sheets, *(f"{formula.split('!')[0]}!Print_Titles" for name, _, formula, _ in names
                         if name == "_xlnm.Print_Titles")]
    pairs = [("Worksheets", len(sheets))] + ([("Named Ranges", len(titles) - len(sheets))]
                                             if len(titles) > len(sheets) else [])
    return (f'{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
            f'xmlns:vt="{_VT}"><Application>Microsoft Excel</Application><DocSecurity>0</DocSecurity>'
            f'<ScaleCrop>false</ScaleCrop><HeadingPairs><vt:vector size="{2 * len(pairs)}" baseType="variant">'
            + "".join(f"<vt:variant><vt:lpstr>{kind}</vt:lpstr></vt:variant><vt:variant><vt:i4>{count}</vt:i4>"
                      "</vt:variant>" for kind, count in pairs)
            + f'</vt:vector></HeadingPairs><TitlesOfParts><vt:vector size="{len(titles)}" baseType="lpstr">'
            + "".join(f"<vt:lpstr>{escape(title)}</vt:lpstr>" for title in titles)
            + f"</vt:vector></TitlesOfParts><Company>{escape(company)}</Company>"
            "<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false"
            "</HyperlinksChanged><AppVersion>12.0000</AppVersion></Properties>")


def core(properties: Mapping[str, Any]) -> str:
    """docProps/core.xml: title, author, and the created time as the modified time too."""
    created: dt.datetime = properties["created"]
    stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    author = escape(properties.get("author", ""))
    return (f'{HEAD}<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
            'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f"<dc:title>{escape(properties.get('title', ''))}</dc:title><dc:creator>{author}</dc:creator>"
            f'<cp:lastModifiedBy>{author}</cp:lastModifiedBy><dcterms:created xsi:type="dcterms:W3CDTF">{stamp}'
            f'</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
            "</cp:coreProperties>")


def custom(properties: list[tuple[str, str]]) -> str:
    """docProps/custom.xml: text properties, such as the fingerprint publish reads back."""
    return (f'{HEAD}<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            f'xmlns:vt="{_VT}">'
            + "".join(f'<property fmtid="{{D5CDD505-2E9C-101B-9397-08002B2CF9AE}}" pid="{pid}" '
                      f'name="{_attribute(name)}"><vt:lpwstr>{escape(value)}</vt:lpwstr></property>'
                      for pid, (name, value) in enumerate(properties, start=2)) + "</Properties>")


def comments_xml(comments: Comments) -> str:
    listed = []
    for (row, col), (text, _, _) in sorted(comments.items()):
        space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
        listed.append(f'<comment ref="{column(col)}{row + 1}" authorId="0"><text>'
                      + _COMMENT_RUN.format(space=space, text=escape(text)) + "</text></comment>")
    return (f'{HEAD}<comments xmlns="{MAIN}"><authors><author></author></authors><commentList>'
            + "".join(listed) + "</commentList></comments>")


def vml(comments: Comments, widths: Mapping[int, int], heights: Mapping[int, int], data_id: str,
        shape_id: int) -> str:
    """The boxes the comments open in, placed as xlsxwriter places them: right of and just above
    the cell, 128×74 pixels scaled, over columns and rows of these widths and heights (pixels)."""
    shapes = []
    for z, ((row, col), (_, x_scale, y_scale)) in enumerate(sorted(comments.items()), start=1):
        width, height = int(0.5 + 128 * x_scale), int(0.5 + 74 * y_scale)
        (col_start, row_start, x1, y1, col_end, row_end, x2, y2,
         x_abs, y_abs) = _position(widths, heights, col + 1, max(row - 1, 0), 15, 2 if row == 0 else 10, width, height)
        anchor = ", ".join(map(str, (col_start, x1, row_start, y1, col_end, x2, row_end, y2)))
        shapes.append(_SHAPE.format(id=shape_id + z, left=x_abs * 0.75, top=y_abs * 0.75, width=width * 0.75,
                                    height=height * 0.75, z=z, anchor=anchor, row=row, col=col))
    return ('<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
            'xmlns:x="urn:schemas-microsoft-com:office:excel"><o:shapelayout v:ext="edit"><o:idmap '
            f'v:ext="edit" data="{data_id}"/></o:shapelayout><v:shapetype id="_x0000_t202" coordsize="21600,21600" '
            'o:spt="202" path="m,l,21600r21600,l21600,xe"><v:stroke joinstyle="miter"/><v:path '
            'gradientshapeok="t" o:connecttype="rect"/></v:shapetype>' + "".join(shapes) + "</xml>")


def _position(widths: Mapping[int, int], heights: Mapping[int, int], col: int, row: int, x1: int, y1: int,
              width: int, height: int) -> tuple[int, ...]:
    """xlsxwriter's _position_object_pixels for a comment box: its anchor cells and offsets."""
    def col_px(c: int) -> int:
        return widths.get(c, COL_PX)

    def row_px(r: int) -> int:
        return heights.get(r, ROW_PX)

    x_abs = sum(map(col_px, range(col))) + x1
    y_abs = sum(map(row_px, range(row))) + y1
    col, x1 = _advance(col_px, col, x1)
    row, y1 = _advance(row_px, row, y1)
    width += x1 if col_px(col) > 0 else 0
    height += y1 if row_px(row) > 0 else 0
    col_end, width = _advance(col_px, col, width)
    row_end, height = _advance(row_px, row, height)
    return col, row, x1, y1, col_end, row_end, width, height, x_abs, y_abs


def _advance(size: Callable[[int], int], index: int, offset: int) -> tuple[int, int]:
    """The cell (column or row) an offset in pixels from the start of cell `index` falls in, and
    the offset within it."""
    while offset >= size(index):
        offset -= size(index)
        index += 1
    return index, offset
