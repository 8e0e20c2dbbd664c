"""Speed (issue 18): how a command starts. `ducha merge` at 66 files is mostly start-up: imports,
the reading workers' server, pandas. A command imports only its own module, the workers do not
import the command line again each, and pandas is imported while the reading goes on."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from toolkit.outputs.warm import imported_beside

CONSOLE_SCRIPT = Path(sys.executable).with_name("ducha.exe" if os.name == "nt" else "ducha")


def test_a_command_imports_none_of_the_other_commands_modules():
    """`ducha merge` starts its workers after importing the command line: the mail's, the
    calendar's and every other command's modules are not imported for it."""
    code = ("import sys; from toolkit.cli.app import cli; cli(['merge', '--help'], standalone_mode=False); "
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(('toolkit.cli.', 'toolkit.mail', 'toolkit.routine')))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[-1].split() == ["toolkit.cli.app", "toolkit.cli.base", "toolkit.cli.chinese",
                                        "toolkit.cli.progress", "toolkit.cli.quarter"]


def _merge_imports(workspace: Path, built: Path, *options: str) -> list[str]:
    """The modules a `ducha merge` (the console script) imported, in it and its workers, one per
    import, of three dropped files that are not workbooks (each read by a worker)."""
    shutil.copy(built, workspace / "master_ledger.xlsx")
    (workspace / "ducha.toml").write_text("", encoding="utf-8")
    (workspace / "drop").mkdir()
    for name in ("一", "二", "三"):
        (workspace / "drop" / f"{name}.xlsx").write_text(f"不是工作簿{name}", encoding="utf-8")
    env = {**os.environ, "PYTHONPROFILEIMPORTTIME": "1"}
    done = subprocess.run([str(CONSOLE_SCRIPT), "--config", str(workspace), "merge", "--period", "2024Q1", *options],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return [line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")]


@pytest.mark.skipif(not sys.platform.startswith("linux") or not CONSOLE_SCRIPT.exists(),
                    reason="the console script's workers come from a forkserver (Linux, in the project's virtualenv)")
def test_the_reading_workers_do_not_import_the_command_line_each(tmp_path, built):
    """Each worker re-runs the `ducha` script it was started from; its import of the command line is
    done once, in the workers' server, instead of once a worker (two workers here)."""
    assert _merge_imports(tmp_path, built, "--json").count("toolkit.cli.app") == 2  # this process and the server


@pytest.mark.skipif(not CONSOLE_SCRIPT.exists(), reason="runs the console script of the project's virtualenv")
def test_a_merge_printing_json_imports_nothing_to_print_text(tmp_path, built):
    """--json prints the summary as JSON: the text renderers (cli.text, which brings the mail's
    transport and smtplib) are imported only to print text."""
    (tmp_path / "json").mkdir()
    (tmp_path / "text").mkdir()
    assert "toolkit.cli.text" not in _merge_imports(tmp_path / "json", built, "--json")
    assert "toolkit.cli.text" in _merge_imports(tmp_path / "text", built)


def test_the_reading_workers_server_imports_no_more_than_reading_needs():
    """The server starts while the merge imports; the merge's readers wait for it. It imports the
    command line and the reading module, and neither pandas, the writers (xlsxwriter: not even for
    its A1 names), the lock library nor the web client (urllib.request, which xml.sax's utilities
    import: only an .ods return needs defusedxml's SAX reader)."""
    from toolkit.outputs.warm import READ_MODULE

    code = (f"import sys, toolkit.cli.app, {READ_MODULE}; print(' '.join(m for m in "
            "('pandas', 'openpyxl', 'xlsxwriter', 'filelock', 'jinja2', 'docx', 'urllib.request') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == []


def test_main_keeps_numpy_to_one_thread_unless_told(monkeypatch):
    from toolkit.cli import app

    monkeypatch.setattr(sys, "argv", ["ducha", "--version"])
    monkeypatch.setattr(app, "_end", lambda code: None)  # no os._exit in the test's process
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    app.main()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "1"
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    app.main()
    assert os.environ["OPENBLAS_NUM_THREADS"] == "4"


def test_a_module_is_imported_on_another_thread_while_the_block_runs(tmp_path, monkeypatch):
    """The module's import waits for the block to let it finish: it can only finish if it runs
    beside the block, not before it."""
    (tmp_path / "beside_gate.py").write_text("import threading\nreached, go = threading.Event(), threading.Event()\n",
                                             encoding="utf-8")
    (tmp_path / "beside_slow.py").write_text(
        "import threading, beside_gate\nTHREAD = threading.current_thread().name\n"
        "beside_gate.reached.set()\nassert beside_gate.go.wait(10)\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import beside_gate

    with imported_beside("beside_slow"):
        assert beside_gate.reached.wait(10)
        beside_gate.go.set()
    assert sys.modules["beside_slow"].THREAD == "import beside_slow"  # not this thread
    assert "import beside_slow" not in [t.name for t in threading.enumerate()]  # joined


def test_an_import_that_fails_beside_fails_again_in_the_callers_own_import(tmp_path, monkeypatch):
    (tmp_path / "beside_broken.py").write_text("raise ValueError('损坏的模块')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with imported_beside("beside_broken"):
        pass
    with pytest.raises(ValueError, match="损坏的模块"):
        import beside_broken  # noqa: F401


# The merge's main thread while pandas is imported beside it, in a fresh interpreter: the names of
# the modules it looked for (modules not yet imported) during that block.
_WATCHED_MERGE = """
import contextlib, importlib.abc, json, sys, threading
found, watching = set(), []

class Spy(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if watching and threading.current_thread() is threading.main_thread():
            found.add(name)

sys.meta_path.insert(0, Spy())
from toolkit.config import load_config
from toolkit.outputs import rerun
from toolkit.period import Period
beside = rerun.imported_beside

@contextlib.contextmanager
def watched(module):
    with beside(module):
        watching.append(module)
        yield
    watching.clear()

rerun.imported_beside = watched
summary = rerun.merge_summary(load_config(sys.argv[1]), Period.parse("2024Q1"))
print(json.dumps([sorted(found), len(summary["new_files"])]))
"""


def test_the_merge_imports_nothing_on_its_own_thread_while_pandas_is_imported_beside(tmp_path, issued):
    """Two threads importing one package at once can each find the other's half made: two merges
    at once once met `cannot import name 'Format' from partially initialized module
    'xlsxwriter.format'`. So the take-in's modules are imported before the second thread starts,
    and meanwhile this thread looks for no module but multiprocessing's process starters (which
    pandas does not import)."""
    shutil.copytree(issued, tmp_path / "ws")
    workspace = tmp_path / "ws"
    (workspace / "drop").mkdir(exist_ok=True)
    for workbook in sorted((workspace / "outbox" / "2024Q1").glob("*.xlsx"))[:3]:
        shutil.copy(workbook, workspace / "drop" / workbook.name)
    done = subprocess.run([sys.executable, "-c", _WATCHED_MERGE, str(workspace)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found, new_files = json.loads(done.stdout)
    assert new_files == 3
    assert set(found) <= {"encodings.ascii", "multiprocessing.popen_fork", "multiprocessing.popen_forkserver"}, found
