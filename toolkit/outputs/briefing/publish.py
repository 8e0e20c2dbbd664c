"""`ducha briefing` end to end: load the quarter and the one before it under the workspace lock,
build the context, give it its 发文字号 from the store, and write every format into
reports/<period>/. The PDF is the Word file printed by LibreOffice (what the office signs and
prints); LibreOffice is looked up before anything is written, so a failed --pdf leaves no half set
of files behind.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit import office
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.fsutil import workspace_lock, write_bytes_atomic, write_text_atomic
from toolkit.outputs.briefing import chart_images
from toolkit.outputs.briefing.context import briefing_context, date_label
from toolkit.outputs.briefing.leaders import DIGEST_STEM, digest_docx, leader_digests
from toolkit.outputs.briefing.render import (
    render_docx,
    render_html,
    render_markdown,
    split_appendix,
    template_dirs,
)
from toolkit.outputs.briefing.settings import BriefingSettings, briefing_settings, issuer_name
from toolkit.outputs.briefing.trend import trend_rows
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.docnumbers import allocate_doc_number, doc_number_text
from toolkit.quarter.frames import MergedQuarter
from toolkit.quarter.store import open_store

OUTPUT_STEM = "通报"
APPENDIX_STEM = "通报附件"
BRIEFING_KIND = "briefing"
SERIF_FONTS = ("方正小标宋简体", "仿宋_GB2312", "仿宋", "楷体_GB2312", "楷体", "宋体")
SANS_FONTS = ("黑体",)


@dataclass(frozen=True)
class Briefing:
    """What `ducha briefing` made: its files, the 发文字号 it was given and what the clerk should
    know about them (e.g. NO_CJK_FONT: the Word file has no charts)."""

    outputs: list[Path]
    doc_number: str
    warnings: list[str]


def font_fallbacks(settings: BriefingSettings) -> dict[str, str]:
    """The GB/T 9704 fonts the Word file names → the installed font that prints each one where it
    is missing (a Linux server has no 仿宋_GB2312; Noto Serif CJK looks like it, Noto Sans like 黑体)."""
    return {name: settings.serif_font for name in SERIF_FONTS} | {name: settings.sans_font for name in SANS_FONTS}


def _print_pdf(docx_path: Path, settings: BriefingSettings) -> Path:
    """The Word file printed by LibreOffice, as an office prints it, written atomically beside it."""
    with tempfile.TemporaryDirectory(prefix="ducha-pdf-") as folder:
        made = office.convert(docx_path, "pdf", Path(folder), fonts=font_fallbacks(settings))
        return write_bytes_atomic(docx_path.with_suffix(".pdf"), made.read_bytes())


def write_briefing(context: dict[str, Any], config: Config, period: Period, pdf: bool = False) -> list[Path]:
    """Write 通报.html / .md / .docx (通报附件.docx when [briefing] appendix = "separate"; and the
    PDF of each Word file) into reports/<period>/, each atomically."""
    settings = briefing_settings(config)
    dirs = template_dirs(config, settings)
    if pdf:
        office.find_office()  # fail before writing anything
    folder = config.paths.reports / period.key
    word = render_docx(context, dirs, chart_images.chart_pictures(context, settings))
    words = [(OUTPUT_STEM, word)] if settings.appendix == "after" else list(
        zip((OUTPUT_STEM, APPENDIX_STEM), split_appendix(word), strict=True))
    outputs = [
        write_text_atomic(folder / f"{OUTPUT_STEM}.html", render_html(context, dirs)),
        write_text_atomic(folder / f"{OUTPUT_STEM}.md", render_markdown(context, dirs)),
        *(write_bytes_atomic(folder / f"{stem}.docx", data) for stem, data in words),
    ]
    if pdf:
        outputs += [_print_pdf(folder / f"{stem}.docx", settings) for stem, _ in words]
    return outputs


def _as_date(config: Config, now: dt.datetime | dt.date | None) -> dt.date:
    """The briefing's day on the bureau's clock (default: today there)."""
    if now is None or isinstance(now, dt.datetime):
        return config.bureau.local(now).date()
    return now


def write_digests(merged: MergedQuarter, config: Config, period: Period, pdf: bool = False) -> list[Path]:
    """领导摘要.docx (and its PDF): one page per 责任领导, beside the 通报."""
    settings = briefing_settings(config)
    data = digest_docx(leader_digests(merged), period, issuer_name(config, settings), date_label(merged.as_of))
    target = write_bytes_atomic(config.paths.reports / period.key / f"{DIGEST_STEM}.docx", data)
    return [target, _print_pdf(target, settings)] if pdf else [target]


def render_briefing(
    config: Config, period: Period, pdf: bool = False, now: dt.datetime | dt.date | None = None,
    leaders: bool = False,
) -> Briefing:
    """`ducha briefing`: load this quarter and the previous one from the ledger and the store as of
    `now` (default today; pass it for a reproducible document) and write the briefing files
    (leaders: also the one-page digests per 责任领导)."""
    as_of = _as_date(config, now)
    with workspace_lock(config.paths.lock):
        merged = load_merged(config, period, as_of)
        if not merged.files:
            raise DuchaError(f"{period.full_label}（{period.key}）还没有任何收件记录：请先运行 ducha merge --period {period.key}")
        previous = load_merged(config, period.previous(config.deadlines), as_of)
        context = briefing_context(merged, previous if previous.files else None, config, period)
        context["trend"] = trend_rows(config, merged, as_of)
        with open_store(config.paths.store) as store:
            year, number = allocate_doc_number(store, BRIEFING_KIND, period.key, as_of.year)
        context["doc_number"] = doc_number_text(briefing_settings(config).doc_prefix, year, number)
        warnings = [] if chart_images.find_font_file(briefing_settings(config)) else [chart_images.NO_CJK_FONT]
        outputs = write_briefing(context, config, period, pdf)
        if leaders:
            outputs += write_digests(merged, config, period, pdf)
        return Briefing(outputs, context["doc_number"], warnings)

