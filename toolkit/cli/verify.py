"""`ducha verify list` / `ducha verify confirm`: the 疑似不实 lines of a merged quarter, and the
clerk's 确认不实 after checking one by phone or on site."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Group, config_from, emit, json_option, period_option
from toolkit.cli.text import confirmed_lines, suspect_lines


@click.group("verify", cls=Group)
def verify_group() -> None:
    """疑似不实：列出需电话或实地核实的填报，登记核实结果 / reports to verify, and the clerk's findings."""


@verify_group.command("list")
@period_option
@json_option
@click.pass_context
def verify_list(ctx: click.Context, period: Any, as_json: bool) -> None:
    """列出本季度疑似不实的填报及核实结果（同汇总表“疑似不实”）/ list the reports to verify."""
    from toolkit.quarter.verification import suspect_list

    frame = suspect_list(config_from(ctx), period)
    def render(data: dict[str, Any]) -> None:
        click.echo("\n".join(suspect_lines(period, data["suspects"])))

    emit({"period": period.key, "suspects": frame.to_dict("records")}, as_json, render)


@verify_group.command("confirm")
@period_option
@click.argument("keys", nargs=-1, required=True, metavar="编号…")
@click.option("--note", default="", help="核实情况说明，如“电话核实，项目尚未验收” / what the check found")
@json_option
@click.pass_context
def verify_confirm(ctx: click.Context, period: Any, keys: tuple[str, ...], note: str, as_json: bool) -> None:
    """登记核实后确认不实的填报（编号见汇总表“疑似不实”），计入考评 / confirm reports found untrue."""
    from toolkit.quarter.verification import confirm

    done = confirm(config_from(ctx), period, list(keys), note)
    data = {"period": period.key, "confirmed": [s.key for s in done.new], "already": [s.key for s in done.before]}
    emit(data, as_json, lambda _: click.echo("\n".join(confirmed_lines(done))))
