"""The words of the 填报说明 sheet, kept apart from how the sheet is drawn.

Units fill their workbook without calling the bureau, so this text is the manual: what to fill,
what each status and the pace lights mean, when and where to send it. It changes for policy
reasons, not layout ones, and reads best on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

from toolkit.config import Bureau
from toolkit.forms import layout
from toolkit.forms.plan import role_counts
from toolkit.forms.plan_sheet import PLAN_GUIDE
from toolkit.model import ROLE_CO, ROLE_COUNTY, ROLE_LEAD, Assignment
from toolkit.period import Period


def guide_rows(
    unit: str, assignments: Sequence[Assignment], has_indicators: bool, period: Period, bureau: Bureau
) -> list[tuple[str, str]]:
    """The 填报说明 sheet as (heading, text) rows; everything a unit needs without calling anyone."""
    counts = role_counts(assignments)
    deadline = period.deadline_label
    rows = [
        ("填报单位", unit),
        ("报告期", period.full_label),
        ("报送截止时间", f"{deadline}（请于此日期前报送）"),
        (
            "填写内容",
            f"本单位共 {len(assignments)} 项任务（牵头 {counts[ROLE_LEAD]} 项、配合 {counts[ROLE_CO]} 项、"
            f"县区落实 {counts[ROLE_COUNTY]} 项）。请在“{layout.SHEET_PROGRESS}”表中逐项填写：完成状态（下拉选择）、"
            "完成进度(%)（0–100 的整数，不带%号）、本季度进展情况、存在问题、下步计划、具体责任人、联系电话；"
            "并在表格上方填写填报人、联系电话、单位负责人、填报日期。\n"
            "浅黄色单元格为填写区；任务编号、任务内容、责任领导、本单位职责已锁定，不能修改。",
        ),
    ]
    if has_indicators:
        rows.append(
            (
                "量化指标",
                f"请在“{layout.SHEET_INDICATORS}”表中填写各项指标截至本季度的完成值（只填数字，计量单位见“计量单位”列），"
                "需要说明的写在“说明”列。方向：≥ 不低于目标，≤ 不超过目标，≈ 目标左右，= 达到目标。\n"
                "增长率、占比等（增速/比率）填截至本季度的累计增速或比率，不要按全年目标折算；数量、金额等（累计量）"
                "填自年初起的累计完成值。点选完成值单元格可看到该指标的填写提示。",
            )
        )
    if counts[ROLE_LEAD]:
        rows.append((layout.SHEET_PLAN, PLAN_GUIDE))
    rows += [
        (
            "本单位职责",
            "牵头：对任务总体进展负责，完成进度按任务整体填写；\n配合：填写本单位承担部分的进展；\n"
            "县区落实：填写本县区的落实情况。",
        ),
        (
            "完成状态",
            "已完成：任务已全部完成（完成进度填 100）；\n正常推进：按计划推进，达到序时进度；\n"
            "进度滞后：落后于序时进度或工作计划，请在“存在问题”中写明原因；\n未启动：尚未开始（完成进度填 0）。",
        ),
        (
            "申请延期、办结",
            f"一般不填（或选“{layout.REQUEST_NONE}”）。确需延长时间节点的，“申请事项”选“{layout.REQUEST_EXTEND}”，"
            "填写“申请完成时间”（须晚于原时间节点）和“理由”；任务已全部完成、申请销号的，选“"
            f"{layout.REQUEST_CLOSE}”（完成状态须为已完成、完成进度 100），在“佐证材料”写明随表报送的文件名"
            "（PDF、JPG、PNG、DOCX 或其 ZIP 压缩包，多个用顿号隔开），并把这些文件与本表放在同一封邮件中发送。"
            "督查局审核后在回执中告知结果；同意办结的任务今后不再填报。",
        ),
        (
            "序时进度",
            "总台账中有节点计划的任务，序时进度取计划在本季度截止日的计划累计进度（年初为 0，相邻节点之间按日期折算）；"
            "没有节点计划的，时间节点不晚于本季度末（如“6月底”在二季度）的任务序时进度为 100%，其余按季度平均："
            f"序时进度 = 25% × 季度序号，{period.label}为 {period.pace}%；经督查局审核同意延期的任务，"
            "自申请的下一季度起按新的时间节点判定。督查局按以下规则亮灯：\n"
            "绿灯：牵头单位已报送，且任务已完成，或牵头单位填报的完成进度达到序时进度；\n"
            "黄灯：落后序时进度不足 25 个百分点，或有单位填报“进度滞后”，或牵头单位未填完成进度，"
            "或截止前牵头单位尚未报送；\n"
            "红灯：落后序时进度 25 个百分点及以上，或截止时间后牵头单位仍未报送（截止前无单位报送的暂不亮灯），"
            "或有节点逾期：计划完成日期已到（不晚于截止时间）的节点，其责任单位未填报“已完成”且牵头单位完成进度"
            "低于该节点的计划累计进度或未填，为红灯；在“节点计划”表中填报了完成情况的节点按所填判定（已完成为达到，"
            "到期仍未完成为逾期、红灯）；或时间节点已过（不晚于截止时间）而任务未完成。\n"
            "配合单位、县区填报“已完成”只表示本单位承担的部分完成；牵头单位未报送的任务不亮绿灯。",
        ),
        (
            "报送方式",
            f"填好后直接保存（保持 .xlsx 格式，用 Excel 或 WPS 均可，文件名可不改），于 {deadline} 前"
            f"作为电子邮件附件发送至 {bureau.email}。",
        ),
        (
            "注意事项",
            "请勿重命名工作表、移动列或删除行，请勿删除或改动隐藏的工作表，否则报表无法汇总、将被退回。"
            "可以调整行高和列宽以便阅读。对任务内容有异议的，请在“存在问题”中说明或与督查局联系。",
        ),
        (
            "联系方式",
            f"{bureau.name}　联系人：{bureau.contact}　电话：{bureau.phone}\n"
            f"邮箱：{bureau.email}　地址：{bureau.address}",
        ),
    ]
    return rows
