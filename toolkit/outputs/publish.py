"""Publish a quarter: merge it and write 汇总表 and the receipts, rewriting only what changed.

`ducha merge` is run daily in the last week, so a rerun with no new files must be quick and must
not touch a byte the clerk may have open or already mailed: every output carries a fingerprint of
what it was built from (the MergedQuarter's parts it shows, the bureau, and the code that lays it
out), and an output whose fingerprint still matches is left alone. The others are built and
written atomically, in parallel when there are many.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit import __version__, collector, xlsx
from toolkit.config import Bureau, Config
from toolkit.fsutil import flush_files, remove_stale_temps, workspace_lock, write_bytes_atomic
from toolkit.intake.archive import NotTaken
from toolkit.ledger.build import load_ledger
from toolkit.model import Ledger
from toolkit.outputs import receipts, sheets, summary_book
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_bytes, receipt_name
from toolkit.outputs.summary_book import BOOK_NAME, book_bytes
from toolkit.outputs.warm import warm_up
from toolkit.period import Period
from toolkit.pool import OWN_WORK_FORKS, parallel_map
from toolkit.quarter.collect import settle
from toolkit.quarter.frames import MergedQuarter, file_entries
from toolkit.quarter.takein import Recheck, TakenIn, take_in


@dataclass
class MergeResult:
    merged: MergedQuarter
    new_files: list[str]  # paths checked in this run
    skipped: list[str]  # paths of files that belong to another period
    outputs: list[Path] = field(default_factory=list)
    unread: list[NotTaken] = field(default_factory=list)  # files this run could not read, and why
    recheck: Recheck | None = None  # with --recheck only
    drop: Path | None = None  # the drop folder read
    dropped: int = 0  # files found in it

    def summary(self) -> dict[str, Any]:
        """The `ducha merge --json` document."""
        recheck = self.recheck and {
            "files": self.recheck.files,
            "changed": [{"path": path, "unit": unit, "before": before, "after": after}
                        for path, unit, before, after in self.recheck.changed],
        }
        return {
            **self.merged.counts,
            "files": file_entries(self.merged.files, self.merged.period),
            "new_files": self.new_files,
            "skipped": self.skipped,
            "unread": [{"path": u.path, "reason": u.reason} for u in self.unread],
            "rechecked": recheck,
            "drop": {"path": str(self.drop), "files": self.dropped, "empty": not self.dropped},
            "outputs": [str(p) for p in self.outputs],
        }


def merge(config: Config, period: Period, drop: Path | None = None,
          now: dt.datetime | None = None, recheck: bool = False) -> MergeResult:
    """`ducha merge`: take in the drop folder, decide verdicts, write 汇总表 and the receipts;
    with recheck (`--recheck`), first check the period's archived files again against today's
    ledger and [checks], keeping their earlier checks.

    Holds the workspace lock throughout. Rerunning with no new files re-reads nothing and
    rewrites no output byte; a run killed at any point leaves the store and the previous outputs
    intact, and the next run completes the work."""
    with workspace_lock(config.paths.lock):
        warm_up(drop or config.paths.drop)
        return merge_with(config, load_ledger(config), period, drop, now, recheck)


def merge_with(config: Config, ledger: Ledger, period: Period, drop: Path | None = None,
               now: dt.datetime | None = None, recheck: bool = False) -> MergeResult:
    """merge() on a Ledger already in memory (the bench, tests); the caller holds the lock."""
    now = config.bureau.local(now)
    return merge_taken(config, ledger, period, take_in(config, ledger, period, drop, now if recheck else None), now)


def merge_taken(config: Config, ledger: Ledger, period: Period, taken: TakenIn, now: dt.datetime) -> MergeResult:
    """The rest of a merge once the drop folder is taken in: verdicts, then 汇总表 and the receipts
    (outputs.rerun takes in while this module is still being imported). now is on the bureau's
    clock; the caller holds the lock."""
    collected = settle(config, ledger, period, now.date(), taken)
    outputs = write_outputs(collected.merged, config.paths.reports, config.bureau)
    return MergeResult(collected.merged, collected.new_files, collected.skipped, outputs, collected.unread,
                       collected.recheck, collected.drop, collected.dropped)


# Any change to the code that lays the outputs out changes every fingerprint, so outputs of an
# older layout are rebuilt.
_CODE = hashlib.sha256(b"".join(
    hashlib.sha256(Path(module.__file__).read_bytes()).digest() for module in (sheets, summary_book, receipts, xlsx)
)).hexdigest()


def _fingerprint(*inputs: object) -> str:
    """A digest of everything an output is built from (reprs of frozen data are deterministic)."""
    return hashlib.sha256(repr((_CODE, __version__, *inputs)).encode("utf-8")).hexdigest()


# A hidden index in reports/<period>/: {output's relative path: [fingerprint, size, mtime_ns]} as
# of the last run. Reading the fingerprint inside every receipt took ~1 ms a file (10 s at 10,000
# units); an output whose size and time still match its entry need not be opened. Anything else
# (no index, a stale entry after a killed run, a file the clerk replaced) is checked in the file.
_INDEX = ".ducha_outputs.json"


def _stamp(path: Path) -> list[int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _load_index(out: Path) -> dict[str, list]:
    try:
        index = json.loads((out / _INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return index if isinstance(index, dict) else {}


def _holds(target: Path, fingerprint: str, indexed: list | None = None) -> bool:
    """True when target was built from exactly these inputs: a rerun need not rebuild it."""
    stamp = _stamp(target)
    if stamp is None:
        return False  # deleted: rebuilt
    if indexed == [fingerprint, *stamp]:
        return True
    try:
        with zipfile.ZipFile(target) as zf:
            return fingerprint in zf.read("docProps/custom.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return False


class _Digest:
    """A text stream that keeps only the digest of what is written to it."""

    def __init__(self) -> None:
        self.hash = hashlib.sha256()

    def write(self, text: str) -> None:
        self.hash.update(text.encode("utf-8"))


def _frame_digest(frame: Any) -> str:
    """The digest of a frame's CSV, written in pandas' chunks: at 10,000 units the tasks' CSV is
    15 million characters, and holding every frame's CSV and its repr at once raised the merge's
    peak memory by 105 MB."""
    digest = _Digest()
    frame.to_csv(digest)
    return digest.hash.hexdigest()


def _book_inputs(merged: MergedQuarter, bureau: Bureau) -> str:
    frames = (merged.tasks, merged.units, merged.issues, merged.indicators, merged.suspects, merged.league,
              merged.score_details, merged.requests, merged.evidence)
    return _fingerprint(merged.period, bureau, merged.counts, merged.score_rules, [_frame_digest(f) for f in frames])


def _receipt_inputs(merged: MergedQuarter, unit: str, bureau: Bureau) -> str:
    files = merged.files_of(unit)
    nos = {t.task_no for f in files for t in f.tasks}
    return _fingerprint(merged.period, bureau, unit, merged.unit_status.get(unit), files, merged.review_notes.get(unit),
                        [merged.task_by_no[n] for n in sorted(nos) if n in merged.task_by_no],
                        [i for n in sorted(nos) for i in merged.indicators_by_task.get(n, [])])


def _output_inputs(shared: tuple[MergedQuarter, Bureau], unit: str | None) -> str:
    """The fingerprint of this unit's receipt, 汇总表's for None."""
    merged, bureau = shared
    return _book_inputs(merged, bureau) if unit is None else _receipt_inputs(merged, unit, bureau)


def _write_output(shared: tuple[MergedQuarter, Bureau], job: tuple[str | None, str, Path]) -> Path:
    """Build and write one output: a unit's receipt, or 汇总表 when unit is None (the collector
    paused: 汇总表 at 10,000 units 5.0 → 4.2 s, a receipt 1.3 → 1.2 ms)."""
    merged, bureau = shared
    unit, fingerprint, target = job
    with collector.paused():
        data = (book_bytes(merged, bureau, fingerprint) if unit is None
                else receipt_bytes(merged, unit, bureau, fingerprint))
    return write_bytes_atomic(target, data, flush=False)  # flushed together by write_outputs


def _checked(shared: tuple[MergedQuarter, Bureau], job: tuple[str | None, Path, list | None]) -> tuple[str, bool]:
    """(an output's fingerprint, whether its file holds it already); job: the unit (None for
    汇总表), the file, its entry in the index."""
    unit, target, indexed = job
    fingerprint = _output_inputs(shared, unit)
    return fingerprint, _holds(target, fingerprint, indexed)


def _fresh_output(shared: tuple[MergedQuarter, Bureau], job: tuple[str | None, Path, list | None]) -> tuple[str, bool]:
    """One output's fingerprint, the output written first unless its file holds it already;
    True when written."""
    fingerprint, holds = _checked(shared, job)
    if not holds:
        _write_output(shared, (job[0], fingerprint, job[1]))
    return fingerprint, not holds


def _fresh_outputs(shared: tuple[MergedQuarter, Bureau], jobs: list[tuple[str | None, Path, list | None]]) -> list[str]:
    """_fresh_output for every job; returns the fingerprints, having flushed what was written.

    Where the pool's workers are forked (Linux: milliseconds to start) each worker takes an
    output's fingerprint and writes it if need be: one pool, whose workers copy the pages of the
    quarter they touch once (a pool for the fingerprints first, then one for the writing, took
    0.9-1.4 s more at 10,000 units). Elsewhere a worker starts slowly and is handed the quarter
    pickled, so the fingerprints are taken here and the workers write only what changed."""
    if OWN_WORK_FORKS:
        done = parallel_map(_fresh_output, jobs, shared)
        flush_files(target for (_, target, _), (_, written) in zip(jobs, done, strict=True) if written)
        return [fingerprint for fingerprint, _ in done]
    checked = [_checked(shared, job) for job in jobs]
    stale = [(unit, fingerprint, target) for (unit, target, _), (fingerprint, holds) in zip(jobs, checked, strict=True)
             if not holds]
    flush_files(parallel_map(_write_output, stale, shared))
    return [fingerprint for fingerprint, _ in checked]


def write_outputs(merged: MergedQuarter, reports_dir: Path, bureau: Bureau) -> list[Path]:
    """reports/<period>/汇总表.xlsx and 回执/<period>_<单位>_回执.xlsx for every identified unit
    that sent a file this period; returns their paths, 汇总表 first.

    An output whose inputs are unchanged (its fingerprint is in the file) is not rebuilt, so a
    rerun is quick and touches no byte; the others are built and written atomically, 汇总表
    first — when there are many, in parallel, 汇总表 alongside the first receipts."""
    out = reports_dir / merged.period.key
    remove_stale_temps(out, out / RECEIPT_DIR)
    with collector.paused():  # the quarter is all this process holds: no collection need walk it for these lists
        senders = sorted({f.unit for f in merged.files if f.unit}, key=_unit_order(merged))
        receipts_dir = out / RECEIPT_DIR
        targets = [out / BOOK_NAME, *(receipts_dir / receipt_name(merged.period.key, unit) for unit in senders)]
        names = [target.relative_to(out).as_posix() for target in targets]
        index = _load_index(out)
        jobs = [(unit, target, index.get(name)) for unit, target, name in zip([None, *senders], targets, names, strict=True)]
    # The outputs are flushed to disk together, before the index that vouches for them is written.
    fingerprints = _fresh_outputs((merged, bureau), jobs)
    now = {name: [fingerprint, *(_stamp(target) or [])] for name, target, fingerprint in zip(names, targets, fingerprints, strict=True)}
    if now != index:
        write_bytes_atomic(out / _INDEX, json.dumps(now, ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return targets


def _unit_order(merged: MergedQuarter):
    order = {u: i for i, u in enumerate(merged.unit_status)}
    return lambda unit: (order.get(unit, len(order)), unit)
