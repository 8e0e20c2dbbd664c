"""Every message the command line prints is Chinese: click's usage errors (every kind, on every
command, found from the click group so a new command is covered without a new test), its help
headings, and Ctrl-C, which says what the stopped command kept and exits 130."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from toolkit.cli.app import cli
from toolkit.cli.base import Command, Group, PeriodType

ENGLISH = re.compile(r"[A-Za-z]{4,}")


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = [(prefix, group)]
    for name in group.list_commands(click.Context(group)):
        command = group.get_command(click.Context(group), name)
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
        else:
            found.append(((*prefix, name), command))
    return found


COMMANDS = all_commands()
NAMES = {name for path, _c in COMMANDS for name in path}


def run(args: list[str]) -> click.testing.Result:
    return CliRunner().invoke(cli, args, prog_name="ducha")


def english_left(text: str, *typed: str) -> list[str]:
    """Latin words of 4+ letters other than ducha's own names: command and option names, file
    names, and what the test typed."""
    for word in sorted(typed, key=len, reverse=True):
        text = text.replace(word, "")
    text = re.sub(r"--?[A-Za-z][\w-]*", "", text)
    text = re.sub(r"\bducha(\.toml|\.db)?\b", "", text)
    return [w for w in ENGLISH.findall(text) if w not in NAMES]


def bad_values(param: click.Option, tmp: Path) -> list[str]:
    """Values this option refuses, by its type (a new type must be added here)."""
    kind = param.type
    if isinstance(kind, PeriodType):
        return ["2024Q5"]
    if isinstance(kind, click.IntRange | click.FloatRange):
        return ["x1", "1"]
    if isinstance(kind, click.types.IntParamType | click.types.FloatParamType | click.DateTime | click.Choice):
        return ["x1"]
    if isinstance(kind, click.Path):
        afile, adir = tmp / "a-file.txt", tmp
        afile.write_text("", encoding="utf-8")
        return ([str(tmp / "x1")] if kind.exists else []) + ([str(afile)] if not kind.file_okay else []) \
            + ([str(adir)] if not kind.dir_okay else [])
    if kind is click.STRING or isinstance(kind, click.types.BoolParamType):
        return []
    raise AssertionError(f"no bad value known for {param.name}'s type {kind!r}: add one to bad_values")


def usage_cases(tmp: Path) -> list[tuple[str, list[str]]]:
    """(id, arguments) for every kind of usage error on every command."""
    cases: list[tuple[str, list[str]]] = []
    for path, command in COMMANDS:
        name = " ".join(path) or "ducha"
        base = ["--config", str(tmp), *path]
        cases.append((f"{name}: unknown option", [*base, "--bogus"]))
        if isinstance(command, click.Group):
            cases.append((f"{name}: no such command", [*base, "x1"]))
            continue
        arguments = [p for p in command.params if isinstance(p, click.Argument)]
        if all(p.nargs != -1 for p in arguments):  # a variadic argument (verify confirm KEY…) takes any number
            cases.append((f"{name}: extra argument", [*base, *["x1"] * (len(arguments) + 1)]))
        if any(p.required for p in command.params):
            cases.append((f"{name}: missing", base))
        for param in command.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            option = max(param.opts, key=len)
            if param.is_flag:
                cases.append((f"{name}: {option}=1", [*base, f"{option}=1"]))
                continue
            cases.append((f"{name}: {option} without value", [*base, option]))
            cases += [(f"{name}: {option} {value}", [*base, option, value]) for value in bad_values(param, tmp)]
    cases += [("ducha: --config without value", ["--config"]), ("ducha: no command", ["--config", str(tmp)])]
    return cases


def test_every_kind_of_usage_error_on_every_command_is_chinese(tmp_path: Path) -> None:
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    wrong = {}
    for case, args in usage_cases(tmp_path):
        result = run(args)
        out = result.output
        lines = out.splitlines()
        ok = (result.exit_code == 2 and lines[0].startswith("用法：ducha") and lines[1].startswith("运行 ducha")
              and lines[1].endswith(" -h 查看帮助。") and lines[-1].startswith("错误：")
              and not english_left(out, str(tmp_path), "bogus", "x1"))
        if not ok:
            wrong[case] = (result.exit_code, out, english_left(out, str(tmp_path), "bogus", "x1"))
    assert wrong == {}


def test_the_case_list_covers_every_command(tmp_path: Path) -> None:
    ids = {case.split(":")[0] for case, _a in usage_cases(tmp_path)}
    assert ids == {" ".join(p) or "ducha" for p, _c in COMMANDS}
    assert {"init", "merge", "ledger build", "briefing", "schedule"} <= ids


@pytest.mark.parametrize(("args", "usage", "error"), [
    (["merge", "--period"], "ducha merge", "选项 --period 后面要写一个值"),
    (["mrege"], "ducha", "没有命令“mrege”，是不是 merge？"),
    (["ledger", "chek"], "ducha ledger", "没有命令“chek”，是不是 check？"),
    (["merge", "--perod", "2024Q1"], "ducha merge", "没有选项 --perod，是不是 --period、--drop？"),
    (["merge", "--json=1"], "ducha merge", "选项 --json 后面不能写值"),
    (["merge", "extra"], "ducha merge", "多余的内容：extra（选项都以 -- 开头；值里有空格时请加引号）"),
    (["merge", "--period", "2024Q5"], "ducha merge",
     "--period 的值不对：报告期“2024Q5”格式不对，可写 2024Q2、2024-Q2、2024年第二季度，或只写 二季度（指今年）"),
    (["calendar", "--year", "二〇二四"], "ducha calendar", "--year 的值不对：“二〇二四”不是整数"),
    (["init", "--year", "24"], "ducha init", "--year 的值不对：24 不在 2000<=x<=2100 范围内"),
    (["briefing", "--period", "2024Q1", "--date", "3月29日"], "ducha briefing",
     "--date 的值不对：“3月29日”不是有效的日期或时间，请写成 2024-03-29"),
    (["schedule", "--once", "--now", "明天"], "ducha schedule",
     "--now 的值不对：“明天”不是有效的日期或时间，请写成 2024-03-29T09:00、2024-03-29 09:00、2024-03-29T09:00:00、2024-03-29"),
    (["schedule", "--now", "2024-03-29"], "ducha schedule", "--now 只能与 --once 一起使用"),
    (["receipts", "--period", "2024Q1"], "ducha receipts", "请加 --send 发送回执，或加 --dry-run 只生成邮件文件"),
])
def test_exact_chinese_usage_errors(tmp_path: Path, args: list[str], usage: str, error: str) -> None:
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    result = run(["--config", str(tmp_path), *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"用法：{usage} [选项]")
    assert lines[1:] == [f"运行 {usage} -h 查看帮助。", "", f"错误：{error}"]


def test_the_usage_error_in_full(tmp_path: Path) -> None:
    result = run(["--config", str(tmp_path), "merge", "--period"])
    assert result.stderr == "用法：ducha merge [选项]\n运行 ducha merge -h 查看帮助。\n\n错误：选项 --period 后面要写一个值\n"


def test_a_file_where_a_folder_is_wanted(tmp_path: Path) -> None:
    (tmp_path / "汇总.xlsx").write_text("", encoding="utf-8")
    result = run(["--config", str(tmp_path), "merge", "--period", "2024Q1", "--drop", str(tmp_path / "汇总.xlsx")])
    assert result.exit_code == 2
    assert result.stderr.endswith(f"错误：--drop 的值不对：“{tmp_path / '汇总.xlsx'}”是文件，这里要写文件夹\n")


def test_an_unknown_command_lists_the_commands_when_nothing_is_close(tmp_path: Path) -> None:
    result = run(["--config", str(tmp_path), "xyz"])
    assert result.exit_code == 2
    listed = "、".join(sorted(cli.list_commands(click.Context(cli))))
    assert result.stderr.endswith(f"错误：没有命令“xyz”。可用的命令：{listed}\n")
    assert run(["--config", str(tmp_path)]).stderr.endswith(f"错误：缺少命令。可用的命令：{listed}\n")


def test_a_missing_required_option_names_it_and_says_what_it_is() -> None:
    group = Group("ducha")

    @group.command(cls=Command)
    @click.option("--period", required=True, help="报告期，如 2024Q1 / reporting period")
    @click.option("--kind", required=True, type=click.Choice(["甲", "乙"]), help="种类 / kind")
    @click.argument("notice")
    def demo(period: str, kind: str, notice: str) -> None:
        """演示 / demo."""

    result = CliRunner().invoke(group, ["demo", "通知.docx"], prog_name="ducha")
    assert result.exit_code == 2
    assert result.stderr.endswith("错误：缺少选项 --period（报告期，如 2024Q1）\n")
    result = CliRunner().invoke(group, ["demo", "--period", "2024Q1", "通知.docx"], prog_name="ducha")
    assert result.stderr.endswith("错误：缺少选项 --kind（种类），可选：甲、乙\n")
    result = CliRunner().invoke(group, ["demo", "--period", "2024Q1", "--kind", "丙", "x"], prog_name="ducha")
    assert result.stderr.endswith("错误：--kind 的值不对：“丙”不是可选的值，可选：甲、乙\n")
    result = CliRunner().invoke(group, ["demo", "--period", "2024Q1", "--kind", "甲"], prog_name="ducha")
    assert result.stderr.endswith("错误：缺少参数 NOTICE\n")


# --- help pages -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p, _c in COMMANDS], ids=lambda p: " ".join(p) or "ducha")
def test_help_headings_are_chinese(path: tuple[str, ...]) -> None:
    result = run([*path, "-h"])
    assert result.exit_code == 0
    assert result.output.startswith(f"用法：{' '.join(('ducha', *path))} [选项]")
    assert "\n选项：\n" in result.output
    assert not re.search(r"Usage:|Options:|Commands:|\[OPTIONS\]|COMMAND \[ARGS\]", result.output)


def test_group_help_lists_commands_under_a_chinese_heading() -> None:
    out = run(["-h"]).output
    assert out.startswith("用法：ducha [选项] 命令 [参数]...\n") and "\n命令：\n" in out


def test_version_is_chinese() -> None:
    from toolkit import __version__

    assert run(["--version"]).output == f"ducha 版本 {__version__}\n"


# --- Ctrl-C ----------------------------------------------------------------------------------------


def _interrupt(*_args, **_kwargs):
    raise KeyboardInterrupt


def test_ctrl_c_in_merge_says_what_was_kept_and_exits_130(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("toolkit.outputs.rerun._merge", _interrupt)
    result = run(["--config", str(tmp_path), "merge", "--period", "2024Q1"])
    assert result.exit_code == 130
    assert result.stdout == ""
    assert result.stderr == "已中断：ducha merge 没有运行完。已收取的文件都已逐个存入数据库；再运行一次只处理剩下的文件。\n"


@pytest.mark.parametrize(("args", "target", "said"), [
    (["send", "--period", "2024Q1"], "toolkit.mail.runs.send_workbooks",
     "已中断：ducha send 没有运行完。已发出的邮件都有记录；再运行一次只发剩下的，不会重复发送。"),
    (["generate", "--period", "2024Q1"], "toolkit.quarter.prefill.generate",
     "已中断：ducha generate 没有运行完。已写好的填报表都是完整的；再运行一次会重新生成全部填报表（内容相同）。"),
    (["doctor"], "toolkit.doctor.run_doctor", "已中断：ducha doctor 没有运行完。它只读取、不改动任何文件；再运行一次即可。"),
    (["init"], "toolkit.workspace.init_workspace",
     "已中断：ducha init 没有运行完。已建好的文件和文件夹都保留；再运行一次 ducha init 会补齐其余部分，已有的不会改动。"),
])
def test_ctrl_c_in_each_command_is_chinese(tmp_path, monkeypatch, args, target, said) -> None:
    monkeypatch.setattr(target, _interrupt)
    result = run(["--config", str(tmp_path), *args])
    assert (result.exit_code, result.stderr) == (130, said + "\n")
    assert "Aborted" not in result.output


def test_every_command_has_a_ctrl_c_sentence_or_the_general_one(tmp_path, monkeypatch) -> None:
    from toolkit.cli import chinese

    group = Group("ducha")

    @group.command(cls=Command)
    def later() -> None:
        """以后的命令 / a later command."""
        raise KeyboardInterrupt

    result = CliRunner().invoke(group, ["later"], prog_name="ducha")
    assert (result.exit_code, result.stderr) == (130, f"已中断：ducha later 没有运行完。{chinese.RESUMES_OTHERWISE}\n")
    assert chinese.RESUMES_OTHERWISE == "已完成的步骤已保存，下次运行会接着处理。"
