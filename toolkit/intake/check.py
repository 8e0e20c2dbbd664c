"""One returned file → CheckedFile: the entry points the merge calls, once per file.

Nothing here raises for a problem in the file: every problem is an Issue whose level decides the
verdict. Errors reject the file (退回修改) because the merged ledger would be wrong or incomplete
with it; warnings accept it and tell the unit what was interpreted. Files are read in a capped
worker, so a file that defeats the parsers costs one worker, and its outcome is still a CheckedFile.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePath

from toolkit.errors import DuchaError
from toolkit.intake import archive, identity, plans, reader, requests, rows, sniff
from toolkit.intake.codes import RESUBMIT, Strictness, new_report
from toolkit.intake.parts import SheetTooLarge
from toolkit.intake.sniff import Limits
from toolkit.intake.submission import Submission
from toolkit.model import ROLE_LEAD, CheckedFile, Ledger
from toolkit.period import Period
from toolkit.pool import WorkerFailure
from toolkit.problems import Report

_FORMAT_CODES = {"empty": "empty_file", "truncated": "damaged_file", "encrypted": "encrypted", "xlsm": "macro_workbook"}


def check_file(
    path: Path,
    *,
    ledger: Ledger,
    period: Period | str,
    secret: bytes,
    limits: Limits,
    original_path: Path | None = None,
    strictness: Strictness | None = None,
    sha256: str | None = None,
) -> CheckedFile:
    """Check one returned file (the archived copy) against what was issued for the period.

    original_path is where the clerk dropped it: its name is a fallback clue to the unit, its
    modification time is the received time, and it is the path the clerk sees in reports.
    strictness is the level of each code as the bureau set it ([checks]; default: as in CODES).
    sha256: the content's hash when the caller has just taken it (an archived copy is hashed as it
    is written), so the file is not read again for it."""
    with sniff.opened_zip(path, limits) as zipped:
        return _check_file(path, zipped, ledger, period, secret, limits, original_path, strictness, sha256)


def _check_file(path: Path, zipped: zipfile.ZipFile | None, ledger: Ledger, period: Period | str, secret: bytes,
                limits: Limits, original_path: Path | None, strictness: Strictness | None,
                sha256: str | None) -> CheckedFile:
    source = Path(original_path) if original_path else path
    if sha256 is None:
        sha256, size, received = archive.file_facts(path)
    else:
        size, received = path.stat().st_size, archive.received_at(path)
    if source != path and source.exists():
        received = archive.received_at(source)
    # The size bound comes first: sniffing reads a zip's central directory, which a huge file
    # could make huge.
    too_big = sniff.check_size(path, limits)
    fmt = "unread" if too_big else sniff.sniff(path, zipped)
    shown = archive.shown_path(source)
    checked = CheckedFile(path=shown, sha256=sha256, size=size, received=received, format=fmt)
    issues = (strictness or Strictness()).report()
    checked.issues = issues.issues
    if not too_big and fmt not in sniff.READABLE:
        issues.add(_FORMAT_CODES.get(fmt, "not_workbook"), f"{sniff.REJECT_REASONS[fmt]}。{RESUBMIT}")
        return checked
    reason = too_big or sniff.check_limits(path, fmt, limits, zipped)
    if reason:
        issues.add("over_limits", f"{reason}。{RESUBMIT}")
        return checked
    submission = _read(path, fmt, limits, ledger, issues, zipped)
    if submission is None:
        return checked
    issued = identity.identify(submission, ledger, str(period), secret, PurePath(shown), issues)
    if issued is None:
        return checked
    checked.unit, checked.period, checked.signed, checked.claimed = issued.unit, str(period), issued.signed, issued.claimed
    if not issues.ok:
        return checked
    if submission.progress is not None:
        checked.filler = rows.filler(submission, submission.progress.sheet, issues)
    checked.tasks = requests.attach_requests(
        submission, rows.progress_rows(submission, issued, ledger, issues), ledger, int(str(period)[:4]),
        (strictness or Strictness()).require_evidence, issues)
    checked.indicators = rows.indicator_rows(submission, issued, issues)
    if issued.unit is not None:
        quarter = period if isinstance(period, Period) else Period.parse(period)
        led = {no for no, (role, _) in issued.tasks.items() if role == ROLE_LEAD and ledger.find_task(no)}
        checked.plans = plans.plan_rows(submission, issued.unit, led, ledger, quarter, issues)
    return checked


def _read(path: Path, fmt: str, limits: Limits, ledger: Ledger, issues: Report,
          zipped: zipfile.ZipFile | None) -> Submission | None:
    """Parse the file; any failure of the parsers on a hostile or broken file becomes an issue."""
    from python_calamine import PasswordError

    # Before the unit is known, the whole ledger bounds how many rows any unit can have been issued.
    try:
        return reader.read(path, fmt, limits, len(ledger.tasks), len(ledger.indicators), zipped)
    except SheetTooLarge as exc:
        extent = f"有内容的单元格达 {exc.cells} 个" if exc.cells is not None else f"数据范围达 {exc.rows} 行 × {exc.cols} 列"
        issues.add(
            "over_limits",
            f"工作表“{exc.sheet}”的{extent}，超过上限 {limits.max_cells} 个单元格。{RESUBMIT}",
        )
    except PasswordError:
        issues.add("encrypted", f"{sniff.REJECT_REASONS['encrypted']}。{RESUBMIT}")
    except (MemoryError, KeyboardInterrupt, SystemExit):
        raise  # out of memory is the worker's to report (too_complex); the others stop the run
    except BaseException as exc:  # noqa: BLE001 — untrusted input: any parser failure is the file's
        # fault, a Rust panic in python-calamine (a BaseException) included
        issues.add("unreadable", f"工作簿无法读取（{type(exc).__name__}）。{RESUBMIT}")
    return None


# What every check of a file needs: the ledger, the period, the secret, the limits, the strictness.
Shared = tuple[Ledger, Period, bytes, Limits, Strictness]


def check_dropped(shared: tuple[Shared, Path], job: tuple[Path, str]) -> tuple[Path, CheckedFile] | archive.NotTaken:
    """Archive a dropped file (shared: what every check needs, and the archive folder; job: its
    path and SHA-256), then check the archived copy, never the dropped file. Runs in a sandbox
    worker. A dropped file that cannot be copied (gone, locked, changed while copied) is not taken
    this run: NotTaken says why, nothing of it is recorded, and the next merge tries it again. The
    copy is not flushed to disk here: the caller flushes a batch before recording it."""
    common, archive_dir = shared
    path, sha256 = job
    try:
        archived = archive.archive(path, archive_dir, sha256, flush=False)  # the merge flushes a batch
    except (OSError, DuchaError) as exc:
        return archive.not_taken(path, exc)
    return archived, check_archived(common, (archived, path), sha256)


def check_archived(shared: Shared, job: tuple[Path, Path], sha256: str | None = None) -> CheckedFile:
    """Check an archived copy (job: the copy, and the path it was dropped under; sha256: its hash,
    when just taken by check_dropped), at intake and again for `ducha merge --recheck`. Runs in a
    sandbox worker. Any exception but running out of memory is a bug met on this one file, so it
    becomes the file's read_failed issue rather than stopping the quarter's merge."""
    ledger, period, secret, limits, strictness = shared
    archived, dropped = job
    try:
        return check_file(archived, ledger=ledger, period=period, secret=secret, limits=limits,
                          original_path=dropped, strictness=strictness, sha256=sha256)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 — see the docstring
        sha256, size, received = archive.file_facts(archived)
        text = f"程序处理该文件时出错（{type(exc).__name__}），请将文件转给督查局核查，或重新保存后报送"
        return unread_file(archive.shown_path(dropped), sha256, size, received, "read_failed", text)


def worker_failure(failure: WorkerFailure, limits: Limits) -> tuple[str, str]:
    """(code, Chinese text) for a file whose sandbox worker gave no result."""
    if failure.timed_out:
        return "too_complex", f"读取该文件超过 {limits.max_seconds:g} 秒仍未完成（文件过于复杂或结构异常），已停止读取。{RESUBMIT}"
    if failure.out_of_memory:
        return "too_complex", (f"读取该文件所需内存超过上限 {limits.max_memory_mb:g} MB（文件过于复杂或结构异常），"
                               f"已停止读取。{RESUBMIT}")
    return "read_failed", f"读取该文件时读取进程意外退出（退出码 {failure.exitcode}），文件可能已损坏。{RESUBMIT}"


def unread_file(path: str, sha256: str, size: int, received: str, code: str, text: str) -> CheckedFile:
    """The CheckedFile of a file that could not be read to the end: one file-level error."""
    issues = new_report()
    issues.add(code, text)
    return CheckedFile(path=path, sha256=sha256, size=size, received=received, format="unread", issues=issues.issues)
