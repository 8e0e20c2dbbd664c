"""`ducha notices`: a check of the quarter, the escalating notices it issues, and --send."""

from __future__ import annotations

from typing import Any

import click

from toolkit.cli.base import Command, config_from, emit, json_option, period_option
from toolkit.cli.mail import finish_mail
from toolkit.cli.text import notice_lines


@click.command(cls=Command, name="notices")
@period_option
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="检查日期，如 2024-04-09（默认今天）/ the day of the check (default today)")
@click.option("--no-pdf", is_flag=True, help="不用 LibreOffice 生成 PDF / Word files only")
@click.option("--send", "send_mail", is_flag=True, help="把本季度的通知发到各单位邮箱 / e-mail each notice to its unit")
@click.option("--dry-run", is_flag=True, help="只生成 .eml 文件，不发送 / write .eml files, send nothing")
@json_option
@click.pass_context
def notices_command(ctx: click.Context, period: Any, day: Any, no_pdf: bool, send_mail: bool, dry_run: bool,
                    as_json: bool) -> None:
    """督办检查：对落后单位发提示单、督办单、通报，生成约谈名单 / issue escalating notices to units behind."""
    from toolkit.mail.runs import send_notices
    from toolkit.outputs.notices import publish_notices

    config = config_from(ctx)
    run = publish_notices(config, period, day.date() if day else None, pdf=not no_pdf)
    mailed = send_notices(config, period, dry_run=dry_run) if send_mail or dry_run else None
    if as_json:  # one document
        emit({**run.as_dict(), "mail": mailed.as_dict() if mailed else None}, True, print)
        if mailed and mailed.failed:
            ctx.exit(1)
        return
    click.echo("\n".join(notice_lines(run.as_dict())))
    if mailed:
        finish_mail(ctx, mailed, False)
