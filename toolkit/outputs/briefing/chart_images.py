"""The briefing's two charts as PNG pictures for the Word 通报, drawn with Pillow.

Word and the LibreOffice that prints it cannot show the HTML's inline SVG, and a leader reads the
Word file, so the same two charts (status by 板块, the traffic lights) are drawn again as pictures
sized for the 156 mm text block: side by side, 46 mm high, so the body stays within three
pages. Chinese labels need a CJK font file; it is looked up on the machine (the [briefing]
chart_font file, else the installed sans_font through fontconfig, else 微软雅黑 / 黑体 on Windows).
Without one the Word file goes out without the charts and the clerk is told why, rather than
printing boxes where the characters should be.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from toolkit.outputs.briefing.settings import BriefingSettings

DPI = 200
SECTIONS_WIDTH_MM = 94  # with the lights chart beside it: 138 mm, what LibreOffice fits on one 156 mm line
LIGHTS_WIDTH_MM = 44
WIDTHS_MM = {"sections": SECTIONS_WIDTH_MM, "lights": LIGHTS_WIDTH_MM}  # as placed in the Word file
HEIGHT_MM = 46
FONT_MM = 2.4  # about 7.5 pt: small print under a picture, as in a printed report
WINDOWS_FONTS = ("msyh.ttc", "msyh.ttf", "simhei.ttf", "simsun.ttc")
NO_CJK_FONT = ("未找到中文字体文件，Word 版通报不含两幅图表（HTML 版照常有图）：请安装中文字体"
               "（Debian/Ubuntu：apt install fonts-noto-cjk），或在 ducha.toml [briefing] chart_font 中填写字体文件路径")


def _px(mm: float) -> int:
    return round(mm * DPI / 25.4)


def _fontconfig_files(family: str) -> list[Path]:
    """CJK font files fontconfig knows, the named family's regular face first."""
    tool = shutil.which("fc-list")
    if tool is None:
        return []
    done = subprocess.run([tool, "-f", "%{file}\t%{family}\t%{style}\n", ":lang=zh"], capture_output=True,
                          text=True, timeout=60, check=False)
    rows = [line.split("\t") for line in done.stdout.splitlines() if line.count("\t") == 2]

    def rank(row: list[str]) -> tuple[bool, bool, str]:
        return family not in row[1].split(","), "Regular" not in row[2], row[0]

    return [Path(row[0]) for row in sorted(rows, key=rank)]


def find_font_file(settings: BriefingSettings) -> Path | None:
    """The font file the charts are drawn with, or None when the machine has no CJK font."""
    if settings.chart_font:
        chosen = Path(settings.chart_font)
        return chosen if chosen.is_file() else None
    windows = Path(os.environ.get("WINDIR", r"C:\Windows")) / "Fonts"
    candidates = _fontconfig_files(settings.sans_font) + [windows / name for name in WINDOWS_FONTS]
    return next((path for path in candidates if path.is_file()), None)


def _font(path: Path, family: str, size: int) -> Any:
    """The face of a font collection (.ttc) whose family is the wanted one (Noto's SC, not its JP
    face), else the collection's first face."""
    from PIL import ImageFont

    first = ImageFont.truetype(str(path), size, index=0)
    for index in range(1, 20):
        if first.getname()[0] == family:
            break
        try:
            face = ImageFont.truetype(str(path), size, index=index)
        except OSError:
            break
        if face.getname()[0] == family:
            return face
    return first


class _Canvas:
    """A white picture of the given size in mm with text in one CJK font."""

    def __init__(self, width_mm: float, font_file: Path, family: str) -> None:
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", (_px(width_mm), _px(HEIGHT_MM)), "white")
        self.draw = ImageDraw.Draw(self.image)
        self.font = _font(font_file, family, _px(FONT_MM))
        self.title_font = _font(font_file, family, _px(FONT_MM * 1.25))

    def text(self, xy: tuple[float, float], text: str, anchor: str = "lm", fill: str = "#222",
             title: bool = False) -> None:
        self.draw.text(xy, text, fill=fill, font=self.title_font if title else self.font, anchor=anchor)

    def width(self, text: str) -> float:
        return self.draw.textlength(text, font=self.font)

    def png(self) -> bytes:
        out = io.BytesIO()
        self.image.save(out, "PNG", dpi=(DPI, DPI), optimize=True)
        return out.getvalue()


def sections_png(rows: Sequence[tuple[str, Sequence[int]]], series: Sequence[tuple[str, str]], font_file: Path,
                 family: str, title: str) -> bytes:
    """One horizontal stacked bar per 板块 (short label, counts per series (name, colour)), the
    legend above in rows that fit, each segment with its count where the digits fit."""
    canvas = _Canvas(SECTIONS_WIDTH_MM, font_file, family)
    width, line = canvas.image.width, _px(FONT_MM * 1.6)
    canvas.text((width / 2, line / 2), title, anchor="mm", title=True)
    x, y = 0.0, line * 1.6
    for name, colour in series:
        step = _px(3.5) + canvas.width(name) + _px(3)
        if x + step > width:
            x, y = 0.0, y + line
        canvas.draw.rectangle((x, y - _px(1.2), x + _px(2.4), y + _px(1.2)), fill=colour)
        canvas.text((x + _px(3.2), y), name)
        x += step
    label_width = max(canvas.width(label) for label, _ in rows) + _px(2)
    top, plot = y + line, width - label_width - _px(7)
    pitch = (canvas.image.height - top) / max(len(rows), 1)
    scale = plot / max([sum(counts) for _, counts in rows] + [1])
    for i, (label, counts) in enumerate(rows):
        middle = top + pitch * (i + 0.5)
        canvas.text((label_width - _px(1), middle), label, anchor="rm")
        left = label_width
        for (_, colour), count in zip(series, counts, strict=True):
            if count:
                canvas.draw.rectangle((left, middle - pitch * 0.36, left + count * scale, middle + pitch * 0.36),
                                      fill=colour)
                if count * scale >= canvas.width(str(count)) + _px(0.6):
                    canvas.text((left + count * scale / 2, middle), str(count), anchor="mm", fill="white")
                left += count * scale
        canvas.text((left + _px(1), middle), str(sum(counts)))
    return canvas.png()


def lights_png(items: Sequence[tuple[str, str, int]], font_file: Path, family: str, title: str) -> bytes:
    """One upright bar per light (name, colour, count) with its count above and its name below."""
    canvas = _Canvas(LIGHTS_WIDTH_MM, font_file, family)
    width, height, line = canvas.image.width, canvas.image.height, _px(FONT_MM * 1.6)
    canvas.text((width / 2, line / 2), title, anchor="mm", title=True)
    top, bottom = line * 2.2, height - line
    scale = (bottom - top) / max([count for _, _, count in items] + [1])
    pitch = width / max(len(items), 1)
    for i, (name, colour, count) in enumerate(items):
        middle = pitch * (i + 0.5)
        if count:
            canvas.draw.rectangle((middle - pitch * 0.3, bottom - count * scale, middle + pitch * 0.3, bottom),
                                  fill=colour)
        canvas.text((middle, bottom - count * scale - line / 2), str(count), anchor="mm")
        canvas.text((middle, bottom + line / 2), name, anchor="mm")
    canvas.draw.line((0, bottom, width, bottom), fill="#666", width=2)
    return canvas.png()


def chart_pictures(context: dict[str, Any], settings: BriefingSettings) -> dict[str, bytes] | None:
    """{"sections": PNG, "lights": PNG} from the figures the HTML charts show, or None when the
    machine has no CJK font to draw them with (publish tells the clerk, NO_CJK_FONT)."""
    from toolkit.outputs.briefing.context import LIGHT_COLORS, STATUS_COLORS
    from toolkit.outputs.briefing.official import section_name

    font_file = find_font_file(settings)
    if font_file is None:
        return None
    family = settings.sans_font
    series = [(name, STATUS_COLORS[name]) for name in context["status_names"]]
    rows = [(section_name(r["name"]), r["counts"]) for r in context["sections"]]
    lights = [(r["name"], LIGHT_COLORS[r["name"]], r["count"]) for r in context["overview"]["light_rows"]]
    return {"sections": sections_png(rows, series, font_file, family, "图1 各板块任务综合状态"),
            "lights": lights_png(lights, font_file, family, "图2 任务红黄绿灯")}
