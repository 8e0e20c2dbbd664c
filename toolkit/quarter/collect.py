"""Read the quarter back from the store after a take-in (quarter.takein), and decide its verdicts.

What the quarter looks like is read back from the store alone (`load_merged` gives the briefing the
same MergedQuarter the merge wrote its outputs from, for any quarter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from toolkit import collector
from toolkit.config import Config
from toolkit.errors import DuchaError
from toolkit.intake import archive
from toolkit.ledger.build import load_ledger
from toolkit.model import Ledger
from toolkit.period import Period
from toolkit.quarter import evidence, verify
from toolkit.quarter.decisions import (
    closed_earlier,
    extended_deadlines,
    open_ledger,
)
from toolkit.quarter.frames import MergedQuarter, build_merged
from toolkit.quarter.review import attach_reviews
from toolkit.quarter.rules import IndicatorRules
from toolkit.quarter.scores import ScoringRules, attach_scores
from toolkit.quarter.store import VERDICT_PENDING, Store, open_store
from toolkit.quarter.takein import Recheck, TakenIn


@dataclass
class Collected:
    """The quarter as stored after a take-in, and which paths this run read or set aside."""

    merged: MergedQuarter
    new_files: list[str]  # paths checked in this run
    skipped: list[str]  # paths of files that belong to another period
    unread: list[archive.NotTaken] = field(default_factory=list)  # files this run could not read
    recheck: Recheck | None = None  # with --recheck only
    drop: Path | None = None  # the drop folder read
    dropped: int = 0  # files found in it: none is worth a warning (a wrong folder, or not yet saved)


def settle(config: Config, ledger: Ledger, period: Period, as_of: dt.date, taken: TakenIn) -> Collected:
    """After a take-in (quarter.takein, apart so that a merge can take in before this module's
    imports, pandas, are done: outputs.rerun): decide every verdict of the period, store them and
    read the quarter back as of `as_of`. The caller holds the workspace lock."""
    with open_store(config.paths.store) as store:
        merged = _from_store(store, ledger, period, as_of, config)
        store.set_verdicts(period.key, {f.sha256: f.verdict for f in merged.files})
    recheck = None
    if taken.recheck:
        before = {r.sha256: r.verdict for r in taken.before}
        recheck = Recheck(taken.rechecked, [(f.path, f.unit, before[f.sha256], f.verdict) for f in merged.files
                                            if before.get(f.sha256, f.verdict) not in (f.verdict, VERDICT_PENDING)])
    return Collected(merged, taken.new_files, taken.skipped, taken.unread, recheck, taken.drop, taken.dropped)


def _from_store(store: Store, ledger: Ledger, period: Period, as_of: dt.date, config: Config) -> MergedQuarter:
    # A task closed (办结) for an earlier quarter expects nobody now; mark_closed shows it 已办结.
    # An extension approved for an earlier quarter's request moves the 时间节点 lights judge by;
    # a refused 佐证材料 is an issue on its unit's workbook.
    with collector.paused():  # over a quarter of this at 1,000 units was the collector's
        records = store.load_period(period.key)
        evidence.with_refusals(records, evidence.evidence_of(store, period.key))
        merged = build_merged(open_ledger(ledger, closed_earlier(store, period)), records, period, as_of,
                              store.latest_indicator_values(period.key), IndicatorRules.from_config(config),
                              extended_deadlines(store, period.previous(config.deadlines).key))
        attach_reviews(store, merged, ledger)
        merged.suspects = verify.suspect_frame(store, merged)
        attach_scores(store, merged, ScoringRules.from_config(config), config.deadlines)
    return merged


def load_merged(config: Config, period: Period, as_of: dt.date | None = None) -> MergedQuarter:
    """The MergedQuarter of any period already merged, read from the ledger and the store only.

    as_of decides whether the deadline has passed (for red lights); default today on the bureau's clock."""
    if not config.paths.store.exists():
        raise DuchaError(f"数据库 {config.paths.store} 不存在：请先运行 ducha merge --period {period.key}")
    with open_store(config.paths.store) as store:
        return _from_store(store, load_ledger(config), period, as_of or config.bureau.local().date(), config)
