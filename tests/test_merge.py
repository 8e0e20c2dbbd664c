"""The merge run end to end: real workbooks taken in from the drop folder, verdicts, outputs,
idempotence, other periods, the lock."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from filelock import FileLock

from tests.conftest import NOTICE
from toolkit import pool
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.forms.plan import file_name
from toolkit.ledger.build import build_ledger, load_ledger
from toolkit.outputs.publish import merge
from toolkit.outputs.receipts import receipt_name
from toolkit.period import Period
from toolkit.quarter import prefill
from toolkit.quarter.store import open_store
from toolkit.quarter.takein import _needs_check

Q1 = Period.parse("2024Q1")


@pytest.mark.parametrize(
    ("checked_periods", "expected"),
    [({}, True), ({"2024Q1": False}, False), ({"2024Q1": True}, False), ({"2023Q4": False}, False),
     ({"2023Q4": True}, True), ({"2023Q4": True, "2023Q3": False}, False)],
)
def test_which_files_are_checked_for_the_period(checked_periods, expected) -> None:
    assert _needs_check(checked_periods, "2024Q1") is expected


# --- end to end: real generated workbooks, filled as units do, merged from the drop folder ------

NOW = dt.datetime(2024, 3, 1, 9, 0)
Q2 = Period.parse("2024Q2")


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the real ledger and the Q1 and Q2 workbooks generated (built once)."""
    root = tmp_path_factory.mktemp("issued")
    (root / "data").mkdir()
    shutil.copy(NOTICE, root / "data" / NOTICE.name)
    (root / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(root)
    build_ledger(config, now=NOW)
    prefill.generate(config, Q1, now=NOW)
    return root


@pytest.fixture
def ws(issued: Path, tmp_path: Path) -> Path:
    shutil.copytree(issued, tmp_path / "ws")
    return tmp_path / "ws"


def _units(ws: Path) -> list[str]:
    return list(load_ledger(load_config(ws)).assignments())


def _drop(ws: Path, unit: str, name: str, when: str, mutate: tuple[str, ...] = (), period: Period = Q1,
          seed: int = 0) -> Path:
    """Fill the unit's issued workbook as the unit would and save it in the drop folder at `when`."""
    src = ws / "outbox" / period.key / file_name(period, unit)
    answers = unitsim.good_answers(load_ledger(load_config(ws)).assignments()[unit], seed)
    return _touch(unitsim.fill(src, ws / "drop" / name, answers, mutate=list(mutate)), when)


def _touch(path: Path, when: str) -> Path:
    stamp = dt.datetime.fromisoformat(when).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _snapshot(ws: Path) -> dict[str, bytes]:
    """Every output the clerk sees (hidden temporary files aside), by relative path."""
    return {str(p.relative_to(ws)): p.read_bytes() for p in sorted((ws / "reports").rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def _quarter(ws: Path) -> list[str]:
    """One quarter as the clerk lives it; returns the units in the order used."""
    u = _units(ws)
    _drop(ws, u[0], "发改委 一季度.xlsx", "2024-03-20T10:00:00")
    _drop(ws, u[1], "late.xlsx", "2024-03-29T09:00:00")
    _drop(ws, u[2], "c-first.xlsx", "2024-03-10T09:00:00")
    second = _drop(ws, u[2], "c-second.xlsx", "2024-03-20T09:00:00", seed=1)
    (ws / "drop" / "again").mkdir()
    _touch(Path(shutil.copy(second, ws / "drop" / "again" / "c-second(1).xlsx")), "2024-03-21T09:00:00")
    _drop(ws, u[3], "d.xlsx", "2024-03-20T09:00:00", ("progress_text",))
    _drop(ws, u[4], "e-bad.xlsx", "2024-03-18T09:00:00", ("edit_locked",))
    _drop(ws, u[4], "e-good.xlsx", "2024-03-19T09:00:00", ("bad_phone",))
    (ws / "drop" / "scan.xlsx").write_bytes(b"%PDF-1.4 not a workbook")
    _touch(ws / "drop" / "scan.xlsx", "2024-03-20T09:00:00")
    return u


def test_a_whole_quarter_merges_with_the_right_verdicts(ws: Path) -> None:
    u = _quarter(ws)
    config = load_config(ws)
    result = merge(config, Q1, now=dt.datetime(2024, 3, 30, 8, 0))
    summary = result.summary()
    verdicts = {Path(f["path"]).name: (f["unit"], f["verdict"], f["late"]) for f in summary["files"]}
    assert verdicts == {
        "发改委 一季度.xlsx": (u[0], "accepted", False),
        "late.xlsx": (u[1], "accepted", True),
        "c-first.xlsx": (u[2], "superseded", False),
        "c-second.xlsx": (u[2], "accepted", False),
        "c-second(1).xlsx": (u[2], "duplicate", False),
        "d.xlsx": (u[3], "rejected", False),
        "e-bad.xlsx": (u[4], "rejected", False),
        "e-good.xlsx": (u[4], "accepted", False),
        "scan.xlsx": (None, "rejected", False),
    }
    assert summary["units_reported"] == [u[0], u[2], u[4]]
    assert summary["units_late"] == [u[1]]
    assert summary["units_rejected"] == [u[3]]
    assert summary["units_missing"] == u[5:]
    issues = {Path(f["path"]).name: [(i["level"], i["code"]) for i in f["issues"]] for f in summary["files"]}
    assert issues["d.xlsx"] == [("error", "progress_invalid")]
    assert ("error", "locked_cell_changed") in issues["e-bad.xlsx"]
    assert issues["e-good.xlsx"] == [("warning", "phone_invalid")]
    assert [level for level, _ in issues["scan.xlsx"]] == ["error"]
    assert len(result.new_files) == 8  # the copy of c-second was not read again
    out = ws / "reports" / "2024Q1"
    assert summary["outputs"] == [str(out / "汇总表.xlsx")] + [
        str(out / "回执" / receipt_name("2024Q1", unit)) for unit in u[:5]]
    assert sorted(p.name for p in (ws / "archive" / "2024Q1").iterdir()) == sorted(
        f"{f['sha256']}.xlsx" for f in summary["files"] if f["verdict"] != "duplicate")
    assert summary["tasks"]["total"] == 153
    assert sum(summary["tasks"]["light"].values()) == 153
    book = openpyxl.load_workbook(out / "汇总表.xlsx")
    problems = [row[5] for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert "完成进度不是数字" in problems and "锁定的单元格（任务内容、责任领导、本单位职责）被改动" in problems
    receipt = openpyxl.load_workbook(out / "回执" / receipt_name("2024Q1", u[3]))
    [issue] = [f["issues"][0] for f in summary["files"] if Path(f["path"]).name == "d.xlsx"]
    cell = receipt["进展填报"][issue["cell"]]
    assert cell.comment.text == issue["message"] and "八成" in issue["message"]


def test_rerunning_with_no_new_files_changes_nothing(ws: Path) -> None:
    _quarter(ws)
    config = load_config(ws)
    first = merge(config, Q1, now=dt.datetime(2024, 3, 30, 8, 0))
    before = _snapshot(ws)
    mtimes = {p: p.stat().st_mtime_ns for p in first.outputs}
    with open_store(config.paths.store) as store:
        dump = store.dump()
    again = merge(config, Q1, now=dt.datetime(2024, 3, 30, 17, 0))
    assert again.new_files == []
    assert _snapshot(ws) == before
    assert {p: p.stat().st_mtime_ns for p in again.outputs} == mtimes
    with open_store(config.paths.store) as store:
        assert store.dump() == dump
    assert again.summary() == first.summary() | {"new_files": []}


def test_a_new_file_is_taken_in_on_the_next_run(ws: Path) -> None:
    u = _quarter(ws)
    config = load_config(ws)
    merge(config, Q1, now=dt.datetime(2024, 3, 30, 8, 0))
    _drop(ws, u[3], "d-fixed.xlsx", "2024-03-27T09:00:00")
    result = merge(config, Q1, now=dt.datetime(2024, 3, 30, 9, 0))
    assert [Path(p).name for p in result.new_files] == ["d-fixed.xlsx"]
    assert result.merged.unit_status[u[3]] == "已报送"


def test_files_for_other_quarters(ws: Path) -> None:
    u = _units(ws)
    config = load_config(ws)
    prefill.generate(config, Q2, now=NOW)
    _drop(ws, u[0], "q1.xlsx", "2024-03-20T10:00:00")
    _drop(ws, u[1], "q2-early.xlsx", "2024-03-21T10:00:00", period=Q2)
    q1 = merge(config, Q1, now=dt.datetime(2024, 3, 30)).summary()
    assert [(Path(f["path"]).name, f["verdict"]) for f in q1["files"]] == [("q1.xlsx", "accepted"),
                                                                           ("q2-early.xlsx", "rejected")]
    assert [i["code"] for f in q1["files"] for i in f["issues"]] == ["wrong_period"]
    q2 = merge(config, Q2, now=dt.datetime(2024, 6, 1)).summary()
    assert [(Path(f["path"]).name, f["verdict"]) for f in q2["files"]] == [("q2-early.xlsx", "accepted")]
    assert q2["units_reported"] == [u[1]] and q2["skipped"] == [str(ws / "drop" / "q1.xlsx")]


def test_next_quarter_is_prefilled_with_the_last_accepted_answers(ws: Path) -> None:
    u = _units(ws)
    config = load_config(ws)
    _drop(ws, u[0], "q1.xlsx", "2024-03-20T10:00:00")
    merge(config, Q1, now=dt.datetime(2024, 3, 30))
    prefill.generate(config, Q2, now=NOW)
    q1 = openpyxl.load_workbook(ws / "drop" / "q1.xlsx")["进展填报"]
    q2 = openpyxl.load_workbook(ws / "outbox" / "2024Q2" / file_name(Q2, u[0]))["进展填报"]
    answers = [[c.value for c in row[4:]] for row in q1.iter_rows(min_row=6)]
    assert answers and any(any(a) for a in answers)
    assert [[c.value for c in row[4:]] for row in q2.iter_rows(min_row=6)] == answers
    untouched = openpyxl.load_workbook(ws / "outbox" / "2024Q2" / file_name(Q2, u[1]))["进展填报"]
    assert all(c.value is None for row in untouched.iter_rows(min_row=6) for c in row[4:])


def test_cli_merge_json_and_text(ws: Path) -> None:
    u = _quarter(ws)
    runner = CliRunner()
    result = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"period", "deadline", "units_expected", "units_reported", "units_late", "units_missing",
            "units_rejected", "files", "tasks", "outputs"} <= set(data)
    assert set(data["files"][0]) >= {"path", "sha256", "unit", "verdict", "issues"}
    assert all(set(i) == {"level", "code", "sheet", "cell", "message"} for f in data["files"] for i in f["issues"])
    assert sum(len(f["issues"]) for f in data["files"]) >= 4
    assert set(data["tasks"]) == {"total", "status", "light"}
    assert data["period"] == "2024Q1" and data["deadline"] == "2024-03-28"
    text = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert text.exit_code == 0
    assert "本次新处理文件 0 个；累计收到 9 个：采用 4，已被新文件替代 1，重复文件 1，退回修改 3" in text.output
    assert f"退回修改：{u[3]}" in text.output
    assert f"汇总表：{ws / 'reports' / '2024Q1' / '汇总表.xlsx'}" in text.output


def test_cli_text_names_each_newly_rejected_file_with_its_first_error(ws: Path) -> None:
    u = _quarter(ws)
    runner = CliRunner()
    first = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert first.exit_code == 0, first.output
    rejected = [line for line in first.output.splitlines() if line.startswith("  新退回 ")]
    assert len(rejected) == 3
    assert any(f"（{u[3]}）：错误 " in line and "处，如 进展填报!" in line for line in rejected)
    again = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert "新退回" not in again.output


def test_cli_merge_refuses_while_locked_and_on_a_missing_drop(ws: Path) -> None:
    runner = CliRunner()
    with FileLock(str(load_config(ws).paths.lock)):
        result = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert result.exit_code == 1
    assert "另一个 ducha 任务正在运行" in result.output
    missing = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1", "--drop", str(ws / "nope")])
    assert missing.exit_code == 1 and "收件夹不存在" in missing.output
    bad = runner.invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q5"])
    assert bad.exit_code == 2


def test_dropped_files_are_never_modified(ws: Path) -> None:
    _quarter(ws)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (ws / "drop").rglob("*") if p.is_file()}
    merge(load_config(ws), Q1, now=dt.datetime(2024, 3, 30))
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (ws / "drop").rglob("*") if p.is_file()}
    assert after == before


def _state(ws: Path) -> tuple[dict[str, bytes], dict, list[str]]:
    with open_store(load_config(ws).paths.store) as store:
        dump = store.dump()
    return _snapshot(ws), dump, sorted(p.name for p in (ws / "archive").rglob("*"))


def _reset(ws: Path) -> None:
    for name in ("reports", "archive"):
        shutil.rmtree(ws / name, ignore_errors=True)
    for db in ws.glob("ducha.db*"):
        db.unlink()


def test_worker_processes_give_the_same_store_and_outputs(ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _quarter(ws)
    config = load_config(ws)
    merge(config, Q1, now=dt.datetime(2024, 3, 30, 8, 0))
    expected = _state(ws)
    _reset(ws)
    monkeypatch.setattr(pool, "POOL_THRESHOLD", 2)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    merge(config, Q1, now=dt.datetime(2024, 3, 30, 8, 0))
    assert _state(ws) == expected


def test_a_killed_runs_temporary_archive_copy_is_removed(ws: Path) -> None:
    """A reading worker killed mid-copy leaves archive/<period>/.<sha>.xlsx.xxxx.tmp; the next merge,
    holding the lock after every worker stopped, removes it (and keeps the real copies)."""
    _quarter(ws)
    stale = ws / "archive" / "2024Q1" / ".0123abcd.xlsx.k1ll3d.tmp"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"PK\x03\x04 half a copy")
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1"])
    assert result.exit_code == 0, result.output
    assert not stale.exists()
    assert list((ws / "archive" / "2024Q1").glob("*.xlsx"))
