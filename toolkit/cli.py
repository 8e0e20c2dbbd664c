"""The `ducha` command line: parse arguments, call one library function, print, exit.

Exit codes: 0 ok, 1 a data or runtime problem (DuchaError, shown in Chinese), 2 usage.
Library modules are imported inside each command so `ducha --help` stays fast.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from toolkit import __version__
from toolkit.errors import DuchaError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class Failure(click.ClickException):
    """A DuchaError shown as `错误：…` with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"错误：{self.format_message()}", err=True)


HELP_TEXT = "显示本帮助并退出 / show this message and exit"


class BilingualHelp:
    """Every command's -h/--help is described in both languages."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = HELP_TEXT
        return option


class Command(BilingualHelp, click.Command):
    pass


class Group(BilingualHelp, click.Group):
    command_class = Command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DuchaError as exc:
            raise Failure(str(exc)) from exc


Group.group_class = Group


def config_from(ctx: click.Context):
    """The workspace config named by --config (default ./ducha.toml)."""
    from toolkit.config import load_config

    return load_config(ctx.find_root().params.get("config_path"))


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """Print a result as JSON for programs, or as text for the clerk."""
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        render(data)


json_option = click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果 / print the result as JSON")


class PeriodType(click.ParamType):
    """YYYYQn → Period, with the deadline from ducha.toml; anything else is a usage error (exit 2)."""

    name = "YYYYQn"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from toolkit.period import Period

        if isinstance(value, Period):
            return value
        try:
            return Period.parse(str(value), config_from(ctx).deadlines if ctx else None)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


period_option = click.option(
    "--period", "period", type=PeriodType(), required=True, help="报告期，如 2024Q1 / reporting period, e.g. 2024Q1"
)


@click.group(cls=Group, context_settings=CONTEXT)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="配置文件 ducha.toml 或其所在目录（默认当前目录）/ path to ducha.toml or its folder",
)
@click.version_option(__version__, prog_name="ducha", help="显示版本并退出 / show the version and exit")
def cli(config_path: Path | None) -> None:
    """督查台账工具：政府工作报告确定事项的季度督查。

    ducha: quarterly supervision of a government work report in Excel workbooks.
    """


@cli.group(cls=Group)
def ledger() -> None:
    """总台账：从通知生成、检查 / build and check the master ledger."""


@cli.command()
@period_option
@click.option("--units", default=None, help="只生成这些单位，逗号分隔（可用别名、分组名）/ only these units, comma-separated")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="输出目录（默认 outbox/<报告期>）/ output folder (default outbox/<period>)",
)
@json_option
@click.pass_context
def generate(ctx: click.Context, period: Any, units: str | None, out: Path | None, as_json: bool) -> None:
    """生成各单位本季度的填报表 / write each unit's report workbook for a quarter."""
    from rich.console import Console
    from rich.table import Table

    from toolkit.quarter.prefill import generate as generate_workbooks

    result = generate_workbooks(config_from(ctx), period, _names(units), out)

    def render(data: dict[str, Any]) -> None:
        table = Table("单位", title=f"{period.full_label}填报表")
        for header in ("牵头", "配合", "县区落实", "指标"):
            table.add_column(header, justify="right")
        for w in data["workbooks"]:
            table.add_row(w["unit"], *(str(w[k]) for k in ("lead", "co", "county", "indicators")))
        console = Console(markup=False, highlight=False)
        console.print(table)
        console.print(f"已生成 {len(data['workbooks'])} 个填报表，保存在 {data['out_dir']}（截止 {period.deadline_label}）")
        if data["units_without_tasks"]:
            console.print(f"没有任务、未生成填报表的单位：{'、'.join(data['units_without_tasks'])}")
        for group in data["empty_groups"]:
            tasks = "、".join(map(str, group["tasks"])) or "无"
            console.print(f"分组“{group['group']}”没有成员单位（涉及任务：{tasks}），请在总台账“单位名录”中指定成员")

    emit(result.as_dict(), as_json, render)


@cli.command()
@period_option
@click.option(
    "--drop",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="收件夹（默认 ducha.toml 中的 drop）/ drop folder (default: drop in ducha.toml)",
)
@json_option
@click.pass_context
def merge(ctx: click.Context, period: Any, drop: Path | None, as_json: bool) -> None:
    """汇总各单位报回的填报表，生成汇总表和回执 / merge returned workbooks into 汇总表 and receipts."""
    from toolkit.outputs.publish import merge as merge_quarter

    result = merge_quarter(config_from(ctx), period, drop)

    def render(data: dict[str, Any]) -> None:
        from toolkit.quarter.frames import summary_lines

        for line in summary_lines(data):
            click.echo(line)

    emit(result.summary(), as_json, render)


def _echo_issues(issues: list[dict[str, str]]) -> None:
    """One line per problem: [错误] or [提醒], then the Chinese message (which names the cell)."""
    from toolkit.problems import LEVEL_LABELS

    for issue in issues:
        click.echo(f"  [{LEVEL_LABELS.get(issue['level'], issue['level'])}] {issue['message']}")


@ledger.command("build")
@click.option("--force", is_flag=True, help="覆盖已修改的总台账（先备份原文件）/ overwrite an edited ledger after a backup")
@json_option
@click.pass_context
def ledger_build(ctx: click.Context, force: bool, as_json: bool) -> None:
    """按通知生成总台账 master_ledger.xlsx / build the master ledger from the notice."""
    from toolkit.ledger.build import build_ledger

    result = build_ledger(config_from(ctx), force=force)

    def render(data: dict[str, Any]) -> None:
        headline = {
            "created": f"已生成总台账：{data['path']}",
            "rebuilt": f"已按通知重新生成总台账：{data['path']}（原文件备份为 {data['backup']}）",
            "unchanged": f"总台账与通知一致，未改动：{data['path']}",
        }[data["status"]]
        click.echo(headline)
        s = data["summary"]
        click.echo(f"任务 {s['tasks']} 项：")
        for section, count in s["sections"].items():
            click.echo(f"  {section}：{count} 项")
        click.echo(f"单位 {sum(s['units'].values())} 个：" + "、".join(f"{k} {v}" for k, v in s["units"].items()))
        click.echo("分组成员：" + "、".join(f"{k} {v} 个" for k, v in s["groups"].items()))
        click.echo(f"量化指标 {s['indicators']} 条（涉及 {s['tasks_with_indicators']} 项任务）")
        if data["issues"]:
            click.echo(f"请核对以下 {len(data['issues'])} 处：")
            _echo_issues(data["issues"])

    emit(result.as_dict(), as_json, render)
    if result.errors:
        ctx.exit(1)


@ledger.command("check")
@json_option
@click.pass_context
def ledger_check(ctx: click.Context, as_json: bool) -> None:
    """检查总台账，列出每处问题（工作表!单元格）/ check the master ledger; exit 1 on errors."""
    from toolkit.ledger.check import check_ledger

    config = config_from(ctx)
    report = check_ledger(config.paths.ledger)
    data = {
        "path": str(config.paths.ledger),
        "ok": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "issues": [i.as_dict() for i in report],
    }

    def render(data: dict[str, Any]) -> None:
        click.echo(f"检查总台账：{data['path']}")
        _echo_issues(data["issues"])
        click.echo(f"检查完毕：{data['errors']} 处错误，{data['warnings']} 处提醒")

    emit(data, as_json, render)
    if not report.ok:
        ctx.exit(1)


# --- mail and schedule (issue 6) -------------------------------------------------------------------


def _names(units: str | None) -> list[str] | None:
    """--units 市商务局，市发改委 → ['市商务局', '市发改委'] (full- or half-width commas)."""
    return [n.strip() for n in units.replace("，", ",").split(",") if n.strip()] if units else None


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


def _finish_mail(ctx: click.Context, run: Any, as_json: bool) -> None:
    """Print a MailRun; exit 1 when a message failed, so cron and the clerk notice."""
    from toolkit.mail.runs import RESULT_LABELS

    def render(data: dict[str, Any]) -> None:
        for d in data["deliveries"]:
            line = f"  {d['unit']}  {'、'.join(d['recipients'])}  {RESULT_LABELS[d['result']]}"
            click.echo(line + (f"：{d['error']}" if d["error"] else ""))
        if data["no_address"]:
            shown = [f"{u}（{v or '未填写'}）" for u, v in data["no_address"].items()]
            click.echo("没有有效邮箱、未发送（请在总台账“单位名录”的“邮箱”列填写）：" + "、".join(shown))
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


@cli.command()
@mail_options
@click.pass_context
def send(ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool) -> None:
    """把填报表发到各单位邮箱 / e-mail each unit its workbook (once; --resend to repeat)."""
    from toolkit.mail.runs import send_workbooks

    run = send_workbooks(config_from(ctx), period, _names(units), dry_run=dry_run, resend=resend)
    _finish_mail(ctx, run, as_json)


@cli.command()
@mail_options
@click.pass_context
def remind(ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool) -> None:
    """催报：提醒尚未报送合格报表的单位 / remind the units with no accepted report."""
    from toolkit.mail.runs import send_reminders

    run = send_reminders(config_from(ctx), period, _names(units), dry_run=dry_run, resend=resend)
    _finish_mail(ctx, run, as_json)


@cli.command()
@mail_options
@click.option("--send", "send_mail", is_flag=True, help="把回执发到各单位邮箱 / e-mail each unit its receipt")
@click.pass_context
def receipts(
    ctx: click.Context, period: Any, units: str | None, dry_run: bool, resend: bool, as_json: bool, send_mail: bool
) -> None:
    """发送汇总生成的回执 / e-mail the receipts the last merge wrote (needs --send or --dry-run)."""
    from toolkit.mail.runs import send_receipts

    if not (send_mail or dry_run):
        raise click.UsageError("请加 --send 发送回执，或加 --dry-run 只生成邮件文件 / add --send or --dry-run")
    run = send_receipts(config_from(ctx), period, _names(units), dry_run=dry_run, resend=resend)
    _finish_mail(ctx, run, as_json)


@cli.command("calendar")
@click.option("--year", type=int, default=None, help="年份（默认 [bureau] year）/ year (default: [bureau] year)")
@json_option
@click.pass_context
def calendar_command(ctx: click.Context, year: int | None, as_json: bool) -> None:
    """全年定时任务日程 / the year's schedule: send, remind, merge, briefing days."""
    from toolkit.routine import calendar, offsets_from

    config = config_from(ctx)
    actions = calendar(config, year or config.bureau.year)

    def render(data: list[dict[str, str]]) -> None:
        from toolkit.routine import day_lines

        for line in day_lines(config, actions):
            click.echo(line)
        click.echo(f"每天 {offsets_from(config).time:%H:%M}（北京时间）检查一次；日程可在 ducha.toml 的 [schedule] 中调整")

    emit([a.as_dict() for a in actions], as_json, render)


@cli.command("schedule")
@click.option("--once", is_flag=True, help="只检查一次（供计划任务/cron 调用）/ one tick, then exit (for cron)")
@click.option(
    "--now",
    type=click.DateTime(["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    default=None,
    help="以此时刻（北京时间）代替当前时间，仅与 --once 一起用 / pretend it is this Asia/Shanghai time (with --once)",
)
@json_option
@click.pass_context
def schedule_command(ctx: click.Context, once: bool, now: Any, as_json: bool) -> None:
    """按日程自动下发、催报、汇总、通报 / run the routine on schedule (foreground; --once for cron)."""
    from toolkit.routine import run_forever, tick

    if now is not None and not once:
        raise click.UsageError("--now 只能与 --once 一起使用 / --now needs --once")
    config = config_from(ctx)
    if not once:
        run_forever(config, echo=click.echo)
        return
    outcomes = tick(config, now)

    def render(data: list[dict[str, str]]) -> None:
        if not outcomes:
            click.echo("没有到期的任务")
        for outcome in outcomes:
            click.echo(outcome.line)

    emit([o.as_dict() for o in outcomes], as_json, render)
    if any(o.result == "failed" for o in outcomes):
        ctx.exit(1)


# --- briefing (issue 5) ------------------------------------------------------------------------------


@cli.command("briefing")
@period_option
@click.option("--pdf", is_flag=True, help="同时用无界面 Chromium 生成 PDF / also print a PDF with headless Chromium")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="通报日期及统计截止日，如 2024-03-29（默认今天）/ date of the briefing (default today)",
)
@json_option
@click.pass_context
def briefing_command(ctx: click.Context, period: Any, pdf: bool, day: Any, as_json: bool) -> None:
    """生成季度通报（HTML、Markdown、Word，可选 PDF）/ render the quarterly briefing (通报)."""
    from toolkit.outputs.briefing.publish import render_briefing

    paths = render_briefing(config_from(ctx), period, pdf=pdf, now=day.date() if day else None)

    def render(data: dict[str, Any]) -> None:
        click.echo(f"已生成{period.full_label}通报：")
        for path in data["outputs"]:
            click.echo(f"  {path}")

    emit({"period": period.key, "outputs": [str(p) for p in paths]}, as_json, render)


# --- doctor (issue 7) --------------------------------------------------------------------------------


@cli.command("doctor")
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


def main() -> None:
    # Windows consoles default to a legacy code page; Chinese output must not crash.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")
    cli(prog_name="ducha")
