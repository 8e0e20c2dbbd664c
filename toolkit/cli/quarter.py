"""`ducha generate` and `ducha merge`: the quarter's workbooks out, the returns in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option, names, period_option
from toolkit.cli.progress import progress

# `ducha generate` lists more workbooks than this as plain lines, not a table. The text module
# (cli.text) is imported by each command for its printing only, after the run: it brings the mail's
# and the calendar's modules, which `ducha merge` would otherwise import before starting its workers.
TABLE_ROWS = 100


@click.command(cls=Command)
@period_option
@click.option("--units", default=None, help="只生成这些单位，逗号分隔（可用别名、分组名）/ only these units, comma-separated")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="输出目录（默认 outbox/<报告期>）/ output folder (default outbox/<period>)",
)
@json_option
@click.pass_context
def generate(ctx: click.Context, period: Any, units: str | None, out: Path | None, as_json: bool) -> None:
    """生成各单位本季度的填报表 / write each unit's report workbook for a quarter."""
    from toolkit.quarter.prefill import generate as generate_workbooks

    with progress(as_json):
        result = generate_workbooks(config_from(ctx), period, names(units), out)

    def render(data: dict[str, Any]) -> None:  # its imports here: --json needs none of them
        from rich.console import Console
        from rich.table import Table

        from toolkit.cli.text import generated_lines

        console = Console(markup=False, highlight=False)
        if len(data["workbooks"]) > TABLE_ROWS:  # a table that long only scrolls by, slowly (~0.5 s a 1,000 rows)
            click.echo("\n".join([f"{period.full_label}填报表", *generated_lines(data["workbooks"])]))
        else:
            table = Table("单位", title=f"{period.full_label}填报表")
            for header in ("牵头", "配合", "县区落实", "指标"):
                table.add_column(header, justify="right")
            for w in data["workbooks"]:
                table.add_row(w["unit"], *(str(w[k]) for k in ("lead", "co", "county", "indicators")))
            console.print(table)
        console.print(f"已生成 {len(data['workbooks'])} 个填报表，保存在 {data['out_dir']}（截止 {period.deadline_label}）")
        if data["units_without_tasks"]:
            console.print(f"没有任务、未生成填报表的单位：{'、'.join(data['units_without_tasks'])}")
        for group in data["empty_groups"]:
            tasks = "、".join(map(str, group["tasks"])) or "无"
            console.print(f"分组“{group['group']}”没有成员单位（涉及任务：{tasks}），请在总台账“单位名录”中指定成员")

    emit(result.as_dict(), as_json, render)


@click.command(cls=Command)
@period_option
@click.option(
    "--drop",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="收件夹（默认 ducha.toml 中的 drop）/ drop folder (default: drop in ducha.toml)",
)
@click.option(
    "--recheck",
    is_flag=True,
    help="按当前总台账和 [checks] 设置重新审核本期已收的全部文件（保留此前的审核记录）"
    " / check this period's archived files again against today's ledger and [checks], keeping the earlier checks",
)
@json_option
@click.pass_context
def merge(ctx: click.Context, period: Any, drop: Path | None, recheck: bool, as_json: bool) -> None:
    """汇总各单位报回的填报表，生成汇总表和回执 / merge returned workbooks into 汇总表 and receipts."""
    from toolkit.outputs.rerun import merge_summary

    with progress(as_json):
        summary = merge_summary(config_from(ctx), period, drop, recheck=recheck)

    def render(data: dict[str, Any]) -> None:
        from toolkit.cli.text import summary_lines  # not needed for --json

        for line in summary_lines(data):
            click.echo(line)

    emit(summary, as_json, render)
