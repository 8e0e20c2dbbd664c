"""Time the toolkit's heavy steps on the real ledger and on synthetic ones, and print JSON.

    python scripts/bench.py [--sizes 66,1000] [--workers N] [--phases generate,merge] [--no-real]
    python scripts/bench.py --sizes 66,1000,10000      # the full scale run (~6 min here)

`make bench` runs the defaults: the real ledger and synthetic ledgers of 66 and 1,000 units
(about 1 min). Each phase is a function in PHASES taking the shared Run and returning its
measurements: "generate" writes every unit's workbook; "merge" first makes every unit's return
(untimed: answers written while generating, the filler block typed into the sheet XML — 5 ms a file
rather than openpyxl's 25 ms), then times a whole merge (wall clock, worker processes included)
and a rerun with no new files, and then its parts alone in one process on up to PART_SAMPLE files:
the floor (unzip each file and parse its sheet XML, nothing else), reading + validating, recording
in the store, writing 汇总表 and writing the receipts. Peak memory (RSS, this process and its
workers) is sampled during each timed phase. `help_s` is the wall time of `ducha --help`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from toolkit.config import Bureau, load_config
from toolkit.forms.generate import generate_from
from toolkit.model import Indicator, Ledger, Task, Unit
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
    outputs: dict[str, Any] = field(default_factory=dict)


def synthetic_ledger(n_units: int, tasks_per_unit: int = 15) -> Ledger:
    """n units, each owning about tasks_per_unit tasks (a third as lead), with realistic text
    lengths and an indicator on every fifth task."""
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
    return Ledger(tasks, units, indicators)


# --- measuring -------------------------------------------------------------------------------


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Peak:
    own_mb: float = 0.0  # this process
    total_mb: float = 0.0  # this process and its worker processes at the same moment


@contextmanager
def peak_rss(interval: float = 0.05) -> Iterator[Peak]:
    """Sample resident memory from /proc every `interval` seconds while the block runs. Where
    /proc is missing (Windows, macOS) own_mb is the process's lifetime peak (ru_maxrss)."""
    peak, done = Peak(), threading.Event()
    if not Path("/proc/self/status").exists():
        yield peak
        peak.own_mb = peak.total_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return

    def sample() -> None:
        while True:
            own = _rss_kb(os.getpid())
            workers = sum(_rss_kb(p.pid) for p in multiprocessing.active_children())
            peak.own_mb = max(peak.own_mb, own / 1024)
            peak.total_mb = max(peak.total_mb, (own + workers) / 1024)
            if done.wait(interval):
                return

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        done.set()
        thread.join()
        peak.own_mb, peak.total_mb = round(peak.own_mb, 1), round(peak.total_mb, 1)


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _floor(paths: Sequence[Path]) -> float:
    """The least any reader must do: unzip each file and parse its sheet XML, nothing else."""
    start = time.perf_counter()
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    ElementTree.fromstring(zf.read(name))
    return time.perf_counter() - start


def help_seconds(repeat: int = 5) -> float:
    """Median wall time of `ducha --help` (the console script when installed, else python -m)."""
    script = Path(sys.executable).with_name("ducha")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "toolkit"]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return round(statistics.median(times), 3)


# --- phases ----------------------------------------------------------------------------------


def phase_generate(run: Run) -> dict[str, Any]:
    out = run.folder / "outbox"
    with peak_rss() as peak:
        start = time.perf_counter()
        result = generate_from(run.ledger, run.period, Bureau(), SECRET, out, now=NOW, workers=run.workers)
        total = time.perf_counter() - start
    run.outputs["generate"] = result
    n = len(result.workbooks)
    return {
        "workbooks": n,
        "rows": sum(w.lead + w.co + w.county for w in result.workbooks),
        "total_s": round(total, 3),
        "per_workbook_ms": round(1000 * total / max(n, 1), 2),
        "bytes": sum(w.path.stat().st_size for w in result.workbooks),
        "peak_rss_mb": peak.own_mb,
        "peak_rss_with_workers_mb": peak.total_mb,
    }


def returns(run: Run, drop: Path) -> list[Path]:
    """Every unit's clean return in the drop folder, received the day before the deadline."""
    from toolkit.demo import unitsim

    result = generate_from(run.ledger, run.period, Bureau(), SECRET, drop, now=NOW, workers=run.workers,
                           answers=unitsim.answers_for(run.ledger))
    paths = [w.path for w in result.workbooks]
    with ProcessPoolExecutor(min(os.cpu_count() or 1, 4)) as pool:
        list(pool.map(unitsim.filler_xml, paths, chunksize=64))
    received = dt.datetime.combine(run.period.deadline, dt.time(9)).timestamp() - 86400
    for path in paths:
        os.utime(path, (received, received))
    return paths


def phase_merge(run: Run) -> dict[str, Any]:
    """A whole merge of every unit's return, a rerun, and the merge's parts timed alone."""
    from toolkit.intake import check, sniff
    from toolkit.outputs.publish import merge_with
    from toolkit.outputs.receipts import receipt_bytes
    from toolkit.outputs.summary_book import book_bytes
    from toolkit.quarter.store import open_store

    workspace = run.folder / "merge"
    drop = workspace / "drop"
    drop.mkdir(parents=True)
    (workspace / "ducha.toml").write_text("", encoding="utf-8")
    (workspace / ".ducha_secret").write_text(SECRET.hex(), encoding="ascii")
    prepare = time.perf_counter()
    filled = returns(run, drop)
    prepare = time.perf_counter() - prepare
    config = load_config(workspace)
    with peak_rss() as peak:
        total = _seconds(lambda: run.outputs.__setitem__(
            "merge", merge_with(config, run.ledger, run.period, now=NOW)))
    merged = run.outputs["merge"].merged
    rerun = _seconds(lambda: merge_with(config, run.ledger, run.period, now=NOW))

    sample = filled[:PART_SAMPLE]
    floor = _floor(sample)
    limits = sniff.Limits.from_config(config)
    checked = []
    read = _seconds(lambda: checked.extend(
        check.check_file(p, ledger=run.ledger, period=run.period, secret=SECRET, limits=limits) for p in sample
    ))
    with open_store(workspace / "scratch.db") as store:
        record = _seconds(lambda: [store.record(c, run.period.key, c.path, "accepted") for c in checked])
    book = _seconds(lambda: book_bytes(merged, config.bureau))
    units = sorted({f.unit for f in merged.files if f.unit})[:PART_SAMPLE]
    receipts = _seconds(lambda: [receipt_bytes(merged, u, config.bureau) for u in units])
    n, m = len(filled), len(sample)
    return {
        "files": n,
        "accepted": len(merged.counts["units_reported"]) + len(merged.counts["units_late"]),
        "prepare_returns_s": round(prepare, 3),
        "total_s": round(total, 3),
        "per_file_ms": round(1000 * total / n, 2),
        "floor_per_file_ms": round(1000 * floor / m, 2),
        "merge_vs_floor": round((total / n) / (floor / m), 2),
        "rerun_s": round(rerun, 3),
        "peak_rss_mb": peak.own_mb,
        "peak_rss_with_workers_mb": peak.total_mb,
        "parts_sample": m,
        "read_validate_per_file_ms": round(1000 * read / m, 2),
        "read_validate_vs_floor": round(read / floor, 2),
        "store_record_per_file_ms": round(1000 * record / m, 2),
        "book_s": round(book, 3),
        "receipt_ms": round(1000 * receipts / max(len(units), 1), 2),
    }


PHASES: dict[str, Callable[[Run], dict[str, Any]]] = {"generate": phase_generate, "merge": phase_merge}


def ledgers(sizes: list[int], real: bool) -> list[tuple[str, Ledger]]:
    found: list[tuple[str, Ledger]] = []
    config = load_config(ROOT)
    if real and config.paths.ledger.exists():
        from toolkit.ledger.build import load_ledger

        found.append(("real", load_ledger(config)))
    found += [(f"synthetic-{n}", synthetic_ledger(n)) for n in sizes]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="ducha 性能测试 / benchmark")
    parser.add_argument("--sizes", "--units", default="66,1000", help="synthetic ledger sizes, comma-separated")
    parser.add_argument("--no-real", action="store_true", help="skip the real ledger (master_ledger.xlsx)")
    parser.add_argument("--workers", type=int, default=None, help="processes for generate (default: auto)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated, from {','.join(PHASES)}"
    )
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(unknown)}")
    report: dict[str, Any] = {"cpu_count": os.cpu_count(), "workers": args.workers or "auto",
                              "help_s": help_seconds(), "runs": []}
    sizes = [int(n) for n in args.sizes.split(",") if n.strip()]
    for name, ledger in ledgers(sizes, not args.no_real):
        with tempfile.TemporaryDirectory(prefix="ducha-bench-") as folder:
            run = Run(name, ledger, Path(folder), workers=args.workers)
            entry: dict[str, Any] = {"ledger": name, "units": len(ledger.units), "tasks": len(ledger.tasks)}
            entry |= {phase: PHASES[phase](run) for phase in phases}
            report["runs"].append(entry)
            print(json.dumps(entry, ensure_ascii=False), file=sys.stderr, flush=True)  # progress
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
