"""Time the toolkit's heavy steps on the real ledger and on synthetic ones, and print JSON.

    python scripts/bench.py [--units 66,1000] [--workers N] [--phases generate]

Each phase is a function in PHASES taking the shared Run (ledger, workspace folder, what earlier
phases produced) and returning its measurements; later issues add phases (merge, …) after
"generate" and read run.outputs["generate"] for the issued workbooks.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from toolkit.config import Bureau, load_config
from toolkit.model import Indicator, Ledger, Task, Unit
from toolkit.period import Period
from toolkit.template import generate_from

ROOT = Path(__file__).resolve().parent.parent

SECRET = b"bench-secret-not-for-real-use-32"
NOW = dt.datetime(2024, 3, 1, 9, 0)
CO_PER_TASK = 2  # each synthetic task: one lead and two co-owners


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
    units = [Unit(f"测试单位{i:04d}", "市直部门") for i in range(n_units)]
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


def phase_generate(run: Run) -> dict[str, Any]:
    out = run.folder / "outbox"
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
    }


def _fill(job: tuple[Path, Path]) -> Path:
    """A unit's return, via the test suite's unit simulator (tests/ is not an installed package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from toolkit import unitsim

    return unitsim.fill(*job)


def _floor(paths: list[Path]) -> float:
    """The least any reader must do: unzip each file and parse its sheet XML, nothing else."""
    start = time.perf_counter()
    for path in paths:
        with zipfile.ZipFile(path) as zf:
            for name in zf.namelist():
                if name.startswith("xl/worksheets/sheet"):
                    ElementTree.fromstring(zf.read(name))
    return time.perf_counter() - start


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def phase_merge(run: Run) -> dict[str, Any]:
    """Fill every generated workbook as a unit would (not timed); time a full merge (wall clock,
    worker processes included) and a rerun with no new files. Its parts are then timed alone, in
    one process: reading + validating every file against the floor measured on the same files,
    writing 汇总表, and building every receipt."""
    from toolkit import intake, report_book, validate
    from toolkit.merge import merge_with

    if "generate" not in run.outputs:
        phase_generate(run)
    workspace = run.folder / "merge"
    drop = workspace / "drop"
    drop.mkdir(parents=True)
    (workspace / "ducha.toml").write_text("", encoding="utf-8")
    (workspace / ".ducha_secret").write_text(SECRET.hex(), encoding="ascii")
    jobs = [(w.path, drop / f"{w.unit}(1).xlsx") for w in run.outputs["generate"].workbooks]
    with ProcessPoolExecutor(min(os.cpu_count() or 1, 4)) as pool:
        filled = list(pool.map(_fill, jobs, chunksize=16))
    received = dt.datetime.combine(run.period.deadline, dt.time(9)).timestamp() - 86400
    for path in filled:
        os.utime(path, (received, received))
    config = load_config(workspace)
    start = time.perf_counter()
    result = merge_with(config, run.ledger, run.period, now=NOW)
    total = time.perf_counter() - start
    rerun = _seconds(lambda: merge_with(config, run.ledger, run.period, now=NOW))

    floor = _floor(filled)
    limits = intake.Limits.from_config(config)
    read = _seconds(lambda: [
        validate.check_file(p, ledger=run.ledger, period=run.period, secret=SECRET, limits=limits) for p in filled
    ])
    merged = result.merged
    book = _seconds(lambda: report_book.book_bytes(merged, config.bureau))
    units = sorted({f.unit for f in merged.files if f.unit})
    receipts = _seconds(lambda: [report_book.receipt_bytes(merged, u, config.bureau) for u in units])
    n = len(filled)
    return {
        "files": n,
        "accepted": len(merged.counts["units_reported"]) + len(merged.counts["units_late"]),
        "total_s": round(total, 3),
        "rerun_s": round(rerun, 3),
        "floor_per_file_ms": round(1000 * floor / n, 2),
        "read_validate_per_file_ms": round(1000 * read / n, 2),
        "read_validate_vs_floor": round(read / floor, 2),
        "book_s": round(book, 3),
        "receipt_ms": round(1000 * receipts / max(len(units), 1), 2),
        "receipts_one_process_s": round(receipts, 3),
    }


PHASES: dict[str, Callable[[Run], dict[str, Any]]] = {"generate": phase_generate, "merge": phase_merge}


def ledgers(sizes: list[int]) -> list[tuple[str, Ledger]]:
    found: list[tuple[str, Ledger]] = []
    config = load_config(ROOT)
    if config.paths.ledger.exists():
        from toolkit.ledger import load_ledger

        found.append(("real", load_ledger(config)))
    found += [(f"synthetic-{n}", synthetic_ledger(n)) for n in sizes]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description="ducha 性能测试 / benchmark")
    parser.add_argument("--units", default="66,1000", help="synthetic ledger sizes, comma-separated")
    parser.add_argument("--workers", type=int, default=None, help="processes for generate (default: auto)")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated, from {','.join(PHASES)}"
    )
    args = parser.parse_args()
    phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        parser.error(f"unknown phase(s): {', '.join(unknown)}")
    report: dict[str, Any] = {"cpu_count": os.cpu_count(), "workers": args.workers or "auto", "runs": []}
    for name, ledger in ledgers([int(n) for n in args.units.split(",") if n.strip()]):
        with tempfile.TemporaryDirectory(prefix="ducha-bench-") as folder:
            run = Run(name, ledger, Path(folder), workers=args.workers)
            entry: dict[str, Any] = {"ledger": name, "units": len(ledger.units), "tasks": len(ledger.tasks)}
            entry |= {phase: PHASES[phase](run) for phase in phases}
            report["runs"].append(entry)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
