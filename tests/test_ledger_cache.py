"""The ledger kept between runs (toolkit/ledger/cache.py): a second load reads nothing of the
workbook, any change to what the check depends on reads it again, and a cache that does not
carry the workspace's signature is never unpickled."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from pathlib import Path

import pytest

from tests.test_ledger import edit
from toolkit.config import load_config
from toolkit.errors import LedgerError
from toolkit.ledger import build, cache
from toolkit.ledger.build import load_ledger
from toolkit.ledger.sheets import read_tables


@pytest.fixture
def ws(workspace: Path, built: Path) -> Path:
    shutil.copy(built, workspace / "master_ledger.xlsx")
    (workspace / ".ducha_secret").write_text("ab" * 32 + "\n", encoding="ascii")
    return workspace


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The ledger files read sheet by sheet from now on."""
    seen: list[Path] = []

    def counted(path: Path, data: bytes | None = None):
        seen.append(path)
        return read_tables(path, data)

    monkeypatch.setattr(build, "read_tables", counted)
    return seen


def test_a_second_load_reads_no_sheet_and_gives_the_same_ledger(ws: Path, reads: list[Path]) -> None:
    config = load_config(ws)
    first = load_ledger(config)
    assert reads == [config.paths.ledger] and config.paths.ledger_cache.is_file()
    again = load_ledger(config)
    assert reads == [config.paths.ledger]  # not read again
    assert again == first and again is not first
    assert [u.name for u in again.units] == [u.name for u in first.units] and again.unit(first.units[3].name)


def test_equal_texts_are_one_object_read_or_kept_and_no_field_is_lost(ws: Path, reads: list[Path]) -> None:
    # Sharing them is what keeps a 10,000-unit ledger at 29 MB instead of 63 MB (docs/性能.md).
    config = load_config(ws)
    for ledger in (load_ledger(config), load_ledger(config)):
        tasks = ledger.tasks
        for part in ("category", "section", "leaders"):
            values = [getattr(t, part) for t in tasks]
            assert len({id(v) for v in values}) == len(set(values)) < len(values)
        kinds = [u.kind for u in ledger.units]
        assert len({id(k) for k in kinds}) == len(set(kinds))
    assert len(reads) == 1
    assert ledger.units[0].email_at == "单位名录!F2"  # not part of ==, still kept
    assert [dataclasses.astuple(t) for t in ledger.tasks] == [dataclasses.astuple(t) for t in load_ledger(config).tasks]


def test_an_edited_ledger_or_another_year_is_read_again(ws: Path, reads: list[Path]) -> None:
    config = load_config(ws)
    before = load_ledger(config)
    edit(config.paths.ledger, "单位名录", {"F3": "new@kaifeng.gov.cn"})
    after = load_ledger(config)
    assert len(reads) == 2 and after != before  # the clerk's edit is seen
    assert load_ledger(config) == after and len(reads) == 2
    next_year = dataclasses.replace(config, bureau=dataclasses.replace(config.bureau, year=config.bureau.year + 1))
    load_ledger(next_year)
    assert len(reads) == 3


def test_a_ledger_with_errors_is_refused_every_time_and_never_kept(ws: Path, reads: list[Path]) -> None:
    config = load_config(ws)
    edit(config.paths.ledger, "任务台账", {"A3": "二"})
    for _ in range(2):
        with pytest.raises(LedgerError, match="处错误"):
            load_ledger(config)
    assert len(reads) == 2 and not config.paths.ledger_cache.exists()


class _Planted:
    """A pickle that, when loaded, writes a file: what a forged cache would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


@pytest.mark.parametrize("forgery", ["flipped", "unsigned", "other secret", "truncated"])
def test_a_cache_that_does_not_verify_is_never_unpickled(ws: Path, reads: list[Path], forgery: str) -> None:
    config = load_config(ws)
    ledger = load_ledger(config)
    path, marker = config.paths.ledger_cache, ws / "planted.txt"
    kept = path.read_bytes()
    head = len(cache._MAGIC)
    planted = pickle.dumps(_Planted(marker))
    forged = {
        "flipped": kept[:-1] + bytes([kept[-1] ^ 1]),
        "unsigned": kept[:head + 64] + planted,  # the right key and an old signature over other bytes
        "truncated": kept[: len(kept) // 2],
    }.get(forgery)
    if forgery == "other secret":
        config.paths.secret.write_text("cd" * 32 + "\n", encoding="ascii")
        forged = kept
    path.write_bytes(forged)
    assert load_ledger(config) == ledger
    assert len(reads) == 2 and not marker.exists()  # read from the workbook; the planted pickle never ran
    assert load_ledger(config) == ledger and len(reads) == 2  # kept again, under this secret


def test_a_workspace_without_a_secret_keeps_no_cache(ws: Path, reads: list[Path]) -> None:
    config = load_config(ws)
    config.paths.secret.unlink()
    load_ledger(config)
    load_ledger(config)
    assert len(reads) == 2 and not config.paths.ledger_cache.exists()
    assert not config.paths.secret.exists()  # loading the ledger does not create one


def test_an_unwritable_cache_only_costs_the_next_load(ws: Path, reads: list[Path], monkeypatch) -> None:
    config = load_config(ws)

    def refuse(*_args, **_kwargs):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(cache, "write_atomic", refuse)
    assert load_ledger(config) == load_ledger(config)
    assert len(reads) == 2


def test_without_the_readers_files_nothing_is_kept(ws: Path, reads: list[Path], monkeypatch) -> None:
    """A build whose reader modules have no file to tell an upgrade by keeps no cache."""
    monkeypatch.setattr(cache._python_calamine, "__file__", None)
    cache._versions.cache_clear()
    try:
        config = load_config(ws)
        assert load_ledger(config) == load_ledger(config)
        assert len(reads) == 2 and not config.paths.ledger_cache.exists()
    finally:
        cache._versions.cache_clear()


def test_an_upgraded_reader_reads_the_ledger_again(ws: Path, reads: list[Path], monkeypatch) -> None:
    config = load_config(ws)
    load_ledger(config)
    monkeypatch.setattr(cache.chinese_calendar, "__version__", "99.0")
    cache._versions.cache_clear()
    try:
        load_ledger(config)
        assert len(reads) == 2
    finally:
        cache._versions.cache_clear()
