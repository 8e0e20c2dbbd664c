"""Speed (issue 18): `ducha merge` with nothing new answers from the last run's summary without
reading the ledger, the store or a file; anything that could change the answer runs it in full."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.test_merge import _drop, _quarter, _snapshot, issued, ws  # noqa: F401 (fixtures)
from toolkit.cli.app import cli
from toolkit.cli.text import summary_lines
from toolkit.outputs import publish
from toolkit.outputs.receipts import receipt_name


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the merges that took the drop folder in (the full ones)."""
    done: list[str] = []
    real = publish.merge_taken

    def counted(*args, **kwargs):
        done.append("full")
        return real(*args, **kwargs)

    monkeypatch.setattr(publish, "merge_taken", counted)
    return done


def _merge(ws: Path, *more: str) -> str:  # noqa: F811
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1", *more])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_rerun_with_nothing_new_prints_the_same_summary_without_merging(ws: Path, runs: list[str]) -> None:  # noqa: F811
    _quarter(ws)
    first = json.loads(_merge(ws, "--json"))
    outputs = _snapshot(ws)
    again = json.loads(_merge(ws, "--json"))
    text = _merge(ws)
    assert runs == ["full"]
    assert again == first | {"new_files": []}
    assert text.splitlines() == summary_lines(again)
    assert _snapshot(ws) == outputs


@pytest.mark.parametrize("change", ["new file", "touched file", "deleted receipt", "config", "ledger"])
def test_anything_that_could_change_the_answer_merges_in_full(ws: Path, runs: list[str], change: str) -> None:  # noqa: F811
    units = _quarter(ws)
    _merge(ws)
    if change == "new file":
        _drop(ws, units[3], "d-fixed.xlsx", "2024-03-27T09:00:00")
    elif change == "touched file":
        os.utime(ws / "drop" / "late.xlsx", (1e9, 1e9))
    elif change == "deleted receipt":
        (ws / "reports" / "2024Q1" / "回执" / receipt_name("2024Q1", units[0])).unlink()
    elif change == "config":
        (ws / "ducha.toml").write_text("[checks]\nprogress_missing = \"warning\"\n", encoding="utf-8")
    else:
        os.utime(ws / "master_ledger.xlsx", (1e9, 1e9))
    data = json.loads(_merge(ws, "--json"))
    assert runs == ["full", "full"]
    if change == "new file":
        assert [Path(p).name for p in data["new_files"]] == ["d-fixed.xlsx"]
    assert all(Path(p).exists() for p in data["outputs"])
    _merge(ws)
    assert runs == ["full", "full"]  # and quiet again


def test_recheck_always_merges_in_full(ws: Path, runs: list[str]) -> None:  # noqa: F811
    _quarter(ws)
    _merge(ws)
    _merge(ws, "--recheck")
    assert runs == ["full", "full"]


def test_a_first_merge_starts_its_readers_server_before_the_lock_and_a_rerun_starts_none(
        ws: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    """With no kept summary a full merge is certain, so the readers' server starts first, beside
    the lock, and the key (a stat of every dropped file and output) is taken once, to keep the
    summary; a run that answers from the kept summary starts no server at all."""
    from toolkit.outputs import rerun

    calls: list[str] = []
    real_warm_up, real_lock, real_key = rerun.warm_up, rerun.workspace_lock, rerun.key

    def warm_up(drop: Path) -> None:
        calls.append("server")
        real_warm_up(drop)

    def workspace_lock(path: Path):
        calls.append("lock")
        return real_lock(path)

    def key(*args):
        calls.append("key")
        return real_key(*args)

    monkeypatch.setattr(rerun, "warm_up", warm_up)
    monkeypatch.setattr(rerun, "workspace_lock", workspace_lock)
    monkeypatch.setattr(rerun, "key", key)
    _quarter(ws)
    _merge(ws)
    assert calls[:2] == ["server", "lock"] and calls.count("key") == 1
    calls.clear()
    _merge(ws)  # nothing new: answered from the kept summary
    assert calls == ["lock", "key"]
    os.utime(ws / "drop" / "late.xlsx", (1e9, 1e9))
    calls.clear()
    _merge(ws)  # something new, a summary kept: the server starts once the key says so
    assert calls == ["lock", "key", "server", "key"]
