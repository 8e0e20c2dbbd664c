"""Shared fixtures. Tests that need LibreOffice or Chromium skip with a reason when the tool is
missing, except in CI (DUCHA_REQUIRE_TOOLS=1), where a missing tool is a failure."""

from __future__ import annotations

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
