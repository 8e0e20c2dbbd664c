"""Shared fixtures. Tests that need LibreOffice or Chromium skip with a reason when the tool is
missing, except in CI (DUCHA_REQUIRE_TOOLS=1), where a missing tool is a failure."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "data" / "kaifeng-2024-gov-report-tasks.md"


def require_tool(*names: str) -> str:
    """Return the first of names found on PATH, or skip (fail in CI) with a reason."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    reason = f"needs {' or '.join(names)} on PATH"
    if os.environ.get("DUCHA_REQUIRE_TOOLS") == "1":
        pytest.fail(reason + " (CI installs it; DUCHA_REQUIRE_TOOLS=1)")
    pytest.skip(reason)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """An empty workspace with a ducha.toml using every default and the bundled notice."""
    (tmp_path / "data").mkdir()
    shutil.copy(NOTICE, tmp_path / "data" / NOTICE.name)
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    return tmp_path


def ledger_workspace(root: Path, now: dt.datetime) -> Path:
    """A workspace at root with the bundled notice, an empty ducha.toml and the master ledger built
    (for the module-scoped fixtures that copy or reuse one)."""
    from toolkit.config import load_config
    from toolkit.ledger.build import build_ledger

    (root / "data").mkdir(parents=True, exist_ok=True)
    shutil.copy(NOTICE, root / "data" / NOTICE.name)
    (root / "ducha.toml").write_text("", encoding="utf-8")
    build_ledger(load_config(root), now=now)
    return root


def issued_workspace(root: Path, periods: tuple[str, ...] = ("2024Q1",)) -> Path:
    """root as a workspace with the bundled notice, the real ledger built and each period's
    workbooks generated into outbox/<period>/ (as on 2024-03-01 09:00, so files are repeatable)."""
    import datetime as dt

    from toolkit.config import load_config
    from toolkit.ledger.build import build_ledger
    from toolkit.period import Period
    from toolkit.quarter import prefill

    (root / "data").mkdir(parents=True)
    shutil.copy(NOTICE, root / "data" / NOTICE.name)
    (root / "ducha.toml").write_text("", encoding="utf-8")
    config = load_config(root)
    now = dt.datetime(2024, 3, 1, 9, 0)
    build_ledger(config, now=now)
    for key in periods:
        prefill.generate(config, Period.parse(key), now=now)
    return root


BUILT = dt.datetime(2024, 3, 1, 9, 0)  # when the shared fixtures build their ledger


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """master_ledger.xlsx built once per module from the bundled notice; tests copy it before editing."""
    return ledger_workspace(tmp_path_factory.mktemp("built"), BUILT) / "master_ledger.xlsx"


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the real ledger and the 2024Q1 workbooks generated, once per module."""
    return issued_workspace(tmp_path_factory.mktemp("issued"))


@pytest.fixture(scope="session")
def played_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """`make demo` played once per test run (it takes the better part of a minute)."""
    import io
    from contextlib import redirect_stdout

    from toolkit.demo import play

    target = tmp_path_factory.mktemp("demo") / "demo"
    out = io.StringIO()
    with redirect_stdout(out):
        assert play.main(target) == 0
    return target, out.getvalue()


@pytest.fixture(scope="module")
def played(played_once: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(a workspace where `make demo` played its two quarters, what it printed): each test module
    gets its own copy, so one that renders or confirms in it cannot change what another sees."""
    import shutil

    played_at, out = played_once
    target = tmp_path_factory.mktemp("played") / "demo"
    shutil.copytree(played_at, target, symlinks=True)
    return target, out.replace(str(played_at), str(target))


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory):
    """The small ledger's workbooks for 2024Q1, generated once per test module that asks."""
    from tests.forms_fixtures import generate_small

    return generate_small(tmp_path_factory.mktemp("outbox") / "2024Q1")
