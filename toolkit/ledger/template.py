"""A blank master ledger, for a bureau whose tasks do not come from a work-report notice.

Some bureaus supervise tasks handed down one by one (a leader's instructions, a meeting's
decisions) rather than a numbered notice. They start from the same four sheets, headers and
dropdowns as an imported ledger, with one example in each sheet showing how a task, its units, a
group and an indicator are written; the clerk overwrites or deletes it. The example passes the
ledger check as it stands, so the workbook loads before, during and after the clerk's edits, and
it is written through the same protection as an import: never over an edited ledger without --force.
"""

from __future__ import annotations

import datetime as dt

from toolkit.config import Config
from toolkit.fsutil import workspace_lock
from toolkit.ledger import indicators, units
from toolkit.ledger.build import BuildResult, summary, write_ledger
from toolkit.ledger.check import check_ledger
from toolkit.ledger.sheets import about_rows, ledger_tables
from toolkit.model import Ledger, Task, Unit

EXAMPLE_NOTE = "示例行：请改为本局的任务，或删除此行（量化指标、单位名录中的示例行一并改写或删除）"
EXAMPLE_CONTENT = "完成老旧小区改造100个以上。"


def example_ledger(config: Config) -> Ledger:
    """One task led by a city department with a co-operating one and the counties, its indicator,
    and the units it names, one county among them so the group 各县区 has a member."""
    task = Task(
        no=1,
        category="一、重点工作",
        section="（一）示例板块",
        content=EXAMPLE_CONTENT,
        leaders=("示例领导",),
        units_text=f"市示例局、市示例办{units.COUNTY_SEPARATOR}{units.GROUP_COUNTIES}",
        lead="市示例局",
        co=("市示例办",),
        county=(units.GROUP_COUNTIES,),
        deadline=f"{config.bureau.year}年12月31日",
        note=EXAMPLE_NOTE,
    )
    catalogue = [
        Unit("市示例局", units.KIND_CITY, aliases=("示例局",)),
        Unit("市示例办", units.KIND_CITY),
        Unit("示例县", units.KIND_COUNTY, groups=(units.GROUP_COUNTIES,)),
        Unit(units.GROUP_COUNTIES, units.KIND_GROUP),
    ]
    return Ledger([task], catalogue, indicators.extract_all([(task.no, task.content)]))


def write_template(config: Config, force: bool = False, now: dt.datetime | None = None) -> BuildResult:
    """Write the blank ledger to [paths] ledger: created, unchanged when it is already there, and
    over an edited ledger only with force (after a backup)."""
    now = config.bureau.local(now).replace(tzinfo=None)
    ledger = example_ledger(config)
    tables = ledger_tables(ledger, about_rows(config, None, b"", now))
    with workspace_lock(config.paths.lock):
        status, backup = write_ledger(config, tables, force, now, "空白模板")
    checked = check_ledger(config.paths.ledger, config.bureau.year)
    return BuildResult(config.paths.ledger, status, backup, list(checked.issues), summary(ledger))
