"""`ducha doctor`: check the workspace and say what to fix."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, emit, json_option


@click.command(cls=Command, name="doctor")
@json_option
@click.pass_context
def doctor_command(ctx: click.Context, as_json: bool) -> None:
    """体检：检查工作区并说明如何修复 / check the workspace and say what to fix; exit 1 on a failure."""
    from toolkit.doctor import MARKS, run_doctor

    report = run_doctor(ctx.find_root().params.get("config_path"))

    def render(data: dict[str, Any]) -> None:
        click.echo(f"ducha 体检：{data['root']}")
        for check in data["checks"]:
            click.echo(f"{MARKS[check['status']]} {check['label']}：{check['detail']}")
            if check["fix"]:
                click.echo(f"    → {check['fix']}")
        counts = {s: sum(c["status"] == s for c in data["checks"]) for s in MARKS}
        verdict = "可以正常使用" if data["ok"] else "请先修复标 ✗ 的项目"
        click.echo(f"体检完毕：{counts['ok']} 项通过，{counts['fail']} 项需修复，{counts['warn']} 项提醒，"
                   f"{counts['skip']} 项未检查。{verdict}")

    emit(report.as_dict(), as_json, render)
    if not report.ok:
        ctx.exit(1)
