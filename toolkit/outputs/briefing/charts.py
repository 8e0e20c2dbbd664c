"""The briefing's charts as inline SVG text: status by 板块 (stacked bars) and the traffic lights.

SVG built by hand keeps the briefing one self-contained file with no plotting dependency, prints
sharply at any size, and lets the viewer's own CJK font draw the Chinese labels; the font stack
names the fonts an office PC or the CI image actually has, so no glyph falls back to a box.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

# First the font CI installs (fonts-noto-cjk), then what Windows / WPS machines carry.
FONT_FAMILY = (
    "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', '微软雅黑', "
    "'PingFang SC', 'SimHei', 'WenQuanYi Micro Hei', sans-serif"
)

WIDTH = 680
LABEL_WIDTH = 190
ROW_HEIGHT = 26
BAR_HEIGHT = 18
TOP = 34  # room for the legend
FONT_SIZE = 12


@dataclass(frozen=True)
class Series:
    name: str  # legend text, e.g. 已完成
    color: str  # fill, e.g. #2e7d32


def _text(x: float, y: float, text: str, anchor: str = "start", fill: str = "#222", size: int = FONT_SIZE) -> str:
    return (
        f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(text)}</text>"
    )


def _short(label: str, limit: int = 14) -> str:
    """Section names are long sentences; the chart shows the part before the first comma."""
    head = label.split("，", 1)[0]
    return head if len(head) <= limit else head[: limit - 1] + "…"


def _svg(height: float, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {WIDTH} {height:g}" '
        f'width="{WIDTH}" height="{height:g}" font-family="{FONT_FAMILY}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], LABEL_WIDTH
    for s in series:
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" fill="{s.color}"/>')
        parts.append(_text(x + 16, 18, s.name))
        x += 24 + FONT_SIZE * len(s.name)
    return parts


def stacked_bars(
    title: str, rows: Sequence[tuple[str, Sequence[int]]], series: Sequence[Series], legend: bool = True
) -> Markup:
    """One horizontal bar per row (label, counts per series), segments scaled to the largest total,
    each segment labelled with its count when there is room for the digits."""
    scale_max = max([sum(counts) for _, counts in rows] + [1])
    plot = WIDTH - LABEL_WIDTH - 40
    body = _legend(series) if legend else []
    top = TOP if legend else 6
    for i, (label, counts) in enumerate(rows):
        y = top + i * ROW_HEIGHT
        body.append(f"<g><title>{escape(label)}</title>")
        body.append(_text(LABEL_WIDTH - 8, y + 13, _short(label), anchor="end"))
        body.append("</g>")
        x = float(LABEL_WIDTH)
        for s, count in zip(series, counts, strict=True):
            if not count:
                continue
            w = plot * count / scale_max
            body.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_HEIGHT}" fill="{s.color}">'
                f"<title>{escape(f'{label} {s.name} {count}')}</title></rect>"
            )
            if w >= 8 * len(str(count)) + 4:
                body.append(_text(x + w / 2, y + 13, str(count), anchor="middle", fill="#fff"))
            x += w
        body.append(_text(x + 6, y + 13, str(sum(counts))))
    return _svg(top + len(rows) * ROW_HEIGHT + 6, title, body)


def bars(title: str, items: Sequence[tuple[Series, int]]) -> Markup:
    """One bar per item in its own colour, e.g. 绿灯 / 黄灯 / 红灯 with their counts."""
    return stacked_bars(
        title,
        [(s.name, [count if j == i else 0 for j in range(len(items))]) for i, (s, count) in enumerate(items)],
        [s for s, _ in items],
        legend=False,
    )
