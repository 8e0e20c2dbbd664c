"""Time ducha beside the yardsticks, as a user runs it, and print the ratios against the aims.

    make bench                                     # 66 and 1,000 units (a few minutes)
    BENCH_UNITS=66,1000,10000 make bench           # or: python scripts/bench.py --big (adds 10,000)
    python scripts/bench.py --sizes 1000 --json    # the measurements as JSON
    BENCH_REPEAT=5 make bench                      # more rounds per size (default 3)
    BENCH_MILESTONES=3 make bench                  # a 节点计划 of three milestones a task (default none)

For each size a workspace is made with a synthetic ledger (~15 tasks a unit, a third led, an
indicator on every fifth task) written as master_ledger.xlsx. Then, each a whole process as the
clerk runs it: `ducha generate`; every unit's clean return is made in the drop folder (untimed:
answers written while generating, the filler block typed into the sheet XML); the floor
(../shared/bench/floor.py: unzip and parse every sheet) and the peer (peer.py: pandas + calamine
concatenating every file, no validation, no receipts, no store) on that folder; `ducha merge` from
scratch (wall clock and the main process's peak memory) and a rerun with nothing new. These run in
rounds (--repeat, default 3), one of each per round in turn, each round in a workspace of its own
with nothing deleted before the end (see _round); the times are the rounds' medians and
the ratios ducha ÷ peer and ducha ÷ floor the medians of each round's ratio, so a machine that
slows down for a while slows both sides of a ratio (on a shared 2-core machine single runs drift by
a third).
Then the merge's phases alone, in this process, on up to PART_SAMPLE files of the same workspace:
reading + validating, recording in the store, rebuilding the quarter from the store, 汇总表, receipts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.config import Bureau, load_config
from toolkit.forms.generate import generate_from
from toolkit.model import Indicator, Ledger, Milestone, Task, Unit
from toolkit.period import Period

ROOT = Path(__file__).resolve().parent.parent

SECRET = b"bench-secret-not-for-real-use-32"
NOW = dt.datetime(2024, 3, 1, 9, 0)
CO_PER_TASK = 2  # each synthetic task: one lead and two co-owners
PART_SAMPLE = 1000  # files (and receipts) the parts of the merge are timed on


@dataclass
class Run:
    name: str
    ledger: Ledger
    folder: Path
    period: Period = field(default_factory=lambda: Period.parse("2024Q1"))
    workers: int | None = None
    merged: Path = Path()  # the workspace whole() merged last


def synthetic_ledger(n_units: int, tasks_per_unit: int = 15, milestones: int = 0) -> Ledger:
    """n units, each owning about tasks_per_unit tasks (a third as lead), with realistic text
    lengths, an indicator on every fifth task and `milestones` milestones a task (节点计划: spread
    over the year, the last at 100 %; none by default, as in the runs before it existed)."""
    units = [Unit(f"测试单位{i:05d}", "市直部门") for i in range(n_units)]
    n_tasks = max(1, n_units * tasks_per_unit // (1 + CO_PER_TASK))
    text = "围绕高质量发展目标，统筹推进重点项目建设，确保年底前完成各项目标任务，新增城镇就业6.24万人以上。"
    tasks = []
    for no in range(1, n_tasks + 1):
        owners = [units[(no * 7 + k * 13) % n_units].name for k in range(1 + CO_PER_TASK)]
        owners = list(dict.fromkeys(owners))
        tasks.append(
            Task(
                no,
                "二、全年重点工作",
                "（一）测试",
                f"{no}. {text * 2}",
                ("袁钢", "常务副市长"),
                "",
                owners[0],
                tuple(owners[1:]),
            )
        )
    indicators = [
        Indicator(t.no, "新增城镇就业", 6.24, "万人", "≥", "新增城镇就业6.24万人以上")
        for t in tasks
        if t.no % 5 == 0
    ]
    plan = [Milestone(t.no, i, "完成项目前期手续和阶段建设任务", dt.date(2024, 1, 1) + dt.timedelta(days=365 * i // milestones - 1),
                      round(100 * i / milestones, 1)) for t in tasks for i in range(1, milestones + 1)]
    return Ledger(tasks, units, indicators, plan)


# --- measuring -------------------------------------------------------------------------------


# --- measuring -------------------------------------------------------------------------------

YARDSTICKS = ROOT.parent / "shared" / "bench"  # peer.py and floor.py
# The `ducha` console script, run as the clerk runs it (the reading workers re-run a main script
# on starting, so how ducha was started shows in their start), recording the main process's peak
# resident memory in KiB when it exits. On Linux the peak is VmHWM, its own
# address space's: ru_maxrss of a process started from this one begins at this process's peak (the
# kernel carries the parent's high-water mark over the exec), and at 10,000 units this bench holds
# more than the merge does. Elsewhere ru_maxrss, the only measure there is.
_DUCHA = """
import atexit, runpy, sys
out, script = sys.argv.pop(1), sys.argv.pop(1)

def peak():
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration, ValueError):
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

try:
    import resource
    atexit.register(lambda: open(out, "w").write(str(peak())))
except ImportError:
    pass
sys.argv[0] = script
runpy.run_path(script, run_name="__main__")
"""
SCRIPT = Path(sys.executable).with_name("ducha.exe" if os.name == "nt" else "ducha")  # on Windows a zip runpy runs


@dataclass
class Timed:
    seconds: float
    peak_mb: float | None = None  # the main process's peak resident memory


def ducha(workspace: Path, *args: str) -> Timed:
    """One whole `ducha` process, as the clerk runs it (wall clock)."""
    peak = workspace / ".bench_peak"
    peak.unlink(missing_ok=True)
    start = time.perf_counter()
    if not SCRIPT.exists():
        raise SystemExit(f"{SCRIPT} is missing: run the bench from the project's virtualenv (make bench)")
    done = subprocess.run([sys.executable, "-c", _DUCHA, str(peak), str(SCRIPT), "--config", str(workspace), *args],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"ducha {' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    kb = int(peak.read_text()) if peak.exists() else None
    return Timed(round(seconds, 3), kb and round(kb / 1024, 1))


def yardstick(script: str, *args: Path) -> float | None:
    """Wall time of ../shared/bench/<script> on the same folder; None when it is not there."""
    path = YARDSTICKS / script
    if not path.exists():
        return None
    start = time.perf_counter()
    subprocess.run([sys.executable, str(path), *map(str, args)], check=True, capture_output=True)
    return round(time.perf_counter() - start, 3)


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return round(time.perf_counter() - start, 3)


def returns(run: Run, drop: Path) -> list[Path]:
    """Every unit's clean return in the drop folder, received the day before the deadline. The
    workbooks are generated elsewhere and each return written anew, not over its workbook: see
    _round for why nothing is deleted or replaced."""
    from toolkit.demo import unitsim

    issued = run.folder / "issued"
    result = generate_from(run.ledger, run.period, Bureau(), SECRET, issued, now=NOW, workers=run.workers,
                           answers=unitsim.answers_for(run.ledger))
    issued_paths = [w.path for w in result.workbooks]
    drop.mkdir()
    with ProcessPoolExecutor(min(os.cpu_count() or 1, 4)) as pool:
        paths = list(pool.map(unitsim.filler_xml, issued_paths, [None] * len(issued_paths),
                              [drop / p.name for p in issued_paths], chunksize=64))
    received = dt.datetime.combine(run.period.deadline, dt.time(9)).timestamp() - 86400
    for path in paths:
        os.utime(path, (received, received))
    return paths


def workspace(run: Run) -> Path:
    """A workspace with the run's ledger written as master_ledger.xlsx and a secret."""
    from toolkit.ledger.sheets import about_rows, ledger_tables, write_tables

    root = run.folder / "ws"
    root.mkdir()
    (root / "ducha.toml").write_text("", encoding="utf-8")
    (root / ".ducha_secret").write_text(SECRET.hex(), encoding="ascii")
    tables = ledger_tables(run.ledger, about_rows(load_config(root), None, b"", NOW))
    write_tables(root / "master_ledger.xlsx", tables, NOW)
    return root


def _round(template: Path, root: Path) -> Path:
    """A round's own workspace, as before its first merge: the template's settings, secret and
    ledger copied, its returns linked (the same files, no copies).

    Rounds used to share one workspace, deleting the last round's store, archive and outputs
    first. Thousands of files deleted just before a timed run are what no clerk does, and they
    slowed ducha alone: ext4 without a journal (as here) passes over every inode deleted in the
    last minute or more when it picks one for a new file, and the merge creates two files a
    unit (its archived copy and its receipt), the peer one in all. So nothing is deleted or
    replaced until every size has run (main)."""
    root.mkdir()
    for name in ("ducha.toml", ".ducha_secret", "master_ledger.xlsx"):
        shutil.copy2(template / name, root / name)
    (root / "drop").mkdir()
    for path in (template / "drop").iterdir():
        try:
            os.link(path, root / "drop" / path.name)
        except OSError:  # a file system without hard links
            shutil.copy2(path, root / "drop" / path.name)
    return root


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def whole(run: Run, repeat: int) -> dict[str, Any]:
    """ducha generate, merge from scratch and rerun, each a whole process, beside the floor and
    the peer on the same drop folder; `repeat` rounds, one of each per round in turn, so a machine
    that slows down slows every command of a round. Times are medians of the rounds, ratios the
    medians of each round's ratio. Each round has its own workspace (_round); run.merged is the
    last."""
    template = workspace(run)
    period = ["--period", run.period.key]
    prepare = _seconds(lambda: returns(run, template / "drop"))
    rounds: list[dict[str, Any]] = []
    for n in range(1, repeat + 1):
        root = run.merged = _round(template, run.folder / f"round{n}")
        generate = ducha(root, "generate", *period)
        floor = yardstick("floor.py", root / "drop")
        peer = yardstick("peer.py", root / "drop", run.folder / f"peer{n}.xlsx")
        merge = ducha(root, "merge", *period, "--json")
        rerun = ducha(root, "merge", *period, "--json")
        rounds.append({"generate": generate.seconds, "floor": floor, "peer": peer, "merge": merge.seconds,
                       "peak": merge.peak_mb, "rerun": rerun.seconds})
    seconds = {key: [r[key] for r in rounds] for key in rounds[0]}

    def ratio(other: str) -> float | None:
        if any(r[other] is None for r in rounds):
            return None
        return round(statistics.median(r["merge"] / r[other] for r in rounds), 2)

    peaks = [p for p in seconds["peak"] if p is not None]
    return {"rounds": len(rounds), "generate_s": _median(seconds["generate"]), "prepare_returns_s": prepare,
            "floor_s": None if None in seconds["floor"] else _median(seconds["floor"]),
            "peer_s": None if None in seconds["peer"] else _median(seconds["peer"]),
            "merge_s": _median(seconds["merge"]), "merge_main_peak_mb": max(peaks) if peaks else None,
            "rerun_s": _median(seconds["rerun"]), "merge_vs_peer": ratio("peer"), "merge_vs_floor": ratio("floor"),
            "merge_each_s": seconds["merge"], "peer_each_s": seconds["peer"], "floor_each_s": seconds["floor"]}


def phases(run: Run) -> dict[str, Any]:
    """The merge's phases alone, in this process, on up to PART_SAMPLE files of the workspace
    whole() merged last: per file or unit, in milliseconds."""
    from toolkit import collector
    from toolkit.intake import check, sniff
    from toolkit.outputs.receipts import receipt_bytes
    from toolkit.outputs.summary_book import book_bytes
    from toolkit.quarter.collect import load_merged
    from toolkit.quarter.store import open_store

    root = run.merged
    config = load_config(root)
    sample = sorted((root / "drop").glob("*.xlsx"))[:PART_SAMPLE]
    limits = sniff.Limits.from_config(config)
    checked: list[Any] = []
    read = _seconds(lambda: checked.extend(
        check.check_file(p, ledger=run.ledger, period=run.period, secret=SECRET, limits=limits) for p in sample))
    with open_store(run.folder / "scratch.db") as store:
        record = _seconds(lambda: [store.record(c, run.period.key, c.path, "accepted") for c in checked])
    loaded: list[Any] = []
    rebuild = _seconds(lambda: loaded.append(load_merged(config, run.period, NOW.date())))
    merged = loaded[0]
    units = sorted({f.unit for f in merged.files if f.unit})[:PART_SAMPLE]
    with collector.paused():  # as the merge builds them (outputs.publish._write_output)
        book = _seconds(lambda: book_bytes(merged, config.bureau))
        receipts = _seconds(lambda: [receipt_bytes(merged, u, config.bureau) for u in units])
    m = max(len(sample), 1)
    return {"sample": len(sample), "read_validate_ms": round(1000 * read / m, 2),
            "store_record_ms": round(1000 * record / m, 2), "rebuild_quarter_s": rebuild, "book_s": book,
            "receipt_ms": round(1000 * receipts / max(len(units), 1), 2)}


# --- the aims of issue 18 --------------------------------------------------------------------

# (size, what, measured key, limit, text): a measurement meets its aim when it is at most limit.
AIMS = [
    (1000, "merge ÷ peer", "merge_vs_peer", 1.0, "≤ 1×"),
    (1000, "merge ÷ floor", "merge_vs_floor", 6.0, "≤ 6×"),
    (66, "merge", "merge_s", 1.0, "< 1 s"),
    (1000, "rerun, nothing new", "rerun_s", 0.5, "< 0.5 s"),
    (1000, "generate", "generate_s", 4.0, "< 4 s"),
    (10000, "merge", "merge_s", 45.0, "< 45 s"),
    (10000, "merge, main process memory", "merge_main_peak_mb", 300.0, "< 300 MB"),
]


def report(runs: list[dict[str, Any]]) -> list[str]:
    """The table the clerk's developer reads: every whole-process time beside the yardsticks,
    then each aim with PASS or MISS."""
    lines = [f"{'units':>6}  {'generate':>9}  {'merge':>8}  {'rerun':>7}  {'peer':>7}  {'floor':>7}  "
             f"{'÷peer':>6}  {'÷floor':>6}  {'main MB':>7}"]

    def cell(value: Any, unit: str = "") -> str:
        return "—" if value is None else f"{value}{unit}"

    for r in runs:
        w = r["whole"]
        lines.append(f"{r['units']:>6}  {cell(w['generate_s'], ' s'):>9}  {cell(w['merge_s'], ' s'):>8}  "
                     f"{cell(w['rerun_s'], ' s'):>7}  {cell(w['peer_s'], ' s'):>7}  {cell(w['floor_s'], ' s'):>7}  "
                     f"{cell(w['merge_vs_peer'], '×'):>6}  {cell(w['merge_vs_floor'], '×'):>6}  "
                     f"{cell(w['merge_main_peak_mb']):>7}")
    lines.append("")
    lines.append("phases in one process (per file / unit): read+validate, store, rebuild quarter, 汇总表, receipt")
    for r in runs:
        p = r["phases"]
        lines.append(f"{r['units']:>6}  {p['read_validate_ms']} ms  {p['store_record_ms']} ms  "
                     f"{p['rebuild_quarter_s']} s  {p['book_s']} s  {p['receipt_ms']} ms")
    lines.append("")
    by_units = {r["units"]: r["whole"] for r in runs}
    for units, what, key, limit, text in AIMS:
        value = by_units.get(units, {}).get(key)
        if units in by_units:
            verdict = "—" if value is None else ("PASS" if value <= limit else "MISS")
            lines.append(f"{verdict:>4}  {units:>6} units  {what}: {cell(value)} (aim {text})")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description="ducha 性能测试 / benchmark")
    parser.add_argument("--sizes", "--units", default=os.environ.get("BENCH_UNITS", "66,1000"),
                        help="synthetic ledger sizes, comma-separated (default: $BENCH_UNITS or 66,1000)")
    parser.add_argument("--big", action="store_true", help="add 10,000 units (several minutes)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--repeat", type=int, default=int(os.environ.get("BENCH_REPEAT", "3")),
                        help="rounds of whole-process runs per size, medians reported (default: $BENCH_REPEAT or 3)")
    parser.add_argument("--milestones", type=int, default=int(os.environ.get("BENCH_MILESTONES", "0")),
                        help="节点计划 milestones a task in the synthetic ledger (default: $BENCH_MILESTONES or 0)")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()] + ([10000] if args.big else [])
    runs = []
    with tempfile.TemporaryDirectory(prefix="ducha-bench-") as folder:  # deleted after every size (_round)
        for n in dict.fromkeys(sizes):
            run = Run(f"synthetic-{n}", synthetic_ledger(n, milestones=args.milestones), Path(folder) / str(n))
            run.folder.mkdir()
            entry = {"units": n, "tasks": len(run.ledger.tasks), "milestones": len(run.ledger.milestones),
                     "whole": whole(run, args.repeat), "phases": phases(run)}
            runs.append(entry)
            print(json.dumps(entry, ensure_ascii=False), file=sys.stderr, flush=True)  # progress
    if args.json:
        print(json.dumps({"cpu_count": os.cpu_count(), "runs": runs}, ensure_ascii=False, indent=2))
    else:
        print(f"cpu_count {os.cpu_count()}; yardsticks {YARDSTICKS}; milestones a task {args.milestones}")
        print("\n".join(report(runs)))


if __name__ == "__main__":
    main()
