"""Speed (issue 18): a merge flushes the archived copies of a batch of files to disk together,
before recording any of them, instead of one fsync a file; a copy a power cut left empty or
partial is made again rather than trusted for having the right size."""

from __future__ import annotations

import contextlib
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from toolkit import fsutil
from toolkit.config import load_config
from toolkit.intake import archive
from toolkit.outputs.publish import merge
from toolkit.period import Period
from toolkit.quarter import takein
from toolkit.quarter.store import Store


def test_an_archived_copy_of_the_right_size_but_other_content_is_made_again(tmp_path):
    dropped = tmp_path / "回报.xlsx"
    dropped.write_bytes(b"PK" + bytes(range(200)))
    sha256 = archive.file_facts(dropped)[0]
    copy = archive.archive(dropped, tmp_path / "archive", sha256, flush=False)
    assert copy.read_bytes() == dropped.read_bytes()
    copy.write_bytes(b"\0" * dropped.stat().st_size)  # what a power cut can leave of an unflushed copy
    assert archive.archive(dropped, tmp_path / "archive", sha256) == copy
    assert copy.read_bytes() == dropped.read_bytes()


def test_flush_files_syncs_once_for_a_batch(tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(fsutil.os, "sync", lambda: calls.append("sync"), raising=False)
    monkeypatch.setattr(fsutil.os, "fsync", lambda fd: calls.append("fsync"))
    paths = [fsutil.write_bytes_atomic(tmp_path / f"{i}.xlsx", b"x", flush=False) for i in range(5)]
    assert calls == []
    fsutil.flush_files(paths)
    assert calls == ["sync"]
    fsutil.flush_files([])
    assert calls == ["sync"]
    monkeypatch.delattr(fsutil.os, "sync")  # Windows has no sync(): each file is flushed
    fsutil.flush_files(paths)
    assert calls == ["sync"] + ["fsync"] * 5
    fsutil.write_bytes_atomic(tmp_path / "one.xlsx", b"y")
    assert calls[-1] == "fsync" and len(calls) == 7


def test_every_file_is_recorded_only_after_its_archived_copy_was_flushed(issued, tmp_path, monkeypatch):
    root = tmp_path / "ws"
    shutil.copytree(issued, root)
    drop = root / "drop"
    drop.mkdir()
    for path in sorted((root / "outbox" / "2024Q1").glob("*.xlsx"))[:7]:
        shutil.copy(path, drop / path.name)
    events: list[tuple[str, object]] = []
    flush = takein.flush_files
    monkeypatch.setattr(takein, "flush_files", lambda paths: (events.append(("flush", list(paths))), flush([]))[1])
    monkeypatch.setattr(takein, "_FLUSH_EVERY", 3)
    record = Store.record

    def recording(self, result, period, archived, **kwargs):
        events.append(("record", Path(archived)))
        return record(self, result, period, archived, **kwargs)

    monkeypatch.setattr(Store, "record", recording)
    batch = Store.batch

    @contextlib.contextmanager
    def batching(self):
        with batch(self):
            yield
        events.append(("commit", None))

    monkeypatch.setattr(Store, "batch", batching)
    merge(load_config(root), Period.parse("2024Q1"))
    flushed: set[Path] = set()
    recorded = []
    for kind, what in events:
        if kind == "flush":
            flushed.update(what)
        elif kind == "record":
            assert what in flushed, f"{what} recorded before it was flushed"
            recorded.append(what)
    assert len(recorded) == 7
    batches = ["flush"] + ["record"] * 3 + ["commit"]  # each batch recorded in one transaction
    assert [kind for kind, _ in events] == batches * 2 + ["flush", "record", "commit"]
    assert all(p.parent == root / "archive" / "2024Q1" for p in recorded)


def test_a_batch_of_records_is_stored_all_or_nothing(tmp_path):
    """A run killed or failing while it records a batch leaves none of the batch recorded, so
    the next run reads those files again (their archived copies are on disk already)."""
    from toolkit.model import CheckedFile
    from toolkit.quarter.store import open_store

    files = [CheckedFile(path=f"{n}.xlsx", sha256=f"{n:064x}", size=1, received="2024-03-20T09:00:00",
                         format="xlsx") for n in range(3)]
    with open_store(tmp_path / "ducha.db") as store:
        with pytest.raises(RuntimeError), store.batch():
            for checked in files[:2]:
                store.record(checked, "2024Q1", checked.path)
            raise RuntimeError("killed mid-batch")
        assert store.load_period("2024Q1") == []
        with store.batch():
            for checked in files:
                store.record(checked, "2024Q1", checked.path)
        store.record(files[0], "2024Q1", "again.xlsx")  # outside a batch: its own transaction again
    with open_store(tmp_path / "ducha.db") as store:
        assert [r.path for r in store.load_period("2024Q1")] == ["0.xlsx", "1.xlsx", "2.xlsx"]


@pytest.mark.parametrize("forks", [False, True])
def test_the_workers_server_preloads_the_modules_the_merge_runs_in_it(tmp_path, monkeypatch, forks):
    """The receipt writer is preloaded only for enough receipts, and only where their workers come
    from the server: where they are forked from the merge itself they have it already."""
    from toolkit import pool
    from toolkit.intake import check
    from toolkit.outputs import publish, warm

    assert (check.__name__, publish.__name__) == (warm.READ_MODULE, warm.WRITE_MODULE)
    started: list[tuple[str, ...]] = []
    monkeypatch.setattr(pool, "warm_up", lambda *modules: started.append(modules))
    monkeypatch.setattr(pool, "OWN_WORK_FORKS", forks)
    (tmp_path / "drop").mkdir()
    for i in range(pool.POOL_THRESHOLD - 1):
        (tmp_path / "drop" / f"{i}.xlsx").write_bytes(b"")
    warm.warm_up(tmp_path / "drop")
    (tmp_path / "drop" / "last.xlsx").write_bytes(b"")
    warm.warm_up(tmp_path / "drop")
    warm.warm_up(tmp_path / "no such folder")
    with_writer = (check.__name__,) if forks else (check.__name__, publish.__name__)
    assert started == [(check.__name__,), with_writer, (check.__name__,)]


PIECES = [b"<f>", b"<x:f ", b"<f/>", b"<c r=\"A1\" t=\"e\">", b"<v>1</v>", b"</c>", b"<fo>", b"x:f", b"t=\"e\"", b" ", b"<",
          b"f", b":", b"\t", b"<row r=\"2\">", b"<is><t>f</t></is>", b"<sheetFormatPr/>", b"<x:fx", b"\nt=\"e\"", b"<formula1>", b"\x0b", b"\x0c", b"\r", b"/", b">"]


@given(st.lists(st.sampled_from(PIECES), max_size=12))
def test_the_cheap_test_before_the_formula_regex_never_skips_a_match(pieces):
    from toolkit.intake.parts import _DETAIL_MARK, _may_hold_details

    data = b"".join(pieces)
    assert _may_hold_details(data) or not _DETAIL_MARK.search(data)


def test_a_formula_or_an_error_cell_is_still_found():
    from toolkit.intake.parts import _DETAIL_MARK, _may_hold_details

    for data in (b'<c r="F7"><f>1/0</f><v>1</v></c>', b'<x:c r="F7"><x:f>A1</x:f></x:c>', b'<c r="F7" t="e"><v>#DIV/0!</v></c>'):
        assert _may_hold_details(data) and _DETAIL_MARK.search(data)
    drop_down = '<dataValidation type="list"><formula1>"已完成,正常推进"</formula1></dataValidation>'.encode()
    assert not _may_hold_details(b'<c r="F7"><v>1</v></c>' + drop_down)  # a sheet as issued: no regex scan
    assert not _may_hold_details(b'<c r="F7" s="3" t="s"><v>12</v></c><c r="G7"/>')


_REF = st.tuples(st.text("ABCXYZabz", min_size=1, max_size=4), st.integers(1, 10**8))


@st.composite
def sheet_xml(draw) -> bytes:
    """Sheet XML as a crafted file may write it: prefixed or not, rows and cells with or without
    r=, blank styled cells, references in other attributes, <rowBreaks>."""
    prefix = draw(st.sampled_from(["", "x:"]))
    rows = []
    for _ in range(draw(st.integers(0, 4))):
        cells = []
        for letters, number in draw(st.lists(_REF, max_size=4)):
            space = draw(st.sampled_from([" ", "\n", "\t"]))
            ref = draw(st.sampled_from([f'{space}r="{letters}{number}"', "", "", f' xr="{letters}{number}"']))
            blank = draw(st.booleans())
            cells.append(f"<{prefix}c{ref} s=\"1\"/>" if blank else f"<{prefix}c{ref}><{prefix}v>1</{prefix}v></{prefix}c>")
        row_ref = draw(st.sampled_from(["", f' r="{draw(st.integers(1, 10**7))}"']))
        rows.append(f"<{prefix}row{row_ref}>{''.join(cells)}</{prefix}row>")
        if draw(st.booleans()):
            rows.append(f'<{prefix}rowBreaks count="1"/>')
    return f"<{prefix}worksheet><{prefix}sheetData>{''.join(rows)}</{prefix}sheetData></{prefix}worksheet>".encode()


@given(sheet_xml())
@example(b"<x:sheetData><x:row><x:c><x:v>1</x:v></x:c></x:row></x:sheetData>")  # counted rows, prefixed
@example(b'<sheetData><row><c\nr="B9"><v>1</v></c></row></sheetData>')  # a reference after a line break
@example(b'<sheetData><row r="9000"><c><v>1</v></c></row></sheetData>')  # a row's r= places the cell
def test_the_quick_look_clears_only_a_sheet_the_full_measure_finds_small(data):
    """A sheet passes on _near alone only when the full measure would find it within _NEAR_SPAN."""
    from toolkit.intake import parts

    if parts._near(data):
        rows, cols = parts._placed_extent(data)
        assert rows * cols <= parts._NEAR_SPAN


def test_far_blank_cells_alone_do_not_make_a_sheet_too_large(tmp_path):
    """A styled blank cell (<c r="K600000" s="1"/>, as Excel writes one) is past what the quick
    look clears, but the full measure does not count it: the file is read, not refused."""
    from tests.hostile import before_sheet_data_end, rezip, sheet_member
    from tests.return_fixtures import COMMERCE, issue
    from toolkit.demo import unitsim
    from toolkit.forms import layout
    from toolkit.intake import parts, reader
    from toolkit.intake.sniff import Limits

    filled = unitsim.fill(issue(tmp_path / "outbox", COMMERCE), tmp_path / "filled.xlsx")
    member = sheet_member(filled, layout.SHEET_PROGRESS)
    far = before_sheet_data_end(b'<row r="600000"><c r="K600000" s="1"/></row>')
    path = rezip(filled, tmp_path / "far.xlsx", {member: far})
    with zipfile.ZipFile(path) as zf:
        assert not parts._near(zf.read(member))  # so the full measure ran
    sub = reader.read(path, "xlsx", Limits(), expected_rows=4, expected_indicators=1)
    assert (sub.progress.sheet, [r.row for r in sub.progress.rows]) == (layout.SHEET_PROGRESS, [6, 7, 8])


def test_a_returned_workbooks_zip_directory_is_read_once(tmp_path, monkeypatch):
    """sniff, the zip limits and the reader share one open zip (each read its directory, 0.18 ms)."""
    from tests.return_fixtures import COMMERCE, check, issue
    from toolkit.demo import unitsim

    path = unitsim.fill(issue(tmp_path / "outbox", COMMERCE), tmp_path / "商务局.xlsx")
    opened: list[str] = []

    class Counted(zipfile.ZipFile):
        def __init__(self, file, *args, **kwargs):
            opened.append(str(file))
            super().__init__(file, *args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", Counted)
    checked = check(path)
    assert checked.unit == COMMERCE and not [i for i in checked.issues if i.level == "error"]
    assert opened == [str(path)]


def test_a_dropped_file_is_read_once_for_its_hash(tmp_path, monkeypatch):
    """The archived copy is hashed as it is written; its check does not read it again for that."""
    from tests.return_fixtures import COMMERCE, PERIOD, SECRET, issue, small_ledger
    from toolkit.demo import unitsim
    from toolkit.intake import check
    from toolkit.intake.codes import Strictness
    from toolkit.intake.sniff import Limits

    dropped = unitsim.fill(issue(tmp_path / "outbox", COMMERCE), tmp_path / "drop" / "商务局.xlsx")
    sha256 = archive.file_facts(dropped)[0]
    hashed: list[Path] = []
    whole_file_hash = archive._sha256
    monkeypatch.setattr(archive, "_sha256", lambda path: (hashed.append(path), whole_file_hash(path))[1])
    common = (small_ledger(), PERIOD, SECRET, Limits(), Strictness())
    archived, checked = check.check_dropped((common, tmp_path / "archive"), (dropped, sha256))
    assert hashed == [] and archived.name == f"{sha256}.xlsx"
    assert (checked.sha256, checked.size, checked.unit) == (sha256, dropped.stat().st_size, COMMERCE)
