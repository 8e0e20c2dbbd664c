"""The `ducha` command line: parse arguments, call one library function, print, exit.

Exit codes: 0 ok, 1 a data or runtime problem (DuchaError, shown in Chinese), 2 usage.
Library modules are imported inside each command so `ducha --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit import __version__
from toolkit.errors import DuchaError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A DuchaError shown as `错误：…` with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


class Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DuchaError as exc:
            raise Failure(str(exc)) from exc


def config_from(ctx: click.Context):
    """The workspace config named by --config (default ./ducha.toml)."""
    from toolkit.config import load_config

    return load_config(ctx.find_root().params.get("config_path"))


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print a result as JSON for programs, or as text for the clerk."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果 / print the result as JSON")


@click.group(cls=Group, context_settings=CONTEXT)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="配置文件 ducha.toml 或其所在目录（默认当前目录）/ path to ducha.toml or its folder",
)
@click.version_option(__version__, prog_name="ducha")
def cli(config_path: Path | None) -> None:
    """督查台账工具：政府工作报告确定事项的季度督查。

    ducha: quarterly supervision of a government work report in Excel workbooks.
    """


@cli.group(cls=Group)
def ledger() -> None:
    """总台账：从通知生成、检查 / build and check the master ledger."""


def main() -> None:
    # Windows consoles default to a legacy code page; Chinese output must not crash.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    cli(prog_name="ducha")
