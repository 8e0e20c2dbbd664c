"""Every issue code a returned file can get, with its level and meaning, in one table.

The level decides the verdict (an error rejects the file), so it must be the same wherever the code
is raised: checks pass only the code and the Report takes the level from here. The README's table
of codes is this table; a test keeps the two equal.

What is sent back is the bureau's decision, not ours: [checks] in ducha.toml may set the level of
the ADJUSTABLE codes (what a unit typed, left blank or laid out differently). The others are fixed,
because lowering them would let a wrong, foreign or forged file into the quarter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.config import Config, read_section
from toolkit.errors import ConfigError
from toolkit.intake.requests import ReviewSettings
from toolkit.problems import ERROR, WARNING, Report

# code → (level, meaning)
CODES: dict[str, tuple[str, str]] = {
    "empty_file": (ERROR, "文件为空"),
    "damaged_file": (ERROR, "文件损坏或不完整，无法打开"),
    "encrypted": (ERROR, "文件设有打开密码"),
    "macro_workbook": (ERROR, "含宏的工作簿（.xlsm），不予读取"),
    "not_workbook": (ERROR, "不是 Excel 工作簿（PDF、图片、网页、压缩包等）"),
    "over_limits": (ERROR, "文件或工作表超过大小、部件数、压缩比或单元格范围上限"),
    "too_complex": (ERROR, "读取文件超出时间或内存上限，已停止读取"),
    "read_failed": (ERROR, "读取文件时读取进程意外退出或程序出错"),
    "unreadable": (ERROR, "工作簿内部结构有误，无法读取"),
    "signature_invalid": (ERROR, "隐藏的校验信息（_meta）被修改，签名不符"),
    "meta_invalid": (ERROR, "隐藏的校验信息（_meta）内容无法解析"),
    "wrong_period": (ERROR, "不是本报告期的填报表"),
    "unknown_unit": (ERROR, "无法确定报送单位，或单位不在总台账中"),
    "unit_ambiguous": (ERROR, "无校验信息，填报单位和文件名指向多个单位"),
    "unit_mismatch": (ERROR, "“填报单位”与校验信息中的单位不一致"),
    "unsigned": (WARNING, "无校验信息（_meta），按“填报单位”和文件名认定单位"),
    "sheet_missing": (ERROR, "找不到必需的工作表（进展填报，或应有的量化指标）"),
    "sheet_renamed": (WARNING, "工作表被改名，已按表头找到并读取"),
    "guide_missing": (WARNING, "“填报说明”工作表被删除"),
    "header_missing": (ERROR, "找不到某一列的表头"),
    "header_renamed": (WARNING, "表头文字被改动，已按原位置读取"),
    "header_moved": (WARNING, "列的位置被调整，已按表头读取"),
    "table_moved": (WARNING, "表头不在原来的行（插入或删除了表头上方的行）"),
    "extra_column": (WARNING, "新增的列，内容不读取"),
    "too_many_rows": (WARNING, "工作表行数远超下发的任务数，多余的行未读取"),
    "task_missing": (ERROR, "下发的任务行被删除"),
    "task_added": (ERROR, "新增了不是下发给本单位的任务行"),
    "task_duplicated": (ERROR, "同一任务编号出现多次"),
    "task_renumbered": (ERROR, "任务编号被改动"),
    "task_reordered": (WARNING, "任务行的顺序被调整，已按任务编号读取"),
    "task_withdrawn": (WARNING, "该任务已从总台账移除，本行不再汇总"),
    "task_reassigned": (WARNING, "填报表下发后任务的牵头单位或本单位职责有调整，按当前总台账处理（汇总时提示）"),
    "extra_row": (WARNING, "表格中有不是任务的行，内容不读取"),
    "locked_cell_changed": (ERROR, "锁定的单元格（任务内容、责任领导、本单位职责）被改动"),
    "status_missing": (ERROR, "完成状态未填写"),
    "status_invalid": (ERROR, "完成状态不是四种之一"),
    "status_normalised": (WARNING, "完成状态按同义词换算为标准写法"),
    "progress_missing": (ERROR, "完成进度未填写"),
    "progress_invalid": (ERROR, "完成进度不是数字"),
    "progress_out_of_range": (ERROR, "完成进度超出 0–100"),
    "progress_normalised": (WARNING, "完成进度填的是小数，按百分比换算"),
    "status_progress_conflict": (ERROR, "完成状态与完成进度矛盾（已完成却不足100，或未启动却大于0）"),
    "done_missing": (ERROR, "本季度进展情况未填写（未启动的除外）"),
    "problems_missing": (ERROR, "进度滞后但未填写存在问题"),
    "next_missing": (WARNING, "未完成的任务未填写下步计划"),
    "person_missing": (WARNING, "具体责任人未填写"),
    "phone_missing": (WARNING, "联系电话未填写"),
    "phone_invalid": (WARNING, "联系电话格式不对"),
    "text_too_long": (ERROR, "文字超过 2000 字"),
    "formula_used": (WARNING, "输入单元格中是公式，已按计算结果读取"),
    "indicator_missing": (WARNING, "量化指标完成值未填写"),
    "indicator_not_number": (ERROR, "量化指标完成值不是数字"),
    "indicator_row_missing": (ERROR, "下发的量化指标行被删除"),
    "filler_missing": (WARNING, "填报人或其联系电话未填写"),
    "date_invalid": (WARNING, "填报日期不是日期"),
    "plan_task_not_led": (ERROR, "节点计划中填了不是本单位牵头的任务"),
    "plan_seq_invalid": (ERROR, "节点计划的节点序号不是正整数"),
    "plan_seq_duplicate": (ERROR, "同一任务的节点序号重复"),
    "plan_content_empty": (ERROR, "节点计划的节点内容为空"),
    "plan_date_invalid": (ERROR, "节点计划的计划完成日期不是日期"),
    "plan_date_outside_year": (ERROR, "计划完成日期不在本年度内"),
    "plan_date_order": (ERROR, "节点的计划完成日期早于前一个节点"),
    "plan_progress_invalid": (ERROR, "计划累计进度不是 0–100 的数字"),
    "plan_progress_falling": (ERROR, "计划累计进度没有逐个节点上升"),
    "plan_not_complete": (ERROR, "最后一个节点的计划累计进度不是 100"),
    "plan_after_deadline": (ERROR, "计划完成时间晚于任务的时间节点"),
    "plan_change_requested": (WARNING, "已采用的节点计划被改动，作为调整申请报督查局审核，不直接生效"),
    "milestone_state_invalid": (ERROR, "节点的完成情况不是已完成或未完成"),
    "milestone_date_invalid": (ERROR, "节点的实际完成日期不是日期"),
    "milestone_date_missing": (WARNING, "节点已完成但未填写实际完成日期"),
    "request_invalid": (ERROR, "申请事项不是“无、申请延期、申请办结”之一"),
    "extension_date_missing": (ERROR, "申请延期未填写申请完成时间，或填的不是日期"),
    "extension_not_later": (ERROR, "申请完成时间不晚于原时间节点"),
    "request_reason_missing": (ERROR, "申请延期未填写理由"),
    "close_not_done": (ERROR, "申请办结的任务完成状态不是已完成或进度不足100"),
    "evidence_missing": (ERROR, "申请办结未写明佐证材料（[review] require_evidence = false 时不检查）"),
    # 佐证材料 refused (intake/evidence.py): on the unit's workbook as 提醒, the workbook is still taken
    "evidence_refused_type": (WARNING, "佐证材料的内容与扩展名不符，或压缩包中有 PDF、JPG、PNG、DOCX 以外的文件，未接收"),
    "evidence_too_big": (WARNING, "佐证材料超过大小上限，未接收"),
    "evidence_zip_bomb": (WARNING, "佐证材料压缩包超过成员数、解压总量或压缩比上限，未接收"),
    "evidence_bad_name": (WARNING, "佐证材料的文件名（或压缩包中的路径）含路径分隔符、越出压缩包，未接收"),
}

# How a message rejecting the whole file ends: what the unit should do instead.
RESUBMIT = "请在督查局下发的填报表中填写，以 .xlsx 格式保存后重新报送"


# The codes [checks] may set to either level. Not here, so fixed: a file that is not a workbook or
# is hostile, a broken or foreign signature, an unknown unit or another quarter's form, the issued
# table's structure and locked cells, 完成状态 (综合状态 is built from it), and the ledger's own
# changes since the form was issued, which are not the unit's to fix.
ADJUSTABLE = frozenset({
    "unsigned", "sheet_renamed", "guide_missing", "header_renamed", "header_moved", "table_moved", "extra_column",
    "too_many_rows", "task_reordered", "extra_row", "status_normalised", "progress_missing", "progress_invalid",
    "progress_out_of_range", "progress_normalised", "status_progress_conflict", "done_missing", "problems_missing",
    "next_missing", "person_missing", "phone_missing", "phone_invalid", "text_too_long", "formula_used",
    "indicator_missing", "indicator_not_number", "filler_missing", "date_invalid", "request_invalid",
    "extension_date_missing", "extension_not_later", "request_reason_missing", "close_not_done", "evidence_missing",
})
_LEVELS = {code: level for code, (level, _) in CODES.items()}


def new_report() -> Report:
    """A Report whose add() takes each code's level from CODES."""
    return Report(levels=_LEVELS)


@dataclass(frozen=True)
class Strictness:
    """[checks] in ducha.toml: the level the bureau gives an adjustable code, "error" (the file is
    sent back) or "warning" (accepted; the receipt asks the unit to fix it). One key per code, e.g.
    person_missing = "error"; a code not named keeps its level in CODES."""

    levels: tuple[tuple[str, str], ...] = ()  # (code, level), sorted
    require_evidence: bool = True  # [review] require_evidence: 申请办结 must name its 佐证材料

    @classmethod
    def from_config(cls, config: Config) -> Strictness:
        """Typed [checks]; an unknown code, a fixed one or a level other than error/warning is a
        ConfigError naming the key."""
        _none, levels = read_section(config.section("checks"), "checks", extra=_level)
        return cls(tuple(sorted(levels.items())), ReviewSettings.from_config(config).require_evidence)

    def report(self) -> Report:
        """A Report whose add() takes each code's level from CODES as set in [checks]."""
        return Report(levels=_LEVELS | dict(self.levels))


def _level(code: str, value: Any) -> str:
    where = f"ducha.toml 的 [checks] {code}"
    if code not in CODES:
        raise ConfigError(f"{where} 不是已知的检查项；可以调整的检查项见 ducha.toml 中 [checks] 的说明")
    if code not in ADJUSTABLE:
        raise ConfigError(f"{where}（{CODES[code][1]}）不可调整：文件格式与安全、签名、单位与报告期、表格结构与锁定单元格、"
                          "完成状态以及总台账调整的检查，级别固定，请删除这一行")
    if value not in (ERROR, WARNING):
        raise ConfigError(f'{where} 应为 "error"（错误，退回修改）或 "warning"（提醒，照常采用）')
    return value
