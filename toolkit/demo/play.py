"""`make demo`: play one whole quarter (2024Q1) in a scratch workspace, on the bundled notice.

The clerk's quarter, compressed into a minute: build and check the ledger, add the units'
e-mail addresses as the clerk would in Excel, generate the workbooks and mail them to a local SMTP
server, let simulated units fill them (most on time, some late, some twice, some with mistakes,
some not at all, one duplicate, one PDF sent by mistake), remind, merge, send receipts, render the
briefing, and pre-fill next quarter's workbooks. Every date is fixed, so two runs print the same.
The final merge prints how 汇总表 judged the cases the rules are argued over (a task only a co-unit
reported, its lead silent; a growth rate at half its target; an indicator a group of counties
leads, each county reporting its part), so a reader checks the judgement without opening Excel.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path

import openpyxl
import pandas as pd

from toolkit.config import Config, load_config
from toolkit.demo import unitsim
from toolkit.demo.scene import DUPLICATE, LATE, PLAIN, SILENT, TWICE, WARNED, WRONG, at, say, set_mtime
from toolkit.ledger.sheets import SHEET_TASKS
from toolkit.model import KIND_RATE, ROLE_LEAD, Indicator, Ledger
from toolkit.period import Period
from toolkit.quarter.frames import MergedQuarter

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "demo-workspace"
DEMO_DOMAIN = "units.kaifeng.example"

# The clerk has 各县区 lead task 112 (完成冬春国土绿化1.9万亩), each county reporting its own 万亩:
# together 0.48 is on pace (1.9 × 25%), the first county's value alone would be far behind.
COUNTIES = "各县区"
GROUP_LED, GROUP_LED_INDICATOR = 112, "完成冬春国土绿化"
GROUP_VALUES = {"杞县": 0.08, "通许县": 0.06, "尉氏县": 0.05, "兰考县": 0.07, "龙亭区": 0.04, "顺河回族区": 0.03,
                "鼓楼区": 0.05, "禹王台区": 0.04, "祥符区": 0.06}


def fresh_workspace(target: Path) -> Config:
    if target.exists():
        shutil.rmtree(target)
    (target / "data").mkdir(parents=True)
    shutil.copy(ROOT / "data" / "kaifeng-2024-gov-report-tasks.md", target / "data")
    shutil.copy(ROOT / "ducha.toml", target / "ducha.toml")
    shutil.copytree(ROOT / "templates", target / "templates")
    return load_config(target / "ducha.toml")


def add_addresses(ledger_path: Path) -> int:
    """Fill 单位名录.邮箱 as the clerk does in Excel before the first mailing."""
    wb = openpyxl.load_workbook(ledger_path)
    ws = wb["单位名录"]
    header = [c.value for c in ws[1]]
    name_col, kind_col, mail_col = (header.index(h) + 1 for h in ("单位名称", "类型", "邮箱"))
    count = 0
    for row in range(2, ws.max_row + 1):
        if ws.cell(row, kind_col).value not in (None, "分组"):
            count += 1
            ws.cell(row, mail_col).value = f"unit{count:02d}@{DEMO_DOMAIN}"
    wb.save(ledger_path)
    return count


def lead_by_group(ledger_path: Path, no: int, group: str) -> str:
    """The clerk's edit in 任务台账: group leads task no and its lead becomes a co-unit, as when each
    county is to report its own part of a city-wide figure. Returns the former lead."""
    wb = openpyxl.load_workbook(ledger_path)
    ws = wb[SHEET_TASKS]
    header = [c.value for c in ws[1]]
    no_col, lead_col, co_col, county_col = (header.index(h) + 1 for h in ("任务编号", "牵头单位", "配合单位", "县区单位"))
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, no_col).value == no)
    former = ws.cell(row, lead_col).value
    ws.cell(row, co_col).value = "、".join(filter(None, (former, ws.cell(row, co_col).value)))
    ws.cell(row, lead_col).value, ws.cell(row, county_col).value = group, None
    wb.save(ledger_path)
    return former


def unit_order(outbox: Path, period: Period) -> list[str]:
    """The units in the order the scenario positions (LATE, SILENT …) refer to."""
    return [book.stem.split("_", 1)[1] for book in sorted(outbox.glob(f"{period.key}_*.xlsx"))]


def co_unit_only(ledger: Ledger, units: list[str]) -> tuple[int, str, str]:
    """(task, co-unit, lead) of the task only a co-unit reports, as 兰考县 alone reported task 20
    in issue 11: the first task whose lead never reports and whose one other unit returns a clean
    file on time. That unit will call it 已完成; the task must still not count as done."""
    owners: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for unit, assignments in ledger.assignments().items():
        for a in assignments:
            owners[a.task.no].append((unit, a.role))
    silent, plain = {units[i] for i in SILENT}, set(units[PLAIN:])
    for no, held in sorted(owners.items()):
        leads = [u for u, role in held if role == ROLE_LEAD]
        others = [u for u, role in held if role != ROLE_LEAD]
        if len(leads) == 1 and leads[0] in silent and len(others) == 1 and others[0] in plain:
            return no, others[0], leads[0]
    raise ValueError("演示台账中没有只由一个配合单位报送的任务")


def rate_indicator(ledger: Ledger, units: list[str]) -> Indicator:
    """The first growth rate whose lead returns a clean file on time: it will report half its
    target, as 规模以上工业增加值增长 7.5% came back 3.75 in issue 11."""
    leads, plain = {t.no: t.lead for t in ledger.tasks}, set(units[PLAIN:])
    return next(i for i in ledger.indicators if i.kind == KIND_RATE and leads[i.task_no] in plain)


def indicator_judged(merged: MergedQuarter, no: int, name: str) -> list[str]:
    """One 量化指标 as 汇总表 judged it: kind, lead, target, the value (a group's sum), 本期应达,
    完成率 and light; a lead group's members on a second line."""
    row = merged.indicators.set_index(["任务编号", "指标名称"]).loc[(no, name)]
    unit, members = row["计量单位"], str(row["各单位填报"]).splitlines()
    rate = "—" if pd.isna(row["完成率(%)"]) else f"{row['完成率(%)']:g}%"
    lines = [f"第{no}项 {name}（{row['指标类型']}，{row['牵头单位']}牵头）：目标 {row['方向']}{row['目标值']:g}{unit}，"
             f"{'各成员合计' if members else '报'} {row['最新值']:g}{unit} → 本期应达 {row['本期应达']}，"
             f"完成率 {rate}，指标灯 {row['指标灯']}"]
    return lines + (["  各成员：" + "、".join(members)] if members else [])


def judged(merged: MergedQuarter, no: int) -> str:
    """One task as 汇总表 judged it: who said what, who sent nothing, 综合状态, light, 完成进度."""
    task = merged.tasks.set_index("任务编号").loc[no]
    said = "、".join(f"{r['单位']}（{r['本单位职责']}）填“{r['完成状态']}”"
                    for _, r in merged.reports[merged.reports["任务编号"] == no].iterrows())
    progress = "—" if pd.isna(task["完成进度(%)"]) else f"{task['完成进度(%)']:g}%"
    return (f"第{no}项：{said or '无单位报送'}；未报送：{task['未报送单位'] or '无'} → "
            f"综合状态 {task['综合状态']}，{task['红黄绿灯']}，完成进度 {progress}")


def return_files(config: Config, period: Period, outbox: Path, late: bool,
                 answers: dict[str, list[unitsim.Mutation]]) -> dict[str, int]:
    """Drop what the simulated units mail back, with realistic names and received times: the
    on-time returns first (late=False), the late ones after the deadline (late=True). answers:
    the tasks some units answer their own way (unitsim.answer), by unit."""
    drop = config.paths.drop
    books = sorted(outbox.glob(f"{period.key}_*.xlsx"))
    counts: dict[str, int] = {}
    for i, book in enumerate(books):
        if (i in LATE) != late or i in SILENT:
            counts["未报"] = counts.get("未报", 0) + (i in SILENT and not late)
            continue
        unit = book.stem.split("_", 1)[1]
        if i in TWICE:
            first = unitsim.fill(book, drop / "第一次" / f"{unit}.xlsx", mutate=["progress_120"] if i % 2 else [])
            set_mtime(first, at("2024-03-18"))
            set_mtime(unitsim.fill(book, drop / f"{unit}(1).xlsx", seed=1, mutate=answers.get(unit, [])),
                      at("2024-03-26"))
            counts["报两次"] = counts.get("报两次", 0) + 1
            continue
        mistakes = [*(WRONG.get(i) or WARNED.get(i) or []), *answers.get(unit, [])]
        name = f"{unit}-一季度报表-最终版.xlsx" if i % 2 else f"{unit}.xlsx"
        path = unitsim.fill(book, drop / name, mutate=mistakes)
        set_mtime(path, at("2024-03-30") if late else at("2024-03-20"))
        if i == DUPLICATE:
            (drop / "重复发送").mkdir(exist_ok=True)
            shutil.copy2(path, drop / "重复发送" / f"{unit}(2).xlsx")
        key = "迟报" if late else "有错" if i in WRONG else "有提醒" if i in WARNED else "准时无误"
        counts[key] = counts.get(key, 0) + 1
    if not late:
        stray = drop / "扫描件.xlsx"
        stray.write_bytes(b"%PDF-1.4\n% a scanned letter saved with the wrong name\n%%EOF\n")
        set_mtime(stray, at("2024-03-22"))
        counts["错发 PDF"] = 1
    return counts


def counted(counts: dict[str, int]) -> str:
    return "，".join(f"{k} {v}" for k, v in counts.items() if v)


def main(target: Path = DEMO_DIR) -> int:
    from toolkit.cli.text import summary_lines
    from toolkit.demo import plans
    from toolkit.demo.league import show_league
    from toolkit.demo.notices import play_notices
    from toolkit.demo.requests import request_answers
    from toolkit.demo.second import SecondQuarter, play_second_quarter
    from toolkit.demo.suspects import suspicious_answers
    from toolkit.ledger.build import build_ledger, load_ledger
    from toolkit.ledger.check import check_ledger
    from toolkit.mail import runs as mail
    from toolkit.mail.transport import local_inbox
    from toolkit.outputs.briefing.publish import render_briefing
    from toolkit.outputs.publish import merge
    from toolkit.outputs.receipts import RECEIPT_DIR
    from toolkit.quarter import prefill

    config = fresh_workspace(target)
    q1 = Period.parse("2024Q1", config.deadlines)
    say(f"演示工作区：{target}")

    say("\n== 1. 从通知生成总台账 (ducha ledger build) ==")
    built = build_ledger(config, now=at("2024-02-26"))
    facts = built.summary
    say(f"任务 {facts['tasks']} 项，板块 {len(facts['sections'])} 个（含主要预期目标），量化指标 {facts['indicators']} 条")
    for section, count in facts["sections"].items():
        say(f"  {section}：{count} 项")
    say("  单位：" + "、".join(f"{kind} {n}" for kind, n in facts["units"].items()))
    say(f"  通知中需人工核定 {len([i for i in built.issues if i.level == 'warning'])} 处（见 ducha ledger build 输出）")
    say(f"  办事员在 Excel 中补录邮箱：{add_addresses(config.paths.ledger)} 个单位")
    former = lead_by_group(config.paths.ledger, GROUP_LED, COUNTIES)
    say(f"  办事员把第{GROUP_LED}项改为{COUNTIES}牵头（{former}改为配合），各县区分别填报“{GROUP_LED_INDICATOR}”")
    report = check_ledger(config.paths.ledger, config.bureau.year)
    say(f"  ducha ledger check：{len(report.errors)} 处错误，{len(report.warnings)} 处提醒")

    say("\n== 2. 生成各单位填报表并发送 (ducha generate / ducha send)，2024-03-07 ==")
    generated = prefill.generate(config, q1, now=at("2024-03-07", 8))
    say(f"生成 {len(generated.workbooks)} 个单位的填报表：{generated.out_dir}")
    ledger, units = load_ledger(config), unit_order(generated.out_dir, q1)
    only_co, co_unit, lead = co_unit_only(ledger, units)
    rate = rate_indicator(ledger, units)
    answers: dict[str, list[unitsim.Mutation]] = defaultdict(list)
    answers[co_unit].append(unitsim.answer(only_co, status="已完成", progress=100, done="本单位承担的部分已全部完成。",
                                           problems=""))
    answers[ledger.task(rate.task_no).lead].append(unitsim.indicator(rate.task_no, rate.name, rate.target / 2))
    for county, value in GROUP_VALUES.items():
        answers[county].append(unitsim.indicator(GROUP_LED, GROUP_LED_INDICATOR, value))
    planned = plans.plan_first_quarter(ledger, units, answers, set(answers) | set(units[:PLAIN]))  # 节点计划
    inbox = target / "mailbox"
    with local_inbox(config, inbox) as live:
        sent = mail.send_workbooks(live, q1, now=at("2024-03-07"))
        say(sent.summary)

        say("\n== 3. 各单位陆续报回，办事员把附件存入收件夹 ==")
        say(f"  {counted(return_files(config, q1, generated.out_dir, False, answers))}；收件夹：{config.paths.drop}")
        say(f"  其中第{only_co}项：牵头单位{lead}不报送，只有配合单位{co_unit}报回并填“已完成”；"
            f"第{rate.task_no}项“{rate.name}”（目标{rate.target:g}{rate.unit}）报目标的一半")

        say("\n== 4. 截止前一天汇总并催报 (ducha merge / ducha remind)，2024-03-27 ==")
        early = merge(config, q1, now=at("2024-03-27"))
        say(f"已收到 {len(early.merged.files)} 个文件，已报送 {len(early.merged.counts['units_reported'])} 个单位")
        say(mail.send_reminders(live, q1, now=at("2024-03-27")).summary)

        say("\n== 5. 截止后又收到迟报的文件 ==")
        say(f"  {counted(return_files(config, q1, generated.out_dir, True, answers))}")

        say("\n== 6. 截止后最终汇总并发回执 (ducha merge / ducha receipts --send)，2024-04-01 ==")
        final = merge(config, q1, now=at("2024-04-01"))
        for line in summary_lines(final.summary()):
            say(line)
        say("判定抽查（汇总表“任务进展”“量化指标”）：")
        say("  只有配合单位报送：" + judged(final.merged, only_co))
        for label, (no, name) in (("增速/比率指标", (rate.task_no, rate.name)),
                                  ("分组牵头指标", (GROUP_LED, GROUP_LED_INDICATOR))):
            first, *rest = indicator_judged(final.merged, no, name)
            say(f"  {label}：{first}")
            for line in rest:
                say(f"  {line}")
        receipts = mail.send_receipts(live, q1, now=at("2024-04-01"))
        say(receipts.summary)
        show_league(config, q1, dt.date(2024, 4, 1), say)
    say(f"本地邮件服务器收到的邮件（.eml）：{inbox}（{len(list(inbox.glob('*.eml')))} 封）")

    say("\n== 7. 生成通报 (ducha briefing)，2024-04-01 ==")
    briefing = render_briefing(config, q1, now=dt.date(2024, 4, 1), leaders=True)  # + 领导摘要.docx
    say(f"通报已生成，文号：{briefing.doc_number}；{', '.join(p.name for p in briefing.outputs)}")
    play_notices(config, q1, ("2024-04-01",), inbox)  # 提示单
    plans.adopt(config, say)  # ducha ledger plans --apply, 2024-04-02
    play_notices(config, q1, ("2024-04-12",), inbox)  # 督办单 once the 提示单's 整改期限 has passed

    say("\n== 8. 下一季度：填报表预填本季度已采用的填报内容 (ducha generate --period 2024Q2) ==")
    q2 = prefill.generate(config, q1.next(config.deadlines), now=at("2024-06-07", 8))
    say(f"生成 {len(q2.workbooks)} 个单位的第二季度填报表：{q2.out_dir}")
    suspicious = suspicious_answers(config, q2.period, q2.out_dir, PLAIN)  # 疑似不实 in the second quarter
    taken = {*suspicious, *(unit for unit, _ in planned)}  # the 延期/办结 requests (issue 15) come from other units
    suspicious |= request_answers(config, q2.period, q2.out_dir, PLAIN, taken)
    second = SecondQuarter(q2.period, q2.out_dir, set(SILENT), plans.follow_second_quarter(planned, suspicious))
    summary_q2, *briefing_q2 = play_second_quarter(config, second, inbox)
    play_notices(config, second.period, ("2024-07-02",), inbox)  # 通报 and 约谈名单 for the units still silent
    plans.show_followed(config, second.period, planned, say)

    say("\n演示完成。输出：")
    for label, book, notices in (("一季度", final.outputs[0], briefing.outputs), ("二季度", summary_q2, briefing_q2)):
        say(f"  {label}汇总表：{book}")
        say(f"  {label}回执：{book.parent / RECEIPT_DIR}")
        for path in notices:
            say(f"  {label}通报：{path}")
    say(f"  邮件：{inbox}")
    return 0

