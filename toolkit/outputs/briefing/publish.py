"""`ducha briefing` end to end: load the quarter and the one before it under the workspace lock,
build the context, and write every format into reports/<period>/. The browser is looked up
before anything is written, so a failed --pdf leaves no half set of files behind.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.fsutil import workspace_lock, write_bytes_atomic, write_text_atomic
from toolkit.outputs.briefing.context import briefing_context
from toolkit.outputs.briefing.pdf import find_browser, print_pdf
from toolkit.outputs.briefing.render import render_docx, render_html, render_markdown, template_dirs
from toolkit.outputs.briefing.settings import briefing_settings
from toolkit.period import Period
from toolkit.quarter.collect import load_merged

OUTPUT_STEM = "通报"


def write_briefing(context: dict[str, Any], config: Config, period: Period, pdf: bool = False) -> list[Path]:
    """Write 通报.html / .md / .docx (and .pdf) into reports/<period>/, each atomically."""
    settings = briefing_settings(config)
    dirs = template_dirs(config, settings)
    browser = find_browser(settings) if pdf else ""  # fail before writing anything
    folder = config.paths.reports / period.key
    html = write_text_atomic(folder / f"{OUTPUT_STEM}.html", render_html(context, dirs))
    outputs = [
        html,
        write_text_atomic(folder / f"{OUTPUT_STEM}.md", render_markdown(context, dirs)),
        write_bytes_atomic(folder / f"{OUTPUT_STEM}.docx", render_docx(context, dirs)),
    ]
    if pdf:
        outputs.append(print_pdf(html, folder / f"{OUTPUT_STEM}.pdf", browser))
    return outputs


def _as_date(config: Config, now: dt.datetime | dt.date | None) -> dt.date:
    """The briefing's day on the bureau's clock (default: today there)."""
    if now is None or isinstance(now, dt.datetime):
        return config.bureau.local(now).date()
    return now


def render_briefing(
    config: Config, period: Period, pdf: bool = False, now: dt.datetime | dt.date | None = None
) -> list[Path]:
    """`ducha briefing`: load this quarter and the previous one from the ledger and the store as of
    `now` (default today; pass it for a reproducible document) and write the briefing files."""
    as_of = _as_date(config, now)
    with workspace_lock(config.paths.lock):
        merged = load_merged(config, period, as_of)
        if not merged.files:
            raise DuchaError(f"{period.full_label}（{period.key}）还没有任何收件记录：请先运行 ducha merge --period {period.key}")
        previous = load_merged(config, period.previous(config.deadlines), as_of)
        context = briefing_context(merged, previous if previous.files else None, config, period)
        return write_briefing(context, config, period, pdf)

