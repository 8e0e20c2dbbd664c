"""The quarter's routine on a calendar: what is due when, and a runner that finishes each action once.

The clerk's year is the same four times: send the workbooks three weeks before the 28th, remind
a week and a day before, merge daily in the last week, merge for good after the deadline and
render the briefing. `due_actions` is a pure function of (periods, today, what was done, offsets),
so the whole year can be tested day by day without a clock; the runner only asks it, does what it
says and records each action in the store, which is why a restart never repeats an action and
catches up the ones missed while the computer was off. A mail action is done only when every unit
it owes a message has received one: a unit with no 邮箱 or no workbook yet keeps it pending, so it
is tried (and listed) on every tick until its message goes. Days and times are on the bureau's
clock ([bureau] timezone), whatever the computer is set to.
"""

from __future__ import annotations

import datetime as dt
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from toolkit.config import Config, option
from toolkit.errors import ConfigError, DuchaError
from toolkit.period import Period
from toolkit.workdays import next_workday, previous_workday

GENERATE, SEND, MERGE, RECEIPTS, REMIND, BRIEFING = "generate", "send", "merge", "receipts", "remind", "briefing"
# Order within one day: units that reported overnight are merged before anyone is reminded.
KINDS = (GENERATE, SEND, MERGE, RECEIPTS, REMIND, BRIEFING)
KIND_LABELS = {
    GENERATE: "生成填报表",
    SEND: "下发填报表",
    MERGE: "汇总",
    RECEIPTS: "发送回执",
    REMIND: "催报",
    BRIEFING: "生成通报",
}
# Kinds where a later action makes an earlier missed one pointless (one reminder, not three).
SUPERSEDED_BY_LATER = (MERGE, RECEIPTS, REMIND)
# A merge, receipts or briefing missed for longer than this after the deadline is not caught up:
# a scheduler first started in July must not send the first quarter's mail.
CATCH_UP_DAYS = 45
FINAL = "final"

# pending: the action ran but some unit is still owed its message (no 邮箱, no workbook): tried again
# on the next tick, like a failed one.
DONE, SKIPPED, PENDING, FAILED = "done", "skipped", "pending", "failed"
RESULT_LABELS = {DONE: "完成", SKIPPED: "跳过", PENDING: "未完成", FAILED: "失败"}


def _clock(value: object) -> dt.time:
    return dt.time.fromisoformat(str(value))


def _days(value: object) -> tuple[int, ...]:
    if not isinstance(value, list) or not all(type(d) is int for d in value):
        raise ValueError(value)
    return tuple(sorted(set(value), reverse=True))


@dataclass(frozen=True)
class Offsets:
    """The [schedule] section: days relative to each quarter's deadline, and the daily tick time."""

    time: dt.time = option(dt.time(9, 0), parse=_clock, hint='应为 24 小时制时刻，如 "09:00"')
    send: int = 21  # generate and e-mail the workbooks this many days before
    # remind non-reporters this many days before (negative: after)
    remind: tuple[int, ...] = option((7, 1), parse=_days, hint="应为整数列表（截止前天数），如 [7, 1]")
    merge_from: int = 7  # merge daily from this many days before …
    final: int = 1  # … up to the final merge this many days after the deadline
    briefing: int = 1  # render the briefing this many days after the deadline
    receipts: bool = True  # e-mail the receipts after each merge

    def __post_init__(self) -> None:
        if self.send <= 0 or self.merge_from < 0 or self.final < 0 or self.briefing < self.final:
            raise ConfigError(
                "ducha.toml 的 [schedule] 天数不合理：send 应大于 0，merge_from、final 不小于 0，"
                "briefing 不早于 final（通报在最终汇总之后）"
            )


def offsets_from(config: Config) -> Offsets:
    """Read [schedule] from ducha.toml; a wrong value is a ConfigError that names the key."""
    return config.read("schedule", Offsets)


@dataclass(frozen=True)
class Action:
    """One thing to do for one quarter on one day. `tag` tells two actions of a kind apart
    (D-7 is the reminder a week before the deadline, final the last merge); `skip` is set when the
    action is recorded without being done because a later one of its kind replaces it."""

    day: dt.date
    period: str
    kind: str
    tag: str = ""
    skip: str = ""

    @property
    def key(self) -> str:
        """Stable across offset changes of other kinds: 2024Q1/remind/D-7."""
        return f"{self.period}/{self.kind}/{self.tag}"

    @property
    def label(self) -> str:
        """2024Q1 催报（截止前7天）"""
        return f"{self.period} {KIND_LABELS[self.kind]}{tag_label(self.tag)}"

    def as_dict(self) -> dict[str, str]:
        return {
            "day": self.day.isoformat(),
            "period": self.period,
            "kind": self.kind,
            "tag": self.tag,
            "key": self.key,
            "label": self.label,
            "skip": self.skip,
        }


def tag(days: int) -> str:
    """An action's day relative to the deadline: D-7, D, D+1."""
    return f"D{days:+d}" if days else "D"


def tag_label(action_tag: str) -> str:
    """D-7 → （截止前7天）: how the clerk reads an action's tag."""
    if action_tag == FINAL:
        return "（最终）"
    if not action_tag:
        return ""
    days = int(action_tag[1:] or 0)
    if days < 0:
        return f"（截止前{-days}天）"
    return "（截止当天）" if days == 0 else f"（截止后{days}天）"


def period_actions(period: Period, offsets: Offsets) -> list[tuple[Action, dt.date]]:
    """Every action of one quarter with the last day it is still worth doing."""
    deadline = period.deadline
    stale = deadline + dt.timedelta(days=CATCH_UP_DAYS)
    final_day = deadline + dt.timedelta(days=offsets.final)

    def at(days: int) -> dt.date:
        return deadline + dt.timedelta(days=days)

    # Mail never goes out on a day off (workdays): workbooks and reminders go the working day
    # before, never late (an overdue one the working day after); receipts of a merge on a day off
    # go with the next working day's, one receipts action a day tagged with its latest merge.
    # Merging and the briefing send nothing and keep their days.
    key = period.key
    send_day = previous_workday(at(-offsets.send))
    actions = [(Action(send_day, key, GENERATE, tag(-offsets.send)), deadline)]
    actions.append((Action(send_day, key, SEND, tag(-offsets.send)), deadline))
    reminders = [(days, previous_workday(at(-days)) if days >= 0 else next_workday(at(-days)))
                 for days in offsets.remind]
    # A reminder goes only to units with no accepted file, so the drop folder is merged that day first.
    merge_days = set(range(-offsets.merge_from, offsets.final))
    merge_days |= {(day - deadline).days for _, day in reminders if day < final_day}
    merge_tags = [(d, tag(d)) for d in sorted(merge_days)] + [(offsets.final, FINAL)]
    receipts: dict[dt.date, str] = {}
    for days, merge_tag in merge_tags:
        actions.append((Action(at(days), key, MERGE, merge_tag), stale))
        receipts[next_workday(at(days))] = merge_tag
    if offsets.receipts:
        actions += [(Action(day, key, RECEIPTS, receipt_tag), stale) for day, receipt_tag in receipts.items()]
    actions += [(Action(day, key, REMIND, tag(-days)), max(day, final_day)) for days, day in reminders]
    actions.append((Action(at(offsets.briefing), key, BRIEFING, tag(offsets.briefing)), stale))
    return sorted(actions, key=lambda pair: _order(pair[0]))


def _order(action: Action) -> tuple[dt.date, str, int, str]:
    return action.day, action.period, KINDS.index(action.kind), action.tag


def _periods(year_or_periods: int | Iterable[Period]) -> list[Period]:
    if isinstance(year_or_periods, int):
        return [Period.parse(f"{year_or_periods}Q{q}") for q in range(1, 5)]
    return list(year_or_periods)


def due_actions(
    year_or_periods: int | Iterable[Period], today: dt.date, done: set[str], offsets: Offsets
) -> list[Action]:
    """What to do on `today` (the bureau's date), in order: every action whose day has come, not
    done yet and not stale.

    When several merges (or receipts, or reminders) of one quarter are due at once — the computer
    was off — only the latest is done; the others come back with `skip` set so they are recorded
    and never asked for again. An action's day counts from midnight, so a cron job at any hour works.
    """
    due = [
        action
        for period in _periods(year_or_periods)
        for action, last_day in period_actions(period, offsets)
        if action.day <= today <= last_day and action.key not in done
    ]
    latest: dict[tuple[str, str], Action] = {}
    for action in due:
        if action.kind in SUPERSEDED_BY_LATER:
            latest[(action.period, action.kind)] = action  # `due` is in day order
    result = []
    for action in due:
        newer = latest.get((action.period, action.kind), action)
        if newer is not action:
            action = Action(action.day, action.period, action.kind, action.tag, f"已由 {newer.day} 的同类任务取代")
        result.append(action)
    return sorted(result, key=_order)


def calendar(config: Config, year: int) -> list[Action]:
    """The year's plan, for `ducha calendar`: every quarter's actions in date order."""
    offsets = offsets_from(config)
    periods = year_periods(config, year)
    return sorted((a for p in periods for a, _ in period_actions(p, offsets)), key=_order)


def year_periods(config: Config, year: int) -> list[Period]:
    return [Period.parse(f"{year}Q{q}", config.deadlines) for q in range(1, 5)]


# --- the runner --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one tick did with one action."""

    action: Action
    result: str  # done / skipped / pending / failed
    summary: str

    def as_dict(self) -> dict[str, str]:
        return {**self.action.as_dict(), "result": self.result, "summary": self.summary}

    @property
    def line(self) -> str:
        return f"{self.action.day} {self.action.label}：{RESULT_LABELS[self.result]}。{self.summary}"


# (config, period, action, now on the bureau's clock) → (done / pending / failed, summary)
Runner = Callable[[Config, Period, Action, dt.datetime], tuple[str, str]]


def _generate(config: Config, period: Period, action: Action, now: dt.datetime) -> tuple[str, str]:
    from toolkit.quarter.prefill import generate

    result = generate(config, period, now=now.replace(tzinfo=None))
    return DONE, f"已生成 {len(result.workbooks)} 份填报表（{result.out_dir}）"


def _merge(config: Config, period: Period, action: Action, now: dt.datetime) -> tuple[str, str]:
    """Fetch the mailbox first when [mail.imap] is set (every merge day: the last week and the day
    after the deadline), so returns go from mail to 汇总表 and receipts with no hand step. A fetch
    that fails still merges what is there, and fails the action so the next tick tries again."""
    from toolkit.mail.fetch import fetch_mail
    from toolkit.mail.imap import imap_settings
    from toolkit.outputs.publish import merge

    fetched, result_kind = "", DONE
    if imap_settings(config) is not None:
        try:
            run = fetch_mail(config, period, now=now)
            fetched = f"收取新邮件 {run.messages} 封、保存附件 {len(run.saved)} 个；"
        except DuchaError as exc:
            fetched, result_kind = f"收取邮件失败（{exc}），先按收件夹现有文件汇总；", FAILED
    result = merge(config, period, now=now.replace(tzinfo=None))
    return result_kind, f"{fetched}新处理文件 {len(result.new_files)} 个，累计收到 {len(result.merged.files)} 个"


def _briefing(config: Config, period: Period, action: Action, now: dt.datetime) -> tuple[str, str]:
    from toolkit.outputs.briefing.publish import render_briefing

    made = render_briefing(config, period, now=now.date())
    return DONE, f"已生成通报（{made.doc_number}）：" + "、".join(p.name for p in made.outputs)


def _mail(kind: str) -> Runner:
    def run(config: Config, period: Period, action: Action, now: dt.datetime) -> tuple[str, str]:
        from toolkit.mail import runs as mail

        send = {SEND: mail.send_workbooks, REMIND: mail.send_reminders, RECEIPTS: mail.send_receipts}[kind]
        result = send(config, period, now=now)
        return FAILED if result.failed else PENDING if result.undelivered else DONE, result.summary

    return run


RUNNERS: dict[str, Runner] = {
    GENERATE: _generate,
    SEND: _mail(SEND),
    MERGE: _merge,
    RECEIPTS: _mail(RECEIPTS),
    REMIND: _mail(REMIND),
    BRIEFING: _briefing,
}


def tick(config: Config, now: dt.datetime | None = None) -> list[Outcome]:
    """Do every action due at `now` (default: the current time; a naive one is on the bureau's
    clock) and record each.

    An action that fails (a DuchaError, a mail server that refused some messages) is recorded as
    failed, one that left a unit without its message (no 邮箱, no workbook) as pending; both are
    asked for again on the next tick, and one action failing never stops the others.
    Only one tick runs at a time per workspace (a second one gets BusyError)."""
    from toolkit.fsutil import workspace_lock
    from toolkit.quarter.history import record_schedule_run, schedule_done
    from toolkit.quarter.store import open_store

    now = config.bureau.local(now)
    offsets = offsets_from(config)
    periods = {p.key: p for p in year_periods(config, config.bureau.year)}
    outcomes: list[Outcome] = []
    with workspace_lock(config.paths.lock.with_name(".ducha.schedule.lock")):
        with open_store(config.paths.store) as store:
            done = schedule_done(store)
        for action in due_actions(periods.values(), now.date(), done, offsets):
            outcome = _run(config, periods[action.period], action, now)
            with open_store(config.paths.store) as store:
                record_schedule_run(
                    store, action.key, action.period, action.kind, action.day.isoformat(),
                    now.isoformat(timespec="seconds"), outcome.result, outcome.summary,
                )
            outcomes.append(outcome)
    return outcomes


def _run(config: Config, period: Period, action: Action, now: dt.datetime) -> Outcome:
    if action.skip:
        return Outcome(action, SKIPPED, action.skip)
    try:
        result, summary = RUNNERS[action.kind](config, period, action, now)
    except DuchaError as exc:
        return Outcome(action, FAILED, str(exc))
    except Exception as exc:  # a bug must not kill a scheduler that runs for months; it is logged
        return Outcome(action, FAILED, f"程序错误：{exc!r}\n{traceback.format_exc()}")
    return Outcome(action, result, summary)


def local_tick_time(offsets: Offsets, zone: dt.tzinfo, today: dt.date | None = None) -> str:
    """The configured tick time on the bureau's clock (`zone`) read on this computer's clock
    (HH:MM), which is the clock the `schedule` package reads."""
    today = today or dt.datetime.now(zone).date()
    return dt.datetime.combine(today, offsets.time, zone).astimezone().strftime("%H:%M")


def run_forever(config: Config, echo: Callable[[str], None] = print, poll_seconds: float = 30) -> None:
    """`ducha schedule`: one tick now (catching up), then one every day at [schedule] time."""
    import schedule

    offsets = offsets_from(config)
    bureau = config.bureau

    def job() -> None:
        try:
            outcomes = tick(config)
        except DuchaError as exc:
            echo(f"{bureau.local():%Y-%m-%d %H:%M} 本次未执行：{exc}")
            return
        except Exception as exc:  # a locked database, a full disk: the runner lives on for months
            echo(f"{bureau.local():%Y-%m-%d %H:%M} 本次检查出错（{type(exc).__name__}：{exc}），"
                 "未记为完成的任务下次检查时重试；定时任务继续运行")
            return
        stamp = f"{bureau.local():%Y-%m-%d %H:%M}"
        echo(f"{stamp} 检查完毕：{len(outcomes)} 项任务" if outcomes else f"{stamp} 检查完毕：今天没有到期任务")
        for outcome in outcomes:
            echo("  " + outcome.line)

    scheduler = schedule.Scheduler()
    at = local_tick_time(offsets, bureau.zone)
    scheduler.every().day.at(at).do(job)
    echo(f"定时任务已启动：每天 {offsets.time:%H:%M}（{bureau.clock}）检查一次，按 Ctrl+C 停止")
    job()
    while True:
        scheduler.run_pending()
        time.sleep(poll_seconds)
