"""`ducha send|remind|receipts`: the three mailings, one shape of output."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option, names, period_option
from toolkit.cli.text import RESULT_LABELS


def mail_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """--period, --units, --dry-run, --resend and --json, shared by send, remind and receipts."""
    for option in reversed([
        period_option,
        click.option("--units", default=None, help="只发给这些单位，逗号分隔（可用别名、分组名）/ only these units"),
        click.option("--dry-run", is_flag=True, help="只生成 .eml 文件到 outbox/<报告期>/mail/，不发送 / write .eml files, send nothing"),
        click.option("--resend", is_flag=True, help="已发过的也重新发送 / send again what was already sent"),
        json_option,
    ]):
        command = option(command)
    return command


def finish_mail(ctx: click.Context, run: Any, as_json: bool) -> None:
    """Print a MailRun; exit 1 when a message failed, so cron and the clerk notice."""
    def render(data: dict[str, Any]) -> None:
        for d in data["deliveries"]:
            line = f"  {d['unit']}  {'、'.join(d['recipients'])}  {RESULT_LABELS[d['result']]}"
            line += f"：{d['error']}" if d["error"] else ""
            click.echo(line + (f"（未发往：{'、'.join(d['unused'])}）" if d["unused"] else ""))
        if data["no_address"]:
            shown = [f"{u}（{data['address_at'].get(u, '')}“{v}”）" if v.strip() else f"{u}（未填写）"
                     for u, v in data["no_address"].items()]
            click.echo("没有有效邮箱、未发送（请在总台账“单位名录”的“邮箱”列填写或改正）：" + "、".join(shown))
        if data["missing"]:
            missing = "还没有回执（尚未报送）" if data["kind"] == "receipt" else "缺少填报表（请先运行 ducha generate）"
            click.echo(f"{missing}：" + "、".join(data["missing"]))
        if data["not_due"]:
            click.echo("已报送、无需催报：" + "、".join(data["not_due"]))
        click.echo(data["summary"])
        if data["mail_dir"]:
            click.echo(f"未发送任何邮件；邮件文件（可用邮件客户端打开）保存在 {data['mail_dir']}")

    emit(run.as_dict(), as_json, render)
    if run.failed:
        ctx.exit(1)


@click.command(cls=Command)
@mail_options
@click.pass_context
def send(ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool) -> None:
    """把填报表发到各单位邮箱 / e-mail each unit its workbook (once; --resend to repeat)."""
    from toolkit.mail.runs import send_workbooks

    run = send_workbooks(config_from(ctx), period, names(units), dry_run=dry_run, resend=resend)
    finish_mail(ctx, run, as_json)


@click.command(cls=Command)
@mail_options
@click.pass_context
def remind(ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool) -> None:
    """催报：提醒尚未报送合格报表的单位 / remind the units with no accepted report."""
    from toolkit.mail.runs import send_reminders

    run = send_reminders(config_from(ctx), period, names(units), dry_run=dry_run, resend=resend)
    finish_mail(ctx, run, as_json)


@click.command(cls=Command)
@mail_options
@click.option("--send", "send_mail", is_flag=True, help="把回执发到各单位邮箱 / e-mail each unit its receipt")
@click.pass_context
def receipts(
    ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool, send_mail: bool
) -> None:
    """发送汇总生成的回执 / e-mail the receipts the last merge wrote (needs --send or --dry-run)."""
    from toolkit.mail.runs import send_receipts

    if not (send_mail or dry_run):
        raise click.UsageError("请加 --send 发送回执，或加 --dry-run 只生成邮件文件")
    run = send_receipts(config_from(ctx), period, names(units), dry_run=dry_run, resend=resend)
    finish_mail(ctx, run, as_json)
