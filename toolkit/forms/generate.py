"""One generate run: plan who gets a workbook, write them all, and say what was written.

The run is the part that touches the workspace (lock, ledger, secret, outbox) and the process
pool; the workbook itself is drawn by toolkit.forms.writer. A unit's last answers come in through
`answers` from whoever keeps them, so the forms never depend on the quarter's store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from toolkit import collector
from toolkit.config import Bureau, Config
from toolkit.forms import meta
from toolkit.forms.plan import IndicatorPrefill, Prefill, UnitJob, file_name, plan, role_counts
from toolkit.forms.writer import write_workbook
from toolkit.fsutil import flush_files, workspace_lock, write_atomic
from toolkit.ledger.build import load_ledger
from toolkit.model import ROLE_CO, ROLE_COUNTY, ROLE_LEAD, Ledger
from toolkit.period import Period
from toolkit.pool import parallel_map

Answers = Callable[[str], tuple[Prefill, IndicatorPrefill]]  # unit → (prefill, indicator_prefill)


@dataclass(frozen=True)
class GeneratedWorkbook:
    unit: str
    lead: int
    co: int
    county: int
    indicators: int
    path: Path

    def as_dict(self) -> dict[str, object]:
        return {
            "unit": self.unit,
            "lead": self.lead,
            "co": self.co,
            "county": self.county,
            "indicators": self.indicators,
            "path": str(self.path),
        }


@dataclass
class GenerateResult:
    period: Period
    out_dir: Path
    generated_at: str
    workbooks: list[GeneratedWorkbook] = field(default_factory=list)
    units_without_tasks: list[str] = field(default_factory=list)
    empty_groups: dict[str, list[int]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "period": self.period.key,
            "deadline": self.period.deadline.isoformat(),
            "generated_at": self.generated_at,
            "out_dir": str(self.out_dir),
            "workbooks": [w.as_dict() for w in self.workbooks],
            "units_without_tasks": self.units_without_tasks,
            "empty_groups": [{"group": g, "tasks": nos} for g, nos in self.empty_groups.items()],
        }


@dataclass(frozen=True)
class _Issue:
    """What every workbook of one generate run shares (sent to each pool worker once)."""

    out_dir: Path
    period: Period
    bureau: Bureau
    secret: bytes
    generated_at: str


def _write_job(issue: _Issue, job: UnitJob) -> Path:
    """One unit's workbook, built with the cyclic collector paused as receipts are (collector): a
    workbook is thousands of short-lived objects (cells, formats, XML strings) that reference
    counting frees, and each collection they set off walked them again."""
    target = issue.out_dir / file_name(issue.period, job.unit)

    def writer(tmp: Path) -> None:
        with collector.paused():
            write_workbook(
                tmp,
                unit=job.unit,
                assignments=job.assignments,
                indicators=job.indicators,
                period=issue.period,
                bureau=issue.bureau,
                secret=issue.secret,
                generated_at=issue.generated_at,
                prefill=job.prefill,
                indicator_prefill=job.indicator_prefill,
                milestones=job.milestones,
            )

    return write_atomic(target, writer, flush=False)  # flushed together by write_jobs


def write_jobs(
    jobs: Sequence[UnitJob],
    out_dir: Path,
    period: Period,
    bureau: Bureau,
    secret: bytes,
    generated_at: str,
    workers: int | None = None,
) -> list[Path]:
    """Write every job's workbook atomically, in pool workers for large batches (workers=1 forces
    this process), flushed to disk together at the end (fsutil). Returns the paths in job order."""
    paths = parallel_map(_write_job, jobs, _Issue(out_dir, period, bureau, secret, generated_at), workers)
    flush_files(paths)
    return paths


def _with_answers(job: UnitJob, answers: Answers) -> UnitJob:
    prefill, indicator_prefill = answers(job.unit)
    return replace(job, prefill=prefill, indicator_prefill=indicator_prefill)


def generate_from(
    ledger: Ledger,
    period: Period,
    bureau: Bureau,
    secret: bytes,
    out_dir: Path,
    units: Sequence[str] | None = None,
    now: dt.datetime | None = None,
    workers: int | None = None,
    answers: Answers | None = None,
    closed: Collection[int] = (),
) -> GenerateResult:
    """The generate run on a Ledger already in memory (tests, the bench, the demo); no lock taken.
    answers(unit) gives the (prefill, indicator_prefill) a unit's workbook starts from; closed: the
    tasks closed (办结) before this quarter, left out."""
    generated_at = bureau.local(now).replace(tzinfo=None, microsecond=0).isoformat()
    planned = plan(ledger, units, closed)
    jobs = [_with_answers(job, answers) for job in planned.jobs] if answers else planned.jobs
    paths = write_jobs(jobs, out_dir, period, bureau, secret, generated_at, workers)
    rows = []
    for job, path in zip(jobs, paths, strict=True):
        counts = role_counts(job.assignments)
        rows.append(
            GeneratedWorkbook(
                job.unit, counts[ROLE_LEAD], counts[ROLE_CO], counts[ROLE_COUNTY], len(job.indicators), path
            )
        )
    return GenerateResult(
        period, out_dir, generated_at, rows, planned.units_without_tasks, planned.empty_groups
    )


def generate(
    config: Config,
    period: Period,
    units: list[str] | None = None,
    out: Path | None = None,
    now: dt.datetime | None = None,
    *,
    answers: Answers,
    closed: Collection[int] = (),
) -> GenerateResult:
    """The run behind `ducha generate`: check and load the ledger, then write
    outbox/<period>/<period>_<单位>.xlsx for every unit with a task, under the workspace lock.
    answers(unit) is asked under that lock too (toolkit.quarter.prefill gives last quarter's)."""
    out_dir = Path(out) if out else config.paths.outbox / period.key
    with workspace_lock(config.paths.lock):
        ledger = load_ledger(config)
        secret = meta.load_secret(config.paths.secret)
        return generate_from(ledger, period, config.bureau, secret, out_dir, units, now, answers=answers, closed=closed)
