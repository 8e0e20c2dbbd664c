"""The command line as a whole: bilingual help everywhere, `python -m toolkit`, exit codes."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from toolkit.cli.app import cli

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORDS = re.compile(r"\b[a-z]{3,}\b")


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("path", all_commands(), ids=lambda p: " ".join(p) or "ducha")
def test_every_help_is_chinese_and_english(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    description = result.output.split("选项：")[0]
    assert CJK.search(description) and LATIN_WORDS.search(description), description
    for line in result.output.split("选项：")[1].splitlines():
        if line.strip().startswith("-") and "  " in line.strip():
            assert CJK.search(line), f"option help not in Chinese: {line}"
    assert "显示本帮助并退出 / show this message and exit" in result.output


def test_python_dash_m_toolkit_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "toolkit", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.startswith("ducha 版本 ")


# The console script's main() under a watch: an atexit function, and an object freed only by the
# interpreter's teardown (main skips that teardown, see cli.app._end).
_WATCHED_MAIN = """
import atexit, sys
from toolkit.cli.app import main

class Teardown:
    def __del__(self):
        sys.stderr.write("teardown ran")

kept = Teardown()
atexit.register(lambda: sys.stderr.write("atexit ran;"))
atexit.register(lambda: sys.stdout.write("unflushed"))  # runs first; piped, so block-buffered
sys.argv[0] = "ducha"
main()
"""


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--version"], 0, "ducha 版本 "),  # good
        (["--config", "{tmp}", "generate", "--period", "2024Q1"], 1, "错误："),  # a data problem: no ledger
        (["merge", "--period", "2024Q9"], 2, "2024Q9"),  # usage
    ],
)
def test_the_console_script_keeps_exit_codes_output_and_atexit_but_skips_teardown(tmp_path, args, code, says):
    args = [a.format(tmp=tmp_path) for a in args]
    buffered = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # as a clerk's shell
    done = subprocess.run([sys.executable, "-c", _WATCHED_MAIN, *args], capture_output=True, text=True,
                          cwd=tmp_path, env=buffered, timeout=60)
    assert done.returncode == code
    assert says in done.stdout + done.stderr
    assert done.stderr.endswith("atexit ran;")  # said last: after every message, and nothing after
    assert "teardown ran" not in done.stderr
    assert done.stdout.endswith("unflushed")  # the streams are flushed after the atexit functions



def test_data_problem_exits_1_with_chinese_message(tmp_path) -> None:
    (tmp_path / "ducha.toml").write_text("[paths]\nledger = 'missing.xlsx'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path), "generate", "--period", "2024Q1"])
    assert result.exit_code == 1
    assert result.output.startswith("错误：") or "错误：" in result.stderr
    assert "Traceback" not in result.output


def test_bad_config_key_is_named(tmp_path) -> None:
    (tmp_path / "ducha.toml").write_text("[paths]\nledgr = 'x.xlsx'\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["--config", str(tmp_path), "ledger", "check"])
    assert result.exit_code == 1
    assert "未知配置项：ledgr" in result.output


def test_usage_error_exits_2() -> None:
    result = CliRunner().invoke(cli, ["generate", "--period", "2024Q5"])
    assert result.exit_code == 2
    assert "格式不对" in result.output


@pytest.mark.parametrize(
    "command",
    [
        ["generate", "--period", "2024Q1"],
        ["merge", "--period", "2024Q1"],
        ["send", "--period", "2024Q1", "--dry-run"],
        ["remind", "--period", "2024Q1", "--dry-run"],
    ],
    ids=lambda c: c[0],
)
def test_later_commands_refuse_a_broken_ledger(workspace, command) -> None:
    """The clerk typed task number 1 twice in Excel: no command may work from that ledger."""
    import openpyxl

    runner = CliRunner()
    assert runner.invoke(cli, ["--config", str(workspace), "ledger", "build"]).exit_code == 0
    path = workspace / "master_ledger.xlsx"
    wb = openpyxl.load_workbook(path)
    wb["任务台账"]["A3"] = 1
    wb.save(path)
    (workspace / "drop").mkdir()

    result = runner.invoke(cli, ["--config", str(workspace), *command])
    assert result.exit_code == 1, result.output
    assert "总台账 master_ledger.xlsx 有" in result.output
    assert "任务台账!A3" in result.output
    assert not (workspace / "outbox" / "2024Q1").exists()
