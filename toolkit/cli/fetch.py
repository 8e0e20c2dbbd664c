"""`ducha fetch`: the returned workbooks from the bureau's mailbox into the drop folder."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option, period_option


def interactive() -> bool:
    """A clerk at a terminal, who can be asked for the password (not cron, not a pipe)."""
    return sys.stdin.isatty()


@click.command("fetch", cls=Command)
@period_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="只收取该日期（含）以后到达的邮件，如 2024-03-01；默认本报告期季度第一天 / mail arrived on or after this day")
@click.option("--dry-run", is_flag=True, help="只列出将保存的附件，不保存、不记录 / list, save nothing")
@json_option
@click.pass_context
def fetch_command(ctx: click.Context, period: Any, since: dt.datetime | None, dry_run: bool, as_json: bool) -> None:
    """从收件邮箱收取各单位报回的填报表到收件夹 / fetch returned workbooks from the mailbox ([mail.imap])."""
    from toolkit.mail.fetch import fetch_mail
    from toolkit.mail.imap import PASSWORD_ENV

    password = None
    if not os.environ.get(PASSWORD_ENV) and interactive():  # at a terminal: ask, never echo or keep it
        password = click.prompt(f"收件邮箱密码或授权码（也可设置环境变量 {PASSWORD_ENV}）", hide_input=True,
                                default="", show_default=False) or None
    run = fetch_mail(config_from(ctx), period, since.date() if since else None, dry_run=dry_run, password=password)

    def render(data: dict[str, Any]) -> None:
        for t in data["taken"]:
            who = t["unit"] or f"陌生发件人 {t['sender']}"
            what = f"{'将保存为' if data['dry_run'] else '已保存为'} {t['saved']}" if t["saved"] else "未保存"
            line = f"  {t['arrival'].replace('T', ' ')}  {who}  {t['name'] or '（无附件）'}  {what}"
            click.echo(line + (f"（{t['note']}）" if t["note"] else ""))
        if data["strangers"]:
            kept = "将保存" if data["dry_run"] else "已保存"
            click.echo(f"注意：以下发件人不在总台账“单位名录”中，附件{kept}，请核实：" + "、".join(data["strangers"]))
        verb = "可保存" if data["dry_run"] else "保存"
        click.echo(f"收件邮箱 {data['folder']}（{data['since']} 起）：新邮件 {data['messages']} 封，{verb}附件 {data['saved']} 个"
                   + ("（试运行，未保存任何文件）" if data["dry_run"] else ""))

    emit(run.as_dict(), as_json, render)
