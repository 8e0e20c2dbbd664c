"""The `ducha` command line: parse arguments, call one library function, print, exit.

Exit codes: 0 ok, 1 a data or runtime problem (DuchaError, shown in Chinese), 2 usage (in Chinese,
cli/chinese.py), 130 stopped by Ctrl-C (as a shell reports SIGINT; the message says what was kept).
One module per family of commands; library modules are imported inside each command so
`ducha --help` stays fast.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys
from pathlib import Path

import click

from toolkit import __version__, pool
from toolkit.cli.base import CONTEXT, Group

# Each command's module is imported when the command runs (cli.base.Group's lazy).
COMMANDS = {
    "init": "toolkit.cli.init:init_command",
    "generate": "toolkit.cli.quarter:generate",
    "merge": "toolkit.cli.quarter:merge",
    "send": "toolkit.cli.mail:send",
    "remind": "toolkit.cli.mail:remind",
    "receipts": "toolkit.cli.mail:receipts",
    "fetch": "toolkit.cli.fetch:fetch_command",
    "calendar": "toolkit.cli.routine:calendar_command",
    "schedule": "toolkit.cli.routine:schedule_command",
    "briefing": "toolkit.cli.briefing:briefing_command",
    "notices": "toolkit.cli.notices:notices_command",
    "doctor": "toolkit.cli.doctor:doctor_command",
    "verify": "toolkit.cli.verify:verify_group",
    "review": "toolkit.cli.review:review_group",
}
LEDGER_COMMANDS = {
    "build": "toolkit.cli.ledger:ledger_build",
    "import": "toolkit.cli.ledger:ledger_import",
    "template": "toolkit.cli.ledger:ledger_template",
    "check": "toolkit.cli.ledger:ledger_check",
    "plans": "toolkit.cli.plans:ledger_plans",
}


@click.group(cls=Group, context_settings=CONTEXT, lazy=COMMANDS)
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


@cli.group("ledger", cls=Group, lazy=LEDGER_COMMANDS)
def ledger_group() -> None:
    """总台账：从通知导入、空白模板、检查 / import, start blank and check the master ledger."""


def main() -> None:
    # No command does linear algebra, and numpy's OpenBLAS, on being imported with pandas, starts a
    # thread a core that spins for a while: ~0.1 s of CPU taken from the merge's own workers.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _spare_the_workers()
    # Windows consoles default to a legacy code page; Chinese output must not crash.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    try:
        cli(prog_name="ducha")  # click ends every run, good or bad, with SystemExit
    except SystemExit as done:
        _end(done.code)


def _spare_the_workers() -> None:
    """Have the pool's server import this module once, when ducha was started from a script (the
    `ducha` console script). Each worker re-runs the parent's main script on starting, and Python
    3.11's forkserver, though it means to, never runs it in the server first (it looks the path up
    under a key the parent does not fill in); the script's one import, this module, then cost every
    reading worker ~50 ms before its first file. Started by module name (`python -m toolkit`) or
    from -c, the workers run nothing of it."""
    main_module = sys.modules.get("__main__")
    if getattr(main_module, "__spec__", None) is None and getattr(main_module, "__file__", None):
        pool.preload(__name__)


def _end(code: object) -> None:
    """Exit as sys.exit(code) would, without the interpreter's teardown. A merge ends holding its
    whole quarter, pandas and the writers; freeing them object by object on the way out took
    0.09-0.13 s of a 66-unit merge (a tenth of it) and is work the operating system does at once.
    What an exit must do still happens: every atexit function (the pool's, logging's), then the
    streams flushed. Files are already closed by then: the store, the lock and every output are
    written and closed by the library before the command returns, and no thread of ducha's is left
    to wait for (the pool's are daemons in its workers). Only the console script ends this way;
    the library, and a CliRunner in the tests, return as usual."""
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:  # as Python prints sys.exit("message")
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to say to it
            stream.flush()
    os._exit(status)
