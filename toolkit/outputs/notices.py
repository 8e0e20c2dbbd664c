"""`ducha notices`: one check of a quarter, then every notice as Word (and PDF), and the 约谈名单.

The store decides what is issued (quarter/notices.py); this module only draws it. Files are
written after the check's transaction, for every notice of the period whose Word file is not there
yet, so a run killed between the two writes the missing files next time, and a rerun rewrites
nothing the clerk may already have printed and stamped.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import office
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.fastxlsx import Book
from toolkit.fsutil import workspace_lock, write_bytes_atomic
from toolkit.model import Ledger
from toolkit.outputs.briefing.publish import font_fallbacks
from toolkit.outputs.briefing.settings import briefing_settings, issuer_name
from toolkit.outputs.notice_word import TITLES, notice_docx
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.notices import (
    RED,
    Notice,
    NoticeSettings,
    check,
    day_text,
    earlier_notice,
    notice_settings,
    notices_of,
)
from toolkit.quarter.store import open_store
from toolkit.xlsx import row_height, write_value

NOTICE_DIR = "督办通知"  # reports/<period>/督办通知/
TALKS_NAME = "约谈名单.xlsx"
TALK_COLUMNS = (("序号", 6), ("单位", 18), ("约谈对象", 16), ("分管市领导", 14), ("事由", 50), ("通报文号", 20),
                ("通报日期", 14), ("整改期限", 14), ("联系人", 10), ("联系电话", 14))


@dataclass
class NoticeRun:
    """What `ducha notices` did: the notices this check issued, the files written, and why no PDF
    was printed when one was asked for (LibreOffice not installed)."""

    period: str
    day: dt.date
    issued: list[Notice]
    numbers: list[str]
    outputs: list[Path] = field(default_factory=list)
    no_pdf: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "day": self.day.isoformat(),
            "issued": [{"unit": n.unit, "kind": n.kind, "subject": n.subject, "level": n.level,
                        "title": TITLES[n.level], "number": number, "due": n.due.isoformat(), "cause": n.cause}
                       for n, number in zip(self.issued, self.numbers, strict=True)],
            "outputs": [str(p) for p in self.outputs],
            "no_pdf": self.no_pdf,
        }


def notice_path(config: Config, notice: Notice, settings: NoticeSettings) -> Path:
    """reports/2024Q1/督办通知/督查提示〔2024〕1号_顺河区.docx"""
    return config.paths.reports / notice.period / NOTICE_DIR / f"{notice.number_text(settings)}_{notice.unit}.docx"


def _print_pdf(docx: Path, config: Config) -> Path:
    with tempfile.TemporaryDirectory(prefix="ducha-pdf-") as folder:
        made = office.convert(docx, "pdf", Path(folder), fonts=font_fallbacks(briefing_settings(config)))
        return write_bytes_atomic(docx.with_suffix(".pdf"), made.read_bytes())


def talks_bytes(notices: list[Notice], settings: NoticeSettings, ledger: Ledger) -> bytes:
    """约谈名单: one row per 通报, the unit's principal to be talked to, why, and who to call."""
    buffer = io.BytesIO()
    with Book(buffer, {"in_memory": True}) as book:  # strings stay text (fastxlsx.InertSheet)
        book.set_properties({"title": "约谈名单", "created": dt.datetime(2000, 1, 1)})
        head = book.add_format({"bold": True, "border": 1, "align": "center", "valign": "vcenter", "bg_color": "#F2F2F2"})
        cell = book.add_format({"border": 1, "text_wrap": True, "valign": "top"})
        sheet = book.add_worksheet("约谈名单")
        for col, (name, width) in enumerate(TALK_COLUMNS):
            sheet.set_column(col, col, width)
            sheet.write_string(0, col, name, head)
        units = {u.name: u for u in ledger.units}
        for row, notice in enumerate(notices, start=1):
            unit = units.get(notice.unit)
            values = (row, notice.unit, f"{notice.unit}主要负责人", notice.leaders, notice.cause,
                      notice.number_text(settings), day_text(notice.issued), day_text(notice.due),
                      unit.contact if unit else "", unit.phone if unit else "")
            for col, value in enumerate(values):
                write_value(sheet, row, col, value, cell)
            sheet.set_row(row, row_height([(notice.cause, TALK_COLUMNS[4][1])]))
        sheet.freeze_panes(1, 0)
    return buffer.getvalue()


def publish_notices(config: Config, period: Period, now: dt.datetime | dt.date | None = None,
                    pdf: bool = True) -> NoticeRun:
    """`ducha notices`: check the period as of `now` (default today on the bureau's clock), then
    write reports/<period>/督办通知/<number>_<unit>.docx (and .pdf when LibreOffice is installed
    and pdf) for each notice of the period not written yet, and 约谈名单.xlsx of the year's 通报."""
    day = now if isinstance(now, dt.date) and not isinstance(now, dt.datetime) else config.bureau.local(now).date()
    settings = notice_settings(config)
    issuer = issuer_name(config, briefing_settings(config))
    no_pdf = ""  # why no PDF is printed although asked for
    if pdf:
        try:
            office.find_office()
        except DuchaError as exc:
            no_pdf = str(exc)
    with workspace_lock(config.paths.lock):
        merged = load_merged(config, period, day)
        if not merged.files:
            raise DuchaError(f"{period.full_label}（{period.key}）还没有任何收件记录：请先运行 ducha merge --period {period.key}")
        with open_store(config.paths.store) as store:
            issued = check(store, merged, settings, day)
            run = NoticeRun(period.key, day, issued, [n.number_text(settings) for n in issued], no_pdf=no_pdf)
            for notice in notices_of(store, period.key):
                target = notice_path(config, notice, settings)
                if target.exists():
                    continue
                data = notice_docx(notice, earlier_notice(store, notice), settings, period, issuer)
                run.outputs.append(write_bytes_atomic(target, data))
                if pdf and not no_pdf:
                    run.outputs.append(_print_pdf(target, config))
            talks = [n for n in notices_of(store, level=RED) if n.year == day.year and n.period <= period.key]
            target = config.paths.reports / period.key / TALKS_NAME
            data = talks_bytes(talks, settings, merged.ledger)
            if talks and not (target.exists() and target.read_bytes() == data):
                run.outputs.append(write_bytes_atomic(target, data))
    return run
