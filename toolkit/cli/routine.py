"""`ducha calendar` and `ducha schedule`: the year's dates and the runner that keeps them."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option


@click.command(cls=Command, name="calendar")
@click.option("--year", type=int, default=None, help="年份（默认 [bureau] year）/ year (default: [bureau] year)")
@json_option
@click.pass_context
def calendar_command(ctx: click.Context, year: int | None, as_json: bool) -> None:
    """全年定时任务日程 / the year's schedule: send, remind, merge, briefing days."""
    from toolkit.routine import calendar, offsets_from

    config = config_from(ctx)
    actions = calendar(config, year or config.bureau.year)

    def render(data: list[dict[str, str]]) -> None:
        from toolkit.cli.text import day_lines, holiday_note

        for line in day_lines(config, actions) + holiday_note(year or config.bureau.year):
            click.echo(line)
        click.echo(f"每天 {offsets_from(config).time:%H:%M}（{config.bureau.clock}）检查一次；日程可在 ducha.toml 的 [schedule] 中调整")

    emit([a.as_dict() for a in actions], as_json, render)


@click.command(cls=Command, name="schedule")
@click.option("--once", is_flag=True, help="只检查一次（供计划任务/cron 调用）/ one tick, then exit (for cron)")
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="以此时刻（[bureau] timezone，默认北京时间）代替当前时间，仅与 --once 一起用 / "
    "pretend it is this time on the bureau's clock (with --once)",
)
@json_option
@click.pass_context
def schedule_command(ctx: click.Context, once: bool, now: Any, as_json: bool) -> None:
    """按日程自动下发、催报、汇总、通报 / run the routine on schedule (foreground; --once for cron)."""
    from toolkit.routine import run_forever, tick

    if now is not None and not once:
        raise click.UsageError("--now 只能与 --once 一起使用")
    config = config_from(ctx)
    if not once:
        run_forever(config, echo=click.echo)
        return
    outcomes = tick(config, now)

    def render(data: list[dict[str, str]]) -> None:
        if not outcomes:
            click.echo("没有到期的任务")
        for outcome in outcomes:
            click.echo(outcome.line)

    emit([o.as_dict() for o in outcomes], as_json, render)
    if any(o.result == "failed" for o in outcomes):
        ctx.exit(1)
