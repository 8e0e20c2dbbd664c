"""Crash safety of `ducha merge`, with real processes: killed (SIGKILL) at many points of a run over
a few hundred returned files, the next run leaves exactly what an uninterrupted run leaves — the
same 汇总表 and receipts byte for byte, the same store rows, the same archive — and whatever the
killed run left behind is whole. Two merges started at once: one runs, the other refuses in Chinese.

The drop folder is made once per module (about 270 files: every unit of the real ledger returns a
first report, a corrected one, a broken one and a late one; some files twice; two non-workbooks).
Workbooks are filled while generated (unitsim.answers_for + filler_xml), 5 ms a file instead of
openpyxl's 25 ms.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT, ledger_workspace
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms.generate import generate_from
from toolkit.forms.meta import load_secret
from toolkit.intake import archive
from toolkit.ledger.build import load_ledger
from toolkit.mail.runs import send_reminders
from toolkit.outputs.publish import merge
from toolkit.period import Period
from toolkit.quarter.prefill import last_answers
from toolkit.quarter.store import open_store

Q1 = Period.parse("2024Q1")
NOW = dt.datetime(2024, 3, 1, 9, 0)
# (seed, received day, broken): every unit sends these four; the broken one is rejected and the
# late one (after the deadline) supersedes the others.
VARIANTS = ((0, "2024-03-10", False), (1, "2024-03-20", False), (2, "2024-03-25", True), (3, "2024-03-29", False))
TWICE = 10  # units whose corrected report is also saved a second time, under another name

# A `ducha merge` in a child process that SIGKILLs itself at the n-th pass through a point:
#   commit    — inside a store transaction, after its writes, before its commit (a file's record
#               inside a take-in batch: before the batch commits)
#   committed — right after a store transaction commits (inside a batch: after a file's record)
#   write     — an output half written to its temporary file, before it is renamed into place
#   none      — never
# Only this process counts; the sandbox workers reading files are separate interpreters.
_KILLER = """
import contextlib, os, signal, sys
from toolkit import fsutil, pool
from toolkit.cli import app as cli
from toolkit.quarter import store

point, n = sys.argv[1], int(sys.argv[2])
# Receipts by a process pool from this many units on; by default none, so that the writes the hooks
# below count happen in this process.
pool.POOL_THRESHOLD = int(sys.argv[4]) if len(sys.argv) > 4 else 10**9
seen = {"count": 0}

def maybe_die(here, tmp=None):
    if here != point:
        return
    seen["count"] += 1
    if seen["count"] == n:
        if tmp is not None:
            data = tmp.read_bytes()
            tmp.write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)

original_transaction = store.Store.transaction

@contextlib.contextmanager
def transaction(self):
    with original_transaction(self) as conn:
        yield conn
        maybe_die("commit")
    maybe_die("committed")

original_atomic = fsutil.atomic_path

@contextlib.contextmanager
def atomic_path(target, flush=True):
    with original_atomic(target, flush) as tmp:
        yield tmp
        maybe_die("write", tmp)

store.Store.transaction = transaction
fsutil.atomic_path = atomic_path
sys.argv = ["ducha", "--config", sys.argv[3], "merge", "--period", "2024Q1"]
cli.main()
"""


def _stamp(path: Path, when: dt.datetime) -> None:
    os.utime(path, (when.timestamp(), when.timestamp()))


def _broken(answers):  # noqa: ANN001, ANN202 — wraps unitsim.answers_for
    """The same answers with the first task's progress out of range: the file is rejected."""

    def broken(unit: str):  # noqa: ANN202
        tasks, indicators = answers(unit)
        first = min(tasks)
        return {**tasks, first: {**tasks[first], "progress": 120}}, indicators

    return broken


@pytest.fixture(scope="module")
def crash_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the real ledger and a full drop folder, nothing merged yet."""
    root = ledger_workspace(tmp_path_factory.mktemp("crash"), NOW)
    config = load_config(root)
    ledger = load_ledger(config)
    secret = load_secret(config.paths.secret)
    drop = root / "drop"
    for seed, day, broken in VARIANTS:
        answers = unitsim.answers_for(ledger, seed)
        made = generate_from(ledger, Q1, config.bureau, secret, root / "made" / str(seed), now=NOW,
                             answers=_broken(answers) if broken else answers)
        for i, workbook in enumerate(made.workbooks):
            target = drop / f"第{seed}批" / f"{workbook.unit}-{seed}.xlsx"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(unitsim.filler_xml(workbook.path), target)
            _stamp(target, dt.datetime.fromisoformat(day) + dt.timedelta(hours=9, minutes=i))
            if seed == 1 and i < TWICE:
                _stamp(Path(shutil.copy(target, drop / f"{workbook.unit}(1).xlsx")),
                       dt.datetime.fromisoformat(day) + dt.timedelta(hours=20))
    (drop / "扫描件.xlsx").write_bytes(b"%PDF-1.4 not a workbook")
    (drop / "空文件.xlsx").write_bytes(b"")
    shutil.rmtree(root / "made")
    return root


def _reset(ws: Path) -> None:
    """Back to nothing merged: no outputs, no archive, no store."""
    for name in ("reports", "archive"):
        shutil.rmtree(ws / name, ignore_errors=True)
    for db in ws.glob("ducha.db*"):
        db.unlink()


def _outputs(ws: Path) -> dict[str, bytes]:
    """Every output the clerk sees (hidden temporary files aside), by relative path."""
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted((ws / "reports").rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _state(ws: Path) -> tuple[dict[str, bytes], dict, list[str]]:
    """What a merge leaves: every output file's bytes, every store row, every archived file."""
    with open_store(load_config(ws).paths.store) as store:
        dump = store.dump()
    return _outputs(ws), dump, sorted(str(p.relative_to(ws)) for p in (ws / "archive").rglob("*") if p.is_file())


def _ducha(ws: Path) -> list[str]:
    return [sys.executable, "-m", "toolkit", "--config", str(ws), "merge", "--period", "2024Q1"]


@pytest.fixture(scope="module")
def expected(crash_ws: Path) -> tuple[tuple, float]:
    """The state an uninterrupted `ducha merge` leaves, and how long that run took."""
    _reset(crash_ws)
    start = time.monotonic()
    done = subprocess.run(_ducha(crash_ws), cwd=ROOT, capture_output=True, text=True)
    took = time.monotonic() - start
    assert done.returncode == 0, done.stderr
    state = _state(crash_ws)
    outputs, dump, archived = state
    units = len(load_ledger(load_config(crash_ws)).assignments())
    assert len(dump["files"]) == len(VARIANTS) * units + 2
    assert len(dump["file_paths"]) == len(dump["files"]) + TWICE
    verdicts = [row[6] for row in dump["submissions"]]  # (sha256, period, unit, other_period, signed, filler, verdict, …)
    assert verdicts.count("accepted") == units and verdicts.count("superseded") == 2 * units
    assert verdicts.count("rejected") == units + 2
    assert len(outputs) == 1 + units and len(archived) == len(dump["files"])
    return state, took


def _transactions(dump: dict) -> int:
    """Store transactions in a full run: one per file checked, one per further copy, the verdicts."""
    return len(dump["files"]) + (len(dump["file_paths"]) - len(dump["files"])) + 1


def _assert_whole(ws: Path) -> None:
    """What a killed run left is whole: every output a complete workbook, every file recorded
    with its rows (or as rejected), nothing archived under a name that is not its content."""
    for path in (ws / "reports").rglob("*.xlsx"):
        if not path.name.startswith("."):
            with zipfile.ZipFile(path) as zf:
                assert zf.testzip() is None, path
    if (ws / "ducha.db").exists():
        with open_store(ws / "ducha.db") as store:
            for record in store.load_period("2024Q1"):
                assert record.rejected or record.tasks, record.path


def _rerun_matches(ws: Path, expected_state: tuple) -> None:
    result = merge(load_config(ws), Q1)
    assert result.merged.counts["units_reported"] == result.merged.counts["units_expected"]
    assert _state(ws) == expected_state
    assert not [p for p in ws.rglob(".*.tmp")], "a temporary file was left behind"


# Points as fractions of the run's transactions or outputs, so the test follows the data.
HOOKED = [("commit", 0.0), ("commit", 0.4), ("commit", 1.0), ("committed", 0.6),
          ("write", 0.0), ("write", 0.5), ("write", 1.0)]


@pytest.mark.parametrize(("point", "where"), HOOKED, ids=[f"{p}-{w:.0%}" for p, w in HOOKED])
def test_killed_at_a_store_commit_or_an_output_write(crash_ws: Path, expected: tuple, point: str,
                                                     where: float) -> None:
    state, _took = expected
    last = _transactions(state[1]) if point != "write" else len(state[0])
    n = max(1, round(where * last))
    _reset(crash_ws)
    killed = subprocess.run([sys.executable, "-c", _KILLER, point, str(n), str(crash_ws)], cwd=ROOT,
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    _assert_whole(crash_ws)
    if point == "write" and n > 1:  # the outputs renamed into place before the kill are final
        assert sum(1 for p in (crash_ws / "reports").rglob("*.xlsx") if not p.name.startswith(".")) == n - 1
    _rerun_matches(crash_ws, state)


def _progress(ws: Path) -> tuple[int, int]:
    """(files recorded in the store, receipts in place), as another process sees them."""
    recorded = 0
    if (ws / "ducha.db").exists():
        with contextlib.suppress(sqlite3.Error), contextlib.closing(
            sqlite3.connect(f"file:{ws / 'ducha.db'}?mode=ro", uri=True, timeout=0.1)
        ) as conn:
            recorded = conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    receipts = sum(1 for p in (ws / "reports").rglob("*_回执.xlsx") if not p.name.startswith("."))
    return recorded, receipts


# Killed from outside once the run has got this far: (files recorded, receipts written).
OUTSIDE = [(20, 0), (200, 0), (0, 1), (0, 40)]


@pytest.mark.parametrize(("files", "receipts"), OUTSIDE, ids=[f"files{f}-receipts{r}" for f, r in OUTSIDE])
def test_killed_from_outside_mid_run(crash_ws: Path, expected: tuple, files: int, receipts: int) -> None:
    """SIGKILL to the merge process alone, at whatever it is doing once it has got this far (as
    the clerk ending it in the task manager would): its file-reading workers must notice and go,
    leaving the lock free, and the next run completes the work."""
    state, _took = expected
    _reset(crash_ws)
    child = subprocess.Popen(_ducha(crash_ws), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    try:
        while child.poll() is None:
            recorded, written = _progress(crash_ws)
            if recorded >= files and written >= receipts:
                child.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        assert child.wait() == -signal.SIGKILL, "the run ended before it could be killed"
        _assert_whole(crash_ws)
        _rerun_matches(crash_ws, state)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)  # any straggler, whatever the outcome


def _session_alive(session: int) -> list[int]:
    """Live (not zombie) processes of a session, from /proc."""
    alive = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[3]) == session and fields[0] != "Z":
                alive.append(int(stat.parent.name))
    return alive


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_receipt_workers_die_with_a_killed_merge(crash_ws: Path, expected: tuple) -> None:
    """Receipts written by a pool of forked workers (as for 200+ units): when the merge process is
    killed, its workers stop too, rather than living on and writing receipts from the dead run's
    state — over the newer ones of the next run."""
    state, _took = expected
    _reset(crash_ws)
    child = subprocess.Popen([sys.executable, "-c", _KILLER, "none", "0", str(crash_ws), "2"], cwd=ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while child.poll() is None and _progress(crash_ws)[1] < 5:
            time.sleep(0.002)
        child.send_signal(signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL, "the run ended before it could be killed"
        deadline = time.monotonic() + 5
        while _session_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _session_alive(child.pid), "a receipt worker outlived the killed merge"
        _assert_whole(crash_ws)
        _rerun_matches(crash_ws, state)
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)


def test_a_killed_rerun_keeps_the_previous_outputs(crash_ws: Path, expected: tuple) -> None:
    """A unit's new file arrives after a merge; the next merge is killed half-way through writing
    汇总表: the previous 汇总表 and receipts stay as they were, and the run after completes."""
    state, _took = expected
    _reset(crash_ws)
    merge(load_config(crash_ws), Q1)
    before = _outputs(crash_ws)
    late = next((crash_ws / "drop" / "第0批").iterdir())
    extra = Path(shutil.copy(late, crash_ws / "drop" / "补报.xlsx"))
    with zipfile.ZipFile(extra, "a") as zf:  # new bytes, same workbook: one more file to take in
        zf.comment = b"resaved"
    _stamp(extra, dt.datetime(2024, 3, 30, 9))
    try:
        killed = subprocess.run([sys.executable, "-c", _KILLER, "write", "1", str(crash_ws)], cwd=ROOT,
                                capture_output=True, text=True)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        assert _outputs(crash_ws) == before  # the half-written 汇总表 never replaced the old one
        result = merge(load_config(crash_ws), Q1)  # the killed run had recorded the file
        [entry] = [f for f in result.summary()["files"] if Path(f["path"]).name == "补报.xlsx"]
        assert entry["verdict"] == "accepted"
        after = _outputs(crash_ws)
        book = "reports/2024Q1/汇总表.xlsx"
        assert after.keys() == before.keys() and after[book] != before[book]
        assert not [p for p in crash_ws.rglob(".*.tmp")]
    finally:
        extra.unlink()


def test_two_merges_at_once_one_refuses_in_chinese(crash_ws: Path, expected: tuple) -> None:
    state, _took = expected
    _reset(crash_ws)
    runs = [subprocess.Popen(_ducha(crash_ws), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True) for _ in range(2)]
    outcomes = sorted((run.wait(timeout=300), *run.communicate()) for run in runs)
    (ok, ok_out, _), (busy, busy_out, busy_err) = outcomes
    assert (ok, busy) == (0, 1), outcomes
    assert "汇总完成" in ok_out
    assert busy_out == ""
    assert busy_err.startswith("错误：另一个 ducha 任务正在运行") and "请等它结束后再试" in busy_err
    assert "Traceback" not in busy_err
    assert _state(crash_ws) == state


# --- nothing unsettled is read, no one file stops the merge (issue 11.14) ------------------------


def test_a_killed_merge_leaves_nothing_unsettled_for_prefill_or_reminders(crash_ws: Path, expected: tuple) -> None:
    """Killed once half the files are recorded, before the verdicts are decided: the reminders and
    next quarter's pre-filled workbooks see what the last finished merge decided (nothing yet),
    not the killed run's files as if accepted; the next merge settles them."""
    state, _took = expected
    _reset(crash_ws)
    half = len(state[1]["files"]) // 2
    killed = subprocess.run([sys.executable, "-c", _KILLER, "committed", str(half), str(crash_ws)], cwd=ROOT,
                            capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    config = load_config(crash_ws)
    with open_store(config.paths.store) as store:
        good = sorted({r.unit for r in store.load_period(Q1.key) if r.unit and not r.rejected})
    assert good, "the killed run had recorded no good file"
    remind_day = dt.datetime(2024, 3, 27, 9, 0)
    assert send_reminders(config, Q1, dry_run=True, now=remind_day).not_due == []
    assert last_answers(config, good[0], "2024Q2") == ({}, {})
    _rerun_matches(crash_ws, state)
    units = load_ledger(config).assignments()
    assert sorted(send_reminders(config, Q1, dry_run=True, now=remind_day).not_due) == sorted(units)
    tasks, _indicators = last_answers(config, good[0], "2024Q2")
    assert sorted(tasks) == sorted(a.task.no for a in units[good[0]])


@pytest.fixture
def small_ws(tmp_path: Path) -> Path:
    """The real ledger, and a drop folder with two units' good reports and one more file."""
    root = ledger_workspace(tmp_path / "ws", NOW)
    config = load_config(root)
    ledger = load_ledger(config)
    made = generate_from(ledger, Q1, config.bureau, load_secret(config.paths.secret), root / "made", now=NOW,
                         answers=unitsim.answers_for(ledger, 0))
    (root / "drop").mkdir()
    for i, workbook in enumerate(made.workbooks[:2]):
        target = root / "drop" / f"{workbook.unit}.xlsx"
        shutil.move(unitsim.filler_xml(workbook.path), target)
        _stamp(target, dt.datetime(2024, 3, 20, 9 + i))
    (root / "drop" / "锁定.xlsx").write_bytes(b"PK\x03\x04 still being written")
    shutil.rmtree(root / "made")
    return root


def _merge_cli(ws: Path) -> str:
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_a_dropped_file_that_cannot_be_read_is_set_aside_and_the_others_merge(small_ws: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    locked = small_ws / "drop" / "锁定.xlsx"
    real = archive.file_facts

    def facts(path: Path, zone: dt.tzinfo | None = None) -> tuple[str, int, str]:
        if Path(path) == locked:  # locked by another program, or no read permission
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, zone)

    monkeypatch.setattr(archive, "file_facts", facts)
    text = _merge_cli(small_ws)
    assert "本次新处理文件 2 个；累计收到 2 个：采用 2" in text
    assert "未能读取、本次未汇总的文件 1 个：" in text
    assert f"  {locked}：无法读取该文件（没有读取权限，或正被其他程序占用），本次未汇总；请检查后重新运行 ducha merge" in text
    monkeypatch.undo()
    again = merge(load_config(small_ws), Q1).summary()  # readable now: taken in, with its own verdict
    assert [Path(p).name for p in again["new_files"]] == ["锁定.xlsx"] and again["unread"] == []
    assert [f["verdict"] for f in again["files"] if Path(f["path"]).name == "锁定.xlsx"] == ["rejected"]


def test_a_dropped_file_that_goes_away_while_merging_is_set_aside(small_ws: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The clerk moves a file out of the drop folder after the merge hashed it and before its worker
    copies it into the archive: that file is named, the others merge."""
    gone = small_ws / "drop" / "锁定.xlsx"
    real = archive.file_facts

    def facts(path: Path, zone: dt.tzinfo | None = None) -> tuple[str, int, str]:
        found = real(path, zone)
        if Path(path) == gone:
            gone.rename(small_ws / "elsewhere.xlsx")
        return found

    monkeypatch.setattr(archive, "file_facts", facts)
    text = _merge_cli(small_ws)
    assert "本次新处理文件 2 个；累计收到 2 个：采用 2" in text
    assert f"  {gone}：无法读取该文件（文件已被移走或删除），本次未汇总；请检查后重新运行 ducha merge" in text
    with open_store(load_config(small_ws).paths.store) as store:
        assert len(store.load_period(Q1.key)) == 2  # nothing recorded of the file that went away
