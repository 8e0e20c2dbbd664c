"""`ducha briefing`: the quarterly 通报."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option, period_option


@click.command(cls=Command, name="briefing")
@period_option
@click.option("--pdf", is_flag=True, help="同时用 LibreOffice 把 Word 版打印为 PDF / also print the Word file to PDF with LibreOffice")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="通报日期及统计截止日，如 2024-03-29（默认今天）/ date of the briefing (default today)",
)
@click.option("--leaders", is_flag=True,
              help="同时生成责任领导摘要（每位领导一页）/ also write a one-page digest per 责任领导")
@json_option
@click.pass_context
def briefing_command(ctx: click.Context, period: Any, pdf: bool, day: Any, leaders: bool, as_json: bool) -> None:
    """生成季度通报（HTML、Markdown、Word，可选 PDF）/ render the quarterly briefing (通报)."""
    from toolkit.outputs.briefing.publish import render_briefing

    made = render_briefing(config_from(ctx), period, pdf=pdf, now=day.date() if day else None, leaders=leaders)

    def render(data: dict[str, Any]) -> None:
        click.echo(f"已生成{period.full_label}通报，文号：{data['doc_number']}")
        for path in data["outputs"]:
            click.echo(f"  {path}")
        for warning in data["warnings"]:
            click.echo(f"提示：{warning}")

    emit({"period": period.key, "doc_number": made.doc_number, "outputs": [str(p) for p in made.outputs],
          "warnings": made.warnings},
         as_json, render)
