"""Text for the clerk's terminal, made from the values the library returns (kept out of the
domain packages, which return data for --json and for other programs)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from toolkit.config import Config
from toolkit.mail.transport import ALREADY, DRY_RUN, FAILED, SENT
from toolkit.period import Period
from toolkit.problems import LEVEL_LABELS
from toolkit.quarter.rules import (
    VERDICT_ACCEPTED,
    VERDICT_DUPLICATE,
    VERDICT_LABELS,
    VERDICT_REJECTED,
    VERDICT_SUPERSEDED,
)
from toolkit.routine import FINAL, KIND_LABELS, MERGE, Action, tag, tag_label
from toolkit.workdays import covered, known_years

if TYPE_CHECKING:  # the library module is imported by the command that runs it
    from toolkit.quarter.verification import Confirmed

RESULT_LABELS = {SENT: "已发送", FAILED: "发送失败", DRY_RUN: "已生成（未发送）", ALREADY: "已发过，跳过"}


def echo_issues(issues: list[dict[str, str]]) -> None:
    """One line per problem: [错误] or [提醒], then the Chinese message (which names the cell)."""
    for issue in issues:
        click.echo(f"  [{LEVEL_LABELS.get(issue['level'], issue['level'])}] {issue['message']}")


def generated_lines(workbooks: list[dict[str, Any]]) -> list[str]:
    """One line a generated workbook, for a list too long for a table."""
    return [f"{w['unit']}　牵头 {w['lead']}　配合 {w['co']}　县区落实 {w['county']}　指标 {w['indicators']}"
            for w in workbooks]


UNPLACED_SHOWN = 10


def notice_report_lines(report: dict[str, Any]) -> list[str]:
    """The parse report of `ledger import|build`: what the parser found in the notice, for the
    clerk to judge before trusting the ledger."""
    numbers = "、".join
    lines = [f"通知：{report['source']}", f"识别出任务 {report['items']} 项"]
    if report["missing"]:
        lines.append(f"  编号缺漏：第 {numbers(map(str, report['missing']))} 项在通知中没有找到")
    if report["repeated"]:
        lines.append(f"  编号重复：第 {numbers(map(str, report['repeated']))} 项出现不止一次")
    if not report["in_order"] and not report["missing"] and not report["repeated"]:
        lines.append("  编号顺序错乱：任务没有按 1、2、3……的顺序排列")
    if unplaced := report["unplaced"]:
        lines.append(f"无法归入任何任务的文字 {len(unplaced)} 处（未写入总台账，请对照原文核对）：")
        for line in unplaced[:UNPLACED_SHOWN]:
            text = line["text"] if len(line["text"]) <= 40 else line["text"][:40] + "……"
            lines.append(f"  {line['where']}：{text}")
        if len(unplaced) > UNPLACED_SHOWN:
            lines.append(f"  ……另有 {len(unplaced) - UNPLACED_SHOWN} 处")
    if report["new_units"] is None:
        lines.append("单位名录：此前没有总台账，通知中的单位都将新建，请补填邮箱等信息")
    elif report["new_units"]:
        lines.append(f"单位名录中还没有的单位 {len(report['new_units'])} 个：{numbers(report['new_units'])}"
                     "（请在单位名录中核对类型、所属分组并补填邮箱）")
    else:
        lines.append("通知中的单位都已在单位名录中")
    return lines


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The clerk's short Chinese summary of a `merge --json` document."""
    units = {key: summary[key] for key in ("units_expected", "units_reported", "units_late", "units_rejected",
                                            "units_missing")}
    tasks = summary["tasks"]
    verdicts = defaultdict(int)
    for entry in summary["files"]:
        verdicts[entry["verdict"]] += 1
    lines = [
        f"{summary['period']} 汇总完成（截止 {summary['deadline']}，序时进度 {summary['pace']}%）",
        *_empty_drop_lines(summary, len(units["units_missing"])),
        f"本次新处理文件 {len(summary['new_files'])} 个；累计收到 {len(summary['files'])} 个："
        + "，".join(f"{VERDICT_LABELS[v]} {verdicts[v]}" for v in (VERDICT_ACCEPTED, VERDICT_SUPERSEDED,
                                                               VERDICT_DUPLICATE, VERDICT_REJECTED)),
        f"应报单位 {len(units['units_expected'])} 个：已报送 {len(units['units_reported'])}，"
        f"迟报 {len(units['units_late'])}，退回修改 {len(units['units_rejected'])}，"
        f"未报送 {len(units['units_missing'])}",
        "任务综合状态：" + "，".join(f"{k} {v}" for k, v in tasks["status"].items()),
        "红黄绿灯：" + "，".join(f"{k} {v}" for k, v in tasks["light"].items()),
    ]
    if summary["rechecked"] is not None:
        changed = summary["rechecked"]["changed"]
        lines.append(f"重新审核本期已收文件 {summary['rechecked']['files']} 个（按当前总台账和 [checks] 设置），"
                     f"判定改变 {len(changed)} 个")
        lines += [f"  {c['path']}（{c['unit'] or '单位不明'}）：{VERDICT_LABELS[c['before']]} → "
                  f"{VERDICT_LABELS[c['after']]}" for c in changed]
    if summary["unread"]:
        lines.append(f"未能读取、本次未汇总的文件 {len(summary['unread'])} 个：")
        lines += [f"  {u['path']}：{u['reason']}" for u in summary["unread"]]
    if units["units_rejected"]:
        lines.append("退回修改：" + "、".join(units["units_rejected"]))
    for entry in summary["files"]:
        if entry["verdict"] == VERDICT_REJECTED and entry["path"] in summary["new_files"]:
            errors = [i for i in entry["issues"] if i["level"] == "error"]
            unit = f"{entry['unit']}，按填报单位认定，未经校验" if entry["claimed"] else entry["unit"] or "单位不明"
            lines.append(f"  新退回 {entry['path']}（{unit}）：错误 {len(errors)} 处，"
                         f"如 {errors[0]['message']}")
    if units["units_missing"]:
        lines.append("未报送：" + "、".join(units["units_missing"]))
    if summary["skipped"]:
        lines.append(f"属于其他报告期、本次未汇总的文件 {len(summary['skipped'])} 个")
    book, *receipts = summary["outputs"]
    lines.append(f"汇总表：{book}")
    if receipts:
        lines.append(f"回执 {len(receipts)} 份：{Path(receipts[0]).parent}")
    return lines


def _empty_drop_lines(summary: dict[str, Any], missing: int) -> list[str]:
    """A warning when the drop folder held no file: the clerk saved the returns elsewhere, or
    not yet, and the summary below would otherwise read as a quarter nobody reported."""
    drop = summary["drop"]
    if not drop["empty"]:
        return []
    if summary["files"]:
        return [f"注意：收件夹 {drop['path']} 中没有任何文件，本次按此前收到的 {len(summary['files'])} 个文件汇总；"
                "有新报回的填报表时，请保存到收件夹后再运行 ducha merge"]
    return [f"注意：收件夹 {drop['path']} 中没有任何文件，本期还没有收到填报表，下面的“未报送 {missing}”只是因为"
            "收件夹是空的。请把各单位报回的填报表（邮件附件）保存到收件夹后再运行 ducha merge；"
            "填报表放在别的文件夹时，用 --drop 指定"]


WEEKDAYS = "一二三四五六日"


def holiday_note(year: int) -> list[str]:
    """A line under `ducha calendar` when chinese-calendar does not know the year yet."""
    if covered(year):
        return []
    first, last = known_years()
    return [f"注意：{year}年的法定节假日和调休安排尚未收录（chinese-calendar 收录 {first}—{last} 年），本年只避开周六、周日；"
            "请升级 chinese-calendar 后再看日程"]


def day_lines(config: Config, actions: list[Action]) -> list[str]:
    """The calendar as the clerk reads it: one line per day, the quarter's deadline as heading.
      2024-03-21 周四（截止前7天）  汇总、发送回执、催报"""
    lines: list[str] = []
    by_day: dict[tuple[str, dt.date], list[Action]] = {}
    for action in actions:
        by_day.setdefault((action.period, action.day), []).append(action)
    heading = ""
    for (key, day), todo in by_day.items():
        period = Period.parse(key, config.deadlines)
        if key != heading:
            heading = key
            lines.append(f"{period.key}（{period.full_label}，截止 {period.deadline_label}）：")
        names = "、".join(("最终汇总" if a.tag == FINAL and a.kind == MERGE else KIND_LABELS[a.kind]) for a in todo)
        when = tag_label(tag((day - period.deadline).days)).strip("（）")
        lines.append(f"  {day} 周{WEEKDAYS[day.weekday()]}（{when}）  {names}")
    return lines


def suspect_lines(period: Period, rows: list[dict[str, Any]]) -> list[str]:
    """`ducha verify list`: one line per 疑似不实 line, its key first (what the clerk types to confirm).
      B17-9c0e  市交通运输局  第17项  跃升至100%无佐证材料（待核实）：2024Q1完成进度30%，…"""
    if not rows:
        return [f"{period.full_label}没有疑似不实的填报。"]
    pending = sum(r["核实结果"] == "待核实" for r in rows)
    lines = [f"{period.full_label}疑似不实的填报 {len(rows)} 条（待核实 {pending} 条），请电话或实地核实："]
    for r in rows:
        lines.append(f"  {r['编号']}  {r['单位']}  第{r['任务编号']}项  {r['疑点类型']}（{r['核实结果']}）：{r['疑点说明']}")
    if pending:
        lines.append(f"核实后确认不实的，运行 ducha verify confirm --period {period.key} 编号… --note \"核实情况\"，计入考评")
    return lines


def confirmed_lines(done: Confirmed) -> list[str]:
    """`ducha verify confirm`: what was confirmed now and what had been before (verification.Confirmed)."""
    lines = [f"已确认不实：{s.key}  {s.unit}  第{s.task_no}项  {s.label}" for s in done.new]
    lines += [f"此前已确认，未改动：{s.key}  {s.unit}  第{s.task_no}项" for s in done.before]
    return lines + [f"将在下次 ducha merge --period {done.period.key} 时写入汇总表“疑似不实”，并计入考评"]


def notice_lines(data: dict[str, Any]) -> list[str]:
    """`ducha notices`: each notice this check issued, the files written, and why no PDF.
      督查提示〔2024〕1号  提示单  顺河区  整改期限 2024-04-08：截至…仍未报送…"""
    issued = data["issued"]
    lines = [f"{data['period']} 督办检查（{data['day']}）：新发出 {len(issued)} 份" if issued
             else f"{data['period']} 督办检查（{data['day']}）：没有需要新发出的提示单、督办单或通报"]
    lines += [f"  {n['number']}  {n['title']}  {n['unit']}  整改期限 {n['due']}：{n['cause']}" for n in issued]
    lines += [f"  {path}" for path in data["outputs"]]
    if data["no_pdf"]:
        lines.append(f"未生成 PDF：{data['no_pdf']}")
    return lines


def review_lines(data: dict[str, Any]) -> list[str]:
    """`ducha review apply`: the problems found (then nothing was recorded), or what was recorded."""
    if data["problems"]:
        return ["审核表有以下问题，未登记任何审核意见：", *(f"  {p}" for p in data["problems"])]
    lines = [f"已登记审核意见 {data['recorded']} 项"]
    if data["unchanged"]:
        lines.append(f"此前已登记相同意见，未改动 {data['unchanged']} 项")
    if data["blank"]:
        lines.append(f"未填写审核意见、仍待审核 {data['blank']} 项")
    return lines


_PLAN_STATUS = {"added": "写入", "same": "总台账已有相同计划", "conflict": "冲突：总台账已有不同的节点，未覆盖，请人工核对",
                "withdrawn": "任务已不在总台账，未写入",
                "requested": "申请调整已采用的节点计划，待审核：请用 ducha review 生成的审核表审核，同意后自动写入总台账"}


def plans_lines(data: dict[str, Any], apply: bool) -> list[str]:
    """`ducha ledger plans`: per returned plan what was (or would be) done, then the totals.
      第12项  市商务局（2024Q1，3 个节点）：写入"""
    outcomes = data["outcomes"]
    if not outcomes:
        return ["没有已采用的单位节点计划（各单位在填报表“节点计划”表中报送、经汇总采用后才会列在这里）"]
    lines = [f"  第{o['task']}项  {o['unit']}（{o['period']}，{o['milestones']} 个节点）：{_PLAN_STATUS[o['status']]}"
             for o in outcomes]
    added = sum(1 for o in outcomes if o["status"] == "added")
    conflicts = sum(1 for o in outcomes if o["status"] == "conflict")
    if data["applied"]:
        lines.append(f"已写入总台账 {data['path']}：{added} 项任务的节点计划；冲突 {conflicts} 项未改动")
    elif apply or not added:
        lines.append(f"总台账未改动：没有可写入的节点计划；冲突 {conflicts} 项")
    else:
        lines.append(f"将写入 {added} 项任务的节点计划，冲突 {conflicts} 项不改动。确认后运行 ducha ledger plans --apply")
    return lines
