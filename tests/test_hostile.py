"""The hostile corpus (tests/hostile.py) through `ducha merge`: nothing crashes, nothing passes for
another unit, nothing is lost, formula-like text stays text, and the honest units' results are the
same as in a merge without the hostile files. Run alone with `pytest tests/test_hostile.py`."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from markupsafe import escape

from tests import hostile
from tests.conftest import ROOT, issued_workspace
from tests.hostile import DDE, SCRIPT, Case
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.forms import layout
from toolkit.intake import archive
from toolkit.intake.codes import CODES
from toolkit.ledger.build import load_ledger
from toolkit.outputs.receipts import RECEIPT_DIR, receipt_name
from toolkit.outputs.summary_book import BOOK_NAME

MEMORY_BOUND_MB = 500
CHINESE = re.compile(r"[\u4e00-\u9fff]")

# `ducha merge` in a child process, as the clerk runs it, reporting its peak memory and that of
# its worker processes (ru_maxrss: KiB on Linux) into a file, so stdout and stderr stay the CLI's.
# main() ends the process itself (cli.app._end), after the atexit functions: the report is one.
_MEASURED_MERGE = """
import atexit, json, resource, sys
report, sys.argv = sys.argv[1], ["ducha", *sys.argv[2:]]

def write_usage():
    usage = {who: resource.getrusage(getattr(resource, who)).ru_maxrss for who in ("RUSAGE_SELF", "RUSAGE_CHILDREN")}
    # Its own peak: ru_maxrss starts at pytest's, carried over the exec (scripts/bench.py _DUCHA).
    if sys.platform == "linux":
        with open("/proc/self/status", encoding="ascii") as status:
            usage["RUSAGE_SELF"] = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    with open(report, "w") as fh:
        json.dump(usage, fh)

atexit.register(write_usage)
from toolkit.cli.app import main
main()
"""


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the real ledger and the Q1 and Q2 workbooks generated."""
    return issued_workspace(tmp_path_factory.mktemp("issued"), (hostile.Q1.key, hostile.Q2.key))


def _workspace(issued: Path, target: Path) -> Path:
    shutil.copytree(issued, target)
    return target


def _merge_json(ws: Path) -> dict:
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", "2024Q1", "--json"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return json.loads(result.output)


def _copy_in(source: Path, names: list[str], drop: Path) -> None:
    """Copy dropped files (keeping their modification times) into another drop folder."""
    for name in names:
        target = drop / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / name, target)


@pytest.fixture(scope="module")
def runs(issued: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Two workspaces. In one, the honest files and the whole corpus are merged at once (in
    process, CliRunner). In the other, the honest files are merged alone first; then the corpus
    is added and merged again by `ducha merge` in a real child process."""
    base = tmp_path_factory.mktemp("hostile")
    everything = _workspace(issued, base / "all")
    cases = hostile.build(load_ledger(load_config(everything)), everything / "outbox" / "2024Q1",
                          everything / "drop", base / "scratch", everything / "outbox" / "2024Q2")
    all_summary = _merge_json(everything)

    later = _workspace(issued, base / "later")
    (later / "drop").mkdir()
    for case in cases:
        if case.kind == "honest":
            shutil.copy2(everything / "drop" / case.name, later / "drop" / case.name)
    honest_summary = _merge_json(later)
    out = later / "reports" / "2024Q1"
    honest_book = shutil.copy(out / BOOK_NAME, base / "honest_book.xlsx")
    honest_receipts = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in (out / RECEIPT_DIR).iterdir()}
    shutil.copytree(everything / "drop", later / "drop", dirs_exist_ok=True)  # keeps modification times
    usage_file = base / "usage.json"
    child = subprocess.run(
        [sys.executable, "-c", _MEASURED_MERGE, str(usage_file), "--config", str(later), "merge", "--period",
         "2024Q1", "--json"],
        cwd=ROOT, capture_output=True, text=True, encoding="utf-8", timeout=600,
    )
    return {
        "cases": cases, "all": everything, "all_summary": all_summary,
        "later": later, "honest_summary": honest_summary, "honest_book": honest_book,
        "honest_receipts": honest_receipts, "child": child,
        "usage": json.loads(usage_file.read_text()) if usage_file.exists() else None,
    }


def _entries(summary: dict, ws: Path) -> dict[str, dict]:
    """The summary's file entries by path relative to the drop folder."""
    drop = ws / "drop"
    return {Path(entry["path"]).relative_to(drop).as_posix(): entry for entry in summary["files"]}


def _check_case(case: Case, entry: dict) -> None:
    assert (entry["verdict"], entry["unit"], entry["late"]) == (case.verdict, case.unit, case.late), case.kind
    if case.code is None:
        assert entry["issues"] == [], case.kind
        return
    found = [i for i in entry["issues"] if i["code"] == case.code]
    assert found, (case.kind, entry["issues"])
    issue = found[0]
    assert issue["level"] == CODES[case.code][0]
    if case.cell is not None:
        sheet, _, cell = case.cell.partition("!")
        assert (issue["sheet"], issue["cell"]) == (sheet, cell), case.kind
    for each in entry["issues"]:
        assert CHINESE.search(each["message"]), each
        if each["cell"]:  # the message names the cell it is about
            assert each["message"].startswith(f"{each['sheet']}!{each['cell']}："), each


def test_the_corpus_has_every_kind_the_issue_lists(runs):
    kinds = {c.kind for c in runs["cases"]} - {"honest"}
    assert len(kinds) >= 30
    for needed in ("empty file", "truncated zip", "PDF named .xlsx", "image named .xlsx", "HTML page named .xls",
                   "password-protected workbook", ".xlsm with macros", ".xlsx with an external link",
                   "zip bomb (small file, 40 MB sheet)", "XML entity-expansion bomb", "external entity (XXE)",
                   "a sheet with 1,000,000 rows", "a 50,000-character cell", "_meta deleted", "_meta edited",
                   "_meta copied from another unit's workbook", "another quarter's template", "rows deleted",
                   "rows duplicated", "rows reordered", "a row inserted between tasks", "columns moved",
                   "header renamed", "merged cells over input columns", "dates and numbers in text cells",
                   "full-width digits", "a formula in an input cell", "=HYPERLINK(...) and =cmd|' /C calc'!A0 as formulas",
                   "formula-like text and <script> typed as answers", "a name with '..' and a nested folder",
                   "spaces in the name", "emoji in the name", "a 250-character name",
                   "two files with the same content", "the same unit twice, different content",
                   "a file dated after the deadline"):
        assert needed in kinds, needed


def test_every_file_gets_its_verdict_code_cell_and_unit(runs):
    entries = _entries(runs["all_summary"], runs["all"])
    assert len(entries) == len(runs["cases"])  # nothing lost, nothing counted twice
    for case in runs["cases"]:
        _check_case(case, entries[case.name])
    expected = [c.unit for c in runs["cases"] if c.kind == "honest"]
    assert set(expected) <= set(runs["all_summary"]["units_reported"])


def test_a_real_merge_process_prints_no_traceback_and_agrees(runs):
    child = runs["child"]
    assert child.returncode == 0, child.stderr
    assert child.stderr == ""
    summary = json.loads(child.stdout)
    entries = _entries(summary, runs["later"])
    for case in runs["cases"]:
        _check_case(case, entries[case.name])
    assert summary["new_files"] and all(not Path(p).name.endswith(".tmp") for p in summary["new_files"])


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss is KiB on Linux")
def test_memory_stays_bounded(runs):
    usage = runs["usage"]
    peak_mb = (usage["RUSAGE_SELF"] + usage["RUSAGE_CHILDREN"]) / 1024
    assert peak_mb < MEMORY_BOUND_MB, usage


def test_honest_units_are_unaffected(runs):
    honest = [c for c in runs["cases"] if c.kind == "honest"]
    alone = _entries(runs["honest_summary"], runs["later"])
    together = _entries(runs["all_summary"], runs["all"])
    for case in honest:
        assert {k: v for k, v in together[case.name].items() if k != "path"} == {
            k: v for k, v in alone[case.name].items() if k != "path"}
    units = {c.unit for c in honest}
    for key in ("units_reported", "units_late", "units_rejected", "units_missing"):
        assert [u for u in runs["all_summary"][key] if u in units] == [u for u in runs["honest_summary"][key]
                                                                          if u in units], key

    def unit_rows(book: Path) -> list[tuple]:
        sheet = openpyxl.load_workbook(book, read_only=True)["单位报送"]
        return [row for row in sheet.iter_rows(values_only=True) if row[0] in units]

    assert unit_rows(runs["all"] / "reports" / "2024Q1" / BOOK_NAME) == unit_rows(runs["honest_book"])
    # Added later to the same workspace, the corpus leaves the honest receipts untouched, byte for byte.
    receipts = runs["later"] / "reports" / "2024Q1" / RECEIPT_DIR
    for name, (data, mtime) in runs["honest_receipts"].items():
        assert ((receipts / name).read_bytes(), (receipts / name).stat().st_mtime_ns) == (data, mtime), name


def test_a_foreign_signature_is_reported_to_the_sender_not_the_signer(runs):
    [case] = [c for c in runs["cases"] if c.kind == "_meta copied from another unit's workbook"]
    signer = runs["cases"][0].unit  # the honest unit whose _meta was copied
    receipts = runs["all"] / "reports" / "2024Q1" / RECEIPT_DIR
    sender_receipt = openpyxl.load_workbook(receipts / receipt_name("2024Q1", case.unit))
    assert [r[0] for r in sender_receipt["回执"].iter_rows(min_row=7, max_row=7, values_only=True)] == [
        Path(case.name).name]
    signer_receipt = openpyxl.load_workbook(receipts / receipt_name("2024Q1", signer))
    names = {r[0] for r in signer_receipt["回执"].iter_rows(min_row=7, values_only=True)}
    assert Path(case.name).name not in names


def _sheet_xml(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n).decode("utf-8") for n in zf.namelist() if n.startswith("xl/worksheets/sheet")}


def test_formula_like_text_stays_inert_in_the_merged_book_and_the_receipts(runs):
    out = runs["all"] / "reports" / "2024Q1"
    [case] = [c for c in runs["cases"] if c.kind == "formula-like text and <script> typed as answers"]
    receipt = out / RECEIPT_DIR / receipt_name("2024Q1", case.unit)
    for book in (out / BOOK_NAME, receipt):
        for name, xml in _sheet_xml(book).items():
            assert not re.search(r"<f[\s>]", xml), (book.name, name)  # not one formula cell
    progress = openpyxl.load_workbook(receipt)[layout.SHEET_PROGRESS]
    first = layout.FIRST_DATA_ROW
    cols = {c.key: i for i, c in enumerate(layout.PROGRESS_COLUMNS, start=1)}
    for key, text in (("done", DDE), ("problems", SCRIPT), ("next", hostile.AT_SUM), ("person", hostile.PLUS_LINK)):
        cell = progress.cell(first, cols[key])
        assert (cell.value, cell.data_type) == (text, "s"), key
    merged = openpyxl.load_workbook(out / BOOK_NAME)
    lines = "\n".join(str(v) for row in merged["任务进展"].iter_rows(values_only=True) for v in row if v)
    for text in (DDE, SCRIPT):  # 本季度进展情况 and 存在问题 of a lagging task
        assert text in lines
    # A file name is unit text too: 单位报送 and 问题清单 show it as a string starting with "=".
    files = [c for c in merged["单位报送"]["D"] if c.value == "=cmd|' calc'!A0.xlsx"]
    assert files and all(c.data_type == "s" for c in files)


def test_text_that_looks_like_rich_text_stays_text_and_every_output_opens(runs):
    from python_calamine import CalamineWorkbook

    out = runs["all"] / "reports" / "2024Q1"
    [case] = [c for c in runs["cases"] if c.kind.startswith("text that looks like rich text")]
    receipt = out / RECEIPT_DIR / receipt_name("2024Q1", case.unit)
    cols = {c.key: i for i, c in enumerate(layout.PROGRESS_COLUMNS, start=1)}
    progress = openpyxl.load_workbook(receipt)[layout.SHEET_PROGRESS]
    assert progress.cell(layout.FIRST_DATA_ROW, cols["done"]).value == hostile.RICH_LOOKALIKE
    assert progress.cell(layout.FIRST_DATA_ROW, cols["next"]).value == "<r><t>已完成</t></r>"
    book = openpyxl.load_workbook(out / BOOK_NAME)  # raw rich text made this a ParseError
    cells = {v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)}
    assert any(hostile.RICH_LOOKALIKE in v for v in cells)
    for path in (out / BOOK_NAME, receipt):
        with open(path, "rb") as fh:
            workbook = CalamineWorkbook.from_filelike(fh)
            assert all(workbook.get_sheet_by_name(n).to_python() is not None for n in workbook.sheet_names)


def test_formula_like_text_is_escaped_in_the_briefing(runs):
    result = CliRunner().invoke(cli, ["--config", str(runs["all"]), "briefing", "--period", "2024Q1",
                                      "--date", "2024-03-30"])
    assert result.exit_code == 0, result.output
    html = (runs["all"] / "reports" / "2024Q1" / "通报.html").read_text(encoding="utf-8")
    assert str(escape(SCRIPT)) in html
    assert "<script>" not in html
    markdown = (runs["all"] / "reports" / "2024Q1" / "通报.md").read_text(encoding="utf-8")
    assert "<script>" not in markdown and "alert('督查')" in markdown


def test_when_the_pre_parse_bounds_are_lifted_the_worker_limits_still_hold(issued, tmp_path):
    """With max_cells set absurdly high, a crafted .ods and a far cell reach python-calamine,
    which tries to allocate gigabytes: the worker hits its memory cap and dies, the file is
    rejected as too_complex, and the honest file next to it is accepted."""
    if sys.platform == "win32":
        pytest.skip("no rlimit on Windows: there the pre-parse bounds are the protection")
    ws = _workspace(issued, tmp_path / "ws")
    (ws / "ducha.toml").write_text("[limits]\nmax_cells = 1000000000000\n", encoding="utf-8")
    corpus = hostile.Corpus(load_ledger(load_config(ws)), ws / "outbox" / "2024Q1", ws / "drop", tmp_path / "s")
    corpus.put(Case("honest", "good.xlsx", "accepted", unit=corpus.honest[0]), corpus.filled(corpus.honest[0]))
    corpus.put(Case("huge ods", "huge.ods", "rejected", "too_complex", ""),
               hostile.ods(layout.SHEET_PROGRESS, 100_000, 100))
    good = corpus.filled(corpus.honest[1])
    far = hostile.rezip(good, tmp_path / "far.xlsx", edit={hostile.sheet_member(good, layout.SHEET_PROGRESS):
                        hostile.before_sheet_data_end(b'<row r="99999999"><c r="A99999999"><v>1</v></c></row>')})
    corpus.put(Case("far cell", "far.xlsx", "rejected", "too_complex", ""), far)
    entries = _entries(_merge_json(ws), ws)
    for case in corpus.cases:
        _check_case(case, entries[case.name])
    assert "内存超过上限 256 MB" in entries["huge.ods"]["issues"][0]["message"]


def test_a_time_stamp_beyond_what_datetime_holds_is_read_as_the_last_day(tmp_path, monkeypatch):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"x")
    real = os.stat(path)

    class Far:
        st_size, st_mtime = real.st_size, 1e15  # year 31 million

    monkeypatch.setattr(Path, "stat", lambda self, **kw: Far)
    assert archive.file_facts(path)[2] == "9999-12-31T23:59:59"
