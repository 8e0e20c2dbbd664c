"""scripts/bench.py: each round in its own workspace, with nothing deleted or replaced before the end.

A file system that passes over recently deleted inodes made every merge after the bench's own
clean-up slower, and only ducha's (it creates two files a unit, the peer one), so these pin what
the rounds are made of.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules["bench"]


def _sheets_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return b"".join(zf.read(n) for n in zf.namelist() if n.startswith("xl/worksheets/"))


def test_returns_are_written_beside_the_issued_workbooks_which_stay_as_issued(bench, tmp_path):
    run = bench.Run("tiny", bench.synthetic_ledger(3), tmp_path, workers=1)
    paths = bench.returns(run, tmp_path / "drop")
    assert sorted(p.name for p in paths) == sorted(p.name for p in (tmp_path / "issued").iterdir())
    for path in paths:
        issued = tmp_path / "issued" / path.name
        assert path.parent == tmp_path / "drop" and path.stat().st_ino != issued.stat().st_ino
        assert "李明".encode() in _sheets_xml(path) and "李明".encode() not in _sheets_xml(issued)
        assert path.stat().st_mtime == bench.dt.datetime.combine(run.period.deadline, bench.dt.time(9)).timestamp() - 86400


def test_each_round_gets_its_own_workspace_with_the_returns_linked_not_copied(bench, tmp_path):
    template = tmp_path / "ws"
    (template / "drop").mkdir(parents=True)
    for name, text in (("ducha.toml", "[bureau]\n"), (".ducha_secret", "ab" * 32), ("master_ledger.xlsx", "ledger")):
        (template / name).write_text(text, encoding="utf-8")
    (template / "drop" / "甲.xlsx").write_bytes(b"return")
    first = bench._round(template, tmp_path / "round1")
    second = bench._round(template, tmp_path / "round2")
    for root in (first, second):
        assert (root / "ducha.toml").read_text(encoding="utf-8") == "[bureau]\n"
        assert (root / ".ducha_secret").read_text(encoding="utf-8") == "ab" * 32
        assert (root / "master_ledger.xlsx").stat().st_ino != (template / "master_ledger.xlsx").stat().st_ino
        assert (root / "drop" / "甲.xlsx").stat().st_ino == (template / "drop" / "甲.xlsx").stat().st_ino
        assert sorted(p.name for p in root.iterdir()) == [".ducha_secret", "drop", "ducha.toml", "master_ledger.xlsx"]
    assert (template / "drop" / "甲.xlsx").read_bytes() == b"return"


_HOLDING_PARENT = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
bench = importlib.util.module_from_spec(spec)
sys.modules["bench"] = bench
spec.loader.exec_module(bench)
held = bytearray(300 * 1024 * 1024)
held[::4096] = b"x" * len(held[::4096])  # touched: resident
print(bench.ducha(__import__("pathlib").Path(sys.argv[2]), "--help").peak_mb)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="VmHWM is Linux's")
def test_the_merges_peak_memory_is_its_own_not_the_benchs(tmp_path):
    """A process started from one holding 300 MB begins its ru_maxrss at 300 MB (the kernel keeps
    the parent's high-water mark over the exec): at 10,000 units that was the bench's memory, not
    ducha's, that `make bench` reported. The 300 MB are held by a parent of its own, not by pytest,
    whose peak the other tests' child processes would then start from."""
    done = subprocess.run([sys.executable, "-c", _HOLDING_PARENT, str(ROOT / "scripts" / "bench.py"), str(tmp_path)],
                          capture_output=True, text=True, check=True, cwd=ROOT)
    assert float(done.stdout) < 150


def test_a_synthetic_plan_passes_the_ledger_check_and_reaches_the_unit_workbooks(bench, tmp_path):
    # BENCH_MILESTONES: the scans that grow with 节点计划 never showed in a bench without one.
    from python_calamine import CalamineWorkbook

    from toolkit.config import load_config
    from toolkit.ledger.build import load_ledger

    ledger = bench.synthetic_ledger(3, milestones=3)
    assert [(m.seq, m.due.isoformat(), m.progress) for m in ledger.plan(1)] == [
        (1, "2024-04-30", 33.3), (2, "2024-08-30", 66.7), (3, "2024-12-30", 100.0)]
    assert len(ledger.milestones) == 3 * len(ledger.tasks)
    run = bench.Run("tiny", ledger, tmp_path, workers=1)
    assert load_ledger(load_config(bench.workspace(run))).milestones == ledger.milestones
    bench.returns(run, tmp_path / "drop")
    lead = next(p for p in (tmp_path / "issued").iterdir() if p.stem.endswith(ledger.tasks[0].lead))
    rows = CalamineWorkbook.from_path(lead).get_sheet_by_name("节点计划").to_python()
    assert [r[:5] for r in rows[1:4]] == [[1.0, float(m.seq), m.content, m.due, m.progress] for m in ledger.plan(1)]
