"""The clerk's side of 疑似不实: list a merged quarter's lines, and confirm the ones found untrue.

Confirming is a command, not a column of 汇总表: 汇总表 is rewritten by every `ducha merge`, so a
mark typed into it would be lost (or read back from a stale copy), while a key typed once on the
command line is checked against the quarter's lines at once and stored. The lines come from the
store through load_merged, so they are exactly those 汇总表 疑似不实 shows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from toolkit.config import Config
from toolkit.errors import InputError
from toolkit.fsutil import workspace_lock
from toolkit.period import Period
from toolkit.quarter.collect import load_merged
from toolkit.quarter.store import open_store
from toolkit.quarter.verify import Suspect, record_confirmations, suspects_of


@dataclass
class Confirmed:
    """What `ducha verify confirm` did: lines newly confirmed, and lines confirmed before (unchanged)."""

    period: Period
    new: list[Suspect]
    before: list[Suspect]


def suspect_list(config: Config, period: Period) -> pd.DataFrame:
    """The period's 疑似不实 lines (frames.SUSPECT_COLUMNS) with what the clerk confirmed so far."""
    return load_merged(config, period).suspects


def confirm(config: Config, period: Period, keys: list[str], note: str = "",
            now: dt.datetime | None = None) -> Confirmed:
    """Mark the lines with these keys (as 汇总表 疑似不实 and `ducha verify list` show them, any
    case) as confirmed untrue. A key that is not a line of the period is an InputError naming it,
    and nothing is stored; confirming a line again leaves its first confirmation."""
    now = config.bureau.local(now)
    with workspace_lock(config.paths.lock):
        merged = load_merged(config, period, now.date())
        with open_store(config.paths.store) as store:
            by_key = {s.key.upper(): s for s in suspects_of(store, merged)}
            unknown = [k for k in keys if k.strip().upper() not in by_key]
            if unknown:
                known = "、".join(by_key) or "（本季度没有疑似不实的填报）"
                raise InputError(f"{period.full_label}没有编号为 {'、'.join(unknown)} 的疑似不实填报；"
                                 f"可用的编号：{known}（见汇总表“疑似不实”或 ducha verify list）")
            chosen = list({k.strip().upper(): by_key[k.strip().upper()] for k in keys}.values())
            new, before = record_confirmations(store, period.key, chosen, note.strip(), now.replace(tzinfo=None))
    return Confirmed(period, new, before)
