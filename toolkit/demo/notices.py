"""`make demo`: escalating notices over the two quarters, one check at a time.

The demo's silent units show the whole ladder: a 提示单 at the first check after the Q1 deadline,
a 督办单 at the check after its 整改期限 has passed, a 通报 (and the 约谈名单) at the Q2 check; a
rerun on the same day issues nothing. Each notice is mailed to the unit (the local test server),
once. Word files only (no LibreOffice needed); `ducha notices` prints PDFs where it is installed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from toolkit.config import Config
from toolkit.demo.scene import at, say
from toolkit.mail.runs import send_notices
from toolkit.mail.transport import local_inbox
from toolkit.outputs.notice_word import TITLES
from toolkit.outputs.notices import publish_notices
from toolkit.period import Period


def play_notices(config: Config, period: Period, days: tuple[str, ...], inbox: Path) -> list[Path]:
    """One `ducha notices --period … --date … --send` a day; returns the files written."""
    written: list[Path] = []
    for day in days:
        say(f"\n== 督办检查 (ducha notices --period {period.key} --date {day} --send) ==")
        run = publish_notices(config, period, dt.date.fromisoformat(day), pdf=False)
        levels = Counter(n.level for n in run.issued)
        say("新发出：" + ("，".join(f"{TITLES[level]} {count} 份" for level, count in sorted(levels.items()))
                         or "无（没有逾期未整改的事项）"))
        shown = set()
        for notice, number in zip(run.issued, run.numbers, strict=True):
            if notice.level not in shown:
                shown.add(notice.level)
                say(f"  例：{number}  {notice.unit}  整改期限 {notice.due}：{notice.cause}")
        rerun = publish_notices(config, period, dt.date.fromisoformat(day), pdf=False)
        say(f"  同日再运行一次：新发出 {len(rerun.issued)} 份（同一事项同一级别只发一次）")
        with local_inbox(config, inbox) as live:
            say("  " + send_notices(live, period, now=at(day)).summary)
        written += run.outputs
    return written
