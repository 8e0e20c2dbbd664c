"""What every command shares: bilingual help, Chinese usage errors and Ctrl-C (cli/chinese.py),
DuchaError → `错误：…` exit 1, --period as a clerk types it (or left out), --json, --units."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import re
from collections.abc import Callable
from typing import Any

import click

from toolkit.cli import chinese
from toolkit.errors import DuchaError, InputError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A DuchaError shown as `错误：…` with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


HELP_TEXT = "显示本帮助并退出 / show this message and exit"
NOTES = "ducha.notes"  # ctx.meta key: what parsing decided for the clerk (a default period), said before the run


class Clerkly:
    """What a clerk sees of every command and group: -h/--help described in both languages, and
    click's usage errors and Ctrl-C in Chinese (cli/chinese.py); an unknown name on the command
    line (InputError) is a usage error too, exit 2, and any other DuchaError is `错误：…`, exit 1."""

    context_class = chinese.Context

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", chinese.OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)  # type: ignore[misc]
        except click.UsageError as exc:
            exc.ctx = exc.ctx or ctx  # click's parser leaves it out, and with it the usage line
            raise chinese.usage(exc) from exc

    def invoke(self, ctx: click.Context) -> Any:
        for note in ctx.meta.pop(NOTES, []):  # said once the whole command line is known to be good
            click.echo(note, err=True)
        try:
            return super().invoke(ctx)  # type: ignore[misc]
        except InputError as exc:
            raise chinese.Usage(str(exc), ctx) from exc
        except DuchaError as exc:
            raise Failure(str(exc)) from exc
        except click.UsageError as exc:
            raise chinese.usage(exc) from exc
        except (KeyboardInterrupt, EOFError, click.Abort) as exc:
            raise chinese.Interrupted(ctx) from exc


class Command(Clerkly, click.Command):
    pass


class Group(Clerkly, click.Group):
    """lazy: {name: "module:attribute"} of subcommands imported only when one is run or the group
    is listed. `ducha merge` imports none of the other commands' modules (the mail's, the
    calendar's: 0.1 s), and so starts its reading workers that much sooner; the workers, which
    re-run the `ducha` script, import this little too."""

    command_class = Command

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", chinese.SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        where = self.lazy.pop(name, None)
        if where is not None:
            module, attribute = where.split(":")
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)


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


def clock() -> dt.datetime:
    """Now, as an aware time."""
    return dt.datetime.now(dt.UTC)


def today(config: Any) -> dt.date:
    """Today on the bureau's clock ([bureau] timezone), whatever the computer's zone."""
    return config.bureau.local(clock()).date()


class PeriodType(click.ParamType):
    """2024Q2, 2024-Q2, 2024年第二季度, 二季度 (this year) → Period, with the deadline from
    ducha.toml; anything else is a usage error (exit 2)."""

    name = "YYYYQn"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from toolkit.period import Period

        if isinstance(value, Period):
            return value
        config = config_from(ctx) if ctx else None
        try:
            return Period.parse(str(value), config and config.deadlines, config and today(config).year)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


def _current_period(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """No --period: the quarter whose deadline is nearest today, said on stderr (stdout may be JSON)
    when the command runs."""
    from toolkit.period import current_period

    if value is not None or ctx.resilient_parsing:
        return value
    config = config_from(ctx)
    day = today(config)
    period = current_period(day, config.deadlines)
    days = (period.deadline - day).days
    when = "就是今天" if days == 0 else f"还有 {days} 天" if days > 0 else f"已过 {-days} 天"
    note = f"未指定 --period，按 {period.full_label}（{period.key}）处理：截止 {period.deadline_label}，{when}"
    ctx.meta.setdefault(NOTES, []).append(note)
    return period


def period_or_current(ctx: click.Context, value: Any) -> Any:
    """For a group that runs on its own (`ducha review`): its --period, or the nearest quarter, said
    now; as a callback it would be said before a subcommand that has its own."""
    period = _current_period(ctx, None, value)  # type: ignore[arg-type]
    for note in ctx.meta.pop(NOTES, []):
        click.echo(note, err=True)
    return period


period_option = click.option(
    "--period", "period", type=PeriodType(), default=None, callback=_current_period,
    help="报告期，如 2024Q2、2024年第二季度、二季度（今年）；不写则取截止日最近的季度 / "
    "reporting period, e.g. 2024Q2; default: the quarter whose deadline is nearest",
)

_SEPARATORS = re.compile(r"[、，,;；\s]+")


def names(units: str | None) -> list[str] | None:
    """--units 市商务局、市发改委，兰考县 → ['市商务局', '市发改委', '兰考县']: any of 、，, ;； or spaces."""
    return [n for n in _SEPARATORS.split(units) if n] if units else None
