"""`make demo`: play one whole quarter (2024Q1) in a scratch workspace, on the bundled notice.

The clerk's quarter, compressed into a minute: build and check the ledger, add the units'
e-mail addresses as the clerk would in Excel, generate the workbooks and mail them to a local SMTP
server, let simulated units fill them (most on time, some late, some twice, some with mistakes,
some not at all, one duplicate, one PDF sent by mistake), remind, merge, send receipts, render the
briefing, and pre-fill next quarter's workbooks. Every date is fixed, so two runs print the same.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import openpyxl

from toolkit.config import Config, load_config
from toolkit.demo import unitsim
from toolkit.period import Period

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "demo-workspace"
DEMO_DOMAIN = "units.kaifeng.example"

# Scenario by position in the sorted list of units; the rest fill correctly and on time.
LATE = range(0, 4)  # mailed back after the deadline
TWICE = range(4, 7)  # first a wrong file, then a corrected one
WRONG = {7: ["progress_120"], 8: ["edit_locked"], 9: ["delete_row"], 10: ["wrong_status", "no_person"]}
WARNED = {11: ["synonym_status"], 12: ["remove_meta"], 13: ["formula"], 14: ["bad_phone"]}
SILENT = range(15, 19)  # never report
DUPLICATE = 19  # sends the same file twice under two names


def say(text: str = "") -> None:
    print(text, flush=True)


def at(day: str, hour: int = 9) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour)


def set_mtime(path: Path, when: dt.datetime) -> None:
    """The received time is the file's modification time, as when the clerk saves an attachment."""
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


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


def return_files(config: Config, period: Period, outbox: Path, late: bool) -> dict[str, int]:
    """Drop what the simulated units mail back, with realistic names and received times: the
    on-time returns first (late=False), the late ones after the deadline (late=True)."""
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
            set_mtime(unitsim.fill(book, drop / f"{unit}(1).xlsx", seed=1), at("2024-03-26"))
            counts["报两次"] = counts.get("报两次", 0) + 1
            continue
        mistakes = WRONG.get(i) or WARNED.get(i) or []
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
    from toolkit.ledger.build import build_ledger
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
    report = check_ledger(config.paths.ledger)
    say(f"  ducha ledger check：{len(report.errors)} 处错误，{len(report.warnings)} 处提醒")

    say("\n== 2. 生成各单位填报表并发送 (ducha generate / ducha send)，2024-03-07 ==")
    generated = prefill.generate(config, q1, now=at("2024-03-07", 8))
    say(f"生成 {len(generated.workbooks)} 个单位的填报表：{generated.out_dir}")
    inbox = target / "mailbox"
    with local_inbox(config, inbox) as live:
        sent = mail.send_workbooks(live, q1, now=at("2024-03-07"))
        say(sent.summary)

        say("\n== 3. 各单位陆续报回，办事员把附件存入收件夹 ==")
        say(f"  {counted(return_files(config, q1, generated.out_dir, late=False))}；收件夹：{config.paths.drop}")

        say("\n== 4. 截止前一天汇总并催报 (ducha merge / ducha remind)，2024-03-27 ==")
        early = merge(config, q1, now=at("2024-03-27"))
        say(f"已收到 {len(early.merged.files)} 个文件，已报送 {len(early.merged.counts['units_reported'])} 个单位")
        say(mail.send_reminders(live, q1, now=at("2024-03-27")).summary)

        say("\n== 5. 截止后又收到迟报的文件 ==")
        say(f"  {counted(return_files(config, q1, generated.out_dir, late=True))}")

        say("\n== 6. 截止后最终汇总并发回执 (ducha merge / ducha receipts --send)，2024-04-01 ==")
        final = merge(config, q1, now=at("2024-04-01"))
        for line in summary_lines(final.summary()):
            say(line)
        receipts = mail.send_receipts(live, q1, now=at("2024-04-01"))
        say(receipts.summary)
    say(f"本地邮件服务器收到的邮件（.eml）：{inbox}（{len(list(inbox.glob('*.eml')))} 封）")

    say("\n== 7. 生成通报 (ducha briefing)，2024-04-01 ==")
    briefing = render_briefing(config, q1, now=dt.date(2024, 4, 1))
    say(f"通报已生成：{', '.join(p.name for p in briefing)}")

    say("\n== 8. 下一季度：填报表预填本季度已采用的填报内容 (ducha generate --period 2024Q2) ==")
    q2 = prefill.generate(config, q1.next(config.deadlines), now=at("2024-06-07", 8))
    say(f"生成 {len(q2.workbooks)} 个单位的第二季度填报表：{q2.out_dir}")

    say("\n演示完成。输出：")
    say(f"  汇总表：{final.outputs[0]}")
    say(f"  回执：{final.outputs[0].parent / RECEIPT_DIR}")
    say(f"  邮件：{inbox}")
    for path in briefing:
        say(f"  通报：{path}")
    return 0

