"""`ducha ledger plans [--apply]`: the plans lead units returned, into the ledger's 节点计划."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, clock, config_from, emit, json_option
from toolkit.cli.text import plans_lines


@click.command(cls=Command, name="plans")
@click.option("--apply", "apply", is_flag=True,
              help="写入总台账的“节点计划”（不加时只列出将做的改动）/ write them into the ledger (else only list)")
@json_option
@click.pass_context
def ledger_plans(ctx: click.Context, apply: bool, as_json: bool) -> None:
    """把各单位报送并已采用的节点计划写入总台账；督查局已有节点的任务不覆盖，列为冲突 / copy accepted unit plans into the ledger."""
    from toolkit.quarter.plan_apply import apply_plans

    result = apply_plans(config_from(ctx), apply, clock())

    def render(data: dict[str, Any]) -> None:
        for line in plans_lines(data, apply):
            click.echo(line)

    emit(result.as_dict(), as_json, render)
