"""`ducha doctor`: each check passes on a healthy workspace and fails (or warns) with a Chinese fix
when its part is broken; exit 1 only when a required check fails."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import ledger_workspace
from tests.smtp_fixtures import free_port, smtp_server
from toolkit.cli.app import cli
from toolkit.forms.meta import load_secret
from toolkit.quarter.schema import SCHEMA_VERSION
from toolkit.quarter.store import open_store

NOW = dt.datetime(2024, 3, 1, 9, 0)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ledger_workspace(tmp_path_factory.mktemp("doctor"), NOW)


@pytest.fixture
def ws(built: Path, tmp_path: Path) -> Path:
    """A healthy workspace: ledger built, drop folder made, secret private, no [mail]."""
    root = Path(shutil.copytree(built, tmp_path / "ws"))
    (root / "drop").mkdir()
    load_secret(root / ".ducha_secret")
    os.chmod(root / ".ducha_secret", 0o600)
    return root


def doctor(ws: Path) -> tuple[int, dict, str]:
    runner = CliRunner()
    data = runner.invoke(cli, ["--config", str(ws), "doctor", "--json"])
    text = runner.invoke(cli, ["--config", str(ws), "doctor"])
    assert data.exit_code == text.exit_code, text.output
    return data.exit_code, {c["key"]: c for c in json.loads(data.output)["checks"]}, text.output


def test_a_healthy_workspace_passes(ws: Path) -> None:
    code, checks, text = doctor(ws)
    assert code == 0, text
    assert list(checks) == ["config", "bureau", "ledger", "secret", "store", "folder.outbox", "folder.drop",
                            "folder.archive", "folder.reports", "smtp", "soffice", "chromium"]
    assert {k: c["status"] for k, c in checks.items() if k not in ("soffice", "chromium")} == {
        "config": "ok", "bureau": "warn", "ledger": "ok", "secret": "ok", "store": "ok", "folder.outbox": "ok", "folder.drop": "ok",
        "folder.archive": "ok", "folder.reports": "ok", "smtp": "skip"}
    assert f"✓ 总台账：{ws / 'master_ledger.xlsx'} 通过检查" in text
    assert "－ 邮件服务器：未配置 [mail]" in text
    assert "0 项需修复" in text and "可以正常使用" in text


def test_missing_ledger_fails_and_says_how_to_build_it(ws: Path) -> None:
    (ws / "master_ledger.xlsx").unlink()
    code, checks, text = doctor(ws)
    assert code == 1
    assert checks["ledger"]["status"] == "fail"
    assert f"✗ 总台账：{ws / 'master_ledger.xlsx'} 不存在\n    → 运行 ducha ledger build" in text
    assert "请先修复标 ✗ 的项目" in text


def test_a_ledger_with_errors_fails_naming_them(ws: Path) -> None:
    book = openpyxl.load_workbook(ws / "master_ledger.xlsx")
    book["任务台账"]["D2"] = None  # a task without its content
    book.save(ws / "master_ledger.xlsx")
    code, checks, _text = doctor(ws)
    assert code == 1
    assert checks["ledger"]["status"] == "fail"
    assert "任务台账!D2" in checks["ledger"]["detail"] and "ducha ledger check" in checks["ledger"]["fix"]


def test_a_bad_config_fails_and_skips_what_needs_it(ws: Path) -> None:
    (ws / "ducha.toml").write_text("[limits]\nmax_cells = -1\n", encoding="utf-8")
    code, checks, text = doctor(ws)
    assert code == 1
    assert checks["config"]["status"] == "fail" and "max_cells" in checks["config"]["detail"]
    assert {checks[k]["status"] for k in ("ledger", "secret", "store", "folder.drop", "smtp")} == {"skip"}
    assert checks["chromium"]["status"] in ("ok", "warn")  # tools are still looked for
    assert "Traceback" not in text


def test_secret_missing_after_workbooks_were_issued_fails(ws: Path) -> None:
    (ws / ".ducha_secret").unlink()
    assert doctor(ws)[1]["secret"]["status"] == "ok"  # nothing issued yet: it will be created
    (ws / "outbox" / "2024Q1").mkdir(parents=True)
    (ws / "outbox" / "2024Q1" / "2024Q1_市商务局.xlsx").write_bytes(b"PK")
    code, checks, _text = doctor(ws)
    assert code == 1 and checks["secret"]["status"] == "fail"
    assert "已有 1 个下发的填报表" in checks["secret"]["detail"] and "备份恢复" in checks["secret"]["fix"]


def test_secret_readable_by_others_warns(ws: Path) -> None:
    os.chmod(ws / ".ducha_secret", 0o644)
    code, checks, text = doctor(ws)
    assert code == 0
    assert checks["secret"]["status"] == "warn"
    assert f"chmod 600 {ws / '.ducha_secret'}" in text


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_secret_tracked_by_git_fails(ws: Path) -> None:
    git = ["git", "-C", str(ws)]
    subprocess.run([*git, "init", "-q"], check=True)
    assert doctor(ws)[1]["secret"]["status"] == "warn"  # in a repository, not ignored
    (ws / ".gitignore").write_text(".ducha_secret\n", encoding="utf-8")
    assert doctor(ws)[1]["secret"]["status"] == "ok"
    subprocess.run([*git, "add", "-f", ".ducha_secret"], check=True)
    code, checks, _text = doctor(ws)
    assert code == 1 and checks["secret"]["status"] == "fail"
    assert "git rm --cached .ducha_secret" in checks["secret"]["fix"]


def test_store_current_older_newer_and_broken(ws: Path) -> None:
    db = ws / "ducha.db"
    with open_store(db):
        pass
    assert doctor(ws)[1]["store"]["status"] == "ok"
    for version, status in ((SCHEMA_VERSION - 1, "warn"), (SCHEMA_VERSION + 1, "fail")):
        with sqlite3.connect(db) as conn:
            conn.execute(f"PRAGMA user_version = {version}")
        assert doctor(ws)[1]["store"]["status"] == status
    before = db.read_bytes()
    for extra in ws.glob("ducha.db-*"):
        extra.unlink()
    db.write_bytes(b"not a database" * 100)
    code, checks, _text = doctor(ws)
    assert code == 1 and checks["store"]["status"] == "fail" and "备份" in checks["store"]["fix"]
    assert before != db.read_bytes()  # the doctor did not repair or recreate it


def test_folders_missing_drop_warns_and_a_file_in_the_way_fails(ws: Path) -> None:
    (ws / "drop").rmdir()
    code, checks, _text = doctor(ws)
    assert code == 0 and checks["folder.drop"]["status"] == "warn"
    (ws / "reports").write_text("", encoding="utf-8")
    code, checks, text = doctor(ws)
    assert code == 1 and checks["folder.reports"]["status"] == "fail"
    assert f"{ws / 'reports'} 是文件，不是文件夹" in text
    assert not (ws / "drop").exists()  # the doctor creates nothing


def test_smtp_reachable_and_unreachable(ws: Path) -> None:
    with smtp_server() as (_inbox, port):
        (ws / "ducha.toml").write_text(f'[mail]\nhost = "127.0.0.1"\nport = {port}\n', encoding="utf-8")
        code, checks, _text = doctor(ws)
    assert code == 0 and checks["smtp"]["status"] == "ok"
    assert checks["smtp"]["detail"] == f"127.0.0.1:{port} 可以连接（security = none）"
    (ws / "ducha.toml").write_text(f'[mail]\nhost = "127.0.0.1"\nport = {free_port()}\n', encoding="utf-8")
    code, checks, text = doctor(ws)
    assert code == 1 and checks["smtp"]["status"] == "fail"
    assert "无法连接 127.0.0.1:" in text and "[mail] 的 host、port、security" in text


def test_missing_optional_tools_only_warn(ws: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, checks, text = doctor(ws)
    assert code == 0
    assert (checks["soffice"]["status"], checks["chromium"]["status"]) == ("warn", "warn")
    assert "⚠ LibreOffice：未找到（可选）" in text and "ducha briefing --pdf" in text
