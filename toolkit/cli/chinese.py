"""click in Chinese: its usage errors, the headings of its help pages, and Ctrl-C.

click prints its own words in English (`Usage:`, `Missing option '--period'.`, `Try 'ducha merge
--help' for help.`, `Aborted!`), and a clerk reads none of them. ducha's Command and Group
(cli/base.py) turn each of click's usage errors into Usage, which prints the same three parts in
Chinese, and a Ctrl-C into Interrupted, which says what the stopped command had already finished
and that running it again carries on. click is pinned (pyproject.toml), and
tests/test_cli_chinese.py runs every kind of usage error on every command, so a click upgrade that
rewords a message fails a test instead of reaching a clerk in English.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

import click
from click import exceptions

# 128 + SIGINT: how a shell reports a command stopped by Ctrl-C, so a scheduled task's log tells
# an interrupted run (130) from a failed one (1).
INTERRUPTED_EXIT = 130
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."
_HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数"}
_PATH_KINDS = {"File": "文件", "Directory": "文件夹", "Path": "路径"}
_SAMPLE_TIME = dt.datetime(2024, 3, 29, 9, 0)

# What each command has kept when Ctrl-C stops it, and what running it again does.
RESUMES = {
    "init": "已建好的文件和文件夹都保留；再运行一次 ducha init 会补齐其余部分，已有的不会改动。",
    "generate": "已写好的填报表都是完整的；再运行一次会重新生成全部填报表（内容相同）。",
    "merge": "已收取的文件都已逐个存入数据库；再运行一次只处理剩下的文件。",
    "send": "已发出的邮件都有记录；再运行一次只发剩下的，不会重复发送。",
    "remind": "已发出的催报邮件都有记录；再运行一次只发剩下的，不会重复发送。",
    "receipts": "已发出的回执都有记录；再运行一次只发剩下的，不会重复发送。",
    "briefing": "通报文件都是写好后才替换的，已有的文件没有损坏；再运行一次即可。",
    "schedule": "已完成的定时任务都有记录；再启动 ducha schedule 会补做错过的，不会重复。",
    "ledger build": "总台账是写好后才替换的，原文件没有损坏；再运行一次即可。",
    "ledger import": "总台账是写好后才替换的，原文件没有损坏；再运行一次即可。",
    "ledger template": "总台账是写好后才替换的，原文件没有损坏；再运行一次即可。",
    "ledger check": "它只读取、不改动任何文件；再运行一次即可。",
    "calendar": "它只读取、不改动任何文件；再运行一次即可。",
    "doctor": "它只读取、不改动任何文件；再运行一次即可。",
}
RESUMES_OTHERWISE = "已完成的步骤已保存，下次运行会接着处理。"


class Formatter(click.HelpFormatter):
    """Help pages with Chinese headings: 用法：, 选项：, 命令：."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{_HEADINGS.get(heading, heading)}：\n")


class Context(click.Context):
    formatter_class = Formatter


class Usage(click.UsageError):
    """A usage error as a clerk reads it: the usage line, where the help is, what was wrong."""

    def show(self, file: Any = None) -> None:
        if self.ctx is not None:
            help_name = min(self.ctx.command.get_help_option_names(self.ctx), key=len)
            click.echo(f"{self.ctx.get_usage()}\n运行 {self.ctx.command_path} {help_name} 查看帮助。\n", err=True)
        click.echo(f"错误：{self.format_message()}", err=True)


class Interrupted(click.ClickException):
    """Ctrl-C: which command stopped, what it kept, and that the next run carries on."""

    exit_code = INTERRUPTED_EXIT

    def __init__(self, ctx: click.Context) -> None:
        command = " ".join(ctx.command_path.split()[1:])
        super().__init__(f"已中断：{ctx.command_path} 没有运行完。{RESUMES.get(command, RESUMES_OTHERWISE)}")

    def show(self, file: Any = None) -> None:
        click.echo(self.message, err=True)


def usage(exc: click.UsageError) -> click.UsageError:
    """exc in Chinese (a Usage); click's own help-instead-of-an-error passes unchanged."""
    if isinstance(exc, Usage | exceptions.NoArgsIsHelpError):
        return exc
    return Usage(_message(exc), exc.ctx)


def _message(exc: click.UsageError) -> str:
    if isinstance(exc, exceptions.MissingParameter):
        return _missing(exc)
    if isinstance(exc, exceptions.BadParameter):
        return f"{_name(exc.param, exc.param_hint)} 的值不对：{translate(exc.message)}"
    if isinstance(exc, exceptions.NoSuchOption):
        return f"没有选项 {exc.option_name}" + _did_you_mean(exc.possibilities)
    if isinstance(exc, exceptions.NoSuchCommand):
        return f"没有命令“{exc.command_name}”" + (_did_you_mean(exc.possibilities) or _commands(exc.ctx))
    if exc.message == "Missing command.":
        return "缺少命令" + _commands(exc.ctx)
    return translate(exc.message)


def _missing(exc: exceptions.MissingParameter) -> str:
    param = exc.param
    kind = "参数" if isinstance(param, click.Argument) or exc.param_type == "argument" else "选项"
    text = f"缺少{kind} {_name(param, exc.param_hint)}"
    help_text = getattr(param, "help", None)
    if help_text:
        text += f"（{help_text.split(' / ')[0]}）"
    if param is not None and isinstance(param.type, click.Choice):
        text += "，可选：" + "、".join(map(str, param.type.choices))
    return text


def _name(param: click.Parameter | None, hint: Any = None) -> str:
    if isinstance(param, click.Option):
        return " / ".join(param.opts)
    if param is not None:
        return param.human_readable_name
    return hint if isinstance(hint, str) else " / ".join(hint or ())


def _did_you_mean(possibilities: list[str] | None) -> str:
    return f"，是不是 {'、'.join(possibilities)}？" if possibilities else ""


def _commands(ctx: click.Context | None) -> str:
    if ctx is None or not isinstance(ctx.command, click.Group):
        return ""
    return "。可用的命令：" + "、".join(ctx.command.list_commands(ctx))


# click's messages (click 8.5, as formatted) → Chinese. A quoted value is click's repr().
_QUOTED = r"(?P<q>['\"])(?P<value>.*)(?P=q)"
_CATALOGUE = (
    (r"Option '(?P<name>.+)' requires an argument\.", "选项 {name} 后面要写一个值"),
    (r"Option '(?P<name>.+)' requires (?P<n>\d+) arguments\.", "选项 {name} 后面要写 {n} 个值"),
    (r"Option '(?P<name>.+)' does not take a value\.", "选项 {name} 后面不能写值"),
    (r"Got unexpected extra arguments? \((?P<args>.*)\)",
     "多余的内容：{args}（选项都以 -- 开头；值里有空格时请加引号）"),
    (r"Argument '(?P<name>.+)' takes (?P<n>\d+) values\.", "参数 {name} 要写 {n} 个值"),
    (r"Takes (?P<n>\d+) values but (?P<given>\d+) (?:was|were) given\.", "要写 {n} 个值，写了 {given} 个"),
    (_QUOTED + r" is not a valid integer(?: range)?\.", "“{value}”不是整数"),
    (_QUOTED + r" is not a valid float(?: range)?\.", "“{value}”不是数字"),
    (_QUOTED + r" is not a valid boolean\.", "“{value}”应为 true 或 false"),
    (r"(?P<value>.+) is not in the range (?P<range>.+)\.", "{value} 不在 {range} 范围内"),
    (_QUOTED + r" does not match the formats? (?P<formats>.+)\.", "“{value}”不是有效的日期或时间，请写成 {examples}"),
    (_QUOTED + r" is not (?:one of )?(?P<choices>'.*')\.", "“{value}”不是可选的值，可选：{choices}"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) does not exist\.", "{kind}“{path}”不存在"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) is a file\.", "“{path}”是文件，这里要写文件夹"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) is a directory\.", "“{path}”是文件夹，这里要写文件"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) is not readable\.", "没有读取{kind}“{path}”的权限"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) is not writable\.", "没有写入{kind}“{path}”的权限"),
    (r"(?P<kind>File|Directory|Path) (?P<q>['\"])(?P<path>.*)(?P=q) is not executable\.", "{kind}“{path}”不能运行"),
)


@functools.cache
def _compiled() -> list[tuple[re.Pattern[str], str]]:
    """The catalogue's patterns, compiled on the first message to translate, not at import: every
    command imports this module (and so does the reading workers' server) and most never need it
    (~12 ms)."""
    return [(re.compile(pattern + r"\Z", re.S), chinese) for pattern, chinese in _CATALOGUE]


def translate(message: str) -> str:
    """One of click's messages in Chinese; ducha's own (already Chinese) pass unchanged."""
    for pattern, chinese in _compiled():
        match = pattern.match(message)
        if match:
            found = match.groupdict()
            if "kind" in found:
                found["kind"] = _PATH_KINDS[found["kind"]]
            if "formats" in found:
                examples = dict.fromkeys(_SAMPLE_TIME.strftime(f) for f in re.findall(r"'([^']*)'", found["formats"]))
                found["examples"] = "、".join(examples)
            if "choices" in found:
                found["choices"] = "、".join(re.findall(r"'([^']*)'", found["choices"]))
            return chinese.format(**found)
    return message
