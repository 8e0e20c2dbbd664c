"""`ducha ledger build|check`: the master ledger from the notice, and its check."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option
from toolkit.cli.text import echo_issues


@click.command(cls=Command, name="build")
@click.option("--force", is_flag=True, help="覆盖已修改的总台账（先备份原文件）/ overwrite an edited ledger after a backup")
@json_option
@click.pass_context
def ledger_build(ctx: click.Context, force: bool, as_json: bool) -> None:
    """按通知生成总台账 master_ledger.xlsx / build the master ledger from the notice."""
    from toolkit.ledger.build import build_ledger

    result = build_ledger(config_from(ctx), force=force)

    def render(data: dict[str, Any]) -> None:
        headline = {
            "created": f"已生成总台账：{data['path']}",
            "rebuilt": f"已按通知重新生成总台账：{data['path']}（原文件备份为 {data['backup']}）",
            "unchanged": f"总台账与通知一致，未改动：{data['path']}",
        }[data["status"]]
        click.echo(headline)
        s = data["summary"]
        click.echo(f"任务 {s['tasks']} 项：")
        for section, count in s["sections"].items():
            click.echo(f"  {section}：{count} 项")
        click.echo(f"单位 {sum(s['units'].values())} 个：" + "、".join(f"{k} {v}" for k, v in s["units"].items()))
        click.echo("分组成员：" + "、".join(f"{k} {v} 个" for k, v in s["groups"].items()))
        click.echo(f"量化指标 {s['indicators']} 条（涉及 {s['tasks_with_indicators']} 项任务）")
        if data["issues"]:
            click.echo(f"请核对以下 {len(data['issues'])} 处：")
            echo_issues(data["issues"])

    emit(result.as_dict(), as_json, render)
    if result.errors:
        ctx.exit(1)


@click.command(cls=Command, name="check")
@json_option
@click.pass_context
def ledger_check(ctx: click.Context, as_json: bool) -> None:
    """检查总台账，列出每处问题（工作表!单元格）/ check the master ledger; exit 1 on errors."""
    from toolkit.ledger.check import check_ledger

    config = config_from(ctx)
    report = check_ledger(config.paths.ledger)
    data = {
        "path": str(config.paths.ledger),
        "ok": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "issues": [i.as_dict() for i in report],
    }

    def render(data: dict[str, Any]) -> None:
        click.echo(f"检查总台账：{data['path']}")
        echo_issues(data["issues"])
        click.echo(f"检查完毕：{data['errors']} 处错误，{data['warnings']} 处提醒")

    emit(data, as_json, render)
    if not report.ok:
        ctx.exit(1)
