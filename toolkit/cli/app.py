"""The `ducha` command line: parse arguments, call one library function, print, exit.

Exit codes: 0 ok, 1 a data or runtime problem (DuchaError, shown in Chinese), 2 usage (in Chinese,
cli/chinese.py), 130 stopped by Ctrl-C (as a shell reports SIGINT; the message says what was kept).
One module per family of commands; library modules are imported inside each command so
`ducha --help` stays fast.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from toolkit import __version__
from toolkit.cli import (
    briefing,
    doctor,
    fetch,
    init,
    ledger,
    mail,
    notices,
    plans,
    quarter,
    review,
    routine,
    verify,
)
from toolkit.cli.base import CONTEXT, Group


@click.group(cls=Group, context_settings=CONTEXT)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="配置文件 ducha.toml 或其所在目录（默认当前目录）/ path to ducha.toml or its folder",
)
@click.version_option(__version__, prog_name="ducha", message="%(prog)s 版本 %(version)s",
                      help="显示版本并退出 / show the version and exit")
def cli(config_path: Path | None) -> None:
    """督查台账工具：政府工作报告确定事项的季度督查。

    ducha: quarterly supervision of a government work report in Excel workbooks.
    """


@cli.group("ledger", cls=Group)
def ledger_group() -> None:
    """总台账：从通知导入、空白模板、检查 / import, start blank and check the master ledger."""



for command in (init.init_command, quarter.generate, quarter.merge, mail.send, mail.remind, mail.receipts, fetch.fetch_command,
                routine.calendar_command, routine.schedule_command, briefing.briefing_command, notices.notices_command,
                doctor.doctor_command, verify.verify_group, review.review_group):
    cli.add_command(command)
for command in (ledger.ledger_build, ledger.ledger_import, ledger.ledger_template, ledger.ledger_check, plans.ledger_plans):
    ledger_group.add_command(command)


def main() -> None:
    # Windows consoles default to a legacy code page; Chinese output must not crash.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    cli(prog_name="ducha")
