"""`ducha ledger build|import|template|check`: the master ledger from a notice (or blank), and its check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option
from toolkit.cli.text import echo_issues, notice_report_lines

HEADLINES = {
    "created": "已生成总台账：{path}",
    "rebuilt": "已重新生成总台账：{path}（原文件备份为 {backup}）",
    "unchanged": "总台账与{made}的内容一致，未改动：{path}",
    "refused": "任务编号不连续，未生成总台账 {path}。请先核对通知原文；确认无误后加 --force 照此生成",
}


def _render(made: str) -> Any:
    def render(data: dict[str, Any]) -> None:
        if data["notice"]:
            for line in notice_report_lines(data["notice"]):
                click.echo(line)
        click.echo(HEADLINES[data["status"]].format(made=made, **data))
        s = data["summary"]
        if data["status"] != "refused":  # nothing was written: no contents to describe
            click.echo(f"任务 {s['tasks']} 项：")
            for section, count in s["sections"].items():
                click.echo(f"  {section}：{count} 项")
            click.echo(f"单位 {sum(s['units'].values())} 个：" + "、".join(f"{k} {v}" for k, v in s["units"].items()))
            click.echo("分组成员：" + "、".join(f"{k} {v} 个" for k, v in s["groups"].items()))
            click.echo(f"量化指标 {s['indicators']} 条（涉及 {s['tasks_with_indicators']} 项任务）")
        if data["issues"]:
            click.echo(f"请核对以下 {len(data['issues'])} 处：")
            echo_issues(data["issues"])

    return render


def _finish(ctx: click.Context, result: Any, as_json: bool, made: str) -> None:
    emit(result.as_dict(), as_json, _render(made))
    if result.errors or result.status == "refused":
        ctx.exit(1)


_force = click.option(
    "--force",
    is_flag=True,
    help="任务编号有缺漏时仍生成，并覆盖已修改的总台账（先备份）/ write despite numbering gaps, over an edited ledger",
)


@click.command(cls=Command, name="build")
@_force
@json_option
@click.pass_context
def ledger_build(ctx: click.Context, force: bool, as_json: bool) -> None:
    """按 ducha.toml 中的通知生成总台账 master_ledger.xlsx / build the master ledger from the configured notice."""
    from toolkit.ledger.build import build_ledger

    _finish(ctx, build_ledger(config_from(ctx), force=force), as_json, "通知")


@click.command(cls=Command, name="import")
@click.argument("notice", metavar="通知文件", type=click.Path(path_type=Path, dir_okay=False))
@_force
@json_option
@click.pass_context
def ledger_import(ctx: click.Context, notice: Path, force: bool, as_json: bool) -> None:
    """从通知文件（.docx .pdf .html .txt .md）生成总台账 / build the master ledger from a notice file.

    先列出识别结果：任务项数、缺漏或重复的编号、无法归入任务的文字、单位名录中还没有的单位；编号有缺漏时不生成，除非加 --force。
    """
    from toolkit.ledger.build import import_notice

    _finish(ctx, import_notice(config_from(ctx), notice, force=force), as_json, "通知")


@click.command(cls=Command, name="template")
@click.option("--force", is_flag=True, help="覆盖已修改的总台账（先备份原文件）/ overwrite an edited ledger after a backup")
@json_option
@click.pass_context
def ledger_template(ctx: click.Context, force: bool, as_json: bool) -> None:
    """生成空白总台账（含示例行），任务不来自通知时逐项填写 / write a blank master ledger with an example row."""
    from toolkit.ledger.template import write_template

    _finish(ctx, write_template(config_from(ctx), force=force), as_json, "空白模板")


@click.command(cls=Command, name="check")
@json_option
@click.pass_context
def ledger_check(ctx: click.Context, as_json: bool) -> None:
    """检查总台账，列出每处问题（工作表!单元格）/ check the master ledger; exit 1 on errors."""
    from toolkit.ledger.check import check_ledger

    config = config_from(ctx)
    report = check_ledger(config.paths.ledger, config.bureau.year)
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
