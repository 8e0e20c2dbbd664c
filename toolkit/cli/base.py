"""What every command shares: bilingual help, DuchaError → `错误：…` exit 1, --period, --json."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from toolkit.errors import DuchaError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A DuchaError shown as `错误：…` with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


HELP_TEXT = "显示本帮助并退出 / show this message and exit"


class BilingualHelp:
    """Every command's -h/--help is described in both languages."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class Command(BilingualHelp, click.Command):
    pass


class Group(BilingualHelp, click.Group):
    command_class = Command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DuchaError as exc:
            raise Failure(str(exc)) from exc


Group.group_class = Group


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


class PeriodType(click.ParamType):
    """YYYYQn → Period, with the deadline from ducha.toml; anything else is a usage error (exit 2)."""

    name = "YYYYQn"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from toolkit.period import Period

        if isinstance(value, Period):
            return value
        try:
            return Period.parse(str(value), config_from(ctx).deadlines if ctx else None)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


period_option = click.option(
    "--period", "period", type=PeriodType(), required=True, help="报告期，如 2024Q1 / reporting period, e.g. 2024Q1"
)



def names(units: str | None) -> list[str] | None:
    """--units 市商务局，市发改委 → ['市商务局', '市发改委'] (full- or half-width commas)."""
    return [n.strip() for n in units.replace("，", ",").split(",") if n.strip()] if units else None
