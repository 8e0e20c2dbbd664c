"""The generate run: who gets a workbook, what the files are called, the pool, and `ducha generate`."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from tests.forms_fixtures import (
    EXPECTED,
    HEADER,
    NOW,
    Q1,
    SECRET,
    calamine_rows,
    meta_from,
    path_of,
    small_ledger,
)
from toolkit.cli.app import cli
from toolkit.config import Bureau, load_config
from toolkit.errors import DuchaError
from toolkit.forms import generate as generate_module
from toolkit.forms import layout, meta
from toolkit.forms.generate import generate_from
from toolkit.forms.plan import file_name
from toolkit.fsutil import workspace_lock


def test_every_unit_with_a_task_gets_one_workbook_and_the_rest_are_reported(generated):
    assert [w.unit for w in generated.workbooks] == list(EXPECTED)
    assert sorted(p.name for p in generated.out_dir.iterdir()) == sorted(f"2024Q1_{u}.xlsx" for u in EXPECTED)
    counts = {w.unit: (w.lead, w.co, w.county, w.indicators) for w in generated.workbooks}
    assert counts["兰考县"] == (0, 1, 2, 0)
    assert counts["市发展改革委"] == (1, 1, 0, 1)
    assert generated.units_without_tasks == ["市教育局"]
    assert generated.empty_groups == {"各开发区管委会": [3]}


def test_same_inputs_give_identical_files_and_a_new_time_changes_only_meta(tmp_path, generated):
    again = generate_from(small_ledger(), Q1, Bureau(), SECRET, tmp_path / "a", now=NOW)
    for first, second in zip(generated.workbooks, again.workbooks, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes()
    later = generate_from(
        small_ledger(), Q1, Bureau(), SECRET, tmp_path / "b", now=NOW + dt.timedelta(days=1)
    )
    first, second = path_of(generated, "兰考县"), path_of(later, "兰考县")
    assert first.read_bytes() != second.read_bytes()
    assert calamine_rows(first, layout.SHEET_PROGRESS) == calamine_rows(second, layout.SHEET_PROGRESS)
    assert meta_from(second)["generated_at"] == "2024-03-02T09:30:00"
    props = openpyxl.load_workbook(second).properties
    assert props.created == dt.datetime(2024, 3, 2, 9, 30)


def test_process_pool_writes_the_same_files(tmp_path, generated):
    pooled = generate_from(small_ledger(), Q1, Bureau(), SECRET, tmp_path, now=NOW, workers=2)
    assert [w.unit for w in pooled.workbooks] == list(EXPECTED)
    for first, second in zip(generated.workbooks, pooled.workbooks, strict=True):
        assert first.path.read_bytes() == second.path.read_bytes()
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]


def test_units_filter_accepts_aliases_and_groups_and_rejects_unknown_names(tmp_path):
    result = generate_from(
        small_ledger(), Q1, Bureau(), SECRET, tmp_path, ["市发改委", "各县区", "市教育局"], now=NOW
    )
    assert [w.unit for w in result.workbooks] == ["市发展改革委", "兰考县", "杞县"]
    assert result.units_without_tasks == ["市教育局"]
    with pytest.raises(DuchaError, match="没有这些单位：市商务局、某某局"):
        generate_from(small_ledger(), Q1, Bureau(), SECRET, tmp_path, ["市商务局", "兰考县", "某某局"])


def test_file_names_are_safe_on_windows():
    assert file_name(Q1, '市"A"/B局') == "2024Q1_市_A__B局.xlsx"


# --- CLI ----------------------------------------------------------------------------------------


@pytest.fixture
def cli_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace whose ledger is small_ledger() (the ledger file itself is ledger.py's job)."""
    (tmp_path / "ducha.toml").write_text('[deadlines]\n"2024Q1" = "2024-03-29"\n', encoding="utf-8")
    monkeypatch.setattr(generate_module, "load_ledger", lambda config: small_ledger())
    return tmp_path


def test_cli_generate_json_lists_workbooks_and_writes_them(cli_workspace):
    result = CliRunner().invoke(
        cli, ["--config", str(cli_workspace), "generate", "--period", "2024Q1", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == "2024Q1" and data["deadline"] == "2024-03-29"
    assert [w["unit"] for w in data["workbooks"]] == list(EXPECTED)
    assert data["workbooks"][0] == {
        "unit": "市发展改革委",
        "lead": 1,
        "co": 1,
        "county": 0,
        "indicators": 1,
        "path": str(cli_workspace / "outbox" / "2024Q1" / "2024Q1_市发展改革委.xlsx"),
    }
    assert data["units_without_tasks"] == ["市教育局"]
    assert data["empty_groups"] == [{"group": "各开发区管委会", "tasks": [3]}]
    fields = meta_from(Path(data["workbooks"][0]["path"]))
    assert fields["deadline"] == "2024-03-29"
    assert meta.verify(fields, meta.load_secret(cli_workspace / ".ducha_secret"))


def test_cli_generate_table_units_and_out(cli_workspace, tmp_path):
    out = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        cli,
        [
            "--config",
            str(cli_workspace),
            "generate",
            "--period",
            "2024Q1",
            "--units",
            "杞县，市教育局",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "杞县" in result.output and "已生成 1 个填报表" in result.output
    assert "没有任务、未生成填报表的单位：市教育局" in result.output
    assert "分组“各开发区管委会”没有成员单位（涉及任务：3）" in result.output
    assert [p.name for p in out.iterdir()] == ["2024Q1_杞县.xlsx"]
    assert not (cli_workspace / "outbox").exists()


def test_cli_generate_errors(cli_workspace):
    runner = CliRunner()
    bad = runner.invoke(cli, ["--config", str(cli_workspace), "generate", "--period", "2024Q5"])
    assert bad.exit_code == 2 and "2024Q2、2024-Q2、2024年第二季度" in bad.output
    unknown = runner.invoke(
        cli, ["--config", str(cli_workspace), "generate", "--period", "2024Q1", "--units", "市商务局"]
    )
    assert unknown.exit_code == 2 and "错误：" in unknown.output and "市商务局" in unknown.output


def test_cli_generate_refuses_while_another_run_holds_the_lock(cli_workspace):
    with workspace_lock(load_config(cli_workspace).paths.lock):
        busy = CliRunner().invoke(cli, ["--config", str(cli_workspace), "generate", "--period", "2024Q1"])
    assert busy.exit_code == 1 and "另一个 ducha 任务正在运行" in busy.output
    assert not (cli_workspace / "outbox").exists()


# --- the real ledger and a real client ----------------------------------------------------------


def test_real_ledger_every_workbook_reads_back_and_verifies(tmp_path):
    if not (ROOT / "master_ledger.xlsx").exists():
        pytest.skip("master_ledger.xlsx not built yet (ducha ledger build)")
    from toolkit.ledger.build import load_ledger

    ledger = load_ledger(load_config(ROOT))
    result = generate_from(ledger, Q1, Bureau(), SECRET, tmp_path, now=NOW)
    assignments = ledger.assignments()
    assert [w.unit for w in result.workbooks] == list(assignments)
    for w in result.workbooks:
        rows = calamine_rows(w.path, layout.SHEET_PROGRESS)
        assert rows[layout.HEADER_ROW - 1] == HEADER
        issued = [(a.task.no, a.task.content, a.role) for a in assignments[w.unit]]
        assert [(int(r[0]), r[1], r[3]) for r in rows[layout.FIRST_DATA_ROW - 1 :]] == issued
        assert meta.verify(meta_from(w.path), SECRET)
