"""How strict each check is, as the bureau sets it in [checks] (issue 11.13): a blank 具体责任人
is by default a warning the receipt asks the unit to fix, not a rejection; the bureau may make it
an error again, may make a warning an error, but may not lower the checks that keep out forged,
foreign or broken files. A wrong [checks] key stops the merge with a Chinese error naming it."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from toolkit.cli.app import cli
from toolkit.config import load_config
from toolkit.demo import unitsim
from toolkit.errors import ConfigError
from toolkit.forms.plan import file_name
from toolkit.intake.codes import ADJUSTABLE, CODES, Strictness
from toolkit.ledger.build import load_ledger
from toolkit.outputs.receipts import receipt_name
from toolkit.period import Period

Q1 = Period.parse("2024Q1")


@pytest.fixture
def ws(issued: Path, tmp_path: Path) -> Path:
    shutil.copytree(issued, tmp_path / "ws")
    return tmp_path / "ws"


def _unit(ws: Path) -> str:
    return next(iter(load_ledger(load_config(ws)).assignments()))


def _drop(ws: Path, mutate: list[str], name: str = "报表.xlsx") -> Path:
    unit = _unit(ws)
    path = unitsim.fill(ws / "outbox" / Q1.key / file_name(Q1, unit), ws / "drop" / name, mutate=mutate)
    stamp = dt.datetime(2024, 3, 20, 9).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def _merge(ws: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(ws), "merge", "--period", Q1.key, *extra])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def _verdict(ws: Path) -> tuple[str, list[tuple[str, str]]]:
    code, output = _merge(ws, "--json")
    assert code == 0, output
    [entry] = json.loads(output)["files"]
    return entry["verdict"], [(i["level"], i["code"]) for i in entry["issues"]]


def test_a_blank_person_is_by_default_a_warning_the_receipt_asks_to_fix(ws: Path) -> None:
    _drop(ws, ["no_person"])
    verdict, issues = _verdict(ws)
    assert (verdict, issues) == ("accepted", [("warning", "person_missing")])
    unit = _unit(ws)
    receipt = openpyxl.load_workbook(ws / "reports" / Q1.key / "回执" / receipt_name(Q1.key, unit))
    assert receipt["回执"]["A4"].value == "结论：已收到，报表合格，已采用。"
    problems = list(receipt["问题清单"].iter_rows(min_row=2, values_only=True))
    assert [(level, where) for _file, level, where, _text in problems] == [("提醒", "进展填报!J6")]
    assert "具体责任人未填写，请填写责任人姓名" in problems[0][3]
    book = openpyxl.load_workbook(ws / "reports" / Q1.key / "汇总表.xlsx")
    standing = {row[0]: row[2] for row in book["单位报送"].iter_rows(min_row=2, values_only=True)}
    assert standing[unit] == "已报送"


def test_the_bureau_can_make_a_blank_person_an_error_again(ws: Path) -> None:
    (ws / "ducha.toml").write_text('[checks]\nperson_missing = "error"\n', encoding="utf-8")
    _drop(ws, ["no_person"])
    assert _verdict(ws) == ("rejected", [("error", "person_missing")])


def test_a_warning_can_be_made_an_error(ws: Path) -> None:
    (ws / "ducha.toml").write_text('[checks]\nphone_invalid = "error"\n', encoding="utf-8")
    _drop(ws, ["bad_phone"])
    assert _verdict(ws) == ("rejected", [("error", "phone_invalid")])


@pytest.mark.parametrize(("setting", "message"), [
    ('person_mising = "warning"', "ducha.toml 的 [checks] person_mising 不是已知的检查项"),
    ('person_missing = "提醒"', 'ducha.toml 的 [checks] person_missing 应为 "error"（错误，退回修改）或 "warning"（提醒，照常采用）'),
    ("person_missing = 1", 'ducha.toml 的 [checks] person_missing 应为 "error"（错误，退回修改）或 "warning"'),
    ('signature_invalid = "warning"', "ducha.toml 的 [checks] signature_invalid（隐藏的校验信息（_meta）被修改，签名不符）不可调整"),
    ('unknown_unit = "warning"', "ducha.toml 的 [checks] unknown_unit（无法确定报送单位，或单位不在总台账中）不可调整"),
    ('not_workbook = "error"', "ducha.toml 的 [checks] not_workbook（不是 Excel 工作簿（PDF、图片、网页、压缩包等））不可调整"),
])
def test_a_wrong_checks_setting_stops_the_merge_naming_the_key(ws: Path, setting: str, message: str) -> None:
    (ws / "ducha.toml").write_text(f"[checks]\n{setting}\n", encoding="utf-8")
    _drop(ws, ["no_person"])
    code, output = _merge(ws)
    assert code == 1
    assert output.startswith("错误：") and message in output
    assert not (ws / "ducha.db").exists()  # refused before anything was recorded
    doctor = CliRunner().invoke(cli, ["--config", str(ws), "doctor", "--json"])
    [config_check] = [c for c in json.loads(doctor.output)["checks"] if c["key"] == "config"]
    assert message in config_check["detail"]


def test_which_codes_may_be_adjusted(tmp_path: Path) -> None:
    """The checks of format, hostile files, signature, identity, period, the table's structure and
    the ledger's own changes are fixed; what a unit typed or left blank may be set either way."""
    fixed = set(CODES) - ADJUSTABLE
    assert {"empty_file", "damaged_file", "encrypted", "macro_workbook", "not_workbook", "over_limits",
            "too_complex", "read_failed", "unreadable", "signature_invalid", "meta_invalid", "wrong_period",
            "unknown_unit", "unit_ambiguous", "unit_mismatch", "sheet_missing", "header_missing", "task_missing",
            "task_added", "task_duplicated", "task_renumbered", "locked_cell_changed",
            "indicator_row_missing", "status_missing", "status_invalid", "task_withdrawn"} <= fixed
    assert set(CODES) >= ADJUSTABLE
    assert {"person_missing", "done_missing", "progress_missing", "phone_invalid", "unsigned"} <= ADJUSTABLE
    assert CODES["person_missing"][0] == "warning"
    (tmp_path / "ducha.toml").write_text('[checks]\nperson_missing = "error"\ndone_missing = "warning"\n',
                                       encoding="utf-8")
    strict = Strictness.from_config(load_config(tmp_path))
    report = strict.report()
    report.add("person_missing", "x")
    report.add("done_missing", "y")
    report.add("phone_missing", "z")
    assert [i.level for i in report] == ["error", "warning", "warning"]
    (tmp_path / "ducha.toml").write_text('[checks]\nstatus_missing = "warning"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="status_missing"):
        Strictness.from_config(load_config(tmp_path))


def test_the_bundled_ducha_toml_documents_every_adjustable_code() -> None:
    """The [checks] comments of the bundled ducha.toml name exactly the codes a clerk may set,
    each with its default level, and the file as shipped reads back as the defaults."""
    text = (ROOT / "ducha.toml").read_text(encoding="utf-8")
    section = text.split("[checks]", 1)[1].split("\n[", 1)[0]
    listed = dict(re.findall(r"^#\s*([a-z_]+) = \"(error|warning)\"", section, re.MULTILINE))
    assert listed == {code: CODES[code][0] for code in ADJUSTABLE}
    assert Strictness.from_config(load_config(ROOT)) == Strictness()
