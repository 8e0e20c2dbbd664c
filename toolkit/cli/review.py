"""`ducha review`: the 审核表 of a quarter's 延期/办结 requests out, the leader's decisions back in,
and `ducha review reopen` for a decision that must be taken again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.base import (
    Failure,
    Group,
    PeriodType,
    clock,
    config_from,
    emit,
    json_option,
    period_option,
    period_or_current,
)
from toolkit.cli.text import review_lines


@click.group("review", cls=Group, invoke_without_command=True)
@click.option("--period", "period", type=PeriodType(), default=None,
              help="报告期，如 2024Q2；不写则取截止日最近的季度 / reporting period (default: the nearest quarter)")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="审核表保存位置（默认 reports/<报告期>/<报告期>_审核表.xlsx）/ where to write it")
@json_option
@click.pass_context
def review_group(ctx: click.Context, period: Any, out: Path | None, as_json: bool) -> None:
    """延期、办结与计划调整申请：生成审核表、导入审核意见、重新审核 / review extension, closing and plan-change requests."""
    if ctx.invoked_subcommand is not None:
        return
    from toolkit.outputs.review_book import write_review

    period = period_or_current(ctx, period)

    path, count = write_review(config_from(ctx), period, out)
    data = {"period": period.key, "path": str(path), "pending": count}
    emit(data, as_json, lambda d: click.echo(f"已生成审核表 {d['path']}，待审核申请 {d['pending']} 项"))


@review_group.command("apply")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False), metavar="审核表文件")
@json_option
@click.pass_context
def review_apply(ctx: click.Context, file: Path, as_json: bool) -> None:
    """导入填好的审核表，登记审核意见（有任何问题则一项也不登记）/ record the decisions of a filled 审核表."""
    from toolkit.outputs.review_apply import apply_review

    config = config_from(ctx)
    applied = apply_review(config, file, config.bureau.local(clock()).replace(tzinfo=None))
    data = {"recorded": len(applied.recorded), "unchanged": applied.unchanged, "blank": applied.blank,
            "problems": applied.problems}
    emit(data, as_json, lambda d: click.echo("\n".join(review_lines(d))))
    if applied.problems:
        raise Failure("审核表有问题，未登记任何审核意见，请改正后重新导入")


@review_group.command("reopen")
@period_option
@click.option("--task", "task_no", type=int, required=True, help="任务编号 / task number")
@click.option("--unit", required=True, help="申请单位 / the unit that asked")
@click.option("--by", "reviewer", required=True, help="经办人 / who reopens it")
@click.option("--reason", required=True, help="重新审核的原因 / why")
@click.option("--kind", type=click.Choice(["申请延期", "申请办结", "申请调整计划"]),
              help="申请事项（同一任务有多项已审核的申请时必填）/ which request, when the task has several")
@click.pass_context
def review_reopen(ctx: click.Context, period: Any, task_no: int, unit: str, reviewer: str, reason: str,
                  kind: str | None) -> None:
    """撤销已生效的审核决定，使申请重新待审核 / make a decided request pending again."""
    from toolkit.quarter.decisions import reopen_request

    config = config_from(ctx)
    reopen_request(config, period.key, unit, task_no, reviewer, reason, config.bureau.local(clock()).replace(tzinfo=None),
                   kind)
    click.echo(f"已撤销 {period.key} {unit} 任务{task_no} 的审核决定，该申请将出现在下次生成的审核表中")
